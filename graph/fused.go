package graph

import "fmt"

// Fused internal ops that autodiff emits in place of chains of small ops.

// ---------- ReluGrad ----------

var reluGradDef *OpDef

func init() {
	// ReluGrad(g, x) is g where x > 0 and 0 elsewhere (NaN in x gives 0):
	// the gradient of Relu, in one pass instead of Greater and Where.
	reluGradDef = Register(&OpDef{
		Type: "ReluGrad", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 2, MaxInputs: 2,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if in[0].DType != Float32 || in[1].DType != Float32 {
				return nil, fmt.Errorf("ReluGrad takes float32, got %s and %s", in[0].DType, in[1].DType)
			}
			s, err := BroadcastShapes(in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: s}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			g, x, o := in[0], in[1], out[0]
			if len(g.F) == len(o.F) && len(x.F) == len(o.F) {
				reluGradF32(o.F, g.F, x.F)
				return nil
			}
			Binary(g.F, g.Shape, x.F, x.Shape, o.F, o.Shape, func(a, b float32) float32 {
				if b > 0 {
					return a
				}
				return 0
			})
			return nil
		},
	})
	// Linear in g with a mask fixed by x: its adjoint is itself.
	reluGradDef.Grad = func(op *Op, h []*Node) []*Node {
		g, x := op.Inputs[0], op.Inputs[1]
		return []*Node{SumTo(reluGrad(h[0], x), g), nil}
	}
}

// reluGrad is the gradient of Relu(x) given the incoming gradient g.
func reluGrad(g, x *Node) *Node { return Apply1(reluGradDef, nil, g, x) }
