package graph

import (
	"fmt"
)

// This file holds the ops autodiff itself needs (Constant, Identity,
// StopGradient, SumTo, Add, Sub, Mul, Div, Neg) and the helpers every
// elementwise op is built from.

func sameAsInput(in []Meta, _ Attrs) ([]Meta, error) {
	return []Meta{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

// ---------- Constant ----------

var constantDef *OpDef

func init() {
	constantDef = Register(&OpDef{
		Type: "Constant", Since: 13, Compat: []int{1, 9, 11, 12, 19, 21, 23, 24, 25},
		MinInputs: 0, MaxInputs: 0,
		Attrs: []AttrSpec{
			{Name: "value", Type: AttrTensor},
			{Name: "value_float", Type: AttrFloat},
			{Name: "value_floats", Type: AttrFloats},
			{Name: "value_int", Type: AttrInt},
			{Name: "value_ints", Type: AttrInts},
		},
		Infer: func(_ []Meta, a Attrs) ([]Meta, error) {
			t, err := constantValue(a)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: t.DType, Shape: t.Shape, Value: t}}, nil
		},
		Kernel: func(_ []*Tensor, a Attrs, out []*Tensor) error {
			t, err := constantValue(a)
			if err != nil {
				return err
			}
			out[0].CopyFrom(t)
			return nil
		},
	})
}

func constantValue(a Attrs) (*Tensor, error) {
	var t *Tensor
	set := 0
	if a.Has("value") {
		t = a.Tensor("value")
		set++
	}
	if a.Has("value_float") {
		t = ScalarF32(a.Float("value_float"))
		set++
	}
	if a.Has("value_floats") {
		v := a.Floats("value_floats")
		t = F32([]int{len(v)}, v)
		set++
	}
	if a.Has("value_int") {
		t = ScalarI64(a.Int("value_int"))
		set++
	}
	if a.Has("value_ints") {
		v := a.Ints("value_ints")
		t = I64([]int{len(v)}, v)
		set++
	}
	if set != 1 {
		return nil, fmt.Errorf("exactly one value attribute must be set, got %d", set)
	}
	return t, nil
}

// Constant adds an ONNX Constant node holding t to g.
func Constant(g *Graph, t *Tensor) *Node { return g.Const(t) }

// ---------- Identity and StopGradient ----------

var identityDef *OpDef

func init() {
	identityDef = Register(&OpDef{
		Type: "Identity", Since: 16, Compat: []int{1, 13, 14, 19, 21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 1,
		Types: AllTypes, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) { return []Meta{in[0]}, nil },
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			out[0].CopyFrom(in[0])
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node { return []*Node{g[0]} },
	})
}

// Identity returns x unchanged (an ONNX Identity node).
func Identity(x *Node) *Node { return Apply1(identityDef, nil, x) }

var stopGradientDef *OpDef

func init() {
	stopGradientDef = Register(&OpDef{
		Type: "StopGradient", Domain: "odmn.internal", Since: 1, ExportType: "Identity",
		MinInputs: 1, MaxInputs: 1,
		Infer:  identityDef.Infer,
		Kernel: identityDef.Kernel,
		// Grad is nil: no gradient flows through (paper Eq. 2-3, stop_gradient(o_{t-1})).
	})
}

// StopGradient returns x and blocks gradients; it exports as ONNX Identity.
func StopGradient(x *Node) *Node { return Apply1(stopGradientDef, nil, x) }

// ---------- SumTo: the reverse of broadcasting ----------

var sumToDef *OpDef

func init() {
	sumToDef = Register(&OpDef{
		Type: "SumTo", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 2, MaxInputs: 2,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			return []Meta{{DType: in[0].DType, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			g, o := in[0], out[0]
			if !unidirectional(o.Shape, g.Shape) {
				return fmt.Errorf("SumTo: cannot reduce %v to %v", g.Shape, o.Shape)
			}
			if sumToF32(g.F, g.Shape, o.F, o.Shape) {
				return nil
			}
			idx := BroadcastIndex(o.Shape, g.Shape)
			for i := range o.F {
				o.F[i] = 0
			}
			for i, j := range idx {
				o.F[j] += g.F[i]
			}
			return nil
		},
	})
}

// SumTo sums g over the dimensions along which ref was broadcast, giving
// a tensor of ref's shape (the gradient of broadcasting). It is a no-op
// when the shapes are statically equal.
func SumTo(g, ref *Node) *Node {
	if SameShape(g.Shape(), ref.Shape()) && g.meta.Static() {
		return g
	}
	return Apply1(sumToDef, nil, g, ref)
}

var expandLikeDef *OpDef

func init() {
	expandLikeDef = Register(&OpDef{
		Type: "ExpandLike", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 2, MaxInputs: 2,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			s, err := BroadcastShapes(in[0].Shape, in[1].Shape)
			return []Meta{{DType: in[0].DType, Shape: s}}, err
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			if broadcastRuns(out[0].F, out[0].Shape, in[0].F, in[0].Shape) {
				return nil
			}
			idx := BroadcastIndex(in[0].Shape, out[0].Shape)
			for i, j := range idx {
				out[0].F[i] = in[0].F[j]
			}
			return nil
		},
	})
}

// The two are each other's gradient; set here to break the init cycle.
func init() {
	sumToDef.Grad = func(op *Op, g []*Node) []*Node { return []*Node{ExpandLike(g[0], op.Inputs[0]), nil} }
	expandLikeDef.Grad = func(op *Op, g []*Node) []*Node { return []*Node{SumTo(g[0], op.Inputs[0]), nil} }
}

// ExpandLike broadcasts x to the broadcast shape of x and like.
func ExpandLike(x, like *Node) *Node {
	if SameShape(x.Shape(), like.Shape()) && x.meta.Static() {
		return x
	}
	return Apply1(expandLikeDef, nil, x, like)
}

// ---------- elementwise helpers ----------

// BinaryInfer is the inference of numpy-broadcasting binary ops whose
// output dtype is out (Invalid: same as the inputs).
func BinaryInfer(out DType, allowed ...DType) func([]Meta, Attrs) ([]Meta, error) {
	return func(in []Meta, _ Attrs) ([]Meta, error) {
		if in[0].DType != in[1].DType {
			return nil, fmt.Errorf("input types differ: %s and %s", in[0].DType, in[1].DType)
		}
		if !dtypeIn(in[0].DType, allowed) {
			return nil, fmt.Errorf("type %s not supported", in[0].DType)
		}
		s, err := BroadcastShapes(in[0].Shape, in[1].Shape)
		if err != nil {
			return nil, err
		}
		dt := out
		if dt == Invalid {
			dt = in[0].DType
		}
		return []Meta{{DType: dt, Shape: s}}, nil
	}
}

func dtypeIn(d DType, set []DType) bool {
	if len(set) == 0 {
		return true
	}
	for _, s := range set {
		if s == d {
			return true
		}
	}
	return false
}

// ArithKernel builds a broadcasting kernel: float32 on the dedicated
// loops, int64 through i, every other numeric type through the generic
// kernels (see arithFns); op is one of opAdd, opSub, opMul, opDiv.
func ArithKernel(op int, i func(x, y int64) (int64, error)) func([]*Tensor, Attrs, []*Tensor) error {
	return func(in []*Tensor, _ Attrs, out []*Tensor) error {
		a, b, o := in[0], in[1], out[0]
		switch a.DType {
		case Float32:
			binaryF32(op, a.F, a.Shape, b.F, b.Shape, o.F, o.Shape)
		case Int64:
			var err error
			Binary(a.I, a.Shape, b.I, b.Shape, o.I, o.Shape, func(x, y int64) int64 {
				r, e := i(x, y)
				if e != nil && err == nil {
					err = e
				}
				return r
			})
			return err
		default:
			if op == opDiv && a.DType.IsInteger() && hasZero(b) {
				return fmt.Errorf("integer division by zero")
			}
			return binaryApply(a, b, o, arithFns[op])
		}
		return nil
	}
}

// arithFns are the four arithmetic ops per width class. Integer division
// truncates toward zero (C and ONNX Runtime); the caller rules out a zero
// divisor.
var arithFns = [...]binFns{
	opAdd: addFns,
	opSub: {
		f: func(x, y float64) float64 { return x - y },
		i: func(x, y int64) int64 { return x - y },
		u: func(x, y uint64) uint64 { return x - y },
	},
	opMul: {
		f: func(x, y float64) float64 { return x * y },
		i: func(x, y int64) int64 { return x * y },
		u: func(x, y uint64) uint64 { return x * y },
	},
	opDiv: {
		f: func(x, y float64) float64 { return x / y },
		i: func(x, y int64) int64 { return x / y },
		u: func(x, y uint64) uint64 { return x / y },
	},
}

func ok64(f func(x, y int64) int64) func(x, y int64) (int64, error) {
	return func(x, y int64) (int64, error) { return f(x, y), nil }
}

// UnaryF32 registers-ready pieces for a float32 elementwise op.
func UnaryF32Kernel(f func(float32) float32) func([]*Tensor, Attrs, []*Tensor) error {
	return func(in []*Tensor, _ Attrs, out []*Tensor) error {
		x, o := in[0].F, out[0].F
		for i, v := range x {
			o[i] = f(v)
		}
		return nil
	}
}

// FloatOnly is the inference of float32 unary ops.
func FloatOnly(in []Meta, _ Attrs) ([]Meta, error) {
	if in[0].DType != Float32 {
		return nil, fmt.Errorf("type %s not supported (float32 only)", in[0].DType)
	}
	return sameAsInput(in, nil)
}

// ---------- Add, Sub, Mul, Div, Neg ----------

var addDef *OpDef

func init() {
	addDef = Register(&OpDef{
		Type: "Add", Since: 14, Compat: []int{7, 13},
		MinInputs: 2, MaxInputs: 2, Types: AllNumeric,
		Infer:  BinaryInfer(Invalid),
		Kernel: ArithKernel(opAdd, ok64(func(x, y int64) int64 { return x + y })),
		Grad: func(op *Op, g []*Node) []*Node {
			a, b := op.Inputs[0], op.Inputs[1]
			return []*Node{SumTo(g[0], a), SumTo(g[0], b)}
		},
	})
}

var subDef *OpDef

func init() {
	subDef = Register(&OpDef{
		Type: "Sub", Since: 14, Compat: []int{7, 13},
		MinInputs: 2, MaxInputs: 2, Types: AllNumeric,
		Infer:  BinaryInfer(Invalid),
		Kernel: ArithKernel(opSub, ok64(func(x, y int64) int64 { return x - y })),
		Grad: func(op *Op, g []*Node) []*Node {
			a, b := op.Inputs[0], op.Inputs[1]
			return []*Node{SumTo(g[0], a), SumTo(Neg(g[0]), b)}
		},
	})
}

var mulDef *OpDef

func init() {
	mulDef = Register(&OpDef{
		Type: "Mul", Since: 14, Compat: []int{7, 13},
		MinInputs: 2, MaxInputs: 2, Types: AllNumeric,
		Infer:  BinaryInfer(Invalid),
		Kernel: ArithKernel(opMul, ok64(func(x, y int64) int64 { return x * y })),
		Grad: func(op *Op, g []*Node) []*Node {
			a, b := op.Inputs[0], op.Inputs[1]
			return []*Node{SumTo(Mul(g[0], b), a), SumTo(Mul(g[0], a), b)}
		},
	})
}

var divDef *OpDef

func init() {
	divDef = Register(&OpDef{
		Type: "Div", Since: 14, Compat: []int{7, 13},
		MinInputs: 2, MaxInputs: 2, Types: AllNumeric,
		Infer: BinaryInfer(Invalid),
		Kernel: ArithKernel(opDiv, func(x, y int64) (int64, error) {
			if y == 0 {
				return 0, fmt.Errorf("integer division by zero")
			}
			return x / y, nil // truncates toward zero, as ONNX Runtime does
		}),
		Grad: func(op *Op, g []*Node) []*Node {
			a, b := op.Inputs[0], op.Inputs[1]
			y := op.Outputs[0]
			return []*Node{SumTo(Div(g[0], b), a), SumTo(Neg(Div(Mul(g[0], y), b)), b)}
		},
	})
}

var negDef *OpDef

func init() {
	negDef = Register(&OpDef{
		Type: "Neg", Since: 13, Compat: []int{6},
		MinInputs: 1, MaxInputs: 1, Types: SignedTypes,
		Infer: sameAsInput,
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			switch in[0].DType {
			case Float32:
				for i, v := range in[0].F {
					out[0].F[i] = -v
				}
			case Int64:
				for i, v := range in[0].I {
					out[0].I[i] = -v
				}
			default:
				return unaryApply(in[0], out[0], numFns{
					f: func(v float64) float64 { return -v },
					i: func(v int64) int64 { return -v },
				})
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node { return []*Node{Neg(g[0])} },
	})
}

// Add, Sub, Mul and Div are the ONNX ops with numpy broadcasting.
func Add(a, b *Node) *Node { return Apply1(addDef, nil, a, b) }
func Sub(a, b *Node) *Node { return Apply1(subDef, nil, a, b) }
func Mul(a, b *Node) *Node { return Apply1(mulDef, nil, a, b) }
func Div(a, b *Node) *Node { return Apply1(divDef, nil, a, b) }

// Neg is elementwise negation.
func Neg(x *Node) *Node { return Apply1(negDef, nil, x) }
