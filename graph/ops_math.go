package graph

import (
	"fmt"
	"math"
)

// This file holds the elementwise math ops (Relu, Sigmoid, Softplus, Tanh,
// Exp, Log, Sqrt), Softmax and LogSoftmax, the variadic Max and Min, Clip,
// Where, the comparisons Equal, Less, Greater, LessOrEqual and
// GreaterOrEqual, and CumSum (Cast is in ops_cast.go).
//
// Choices where ONNX leaves room (all documented on the builders too):
//   - Max and Min propagate NaN (numpy's maximum/minimum; ONNX Runtime's
//     CPU kernels too since microsoft/onnxruntime#21492); their gradient
//     goes to the input that supplied the output value, the first one on
//     ties.
//   - Relu is float32 only although ONNX allows integers: ONNX Runtime's
//     CPU provider has no int64 Relu kernel. Where accepts bool X and Y as
//     ONNX does, but ONNX Runtime's CPU provider has no kernel for that.
//   - Clip propagates NaN; its gradient flows to x where min <= x <= max
//     (both bounds inclusive, as PyTorch's clamp), to min where x < min and
//     to max where max(x, min) > max.

// ---------- helpers shared by the files of this op set ----------

// axisInRank maps an axis in [-rank, rank-1] to [0, rank-1].
func axisInRank(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// optionalMeta returns input i's meta and whether the input is present.
func optionalMeta(in []Meta, i int) (Meta, bool) {
	if i < len(in) && in[i].DType != Invalid {
		return in[i], true
	}
	return Meta{}, false
}

// optionalTensor returns input i of a kernel, nil when absent.
func optionalTensor(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// metaOfTensor is the run-time meta of a kernel input (Invalid when absent).
func metaOfTensor(t *Tensor) Meta {
	if t == nil {
		return Meta{}
	}
	return Meta{DType: t.DType, Shape: t.Shape, Value: t}
}

func int64Bool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// splitAxis returns the sizes before, along and after axis ax of shape.
func splitAxis(shape []int, ax int) (outer, n, inner int) {
	outer, inner = 1, 1
	for i, d := range shape {
		switch {
		case i < ax:
			outer *= d
		case i > ax:
			inner *= d
		}
	}
	return outer, shape[ax], inner
}

// broadcastCopy writes src, broadcast from shape ss, into dst of shape ds.
func broadcastCopy[T any](dst []T, ds []int, src []T, ss []int) {
	switch {
	case len(src) == len(dst):
		copy(dst, src) // equal sizes under broadcasting: identical layout
	case len(src) == 1:
		for i := range dst {
			dst[i] = src[0]
		}
	case broadcastRuns(dst, ds, src, ss):
	default:
		for i, j := range BroadcastIndex(ss, ds) {
			dst[i] = src[j]
		}
	}
}

// floatUnaryDef registers a float elementwise op: f32 is the float32
// kernel (odmn's hot path), f64 the one float64 and float16 share.
func floatUnaryDef(typ string, since int, compat []int, f func(float32) float32, f64 func(float64) float64) *OpDef {
	return Register(&OpDef{
		Type: typ, Since: since, Compat: compat,
		MinInputs: 1, MaxInputs: 1, Types: FloatTypes,
		Infer:  sameAsInput,
		Kernel: floatKernel(UnaryF32Kernel(f), f64),
	})
}

// floatKernel runs f32 on float32 and f64 (through unaryApply) on float64
// and float16.
func floatKernel(f32 Kernel, f64 func(float64) float64) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		if in[0].DType == Float32 {
			return f32(in, a, out)
		}
		return unaryApply(in[0], out[0], floatFn(f64))
	}
}

// ---------- Relu, Sigmoid, Softplus, Tanh, Exp, Log, Sqrt ----------

var reluDef, sigmoidDef, softplusDef, tanhDef, expDef, logDef, sqrtDef *OpDef

func init() {
	reluDef = Register(&OpDef{
		Type: "Relu", Since: 14, Compat: []int{6, 13},
		MinInputs: 1, MaxInputs: 1,
		// Floats and, since opset 14, signed integers (ONNX Runtime's CPU
		// provider runs int8 and int32 but not int64 Relu).
		Types: SignedTypes,
		Infer: sameAsInput,
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			if in[0].DType == Float32 {
				reluF32(out[0].F, in[0].F) // NaN stays NaN
				return nil
			}
			return unaryApply(in[0], out[0], numFns{
				f: func(v float64) float64 {
					if v < 0 {
						return 0
					}
					return v
				},
				i: func(v int64) int64 { return max(v, 0) },
			})
		},
		// The mask reads the output: relu(x) > 0 exactly where x > 0 (NaN
		// in neither), and with the input otherwise unread the plan can
		// apply the Relu in place on the product before it (Gemm+Relu).
		Grad: func(op *Op, g []*Node) []*Node {
			return []*Node{reluGrad(g[0], op.Outputs[0])}
		},
	})
	sigmoidDef = floatUnaryDef("Sigmoid", 13, []int{6}, sigmoid32, sigmoid64)
	sigmoidDef.Kernel = floatKernel(vmathKernel(mathSigmoid, sigmoid32), sigmoid64)
	sigmoidDef.Grad = func(op *Op, g []*Node) []*Node {
		y := op.Outputs[0]
		return []*Node{Mul(g[0], Mul(y, Sub(ScalarLike(y, 1), y)))}
	}
	softplusDef = floatUnaryDef("Softplus", 1, []int{22}, softplus32, softplus64)
	softplusDef.Kernel = floatKernel(vmathKernel(mathSoftplus, softplus32), softplus64)
	softplusDef.Grad = func(op *Op, g []*Node) []*Node {
		return []*Node{Mul(g[0], Sigmoid(op.Inputs[0]))}
	}
	tanhDef = floatUnaryDef("Tanh", 13, []int{6}, func(v float32) float32 { return float32(math.Tanh(float64(v))) }, math.Tanh)
	tanhDef.Grad = func(op *Op, g []*Node) []*Node {
		y := op.Outputs[0]
		return []*Node{Mul(g[0], Sub(ScalarLike(y, 1), Mul(y, y)))}
	}
	expDef = floatUnaryDef("Exp", 13, []int{6}, exp32, math.Exp)
	expDef.Kernel = floatKernel(vmathKernel(mathExp, exp32), math.Exp)
	expDef.Grad = func(op *Op, g []*Node) []*Node { return []*Node{Mul(g[0], op.Outputs[0])} }
	logDef = floatUnaryDef("Log", 13, []int{6}, func(v float32) float32 { return float32(math.Log(float64(v))) }, math.Log)
	logDef.Grad = func(op *Op, g []*Node) []*Node { return []*Node{Div(g[0], op.Inputs[0])} }
	sqrtDef = floatUnaryDef("Sqrt", 13, []int{6}, func(v float32) float32 { return float32(math.Sqrt(float64(v))) }, math.Sqrt)
	sqrtDef.Grad = func(op *Op, g []*Node) []*Node {
		y := op.Outputs[0]
		return []*Node{Div(Mul(g[0], ScalarLike(y, 0.5)), y)}
	}
}

// vmathKernel is the kernel of Exp, Sigmoid and Softplus: vectorized C in
// the OpenBLAS build, f (float64 arithmetic) otherwise.
func vmathKernel(fn int, f func(float32) float32) Kernel {
	return func(in []*Tensor, _ Attrs, out []*Tensor) error {
		vmathF32(fn, out[0].F, in[0].F, f)
		return nil
	}
}

func exp32(v float32) float32 { return float32(math.Exp(float64(v))) }

func softplus32(v float32) float32 { return float32(softplus64(float64(v))) }

func softplus64(x float64) float64 { return math.Log1p(math.Exp(-math.Abs(x))) + math.Max(x, 0) }

// sigmoid32 is 1/(1+exp(-x)) computed without overflow for either sign.
func sigmoid32(v float32) float32 { return float32(sigmoid64(float64(v))) }

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x) // NaN lands here and stays NaN
	return e / (1 + e)
}

// Relu is max(x, 0) elementwise (float32). NaN stays NaN. Its gradient
// is zero at x == 0.
func Relu(x *Node) *Node { return Apply1(reluDef, nil, x) }

// Sigmoid is 1/(1+exp(-x)), computed stably for large |x|.
func Sigmoid(x *Node) *Node { return Apply1(sigmoidDef, nil, x) }

// Softplus is log(1+exp(x)), computed stably as log1p(exp(-|x|)) + max(x, 0).
func Softplus(x *Node) *Node { return Apply1(softplusDef, nil, x) }

// Tanh, Exp, Log and Sqrt are the float32 elementwise functions.
func Tanh(x *Node) *Node { return Apply1(tanhDef, nil, x) }
func Exp(x *Node) *Node  { return Apply1(expDef, nil, x) }
func Log(x *Node) *Node  { return Apply1(logDef, nil, x) }
func Sqrt(x *Node) *Node { return Apply1(sqrtDef, nil, x) }

// ---------- Softmax and LogSoftmax ----------

var softmaxDef, logSoftmaxDef *OpDef

func softmaxInfer(in []Meta, a Attrs) ([]Meta, error) {
	if in[0].DType != Float32 {
		return nil, fmt.Errorf("type %s not supported (float32 only)", in[0].DType)
	}
	if _, err := axisInRank(a.Int("axis"), len(in[0].Shape)); err != nil {
		return nil, err
	}
	return sameAsInput(in, nil)
}

// softmaxKernel computes softmax (or log-softmax) along the axis attribute,
// subtracting the maximum first so that exp never overflows.
func softmaxKernel(logOut bool) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		x := in[0]
		ax, err := axisInRank(a.Int("axis"), len(x.Shape))
		if err != nil {
			return err
		}
		outer, n, inner := splitAxis(x.Shape, ax)
		xf, yf := x.F, out[0].F
		if inner == 1 && n > 0 && vexpFast {
			softmaxRows(xf, yf, outer, n, logOut)
			return nil
		}
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				p := o*n*inner + i
				m := float32(math.Inf(-1))
				for j := 0; j < n; j++ {
					if v := xf[p+j*inner]; v > m {
						m = v
					}
				}
				var s float64
				for j := 0; j < n; j++ {
					e := math.Exp(float64(xf[p+j*inner] - m))
					s += e
					if !logOut {
						yf[p+j*inner] = float32(e)
					}
				}
				if logOut {
					ls := float32(math.Log(s))
					for j := 0; j < n; j++ {
						yf[p+j*inner] = xf[p+j*inner] - m - ls
					}
				} else {
					r := float32(1 / s)
					for j := 0; j < n; j++ {
						yf[p+j*inner] *= r
					}
				}
			}
		}
		return nil
	}
}

// softmaxRows is softmax (or log-softmax) over the rows of x [rows, n]
// with one vectorized exp pass over the whole tensor (kern_c.go).
func softmaxRows(x, y []float32, rows, n int, logOut bool) {
	x, y = x[:rows*n], y[:rows*n]
	for r := 0; r < rows; r++ {
		xr, yr := x[r*n:(r+1)*n], y[r*n:(r+1)*n]
		m := float32(math.Inf(-1))
		for _, v := range xr {
			if v > m {
				m = v
			}
		}
		for j, v := range xr {
			yr[j] = v - m
		}
	}
	vmathF32(mathExp, y, y, exp32)
	for r := 0; r < rows; r++ {
		yr := y[r*n : (r+1)*n]
		var s float64
		for _, e := range yr {
			s += float64(e)
		}
		if logOut {
			xr := x[r*n : (r+1)*n]
			ls := float32(math.Log(s))
			mx := float32(math.Inf(-1))
			for _, v := range xr {
				if v > mx {
					mx = v
				}
			}
			for j, v := range xr {
				yr[j] = v - mx - ls
			}
			continue
		}
		inv := float32(1 / s)
		for j := range yr {
			yr[j] *= inv
		}
	}
}

func init() {
	softmaxDef = Register(&OpDef{
		Type: "Softmax", Since: 13,
		MinInputs: 1, MaxInputs: 1,
		Attrs:  []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(-1)}},
		Infer:  softmaxInfer,
		Kernel: softmaxKernel(false),
		Grad: func(op *Op, g []*Node) []*Node {
			// dx = y * (g - sum(g*y, axis))
			y := op.Outputs[0]
			s := ReduceSum(Mul(g[0], y), []int64{op.Resolved.Int("axis")}, true)
			return []*Node{Mul(y, Sub(g[0], s))}
		},
	})
	logSoftmaxDef = Register(&OpDef{
		Type: "LogSoftmax", Since: 13,
		MinInputs: 1, MaxInputs: 1,
		Attrs:  []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(-1)}},
		Infer:  softmaxInfer,
		Kernel: softmaxKernel(true),
		Grad: func(op *Op, g []*Node) []*Node {
			// dx = g - exp(y) * sum(g, axis)
			y := op.Outputs[0]
			s := ReduceSum(g[0], []int64{op.Resolved.Int("axis")}, true)
			return []*Node{Sub(g[0], Mul(Exp(y), s))}
		},
	})
}

func axisAttrs(axis int64) Attrs {
	if axis == -1 {
		return nil
	}
	return Attrs{"axis": axis}
}

// Softmax normalizes exp(x) along axis (negative counts from the end; ONNX's
// default is -1).
func Softmax(x *Node, axis int64) *Node { return Apply1(softmaxDef, axisAttrs(axis), x) }

// LogSoftmax is log(Softmax(x, axis)), computed as x - max - log(sum(exp(x - max))).
func LogSoftmax(x *Node, axis int64) *Node { return Apply1(logSoftmaxDef, axisAttrs(axis), x) }

// ---------- Max and Min ----------

var maxDef, minDef, extremumGradDef *OpDef

func variadicInfer(in []Meta, _ Attrs) ([]Meta, error) {
	dt := in[0].DType
	shapes := make([][]int, len(in))
	for i, m := range in {
		if m.DType == Invalid {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		if m.DType != dt {
			return nil, fmt.Errorf("input types differ: %s and %s", dt, m.DType)
		}
		shapes[i] = m.Shape
	}
	s, err := BroadcastShapes(shapes...)
	if err != nil {
		return nil, err
	}
	return []Meta{{DType: dt, Shape: s}}, nil
}

// MaxF32 is the Max op's float32 rule (NaN wins), for fused kernels that
// must give Max's bits.
func MaxF32(x, y float32) float32 {
	if x > y || x != x {
		return x
	}
	return y // y when y is NaN
}

// MinF32 is the Min op's float32 rule (NaN wins).
func MinF32(x, y float32) float32 {
	if x < y || x != x {
		return x
	}
	return y
}

func extremumKernel(isMax bool) Kernel {
	maxF, minF := MaxF32, MinF32
	maxI := func(x, y int64) int64 { return max(x, y) }
	minI := func(x, y int64) int64 { return min(x, y) }
	f, fi := minF, minI
	if isMax {
		f, fi = maxF, maxI
	}
	return func(in []*Tensor, _ Attrs, out []*Tensor) error {
		o := out[0]
		switch o.DType {
		case Float32:
			broadcastCopy(o.F, o.Shape, in[0].F, in[0].Shape)
			for _, t := range in[1:] {
				Binary(o.F, o.Shape, t.F, t.Shape, o.F, o.Shape, f)
			}
		case Int64:
			broadcastCopy(o.I, o.Shape, in[0].I, in[0].Shape)
			for _, t := range in[1:] {
				Binary(o.I, o.Shape, t.I, t.Shape, o.I, o.Shape, fi)
			}
		default:
			return variadicApply(in, o, extremumFns(isMax))
		}
		return nil
	}
}

// extremumFns are Max's (isMax) or Min's arithmetic per width class; a
// NaN operand gives NaN.
func extremumFns(isMax bool) binFns {
	if isMax {
		return binFns{
			f: func(x, y float64) float64 {
				if x > y || x != x {
					return x
				}
				return y
			},
			i: func(x, y int64) int64 { return max(x, y) },
			u: func(x, y uint64) uint64 { return max(x, y) },
		}
	}
	return binFns{
		f: func(x, y float64) float64 {
			if x < y || x != x {
				return x
			}
			return y
		},
		i: func(x, y int64) int64 { return min(x, y) },
		u: func(x, y uint64) uint64 { return min(x, y) },
	}
}

// extremumGrad routes g to input `index` of a Max or Min wherever that
// input supplied the output value and no earlier input did.
func extremumGrad(op *Op, g []*Node) []*Node {
	xs := op.Inputs
	if len(xs) == 1 {
		return []*Node{g[0]}
	}
	y := op.Outputs[0]
	res := make([]*Node, len(xs))
	for k, x := range xs {
		if x.Value() != nil {
			continue // a constant: nothing to differentiate
		}
		args := append([]*Node{g[0], y}, xs...)
		res[k] = SumTo(Apply1(extremumGradDef, Attrs{"index": int64(k)}, args...), x)
	}
	return res
}

func init() {
	maxDef = Register(&OpDef{
		Type: "Max", Since: 13, Compat: []int{6, 8, 12},
		MinInputs: 1, MaxInputs: -1, Types: AllNumeric,
		Infer:  variadicInfer,
		Kernel: extremumKernel(true),
		Grad:   extremumGrad,
	})
	minDef = Register(&OpDef{
		Type: "Min", Since: 13, Compat: []int{6, 8, 12},
		MinInputs: 1, MaxInputs: -1, Types: AllNumeric,
		Infer:  variadicInfer,
		Kernel: extremumKernel(false),
		Grad:   extremumGrad,
	})
	// ExtremumGrad(g, y, x0, ..., xn-1; index) has y's shape: g where input
	// index is the first whose (broadcast) value equals y, else 0.
	extremumGradDef = Register(&OpDef{
		Type: "ExtremumGrad", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 3, MaxInputs: -1,
		Attrs: []AttrSpec{{Name: "index", Type: AttrInt, Required: true}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if k := a.Int("index"); k < 0 || k >= int64(len(in)-2) {
				return nil, fmt.Errorf("index %d out of range for %d inputs", k, len(in)-2)
			}
			if in[0].DType != Float32 || in[1].DType != Float32 {
				return nil, fmt.Errorf("gradient must be float32")
			}
			return []Meta{{DType: Float32, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, y, xs := in[0], in[1], in[2:]
			k := int(a.Int("index"))
			if len(g.F) != len(y.F) {
				return fmt.Errorf("gradient shape %v differs from output shape %v", g.Shape, y.Shape)
			}
			idx := make([][]int, len(xs))
			for j, x := range xs {
				if x.DType != Float32 {
					return fmt.Errorf("type %s not supported", x.DType)
				}
				if len(x.F) != len(y.F) {
					idx[j] = BroadcastIndex(x.Shape, y.Shape)
				}
			}
			o := out[0].F
			for i, v := range y.F {
				w := -1
				for j, x := range xs {
					p := i
					if idx[j] != nil {
						p = idx[j][i]
					}
					if u := x.F[p]; u == v || (u != u && v != v) {
						w = j
						break
					}
				}
				if w == k {
					o[i] = g.F[i]
				} else {
					o[i] = 0
				}
			}
			return nil
		},
	})
	extremumGradDef.Grad = func(op *Op, g []*Node) []*Node {
		// Linear in the incoming gradient, with the same mask.
		args := append([]*Node{g[0]}, op.Inputs[1:]...)
		res := make([]*Node, len(op.Inputs))
		res[0] = Apply1(extremumGradDef, op.Attrs, args...)
		return res
	}
}

// Max is the elementwise maximum of one or more tensors with numpy
// broadcasting (float32 or int64). NaN propagates. The gradient goes to the
// input holding the maximum, the first such input on ties.
func Max(xs ...*Node) *Node { return Apply1(maxDef, nil, xs...) }

// Min is the elementwise minimum; see Max.
func Min(xs ...*Node) *Node { return Apply1(minDef, nil, xs...) }

// ---------- Clip ----------

var clipDef, clipGradDef *OpDef

func clipBounds[T float32 | int64](in []*Tensor, pick func(*Tensor) []T, lo, hi T) (T, T) {
	if t := optionalTensor(in, 1); t != nil {
		lo = pick(t)[0]
	}
	if t := optionalTensor(in, 2); t != nil {
		hi = pick(t)[0]
	}
	return lo, hi
}

func pickF(t *Tensor) []float32 { return t.F }
func pickI(t *Tensor) []int64   { return t.I }

func init() {
	clipDef = Register(&OpDef{
		Type: "Clip", Since: 13, Compat: []int{11, 12},
		MinInputs: 1, MaxInputs: 3, Types: AllNumeric,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			for i, name := range []string{"", "min", "max"} {
				m, ok := optionalMeta(in, i)
				if i == 0 || !ok {
					continue
				}
				if m.DType != x.DType {
					return nil, fmt.Errorf("%s is %s but the input is %s", name, m.DType, x.DType)
				}
				if len(m.Shape) != 0 {
					return nil, fmt.Errorf("%s must be a scalar, got shape %v", name, m.Shape)
				}
			}
			return sameAsInput(in, nil)
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			x := in[0]
			switch x.DType {
			case Float32:
				lo, hi := clipBounds(in, pickF, float32(math.Inf(-1)), float32(math.Inf(1)))
				for i, v := range x.F {
					out[0].F[i] = min(max(v, lo), hi) // NaN propagates
				}
			case Int64:
				lo, hi := clipBounds(in, pickI, math.MinInt64, math.MaxInt64)
				for i, v := range x.I {
					out[0].I[i] = min(max(v, lo), hi)
				}
			default:
				return unaryApply(x, out[0], clipFns(optionalTensor(in, 1), optionalTensor(in, 2)))
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			x := op.Inputs[0]
			lo, hi := optionalInput(op, 1), optionalInput(op, 2)
			grad := func(wrt int64) *Node {
				return Apply1(clipGradDef, Attrs{"wrt": wrt}, g[0], x, lo, hi)
			}
			res := []*Node{grad(0), nil, nil}
			if lo != nil && lo.Value() == nil {
				res[1] = SumTo(grad(1), lo)
			}
			if hi != nil && hi.Value() == nil {
				res[2] = SumTo(grad(2), hi)
			}
			return res
		},
	})
	// ClipGrad(g, x, min?, max?; wrt) has x's shape: g masked to where the
	// output depends on x (wrt 0), on min (1) or on max (2).
	clipGradDef = Register(&OpDef{
		Type: "ClipGrad", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 2, MaxInputs: 4,
		Attrs: []AttrSpec{{Name: "wrt", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			for i := range in {
				if m, ok := optionalMeta(in, i); ok && m.DType != Float32 {
					return nil, fmt.Errorf("type %s not supported (float32 only)", m.DType)
				}
			}
			return []Meta{{DType: Float32, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, x := in[0], in[1]
			if len(g.F) != len(x.F) {
				return fmt.Errorf("gradient shape %v differs from input shape %v", g.Shape, x.Shape)
			}
			lo, hi := clipBounds(in[1:], pickF, float32(math.Inf(-1)), float32(math.Inf(1)))
			wrt := a.Int("wrt")
			o := out[0].F
			for i, v := range x.F {
				t := max(v, lo)
				var on bool
				switch wrt {
				case 0:
					on = v >= lo && t <= hi
				case 1:
					on = v < lo && t <= hi
				default:
					on = t > hi
				}
				if on {
					o[i] = g.F[i]
				} else {
					o[i] = 0
				}
			}
			return nil
		},
	})
	clipGradDef.Grad = func(op *Op, g []*Node) []*Node {
		// Linear in the incoming gradient, with the same mask.
		in := op.Inputs
		return []*Node{Apply1(clipGradDef, op.Attrs, g[0], in[1], optionalInput(op, 2), optionalInput(op, 3)), nil, nil, nil}
	}
}

// clipFns clamps to the scalar bounds lo and hi (nil: none) per width
// class; NaN propagates.
func clipFns(lo, hi *Tensor) numFns {
	fl, fh := math.Inf(-1), math.Inf(1)
	il, ih := int64(math.MinInt64), int64(math.MaxInt64)
	ul, uh := uint64(0), uint64(math.MaxUint64)
	if lo != nil {
		fl, il, ul = lo.Float(0), lo.Int(0), uint64(lo.Int(0))
	}
	if hi != nil {
		fh, ih, uh = hi.Float(0), hi.Int(0), uint64(hi.Int(0))
	}
	return numFns{
		f: func(v float64) float64 {
			if v != v {
				return v
			}
			return min(max(v, fl), fh)
		},
		i: func(v int64) int64 { return min(max(v, il), ih) },
		u: func(v uint64) uint64 { return min(max(v, ul), uh) },
	}
}

// optionalInput returns input i of op, nil when absent.
func optionalInput(op *Op, i int) *Node {
	if i < len(op.Inputs) {
		return op.Inputs[i]
	}
	return nil
}

// Clip limits x to [min, max]; either bound may be nil (no limit). The
// bounds are scalars of x's dtype (float32 or int64). When min > max every
// output is max. NaN propagates. The gradient flows to x where
// min <= x <= max (both inclusive).
func Clip(x, min, max *Node) *Node { return Apply1(clipDef, nil, x, min, max) }

// ---------- Where ----------

var whereDef *OpDef

func whereT[T any](c *Tensor, x, y []T, xs, ys []int, o []T, os []int) {
	if bc, ok := newBcast(os, c.Shape, xs, ys); ok {
		cb := c.B
		bc.runs(func(q, n int, p, s [3]int) {
			if s[0] == 1 && s[1] == 1 && s[2] == 0 {
				cr, xr, v := cb[p[0]:p[0]+n], x[p[1]:p[1]+n], y[p[2]]
				for j := range cr {
					if cr[j] {
						o[q+j] = xr[j]
					} else {
						o[q+j] = v
					}
				}
				return
			}
			ci, xi, yi := p[0], p[1], p[2]
			for j := 0; j < n; j++ {
				if cb[ci] {
					o[q+j] = x[xi]
				} else {
					o[q+j] = y[yi]
				}
				ci += s[0]
				xi += s[1]
				yi += s[2]
			}
		})
		return
	}
	n := len(o)
	idx := func(s []int, l int) []int {
		if l == n {
			return nil
		}
		return BroadcastIndex(s, os)
	}
	ci, xi, yi := idx(c.Shape, len(c.B)), idx(xs, len(x)), idx(ys, len(y))
	at := func(ix []int, i int) int {
		if ix == nil {
			return i
		}
		return ix[i]
	}
	for i := range o {
		if c.B[at(ci, i)] {
			o[i] = x[at(xi, i)]
		} else {
			o[i] = y[at(yi, i)]
		}
	}
}

func init() {
	whereDef = Register(&OpDef{
		Type: "Where", Since: 16, Compat: []int{9},
		MinInputs: 3, MaxInputs: 3, Types: AllTypes, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if in[0].DType != Bool {
				return nil, fmt.Errorf("condition must be bool, got %s", in[0].DType)
			}
			if in[1].DType != in[2].DType {
				return nil, fmt.Errorf("inputs X and Y must have the same type, got %s and %s", in[1].DType, in[2].DType)
			}
			if in[1].DType == Invalid {
				return nil, fmt.Errorf("inputs X and Y are required")
			}
			s, err := BroadcastShapes(in[0].Shape, in[1].Shape, in[2].Shape)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: in[1].DType, Shape: s}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			c, x, y, o := in[0], in[1], in[2], out[0]
			switch o.DType {
			case Float32:
				whereT(c, x.F, y.F, x.Shape, y.Shape, o.F, o.Shape)
			case Int64:
				whereT(c, x.I, y.I, x.Shape, y.Shape, o.I, o.Shape)
			case Bool:
				whereT(c, x.B, y.B, x.Shape, y.Shape, o.B, o.Shape)
			case String:
				whereT(c, x.S, y.S, x.Shape, y.Shape, o.S, o.Shape)
			case Float64:
				whereT(c, Data[float64](x), Data[float64](y), x.Shape, y.Shape, Data[float64](o), o.Shape)
			case Float16:
				whereT(c, Data[Half](x), Data[Half](y), x.Shape, y.Shape, Data[Half](o), o.Shape)
			case Int32:
				whereT(c, Data[int32](x), Data[int32](y), x.Shape, y.Shape, Data[int32](o), o.Shape)
			case Int16:
				whereT(c, Data[int16](x), Data[int16](y), x.Shape, y.Shape, Data[int16](o), o.Shape)
			case Int8:
				whereT(c, Data[int8](x), Data[int8](y), x.Shape, y.Shape, Data[int8](o), o.Shape)
			case Uint64:
				whereT(c, Data[uint64](x), Data[uint64](y), x.Shape, y.Shape, Data[uint64](o), o.Shape)
			case Uint32:
				whereT(c, Data[uint32](x), Data[uint32](y), x.Shape, y.Shape, Data[uint32](o), o.Shape)
			case Uint16:
				whereT(c, Data[uint16](x), Data[uint16](y), x.Shape, y.Shape, Data[uint16](o), o.Shape)
			case Uint8:
				whereT(c, Data[uint8](x), Data[uint8](y), x.Shape, y.Shape, Data[uint8](o), o.Shape)
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			c, x, y := op.Inputs[0], op.Inputs[1], op.Inputs[2]
			zero := ScalarLike(g[0], 0)
			return []*Node{nil, SumTo(Where(c, g[0], zero), x), SumTo(Where(c, zero, g[0]), y)}
		},
	})
}

// Where selects x where cond is true and y elsewhere, broadcasting all
// three (numpy rules). x and y share a dtype (float32, int64 or bool; ONNX
// Runtime's CPU provider has no bool Where kernel).
func Where(cond, x, y *Node) *Node { return Apply1(whereDef, nil, cond, x, y) }

// ---------- Equal, Less, Greater ----------

var equalDef, lessDef, greaterDef, lessOrEqualDef, greaterOrEqualDef *OpDef

// compareKernel compares float32 and int64 with f32 and i64 (odmn's own
// graphs) and every other type through fs.
func compareKernel(f32 func(x, y float32) bool, i64 func(x, y int64) bool, fs cmpFns) Kernel {
	return func(in []*Tensor, _ Attrs, out []*Tensor) error {
		a, b, o := in[0], in[1], out[0]
		switch a.DType {
		case Float32:
			Binary(a.F, a.Shape, b.F, b.Shape, o.B, o.Shape, f32)
		case Int64:
			Binary(a.I, a.Shape, b.I, b.Shape, o.B, o.Shape, i64)
		default:
			return compareApply(a, b, o, fs)
		}
		return nil
	}
}

func cmpDef(typ string, since int, compat []int, types []DType, f32 func(x, y float32) bool, i64 func(x, y int64) bool, fs cmpFns) *OpDef {
	return Register(&OpDef{
		Type: typ, Since: since, Compat: compat,
		MinInputs: 2, MaxInputs: 2, Types: types,
		Infer:  BinaryInfer(Bool),
		Kernel: compareKernel(f32, i64, fs),
	})
}

func init() {
	// Equal 19 added strings (the only comparison that takes them).
	equalDef = cmpDef("Equal", 13, []int{7, 11, 19}, withStrings,
		func(x, y float32) bool { return x == y }, func(x, y int64) bool { return x == y },
		cmpFns{
			f: func(x, y float64) bool { return x == y }, i: func(x, y int64) bool { return x == y },
			u: func(x, y uint64) bool { return x == y }, b: func(x, y bool) bool { return x == y },
			s: func(x, y string) bool { return x == y },
		})
	equalDef.StringInputs = true
	equalDef.ExportSince = func(op *Op) int {
		if op.Inputs[0].DType() == String {
			return 19 // strings are Equal-19's
		}
		return 13
	}
	lessDef = cmpDef("Less", 13, []int{7, 9}, AllNumeric,
		func(x, y float32) bool { return x < y }, func(x, y int64) bool { return x < y },
		cmpFns{
			f: func(x, y float64) bool { return x < y }, i: func(x, y int64) bool { return x < y },
			u: func(x, y uint64) bool { return x < y },
		})
	greaterDef = cmpDef("Greater", 13, []int{7, 9}, AllNumeric,
		func(x, y float32) bool { return x > y }, func(x, y int64) bool { return x > y },
		cmpFns{
			f: func(x, y float64) bool { return x > y }, i: func(x, y int64) bool { return x > y },
			u: func(x, y uint64) bool { return x > y },
		})
	// GreaterOrEqual and LessOrEqual: version 16 only added bfloat16.
	greaterOrEqualDef = cmpDef("GreaterOrEqual", 16, []int{12}, AllNumeric,
		func(x, y float32) bool { return x >= y }, func(x, y int64) bool { return x >= y },
		cmpFns{
			f: func(x, y float64) bool { return x >= y }, i: func(x, y int64) bool { return x >= y },
			u: func(x, y uint64) bool { return x >= y },
		})
	lessOrEqualDef = cmpDef("LessOrEqual", 16, []int{12}, AllNumeric,
		func(x, y float32) bool { return x <= y }, func(x, y int64) bool { return x <= y },
		cmpFns{
			f: func(x, y float64) bool { return x <= y }, i: func(x, y int64) bool { return x <= y },
			u: func(x, y uint64) bool { return x <= y },
		})
}

// Equal, Less, Greater, LessOrEqual and GreaterOrEqual compare elementwise
// with numpy broadcasting and give bool. Equal takes every numeric type,
// bool and strings (ONNX Equal 19); the others every numeric type. Any
// comparison with NaN is false (so GreaterOrEqual(x, b) is not
// Not(Less(x, b)) when either is NaN). They have no gradient.
func Equal(a, b *Node) *Node          { return Apply1(equalDef, nil, a, b) }
func Less(a, b *Node) *Node           { return Apply1(lessDef, nil, a, b) }
func Greater(a, b *Node) *Node        { return Apply1(greaterDef, nil, a, b) }
func LessOrEqual(a, b *Node) *Node    { return Apply1(lessOrEqualDef, nil, a, b) }
func GreaterOrEqual(a, b *Node) *Node { return Apply1(greaterOrEqualDef, nil, a, b) }

// ---------- CumSum ----------

var cumSumDef *OpDef

// cumSumAxis reads CumSum's axis input (a scalar or a 1-element 1-D int64
// tensor); known is false while building when its value is not.
func cumSumAxis(x, axis Meta) (ax int, known bool, err error) {
	if axis.DType != Int64 && axis.DType != Int32 {
		return 0, false, fmt.Errorf("axis must be int64 or int32, got %s", axis.DType)
	}
	if len(axis.Shape) > 1 || (len(axis.Shape) == 1 && axis.Shape[0] != 1 && axis.Shape[0] != -1) {
		return 0, false, fmt.Errorf("axis must be a scalar, got shape %v", axis.Shape)
	}
	if len(x.Shape) == 0 {
		return 0, false, fmt.Errorf("input must have rank 1 or more, got a scalar")
	}
	if axis.Value == nil {
		return 0, false, nil
	}
	if axis.Value.Len() != 1 {
		return 0, false, fmt.Errorf("axis must hold one value, got %d", axis.Value.Len())
	}
	ax, err = axisInRank(axis.Value.Int(0), len(x.Shape))
	return ax, err == nil, err
}

func cumSumT[T Number](x, y []T, outer, n, inner int, exclusive, reverse bool) {
	for o := 0; o < outer; o++ {
		base := o * n * inner
		row := func(j int) int {
			if reverse {
				j = n - 1 - j
			}
			return base + j*inner
		}
		for j := 0; j < n; j++ {
			p := row(j)
			yr := y[p : p+inner]
			if j == 0 {
				if exclusive {
					clear(yr)
				} else {
					copy(yr, x[p:p+inner])
				}
				continue
			}
			q := row(j - 1)
			yp := y[q : q+inner]
			xr := x[p : p+inner]
			if exclusive {
				xr = x[q : q+inner]
			}
			for i := range yr {
				yr[i] = yp[i] + xr[i]
			}
		}
	}
}

func init() {
	cumSumDef = Register(&OpDef{
		Type: "CumSum", Since: 14, Compat: []int{11},
		MinInputs: 2, MaxInputs: 2,
		Types: []DType{Float32, Float64, Int32, Int64, Uint32, Uint64},
		Attrs: []AttrSpec{
			{Name: "exclusive", Type: AttrInt, Default: int64(0)},
			{Name: "reverse", Type: AttrInt, Default: int64(0)},
		},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if _, _, err := cumSumAxis(in[0], in[1]); err != nil {
				return nil, err
			}
			return sameAsInput(in, nil)
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			ax, known, err := cumSumAxis(metaOfTensor(x), metaOfTensor(in[1]))
			if err != nil || !known {
				return fmt.Errorf("bad axis: %v", err)
			}
			outer, n, inner := splitAxis(x.Shape, ax)
			excl, rev := a.Int("exclusive") != 0, a.Int("reverse") != 0
			switch x.DType {
			case Float32:
				cumSumT(x.F, out[0].F, outer, n, inner, excl, rev)
			case Int64:
				cumSumT(x.I, out[0].I, outer, n, inner, excl, rev)
			case Float64:
				cumSumT(Data[float64](x), Data[float64](out[0]), outer, n, inner, excl, rev)
			case Int32:
				cumSumT(Data[int32](x), Data[int32](out[0]), outer, n, inner, excl, rev)
			case Uint32:
				cumSumT(Data[uint32](x), Data[uint32](out[0]), outer, n, inner, excl, rev)
			case Uint64:
				cumSumT(Data[uint64](x), Data[uint64](out[0]), outer, n, inner, excl, rev)
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			// The adjoint of a running sum is the running sum the other way.
			a := op.Resolved
			return []*Node{CumSumNode(g[0], op.Inputs[1], a.Int("exclusive") != 0, a.Int("reverse") == 0), nil}
		},
	})
}

// CumSum is the running sum of x along axis (float32 or int64). exclusive
// leaves each element out of its own sum; reverse sums from the end.
func CumSum(x *Node, axis int64, exclusive, reverse bool) *Node {
	return CumSumNode(x, x.g.Const(ScalarI64(axis)), exclusive, reverse)
}

// CumSumNode is CumSum with the axis given as an int64 scalar node.
func CumSumNode(x, axis *Node, exclusive, reverse bool) *Node {
	a := Attrs{}
	if exclusive {
		a["exclusive"] = int64(1)
	}
	if reverse {
		a["reverse"] = int64(1)
	}
	return Apply1(cumSumDef, a, x, axis)
}
