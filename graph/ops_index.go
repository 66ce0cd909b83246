package graph

import (
	"errors"
	"fmt"
)

// This file holds the indexing ops: Concat, Slice, Gather and
// GatherElements, and the internal ops their gradients scatter with
// (SliceGrad, GatherGrad, GatherElementsGrad).

// ---------- Concat ----------

var concatDef *OpDef

func init() {
	concatDef = Register(&OpDef{
		Type: "Concat", Since: 13,
		// 4 requires axis too (1 defaulted it to 1); 11 adds negative axes.
		Compat:    []int{4, 11},
		MinInputs: 1, MaxInputs: -1,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Required: true}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			axis, ok := a["axis"].(int64)
			if !ok {
				return nil, errors.New("attribute axis is missing")
			}
			first := in[0]
			if err := checkData(first, "input 0"); err != nil {
				return nil, err
			}
			r := len(first.Shape)
			if r == 0 {
				return nil, errors.New("cannot concatenate scalars")
			}
			ax, err := normAxis(axis, r)
			if err != nil {
				return nil, err
			}
			out := append([]int{}, first.Shape...)
			sum, unknown := 0, false
			for i, m := range in {
				if m.DType != first.DType {
					if m.DType == Invalid {
						return nil, fmt.Errorf("input %d is missing", i)
					}
					return nil, fmt.Errorf("input %d is %s, input 0 is %s", i, m.DType, first.DType)
				}
				if len(m.Shape) != r {
					return nil, fmt.Errorf("input %d has rank %d, input 0 has rank %d", i, len(m.Shape), r)
				}
				for d, n := range m.Shape {
					switch {
					case d == ax && n < 0:
						unknown = true
					case d == ax:
						sum += n
					case out[d] < 0:
						out[d] = n
					case n >= 0 && n != out[d]:
						return nil, fmt.Errorf("input %d has shape %v, which does not match %v outside axis %d", i, m.Shape, out, ax)
					}
				}
			}
			out[ax] = sum
			if unknown {
				out[ax] = -1
			}
			return []Meta{{DType: first.DType, Shape: out}}, nil
		},
		Kernel: byWidth(0, concatK[uint8], concatK[uint16], concatK[uint32], concatK[uint64], concatK[string]),
		Grad: func(op *Op, g []*Node) []*Node {
			y := op.Outputs[0]
			ax, _ := normAxis(op.Resolved.Int("axis"), y.Rank())
			axes := i64Const(y.g, int64(ax))
			start := i64Const(y.g, 0)
			res := make([]*Node, len(op.Inputs))
			for i, x := range op.Inputs {
				// Offsets come from the inputs' run-time shapes; they fold
				// to constants when those are static.
				end := Add(start, ShapeOfRange(x, int64(ax), int64(ax)+1))
				res[i] = SliceNodes(g[0], start, end, axes, nil)
				start = end
			}
			return res
		},
	})
}

func concatK[T rawElem](in []*Tensor, a Attrs, out []*Tensor) error {
	o := out[0]
	ax, err := normAxis(a.Int("axis"), len(o.Shape))
	if err != nil {
		return err
	}
	outer, inner := Size(o.Shape[:ax]), Size(o.Shape[ax+1:])
	row := o.Shape[ax] * inner
	pos := 0
	dst := raw[T](o)
	for _, t := range in {
		blk := t.Shape[ax] * inner
		src := raw[T](t)
		switch {
		case blk == 1: // a column, as features joined one by one are
			for o, v := range src[:outer] {
				dst[o*row+pos] = v
			}
		case blk <= 8: // a few elements: a loop is quicker than copy's call
			for o := 0; o < outer; o++ {
				d, s := dst[o*row+pos:o*row+pos+blk], src[o*blk:(o+1)*blk]
				for i := range d {
					d[i] = s[i]
				}
			}
		default:
			for o := 0; o < outer; o++ {
				copy(dst[o*row+pos:o*row+pos+blk], src[o*blk:(o+1)*blk])
			}
		}
		pos += blk
	}
	return nil
}

// Concat joins xs (same dtype and rank, equal dimensions except at axis)
// along axis; negative axes count from the end.
func Concat(axis int64, xs ...*Node) *Node {
	return Apply1(concatDef, Attrs{"axis": axis}, xs...)
}

// ---------- Slice ----------

var sliceDef *OpDef

func init() {
	sliceDef = Register(&OpDef{
		Type: "Slice", Since: 13,
		// 10 takes the same inputs (1 took attributes); 11 adds negative
		// axes and spells out the clamping 13 keeps.
		Compat:    []int{10, 11},
		MinInputs: 3, MaxInputs: 5,
		Types: withStrings, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			p, err := sliceInputs(in[1:])
			if err != nil {
				return nil, err
			}
			out, err := sliceShape(x.Shape, p)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			x := in[0]
			base, st, lens, err := slicePlan(x.Shape, in[1:])
			if err != nil {
				return err
			}
			if !SameShape(lens, out[0].Shape) {
				return fmt.Errorf("slice of shape %v does not fit output %v", lens, out[0].Shape)
			}
			stridedCopyT(out[0], x, base, st)
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			in := op.Inputs
			args := append([]*Node{g[0], in[0]}, in[1:]...)
			return []*Node{Apply1(sliceGradDef, nil, args...), nil, nil, nil, nil}
		},
	})
}

// sliceArgs are Slice's starts, ends, axes and steps inputs as read at
// build time.
type sliceArgs struct {
	starts, ends, axes, steps intList
	axesGiven, stepsGiven     bool
	n                         int // number of sliced axes (-1: unknown)
}

func sliceInputs(in []Meta) (p sliceArgs, err error) {
	if p.starts, err = intsInput(in[0], "starts", false); err != nil {
		return p, err
	}
	if p.ends, err = intsInput(in[1], "ends", false); err != nil {
		return p, err
	}
	if len(in) > 2 {
		if p.axes, p.axesGiven, err = optIntsInput(in[2], "axes"); err != nil {
			return p, err
		}
	}
	if len(in) > 3 {
		if p.steps, p.stepsGiven, err = optIntsInput(in[3], "steps"); err != nil {
			return p, err
		}
	}
	p.n = -1
	lists := []intList{p.starts, p.ends}
	if p.axesGiven {
		lists = append(lists, p.axes)
	}
	if p.stepsGiven {
		lists = append(lists, p.steps)
	}
	for _, l := range lists {
		if l.n < 0 {
			continue
		}
		if p.n >= 0 && l.n != p.n {
			return p, errors.New("starts, ends, axes and steps must have the same length")
		}
		p.n = l.n
	}
	if p.stepsGiven && p.steps.known {
		for _, s := range p.steps.vals {
			if s == 0 {
				return p, errors.New("steps cannot be 0")
			}
		}
	}
	return p, nil
}

// sliceAxes resolves the sliced axes: the axes input (negative values
// count from the end, none may repeat) or 0..n-1 when it is absent.
func sliceAxes(axes []int64, given bool, n, rank int) ([]int, error) {
	if n > rank {
		return nil, fmt.Errorf("%d axes to slice for rank %d", n, rank)
	}
	res := make([]int, n)
	seen := make([]bool, rank)
	for i := range res {
		a := i
		if given {
			var err error
			if a, err = normAxis(axes[i], rank); err != nil {
				return nil, err
			}
			if seen[a] {
				return nil, fmt.Errorf("axis %d is sliced twice", axes[i])
			}
		}
		seen[a] = true
		res[i] = a
	}
	return res, nil
}

// sliceShape infers Slice's output shape: the rank is x's; a sliced
// dimension is known when x's dimension and the slice's values are.
func sliceShape(shape []int, p sliceArgs) ([]int, error) {
	out := append([]int{}, shape...)
	if p.n < 0 || p.axesGiven && !p.axes.known {
		return unknownDims(len(shape)), nil // which axes are sliced is unknown
	}
	axes, err := sliceAxes(p.axes.vals, p.axesGiven, p.n, len(shape))
	if err != nil {
		return nil, err
	}
	valuesKnown := p.starts.known && p.ends.known && (!p.stepsGiven || p.steps.known)
	for i, a := range axes {
		if !valuesKnown || shape[a] < 0 {
			out[a] = -1
			continue
		}
		step := int64(1)
		if p.stepsGiven {
			step = p.steps.vals[i]
		}
		_, _, out[a] = sliceAxis(shape[a], p.starts.vals[i], p.ends.vals[i], step)
	}
	return out, nil
}

// sliceAxis applies ONNX Slice-13's rules to one dimension of size d: it
// returns the first index, the step (clamped to the dimension, which does
// not change the result) and the number of elements taken.
func sliceAxis(d int, start, end, step int64) (int, int, int) {
	n := int64(d)
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	length := int64(0)
	if step > 0 {
		start, end = min(max(start, 0), n), min(max(end, 0), n)
		step = min(step, max(n, 1))
		if end > start {
			length = (end - start + step - 1) / step
		}
	} else {
		start, end = min(max(start, 0), n-1), min(max(end, -1), n-1)
		step = max(step, -max(n, 1))
		if start > end {
			length = (start - end - step - 1) / -step
		}
	}
	if length == 0 {
		start = 0
	}
	return int(start), int(step), int(length)
}

// slicePlan computes, for a concrete data shape and Slice's int64 inputs
// (starts, ends, then optional axes and steps, nil when absent), the flat
// offset of the first element, the flat stride and the length of every
// output dimension.
func slicePlan(shape []int, in []*Tensor) (base int, st, lens []int, err error) {
	metas := make([]Meta, len(in))
	for i, t := range in {
		if t != nil {
			metas[i] = Meta{DType: t.DType, Shape: t.Shape, Value: t}
		}
	}
	p, err := sliceInputs(metas)
	if err != nil {
		return 0, nil, nil, err
	}
	axes, err := sliceAxes(p.axes.vals, p.axesGiven, p.n, len(shape))
	if err != nil {
		return 0, nil, nil, err
	}
	xs := stridesOf(shape)
	st = append([]int{}, xs...)
	lens = append([]int{}, shape...)
	for i, a := range axes {
		step := int64(1)
		if p.stepsGiven {
			step = p.steps.vals[i]
		}
		s, k, l := sliceAxis(shape[a], p.starts.vals[i], p.ends.vals[i], step)
		base += s * xs[a]
		st[a] = k * xs[a]
		lens[a] = l
	}
	return base, st, lens, nil
}

// Slice takes x[starts:ends:steps] along axes with constant arguments;
// nil axes means 0..len(starts)-1 and nil steps means all 1. Negative
// values count from the end and out-of-range ones clamp, as in ONNX.
func Slice(x *Node, starts, ends, axes, steps []int64) *Node {
	var an, sn *Node
	if axes != nil {
		an = i64Const(x.g, axes...)
	}
	if steps != nil {
		sn = i64Const(x.g, steps...)
	}
	return SliceNodes(x, i64Const(x.g, starts...), i64Const(x.g, ends...), an, sn)
}

// SliceNodes is ONNX Slice with its arguments as int64 1-D tensor nodes;
// axes and steps may be nil (absent).
func SliceNodes(x, starts, ends, axes, steps *Node) *Node {
	args := []*Node{x, starts, ends, axes, steps}
	for len(args) > 3 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	return Apply1(sliceDef, nil, args...)
}

// SliceGrad (internal) places g, the gradient of a slice of x, into zeros
// of x's shape. Inputs: g, x (for its shape), starts, ends, axes?, steps?.
var sliceGradDef *OpDef

func init() {
	sliceGradDef = Register(&OpDef{
		Type: "SliceGrad", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 4, MaxInputs: 6,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if in[0].DType != Float32 {
				return nil, fmt.Errorf("gradient must be float32, got %s", in[0].DType)
			}
			if _, err := sliceInputs(in[2:]); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: in[1].Shape}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			g, o := in[0], out[0]
			base, st, lens, err := slicePlan(o.Shape, in[2:])
			if err != nil {
				return err
			}
			if !SameShape(lens, g.Shape) {
				return fmt.Errorf("gradient of shape %v for a slice of shape %v", g.Shape, lens)
			}
			clear(o.F)
			stridedStore(o.F, g.F, g.Shape, base, st)
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			in := op.Inputs
			return []*Node{SliceNodes(g[0], in[2], in[3], at(in, 4), at(in, 5))}
		},
	})
}

func at(ns []*Node, i int) *Node {
	if i < len(ns) {
		return ns[i]
	}
	return nil
}

// ---------- Gather ----------

var gatherDef *OpDef

func init() {
	gatherDef = Register(&OpDef{
		Type: "Gather", Since: 13,
		// 1 has the same inputs and attribute (only non-negative indices
		// are valid there); 11 adds negative indices.
		Compat:    []int{1, 11},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, idx := in[0], in[1]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			ax, err := gatherAxis(x, idx, a)
			if err != nil {
				return nil, err
			}
			out := append(append(append([]int{}, x.Shape[:ax]...), idx.Shape...), x.Shape[ax+1:]...)
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, idx, o := in[0], in[1], out[0]
			ax, err := normAxis(a.Int("axis"), len(x.Shape))
			if err != nil {
				return err
			}
			s := x.Shape[ax]
			iv := indexVals(idx)
			if err := checkIndices(iv, s, ax); err != nil {
				return err
			}
			outer, inner := Size(x.Shape[:ax]), Size(x.Shape[ax+1:])
			switch {
			case x.DType == String:
				gatherT(o.S, x.S, iv, outer, s, inner)
			case x.DType.ElemSize() == 1:
				gatherT(raw[uint8](o), raw[uint8](x), iv, outer, s, inner)
			case x.DType.ElemSize() == 2:
				gatherT(raw[uint16](o), raw[uint16](x), iv, outer, s, inner)
			case x.DType.ElemSize() == 4:
				gatherT(raw[uint32](o), raw[uint32](x), iv, outer, s, inner)
			case x.DType.ElemSize() == 8:
				gatherT(raw[uint64](o), raw[uint64](x), iv, outer, s, inner)
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			x, idx := op.Inputs[0], op.Inputs[1]
			return []*Node{Apply1(gatherGradDef, Attrs{"axis": op.Resolved.Int("axis")}, g[0], idx, x), nil}
		},
	})
}

// gatherAxis checks Gather-like inputs and resolves the axis attribute.
func gatherAxis(x, idx Meta, a Attrs) (int, error) {
	if len(x.Shape) == 0 {
		return 0, errors.New("data must have rank at least 1, got a scalar")
	}
	if !isIndexType(idx.DType) {
		return 0, fmt.Errorf("indices must be int64 or int32, got %s", idx.DType)
	}
	axis, ok := a["axis"].(int64)
	if !ok {
		return 0, errors.New("attribute axis is missing")
	}
	return normAxis(axis, len(x.Shape))
}

// checkIndices verifies every index is in [-s, s-1].
func checkIndices(idx []int64, s, axis int) error {
	for _, k := range idx {
		if k < -int64(s) || k >= int64(s) {
			return fmt.Errorf("index %d out of range for axis %d of size %d", k, axis, s)
		}
	}
	return nil
}

func gatherT[T any](dst, src []T, idx []int64, outer, s, inner int) {
	n := len(idx)
	for o := 0; o < outer; o++ {
		for j, k := range idx {
			if k < 0 {
				k += int64(s)
			}
			d, from := (o*n+j)*inner, (o*s+int(k))*inner
			copy(dst[d:d+inner], src[from:from+inner])
		}
	}
}

// Gather takes the entries of x along axis at the int64 indices idx (any
// rank; negative indices count from the end): the output shape is x's with
// dimension axis replaced by idx's shape.
func Gather(x, idx *Node, axis int64) *Node {
	return Apply1(gatherDef, Attrs{"axis": axis}, x, idx)
}

// GatherGrad (internal) scatter-adds g, the gradient of Gather(x, indices,
// axis), into zeros of x's shape. Inputs: g, indices, x (for its shape).
var gatherGradDef *OpDef

func init() {
	gatherGradDef = Register(&OpDef{
		Type: "GatherGrad", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 3, MaxInputs: 3,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			g, idx, x := in[0], in[1], in[2]
			if g.DType != Float32 {
				return nil, fmt.Errorf("gradient must be float32, got %s", g.DType)
			}
			if _, err := gatherAxis(x, idx, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: x.Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, idx, o := in[0], in[1], out[0]
			ax, err := normAxis(a.Int("axis"), len(o.Shape))
			if err != nil {
				return err
			}
			s := o.Shape[ax]
			iv := indexVals(idx)
			if err := checkIndices(iv, s, ax); err != nil {
				return err
			}
			outer, inner, n := Size(o.Shape[:ax]), Size(o.Shape[ax+1:]), len(iv)
			if len(g.F) != outer*n*inner {
				return fmt.Errorf("gradient of shape %v does not match a gather of %d indices from %v", g.Shape, n, o.Shape)
			}
			clear(o.F)
			for b := 0; b < outer; b++ {
				for j, k := range iv {
					if k < 0 {
						k += int64(s)
					}
					src, dst := g.F[(b*n+j)*inner:][:inner], o.F[(b*s+int(k))*inner:][:inner]
					for i, v := range src {
						dst[i] += v
					}
				}
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			return []*Node{Gather(g[0], op.Inputs[1], op.Resolved.Int("axis")), nil, nil}
		},
	})
}

// ---------- GatherElements ----------

var gatherElementsDef *OpDef

func init() {
	gatherElementsDef = Register(&OpDef{
		Type: "GatherElements", Since: 13, Compat: []int{11},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, idx := in[0], in[1]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			if err := gatherElementsCheck(x, idx, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: idx.Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, idx, o := in[0], in[1], out[0]
			ax, err := normAxis(a.Int("axis"), len(x.Shape))
			if err != nil {
				return err
			}
			iv := indexVals(idx)
			if err := checkIndices(iv, x.Shape[ax], ax); err != nil {
				return err
			}
			walk := elementOffsets(iv, idx.Shape, x.Shape, ax)
			switch {
			case x.DType == String:
				gatherElems(o.S, x.S, walk)
			case x.DType.ElemSize() == 1:
				gatherElems(raw[uint8](o), raw[uint8](x), walk)
			case x.DType.ElemSize() == 2:
				gatherElems(raw[uint16](o), raw[uint16](x), walk)
			case x.DType.ElemSize() == 4:
				gatherElems(raw[uint32](o), raw[uint32](x), walk)
			case x.DType.ElemSize() == 8:
				gatherElems(raw[uint64](o), raw[uint64](x), walk)
			}
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			x, idx := op.Inputs[0], op.Inputs[1]
			return []*Node{Apply1(gatherElementsGradDef, Attrs{"axis": op.Resolved.Int("axis")}, g[0], idx, x), nil}
		},
	})
}

func gatherElementsCheck(x, idx Meta, a Attrs) error {
	ax, err := gatherAxis(x, idx, a)
	if err != nil {
		return err
	}
	if len(idx.Shape) != len(x.Shape) {
		return fmt.Errorf("indices have rank %d, data has rank %d", len(idx.Shape), len(x.Shape))
	}
	for d, n := range idx.Shape {
		if d != ax && n >= 0 && x.Shape[d] >= 0 && n > x.Shape[d] {
			return fmt.Errorf("indices shape %v exceeds data shape %v at dimension %d", idx.Shape, x.Shape, d)
		}
	}
	return nil
}

// elementOffsets returns a walker calling f(i, off) for every element i of
// idx, where off is the flat offset in data of shape xshape of the element
// GatherElements takes: idx's position with coordinate ax replaced by the
// (checked) index.
func elementOffsets(iv []int64, shape, xshape []int, ax int) func(f func(i, off int)) {
	return func(f func(i, off int)) {
		rank := len(shape)
		xs := stridesOf(xshape)
		s := int64(xshape[ax])
		pos := make([]int, rank)
		base := 0 // sum of pos[d]*xs[d] over d != ax
		for i, k := range iv {
			if k < 0 {
				k += s
			}
			f(i, base+int(k)*xs[ax])
			for d := rank - 1; d >= 0; d-- {
				pos[d]++
				if d != ax {
					base += xs[d]
				}
				if pos[d] < shape[d] {
					break
				}
				if d != ax {
					base -= xs[d] * shape[d]
				}
				pos[d] = 0
			}
		}
	}
}

func gatherElems[T any](dst, src []T, walk func(f func(i, off int))) {
	walk(func(i, off int) { dst[i] = src[off] })
}

// GatherElements takes, for every position of idx (same rank as x), the
// element of x at that position with the coordinate along axis replaced by
// the index there (torch.gather).
func GatherElements(x, idx *Node, axis int64) *Node {
	return Apply1(gatherElementsDef, Attrs{"axis": axis}, x, idx)
}

// GatherElementsGrad (internal) scatter-adds g, the gradient of
// GatherElements(x, indices, axis), into zeros of x's shape. Inputs: g,
// indices, x (for its shape).
var gatherElementsGradDef *OpDef

func init() {
	gatherElementsGradDef = Register(&OpDef{
		Type: "GatherElementsGrad", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 3, MaxInputs: 3,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			g, idx, x := in[0], in[1], in[2]
			if g.DType != Float32 {
				return nil, fmt.Errorf("gradient must be float32, got %s", g.DType)
			}
			if err := gatherElementsCheck(x, idx, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: x.Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			g, idx, o := in[0], in[1], out[0]
			ax, err := normAxis(a.Int("axis"), len(o.Shape))
			if err != nil {
				return err
			}
			iv := indexVals(idx)
			if err := checkIndices(iv, o.Shape[ax], ax); err != nil {
				return err
			}
			if !SameShape(g.Shape, idx.Shape) {
				return fmt.Errorf("gradient of shape %v for indices of shape %v", g.Shape, idx.Shape)
			}
			clear(o.F)
			elementOffsets(iv, idx.Shape, o.Shape, ax)(func(i, off int) { o.F[off] += g.F[i] })
			return nil
		},
		Grad: func(op *Op, g []*Node) []*Node {
			return []*Node{GatherElements(g[0], op.Inputs[1], op.Resolved.Int("axis")), nil, nil}
		},
	})
}
