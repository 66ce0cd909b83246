package graph

import (
	"errors"
	"fmt"
	"math"
)

// OneHot, EyeLike, Trilu and Dropout (inference).

// oneOf is a one-element tensor holding 1 (true) of dtype dt.
func oneOf(dt DType) *Tensor {
	t := NewTensor(dt, []int{1})
	switch dt {
	case Float32:
		t.F[0] = 1
	case Int64:
		t.I[0] = 1
	case Bool:
		t.B[0] = true
	case Float64:
		Data[float64](t)[0] = 1
	case Int32:
		Data[int32](t)[0] = 1
	case Int16:
		Data[int16](t)[0] = 1
	case Int8:
		Data[int8](t)[0] = 1
	case Uint8:
		Data[uint8](t)[0] = 1
	case Uint16:
		Data[uint16](t)[0] = 1
	case Uint32:
		Data[uint32](t)[0] = 1
	case Uint64:
		Data[uint64](t)[0] = 1
	case Float16:
		Data[Half](t)[0] = F16(1)
	}
	return t
}

// oneElement reports a scalar or 1-element shape (or one whose size is
// not known while building).
func oneElement(shape []int) bool {
	n := prodDims(shape)
	return len(shape) <= 1 && (n == 1 || n < 0)
}

// setAt writes element j of v into element i of t (same dtype).
func setAt(t *Tensor, i int, v *Tensor, j int) {
	switch {
	case t.DType == String:
		t.S[i] = v.S[j]
	case t.DType.ElemSize() == 1:
		raw[uint8](t)[i] = raw[uint8](v)[j]
	case t.DType.ElemSize() == 2:
		raw[uint16](t)[i] = raw[uint16](v)[j]
	case t.DType.ElemSize() == 4:
		raw[uint32](t)[i] = raw[uint32](v)[j]
	case t.DType.ElemSize() == 8:
		raw[uint64](t)[i] = raw[uint64](v)[j]
	}
}

// ---------- OneHot ----------

var oneHotDef *OpDef

func init() {
	oneHotDef = Register(&OpDef{
		Type: "OneHot", Since: 11,
		ShapeFromValues: true, // depth may be a float
		// 9 accepts axis in [-r-1, r] too but no negative indices.
		Compat:    []int{9},
		MinInputs: 3, MaxInputs: 3,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(-1)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			idx, depth, vals := in[0], in[1], in[2]
			if !idx.DType.IsNumeric() || !depth.DType.IsNumeric() {
				return nil, fmt.Errorf("indices and depth must be numeric, got %s and %s", idx.DType, depth.DType)
			}
			if n := prodDims(depth.Shape); len(depth.Shape) > 1 || n >= 0 && n != 1 {
				return nil, fmt.Errorf("depth must hold one value, got shape %v", depth.Shape)
			}
			if len(vals.Shape) != 1 || vals.Shape[0] >= 0 && vals.Shape[0] != 2 {
				return nil, fmt.Errorf("values must be [off_value, on_value], got shape %v", vals.Shape)
			}
			r := len(idx.Shape)
			ax, err := normAxis(a.Int("axis"), r+1)
			if err != nil {
				return nil, err
			}
			d := -1
			if depth.Value != nil {
				if d, err = oneHotDepth(depth.Value); err != nil {
					return nil, err
				}
			}
			out := append(append(append([]int{}, idx.Shape[:ax]...), d), idx.Shape[ax:]...)
			if err := checkShape(out); err != nil {
				return nil, err
			}
			return []Meta{{DType: vals.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			idx, vals, o := in[0], in[2], out[0]
			ax, err := normAxis(a.Int("axis"), len(idx.Shape)+1)
			if err != nil {
				return err
			}
			d := o.Shape[ax]
			if dv, err := oneHotDepth(in[1]); err != nil || dv != d {
				return fmt.Errorf("depth %v does not match the output's %d (a stale shape inference)", in[1].Float(0), d)
			}
			fill(o, vals) // off_value, element 0
			outer, inner := Size(idx.Shape[:ax]), Size(idx.Shape[ax:])
			for b := 0; b < outer; b++ {
				for i := 0; i < inner; i++ {
					k := idx.Int(b*inner + i) // floats truncate, as a cast to int64
					if k < -int64(d) || k >= int64(d) {
						continue
					}
					if k < 0 {
						k += int64(d)
					}
					setAt(o, (b*d+int(k))*inner+i, vals, 1)
				}
			}
			return nil
		},
	})
}

func oneHotDepth(t *Tensor) (int, error) {
	v := t.Float(0)
	if math.IsNaN(v) || v < 1 || v > maxElements {
		return 0, fmt.Errorf("depth %v must be at least 1", v)
	}
	return int(v), nil
}

// OneHot is ONNX OneHot: indices expanded along a new axis of size depth,
// holding values[1] where the index points and values[0] elsewhere.
func OneHot(indices, depth, values *Node, axis int64) *Node {
	return Apply1(oneHotDef, Attrs{"axis": axis}, indices, depth, values)
}

// ---------- EyeLike ----------

var eyeLikeDef *OpDef

func init() {
	eyeLikeDef = Register(&OpDef{
		Type: "EyeLike", Since: 9,
		// 22 only adds element types.
		Compat:    []int{22},
		MinInputs: 1, MaxInputs: 1,
		Types: AllTypes,
		Attrs: []AttrSpec{
			{Name: "dtype", Type: AttrInt},
			{Name: "k", Type: AttrInt, Default: int64(0)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if len(x.Shape) != 2 {
				return nil, fmt.Errorf("input must be 2-D, got shape %v", x.Shape)
			}
			dt, err := eyeLikeType(x.DType, a)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: dt, Shape: x.Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			o := out[0]
			fill(o, NewTensor(o.DType, []int{1}))
			one := oneOf(o.DType)
			n, m, k := o.Shape[0], o.Shape[1], a.Int("k")
			for i := 0; i < n; i++ {
				j := int64(i) + k
				if j >= 0 && j < int64(m) {
					setAt(o, i*m+int(j), one, 0)
				}
			}
			return nil
		},
	})
}

func eyeLikeType(in DType, a Attrs) (DType, error) {
	if !a.Has("dtype") {
		return in, nil
	}
	code := a.Int("dtype")
	dt, ok := DTypeFromONNX(int32(code))
	if !ok || code != int64(int32(code)) {
		return Invalid, unsupportedf("EyeLike to ONNX element type %d", code)
	}
	return dt, nil
}

// EyeLike is a matrix of x's shape with ones on diagonal k (k > 0 above
// the main one) and zeros elsewhere, of dtype dt (Invalid: x's).
func EyeLike(x *Node, dt DType, k int64) *Node {
	a := Attrs{"k": k}
	if dt != Invalid {
		a["dtype"] = int64(dt.ONNX())
	}
	return Apply1(eyeLikeDef, a, x)
}

// ---------- Trilu ----------

var triluDef *OpDef

func init() {
	triluDef = Register(&OpDef{
		Type: "Trilu", Since: 14,
		MinInputs: 1, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "upper", Type: AttrInt, Default: int64(1)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			if len(x.Shape) < 2 {
				return nil, fmt.Errorf("input must have rank at least 2, got shape %v", x.Shape)
			}
			if len(in) > 1 && in[1].DType != Invalid {
				if in[1].DType != Int64 || !oneElement(in[1].Shape) {
					return nil, fmt.Errorf("k must be an int64 scalar, got %s%v", in[1].DType, in[1].Shape)
				}
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, o := in[0], out[0]
			k := int64(0)
			if len(in) > 1 && in[1] != nil {
				if in[1].Len() != 1 {
					return errors.New("k must hold one value")
				}
				k = in[1].I[0]
			}
			upper := a.Int("upper") != 0
			copyData(o, x)
			zero := NewTensor(x.DType, []int{1})
			r := len(x.Shape)
			n, m := x.Shape[r-2], x.Shape[r-1]
			for b := 0; b < Size(x.Shape[:r-2]); b++ {
				for i := 0; i < n; i++ {
					for j := 0; j < m; j++ {
						d := int64(j - i)
						if upper && d < k || !upper && d > k {
							setAt(o, (b*n+i)*m+j, zero, 0)
						}
					}
				}
			}
			return nil
		},
	})
}

// Trilu keeps the upper (j-i >= k) or lower (j-i <= k) triangle of the
// last two axes of x and zeros the rest; k is an int64 scalar node or nil.
func Trilu(x, k *Node, upper bool) *Node {
	u := int64(0)
	if upper {
		u = 1
	}
	if k == nil {
		return Apply1(triluDef, Attrs{"upper": u}, x)
	}
	return Apply1(triluDef, Attrs{"upper": u}, x, k)
}

// ---------- Dropout ----------

var dropoutDef *OpDef

func init() {
	dropoutDef = Register(&OpDef{
		Type: "Dropout", Since: 13,
		// 12 is the same; 22 only adds element types. Older versions (a
		// ratio attribute) are rewritten by the importer.
		Compat:    []int{12, 22},
		MinInputs: 1, MaxInputs: 3, Outputs: 2,
		// Not folded: the native runtime binds folded values of
		// single-output ops only.
		NoFold: true,
		Types:  append(append([]DType{}, FloatTypes...), Bool),
		Attrs:  []AttrSpec{{Name: "seed", Type: AttrInt}},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x := in[0]
			if !x.DType.IsFloat() {
				return nil, fmt.Errorf("data must be a float tensor, got %s", x.DType)
			}
			var ratio, train *Meta
			if len(in) > 1 && in[1].DType != Invalid {
				ratio = &in[1]
				if !ratio.DType.IsFloat() || !oneElement(ratio.Shape) {
					return nil, fmt.Errorf("ratio must be a float scalar, got %s%v", ratio.DType, ratio.Shape)
				}
			}
			if len(in) > 2 && in[2].DType != Invalid {
				train = &in[2]
				if train.DType != Bool || !oneElement(train.Shape) {
					return nil, fmt.Errorf("training_mode must be a bool scalar, got %s%v", train.DType, train.Shape)
				}
			}
			if err := dropoutInference(ratio, train); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}, {DType: Bool, Shape: x.Shape}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			copyData(out[0], in[0])
			for i := range out[1].B {
				out[1].B[i] = true
			}
			return nil
		},
	})
}

// dropoutInference refuses training mode with a ratio that is not 0 (or
// not known): odmn runs Dropout for inference, where it is the identity.
func dropoutInference(ratio, train *Meta) error {
	if train == nil {
		return nil
	}
	if train.Value == nil {
		return unsupportedf("Dropout with a training_mode computed at run time (odmn runs Dropout for inference only)")
	}
	if !train.Value.B[0] {
		return nil
	}
	if ratio == nil {
		return unsupportedf("Dropout in training mode (default ratio 0.5)")
	}
	if ratio.Value == nil || ratio.Value.Float(0) != 0 {
		return unsupportedf("Dropout in training mode with a ratio other than 0")
	}
	return nil
}
