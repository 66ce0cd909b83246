package graph

import (
	"errors"
	"fmt"
)

// Pad and Tile: ops whose output element at each position is an input
// element chosen per axis (or a constant), written once over the element
// width with mapCopy.

// mapCopy fills dst, of shape shape, with src[sum_a maps[a][i_a]*st[a]];
// a map entry of -1 means the position takes fill.
func mapCopy[T any](dst, src []T, shape, st []int, maps [][]int, fill T) {
	n := len(dst)
	if n == 0 {
		return
	}
	rank := len(shape)
	if rank == 0 {
		dst[0] = src[0]
		return
	}
	idx := make([]int, rank)
	// off[a] is the source offset of axes 0..a-1 (-1: a fill position).
	off := make([]int, rank+1)
	set := func(a int) {
		for ; a < rank; a++ {
			m := maps[a][idx[a]]
			if off[a] < 0 || m < 0 {
				off[a+1] = -1
			} else {
				off[a+1] = off[a] + m*st[a]
			}
		}
	}
	set(0)
	inner := shape[rank-1]
	last, ls := maps[rank-1], st[rank-1]
	for o := 0; o < n; o += inner {
		base := off[rank-1]
		row := dst[o : o+inner]
		if base < 0 {
			for j := range row {
				row[j] = fill
			}
		} else {
			for j, m := range last {
				if m < 0 {
					row[j] = fill
				} else {
					row[j] = src[base+m*ls]
				}
			}
		}
		a := rank - 2
		for ; a >= 0; a-- {
			idx[a]++
			if idx[a] < shape[a] {
				break
			}
			idx[a] = 0
		}
		if a < 0 {
			break
		}
		set(a)
	}
}

// mapCopyT runs mapCopy for src's element width; fill is a one-element
// tensor of src's dtype, or nil for zero.
func mapCopyT(dst, src *Tensor, st []int, maps [][]int, fill *Tensor) {
	switch {
	case src.DType == String:
		mapCopy(dst.S, src.S, dst.Shape, st, maps, fillOf[string](fill))
	case src.DType.ElemSize() == 1:
		mapCopy(raw[uint8](dst), raw[uint8](src), dst.Shape, st, maps, fillOf[uint8](fill))
	case src.DType.ElemSize() == 2:
		mapCopy(raw[uint16](dst), raw[uint16](src), dst.Shape, st, maps, fillOf[uint16](fill))
	case src.DType.ElemSize() == 4:
		mapCopy(raw[uint32](dst), raw[uint32](src), dst.Shape, st, maps, fillOf[uint32](fill))
	case src.DType.ElemSize() == 8:
		mapCopy(raw[uint64](dst), raw[uint64](src), dst.Shape, st, maps, fillOf[uint64](fill))
	}
}

func fillOf[T rawElem](t *Tensor) T {
	var z T
	if t == nil || t.Len() == 0 {
		return z
	}
	return raw[T](t)[0]
}

// ---------- Pad ----------

var padDef *OpDef

func init() {
	padDef = Register(&OpDef{
		Type: "Pad", Since: 19,
		// 11 takes pads and constant_value as inputs, 13 adds bfloat16, 18
		// the axes input, 19 the wrap mode; 21 and later only add types.
		Compat:    []int{11, 13, 18, 21, 23, 24, 25},
		MinInputs: 2, MaxInputs: 4,
		Types: AllTypes,
		Attrs: []AttrSpec{{Name: "mode", Type: AttrString, Default: "constant"}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			if _, err := padMode(a); err != nil {
				return nil, err
			}
			if len(in) > 2 && in[2].DType != Invalid {
				if in[2].DType != x.DType {
					return nil, fmt.Errorf("constant_value is %s, data is %s", in[2].DType, x.DType)
				}
				if n := prodDims(in[2].Shape); n > 1 {
					return nil, fmt.Errorf("constant_value must be a scalar, got shape %v", in[2].Shape)
				}
			}
			r := len(x.Shape)
			pads, err := intsInput(in[1], "pads", false)
			if err != nil {
				return nil, err
			}
			axes, axesGiven := intList{}, false
			if len(in) > 3 {
				if axes, axesGiven, err = optIntsInput(in[3], "axes"); err != nil {
					return nil, err
				}
			}
			if !pads.known || axesGiven && !axes.known {
				return []Meta{{DType: x.DType, Shape: unknownDims(r)}}, nil
			}
			begin, end, err := padAmounts(pads.vals, axes.vals, axesGiven, r)
			if err != nil {
				return nil, err
			}
			out := make([]int, r)
			for i, d := range x.Shape {
				if d < 0 {
					out[i] = -1
					continue
				}
				v := int64(d) + begin[i] + end[i]
				if v < 0 {
					return nil, fmt.Errorf("pads %v remove more than dimension %d of size %d", pads.vals, i, d)
				}
				if out[i], err = dimOf(v, "the padded shape"); err != nil {
					return nil, err
				}
			}
			if err := checkShape(out); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, o := in[0], out[0]
			mode, err := padMode(a)
			if err != nil {
				return err
			}
			var axes []int64
			axesGiven := len(in) > 3 && in[3] != nil
			if axesGiven {
				axes = indexVals(in[3])
			}
			begin, end, err := padAmounts(indexVals(in[1]), axes, axesGiven, len(x.Shape))
			if err != nil {
				return err
			}
			for i, d := range x.Shape {
				if int64(d)+begin[i]+end[i] != int64(o.Shape[i]) {
					return fmt.Errorf("pads %v do not give the output shape %v (a stale shape inference)", indexVals(in[1]), o.Shape)
				}
			}
			maps := make([][]int, len(x.Shape))
			for i, d := range x.Shape {
				if maps[i], err = padMap(d, o.Shape[i], begin[i], mode); err != nil {
					return fmt.Errorf("axis %d: %w", i, err)
				}
			}
			var fill *Tensor
			if len(in) > 2 && in[2] != nil {
				fill = in[2]
			}
			mapCopyT(o, x, stridesOf(x.Shape), maps, fill)
			return nil
		},
	})
}

func padMode(a Attrs) (string, error) {
	m, _ := a["mode"].(string)
	switch m {
	case "constant", "reflect", "edge", "wrap":
		return m, nil
	}
	return "", fmt.Errorf("mode %q is not one of constant, reflect, edge, wrap", m)
}

// padAmounts resolves pads (begins then ends, one pair per padded axis)
// to per-axis begin and end amounts.
func padAmounts(pads, axes []int64, axesGiven bool, rank int) (begin, end []int64, err error) {
	ax := make([]int, 0, rank)
	if axesGiven {
		seen := make([]bool, rank)
		for _, v := range axes {
			a, err := normAxis(v, rank)
			if err != nil {
				return nil, nil, err
			}
			if seen[a] {
				return nil, nil, fmt.Errorf("axis %d given twice in %v", v, axes)
			}
			seen[a] = true
			ax = append(ax, a)
		}
	} else {
		for i := 0; i < rank; i++ {
			ax = append(ax, i)
		}
	}
	if len(pads) != 2*len(ax) {
		return nil, nil, fmt.Errorf("pads has %d values, want %d (a begin and an end for each of %d axes)", len(pads), 2*len(ax), len(ax))
	}
	begin, end = make([]int64, rank), make([]int64, rank)
	for i, a := range ax {
		begin[a], end[a] = pads[i], pads[len(ax)+i]
		if begin[a] < -maxElements || begin[a] > maxElements || end[a] < -maxElements || end[a] > maxElements {
			return nil, nil, fmt.Errorf("pads %v out of range", pads)
		}
	}
	return begin, end, nil
}

// padMap maps each of the n output positions of an axis of input size d
// to its source index (-1: the constant). Negative pads crop first, as in
// ONNX's reference; the other modes then read the cropped range.
func padMap(d, n int, begin int64, mode string) ([]int, error) {
	end := int64(n) - int64(d) - begin
	crop, pb := int(max(-begin, 0)), int(max(begin, 0))
	kept := d - crop - int(max(-end, 0)) // the size after cropping
	m := make([]int, n)
	for o := range m {
		j := o - pb
		if j >= 0 && j < kept {
			m[o] = crop + j
			continue
		}
		if mode == "constant" {
			m[o] = -1
			continue
		}
		if kept <= 0 {
			return nil, errors.New("cannot pad an empty dimension in " + mode + " mode")
		}
		switch mode {
		case "edge":
			j = min(max(j, 0), kept-1)
		case "wrap":
			j = ((j % kept) + kept) % kept
		case "reflect":
			if kept == 1 {
				j = 0
			} else {
				p := 2 * (kept - 1)
				j = ((j % p) + p) % p
				if j >= kept {
					j = p - j
				}
			}
		}
		m[o] = crop + j
	}
	return m, nil
}

// Pad pads (or, with negative amounts, crops) x: pads holds the amounts
// added before each axis then after each (int64, 2*rank values, or 2 per
// entry of axes when axes is not nil); value is the constant (nil: zero)
// and mode one of constant, reflect, edge, wrap.
func Pad(x, pads, value, axes *Node, mode string) *Node {
	args := []*Node{x, pads, value, axes}
	for len(args) > 2 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	return Apply1(padDef, Attrs{"mode": mode}, args...)
}

// ---------- Tile ----------

var tileDef *OpDef

func init() {
	tileDef = Register(&OpDef{
		Type: "Tile", Since: 13, Compat: []int{6},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			if in[1].DType != Int64 {
				return nil, fmt.Errorf("repeats must be int64, got %s", in[1].DType)
			}
			r := len(x.Shape)
			rep, err := intsInput(in[1], "repeats", false)
			if err != nil {
				return nil, err
			}
			if rep.n >= 0 && rep.n != r {
				return nil, fmt.Errorf("repeats has %d values for rank %d", rep.n, r)
			}
			if !rep.known {
				return []Meta{{DType: x.DType, Shape: unknownDims(r)}}, nil
			}
			out := make([]int, r)
			for i, d := range x.Shape {
				k, err := dimOf(rep.vals[i], fmt.Sprintf("repeats %v", rep.vals))
				if err != nil {
					return nil, err
				}
				switch {
				case d < 0:
					out[i] = -1
				case d != 0 && k > maxElements/d:
					return nil, fmt.Errorf("tiling shape %v by %v has too many elements", x.Shape, rep.vals)
				default:
					out[i] = d * k
				}
			}
			if err := checkShape(out); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			x, o := in[0], out[0]
			maps := make([][]int, len(x.Shape))
			for i, d := range x.Shape {
				maps[i] = make([]int, o.Shape[i])
				for j := range maps[i] {
					maps[i][j] = j % d
				}
			}
			mapCopyT(o, x, stridesOf(x.Shape), maps, nil)
			return nil
		},
	})
}

// Tile repeats x repeats[i] times along each axis i (repeats: int64 1-D,
// one value per axis of x).
func Tile(x, repeats *Node) *Node { return Apply1(tileDef, nil, x, repeats) }
