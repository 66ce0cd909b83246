package train

import (
	"math"
	"sync"

	g "github.com/odmn/odmn/graph"
)

// Adam is the Adam optimizer (Kingma & Ba) over a model's parameters, with
// one learning rate for the embedding table and one for the network
// (paper 5.1.2).
type Adam struct {
	LR, EmbedLR           float64
	Beta1, Beta2, Epsilon float64
	// Threads is how many goroutines a large parameter's update is split
	// over (0: graph.Threads()).
	Threads int
	step    int
	m, v    map[*Param][]float32
	// moments in the order of the last Step's params (no map look-ups in
	// steady state)
	order  []*Param
	mm, vv [][]float32
}

// NewAdam makes an optimizer with the usual betas.
func NewAdam(lr, embedLR float64) *Adam {
	return &Adam{LR: lr, EmbedLR: embedLR, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8,
		m: map[*Param][]float32{}, v: map[*Param][]float32{}}
}

// adamParallelMin is the fewest elements of one parameter worth splitting
// over several goroutines.
const adamParallelMin = 1 << 15

// Step applies one update from the gradients (grads[i] for params[i]),
// in place on the parameter tensors. Large parameters are updated on
// graph.Threads() goroutines.
func (a *Adam) Step(params []*Param, grads []*g.Tensor) {
	a.step++
	b1, b2 := a.Beta1, a.Beta2
	c1 := 1 - math.Pow(b1, float64(a.step))
	c2 := 1 - math.Pow(b2, float64(a.step))
	a.moments(params)
	threads := a.Threads
	if threads <= 0 {
		threads = g.Threads()
	}
	for i, p := range params {
		lr := a.LR
		if p.Embedding {
			lr = a.EmbedLR
		}
		u := adamUpdate{
			step: float32(lr * math.Sqrt(c2) / c1),
			eps:  float32(a.Epsilon * math.Sqrt(c2)),
			b1:   float32(b1), b2: float32(b2),
		}
		w, gr, m, v := p.T.F, grads[i].F, a.mm[i], a.vv[i]
		n := len(gr)
		parts := min(threads, n/adamParallelMin)
		if parts < 2 {
			u.apply(w, gr, m, v)
			continue
		}
		var wg sync.WaitGroup
		for k := 1; k < parts; k++ {
			lo, hi := k*n/parts, (k+1)*n/parts
			wg.Add(1)
			go func() {
				defer wg.Done()
				u.apply(w[lo:hi], gr[lo:hi], m[lo:hi], v[lo:hi])
			}()
		}
		hi := n / parts
		u.apply(w[:hi], gr[:hi], m[:hi], v[:hi])
		wg.Wait()
	}
}

// moments lines up a.mm and a.vv with params, creating missing ones.
func (a *Adam) moments(params []*Param) {
	same := len(a.order) == len(params)
	for i := 0; same && i < len(params); i++ {
		same = a.order[i] == params[i]
	}
	if same {
		return
	}
	a.order = append(a.order[:0], params...)
	a.mm, a.vv = a.mm[:0], a.vv[:0]
	for _, p := range params {
		m, ok := a.m[p]
		if !ok {
			m = make([]float32, len(p.T.F))
			a.m[p] = m
			a.v[p] = make([]float32, len(p.T.F))
		}
		a.mm = append(a.mm, m)
		a.vv = append(a.vv, a.v[p])
	}
}

type adamUpdate struct{ step, eps, b1, b2 float32 }

func (u adamUpdate) apply(w, gr, m, v []float32) {
	n := len(gr)
	w, m, v = w[:n], m[:n], v[:n]
	b1, b2, c1, c2 := u.b1, u.b2, 1-u.b1, 1-u.b2
	for j, gj := range gr {
		mj := b1*m[j] + c1*gj
		vj := b2*v[j] + c2*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= u.step * mj / (float32(math.Sqrt(float64(vj))) + u.eps)
	}
}
