package graph

import (
	"errors"
	"fmt"
	"math"
)

// This file holds the ops that change a tensor's shape without computing
// on its values (Reshape, Flatten, Unsqueeze, Squeeze, Transpose, Expand)
// and the ops that make shapes and shaped tensors (Shape, ConstantOfShape,
// Range). The indexing ops (Concat, Slice, Gather, GatherElements) are in
// ops_index.go; both files share the helpers defined here.
//
// Shape-carrying inputs (Reshape's shape, Unsqueeze's axes, ...) are int64
// tensors. While building, their values are known when they fold from
// constants; otherwise inference keeps what it can (the rank, from the
// input's static length) and marks the rest -1.

// ---------- shared helpers ----------

// checkData rejects an absent input (Apply has checked the dtype against
// the op's Types).
func checkData(m Meta, what string) error {
	if m.DType == Invalid {
		return fmt.Errorf("%s is missing", what)
	}
	return nil
}

// normAxis maps an axis in [-rank, rank-1] to [0, rank-1].
func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// intList describes a shape-carrying int64 input: its values when known,
// and its length (-1 when not even that is known).
type intList struct {
	vals  []int64
	n     int
	known bool
}

// intsInput reads input m named what, which must be an int64 (or int32)
// 1-D tensor (or a scalar when scalarOK, read as one value).
func intsInput(m Meta, what string, scalarOK bool) (intList, error) {
	if !isIndexType(m.DType) {
		return intList{}, fmt.Errorf("%s must be int64, got %s", what, m.DType)
	}
	var l intList
	switch {
	case len(m.Shape) == 1:
		l.n = m.Shape[0]
	case len(m.Shape) == 0 && scalarOK:
		l.n = 1
	default:
		return intList{}, fmt.Errorf("%s must be a 1-D tensor, got shape %v", what, m.Shape)
	}
	if m.Value != nil {
		l.vals = indexVals(m.Value)
		l.n, l.known = len(l.vals), true
	}
	return l, nil
}

// optIntsInput is intsInput for an optional input; present is false when absent.
func optIntsInput(m Meta, what string) (l intList, present bool, err error) {
	if m.DType == Invalid {
		return intList{}, false, nil
	}
	l, err = intsInput(m, what, false)
	return l, true, err
}

func unknownDims(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = -1
	}
	return s
}

func stridesOf(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}

// prodDims multiplies dims; it returns -1 when one of them is unknown
// (unless another is 0, which makes the product 0 whatever the rest).
func prodDims(dims []int) int {
	p, unknown := 1, false
	for _, d := range dims {
		switch {
		case d == 0:
			return 0
		case d < 0:
			unknown = true
		default:
			p *= d
		}
	}
	if unknown {
		return -1
	}
	return p
}

// stridedCopy fills dst, a contiguous tensor of the given shape, with
// src[base + sum_d i_d*st[d]]: the loop behind Transpose, Slice and Expand
// (strides may be 0 for broadcasting or negative for reversed slices).
func stridedCopy[T any](dst, src []T, shape []int, base int, st []int) {
	n := len(dst)
	if n == 0 {
		return
	}
	rank := len(shape)
	if rank == 0 {
		dst[0] = src[base]
		return
	}
	inner, is := shape[rank-1], st[rank-1]
	idx := make([]int, rank)
	p := base
	for o := 0; o < n; o += inner {
		if is == 1 {
			copy(dst[o:o+inner], src[p:p+inner])
		} else {
			q := p
			for j := 0; j < inner; j++ {
				dst[o+j] = src[q]
				q += is
			}
		}
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			p += st[d]
			if idx[d] < shape[d] {
				break
			}
			p -= st[d] * shape[d]
			idx[d] = 0
		}
	}
}

// stridedStore is the reverse of stridedCopy: dst[base + sum_d i_d*st[d]] = src[i].
func stridedStore[T any](dst, src []T, shape []int, base int, st []int) {
	n := len(src)
	if n == 0 {
		return
	}
	rank := len(shape)
	if rank == 0 {
		dst[base] = src[0]
		return
	}
	inner, is := shape[rank-1], st[rank-1]
	idx := make([]int, rank)
	p := base
	for o := 0; o < n; o += inner {
		q := p
		for j := 0; j < inner; j++ {
			dst[q] = src[o+j]
			q += is
		}
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			p += st[d]
			if idx[d] < shape[d] {
				break
			}
			p -= st[d] * shape[d]
			idx[d] = 0
		}
	}
}

// stridedCopyT runs stridedCopy for src's element width.
func stridedCopyT(dst, src *Tensor, base int, st []int) {
	switch {
	case src.DType == String:
		stridedCopy(dst.S, src.S, dst.Shape, base, st)
	case src.DType.ElemSize() == 1:
		stridedCopy(raw[uint8](dst), raw[uint8](src), dst.Shape, base, st)
	case src.DType.ElemSize() == 2:
		stridedCopy(raw[uint16](dst), raw[uint16](src), dst.Shape, base, st)
	case src.DType.ElemSize() == 4:
		stridedCopy(raw[uint32](dst), raw[uint32](src), dst.Shape, base, st)
	case src.DType.ElemSize() == 8:
		stridedCopy(raw[uint64](dst), raw[uint64](src), dst.Shape, base, st)
	}
}

// reshapeBack reshapes g (a gradient) to x's run-time shape: the gradient
// of every op that only changes the shape.
func reshapeBack(g, x *Node) *Node {
	if g.meta.Static() && x.meta.Static() && SameShape(g.Shape(), x.Shape()) {
		return g
	}
	// allowzero: x's shape may hold 0, which must not mean "copy".
	return Apply1(reshapeDef, Attrs{"allowzero": int64(1)}, g, ShapeOf(x))
}

func i64Const(g *Graph, vals ...int64) *Node {
	if vals == nil {
		vals = []int64{}
	}
	return g.Const(I64([]int{len(vals)}, vals))
}

// ---------- Reshape ----------

var reshapeDef *OpDef

func init() {
	reshapeDef = Register(&OpDef{
		Type: "Reshape", Since: 14,
		// 5 and 13 have no allowzero attribute: its default 0 is their
		// behaviour. 19 and later only add element types.
		Compat:    []int{5, 13, 19, 21, 23, 24, 25},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "allowzero", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			allowZero := false
			if v, ok := a["allowzero"].(int64); ok {
				allowZero = v != 0
			}
			s, err := intsInput(in[1], "shape", false)
			if err != nil {
				return nil, err
			}
			if !s.known {
				if s.n < 0 {
					return nil, errors.New("the output rank is unknown: the shape input has an unknown length")
				}
				return []Meta{{DType: x.DType, Shape: unknownDims(s.n)}}, nil
			}
			out, err := reshapeDims(x.Shape, s.vals, allowZero)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: copyKernel,
		Grad: func(op *Op, g []*Node) []*Node {
			return []*Node{reshapeBack(g[0], op.Inputs[0]), nil}
		},
	})
}

// reshapeDims computes Reshape's output shape from the input shape (which
// may hold -1) and the requested shape spec. Sizes are checked when known.
func reshapeDims(in []int, spec []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(spec))
	copied := make([]bool, len(spec))
	neg, zero := -1, false
	for i, v := range spec {
		switch {
		case v == -1:
			if neg >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", spec)
			}
			neg = i
			out[i] = -1
		case v < -1:
			return nil, fmt.Errorf("shape %v has invalid dimension %d", spec, v)
		case v == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d (a 0) but the input has rank %d", spec, i, len(in))
			}
			out[i] = in[i]
			copied[i] = true
		default:
			if v == 0 {
				zero = true
			}
			out[i] = int(v)
		}
	}
	if zero && neg >= 0 {
		return nil, fmt.Errorf("shape %v has both 0 and -1 with allowzero set", spec)
	}
	if (Meta{Shape: in}).Static() {
		total, other := Size(in), 1
		for i, d := range out {
			if i != neg {
				other *= d
			}
		}
		if neg >= 0 {
			if other == 0 || total%other != 0 {
				return nil, fmt.Errorf("cannot reshape %d elements to %v", total, spec)
			}
			out[neg] = total / other
		} else if total != other {
			return nil, fmt.Errorf("cannot reshape %d elements to %v", total, spec)
		}
		return out, nil
	}
	// Some input dims are unknown. Dims copied with 0 cancel out on both
	// sides; if every other input dim is known, the -1 still follows.
	if neg < 0 {
		return out, nil
	}
	inKnown, outKnown := 1, 1
	for i, d := range in {
		if i < len(copied) && copied[i] {
			if d == 0 {
				return out, nil // 0 elements: the -1 is not determined
			}
			continue
		}
		if d < 0 {
			return out, nil // out[neg] stays -1
		}
		inKnown *= d
	}
	for i, d := range out {
		if i != neg && !copied[i] {
			outKnown *= d
		}
	}
	if outKnown == 0 || inKnown%outKnown != 0 {
		return nil, fmt.Errorf("cannot reshape a tensor of shape %v to %v", in, spec)
	}
	out[neg] = inKnown / outKnown
	return out, nil
}

// Reshape is ONNX Reshape: x with the shape held by the int64 1-D tensor
// shape, where 0 copies the input's dimension and one -1 is inferred.
func Reshape(x, shape *Node) *Node { return Apply1(reshapeDef, nil, x, shape) }

// ReshapeAllowZero is Reshape with allowzero=1: a 0 in shape is a
// dimension of size 0, not a copy.
func ReshapeAllowZero(x, shape *Node) *Node {
	return Apply1(reshapeDef, Attrs{"allowzero": int64(1)}, x, shape)
}

// ReshapeTo reshapes x to constant dims (0 copies, one -1 is inferred).
func ReshapeTo(x *Node, dims ...int64) *Node { return Reshape(x, i64Const(x.g, dims...)) }

// ---------- Flatten ----------

var flattenDef *OpDef

func init() {
	flattenDef = Register(&OpDef{
		Type: "Flatten", Since: 13,
		// 1 and 9 accept axis in [0, r] only (a subset), 11 adds negative
		// axes; 21 and later only add element types.
		Compat:    []int{1, 9, 11, 21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 1,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(1)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			axis, ok := a["axis"].(int64)
			if !ok {
				return nil, errors.New("attribute axis is missing")
			}
			r := len(x.Shape)
			if axis < -int64(r) || axis > int64(r) {
				return nil, fmt.Errorf("axis %d out of range for rank %d (Flatten accepts [-r, r])", axis, r)
			}
			if axis < 0 {
				axis += int64(r)
			}
			return []Meta{{DType: x.DType, Shape: []int{prodDims(x.Shape[:axis]), prodDims(x.Shape[axis:])}}}, nil
		},
		Kernel: copyKernel,
		Grad:   func(op *Op, g []*Node) []*Node { return []*Node{reshapeBack(g[0], op.Inputs[0])} },
	})
}

// Flatten reshapes x to 2-D: the dimensions before axis make the rows, the
// rest the columns. axis is in [-r, r].
func Flatten(x *Node, axis int64) *Node {
	return Apply1(flattenDef, Attrs{"axis": axis}, x)
}

// ---------- Unsqueeze ----------

var unsqueezeDef *OpDef

func init() {
	unsqueezeDef = Register(&OpDef{
		Type: "Unsqueeze", Since: 13, AxesInputSince: 13,
		// 1 and 11 take axes as an attribute; 21 and later only add types.
		Compat:    []int{21, 23, 24, 25},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			axes, err := intsInput(in[1], "axes", true)
			if err != nil {
				return nil, err
			}
			if axes.n < 0 {
				return nil, errors.New("the output rank is unknown: the axes input has an unknown length")
			}
			r := len(x.Shape) + axes.n
			if !axes.known {
				return []Meta{{DType: x.DType, Shape: unknownDims(r)}}, nil
			}
			out, err := unsqueezeDims(x.Shape, axes.vals)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: copyKernel,
		Grad:   func(op *Op, g []*Node) []*Node { return []*Node{reshapeBack(g[0], op.Inputs[0]), nil} },
	})
}

func unsqueezeDims(in []int, axes []int64) ([]int, error) {
	r := len(in) + len(axes)
	ones := make([]bool, r)
	for _, ax := range axes {
		a, err := normAxis(ax, r)
		if err != nil {
			return nil, fmt.Errorf("unsqueeze %w (the output rank)", err)
		}
		if ones[a] {
			return nil, fmt.Errorf("axis %d given twice in %v", ax, axes)
		}
		ones[a] = true
	}
	out := make([]int, r)
	j := 0
	for i := range out {
		if ones[i] {
			out[i] = 1
		} else {
			out[i] = in[j]
			j++
		}
	}
	return out, nil
}

// Unsqueeze inserts dimensions of size 1 at axes, which index the output
// (negative axes count from its end).
func Unsqueeze(x *Node, axes ...int64) *Node { return UnsqueezeAxes(x, i64Const(x.g, axes...)) }

// UnsqueezeAxes is Unsqueeze with the axes as an int64 1-D tensor node.
func UnsqueezeAxes(x, axes *Node) *Node { return Apply1(unsqueezeDef, nil, x, axes) }

// ---------- Squeeze ----------

var squeezeDef *OpDef

func init() {
	squeezeDef = Register(&OpDef{
		Type: "Squeeze", Since: 13, AxesInputSince: 13,
		// 1 and 11 take axes as an attribute; 21 and later only add types.
		Compat:    []int{21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			var axes intList
			if len(in) > 1 && in[1].DType != Invalid {
				var err error
				if axes, err = intsInput(in[1], "axes", true); err != nil {
					return nil, err
				}
				if axes.n < 0 {
					return nil, errors.New("the output rank is unknown: the axes input has an unknown length")
				}
			} else {
				axes.known = true // absent: squeeze every dimension of size 1
			}
			if axes.n == 0 {
				// No axes (absent or empty, as ONNX Runtime reads it):
				// drop every 1, which needs every dimension known.
				if !x.Static() {
					return nil, fmt.Errorf("the output rank is unknown: squeezing all dimensions of size 1 of shape %v, which has unknown dimensions (give the axes)", x.Shape)
				}
				out := []int{}
				for _, d := range x.Shape {
					if d != 1 {
						out = append(out, d)
					}
				}
				return []Meta{{DType: x.DType, Shape: out}}, nil
			}
			r := len(x.Shape)
			if axes.n > r {
				return nil, fmt.Errorf("%d axes to squeeze for rank %d", axes.n, r)
			}
			if !axes.known {
				return []Meta{{DType: x.DType, Shape: unknownDims(r - axes.n)}}, nil
			}
			drop := make([]bool, r)
			for _, ax := range axes.vals {
				a, err := normAxis(ax, r)
				if err != nil {
					return nil, err
				}
				if drop[a] {
					return nil, fmt.Errorf("axis %d given twice in %v", ax, axes.vals)
				}
				if d := x.Shape[a]; d >= 0 && d != 1 {
					return nil, fmt.Errorf("cannot squeeze axis %d of size %d", ax, d)
				}
				drop[a] = true
			}
			out := []int{}
			for i, d := range x.Shape {
				if !drop[i] {
					out = append(out, d)
				}
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: copyKernel,
		Grad:   func(op *Op, g []*Node) []*Node { return []*Node{reshapeBack(g[0], op.Inputs[0]), nil} },
	})
}

// Squeeze removes dimensions of size 1: those at axes (an error if one is
// not 1), or every one of them when no axes are given.
func Squeeze(x *Node, axes ...int64) *Node {
	if len(axes) == 0 {
		return SqueezeAxes(x, nil)
	}
	return SqueezeAxes(x, i64Const(x.g, axes...))
}

// SqueezeAxes is Squeeze with the axes as an int64 1-D tensor node; nil
// (the absent optional input) squeezes every dimension of size 1, and so
// does an empty axes tensor, as in ONNX Runtime.
func SqueezeAxes(x, axes *Node) *Node {
	if axes == nil {
		return Apply1(squeezeDef, nil, x)
	}
	return Apply1(squeezeDef, nil, x, axes)
}

// ---------- Transpose ----------

var transposeDef *OpDef

func init() {
	transposeDef = Register(&OpDef{
		Type: "Transpose", Since: 13,
		Compat:    []int{1, 21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 1,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "perm", Type: AttrInts}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			perm, err := transposePerm(a, len(x.Shape))
			if err != nil {
				return nil, err
			}
			out := make([]int, len(perm))
			for i, p := range perm {
				out[i] = x.Shape[p]
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			perm, err := transposePerm(a, len(x.Shape))
			if err != nil {
				return err
			}
			xs := stridesOf(x.Shape)
			st := make([]int, len(perm))
			for i, p := range perm {
				st[i] = xs[p]
			}
			stridedCopyT(out[0], x, 0, st)
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			perm, ok := op.Resolved["perm"].([]int64)
			if !ok {
				return []*Node{Transpose(g[0])} // reversing is its own inverse
			}
			inv := make([]int64, len(perm))
			for i, p := range perm {
				inv[p] = int64(i)
			}
			return []*Node{Transpose(g[0], inv...)}
		},
	})
}

// transposePerm returns the permutation (reversed dims when perm is absent).
func transposePerm(a Attrs, rank int) ([]int, error) {
	perm := make([]int, rank)
	p, ok := a["perm"].([]int64)
	if !ok {
		for i := range perm {
			perm[i] = rank - 1 - i
		}
		return perm, nil
	}
	if len(p) != rank {
		return nil, fmt.Errorf("perm %v has %d entries for rank %d", p, len(p), rank)
	}
	seen := make([]bool, rank)
	for i, v := range p {
		if v < 0 || v >= int64(rank) || seen[v] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", p, rank-1)
		}
		seen[v] = true
		perm[i] = int(v)
	}
	return perm, nil
}

// Transpose permutes the dimensions of x: output dimension i is input
// dimension perm[i]. Without perm the dimensions are reversed.
func Transpose(x *Node, perm ...int64) *Node {
	if perm == nil {
		return Apply1(transposeDef, nil, x)
	}
	return Apply1(transposeDef, Attrs{"perm": append([]int64{}, perm...)}, x)
}

// ---------- Shape ----------

var shapeDef *OpDef

func init() {
	shapeDef = Register(&OpDef{
		Type: "Shape", Since: 15,
		// 1 and 13 have no start/end: their defaults are the whole shape.
		// 19 and later only add element types.
		Compat:    []int{1, 13, 19, 21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 1,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "start", Type: AttrInt, Default: int64(0)},
			{Name: "end", Type: AttrInt},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			s, e := shapeRange(a, len(x.Shape))
			dims := x.Shape[s:e]
			m := Meta{DType: Int64, Shape: []int{e - s}}
			if (Meta{Shape: dims}).Static() {
				// Known while building: this is what shape chains fold from.
				v := make([]int64, len(dims))
				for i, d := range dims {
					v[i] = int64(d)
				}
				m.Value = I64([]int{len(v)}, v)
			}
			return []Meta{m}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			s, e := shapeRange(a, len(in[0].Shape))
			for i, d := range in[0].Shape[s:e] {
				out[0].I[i] = int64(d)
			}
			return nil
		},
		// Not differentiable: the output is int64.
	})
}

// shapeRange resolves Shape's start and end against the rank: negative
// values count from the end, then both are clamped to [0, rank].
func shapeRange(a Attrs, rank int) (int, int) {
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(rank)
		}
		return int(min(max(v, 0), int64(rank)))
	}
	s, e := 0, rank
	if v, ok := a["start"].(int64); ok {
		s = clamp(v)
	}
	if v, ok := a["end"].(int64); ok {
		e = clamp(v)
	}
	if e < s {
		e = s
	}
	return s, e
}

// ShapeOf is ONNX Shape: the int64 1-D tensor of x's dimensions. It is a
// constant while building when x's shape is static.
func ShapeOf(x *Node) *Node { return Apply1(shapeDef, nil, x) }

// ShapeOfRange is ONNX Shape with start and end: dimensions start to end
// (exclusive) of x; negative values count from the end and both are clamped
// to [0, rank]. It is constant while building when those dimensions are.
func ShapeOfRange(x *Node, start, end int64) *Node {
	return Apply1(shapeDef, Attrs{"start": start, "end": end}, x)
}

// ---------- ConstantOfShape ----------

var constantOfShapeDef *OpDef

func init() {
	constantOfShapeDef = Register(&OpDef{
		Type: "ConstantOfShape", Since: 9,
		// 20 and later only add element types.
		Compat:    []int{20, 21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 1,
		Types: []DType{Int64},
		Attrs: []AttrSpec{{Name: "value", Type: AttrTensor, Default: F32([]int{1}, []float32{0})}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			v, err := constantOfShapeValue(a)
			if err != nil {
				return nil, err
			}
			s, err := intsInput(in[0], "input", false)
			if err != nil {
				return nil, err
			}
			if !s.known {
				if s.n < 0 {
					return nil, errors.New("the output rank is unknown: the shape input has an unknown length")
				}
				return []Meta{{DType: v.DType, Shape: unknownDims(s.n)}}, nil
			}
			out, err := shapeFromInts(s.vals, "shape")
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: v.DType, Shape: out}}, nil
		},
		Kernel: func(_ []*Tensor, a Attrs, out []*Tensor) error {
			v, err := constantOfShapeValue(a)
			if err != nil {
				return err
			}
			fill(out[0], v)
			return nil
		},
	})
}

// fill sets every element of t to the one element of v (same dtype).
func fill(t, v *Tensor) {
	switch {
	case v.DType == String:
		fillT(t.S, v.S[0])
	case v.DType.ElemSize() == 1:
		fillT(raw[uint8](t), raw[uint8](v)[0])
	case v.DType.ElemSize() == 2:
		fillT(raw[uint16](t), raw[uint16](v)[0])
	case v.DType.ElemSize() == 4:
		fillT(raw[uint32](t), raw[uint32](v)[0])
	case v.DType.ElemSize() == 8:
		fillT(raw[uint64](t), raw[uint64](v)[0])
	}
}

func fillT[T any](dst []T, v T) {
	for i := range dst {
		dst[i] = v
	}
}

// shapeFromInts converts a shape input's values to dims, refusing
// negative dimensions and element counts that overflow.
func shapeFromInts(vals []int64, what string) ([]int, error) {
	out := make([]int, len(vals))
	for i, d := range vals {
		v, err := dimOf(d, fmt.Sprintf("%s %v", what, vals))
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	if err := checkShape(out); err != nil {
		return nil, err
	}
	return out, nil
}

func constantOfShapeValue(a Attrs) (*Tensor, error) {
	v, ok := a["value"].(*Tensor)
	if !ok || v == nil {
		return F32([]int{1}, []float32{0}), nil
	}
	if v.Len() != 1 {
		return nil, fmt.Errorf("value must hold one element, got shape %v", v.Shape)
	}
	if v.DType == String || v.DType == Invalid {
		return nil, fmt.Errorf("value: type %s not supported", v.DType)
	}
	return v, nil
}

// ConstantOfShape is a tensor of the shape held by the int64 1-D tensor
// shape, filled with the one element of value (its dtype is the output's;
// nil means float32 0). An empty shape gives a scalar.
func ConstantOfShape(shape *Node, value *Tensor) *Node {
	if value == nil {
		return Apply1(constantOfShapeDef, nil, shape)
	}
	return Apply1(constantOfShapeDef, Attrs{"value": value}, shape)
}

// ---------- Expand ----------

var expandDef *OpDef

func init() {
	expandDef = Register(&OpDef{
		Type: "Expand", Since: 13, Compat: []int{8},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			s, err := intsInput(in[1], "shape", false)
			if err != nil {
				return nil, err
			}
			r := len(x.Shape)
			if !s.known {
				if s.n < 0 {
					return nil, errors.New("the output rank is unknown: the shape input has an unknown length")
				}
				// A dimension of x other than 1 is the output's whatever
				// the shape says there (it must be 1 or equal).
				out := unknownDims(max(r, s.n))
				off := len(out) - r
				for i, d := range x.Shape {
					if d >= 0 && d != 1 {
						out[off+i] = d
					}
				}
				return []Meta{{DType: x.DType, Shape: out}}, nil
			}
			dims := make([]int, len(s.vals))
			for i, d := range s.vals {
				v, err := dimOf(d, fmt.Sprintf("shape %v", s.vals))
				if err != nil {
					return nil, err
				}
				dims[i] = v
			}
			out, err := BroadcastShapes(x.Shape, dims)
			if err != nil {
				return nil, fmt.Errorf("cannot expand shape %v to %v", x.Shape, s.vals)
			}
			if err := checkShape(out); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			stridedCopyT(out[0], in[0], 0, broadcastStrides(in[0].Shape, out[0].Shape))
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node { return []*Node{SumTo(g[0], op.Inputs[0]), nil} },
	})
}

// Expand broadcasts x with the shape held by the int64 1-D tensor shape
// (numpy rules in both directions: the output may be larger than shape).
func Expand(x, shape *Node) *Node { return Apply1(expandDef, nil, x, shape) }

// ExpandTo is Expand to constant dims.
func ExpandTo(x *Node, dims ...int64) *Node { return Expand(x, i64Const(x.g, dims...)) }

// ---------- Range ----------

var rangeDef *OpDef

// maxRange bounds Range's length so a bad delta fails instead of
// exhausting memory.
const maxRange = 1 << 31

func init() {
	rangeDef = Register(&OpDef{
		Type: "Range", Since: 11,
		MinInputs: 3, MaxInputs: 3,
		ShapeFromValues: true,
		// float16 (added in place to the type list of Range 11 after onnx 1.12) is
		// computed in float32 and rounded, as numpy's arange does.
		Types: []DType{Float32, Float64, Float16, Int16, Int32, Int64},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			dt := in[0].DType
			known := true
			for i, name := range []string{"start", "limit", "delta"} {
				m := in[i]
				if m.DType != dt {
					return nil, fmt.Errorf("%s is %s, start is %s", name, m.DType, dt)
				}
				if len(m.Shape) > 1 || len(m.Shape) == 1 && m.Shape[0] != 1 {
					return nil, fmt.Errorf("%s must be a scalar, got shape %v", name, m.Shape)
				}
				known = known && m.Value != nil
			}
			if !known {
				return []Meta{{DType: dt, Shape: []int{-1}}}, nil
			}
			n, err := rangeLenOf(in[0].Value, in[1].Value, in[2].Value)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: dt, Shape: []int{n}}}, nil
		},
		Kernel: Dispatch{
			Float32: rangeK[float32], Float64: rangeK[float64], Float16: viaFloat32(rangeK[float32]),
			Int16: rangeK[int16], Int32: rangeK[int32], Int64: rangeK[int64],
		}.On(0),
		// Not differentiable (as in ONNX).
	})
}

// rangeK fills start, start+delta, ... computed in T as ONNX Runtime
// does (start + i*delta).
func rangeK[T Number](in []*Tensor, _ Attrs, out []*Tensor) error {
	start, delta := Data[T](in[0])[0], Data[T](in[2])[0]
	o := Data[T](out[0])
	if n, err := rangeLen(start, Data[T](in[1])[0], delta); err != nil || n != len(o) {
		return fmt.Errorf("the range has %d elements, but the output was sized for %d (a stale shape inference)", n, len(o))
	}
	for i := range o {
		o[i] = start + T(i)*delta
	}
	return nil
}

func rangeLenOf(start, limit, delta *Tensor) (int, error) {
	switch start.DType {
	case Float32:
		return rangeLen(Data[float32](start)[0], Data[float32](limit)[0], Data[float32](delta)[0])
	case Float64:
		return rangeLen(Data[float64](start)[0], Data[float64](limit)[0], Data[float64](delta)[0])
	case Float16:
		return rangeLen(Data[Half](start)[0].Float32(), Data[Half](limit)[0].Float32(), Data[Half](delta)[0].Float32())
	case Int16:
		return rangeLen(Data[int16](start)[0], Data[int16](limit)[0], Data[int16](delta)[0])
	case Int32:
		return rangeLen(Data[int32](start)[0], Data[int32](limit)[0], Data[int32](delta)[0])
	case Int64:
		return rangeLen(Data[int64](start)[0], Data[int64](limit)[0], Data[int64](delta)[0])
	}
	return 0, fmt.Errorf("type %s not supported", start.DType)
}

// rangeLen is max(ceil((limit-start)/delta), 0), computed as ONNX Runtime
// does: exactly for integers, with the subtraction in T and float64
// division for floats.
func rangeLen[T Number](s, l, d T) (int, error) {
	if d == 0 {
		return 0, errors.New("delta is 0")
	}
	var n float64
	if isFloatT[T]() {
		n = math.Ceil(float64(l-s) / float64(d))
		if math.IsNaN(n) {
			return 0, fmt.Errorf("range from %v to %v by %v has no length", s, l, d)
		}
	} else {
		// ceil((l-s)/d) without overflow for any int64 operands.
		li, si, di := int64(l), int64(s), int64(d)
		diff, step := float64(li)-float64(si), float64(di)
		n = math.Ceil(diff / step)
		if math.Abs(diff) < 1<<62 {
			q, r := (li-si)/di, (li-si)%di
			if r != 0 && (r > 0) == (di > 0) {
				q++
			}
			n = float64(q)
		}
	}
	if n <= 0 {
		return 0, nil
	}
	if n > maxRange {
		return 0, fmt.Errorf("range of %.0f elements is too large", n)
	}
	return int(n), nil
}

// Range is ONNX Range: start, start+delta, ... up to limit (exclusive).
// start, limit and delta are scalars of one dtype (float32, float64,
// float16, int16, int32 or int64).
func Range(start, limit, delta *Node) *Node { return Apply1(rangeDef, nil, start, limit, delta) }
