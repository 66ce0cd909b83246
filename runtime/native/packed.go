package native

import (
	"sync"
	"sync/atomic"

	"github.com/odmn/odmn/graph"
)

// Products with frozen weights: a Gemm or MatMul (alone or fused with its
// Relu) whose B is a constant that nothing changes between runs (not a
// trainable initializer) packs B once (graph.PackB) and runs on the
// packed panels (graph.SgemmPacked, the same bits), instead of packing B
// again in every call: a split run calls every product once per chunk.

// packedRuns counts the products run on packed weights (for tests).
var packedRuns atomic.Int64

// packedStep is one product's packed weights and how to read its inputs.
type packedStep struct {
	gemm           bool // Gemm (else MatMul)
	a, bpos, c     int  // positions of A, B and C (-1: none) in the step's inputs
	b              *graph.Tensor
	transA, transB bool
	alpha, beta    float32
	relu           bool
	once           sync.Once
	pb             *graph.PackedB
}

// prepack wraps the kernels of products whose B is frozen; it runs after
// fuse.
func (p *plan) prepack() {
	frozen := map[int]*graph.Tensor{}
	for _, b := range p.consts {
		if b.frozen {
			frozen[b.slot] = b.t
		}
	}
	for i := range p.steps {
		sp := &p.steps[i]
		var ps *packedStep
		switch {
		case sp.chain == nil && sp.def.Domain == "" && (sp.def.Type == "Gemm" || sp.def.Type == "MatMul") && len(sp.in) >= 2:
			ps = newPackedStep(sp.def.Type, sp.attrs, []int{0, 1, 2}, sp.in, false)
		case sp.chain != nil && len(sp.chain.subs) == 2 && sp.chain.subs[1].def.Type == "Relu" &&
			(sp.chain.subs[0].def.Type == "Gemm" || sp.chain.subs[0].def.Type == "MatMul"):
			g := &sp.chain.subs[0]
			ps = newPackedStep(g.def.Type, g.attrs, g.args, sp.in, true)
		}
		if ps == nil {
			continue
		}
		if ps.bpos < 0 || ps.bpos >= len(sp.in) || ps.a < 0 {
			continue
		}
		if ps.b = frozen[sp.in[ps.bpos]]; ps.b == nil || ps.b.DType != graph.Float32 || len(ps.b.Shape) != 2 {
			continue
		}
		orig := sp.kernel
		sp.kernel = func(in []*graph.Tensor, at graph.Attrs, out []*graph.Tensor) error {
			if ps.run(in, out) {
				return nil
			}
			return orig(in, at, out)
		}
	}
}

// newPackedStep reads a product's attributes; args maps its inputs (A, B,
// C) to the step's inputs.
func newPackedStep(typ string, at graph.Attrs, args, in []int, relu bool) *packedStep {
	ps := &packedStep{gemm: typ == "Gemm", a: args[0], bpos: args[1], c: -1, alpha: 1, relu: relu}
	if ps.gemm && len(args) > 2 && args[2] >= 0 && args[2] < len(in) {
		ps.c = args[2]
	}
	if ps.gemm {
		ps.transA, ps.transB = at.Int("transA") != 0, at.Int("transB") != 0
		ps.alpha, ps.beta = at.Float("alpha"), at.Float("beta")
	}
	return ps
}

// run computes the product on the packed weights; false when the inputs
// are outside what it covers (the step's own kernel then runs): A float32
// with op(A)'s columns equal to B's rows (MatMul: A of rank 2 or more), C
// nothing or a bias row, alpha not 0.
func (ps *packedStep) run(in, out []*graph.Tensor) bool {
	a := in[ps.a]
	if ps.alpha == 0 || a == nil || a.DType != graph.Float32 {
		return false
	}
	ps.once.Do(func() {
		k, n := ps.b.Shape[0], ps.b.Shape[1]
		if ps.transB {
			k, n = n, k
		}
		ps.pb = graph.PackB(ps.transB, k, n, ps.b.F, ps.b.Shape[1])
	})
	if ps.pb == nil {
		return false
	}
	k, n := ps.pb.Dims()
	var m, lda int
	switch {
	case ps.gemm && len(a.Shape) == 2 && !ps.transA && a.Shape[1] == k:
		m, lda = a.Shape[0], k
	case ps.gemm && len(a.Shape) == 2 && ps.transA && a.Shape[0] == k:
		m, lda = a.Shape[1], a.Shape[1]
	case !ps.gemm && len(a.Shape) >= 2 && a.Shape[len(a.Shape)-1] == k:
		m, lda = a.Len()/k, k
	default:
		return false
	}
	var bias []float32
	if ps.c >= 0 && in[ps.c] != nil && ps.beta != 0 {
		c := in[ps.c]
		if ps.beta != 1 || c.DType != graph.Float32 ||
			!(len(c.Shape) == 1 && c.Shape[0] == n || len(c.Shape) == 2 && c.Shape[0] == 1 && c.Shape[1] == n) {
			return false
		}
		bias = c.F
	}
	o := out[0]
	if o.DType != graph.Float32 || len(o.F) != m*n {
		return false
	}
	graph.SgemmPacked(ps.transA, m, ps.alpha, a.F, lda, ps.pb, bias, ps.relu, o.F, n)
	packedRuns.Add(1)
	return true
}
