package graph

import (
	"fmt"
	"math"
	"reflect"
	"unsafe"
)

// Helpers for the ops that move elements without computing on them
// (reshapes, transposes, slices, gathers, pads, ...) and for the sizes
// those ops compute at run time.
//
// A move only needs an element's width: the kernels are written once over
// a raw element type (uint8, uint16, uint32, uint64 or string) and byWidth
// instantiates them for every dtype of that width. Strings stay strings so
// the garbage collector still sees their pointers.

// rawElem is the element type a move kernel is instantiated with.
type rawElem interface {
	uint8 | uint16 | uint32 | uint64 | string
}

// raw views t's elements as []T, T of t's element width (string for
// strings), without copying.
func raw[T rawElem](t *Tensor) []T {
	var p unsafe.Pointer
	n := t.Len()
	if n == 0 {
		return nil
	}
	switch t.DType {
	case Float32:
		p = unsafe.Pointer(unsafe.SliceData(t.F))
	case Int64:
		p = unsafe.Pointer(unsafe.SliceData(t.I))
	case Bool:
		p = unsafe.Pointer(unsafe.SliceData(t.B))
	case String:
		p = unsafe.Pointer(unsafe.SliceData(t.S))
	default:
		p = reflect.ValueOf(t.X).UnsafePointer()
	}
	var z T
	if int(unsafe.Sizeof(z)) != t.DType.ElemSize() {
		panic("graph: raw view of " + t.DType.String() + " with the wrong width")
	}
	return unsafe.Slice((*T)(p), n)
}

// byWidth returns a kernel that runs the instantiation of a move kernel
// for the element width of input i.
func byWidth(i int, k8, k16, k32, k64, ks Kernel) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		dt := in[i].DType
		if dt == String {
			return ks(in, a, out)
		}
		switch dt.ElemSize() {
		case 1:
			return k8(in, a, out)
		case 2:
			return k16(in, a, out)
		case 4:
			return k32(in, a, out)
		case 8:
			return k64(in, a, out)
		}
		return &DTypeError{Input: i, DType: dt}
	}
}

// copyRaw copies src's elements into dst (same dtype and size).
func copyRaw[T rawElem](dst, src *Tensor) { copy(raw[T](dst), raw[T](src)) }

// copyData copies the elements of src into dst (same dtype and size): the
// kernel of every op that only changes the shape.
func copyData(dst, src *Tensor) {
	switch src.DType {
	case Float32:
		copy(dst.F, src.F)
	case Int64:
		copy(dst.I, src.I)
	case Bool:
		copy(dst.B, src.B)
	case String:
		copy(dst.S, src.S)
	default:
		switch src.DType.ElemSize() {
		case 1:
			copyRaw[uint8](dst, src)
		case 2:
			copyRaw[uint16](dst, src)
		case 4:
			copyRaw[uint32](dst, src)
		case 8:
			copyRaw[uint64](dst, src)
		}
	}
}

// copyKernel is the kernel of the ops whose output is input 0 reshaped.
func copyKernel(in []*Tensor, _ Attrs, out []*Tensor) error {
	copyData(out[0], in[0])
	return nil
}

// maxElements bounds each dimension an op computes (Tile, Pad, Expand,
// ConstantOfShape, OneHot, ...), so that no dimension overflows an int.
// Element counts are not checked here: the native runtime refuses, before
// allocating, an output beyond its limits (native.Options.MaxElements and
// MaxBytes) with an error naming the node and the size, whatever the op.
const maxElements = math.MaxInt64 / 16

// checkShape refuses negative dimensions other than -1 (unknown while
// building) in a shape an op computed.
func checkShape(shape []int) error {
	for _, d := range shape {
		if d < -1 {
			return fmt.Errorf("shape %v has negative dimension %d", shape, d)
		}
	}
	return nil
}

// dimOf converts a dimension given as int64 (a shape input's value),
// refusing values that do not fit the bound.
func dimOf(v int64, what string) (int, error) {
	if v < 0 {
		return 0, fmt.Errorf("%s has negative dimension %d", what, v)
	}
	if v > maxElements {
		return 0, fmt.Errorf("%s has dimension %d, too large", what, v)
	}
	return int(v), nil
}

// indexVals returns an int32 or int64 tensor's values as []int64 (no copy
// for int64).
func indexVals(t *Tensor) []int64 {
	switch t.DType {
	case Int64:
		return t.I
	case Int32:
		v := Data[int32](t)
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	}
	out := make([]int64, t.Len())
	for i := range out {
		out[i] = t.Int(i)
	}
	return out
}

// isIndexType reports the dtypes ONNX allows for indices (Tind).
func isIndexType(dt DType) bool { return dt == Int64 || dt == Int32 }

// withStrings is AllTypes plus String, for the ops that move elements and
// so take strings as ONNX does.
var withStrings = append(append([]DType{}, AllTypes...), String)

// halfIn widens a float16 tensor to float32 (a new tensor); other dtypes
// are returned as is.
func halfIn(t *Tensor) *Tensor {
	if t == nil || t.DType != Float16 {
		return t
	}
	h := Data[Half](t)
	f := make([]float32, len(h))
	for i, v := range h {
		f[i] = v.Float32()
	}
	return F32(t.Shape, f)
}

// viaFloat32 runs a float32 kernel on float16 tensors: the float16 inputs
// are widened, the outputs computed in float32 and rounded back (as ONNX
// Runtime's CPU kernels do). Other inputs and outputs pass through.
func viaFloat32(k Kernel) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		win := make([]*Tensor, len(in))
		for i, t := range in {
			win[i] = halfIn(t)
		}
		wout := make([]*Tensor, len(out))
		for i, t := range out {
			wout[i] = t
			if t.DType == Float16 {
				wout[i] = NewTensor(Float32, t.Shape)
			}
		}
		if err := k(win, a, wout); err != nil {
			return err
		}
		for i, t := range out {
			if t.DType == Float16 {
				h := Data[Half](t)
				for j, v := range wout[i].F {
					h[j] = F16(v)
				}
			}
		}
		return nil
	}
}

// unsupportedf is unsupported without an op name (Apply prefixes it).
func unsupportedf(format string, args ...any) error {
	return &UnsupportedError{What: fmt.Sprintf(format, args...)}
}
