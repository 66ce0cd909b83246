package export

import (
	"github.com/odmn/odmn/graph"
)

// batchDims finds, for every value, which of its dimensions of -1 are the
// batch dimension: those equal to the graph inputs' -1 dimensions whatever
// that size is. It infers the exported ops twice with every -1 input
// dimension replaced by two different sizes, and keeps the dimensions that
// follow the substitution. Graph outputs get dim_param only for those, so
// ONNX shape inference never sees a claim it could refute. Any failure
// (an op that cannot infer without more information) leaves the
// dimensions unknown.
func batchDims(g *graph.Graph, order []*graph.Op, _ Options) (out map[*graph.Node][]bool) {
	const p1, p2 = 7919, 7927 // two sizes no real dimension will mimic
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	m1, ok1 := inferWith(g, order, p1)
	m2, ok2 := inferWith(g, order, p2)
	if !ok1 || !ok2 {
		return nil
	}
	out = map[*graph.Node][]bool{}
	for n, a := range m1 {
		b, ok := m2[n]
		if !ok || len(a.Shape) != len(b.Shape) || len(a.Shape) != n.Rank() {
			continue
		}
		var dims []bool
		for i, d := range n.Shape() {
			if d < 0 && a.Shape[i] == p1 && b.Shape[i] == p2 {
				if dims == nil {
					dims = make([]bool, len(a.Shape))
				}
				dims[i] = true
			}
		}
		if dims != nil {
			out[n] = dims
		}
	}
	return out
}

func inferWith(g *graph.Graph, order []*graph.Op, size int) (map[*graph.Node]graph.Meta, bool) {
	metas := map[*graph.Node]graph.Meta{}
	for _, in := range g.Inputs() {
		m := in.Meta()
		shape := make([]int, len(m.Shape))
		for i, d := range m.Shape {
			if d < 0 {
				d = size
			}
			shape[i] = d
		}
		metas[in] = graph.Meta{DType: m.DType, Shape: shape}
	}
	for _, n := range g.Initializers() {
		metas[n] = n.Meta()
	}
	for _, op := range order {
		d := op.Def
		if d.Infer == nil {
			return nil, false
		}
		in := make([]graph.Meta, len(op.Inputs))
		for i, x := range op.Inputs {
			if x == nil {
				continue
			}
			m, ok := metas[x]
			if !ok {
				return nil, false
			}
			in[i] = m
		}
		om, err := d.Infer(in, op.Resolved)
		if err != nil || len(om) != len(op.Outputs) {
			return nil, false
		}
		graph.Fold(d, in, op.Resolved, om)
		for i, o := range op.Outputs {
			metas[o] = om[i]
		}
	}
	return metas, true
}
