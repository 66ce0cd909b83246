package graph

import (
	"fmt"
	"math"
)

// This file holds the reductions: ArgMax, ReduceSum (opset 13: axes is an
// optional input), ReduceMean and ReduceMax (opset 13: axes is an
// attribute), and the internal ops their gradients use.
//
// Choices where ONNX leaves room:
//   - ArgMax treats NaN as ONNX Runtime's CPU kernel does (checked against
//     ORT): by default the first NaN wins, as in numpy.argmax; with
//     select_last_index the scan keeps the last v >= best, which NaN never
//     is, so NaN wins only when it comes first.
//   - ReduceMax propagates NaN (numpy, the ONNX reference). ONNX Runtime's
//     CPU kernel differs: its result depends on where the NaN is (NaN only
//     when it comes first). Over an empty set ReduceMax gives -Inf
//     (float32) or math.MinInt64; ReduceSum of an empty set is 0,
//     ReduceMean NaN.
//   - The gradient of ReduceMax is split evenly among the elements equal
//     to the maximum (as PyTorch's amax), so it sums to the incoming one.

// reduceMask marks the axes to reduce; repeated axes are an error.
func reduceMask(axes []int64, rank int) ([]bool, error) {
	red := make([]bool, rank)
	for _, a := range axes {
		ax, err := axisInRank(a, rank)
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

// sumAxes resolves ReduceSum-13's axes input: red marks the axes to reduce;
// noop is set for empty axes with noop_with_empty_axes; both are zero when
// the axes are not known while building.
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

// attrAxes resolves the axes attribute of ReduceMean-13 and ReduceMax-13
// (absent or empty: every axis).
func attrAxes(rank int, a Attrs) ([]bool, error) {
	if !a.Has("axes") || len(a.Ints("axes")) == 0 {
		return allAxes(rank), nil
	}
	return reduceMask(a.Ints("axes"), rank)
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

func sumInto(x *Tensor, red []bool, o *Tensor) {
	w := newReduceWalk(x.Shape, red)
	switch x.DType {
	case Float32:
		clear(o.F)
		xf, of := x.F, o.F
		w.each(func(p, q, n, s int) {
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
	case Int64:
		clear(o.I)
		xi, oi := x.I, o.I
		w.each(func(p, q, n, s int) {
			for j, v := range xi[p : p+n] {
				oi[q+j*s] += v
			}
		})
	}
}

func maxInto(x *Tensor, red []bool, o *Tensor) {
	w := newReduceWalk(x.Shape, red)
	switch x.DType {
	case Float32:
		inf := float32(math.Inf(-1))
		for i := range o.F {
			o.F[i] = inf
		}
		xf, of := x.F, o.F
		w.each(func(p, q, n, s int) {
			for j, v := range xf[p : p+n] {
				if m := of[q+j*s]; v > m || v != v {
					of[q+j*s] = v // once NaN, stays NaN: nothing compares greater
				}
			}
		})
	case Int64:
		for i := range o.I {
			o.I[i] = math.MinInt64
		}
		xi, oi := x.I, o.I
		w.each(func(p, q, n, s int) {
			for j, v := range xi[p : p+n] {
				oi[q+j*s] = max(oi[q+j*s], v)
			}
		})
	}
}

// ---------- ArgMax ----------

var argMaxDef *OpDef

func init() {
	argMaxDef = Register(&OpDef{
		Type: "ArgMax", Since: 13, Compat: []int{12},
		MinInputs: 1, MaxInputs: 1,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(0)},
			{Name: "keepdims", Type: AttrInt, Default: int64(1)},
			{Name: "select_last_index", Type: AttrInt, Default: int64(0)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if x.DType != Float32 && x.DType != Int64 {
				return nil, fmt.Errorf("type %s not supported (float32 and int64 only)", x.DType)
			}
			ax, err := axisInRank(a.Int("axis"), len(x.Shape))
			if err != nil {
				return nil, err
			}
			red := make([]bool, len(x.Shape))
			red[ax] = true
			out := inferReduce(x, red, a.Int("keepdims") != 0, Int64)
			if x.Shape[ax] == 0 && out[0].Static() && Size(out[0].Shape) > 0 {
				return nil, fmt.Errorf("cannot take ArgMax over axis %d of size 0", ax)
			}
			return out, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			ax, err := axisInRank(a.Int("axis"), len(x.Shape))
			if err != nil {
				return err
			}
			outer, n, inner := splitAxis(x.Shape, ax)
			if n == 0 {
				return nil // Infer allowed it: the output is empty
			}
			last := a.Int("select_last_index") != 0
			switch x.DType {
			case Float32:
				argMaxT(x.F, out[0].I, outer, n, inner, last)
			case Int64:
				argMaxT(x.I, out[0].I, outer, n, inner, last)
			}
			return nil
		},
	})
}

// argMaxT follows ONNX Runtime's CPU kernel on NaN: without last, the
// first NaN wins (NaN counts as the largest, as in numpy.argmax); with
// last, the scan moves on v >= best, which NaN never satisfies, so NaN wins
// only in first position.
func argMaxT[T float32 | int64](x []T, out []int64, outer, n, inner int, last bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			p := o*n*inner + i
			best, bi := x[p], 0
			for j := 1; j < n && (last || best == best); j++ {
				v := x[p+j*inner]
				switch {
				case last:
					if v >= best {
						best, bi = v, j
					}
				case v > best || v != v:
					best, bi = v, j
				}
			}
			out[o*inner+i] = int64(bi)
		}
	}
}

// ArgMax gives the int64 index of the largest element along axis (keepdims
// keeps the axis with size 1). Ties go to the first index, or the last with
// selectLastIndex. NaN as in ONNX Runtime: the first NaN wins, except
// with selectLastIndex, where NaN wins only in first position.
func ArgMax(x *Node, axis int64, keepdims, selectLastIndex bool) *Node {
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
	return Apply1(argMaxDef, a, x)
}

// ---------- ReduceSum ----------

var reduceSumDef, reduceMeanDef, reduceMaxDef, reduceBroadcastDef, reduceMaxGradDef *OpDef

var sumAttrSpecs = []AttrSpec{
	{Name: "keepdims", Type: AttrInt, Default: int64(1)},
	{Name: "noop_with_empty_axes", Type: AttrInt, Default: int64(0)},
}

func init() {
	reduceSumDef = Register(&OpDef{
		Type: "ReduceSum", Since: 13,
		MinInputs: 1, MaxInputs: 2,
		Attrs: sumAttrSpecs,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if x.DType != Float32 && x.DType != Int64 {
				return nil, fmt.Errorf("type %s not supported (float32 and int64 only)", x.DType)
			}
			axes, _ := optionalMeta(in, 1)
			red, noop, err := sumAxes(len(x.Shape), axes, a)
			if err != nil {
				return nil, err
			}
			keep := a.Int("keepdims") != 0
			switch {
			case noop:
				return sameAsInput(in, nil)
			case red != nil:
				return inferReduce(x, red, keep, x.DType), nil
			case keep:
				// The axes are only known at run time: each dimension
				// may become 1.
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
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			red, noop, err := sumAxes(len(x.Shape), metaOfTensor(optionalTensor(in, 1)), a)
			switch {
			case err != nil:
				return err
			case noop:
				out[0].CopyFrom(x)
				return nil
			case red == nil:
				return fmt.Errorf("axes unknown at run time")
			}
			sumInto(x, red, out[0])
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			x, axes := op.Inputs[0], optionalInput(op, 1)
			return []*Node{reduceBroadcast(g[0], x, axes, op.Resolved.Int("keepdims"), op.Resolved.Int("noop_with_empty_axes"), false), nil}
		},
	})
}

// ReduceSum sums x over axes (all axes when axes is empty), keeping them
// with size 1 when keepdims is set. float32 or int64.
func ReduceSum(x *Node, axes []int64, keepdims bool) *Node {
	var an *Node
	if len(axes) > 0 {
		an = x.g.Const(I64([]int{len(axes)}, append([]int64{}, axes...)))
	}
	return ReduceSumNode(x, an, keepdims, false)
}

// ReduceSumNode is ReduceSum-13 with the axes given as a 1-D int64 node
// (nil: none). Empty axes reduce every axis, or nothing with
// noopWithEmptyAxes.
func ReduceSumNode(x, axes *Node, keepdims, noopWithEmptyAxes bool) *Node {
	a := Attrs{}
	if !keepdims {
		a["keepdims"] = int64(0)
	}
	if noopWithEmptyAxes {
		a["noop_with_empty_axes"] = int64(1)
	}
	if axes == nil {
		return Apply1(reduceSumDef, a, x)
	}
	return Apply1(reduceSumDef, a, x, axes)
}

// ---------- ReduceMean and ReduceMax ----------

var attrReduceSpecs = []AttrSpec{
	{Name: "axes", Type: AttrInts},
	{Name: "keepdims", Type: AttrInt, Default: int64(1)},
}

// attrReduceInfer is the inference of ReduceMean-13 and ReduceMax-13.
func attrReduceInfer(dtypes ...DType) func([]Meta, Attrs) ([]Meta, error) {
	return func(in []Meta, a Attrs) ([]Meta, error) {
		x := in[0]
		if !dtypeIn(x.DType, dtypes) {
			return nil, fmt.Errorf("type %s not supported (%v only)", x.DType, dtypes)
		}
		red, err := attrAxes(len(x.Shape), a)
		if err != nil {
			return nil, err
		}
		return inferReduce(x, red, a.Int("keepdims") != 0, x.DType), nil
	}
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

func init() {
	reduceMeanDef = Register(&OpDef{
		Type: "ReduceMean", Since: 13, Compat: []int{1, 11},
		MinInputs: 1, MaxInputs: 1,
		Attrs: attrReduceSpecs,
		Infer: attrReduceInfer(Float32),
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, o := in[0], out[0]
			red, err := attrAxes(len(x.Shape), a)
			if err != nil {
				return err
			}
			sumInto(x, red, o)
			count := 1
			for i, d := range x.Shape {
				if red[i] {
					count *= d
				}
			}
			c := float32(count)
			for i := range o.F {
				o.F[i] /= c // 0/0 = NaN for an empty set
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			x := op.Inputs[0]
			return []*Node{reduceBroadcast(g[0], x, axesConst(x, op.Resolved), op.Resolved.Int("keepdims"), 0, true)}
		},
	})
	reduceMaxDef = Register(&OpDef{
		Type: "ReduceMax", Since: 13, Compat: []int{1, 11, 12},
		MinInputs: 1, MaxInputs: 1,
		Attrs: attrReduceSpecs,
		Infer: attrReduceInfer(Float32, Int64),
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			red, err := attrAxes(len(in[0].Shape), a)
			if err != nil {
				return err
			}
			maxInto(in[0], red, out[0])
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			x := op.Inputs[0]
			attrs := Attrs{"keepdims": op.Resolved.Int("keepdims")}
			return []*Node{Apply1(reduceMaxGradDef, attrs, g[0], x, op.Outputs[0], axesConst(x, op.Resolved))}
		},
	})
}

func attrReduceAttrs(axes []int64, keepdims bool) Attrs {
	a := Attrs{}
	if len(axes) > 0 {
		a["axes"] = append([]int64{}, axes...)
	}
	if !keepdims {
		a["keepdims"] = int64(0)
	}
	return a
}

// ReduceMean averages float32 x over axes (all axes when empty).
func ReduceMean(x *Node, axes []int64, keepdims bool) *Node {
	return Apply1(reduceMeanDef, attrReduceAttrs(axes, keepdims), x)
}

// ReduceMax takes the maximum of x over axes (all axes when empty); float32
// or int64. NaN propagates. The gradient is split evenly among the elements
// equal to the maximum.
func ReduceMax(x *Node, axes []int64, keepdims bool) *Node {
	return Apply1(reduceMaxDef, attrReduceAttrs(axes, keepdims), x)
}

// ---------- gradient ops ----------

// reduceBroadcast builds ReduceBroadcast(g, x, axes): g, the gradient of a
// reduction of x over axes (ReduceSum-13 conventions), spread back over
// x's shape, divided by the number of elements reduced when mean is set.
func reduceBroadcast(g, x, axes *Node, keepdims, noop int64, mean bool) *Node {
	a := Attrs{"keepdims": keepdims, "noop_with_empty_axes": noop, "mean": int64Bool(mean)}
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
			axes, _ := optionalMeta(in, 2)
			if _, _, err := sumAxes(len(in[1].Shape), axes, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, x, o := in[0], in[1], out[0]
			red, noop, err := sumAxes(len(x.Shape), metaOfTensor(optionalTensor(in, 2)), a)
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
		axes := optionalInput(op, 2)
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
			axes, _ := optionalMeta(in, 3)
			if _, _, err := sumAxes(len(in[1].Shape), axes, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, x, y, o := in[0], in[1], in[2], out[0]
			red, _, err := sumAxes(len(x.Shape), metaOfTensor(optionalTensor(in, 3)), a)
			if err != nil {
				return err
			}
			keep := a.Int("keepdims") != 0
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
		x, y, axes := op.Inputs[1], op.Inputs[2], optionalInput(op, 3)
		keep := op.Resolved.Int("keepdims")
		mask := Apply1(reduceMaxGradDef, op.Attrs, ExpandLike(ScalarLike(y, 1), y), x, y, axes)
		return []*Node{ReduceSumNode(Mul(g[0], mask), axes, keep != 0, false), nil, nil, nil}
	}
}
