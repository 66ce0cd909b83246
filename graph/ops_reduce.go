package graph

import (
	"fmt"
	"math"
)

// This file holds the reductions (ReduceSum, ReduceMean, ReduceMax,
// ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
// ReduceLogSumExp, ReduceSumSquare), ArgMax and ArgMin, and the internal
// ops the gradients use. ReduceSum is version 13, whose axes are an
// optional int64 input (constant or computed at run time, with
// noop_with_empty_axes); the others are version 13, whose axes are an
// attribute. The importer rewrites one form onto the other (version 18 of
// the others takes the axes as an input: a constant one becomes the
// attribute). The others stay at 13 because odmn exports ReduceMax and
// ReduceMean in ODMN's models, and opset 17 is what exports declare (ONNX
// 1.12's checker, Debian's, knows no later opset).
//
// Every reduction is one generic kernel: a reducer (an initial value, an
// accumulation step and a final map) walked over the tensor. float32 sums
// and maxima keep their own loops (the scoring hot path); float16
// computes in float32; bool (ReduceMax/ReduceMin-20) goes through uint8.
//
// Choices where ONNX leaves room:
//   - ArgMax treats NaN as ONNX Runtime's CPU kernel does (checked against
//     ORT): by default the first NaN wins, as in numpy.argmax; with
//     select_last_index the scan keeps the last v >= best, which NaN never
//     is, so NaN wins only when it comes first. ArgMin mirrors it.
//   - ReduceMax and ReduceMin propagate NaN (numpy, the ONNX reference).
//     ONNX Runtime's CPU kernel differs: its result depends on where the
//     NaN is.
//   - Over an empty set (a reduced axis of size 0) the results are those
//     ONNX specifies: sums, L1, L2 and SumSquare 0, Prod 1, Max the
//     lowest value (-Inf for floats), Min the highest, LogSum and
//     LogSumExp -Inf, Mean NaN (0 for integers, which have no NaN).
//   - Integer ReduceMean divides with truncation toward zero, ReduceL2,
//     ReduceLogSum and ReduceLogSumExp of integers compute in float64 and
//     truncate (numpy's computation cast back to the input type).
//   - ReduceLogSumExp subtracts the maximum before exponentiating, so it
//     does not overflow where the result is finite.
//   - The gradient of ReduceMax is split evenly among the elements equal
//     to the maximum (as PyTorch's amax), so it sums to the incoming one.
//     Gradients exist for ReduceSum, ReduceMean and ReduceMax (float32),
//     the reductions odmn trains through.

// reduceMask marks the axes to reduce; repeated axes are an error.
func reduceMask(axes []int64, rank int) ([]bool, error) {
	red := make([]bool, rank)
	for _, a := range axes {
		ax, err := redAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if red[ax] {
			return nil, fmt.Errorf("axis %d given twice", a)
		}
		red[ax] = true
	}
	return red, nil
}

// redAxis maps an axis in [-rank, rank-1] to [0, rank-1].
func redAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// optIn returns input i's meta and whether it is present; optT is the
// kernel-side twin (nil when absent) and tMeta a kernel input's meta.
func optIn(in []Meta, i int) (Meta, bool) {
	if i < len(in) && in[i].DType != Invalid {
		return in[i], true
	}
	return Meta{}, false
}

func optT(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

func tMeta(t *Tensor) Meta {
	if t == nil {
		return Meta{}
	}
	return Meta{DType: t.DType, Shape: t.Shape, Value: t}
}

func optOpIn(op *Op, i int) *Node {
	if i < len(op.Inputs) {
		return op.Inputs[i]
	}
	return nil
}

func allAxes(rank int) []bool {
	red := make([]bool, rank)
	for i := range red {
		red[i] = true
	}
	return red
}

// reducedShape is shape with the marked axes removed (or set to 1 with keep).
func reducedShape(shape []int, red []bool, keep bool) []int {
	out := []int{}
	for i, d := range shape {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

// sumAxes resolves a reduction's axes input: red marks the axes to
// reduce; noop is set for empty axes with noop_with_empty_axes; both are
// zero when the axes are not known while building.
func sumAxes(rank int, axes Meta, a Attrs) (red []bool, noop bool, err error) {
	var list []int64
	if axes.DType != Invalid {
		if axes.DType != Int64 {
			return nil, false, fmt.Errorf("axes must be int64, got %s", axes.DType)
		}
		if len(axes.Shape) != 1 {
			return nil, false, fmt.Errorf("axes must be a 1-D tensor, got shape %v", axes.Shape)
		}
		switch {
		case axes.Value != nil:
			list = axes.Value.I
		case axes.Shape[0] != 0:
			return nil, false, nil
		}
	}
	if len(list) == 0 {
		if a.Int("noop_with_empty_axes") != 0 {
			return nil, true, nil
		}
		return allAxes(rank), false, nil
	}
	red, err = reduceMask(list, rank)
	return red, false, err
}

// reduceWalk visits a tensor of shape dims in row-major order, one run of
// its (coalesced) last dimension at a time, together with the flat index
// in the reduced tensor: fn(p, o, n, s) covers input elements p..p+n-1,
// which map to output elements o, o+s, ..., o+(n-1)*s (s is 0 when the
// last dimension is reduced).
type reduceWalk struct {
	dims, ostr []int
}

func newReduceWalk(shape []int, red []bool) reduceWalk {
	var dims []int
	var flags []bool
	for i, d := range shape {
		if d == 1 {
			continue // size-1 dimensions do not move any index
		}
		if k := len(dims) - 1; k >= 0 && flags[k] == red[i] {
			dims[k] *= d
			continue
		}
		dims = append(dims, d)
		flags = append(flags, red[i])
	}
	ostr := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		if !flags[i] {
			ostr[i] = acc
			acc *= dims[i]
		}
	}
	return reduceWalk{dims, ostr}
}

func (w reduceWalk) each(fn func(p, o, n, s int)) {
	r := len(w.dims)
	if r == 0 {
		fn(0, 0, 1, 0)
		return
	}
	total := 1
	for _, d := range w.dims {
		total *= d
	}
	if total == 0 {
		return
	}
	inner, s := w.dims[r-1], w.ostr[r-1]
	idx := make([]int, r)
	o := 0
	for p := 0; p < total; p += inner {
		fn(p, o, inner, s)
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			o += w.ostr[d]
			if idx[d] < w.dims[d] {
				break
			}
			o -= w.ostr[d] * w.dims[d]
			idx[d] = 0
		}
	}
}

// inferReduce is the output meta of a reduction of x over red.
func inferReduce(x Meta, red []bool, keep bool, dt DType) []Meta {
	return []Meta{{DType: dt, Shape: reducedShape(x.Shape, red, keep)}}
}

// sumF32 and maxF32 are the float32 loops of ReduceSum/ReduceMean and
// ReduceMax (float64 accumulation along a reduced last axis).
func sumF32(x *Tensor, red []bool, o *Tensor) {
	clear(o.F)
	xf, of := x.F, o.F
	newReduceWalk(x.Shape, red).each(func(p, q, n, s int) {
		if s == 0 {
			var acc float64
			for _, v := range xf[p : p+n] {
				acc += float64(v)
			}
			of[q] += float32(acc)
			return
		}
		for j, v := range xf[p : p+n] {
			of[q+j*s] += v
		}
	})
}

func maxF32(x *Tensor, red []bool, o *Tensor) {
	inf := float32(math.Inf(-1))
	for i := range o.F {
		o.F[i] = inf
	}
	xf, of := x.F, o.F
	newReduceWalk(x.Shape, red).each(func(p, q, n, s int) {
		for j, v := range xf[p : p+n] {
			if m := of[q+j*s]; v > m || v != v {
				of[q+j*s] = v // once NaN, stays NaN: nothing compares greater
			}
		}
	})
}

// ---------- the generic reducer ----------

// redKind names a reduction.
type redKind int

const (
	redSum redKind = iota
	redMean
	redMax
	redMin
	redProd
	redL1
	redL2
	redLogSum
	redLogSumExp
	redSumSquare
)

// extremes returns the lowest and highest values of T (±Inf for floats).
func extremes[T Number]() (lo, hi T) {
	var z T
	switch any(z).(type) {
	case float32:
		return T(math.Inf(-1)), T(math.Inf(1))
	case float64:
		return T(math.Inf(-1)), T(math.Inf(1))
	case int8:
		return any(int8(math.MinInt8)).(T), any(int8(math.MaxInt8)).(T)
	case int16:
		return any(int16(math.MinInt16)).(T), any(int16(math.MaxInt16)).(T)
	case int32:
		return any(int32(math.MinInt32)).(T), any(int32(math.MaxInt32)).(T)
	case int64:
		return any(int64(math.MinInt64)).(T), any(int64(math.MaxInt64)).(T)
	case uint8:
		return 0, any(uint8(math.MaxUint8)).(T)
	case uint16:
		return 0, any(uint16(math.MaxUint16)).(T)
	case uint32:
		return 0, any(uint32(math.MaxUint32)).(T)
	case uint64:
		return 0, any(uint64(math.MaxUint64)).(T)
	}
	return z, z
}

// reducer is one reduction over element type T with accumulator A: start
// at init, fold each element in with step, map the accumulator and the
// number of elements reduced to the output with fin.
type reducer[T, A Number] struct {
	init A
	step func(acc A, v T) A
	fin  func(acc A, n int) T
}

// reducerOf builds the reducer of kind k (LogSumExp is two passes, see
// reduceT).
func reducerOf[T, A Number](k redKind) reducer[T, A] {
	ident := func(a A, _ int) T { return T(a) }
	viaF64 := func(f func(float64) float64) func(A, int) T {
		return func(a A, _ int) T { return T(f(float64(a))) }
	}
	add := func(a A, v T) A { return a + A(v) }
	sq := func(a A, v T) A { w := A(v); return a + w*w }
	switch k {
	case redSum:
		return reducer[T, A]{0, add, ident}
	case redMean:
		fin := func(a A, n int) T { return T(a / A(n)) }
		if !isFloatT[T]() {
			fin = func(a A, n int) T {
				if n == 0 {
					return 0
				}
				return T(a / A(n))
			}
		}
		return reducer[T, A]{0, add, fin}
	case redMax:
		lo, _ := extremes[A]()
		return reducer[T, A]{lo, func(a A, v T) A {
			if w := A(v); w > a || w != w {
				return w
			}
			return a
		}, ident}
	case redMin:
		_, hi := extremes[A]()
		return reducer[T, A]{hi, func(a A, v T) A {
			if w := A(v); w < a || w != w {
				return w
			}
			return a
		}, ident}
	case redProd:
		return reducer[T, A]{1, func(a A, v T) A { return a * A(v) }, ident}
	case redL1:
		return reducer[T, A]{0, func(a A, v T) A {
			if w := A(v); w < 0 {
				return a - w
			}
			return a + A(v)
		}, ident}
	case redL2:
		return reducer[T, A]{0, sq, viaF64(math.Sqrt)}
	case redSumSquare:
		return reducer[T, A]{0, sq, ident}
	case redLogSum:
		return reducer[T, A]{0, add, viaF64(math.Log)}
	}
	panic("graph: unknown reduction")
}

// reduceT reduces x over red into o, both of element type T, accumulating
// in A (float64 for floats, T for integers).
func reduceT[T, A Number](x *Tensor, red []bool, o *Tensor, k redKind) {
	xs, os := Data[T](x), Data[T](o)
	n := 1
	for i, d := range x.Shape {
		if red[i] {
			n *= d
		}
	}
	w := newReduceWalk(x.Shape, red)
	if k == redLogSumExp {
		logSumExpT(xs, os, w)
		return
	}
	r := reducerOf[T, A](k)
	acc := make([]A, len(os))
	for i := range acc {
		acc[i] = r.init
	}
	step := r.step
	w.each(func(p, q, m, s int) {
		if s == 0 {
			a := acc[q]
			for _, v := range xs[p : p+m] {
				a = step(a, v)
			}
			acc[q] = a
			return
		}
		for j, v := range xs[p : p+m] {
			acc[q+j*s] = step(acc[q+j*s], v)
		}
	})
	for i, a := range acc {
		os[i] = r.fin(a, n)
	}
}

// logSumExpT is log(sum(exp(x - m))) + m with m the maximum, in float64.
func logSumExpT[T Number](xs, os []T, w reduceWalk) {
	m := make([]float64, len(os))
	for i := range m {
		m[i] = math.Inf(-1)
	}
	w.each(func(p, q, n, s int) {
		for j, v := range xs[p : p+n] {
			if f := float64(v); f > m[q+j*s] || f != f {
				m[q+j*s] = f
			}
		}
	})
	acc := make([]float64, len(os))
	w.each(func(p, q, n, s int) {
		for j, v := range xs[p : p+n] {
			k := q + j*s
			if mk := m[k]; !math.IsInf(mk, 0) {
				acc[k] += math.Exp(float64(v) - mk)
			}
		}
	})
	for i := range os {
		if math.IsInf(m[i], 0) || m[i] != m[i] {
			os[i] = T(m[i]) // all -Inf or empty: -Inf; any +Inf: +Inf; NaN: NaN
			continue
		}
		os[i] = T(math.Log(acc[i]) + m[i])
	}
}

// reduceF32 keeps the float32 loops of ReduceSum, ReduceMean and ReduceMax.
func reduceF32(x *Tensor, red []bool, o *Tensor, k redKind) {
	switch k {
	case redSum:
		sumF32(x, red, o)
	case redMean:
		sumF32(x, red, o)
		n := 1
		for i, d := range x.Shape {
			if red[i] {
				n *= d
			}
		}
		c := float32(n)
		for i := range o.F {
			o.F[i] /= c // 0/0 = NaN for an empty set
		}
	case redMax:
		maxF32(x, red, o)
	default:
		reduceT[float32, float64](x, red, o, k)
	}
}

// reduceKernels dispatches a reduction on x's dtype.
var reduceKernels = map[DType]func(x *Tensor, red []bool, o *Tensor, k redKind){
	Float32: reduceF32,
	Float64: reduceT[float64, float64],
	Int64:   reduceT[int64, int64],
	Int32:   reduceT[int32, int32],
	Uint32:  reduceT[uint32, uint32],
	Uint64:  reduceT[uint64, uint64],
	Int16:   reduceT[int16, int16],
	Uint16:  reduceT[uint16, uint16],
	Int8:    reduceT[int8, int8],
	Uint8:   reduceT[uint8, uint8],
	Float16: func(x *Tensor, red []bool, o *Tensor, k redKind) {
		o32 := NewTensor(Float32, o.Shape)
		reduceF32(halfToF32(x), red, o32, k)
		f32ToHalf(o32, o)
	},
	Bool: func(x *Tensor, red []bool, o *Tensor, k redKind) {
		xb := make([]uint8, len(x.B))
		for i, b := range x.B {
			if b {
				xb[i] = 1
			}
		}
		ob := make([]uint8, len(o.B))
		reduceT[uint8, uint8](FromSlice(x.Shape, xb), red, FromSlice(o.Shape, ob), k)
		for i, v := range ob {
			o.B[i] = v != 0
		}
	},
}

// halfToF32 widens a float16 tensor to a new float32 one.
func halfToF32(t *Tensor) *Tensor {
	h := Data[Half](t)
	f := make([]float32, len(h))
	for i, v := range h {
		f[i] = v.Float32()
	}
	return F32(t.Shape, f)
}

// f32ToHalf rounds src (float32) into dst (float16, same size).
func f32ToHalf(src, dst *Tensor) {
	h := Data[Half](dst)
	for i, v := range src.F {
		h[i] = F16(v)
	}
}

// ---------- the reduction ops ----------

var (
	reduceSumDef, reduceMeanDef, reduceMaxDef, reduceMinDef, reduceProdDef, reduceL1Def, reduceL2Def,
	reduceLogSumDef, reduceLogSumExpDef, reduceSumSquareDef, reduceBroadcastDef, reduceMaxGradDef *OpDef
)

var sumAttrSpecs = []AttrSpec{
	{Name: "keepdims", Type: AttrInt, Default: int64(1)},
	{Name: "noop_with_empty_axes", Type: AttrInt, Default: int64(0)},
}

// reduceTypes are the element types of the reductions (ONNX's
// constraint); reduceMinMaxTypes adds the 8-bit integers (12) and bool (20).
var (
	reduceTypes       = []DType{Float32, Float64, Float16, Int32, Int64, Uint32, Uint64}
	reduceMinMaxTypes = []DType{Float32, Float64, Float16, Int32, Int64, Uint32, Uint64, Int8, Uint8, Bool}
)

// reduceAxes resolves a reduction's axes in either form (see sumAxes).
func reduceAxes(rank int, axes Meta, a Attrs) (red []bool, noop bool, err error) {
	if a.Has("noop_with_empty_axes") {
		return sumAxes(rank, axes, a)
	}
	if !a.Has("axes") || len(a.Ints("axes")) == 0 {
		return allAxes(rank), false, nil
	}
	red, err = reduceMask(a.Ints("axes"), rank)
	return red, false, err
}

// reduceInfer infers a reduction's output.
func reduceInfer(in []Meta, a Attrs) ([]Meta, error) {
	x := in[0]
	axes, hasAxes := optIn(in, 1)
	if hasAxes && !a.Has("noop_with_empty_axes") {
		return nil, fmt.Errorf("an axes input needs noop_with_empty_axes set (the version-18 form); the attribute form takes the axes attribute")
	}
	if hasAxes && a.Has("axes") {
		return nil, fmt.Errorf("axes given both as an attribute and as an input")
	}
	red, noop, err := reduceAxes(len(x.Shape), axes, a)
	if err != nil {
		return nil, err
	}
	keep := a.Int("keepdims") != 0
	switch {
	case noop:
		return []Meta{{DType: x.DType, Shape: x.Shape}}, nil
	case red != nil:
		return inferReduce(x, red, keep, x.DType), nil
	case keep:
		// The axes are only known at run time: each dimension may become 1.
		s := make([]int, len(x.Shape))
		for i, d := range x.Shape {
			s[i] = -1
			if d == 1 {
				s[i] = 1
			}
		}
		return []Meta{{DType: x.DType, Shape: s}}, nil
	case axes.Shape[0] >= 0 && axes.Shape[0] <= len(x.Shape):
		s := make([]int, len(x.Shape)-axes.Shape[0])
		for i := range s {
			s[i] = -1
		}
		return []Meta{{DType: x.DType, Shape: s}}, nil
	default:
		return nil, fmt.Errorf("with keepdims=0 the number of axes must be known while building (axes shape %v)", axes.Shape)
	}
}

func reduceKernel(k redKind) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		x := in[0]
		red, noop, err := reduceAxes(len(x.Shape), tMeta(optT(in, 1)), a)
		switch {
		case err != nil:
			return err
		case noop:
			out[0].CopyFrom(x)
			return nil
		case red == nil:
			return fmt.Errorf("axes unknown at run time")
		}
		kern, ok := reduceKernels[x.DType]
		if !ok {
			return &DTypeError{Input: 0, DType: x.DType}
		}
		kern(x, red, out[0], k)
		return nil
	}
}

// attrReduceSpecs are the attributes of the attribute form (version 13).
// noop_with_empty_axes has no default: set, it marks a node whose axes come
// as the optional second input, computed at run time (the version-18
// form, which the importer keeps when the axes are not constant; the
// exporter writes such a node at opset 18, see OpDef.AxesInputSince).
var attrReduceSpecs = []AttrSpec{
	{Name: "axes", Type: AttrInts},
	{Name: "keepdims", Type: AttrInt, Default: int64(1)},
	{Name: "noop_with_empty_axes", Type: AttrInt},
}

func regReduce(typ string, compat []int, types []DType, k redKind) *OpDef {
	d := &OpDef{
		Type: typ, Since: 13, Compat: compat,
		MinInputs: 1, MaxInputs: 2,
		Attrs:  attrReduceSpecs,
		Infer:  reduceInfer,
		Kernel: reduceKernel(k),
		Types:  types,
	}
	if typ == "ReduceSum" {
		d.MaxInputs, d.Attrs, d.AxesInputSince = 2, sumAttrSpecs, 13
	} else {
		d.AxesInputSince = 18
	}
	return Register(d)
}

func init() {
	reduceSumDef = regReduce("ReduceSum", nil, reduceTypes, redSum)
	reduceMeanDef = regReduce("ReduceMean", []int{1, 11}, reduceTypes, redMean)
	reduceMaxDef = regReduce("ReduceMax", []int{1, 11, 12}, reduceMinMaxTypes, redMax)
	reduceMinDef = regReduce("ReduceMin", []int{1, 11, 12}, reduceMinMaxTypes, redMin)
	reduceProdDef = regReduce("ReduceProd", []int{1, 11}, reduceTypes, redProd)
	reduceL1Def = regReduce("ReduceL1", []int{1, 11}, reduceTypes, redL1)
	reduceL2Def = regReduce("ReduceL2", []int{1, 11}, reduceTypes, redL2)
	reduceLogSumDef = regReduce("ReduceLogSum", []int{1, 11}, reduceTypes, redLogSum)
	reduceLogSumExpDef = regReduce("ReduceLogSumExp", []int{1, 11}, reduceTypes, redLogSumExp)
	reduceSumSquareDef = regReduce("ReduceSumSquare", []int{1, 11}, reduceTypes, redSumSquare)

	reduceSumDef.Grad = func(op *Op, g []*Node) []*Node {
		x, axes := op.Inputs[0], optOpIn(op, 1)
		return []*Node{reduceBroadcast(g[0], x, axes, op.Resolved.Int("keepdims"), op.Resolved.Int("noop_with_empty_axes"), false), nil}
	}
	reduceMeanDef.Grad = func(op *Op, g []*Node) []*Node {
		x := op.Inputs[0]
		return []*Node{reduceBroadcast(g[0], x, axesConst(x, op.Resolved), op.Resolved.Int("keepdims"), 0, true)}
	}
	reduceMaxDef.Grad = func(op *Op, g []*Node) []*Node {
		x := op.Inputs[0]
		attrs := Attrs{"keepdims": op.Resolved.Int("keepdims")}
		return []*Node{Apply1(reduceMaxGradDef, attrs, g[0], x, op.Outputs[0], axesConst(x, op.Resolved))}
	}
}

// reduceNode applies ReduceSum with the axes as a 1-D int64 node (nil:
// none).
func reduceNode(d *OpDef, x, axes *Node, keepdims, noopWithEmptyAxes bool) *Node {
	a := Attrs{}
	if !keepdims {
		a["keepdims"] = int64(0)
	}
	if noopWithEmptyAxes {
		a["noop_with_empty_axes"] = int64(1)
	}
	if axes == nil {
		return Apply1(d, a, x)
	}
	return Apply1(d, a, x, axes)
}

// reduceList applies a reduction over constant axes (all axes when empty).
func reduceList(d *OpDef, x *Node, axes []int64, keepdims bool) *Node {
	if d == reduceSumDef {
		var an *Node
		if len(axes) > 0 {
			an = x.g.Const(I64([]int{len(axes)}, append([]int64{}, axes...)))
		}
		return reduceNode(d, x, an, keepdims, false)
	}
	a := Attrs{}
	if len(axes) > 0 {
		a["axes"] = append([]int64{}, axes...)
	}
	if !keepdims {
		a["keepdims"] = int64(0)
	}
	return Apply1(d, a, x)
}

// axesConst turns a reduction's axes attribute into a constant node for
// the gradient ops (nil: every axis).
func axesConst(x *Node, a Attrs) *Node {
	if !a.Has("axes") || len(a.Ints("axes")) == 0 {
		return nil
	}
	axes := a.Ints("axes")
	return x.g.Const(I64([]int{len(axes)}, append([]int64{}, axes...)))
}

// ReduceSum sums x over axes (all axes when axes is empty), keeping them
// with size 1 when keepdims is set.
func ReduceSum(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceSumDef, x, axes, keepdims)
}

// ReduceSumNode is ReduceSum-13 with the axes given as a 1-D int64 node
// (nil: none). Empty axes reduce every axis, or nothing with
// noopWithEmptyAxes.
func ReduceSumNode(x, axes *Node, keepdims, noopWithEmptyAxes bool) *Node {
	return reduceNode(reduceSumDef, x, axes, keepdims, noopWithEmptyAxes)
}

// ReduceMean averages x over axes (all axes when empty).
func ReduceMean(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceMeanDef, x, axes, keepdims)
}

// ReduceMax takes the maximum of x over axes (all axes when empty). NaN
// propagates. The gradient is split evenly among the elements equal to
// the maximum.
func ReduceMax(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceMaxDef, x, axes, keepdims)
}

// ReduceMin takes the minimum of x over axes (all axes when empty). NaN
// propagates.
func ReduceMin(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceMinDef, x, axes, keepdims)
}

// ReduceProd multiplies x over axes (all axes when empty).
func ReduceProd(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceProdDef, x, axes, keepdims)
}

// ReduceL1 sums |x| over axes (all axes when empty).
func ReduceL1(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceL1Def, x, axes, keepdims)
}

// ReduceL2 is the Euclidean norm of x over axes (all axes when empty).
func ReduceL2(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceL2Def, x, axes, keepdims)
}

// ReduceLogSum is log(sum(x)) over axes (all axes when empty).
func ReduceLogSum(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceLogSumDef, x, axes, keepdims)
}

// ReduceLogSumExp is log(sum(exp(x))) over axes (all axes when empty),
// computed without overflow where the result is finite.
func ReduceLogSumExp(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceLogSumExpDef, x, axes, keepdims)
}

// ReduceSumSquare sums x² over axes (all axes when empty).
func ReduceSumSquare(x *Node, axes []int64, keepdims bool) *Node {
	return reduceList(reduceSumSquareDef, x, axes, keepdims)
}

// ---------- ArgMax and ArgMin ----------

var argMaxDef, argMinDef *OpDef

func argInfer(op string) func([]Meta, Attrs) ([]Meta, error) {
	return func(in []Meta, a Attrs) ([]Meta, error) {
		x := in[0]
		ax, err := redAxis(a.Int("axis"), len(x.Shape))
		if err != nil {
			return nil, err
		}
		red := make([]bool, len(x.Shape))
		red[ax] = true
		out := inferReduce(x, red, a.Int("keepdims") != 0, Int64)
		if x.Shape[ax] == 0 && out[0].Static() && Size(out[0].Shape) > 0 {
			return nil, fmt.Errorf("cannot take %s over axis %d of size 0", op, ax)
		}
		return out, nil
	}
}

// argT is ArgMax (or ArgMin with min) over the middle axis of x seen as
// [outer, n, inner]. NaN as ONNX Runtime's CPU kernel: without last, the
// first NaN wins (NaN counts as the extreme, as in numpy); with last, the
// scan moves on v >= best (v <= best), which NaN never satisfies, so NaN
// wins only in first position.
func argT[T Number](x []T, out []int64, outer, n, inner int, last, min bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			p := o*n*inner + i
			best, bi := x[p], 0
			for j := 1; j < n && (last || best == best); j++ {
				v := x[p+j*inner]
				switch {
				case last && !min:
					if v >= best {
						best, bi = v, j
					}
				case last:
					if v <= best {
						best, bi = v, j
					}
				case v != v, !min && v > best, min && v < best:
					best, bi = v, j
				}
			}
			out[o*inner+i] = int64(bi)
		}
	}
}

type argFn func(x *Tensor, out []int64, outer, n, inner int, last, min bool)

func argOf[T Number]() argFn {
	return func(x *Tensor, out []int64, outer, n, inner int, last, min bool) {
		argT(Data[T](x), out, outer, n, inner, last, min)
	}
}

var argKernels = map[DType]argFn{
	Float32: argOf[float32](), Float64: argOf[float64](), Int64: argOf[int64](), Int32: argOf[int32](),
	Int16: argOf[int16](), Int8: argOf[int8](), Uint8: argOf[uint8](), Uint16: argOf[uint16](),
	Uint32: argOf[uint32](), Uint64: argOf[uint64](),
	Float16: func(x *Tensor, out []int64, outer, n, inner int, last, min bool) {
		argT(halfToF32(x).F, out, outer, n, inner, last, min)
	},
}

func argKernel(min bool) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		x := in[0]
		ax, err := redAxis(a.Int("axis"), len(x.Shape))
		if err != nil {
			return err
		}
		outer, n, inner := 1, x.Shape[ax], 1
		for i, d := range x.Shape {
			if i < ax {
				outer *= d
			} else if i > ax {
				inner *= d
			}
		}
		if n == 0 {
			return nil // Infer allowed it: the output is empty
		}
		k, ok := argKernels[x.DType]
		if !ok {
			return &DTypeError{Input: 0, DType: x.DType}
		}
		k(x, out[0].I, outer, n, inner, a.Int("select_last_index") != 0, min)
		return nil
	}
}

func init() {
	argAttrs := []AttrSpec{
		{Name: "axis", Type: AttrInt, Default: int64(0)},
		{Name: "keepdims", Type: AttrInt, Default: int64(1)},
		{Name: "select_last_index", Type: AttrInt, Default: int64(0)},
	}
	argTypes := []DType{Float32, Float64, Float16, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64}
	argMaxDef = Register(&OpDef{
		Type: "ArgMax", Since: 13, Compat: []int{1, 11, 12},
		MinInputs: 1, MaxInputs: 1, Attrs: argAttrs,
		Infer: argInfer("ArgMax"), Kernel: argKernel(false), Types: argTypes,
	})
	argMinDef = Register(&OpDef{
		Type: "ArgMin", Since: 13, Compat: []int{12},
		MinInputs: 1, MaxInputs: 1, Attrs: argAttrs,
		Infer: argInfer("ArgMin"), Kernel: argKernel(true), Types: argTypes,
	})
}

func argAttrsOf(axis int64, keepdims, selectLastIndex bool) Attrs {
	a := Attrs{}
	if axis != 0 {
		a["axis"] = axis
	}
	if !keepdims {
		a["keepdims"] = int64(0)
	}
	if selectLastIndex {
		a["select_last_index"] = int64(1)
	}
	return a
}

// ArgMax gives the int64 index of the largest element along axis (keepdims
// keeps the axis with size 1). Ties go to the first index, or the last with
// selectLastIndex. NaN as in ONNX Runtime: the first NaN wins, except
// with selectLastIndex, where NaN wins only in first position.
func ArgMax(x *Node, axis int64, keepdims, selectLastIndex bool) *Node {
	return Apply1(argMaxDef, argAttrsOf(axis, keepdims, selectLastIndex), x)
}

// ArgMin is ArgMax for the smallest element.
func ArgMin(x *Node, axis int64, keepdims, selectLastIndex bool) *Node {
	return Apply1(argMinDef, argAttrsOf(axis, keepdims, selectLastIndex), x)
}

// ---------- gradient ops ----------

// reduceBroadcast builds ReduceBroadcast(g, x, axes): g, the gradient of a
// reduction of x over axes (ReduceSum-13 conventions), spread back over
// x's shape, divided by the number of elements reduced when mean is set.
func reduceBroadcast(g, x, axes *Node, keepdims, noop int64, mean bool) *Node {
	a := Attrs{"keepdims": keepdims, "noop_with_empty_axes": noop, "mean": boolInt(mean)}
	return Apply1(reduceBroadcastDef, a, g, x, axes)
}

// reducedTarget checks that g has the shape of x reduced over red.
func reducedTarget(g, x *Tensor, red []bool, keep bool) error {
	want := reducedShape(x.Shape, red, keep)
	if !SameShape(g.Shape, want) {
		return fmt.Errorf("gradient has shape %v, want %v", g.Shape, want)
	}
	return nil
}

func init() {
	reduceBroadcastDef = Register(&OpDef{
		Type: "ReduceBroadcast", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 2, MaxInputs: 3,
		Attrs: append([]AttrSpec{{Name: "mean", Type: AttrInt, Default: int64(0)}}, sumAttrSpecs...),
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if in[0].DType != Float32 {
				return nil, fmt.Errorf("gradient must be float32, got %s", in[0].DType)
			}
			axes, _ := optIn(in, 2)
			if _, _, err := sumAxes(len(in[1].Shape), axes, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, x, o := in[0], in[1], out[0]
			red, noop, err := sumAxes(len(x.Shape), tMeta(optT(in, 2)), a)
			if err != nil {
				return err
			}
			if noop {
				red = make([]bool, len(x.Shape))
			}
			if red == nil {
				return fmt.Errorf("axes unknown at run time")
			}
			if err := reducedTarget(g, x, red, a.Int("keepdims") != 0 || noop); err != nil {
				return err
			}
			scale := float32(1)
			if a.Int("mean") != 0 {
				count := 1
				for i, d := range x.Shape {
					if red[i] {
						count *= d
					}
				}
				scale = 1 / float32(count)
			}
			gf, of := g.F, o.F
			newReduceWalk(x.Shape, red).each(func(p, q, n, s int) {
				if s == 0 {
					v := gf[q] * scale
					for j := range of[p : p+n] {
						of[p+j] = v
					}
					return
				}
				for j := range of[p : p+n] {
					of[p+j] = gf[q+j*s] * scale
				}
			})
			return nil
		},
	})
	reduceBroadcastDef.Grad = func(op *Op, g []*Node) []*Node {
		// The adjoint of spreading is summing (or averaging) back.
		a := op.Resolved
		axes := optOpIn(op, 2)
		var back *Node
		if a.Int("mean") != 0 {
			var list []int64
			if axes != nil {
				if axes.Value() == nil {
					panic(&BuildError{fmt.Errorf("second-order gradient of ReduceMean needs constant axes")})
				}
				list = axes.Value().I
			}
			back = ReduceMean(g[0], list, a.Int("keepdims") != 0)
		} else {
			back = ReduceSumNode(g[0], axes, a.Int("keepdims") != 0, a.Int("noop_with_empty_axes") != 0)
		}
		return []*Node{back, nil, nil}
	}

	// ReduceMaxGrad(g, x, y, axes?) spreads g over x where x equals its
	// maximum y, split evenly among ties.
	reduceMaxGradDef = Register(&OpDef{
		Type: "ReduceMaxGrad", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 3, MaxInputs: 4,
		Attrs: sumAttrSpecs,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			for i := 0; i < 3; i++ {
				if in[i].DType != Float32 {
					return nil, fmt.Errorf("type %s not supported (float32 only)", in[i].DType)
				}
			}
			axes, _ := optIn(in, 3)
			if _, _, err := sumAxes(len(in[1].Shape), axes, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, x, y, o := in[0], in[1], in[2], out[0]
			red, noop, err := sumAxes(len(x.Shape), tMeta(optT(in, 3)), a)
			switch {
			case err != nil:
				return err
			case noop:
				red = make([]bool, len(x.Shape))
			case red == nil:
				return fmt.Errorf("axes unknown at run time")
			}
			keep := a.Int("keepdims") != 0 || noop
			if err := reducedTarget(g, x, red, keep); err != nil {
				return err
			}
			if err := reducedTarget(y, x, red, keep); err != nil {
				return err
			}
			w := newReduceWalk(x.Shape, red)
			cnt := make([]float32, len(y.F))
			xf, yf, gf, of := x.F, y.F, g.F, o.F
			w.each(func(p, q, n, s int) {
				for j, v := range xf[p : p+n] {
					if v == yf[q+j*s] {
						cnt[q+j*s]++
					}
				}
			})
			w.each(func(p, q, n, s int) {
				for j, v := range xf[p : p+n] {
					if k := q + j*s; v == yf[k] {
						of[p+j] = gf[k] / cnt[k]
					} else {
						of[p+j] = 0
					}
				}
			})
			return nil
		},
	})
	reduceMaxGradDef.Grad = func(op *Op, g []*Node) []*Node {
		// Linear in the incoming gradient: its adjoint sums h times the
		// (normalized) mask back to y's shape.
		x, y, axes := op.Inputs[1], op.Inputs[2], optOpIn(op, 3)
		r := op.Resolved
		mask := Apply1(reduceMaxGradDef, op.Attrs, ExpandLike(ScalarLike(y, 1), y), x, y, axes)
		return []*Node{ReduceSumNode(Mul(g[0], mask), axes, r.Int("keepdims") != 0, r.Int("noop_with_empty_axes") != 0), nil, nil, nil}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
