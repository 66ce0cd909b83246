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
	upd    []adamUpdate // this step's rates per parameter (Begin)
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
	a.Begin(params)
	threads := a.Threads
	if threads <= 0 {
		threads = g.Threads()
	}
	for i := range params {
		gr := grads[i].F
		n := len(gr)
		parts := min(threads, n/adamParallelMin)
		if parts < 2 {
			a.Update(i, 0, gr)
			continue
		}
		var wg sync.WaitGroup
		for k := 1; k < parts; k++ {
			lo, hi := k*n/parts, (k+1)*n/parts
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.Update(i, lo, gr[lo:hi])
			}()
		}
		a.Update(i, 0, gr[:n/parts])
		wg.Wait()
	}
}

// Begin starts one step over params: it counts the step and fixes the
// bias-corrected rates; Update then applies it to any split of the
// parameters' elements (each element once), in any order or at once.
func (a *Adam) Begin(params []*Param) {
	a.step++
	b1, b2 := a.Beta1, a.Beta2
	c1 := 1 - math.Pow(b1, float64(a.step))
	c2 := 1 - math.Pow(b2, float64(a.step))
	a.moments(params)
	a.upd = a.upd[:0]
	for _, p := range params {
		lr := a.LR
		if p.Embedding {
			lr = a.EmbedLR
		}
		a.upd = append(a.upd, adamUpdate{
			step: float32(lr * math.Sqrt(c2) / c1),
			eps:  float32(a.Epsilon * math.Sqrt(c2)),
			b1:   float32(b1), b2: float32(b2),
		})
	}
}

// Update applies the step Begin started to elements [lo, lo+len(gr)) of
// parameter i, whose gradient there is gr.
func (a *Adam) Update(i, lo int, gr []float32) {
	hi := lo + len(gr)
	u := a.upd[i]
	g.AdamF32(a.order[i].T.F[lo:hi], gr, a.mm[i][lo:hi], a.vv[i][lo:hi], u.step, u.eps, u.b1, u.b2)
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
