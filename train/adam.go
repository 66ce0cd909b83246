package train

import (
	"math"

	g "odmn/graph"
)

// Adam is the Adam optimizer (Kingma & Ba) over a model's parameters, with
// one learning rate for the embedding table and one for the network
// (paper 5.1.2).
type Adam struct {
	LR, EmbedLR           float64
	Beta1, Beta2, Epsilon float64
	step                  int
	m, v                  map[*Param][]float32
}

// NewAdam makes an optimizer with the usual betas.
func NewAdam(lr, embedLR float64) *Adam {
	return &Adam{LR: lr, EmbedLR: embedLR, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8,
		m: map[*Param][]float32{}, v: map[*Param][]float32{}}
}

// Step applies one update from the gradients (grads[i] for params[i]),
// in place on the parameter tensors.
func (a *Adam) Step(params []*Param, grads []*g.Tensor) {
	a.step++
	b1, b2 := a.Beta1, a.Beta2
	c1 := 1 - math.Pow(b1, float64(a.step))
	c2 := 1 - math.Pow(b2, float64(a.step))
	for i, p := range params {
		lr := a.LR
		if p.Embedding {
			lr = a.EmbedLR
		}
		m, ok := a.m[p]
		if !ok {
			m = make([]float32, len(p.T.F))
			a.m[p] = m
			a.v[p] = make([]float32, len(p.T.F))
		}
		v := a.v[p]
		step := float32(lr * math.Sqrt(c2) / c1)
		eps := float32(a.Epsilon * math.Sqrt(c2))
		fb1, fb2 := float32(b1), float32(b2)
		w := p.T.F
		for j, gj := range grads[i].F {
			mj := fb1*m[j] + (1-fb1)*gj
			vj := fb2*v[j] + (1-fb2)*gj*gj
			m[j], v[j] = mj, vj
			w[j] -= step * mj / (float32(math.Sqrt(float64(vj))) + eps)
		}
	}
}
