package export

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// MaxTensorElements bounds the number of elements TensorFromProto accepts,
// so that a corrupt or hostile file cannot make it allocate without limit
// (2^31 elements, 8 GiB of float32).
const MaxTensorElements = 1 << 31

// UnsupportedDTypeError reports a tensor whose element type odmn does not
// compute with (anything but float, int64 and bool). The importer and the
// conformance runner treat it as "outside the vocabulary", not as a bug.
type UnsupportedDTypeError struct {
	Tensor string // the tensor's name, or a description of where it is
	Code   int32  // the TensorProto.DataType code
}

func (e *UnsupportedDTypeError) Error() string {
	return fmt.Sprintf("tensor %s: element type %s is not supported (odmn supports float, int64 and bool)",
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

// TensorToProto converts t to a TensorProto named name, with its data in
// raw_data (little-endian; bool as one byte per element).
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
	var raw []byte
	switch t.DType {
	case graph.Float32:
		raw = make([]byte, 4*n)
		for i, v := range t.F {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case graph.Int64:
		raw = make([]byte, 8*n)
		for i, v := range t.I {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	case graph.Bool:
		raw = make([]byte, n)
		for i, v := range t.B {
			if v {
				raw[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("tensor %s: element type %s cannot be exported", tensorLabel(name), t.DType)
	}
	dt := t.DType.ONNX()
	p.DataType = &dt
	p.RawData = raw
	return p, nil
}

// TensorFromProto converts a TensorProto to a tensor. It reads raw_data
// (little-endian) or the typed fields: float_data for FLOAT, int64_data for
// INT64, int32_data for BOOL. Errors name the tensor: an element type
// outside odmn's (an *UnsupportedDTypeError), external or segmented data,
// negative or overflowing dims, and data whose size does not match dims.
func TensorFromProto(p *onnxpb.TensorProto) (*graph.Tensor, error) {
	name := p.GetName()
	code := p.GetDataType()
	dt, ok := graph.DTypeFromONNX(code)
	if !ok || (dt != graph.Float32 && dt != graph.Int64 && dt != graph.Bool) {
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
	mismatch := func(field string, got int) error {
		return fmt.Errorf("tensor %s: %s has %d values, but dims %v need %d", tensorLabel(name), field, got, shape, n)
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
	want := map[graph.DType]string{graph.Float32: "float_data", graph.Int64: "int64_data", graph.Bool: "int32_data"}[dt]
	for field, k := range typed {
		if k > 0 && (field != want || p.RawData != nil) {
			return nil, fmt.Errorf("tensor %s: %s %s tensor has %s set", tensorLabel(name), DTypeName(code), dataKind(p), field)
		}
	}
	t := &graph.Tensor{DType: dt, Shape: shape}
	if p.RawData != nil {
		raw := p.RawData
		size := map[graph.DType]int{graph.Float32: 4, graph.Int64: 8, graph.Bool: 1}[dt]
		if len(raw) != size*n {
			return nil, fmt.Errorf("tensor %s: raw_data has %d bytes, but dims %v need %d (%d elements of %d bytes)",
				tensorLabel(name), len(raw), shape, size*n, n, size)
		}
		switch dt {
		case graph.Float32:
			t.F = make([]float32, n)
			for i := range t.F {
				t.F[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case graph.Int64:
			t.I = make([]int64, n)
			for i := range t.I {
				t.I[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		case graph.Bool:
			t.B = make([]bool, n)
			for i := range t.B {
				t.B[i] = raw[i] != 0
			}
		}
		return t, nil
	}
	switch dt {
	case graph.Float32:
		if len(p.FloatData) != n {
			return nil, mismatch("float_data", len(p.FloatData))
		}
		t.F = append(make([]float32, 0, n), p.FloatData...)
	case graph.Int64:
		if len(p.Int64Data) != n {
			return nil, mismatch("int64_data", len(p.Int64Data))
		}
		t.I = append(make([]int64, 0, n), p.Int64Data...)
	case graph.Bool:
		if len(p.Int32Data) != n {
			return nil, mismatch("int32_data", len(p.Int32Data))
		}
		t.B = make([]bool, n)
		for i, v := range p.Int32Data {
			t.B[i] = v != 0
		}
	}
	return t, nil
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
