package graph

import "fmt"

// Gradients returns d loss / d w for every w in wrt, built as new nodes of
// the same graph (reverse-mode autodiff). loss must be a float32 scalar.
// A w that loss does not depend on gets a zero gradient.
func Gradients(loss *Node, wrt ...*Node) (grads []*Node, err error) {
	if loss.DType() != Float32 || loss.Rank() != 0 {
		return nil, fmt.Errorf("gradients: loss must be a float32 scalar, got %s", loss.meta)
	}
	err = Catch(func() {
		seed := loss.g.Const(ScalarF32(1))
		grads = backprop(loss.g, map[*Node]*Node{loss: seed}, wrt)
		for i, w := range wrt {
			if grads[i] == nil {
				grads[i] = zerosLike(w)
			}
		}
	})
	return grads, err
}

// VJP returns the vector-Jacobian product: the gradient with respect to wrt
// of sum_i <outputs[i], seeds[i]>. Nil entries mean no dependence.
func VJP(outputs, seeds, wrt []*Node) (grads []*Node, err error) {
	if len(outputs) != len(seeds) || len(outputs) == 0 {
		return nil, fmt.Errorf("vjp: %d outputs and %d seeds", len(outputs), len(seeds))
	}
	m := map[*Node]*Node{}
	for i, o := range outputs {
		m[o] = seeds[i]
	}
	err = Catch(func() { grads = backprop(outputs[0].g, m, wrt) })
	return grads, err
}

func zerosLike(w *Node) *Node {
	if w.meta.Static() {
		return w.g.Const(NewTensor(w.DType(), w.Shape()))
	}
	return Mul(w, ScalarLike(w, 0))
}

// backprop propagates seed gradients backwards through the ops that lie
// between wrt and the seeded nodes, and returns the gradient of each wrt
// (nil where none flows).
func backprop(g *Graph, seeds map[*Node]*Node, wrt []*Node) []*Node {
	// Forward: which nodes depend on some wrt.
	dep := map[*Node]bool{}
	for _, w := range wrt {
		dep[w] = true
	}
	last := 0
	ops := g.ops
	for i, op := range ops {
		for _, in := range op.Inputs {
			if in != nil && dep[in] {
				for _, o := range op.Outputs {
					dep[o] = true
				}
				break
			}
		}
		for _, o := range op.Outputs {
			if _, ok := seeds[o]; ok && i+1 > last {
				last = i + 1
			}
		}
	}
	grad := map[*Node]*Node{}
	accumulate := func(n, d *Node) {
		if d == nil {
			return
		}
		if prev, ok := grad[n]; ok {
			grad[n] = Add(prev, d)
		} else {
			grad[n] = d
		}
	}
	for n, s := range seeds {
		accumulate(n, s)
	}
	for i := last - 1; i >= 0; i-- {
		op := ops[i]
		gouts := make([]*Node, len(op.Outputs))
		any := false
		for j, o := range op.Outputs {
			if d, ok := grad[o]; ok && o.DType() == Float32 {
				gouts[j] = d
				any = true
			}
		}
		if !any {
			continue
		}
		wanted := false
		for _, in := range op.Inputs {
			if in != nil && dep[in] && in.DType() == Float32 {
				wanted = true
				break
			}
		}
		if !wanted {
			continue
		}
		var gins []*Node
		switch {
		case op.Def.Grad != nil:
			if len(op.Outputs) > 1 {
				for j, o := range op.Outputs {
					if gouts[j] == nil && o.DType() == Float32 {
						gouts[j] = zerosLike(o)
					}
				}
			}
			gins = op.Def.Grad(op, gouts)
		case op.Def.Function != nil:
			gins = gradThroughBody(op, gouts)
		default:
			continue // not differentiable (ArgMax, Shape, StopGradient, ...)
		}
		for j, in := range op.Inputs {
			if in != nil && j < len(gins) && dep[in] && in.DType() == Float32 {
				accumulate(in, gins[j])
			}
		}
	}
	out := make([]*Node, len(wrt))
	for i, w := range wrt {
		out[i] = grad[w]
	}
	return out
}

// gradThroughBody differentiates a function call by inlining its body into
// the caller's graph and back-propagating through the copy.
func gradThroughBody(op *Op, gouts []*Node) []*Node {
	outs := Inline(op.Def.Function, op.Attrs, op.Inputs)
	var seedsOut, seeds []*Node
	for j, d := range gouts {
		if d != nil {
			seedsOut = append(seedsOut, outs[j])
			seeds = append(seeds, d)
		}
	}
	m := map[*Node]*Node{}
	for i, o := range seedsOut {
		m[o] = seeds[i]
	}
	return backprop(op.Outputs[0].g, m, op.Inputs)
}

// Inline applies the body of f to inputs in their graph, with the calling
// attributes callAttrs, and returns the copies of its outputs.
func Inline(f *Function, callAttrs Attrs, inputs []*Node) []*Node {
	body := f.Body
	m := map[*Node]*Node{}
	for i, n := range body.inputs {
		m[n] = inputs[i]
	}
	for _, op := range body.ops {
		if op.Def == inputDef {
			continue
		}
		explicit := Attrs{}
		for k, v := range op.Attrs {
			if r, ok := v.(AttrRef); ok {
				v = callAttrs[string(r)]
			}
			explicit[k] = v
		}
		ins := make([]*Node, len(op.Inputs))
		for i, x := range op.Inputs {
			if x != nil {
				ins[i] = m[x]
			}
		}
		var outs []*Node
		if len(ins) == 0 { // Constant: take the graph from the inputs
			g := inputs[0].g
			var err error
			outs, err = g.Apply(op.Def, explicit)
			if err != nil {
				panic(&BuildError{err})
			}
		} else {
			outs = MustApply(op.Def, explicit, ins...)
		}
		for i, o := range op.Outputs {
			m[o] = outs[i]
		}
	}
	res := make([]*Node, len(body.outputs))
	for i, o := range body.outputs {
		res[i] = m[o.Node]
	}
	return res
}
