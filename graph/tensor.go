package graph

import (
	"fmt"
	"math"
)

// DType is the element type of a tensor. odmn computes in float32 and keeps
// int64 and bool for indices, shapes and masks, as ONNX models do. String
// exists only at a model's edge: raw categorical inputs, which the
// ai.onnx.ml LabelEncoder turns into int64 ids (graph.Apply refuses string
// inputs to every op that does not declare OpDef.StringInputs).
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
	}
	return "invalid"
}

// ONNX returns the TensorProto.DataType code of d.
func (d DType) ONNX() int32 {
	switch d {
	case Float32:
		return 1
	case Int64:
		return 7
	case Bool:
		return 9
	case String:
		return 8
	}
	return 0
}

// DTypeFromONNX maps a TensorProto.DataType code to one of the dtypes odmn
// computes with (float32, int64, bool); ok is false for every other element
// type, string included (see ValueTypeFromONNX).
func DTypeFromONNX(code int32) (DType, bool) {
	switch code {
	case 1:
		return Float32, true
	case 7:
		return Int64, true
	case 9:
		return Bool, true
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

// Tensor is a dense row-major array. Exactly one of F, I, B, S holds the
// data, chosen by DType. A scalar has an empty (non-nil) Shape and one
// element.
type Tensor struct {
	DType DType
	Shape []int
	F     []float32
	I     []int64
	B     []bool
	S     []string
}

// Size is the number of elements of a shape; an empty shape is a scalar.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
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
	return math.NaN()
}

// Int returns element i of an int64 or bool tensor as int64 (float32 truncates).
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
