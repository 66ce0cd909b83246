package graph

import (
	"fmt"
	"math"
)

// DType is the element type of a tensor. odmn trains in float32 and keeps
// int64 and bool for indices, shapes and masks, as ONNX models do. String
// exists only at a model's edge: raw categorical inputs, which the
// ai.onnx.ml LabelEncoder turns into int64 ids (graph.Apply refuses string
// inputs to every op that does not declare OpDef.StringInputs). The other
// ONNX element types (float64, int32, ..., float16; dtype.go) are there to
// run foreign models; an op takes the dtypes its OpDef.Types lists.
type DType uint8

const (
	Invalid DType = iota
	Float32
	Int64
	Bool
	String
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	case Bool:
		return "bool"
	case String:
		return "string"
	case Float64:
		return "float64"
	case Int32:
		return "int32"
	case Int16:
		return "int16"
	case Int8:
		return "int8"
	case Uint8:
		return "uint8"
	case Uint16:
		return "uint16"
	case Uint32:
		return "uint32"
	case Uint64:
		return "uint64"
	case Float16:
		return "float16"
	}
	return "invalid"
}

// onnxCodes maps dtypes to TensorProto.DataType codes.
var onnxCodes = [numDTypes]int32{
	Float32: 1, Uint8: 2, Int8: 3, Uint16: 4, Int16: 5, Int32: 6, Int64: 7,
	String: 8, Bool: 9, Float16: 10, Float64: 11, Uint32: 12, Uint64: 13,
}

// ONNX returns the TensorProto.DataType code of d.
func (d DType) ONNX() int32 {
	if d >= numDTypes {
		return 0
	}
	return onnxCodes[d]
}

// DTypeFromONNX maps a TensorProto.DataType code to a numeric or bool
// dtype; ok is false for element types odmn does not hold (complex,
// bfloat16, float8, int4, ...) and for string (see ValueTypeFromONNX).
func DTypeFromONNX(code int32) (DType, bool) {
	for d := Float32; d < numDTypes; d++ {
		if onnxCodes[d] == code && d != String {
			return d, true
		}
	}
	return Invalid, false
}

// ValueTypeFromONNX is DTypeFromONNX plus STRING (code 8): the element
// types a graph input or output may have.
func ValueTypeFromONNX(code int32) (DType, bool) {
	if code == 8 {
		return String, true
	}
	return DTypeFromONNX(code)
}

// Tensor is a dense row-major array. Exactly one of F, I, B, S, X holds the
// data, chosen by DType: X holds a typed slice for the dtypes of dtype.go
// (use Data[T] to reach any dtype). A scalar has an empty (non-nil) Shape
// and one element.
type Tensor struct {
	DType DType
	Shape []int
	F     []float32
	I     []int64
	B     []bool
	S     []string
	X     any
}

// Size is the number of elements of a shape; an empty shape is a scalar.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// SizeWithin is Size with the checks hostile shapes need: ok is false
// when a dimension is negative or the element count exceeds limit (which
// also rules out overflow). A shape with a zero dimension has 0 elements
// whatever its other dimensions.
func SizeWithin(shape []int, limit int) (n int, ok bool) {
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			return 0, true
		}
	}
	n = 1
	for _, d := range shape {
		if n > limit/d {
			return 0, false
		}
		n *= d
	}
	return n, n <= limit
}

// SizeFloat is the element count of shape as a float64 (for messages about
// shapes whose count overflows int).
func SizeFloat(shape []int) float64 {
	n := 1.0
	for _, d := range shape {
		n *= float64(d)
	}
	return n
}

// Len is the number of elements of t.
func (t *Tensor) Len() int {
	switch t.DType {
	case Float32:
		return len(t.F)
	case Int64:
		return len(t.I)
	case Bool:
		return len(t.B)
	case String:
		return len(t.S)
	}
	if o := extOps(t.DType); o != nil {
		return o.len(t)
	}
	return 0
}

// NewTensor allocates a zero tensor.
func NewTensor(dt DType, shape []int) *Tensor {
	t := &Tensor{DType: dt, Shape: append([]int{}, shape...)}
	n := Size(shape)
	switch dt {
	case Float32:
		t.F = make([]float32, n)
	case Int64:
		t.I = make([]int64, n)
	case Bool:
		t.B = make([]bool, n)
	case String:
		t.S = make([]string, n)
	default:
		if o := extOps(dt); o != nil {
			o.reset(t, n)
		}
	}
	return t
}

// F32 wraps data as a float32 tensor; it panics if the sizes disagree
// (a programming error, not bad input).
func F32(shape []int, data []float32) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("graph.F32: shape %v needs %d values, got %d", shape, Size(shape), len(data)))
	}
	return &Tensor{DType: Float32, Shape: append([]int{}, shape...), F: data}
}

// I64 wraps data as an int64 tensor.
func I64(shape []int, data []int64) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("graph.I64: shape %v needs %d values, got %d", shape, Size(shape), len(data)))
	}
	return &Tensor{DType: Int64, Shape: append([]int{}, shape...), I: data}
}

// Bools wraps data as a bool tensor.
func Bools(shape []int, data []bool) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("graph.Bools: shape %v needs %d values, got %d", shape, Size(shape), len(data)))
	}
	return &Tensor{DType: Bool, Shape: append([]int{}, shape...), B: data}
}

// Strings wraps data as a string tensor.
func Strings(shape []int, data []string) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("graph.Strings: shape %v needs %d values, got %d", shape, Size(shape), len(data)))
	}
	return &Tensor{DType: String, Shape: append([]int{}, shape...), S: data}
}

// ScalarF32 and ScalarI64 make rank-0 tensors.
func ScalarF32(v float32) *Tensor { return F32([]int{}, []float32{v}) }
func ScalarI64(v int64) *Tensor   { return I64([]int{}, []int64{v}) }

// Clone deep-copies t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int{}, t.Shape...)}
	if t.F != nil {
		c.F = append([]float32{}, t.F...)
	}
	if t.I != nil {
		c.I = append([]int64{}, t.I...)
	}
	if t.B != nil {
		c.B = append([]bool{}, t.B...)
	}
	if t.S != nil {
		c.S = append([]string{}, t.S...)
	}
	if o := extOps(t.DType); o != nil && t.X != nil {
		o.reset(c, t.Len())
		o.copy(c, t)
	}
	return c
}

// Reset gives t the dtype and shape asked for, reusing its storage when the
// capacity suffices. The contents are unspecified afterwards.
func (t *Tensor) Reset(dt DType, shape []int) {
	n := Size(shape)
	t.DType = dt
	t.Shape = append(t.Shape[:0], shape...)
	t.F, t.I, t.B, t.S = t.F[:0], t.I[:0], t.B[:0], t.S[:0]
	switch dt {
	case Float32:
		if cap(t.F) < n {
			t.F = make([]float32, n)
		}
		t.F = t.F[:n]
	case Int64:
		if cap(t.I) < n {
			t.I = make([]int64, n)
		}
		t.I = t.I[:n]
	case Bool:
		if cap(t.B) < n {
			t.B = make([]bool, n)
		}
		t.B = t.B[:n]
	case String:
		if cap(t.S) < n {
			t.S = make([]string, n)
		}
		t.S = t.S[:n]
	default:
		if o := extOps(dt); o != nil {
			o.reset(t, n)
		}
	}
}

// Cap is the number of elements of dtype dt that t's storage holds
// without reallocating (0 for storage of another dtype).
func (t *Tensor) Cap(dt DType) int {
	switch dt {
	case Float32:
		return cap(t.F)
	case Int64:
		return cap(t.I)
	case Bool:
		return cap(t.B)
	case String:
		return cap(t.S)
	}
	if t.X == nil || t.DType != dt {
		return 0
	}
	if o := extOps(dt); o != nil {
		return o.cap(t)
	}
	return 0
}

// Bytes is the memory t's storage holds (capacity, every field).
func (t *Tensor) Bytes() int64 {
	n := int64(cap(t.F))*4 + int64(cap(t.I))*8 + int64(cap(t.B)) + int64(cap(t.S))*int64(String.ElemSize())
	if t.X != nil {
		if o := extOps(t.DType); o != nil {
			n += int64(o.cap(t)) * int64(t.DType.ElemSize())
		}
	}
	return n
}

// Elems returns elements [lo, hi) of t as a 1-D tensor sharing t's
// storage (callers reshape it).
func (t *Tensor) Elems(lo, hi int) *Tensor {
	v := &Tensor{DType: t.DType, Shape: []int{hi - lo}}
	switch t.DType {
	case Float32:
		v.F = t.F[lo:hi:hi]
	case Int64:
		v.I = t.I[lo:hi:hi]
	case Bool:
		v.B = t.B[lo:hi:hi]
	case String:
		v.S = t.S[lo:hi:hi]
	default:
		if o := extOps(t.DType); o != nil {
			v.X = o.view(t, lo, hi)
		}
	}
	return v
}

// AppendElems appends src's elements to t's (same dtype; the shape is the
// caller's to set).
func (t *Tensor) AppendElems(src *Tensor) {
	switch src.DType {
	case Float32:
		t.F = append(t.F, src.F...)
	case Int64:
		t.I = append(t.I, src.I...)
	case Bool:
		t.B = append(t.B, src.B...)
	case String:
		t.S = append(t.S, src.S...)
	default:
		if o := extOps(src.DType); o != nil && src.X != nil {
			o.app(t, src)
		}
	}
}

// CopyFrom makes t an exact copy of src, reusing t's storage.
func (t *Tensor) CopyFrom(src *Tensor) {
	t.Reset(src.DType, src.Shape)
	switch src.DType {
	case Float32:
		copy(t.F, src.F)
	case Int64:
		copy(t.I, src.I)
	case Bool:
		copy(t.B, src.B)
	case String:
		copy(t.S, src.S)
	default:
		if o := extOps(src.DType); o != nil {
			o.copy(t, src)
		}
	}
}

// Float returns element i as float64 whatever the dtype (for comparisons
// and printing; NaN for strings).
func (t *Tensor) Float(i int) float64 {
	switch t.DType {
	case Float32:
		return float64(t.F[i])
	case Int64:
		return float64(t.I[i])
	case Bool:
		if t.B[i] {
			return 1
		}
		return 0
	}
	if o := extOps(t.DType); o != nil {
		return o.float(t, i)
	}
	return math.NaN()
}

// Int returns element i of an integer or bool tensor as int64 (floats
// truncate; uint64 above MaxInt64 wraps).
func (t *Tensor) Int(i int) int64 {
	switch t.DType {
	case Int64:
		return t.I[i]
	case Float32:
		return int64(t.F[i])
	case Bool:
		if t.B[i] {
			return 1
		}
		return 0
	}
	if o := extOps(t.DType); o != nil {
		return o.int(t, i)
	}
	return 0
}

// Ints returns an int64 tensor's elements as []int64 (no copy).
func (t *Tensor) Ints() []int64 { return t.I }

func (t *Tensor) String() string {
	const max = 8
	s := fmt.Sprintf("%s%v[", t.DType, t.Shape)
	n := t.Len()
	for i := 0; i < n && i < max; i++ {
		if i > 0 {
			s += " "
		}
		switch t.DType {
		case Float32:
			s += fmt.Sprint(t.F[i])
		case Int64:
			s += fmt.Sprint(t.I[i])
		case Bool:
			s += fmt.Sprint(t.B[i])
		case String:
			s += fmt.Sprintf("%q", t.S[i])
		default:
			s += fmt.Sprint(t.Float(i))
		}
	}
	if n > max {
		s += " ..."
	}
	return s + "]"
}

// SameShape reports whether two concrete shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
