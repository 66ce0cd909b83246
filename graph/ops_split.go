package graph

import (
	"errors"
	"fmt"
)

// Split, Compress, NonZero and Size.

// ---------- Split ----------

var splitDef *OpDef

func init() {
	splitDef = Register(&OpDef{
		Type: "Split", Since: 18,
		// 13 takes split as an input and, without it, splits into as many
		// equal parts as the node has outputs: the importer rewrites that
		// (and 2/11's split attribute) onto num_outputs and the input.
		MinInputs: 1, MaxInputs: 2, Outputs: -1,
		// Not folded: the native runtime binds folded values of
		// single-output ops only.
		NoFold: true,
		Types:  withStrings, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(0)},
			{Name: "num_outputs", Type: AttrInt},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			ax, err := normAxis(a.Int("axis"), len(x.Shape))
			if err != nil {
				return nil, err
			}
			d := x.Shape[ax]
			var parts []int
			hasSplit := len(in) > 1 && in[1].DType != Invalid
			switch {
			case hasSplit && a.Has("num_outputs"):
				return nil, errors.New("give either the split input or num_outputs, not both")
			case hasSplit:
				if in[1].DType != Int64 {
					return nil, fmt.Errorf("split must be int64, got %s", in[1].DType)
				}
				s, err := intsInput(in[1], "split", false)
				if err != nil {
					return nil, err
				}
				if s.n < 0 {
					return nil, errors.New("the number of outputs is unknown: split has an unknown length")
				}
				if !s.known {
					parts = unknownDims(s.n)
					break
				}
				parts, err = splitParts(s.vals, d)
				if err != nil {
					return nil, err
				}
			case a.Has("num_outputs"):
				n := a.Int("num_outputs")
				if n < 1 || n > 1<<16 {
					return nil, fmt.Errorf("num_outputs %d out of range", n)
				}
				parts = unknownDims(int(n))
				if d >= 0 {
					c := (d + int(n) - 1) / int(n)
					if d > 0 && d-c*(int(n)-1) <= 0 {
						// chunks of ceil(d/n) leave the last one empty or
						// negative: ONNX defines no such split.
						return nil, fmt.Errorf("cannot split %d elements into %d outputs of ceil(%d/%d) = %d with a smaller last one", d, n, d, n, c)
					}
					left := d
					for i := range parts {
						parts[i] = min(c, left)
						left -= parts[i]
					}
				}
			default:
				return nil, unsupportedf("Split without the split input or num_outputs")
			}
			out := make([]Meta, len(parts))
			for i, p := range parts {
				sh := append([]int{}, x.Shape...)
				sh[ax] = p
				out[i] = Meta{DType: x.DType, Shape: sh}
			}
			return out, nil
		},
		Kernel: byWidth(0, splitK[uint8], splitK[uint16], splitK[uint32], splitK[uint64], splitK[string]),
	})
}

func splitParts(split []int64, d int) ([]int, error) {
	parts := make([]int, len(split))
	sum := int64(0)
	for i, v := range split {
		if v < 0 {
			return nil, fmt.Errorf("split %v has a negative size", split)
		}
		sum += v
		if sum > maxElements {
			return nil, fmt.Errorf("split %v is too large", split)
		}
		parts[i] = int(v)
	}
	if d >= 0 && sum != int64(d) {
		return nil, fmt.Errorf("split %v sums to %d, the axis has %d", split, sum, d)
	}
	return parts, nil
}

func splitK[T rawElem](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	ax, err := normAxis(a.Int("axis"), len(x.Shape))
	if err != nil {
		return err
	}
	outer, inner := Size(x.Shape[:ax]), Size(x.Shape[ax+1:])
	row := x.Shape[ax] * inner
	src := raw[T](x)
	pos := 0
	for _, t := range out {
		blk := t.Shape[ax] * inner
		dst := raw[T](t)
		for o := 0; o < outer; o++ {
			copy(dst[o*blk:(o+1)*blk], src[o*row+pos:o*row+pos+blk])
		}
		pos += blk
	}
	if pos != row {
		return fmt.Errorf("outputs take %d of the %d elements along axis %d", pos/max(inner, 1), x.Shape[ax], ax)
	}
	return nil
}

// Split cuts x along axis into parts of the given sizes.
func Split(x *Node, axis int64, sizes ...int64) []*Node {
	return MustApply(splitDef, Attrs{"axis": axis}, x, i64Const(x.g, sizes...))
}

// ---------- Compress ----------

var compressDef *OpDef

func init() {
	compressDef = Register(&OpDef{
		Type: "Compress", Since: 11,
		ShapeFromValues: true,
		// 9 has no negative axis.
		Compat:    []int{9},
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, c := in[0], in[1]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			if c.DType != Bool || len(c.Shape) != 1 {
				return nil, fmt.Errorf("condition must be a 1-D bool tensor, got %s%v", c.DType, c.Shape)
			}
			if !a.Has("axis") {
				out := []int{-1}
				if c.Value != nil {
					out[0] = countTrue(c.Value.B, prodDims(x.Shape))
				}
				return []Meta{{DType: x.DType, Shape: out}}, nil
			}
			ax, err := normAxis(a.Int("axis"), len(x.Shape))
			if err != nil {
				return nil, err
			}
			out := append([]int{}, x.Shape...)
			out[ax] = -1
			if c.Value != nil {
				out[ax] = countTrue(c.Value.B, x.Shape[ax])
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: byWidth(0, compressK[uint8], compressK[uint16], compressK[uint32], compressK[uint64], compressK[string]),
	})
}

// countTrue counts the true entries among the first n of c (n < 0: all);
// entries past the end count as false, as in ONNX.
func countTrue(c []bool, n int) int {
	if n < 0 {
		return -1
	}
	k := 0
	for i, v := range c {
		if i < n && v {
			k++
		}
	}
	return k
}

func compressK[T rawElem](in []*Tensor, a Attrs, out []*Tensor) error {
	x, c := in[0], in[1].B
	if err := compressCheck(x, c, a, out[0]); err != nil {
		return err
	}
	src, dst := raw[T](x), raw[T](out[0])
	if !a.Has("axis") {
		j := 0
		for i, v := range c {
			if v && i < len(src) {
				dst[j] = src[i]
				j++
			}
		}
		return nil
	}
	ax, err := normAxis(a.Int("axis"), len(x.Shape))
	if err != nil {
		return err
	}
	outer, inner, d := Size(x.Shape[:ax]), Size(x.Shape[ax+1:]), x.Shape[ax]
	k := out[0].Shape[ax]
	for o := 0; o < outer; o++ {
		j := 0
		for i, v := range c {
			if v && i < d {
				copy(dst[(o*k+j)*inner:(o*k+j+1)*inner], src[(o*d+i)*inner:(o*d+i+1)*inner])
				j++
			}
		}
	}
	return nil
}

// compressCheck verifies the output was sized for this condition (a
// runtime that reused an earlier inference would have sized it wrong).
func compressCheck(x *Tensor, c []bool, a Attrs, o *Tensor) error {
	want, got := 0, 0
	if a.Has("axis") {
		ax, err := normAxis(a.Int("axis"), len(x.Shape))
		if err != nil {
			return err
		}
		want, got = countTrue(c, x.Shape[ax]), o.Shape[ax]
	} else {
		want, got = countTrue(c, x.Len()), o.Len()
	}
	if want != got {
		return fmt.Errorf("condition selects %d entries, but the output was sized for %d", want, got)
	}
	return nil
}

// ---------- NonZero ----------

var nonZeroDef *OpDef

func init() {
	nonZeroDef = Register(&OpDef{
		Type: "NonZero", Since: 13, Compat: []int{9},
		MinInputs: 1, MaxInputs: 1,
		ShapeFromValues: true,
		Types:           AllTypes,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "X"); err != nil {
				return nil, err
			}
			n := -1
			if x.Value != nil {
				n = 0
				for i := 0; i < x.Value.Len(); i++ {
					if x.Value.Float(i) != 0 {
						n++
					}
				}
			}
			return []Meta{{DType: Int64, Shape: []int{len(x.Shape), n}}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			x, o := in[0], out[0]
			r, n := len(x.Shape), o.Shape[1]
			st := stridesOf(x.Shape)
			j := 0
			for i := 0; i < x.Len(); i++ {
				if x.Float(i) == 0 {
					continue
				}
				if j == n {
					return fmt.Errorf("more than %d non-zero elements, the count the output was sized for (a stale shape inference)", n)
				}
				rem := i
				for d := 0; d < r; d++ {
					o.I[d*n+j] = int64(rem / st[d])
					rem %= st[d]
				}
				j++
			}
			if j != n {
				return fmt.Errorf("%d non-zero elements, but the output was sized for %d (a stale shape inference)", j, n)
			}
			return nil
		},
	})
}

// NonZero lists the coordinates of x's non-zero elements: an int64 tensor
// of shape [rank, count], in row-major order. Its shape depends on the
// values, so it is known only at run time.
func NonZero(x *Node) *Node { return Apply1(nonZeroDef, nil, x) }

// ---------- Size ----------

var sizeDef *OpDef

func init() {
	sizeDef = Register(&OpDef{
		Type: "Size", Since: 13,
		// 19 and later only add element types.
		Compat:    []int{1, 19, 21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 1,
		Types: withStrings, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "data"); err != nil {
				return nil, err
			}
			m := Meta{DType: Int64, Shape: []int{}}
			if x.Static() {
				m.Value = ScalarI64(int64(Size(x.Shape)))
			}
			return []Meta{m}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			out[0].I[0] = int64(Size(in[0].Shape))
			return nil
		},
	})
}

// SizeOf is ONNX Size: x's element count as an int64 scalar.
func SizeOf(x *Node) *Node { return Apply1(sizeDef, nil, x) }
