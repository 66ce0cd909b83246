package graph

import (
	"math"
	"strconv"
	"unsafe"
)

// Element types beyond odmn's computing three (float32, int64, bool) exist
// so that the native runtime can run what other exporters emit: ONNX models
// carry float64 features, int32 indices, uint8 masks and float16 weights.
// Training stays float32.
//
// Storage: float32, int64, bool and string keep their named fields (F, I,
// B, S), which the float32 hot path and older code use directly. Every
// other type lives in Tensor.X as a typed slice ([]float64, []int32, ...;
// []Half for float16). Kernels reach any type through Data[T], written
// once as generic functions over the constraints below and dispatched on
// DType (see Dispatch).

// The dtypes after String; their numbering is odmn's, ONNX's codes are in
// ONNX().
const (
	Float64 DType = String + 1 + iota
	Int32
	Int16
	Int8
	Uint8
	Uint16
	Uint32
	Uint64
	Float16
	numDTypes
)

// Half is an IEEE 754 half-precision value (dtype Float16), stored as its
// bits. Kernels compute in float32 and round back (what ONNX Runtime's CPU
// kernels do).
type Half uint16

// Float32 widens h exactly.
func (h Half) Float32() float32 { return f16ToF32(uint16(h)) }

// F16 rounds f to the nearest half (ties to even); overflow gives ±Inf.
func F16(f float32) Half { return Half(f32ToF16(f)) }

// Integer is every integer element type.
type Integer interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64
}

// Float is the float element types computed natively (float16 goes through
// float32).
type Float interface{ float32 | float64 }

// Number is every numeric element type with native arithmetic.
type Number interface{ Integer | Float }

// Elem is every element type a tensor can hold.
type Elem interface {
	Number | bool | string | Half
}

// DTypeOf returns the DType of element type T.
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case int64:
		return Int64
	case bool:
		return Bool
	case string:
		return String
	case float64:
		return Float64
	case int32:
		return Int32
	case int16:
		return Int16
	case int8:
		return Int8
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case Half:
		return Float16
	}
	return Invalid
}

// Data returns t's elements as []T without copying. T must match t.DType
// (a mismatch is a programming error and panics, except that a float32,
// int64, bool or string request on another dtype gives an empty slice).
func Data[T Elem](t *Tensor) []T {
	var z T
	switch any(z).(type) {
	case float32:
		return *(*[]T)(unsafe.Pointer(&t.F))
	case int64:
		return *(*[]T)(unsafe.Pointer(&t.I))
	case bool:
		return *(*[]T)(unsafe.Pointer(&t.B))
	case string:
		return *(*[]T)(unsafe.Pointer(&t.S))
	}
	if t.X == nil {
		return nil
	}
	return t.X.([]T)
}

// FromSlice wraps data as a tensor of T's dtype; it panics if the sizes
// disagree (a programming error, not bad input).
func FromSlice[T Elem](shape []int, data []T) *Tensor {
	if Size(shape) != len(data) {
		panic("graph.FromSlice: shape and data length disagree")
	}
	t := &Tensor{DType: DTypeOf[T](), Shape: append([]int{}, shape...)}
	setData(t, data)
	return t
}

func setData[T Elem](t *Tensor, data []T) {
	var z T
	switch any(z).(type) {
	case float32:
		t.F = *(*[]float32)(unsafe.Pointer(&data))
	case int64:
		t.I = *(*[]int64)(unsafe.Pointer(&data))
	case bool:
		t.B = *(*[]bool)(unsafe.Pointer(&data))
	case string:
		t.S = *(*[]string)(unsafe.Pointer(&data))
	default:
		t.X = data
	}
}

// ElemSize is the size in bytes of one element of dt (strings: the header).
func (d DType) ElemSize() int {
	switch d {
	case Float32, Int32, Uint32:
		return 4
	case Int64, Float64, Uint64:
		return 8
	case Bool, Int8, Uint8:
		return 1
	case Int16, Uint16, Float16:
		return 2
	case String:
		return int(unsafe.Sizeof(""))
	}
	return 0
}

// IsFloat reports a floating-point dtype (float16 included).
func (d DType) IsFloat() bool { return d == Float32 || d == Float64 || d == Float16 }

// IsInteger reports a signed or unsigned integer dtype.
func (d DType) IsInteger() bool {
	switch d {
	case Int64, Int32, Int16, Int8, Uint8, Uint16, Uint32, Uint64:
		return true
	}
	return false
}

// IsNumeric reports a dtype with arithmetic (floats and integers).
func (d DType) IsNumeric() bool { return d.IsFloat() || d.IsInteger() }

// DTypes lists every dtype, in odmn's order.
func DTypes() []DType {
	out := make([]DType, 0, numDTypes-1)
	for d := Float32; d < numDTypes; d++ {
		out = append(out, d)
	}
	return out
}

// Core is the set of dtypes odmn's own ops compute with; an OpDef that
// declares no Types accepts these (and strings only with StringInputs).
var Core = []DType{Float32, Int64, Bool}

// AllNumeric is every numeric dtype; AllTypes adds bool; with strings
// everything.
var (
	AllNumeric = []DType{Float32, Float64, Float16, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64}
	AllTypes   = append(append([]DType{}, AllNumeric...), Bool)
	FloatTypes = []DType{Float32, Float64, Float16}
)

// Dispatch maps a dtype to its kernel: generic kernels are instantiated per
// dtype once, in a table, and the op's Kernel picks the entry for an
// input's dtype. A missing entry is an error naming the dtype.
type Dispatch map[DType]Kernel

// On returns a Kernel that dispatches on the dtype of input i.
func (d Dispatch) On(i int) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		k, ok := d[in[i].DType]
		if !ok {
			return &DTypeError{Input: i, DType: in[i].DType}
		}
		return k(in, a, out)
	}
}

// DTypeError reports an input whose dtype an op does not take (Input -1:
// an attribute's or computed value's).
type DTypeError struct {
	Op    string
	Input int
	DType DType
}

func (e *DTypeError) Error() string {
	if e.Input < 0 { // not an input: an attribute or a computed value
		if e.Op == "" {
			return "element type " + e.DType.String() + " not supported"
		}
		return "op " + e.Op + ": element type " + e.DType.String() + " not supported"
	}
	if e.Op == "" {
		return "input " + strconv.Itoa(e.Input) + ": element type " + e.DType.String() + " not supported"
	}
	return "op " + e.Op + ": input " + strconv.Itoa(e.Input) + ": element type " + e.DType.String() + " not supported"
}

// ---------- float16 conversion (IEEE 754 binary16, round to nearest even) ----------

func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalize
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf or NaN (keep NaN quiet and non-zero)
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // subnormal half or zero
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, up to Inf: correct
	}
	return sign | uint16(half)
}

// ---------- storage of the extended dtypes ----------

// typeOps are Tensor's storage operations for one extended dtype, written
// once generically.
type typeOps struct {
	len   func(t *Tensor) int
	reset func(t *Tensor, n int)
	copy  func(dst, src *Tensor)
	float func(t *Tensor, i int) float64
	int   func(t *Tensor, i int) int64
	cap   func(t *Tensor) int
	view  func(t *Tensor, lo, hi int) any
	app   func(dst, src *Tensor)
}

func opsFor[T Number | Half]() *typeOps {
	return &typeOps{
		len: func(t *Tensor) int { s, _ := t.X.([]T); return len(s) },
		reset: func(t *Tensor, n int) {
			s, _ := t.X.([]T)
			if cap(s) < n {
				t.X = make([]T, n)
				return
			}
			if len(s) != n || t.X == nil {
				t.X = s[:n] // boxing allocates a header only when the length changes
			}
		},
		copy: func(dst, src *Tensor) { copy(dst.X.([]T), src.X.([]T)) },
		float: func(t *Tensor, i int) float64 {
			v := t.X.([]T)[i]
			if h, ok := any(v).(Half); ok {
				return float64(h.Float32())
			}
			return float64(v)
		},
		int: func(t *Tensor, i int) int64 {
			v := t.X.([]T)[i]
			if h, ok := any(v).(Half); ok {
				return int64(h.Float32())
			}
			return int64(v)
		},
		cap:  func(t *Tensor) int { s, _ := t.X.([]T); return cap(s) },
		view: func(t *Tensor, lo, hi int) any { return t.X.([]T)[lo:hi:hi] },
		app: func(dst, src *Tensor) {
			d, _ := dst.X.([]T)
			dst.X = append(d, src.X.([]T)...)
		},
	}
}

var extTable = [numDTypes]*typeOps{
	Float64: opsFor[float64](),
	Int32:   opsFor[int32](),
	Int16:   opsFor[int16](),
	Int8:    opsFor[int8](),
	Uint8:   opsFor[uint8](),
	Uint16:  opsFor[uint16](),
	Uint32:  opsFor[uint32](),
	Uint64:  opsFor[uint64](),
	Float16: opsFor[Half](),
}

func extOps(d DType) *typeOps {
	if d >= numDTypes {
		return nil
	}
	return extTable[d]
}

// isFloatT reports whether T is a float type (shared by generic kernels).
func isFloatT[T Number]() bool {
	var z T
	switch any(z).(type) {
	case float32, float64:
		return true
	}
	return false
}
