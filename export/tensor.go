package export

import (
	"encoding/binary"
	"fmt"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// MaxTensorElements bounds the number of elements TensorFromProto accepts,
// so that a corrupt or hostile file cannot make it allocate without limit
// (2^31 elements, 8 GiB of float32).
const MaxTensorElements = 1 << 31

// UnsupportedDTypeError reports a tensor whose element type odmn does not
// hold (complex, bfloat16, float8, int4, ...). The importer and the
// conformance runner treat it as "outside the vocabulary", not as a bug.
type UnsupportedDTypeError struct {
	Tensor string // the tensor's name, or a description of where it is
	Code   int32  // the TensorProto.DataType code
}

func (e *UnsupportedDTypeError) Error() string {
	return fmt.Sprintf("tensor %s: element type %s is not supported",
		tensorLabel(e.Tensor), DTypeName(e.Code))
}

// DTypeName names a TensorProto.DataType code as ONNX does (FLOAT, INT64, ...).
func DTypeName(code int32) string {
	if s, ok := onnxpb.TensorProto_DataType_name[code]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", code)
}

func tensorLabel(name string) string {
	if name == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", name)
}

// TensorToProto converts t to a TensorProto named name: numeric and bool
// data in raw_data (little-endian; bool as one byte per element, float16
// as its IEEE bits), strings in string_data (ONNX forbids raw strings).
func TensorToProto(name string, t *graph.Tensor) (*onnxpb.TensorProto, error) {
	if t == nil {
		return nil, fmt.Errorf("tensor %s: nil tensor", tensorLabel(name))
	}
	n := graph.Size(t.Shape)
	if t.Len() != n {
		return nil, fmt.Errorf("tensor %s: %s holds %d values for shape %v (%d)", tensorLabel(name), t.DType, t.Len(), t.Shape, n)
	}
	p := &onnxpb.TensorProto{Dims: make([]int64, len(t.Shape))}
	for i, d := range t.Shape {
		p.Dims[i] = int64(d)
	}
	if name != "" {
		p.Name = &name
	}
	dt := t.DType.ONNX()
	if dt == 0 {
		return nil, fmt.Errorf("tensor %s: element type %s cannot be exported", tensorLabel(name), t.DType)
	}
	p.DataType = &dt
	if t.DType == graph.String {
		p.StringData = make([][]byte, n)
		for i, s := range t.S {
			p.StringData[i] = []byte(s)
		}
		return p, nil
	}
	raw, err := rawData(t)
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", tensorLabel(name), err)
	}
	p.RawData = raw
	return p, nil
}

// rawData encodes a numeric or bool tensor little-endian.
func rawData(t *graph.Tensor) ([]byte, error) {
	var data any
	switch t.DType {
	case graph.Float32:
		data = t.F
	case graph.Int64:
		data = t.I
	case graph.Bool:
		data = t.B
	case graph.Float16:
		// encoding/binary would take []graph.Half through reflection.
		h := graph.Data[graph.Half](t)
		raw := make([]byte, 2*len(h))
		for i, v := range h {
			binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
		}
		return raw, nil
	default:
		data = t.X
	}
	if data == nil {
		return []byte{}, nil
	}
	raw, err := binary.Append(make([]byte, 0, t.Len()*t.DType.ElemSize()), binary.LittleEndian, data)
	if err != nil {
		return nil, fmt.Errorf("element type %s cannot be exported: %w", t.DType, err)
	}
	return raw, nil
}

// TensorFromProto converts a TensorProto to a tensor. It reads raw_data
// (little-endian) or the typed field ONNX assigns to the element type:
// float_data (FLOAT), int32_data (INT32, INT16, INT8, UINT16, UINT8, BOOL,
// and FLOAT16 as bits), int64_data (INT64), uint64_data (UINT32, UINT64),
// double_data (DOUBLE), string_data (STRING). Errors name the tensor: an
// element type outside odmn's (an *UnsupportedDTypeError: complex,
// bfloat16, float8, int4, ...), external or segmented data, negative or
// overflowing dims, and data whose size does not match dims.
func TensorFromProto(p *onnxpb.TensorProto) (*graph.Tensor, error) {
	name := p.GetName()
	code := p.GetDataType()
	dt, ok := graph.ValueTypeFromONNX(code)
	if !ok {
		return nil, &UnsupportedDTypeError{Tensor: name, Code: code}
	}
	if p.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(p.GetExternalData()) > 0 {
		return nil, fmt.Errorf("tensor %s: external data is not supported", tensorLabel(name))
	}
	if p.Segment != nil {
		return nil, fmt.Errorf("tensor %s: segmented tensors are not supported", tensorLabel(name))
	}
	shape, n, err := ShapeFromDims(p.GetDims())
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", tensorLabel(name), err)
	}
	// A typed field of another element type is a malformed tensor, not
	// something to ignore.
	typed := map[string]int{
		"float_data":  len(p.GetFloatData()),
		"int64_data":  len(p.GetInt64Data()),
		"int32_data":  len(p.GetInt32Data()),
		"double_data": len(p.GetDoubleData()),
		"uint64_data": len(p.GetUint64Data()),
		"string_data": len(p.GetStringData()),
	}
	want := typedField(dt)
	for field, k := range typed {
		if k > 0 && (field != want || p.RawData != nil) {
			return nil, fmt.Errorf("tensor %s: %s %s tensor has %s set", tensorLabel(name), DTypeName(code), dataKind(p), field)
		}
	}
	if p.RawData != nil {
		if dt == graph.String {
			return nil, fmt.Errorf("tensor %s: STRING tensor has raw_data set (strings go in string_data)", tensorLabel(name))
		}
		raw := p.RawData
		size := dt.ElemSize()
		if len(raw) != size*n {
			return nil, fmt.Errorf("tensor %s: raw_data has %d bytes, but dims %v need %d (%d elements of %d bytes)",
				tensorLabel(name), len(raw), shape, size*n, n, size)
		}
		t := graph.NewTensor(dt, shape)
		if err := decodeRaw(t, raw); err != nil {
			return nil, fmt.Errorf("tensor %s: %w", tensorLabel(name), err)
		}
		return t, nil
	}
	if got := typed[want]; got != n {
		return nil, fmt.Errorf("tensor %s: %s has %d values, but dims %v need %d", tensorLabel(name), want, got, shape, n)
	}
	t := &graph.Tensor{DType: dt, Shape: shape}
	switch dt {
	case graph.Float32:
		t.F = append(make([]float32, 0, n), p.FloatData...)
	case graph.Int64:
		t.I = append(make([]int64, 0, n), p.Int64Data...)
	case graph.Bool:
		t.B = make([]bool, n)
		for i, v := range p.Int32Data {
			t.B[i] = v != 0
		}
	case graph.String:
		t.S = make([]string, n)
		for i, v := range p.StringData {
			t.S[i] = string(v)
		}
	case graph.Float64:
		t.X = append(make([]float64, 0, n), p.DoubleData...)
	case graph.Int32:
		t.X = append(make([]int32, 0, n), p.Int32Data...)
	case graph.Int16:
		t.X = narrow[int16](p.Int32Data)
	case graph.Int8:
		t.X = narrow[int8](p.Int32Data)
	case graph.Uint16:
		t.X = narrow[uint16](p.Int32Data)
	case graph.Uint8:
		t.X = narrow[uint8](p.Int32Data)
	case graph.Float16:
		t.X = narrow[graph.Half](p.Int32Data)
	case graph.Uint32:
		t.X = narrow[uint32](p.Uint64Data)
	case graph.Uint64:
		t.X = append(make([]uint64, 0, n), p.Uint64Data...)
	}
	return t, nil
}

// typedField names the TensorProto field that holds dt's values when
// raw_data is not used.
func typedField(dt graph.DType) string {
	switch dt {
	case graph.Float32:
		return "float_data"
	case graph.Int64:
		return "int64_data"
	case graph.Float64:
		return "double_data"
	case graph.Uint32, graph.Uint64:
		return "uint64_data"
	case graph.String:
		return "string_data"
	}
	return "int32_data" // int32, int16, int8, uint16, uint8, bool, float16 (bits)
}

// narrow converts the wide typed field values to T (ONNX stores the small
// types widened; the bits that do not fit are dropped as ONNX's reference
// implementation does).
func narrow[T int8 | int16 | uint8 | uint16 | uint32 | graph.Half, S int32 | uint64](v []S) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// decodeRaw fills t (allocated with its dtype and shape) from little-endian raw.
func decodeRaw(t *graph.Tensor, raw []byte) error {
	var data any
	switch t.DType {
	case graph.Float32:
		data = t.F
	case graph.Int64:
		data = t.I
	case graph.Bool:
		for i, b := range raw {
			t.B[i] = b != 0 // any non-zero byte is true, as numpy reads it
		}
		return nil
	case graph.Float16:
		h := graph.Data[graph.Half](t)
		for i := range h {
			h[i] = graph.Half(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		return nil
	default:
		data = t.X
	}
	if len(raw) == 0 {
		return nil
	}
	_, err := binary.Decode(raw, binary.LittleEndian, data)
	return err
}

func dataKind(p *onnxpb.TensorProto) string {
	if p.RawData != nil {
		return "raw_data"
	}
	return "typed-data"
}

// ShapeFromDims converts ONNX dims to a shape, rejecting negative dims and
// element counts above MaxTensorElements (which also rules out overflow).
// It returns the shape and its element count.
func ShapeFromDims(dims []int64) ([]int, int, error) {
	shape := make([]int, len(dims))
	zero := false
	for i, d := range dims {
		if d < 0 {
			return nil, 0, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		if d > MaxTensorElements {
			return nil, 0, fmt.Errorf("dimension %d is too large (%d)", i, d)
		}
		shape[i] = int(d)
		zero = zero || d == 0
	}
	if zero {
		return shape, 0, nil
	}
	n := int64(1)
	for _, d := range dims {
		n *= d // both factors are at most 2^31, so this cannot overflow
		if n > MaxTensorElements {
			return nil, 0, fmt.Errorf("dims %v have more than %d elements", dims, int64(MaxTensorElements))
		}
	}
	return shape, int(n), nil
}
