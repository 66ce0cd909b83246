package graph

import (
	"errors"
	"fmt"
)

// GatherND, ScatterElements (and its deprecated name Scatter) and
// ScatterND. Reads and plain writes move elements of any dtype by width;
// the reductions of the scatters (add, mul, max, min) are written once
// over Number, float16 through float32.

// ---------- GatherND ----------

var gatherNDDef *OpDef

func init() {
	gatherNDDef = Register(&OpDef{
		Type: "GatherND", Since: 13,
		// 11 has no batch_dims (its default 0 is 11's behaviour), 12 adds it.
		Compat:    []int{11, 12},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "batch_dims", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, idx := in[0], in[1]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			if idx.DType != Int64 {
				return nil, fmt.Errorf("indices must be int64, got %s", idx.DType)
			}
			b, m, err := gatherNDDims(x.Shape, idx.Shape, a.Int("batch_dims"))
			if err != nil {
				return nil, err
			}
			out := append(append([]int{}, idx.Shape[:len(idx.Shape)-1]...), x.Shape[b+m:]...)
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: byWidth(0, gatherNDK[uint8], gatherNDK[uint16], gatherNDK[uint32], gatherNDK[uint64], gatherNDK[string]),
	})
}

// gatherNDDims checks GatherND's shapes and returns batch_dims and the
// length m of an index tuple (indices' last dimension).
func gatherNDDims(xs, is []int, bd int64) (int, int, error) {
	r, q := len(xs), len(is)
	if r < 1 || q < 1 {
		return 0, 0, fmt.Errorf("data and indices must have rank at least 1, got %d and %d", r, q)
	}
	if bd < 0 || int(bd) >= min(r, q) {
		return 0, 0, fmt.Errorf("batch_dims %d must be below the ranks of data (%d) and indices (%d)", bd, r, q)
	}
	b := int(bd)
	for i := 0; i < b; i++ {
		if xs[i] >= 0 && is[i] >= 0 && xs[i] != is[i] {
			return 0, 0, fmt.Errorf("batch dimension %d differs: data %v, indices %v", i, xs, is)
		}
	}
	m := is[q-1]
	if m < 0 {
		return 0, 0, errors.New("the last dimension of indices must be known")
	}
	if m > r-b {
		return 0, 0, fmt.Errorf("index tuples of length %d for data of rank %d with %d batch dims", m, r, b)
	}
	return b, m, nil
}

// ndOffsets returns, for each index tuple (the last axis of idx), the flat
// offset of the block it selects in data of shape xs; tuples of batch i
// index the i-th batch block.
func ndOffsets(xs []int, idx *Tensor, b int) ([]int, int, error) {
	m := idx.Shape[len(idx.Shape)-1]
	inner := Size(xs[b+m:])
	batch := Size(xs[:b])
	batchBlock := Size(xs[b:])
	tuples := 0
	if m > 0 {
		tuples = len(idx.I) / m
	} else {
		tuples = Size(idx.Shape[:len(idx.Shape)-1])
	}
	perBatch := 0
	if batch > 0 {
		perBatch = tuples / batch
	}
	st := stridesOf(xs)
	offs := make([]int, tuples)
	for t := range offs {
		off := 0
		if perBatch > 0 {
			off = (t / perBatch) * batchBlock
		}
		for j := 0; j < m; j++ {
			k, s := idx.I[t*m+j], int64(xs[b+j])
			if k < -s || k >= s {
				return nil, 0, fmt.Errorf("index %d out of range for axis %d of size %d", k, b+j, s)
			}
			if k < 0 {
				k += s
			}
			off += int(k) * st[b+j]
		}
		offs[t] = off
	}
	return offs, inner, nil
}

func gatherNDK[T rawElem](in []*Tensor, a Attrs, out []*Tensor) error {
	x, idx := in[0], in[1]
	offs, inner, err := ndOffsets(x.Shape, idx, int(a.Int("batch_dims")))
	if err != nil {
		return err
	}
	src, dst := raw[T](x), raw[T](out[0])
	for t, off := range offs {
		copy(dst[t*inner:(t+1)*inner], src[off:off+inner])
	}
	return nil
}

// GatherND takes the slices of x that the int64 index tuples in idx's
// last axis address, after batchDims leading axes common to both.
func GatherND(x, idx *Node, batchDims int64) *Node {
	return Apply1(gatherNDDef, Attrs{"batch_dims": batchDims}, x, idx)
}

// ---------- reductions shared by the scatters ----------

func reduceWith[T Number](red string) (func(old, v T) T, error) {
	switch red {
	case "add":
		return func(o, v T) T { return o + v }, nil
	case "mul":
		return func(o, v T) T { return o * v }, nil
	case "max":
		return func(o, v T) T { return max(o, v) }, nil
	case "min":
		return func(o, v T) T { return min(o, v) }, nil
	}
	return nil, fmt.Errorf("reduction %q is not one of none, add, mul, max, min", red)
}

// scatterKernel builds a scatter's kernel from its two forms: move (no
// reduction, any dtype) and reduce[T] (numeric dtypes).
func scatterKernel(move Kernel, reduce Dispatch) Kernel {
	red := reduce.On(0)
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		r, _ := a["reduction"].(string)
		if r == "" || r == "none" {
			return move(in, a, out)
		}
		if in[0].DType == Bool || in[0].DType == String {
			return fmt.Errorf("reduction %s on %s data", r, in[0].DType)
		}
		return red(in, a, out)
	}
}

var reductionAttr = AttrSpec{Name: "reduction", Type: AttrString, Default: "none"}

func checkReduction(a Attrs, dt DType) error {
	r, _ := a["reduction"].(string)
	switch r {
	case "none", "":
		return nil
	case "add", "mul", "max", "min":
		if !dt.IsNumeric() {
			return fmt.Errorf("reduction %s on %s data", r, dt)
		}
		return nil
	}
	return fmt.Errorf("reduction %q is not one of none, add, mul, max, min", r)
}

// ---------- ScatterElements ----------

var scatterElementsDef, scatterDef *OpDef

func scatterElementsOp(typ string, since int, compat []int, withReduction bool) *OpDef {
	attrs := []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(0)}}
	if withReduction {
		attrs = append(attrs, reductionAttr)
	}
	return &OpDef{
		Type: typ, Since: since, Compat: compat,
		MinInputs: 3, MaxInputs: 3,
		Types: withStrings, StringInputs: true,
		Attrs: attrs,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, idx, upd := in[0], in[1], in[2]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			if err := gatherElementsCheck(x, idx, a); err != nil {
				return nil, err
			}
			if upd.DType != x.DType {
				return nil, fmt.Errorf("updates are %s, data is %s", upd.DType, x.DType)
			}
			if len(upd.Shape) != len(idx.Shape) || (Meta{Shape: upd.Shape}).Static() && (Meta{Shape: idx.Shape}).Static() && !SameShape(upd.Shape, idx.Shape) {
				return nil, fmt.Errorf("updates have shape %v, indices %v", upd.Shape, idx.Shape)
			}
			if err := checkReduction(a, x.DType); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}}, nil
		},
		Kernel: scatterKernel(
			byWidth(0, scatterElemsK[uint8], scatterElemsK[uint16], scatterElemsK[uint32], scatterElemsK[uint64], scatterElemsK[string]),
			Dispatch{
				Float32: scatterElemsRed[float32], Float64: scatterElemsRed[float64], Float16: viaFloat32(scatterElemsRed[float32]),
				Int8: scatterElemsRed[int8], Int16: scatterElemsRed[int16], Int32: scatterElemsRed[int32], Int64: scatterElemsRed[int64],
				Uint8: scatterElemsRed[uint8], Uint16: scatterElemsRed[uint16], Uint32: scatterElemsRed[uint32], Uint64: scatterElemsRed[uint64],
			}),
	}
}

func init() {
	// 11 and 13 have no reduction (its default none is their behaviour),
	// 16 adds add and mul, 18 max and min.
	scatterElementsDef = Register(scatterElementsOp("ScatterElements", 18, []int{11, 13, 16}, true))
	// Scatter (deprecated in 11) is ScatterElements-11 under its old name.
	// It exports as ScatterElements (Scatter is invalid from opset 11 on).
	scatterDef = scatterElementsOp("Scatter", 9, []int{11}, false)
	scatterDef.ExportType = "ScatterElements"
	Register(scatterDef)
}

// scatterElemsPlan checks the indices and returns the walker over the
// positions updates go to.
func scatterElemsPlan(in []*Tensor, a Attrs) (func(f func(i, off int)), error) {
	x, idx, upd := in[0], in[1], in[2]
	ax, err := normAxis(a.Int("axis"), len(x.Shape))
	if err != nil {
		return nil, err
	}
	if !SameShape(upd.Shape, idx.Shape) {
		return nil, fmt.Errorf("updates have shape %v, indices %v", upd.Shape, idx.Shape)
	}
	iv := indexVals(idx)
	if err := checkIndices(iv, x.Shape[ax], ax); err != nil {
		return nil, err
	}
	return elementOffsets(iv, idx.Shape, x.Shape, ax), nil
}

func scatterElemsK[T rawElem](in []*Tensor, a Attrs, out []*Tensor) error {
	walk, err := scatterElemsPlan(in, a)
	if err != nil {
		return err
	}
	dst, upd := raw[T](out[0]), raw[T](in[2])
	copy(dst, raw[T](in[0]))
	walk(func(i, off int) { dst[off] = upd[i] })
	return nil
}

func scatterElemsRed[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	f, err := reduceWith[T](a.String("reduction"))
	if err != nil {
		return err
	}
	walk, err := scatterElemsPlan(in, a)
	if err != nil {
		return err
	}
	dst, upd := Data[T](out[0]), Data[T](in[2])
	copy(dst, Data[T](in[0]))
	walk(func(i, off int) { dst[off] = f(dst[off], upd[i]) })
	return nil
}

// ScatterElements is x with updates written (or combined with reduction:
// none, add, mul, max, min) at the positions of idx, whose entries replace
// the coordinate along axis (the inverse of GatherElements).
func ScatterElements(x, idx, updates *Node, axis int64, reduction string) *Node {
	return Apply1(scatterElementsDef, Attrs{"axis": axis, "reduction": reduction}, x, idx, updates)
}

// ---------- ScatterND ----------

var scatterNDDef *OpDef

func init() {
	scatterNDDef = Register(&OpDef{
		Type: "ScatterND", Since: 18,
		// 11 and 13 have no reduction, 16 adds add and mul, 18 max and min.
		Compat:    []int{11, 13, 16},
		MinInputs: 3, MaxInputs: 3,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{reductionAttr},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, idx, upd := in[0], in[1], in[2]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			if idx.DType != Int64 {
				return nil, fmt.Errorf("indices must be int64, got %s", idx.DType)
			}
			if upd.DType != x.DType {
				return nil, fmt.Errorf("updates are %s, data is %s", upd.DType, x.DType)
			}
			if _, _, err := gatherNDDims(x.Shape, idx.Shape, 0); err != nil {
				return nil, err
			}
			m := idx.Shape[len(idx.Shape)-1]
			want := append(append([]int{}, idx.Shape[:len(idx.Shape)-1]...), x.Shape[m:]...)
			if len(upd.Shape) != len(want) {
				return nil, fmt.Errorf("updates have shape %v, want %v", upd.Shape, want)
			}
			for i, d := range want {
				if d >= 0 && upd.Shape[i] >= 0 && d != upd.Shape[i] {
					return nil, fmt.Errorf("updates have shape %v, want %v", upd.Shape, want)
				}
			}
			if err := checkReduction(a, x.DType); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}}, nil
		},
		Kernel: scatterKernel(
			byWidth(0, scatterNDK[uint8], scatterNDK[uint16], scatterNDK[uint32], scatterNDK[uint64], scatterNDK[string]),
			Dispatch{
				Float32: scatterNDRed[float32], Float64: scatterNDRed[float64], Float16: viaFloat32(scatterNDRed[float32]),
				Int8: scatterNDRed[int8], Int16: scatterNDRed[int16], Int32: scatterNDRed[int32], Int64: scatterNDRed[int64],
				Uint8: scatterNDRed[uint8], Uint16: scatterNDRed[uint16], Uint32: scatterNDRed[uint32], Uint64: scatterNDRed[uint64],
			}),
	})
}

func scatterNDK[T rawElem](in []*Tensor, _ Attrs, out []*Tensor) error {
	offs, inner, err := ndOffsets(in[0].Shape, in[1], 0)
	if err != nil {
		return err
	}
	dst, upd := raw[T](out[0]), raw[T](in[2])
	if len(upd) != len(offs)*inner {
		return fmt.Errorf("updates hold %d values for %d slices of %d", len(upd), len(offs), inner)
	}
	copy(dst, raw[T](in[0]))
	for t, off := range offs {
		copy(dst[off:off+inner], upd[t*inner:(t+1)*inner])
	}
	return nil
}

func scatterNDRed[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	f, err := reduceWith[T](a.String("reduction"))
	if err != nil {
		return err
	}
	offs, inner, err := ndOffsets(in[0].Shape, in[1], 0)
	if err != nil {
		return err
	}
	dst, upd := Data[T](out[0]), Data[T](in[2])
	if len(upd) != len(offs)*inner {
		return fmt.Errorf("updates hold %d values for %d slices of %d", len(upd), len(offs), inner)
	}
	copy(dst, Data[T](in[0]))
	for t, off := range offs {
		d, u := dst[off:off+inner], upd[t*inner:(t+1)*inner]
		for j := range d {
			d[j] = f(d[j], u[j])
		}
	}
	return nil
}

// ScatterND is x with the slices addressed by the int64 index tuples of
// idx replaced by (or combined with, per reduction) updates.
func ScatterND(x, idx, updates *Node, reduction string) *Node {
	return Apply1(scatterNDDef, Attrs{"reduction": reduction}, x, idx, updates)
}
