package graph

import (
	"fmt"
	"math"
)

// Float activations and elementwise functions beyond odmn's own (Erf,
// Gelu, LeakyRelu, PRelu, Elu, Selu, Celu, ThresholdedRelu, HardSigmoid,
// HardSwish, Mish, Softsign and the trigonometric and hyperbolic
// functions), for float32, float64 and float16. They compute in float64
// and round to the element type; odmn does not train through them.

// attrFloatDef registers a float op whose function reads float attributes.
func attrFloatDef(typ string, since int, compat []int, attrs []AttrSpec, mk func(a Attrs) func(float64) float64) *OpDef {
	return Register(&OpDef{
		Type: typ, Since: since, Compat: compat,
		MinInputs: 1, MaxInputs: 1, Types: FloatTypes, Attrs: attrs,
		Infer: sameAsInput,
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			return unaryApply(in[0], out[0], floatFn(mk(a)))
		},
	})
}

func fattr(name string, def float32) AttrSpec {
	return AttrSpec{Name: name, Type: AttrFloat, Default: def}
}

// af reads a float attribute as float64 (exactly the float32 ONNX stores).
func af(a Attrs, name string) float64 { return float64(a.Float(name)) }

var (
	erfDef, geluDef, leakyReluDef, preluDef, eluDef    *OpDef
	hardSigmoidDef, hardSwishDef, mishDef, softsignDef *OpDef
	sinDef, cosDef                                     *OpDef
)

func init() {
	erfDef = unaryDef("Erf", 13, []int{9}, FloatTypes, floatFn(math.Erf))
	geluDef = Register(&OpDef{
		Type: "Gelu", Since: 20,
		MinInputs: 1, MaxInputs: 1, Types: FloatTypes,
		Attrs: []AttrSpec{{Name: "approximate", Type: AttrString, Default: "none"}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if ap := a.String("approximate"); ap != "none" && ap != "tanh" {
				return nil, fmt.Errorf("approximate must be none or tanh, got %q", ap)
			}
			return sameAsInput(in, a)
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			f := func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
			if a.String("approximate") == "tanh" {
				c := math.Sqrt(2 / math.Pi)
				f = func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x))) }
			}
			return unaryApply(in[0], out[0], floatFn(f))
		},
	})
	leakyReluDef = attrFloatDef("LeakyRelu", 16, []int{6}, []AttrSpec{fattr("alpha", 0.01)}, func(a Attrs) func(float64) float64 {
		alpha := af(a, "alpha")
		return func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}
	})
	eluDef = attrFloatDef("Elu", 6, []int{22}, []AttrSpec{fattr("alpha", 1)}, func(a Attrs) func(float64) float64 {
		alpha := af(a, "alpha")
		return func(x float64) float64 {
			if x < 0 {
				return alpha * math.Expm1(x)
			}
			return x
		}
	})
	_ = attrFloatDef("Selu", 6, []int{22}, []AttrSpec{fattr("alpha", 1.67326319217681884765625), fattr("gamma", 1.05070102214813232421875)},
		func(a Attrs) func(float64) float64 {
			alpha, gamma := af(a, "alpha"), af(a, "gamma")
			return func(x float64) float64 {
				if x <= 0 {
					return gamma * alpha * math.Expm1(x)
				}
				return gamma * x
			}
		})
	// Celu 12 took float32 only until a later onnx widened its type list in
	// place to float16, float32 and float64 (and bfloat16).
	_ = attrFloatDef("Celu", 12, nil, []AttrSpec{fattr("alpha", 1)}, func(a Attrs) func(float64) float64 {
		alpha := af(a, "alpha")
		return func(x float64) float64 { return max(0, x) + min(0, alpha*math.Expm1(x/alpha)) }
	})
	_ = attrFloatDef("ThresholdedRelu", 10, []int{22}, []AttrSpec{fattr("alpha", 1)}, func(a Attrs) func(float64) float64 {
		alpha := af(a, "alpha")
		return func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}
	})
	hardSigmoidDef = attrFloatDef("HardSigmoid", 6, []int{22}, []AttrSpec{fattr("alpha", 0.2), fattr("beta", 0.5)}, func(a Attrs) func(float64) float64 {
		alpha, beta := af(a, "alpha"), af(a, "beta")
		return func(x float64) float64 { return max(0, min(1, alpha*x+beta)) }
	})
	hardSwishDef = unaryDef("HardSwish", 14, []int{22}, FloatTypes, floatFn(func(x float64) float64 {
		return x * max(0, min(1, x/6+0.5))
	}))
	mishDef = unaryDef("Mish", 18, []int{22}, FloatTypes, floatFn(func(x float64) float64 {
		return x * math.Tanh(softplus64(x))
	}))
	softsignDef = unaryDef("Softsign", 1, []int{22}, FloatTypes, floatFn(func(x float64) float64 {
		return x / (1 + math.Abs(x))
	}))
	sinDef = unaryDef("Sin", 7, []int{22}, FloatTypes, floatFn(math.Sin))
	cosDef = unaryDef("Cos", 7, []int{22}, FloatTypes, floatFn(math.Cos))
	_ = unaryDef("Tan", 7, []int{22}, FloatTypes, floatFn(math.Tan))
	_ = unaryDef("Asin", 7, []int{22}, FloatTypes, floatFn(math.Asin))
	_ = unaryDef("Acos", 7, []int{22}, FloatTypes, floatFn(math.Acos))
	_ = unaryDef("Atan", 7, []int{22}, FloatTypes, floatFn(math.Atan))
	_ = unaryDef("Sinh", 9, []int{22}, FloatTypes, floatFn(math.Sinh))
	_ = unaryDef("Cosh", 9, []int{22}, FloatTypes, floatFn(math.Cosh))
	_ = unaryDef("Asinh", 9, []int{22}, FloatTypes, floatFn(math.Asinh))
	_ = unaryDef("Acosh", 9, []int{22}, FloatTypes, floatFn(math.Acosh))
	_ = unaryDef("Atanh", 9, []int{22}, FloatTypes, floatFn(math.Atanh))

	// PRelu: slope broadcasts to x (unidirectionally); the output has x's
	// shape. Floats and, since opset 9, 32/64-bit integers.
	preluDef = Register(&OpDef{
		Type: "PRelu", Since: 16, Compat: []int{9},
		MinInputs: 2, MaxInputs: 2,
		Types: []DType{Float32, Float64, Float16, Int32, Int64, Uint32, Uint64},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			m, err := BinaryInfer(Invalid)(in, a)
			if err != nil {
				return nil, err
			}
			if in[0].Static() && in[1].Static() && !SameShape(m[0].Shape, in[0].Shape) {
				return nil, fmt.Errorf("slope shape %v does not broadcast to input shape %v", in[1].Shape, in[0].Shape)
			}
			return []Meta{{DType: in[0].DType, Shape: in[0].Shape}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			if !unidirectional(in[1].Shape, in[0].Shape) {
				return fmt.Errorf("slope shape %v does not broadcast to input shape %v", in[1].Shape, in[0].Shape)
			}
			return binaryApply(in[0], in[1], out[0], binFns{
				f: func(x, s float64) float64 {
					if x < 0 {
						return s * x
					}
					return x
				},
				i: func(x, s int64) int64 {
					if x < 0 {
						return s * x
					}
					return x
				},
				u: func(x, _ uint64) uint64 { return x },
			})
		},
	})
}

// Erf is the error function.
func Erf(x *Node) *Node { return Apply1(erfDef, nil, x) }

// Gelu is x*Phi(x), exactly (erf) or with the tanh approximation.
func Gelu(x *Node, tanh bool) *Node {
	if tanh {
		return Apply1(geluDef, Attrs{"approximate": "tanh"}, x)
	}
	return Apply1(geluDef, nil, x)
}

// LeakyRelu is x for x >= 0 and alpha*x below.
func LeakyRelu(x *Node, alpha float32) *Node {
	return Apply1(leakyReluDef, Attrs{"alpha": alpha}, x)
}

// PRelu is LeakyRelu with a slope tensor broadcast to x.
func PRelu(x, slope *Node) *Node { return Apply1(preluDef, nil, x, slope) }

// Elu is x for x >= 0 and alpha*(exp(x)-1) below.
func Elu(x *Node, alpha float32) *Node { return Apply1(eluDef, Attrs{"alpha": alpha}, x) }

// HardSigmoid is max(0, min(1, alpha*x + beta)).
func HardSigmoid(x *Node, alpha, beta float32) *Node {
	return Apply1(hardSigmoidDef, Attrs{"alpha": alpha, "beta": beta}, x)
}

// HardSwish, Mish, Softsign, Sin and Cos are the ONNX float functions.
func HardSwish(x *Node) *Node { return Apply1(hardSwishDef, nil, x) }
func Mish(x *Node) *Node      { return Apply1(mishDef, nil, x) }
func Softsign(x *Node) *Node  { return Apply1(softsignDef, nil, x) }
func Sin(x *Node) *Node       { return Apply1(sinDef, nil, x) }
func Cos(x *Node) *Node       { return Apply1(cosDef, nil, x) }
