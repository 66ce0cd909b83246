package export_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

func TestTensorRoundTrip(t *testing.T) {
	for _, x := range []*graph.Tensor{
		graph.F32([]int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), float32(math.NaN()), 0}),
		graph.ScalarF32(7),
		graph.I64([]int{4}, []int64{1, -1, math.MaxInt64, math.MinInt64}),
		graph.ScalarI64(-3),
		graph.Bools([]int{3, 1}, []bool{true, false, true}),
		graph.NewTensor(graph.Float32, []int{0, 5}),
		graph.NewTensor(graph.Bool, []int{}),
		graph.FromSlice([]int{3}, []float64{1.25, math.Inf(-1), math.MaxFloat64}),
		graph.FromSlice([]int{2}, []int32{math.MinInt32, 7}),
		graph.FromSlice([]int{2}, []int16{-300, math.MaxInt16}),
		graph.FromSlice([]int{2}, []int8{-128, 127}),
		graph.FromSlice([]int{2}, []uint8{0, 255}),
		graph.FromSlice([]int{2}, []uint16{65535, 1}),
		graph.FromSlice([]int{2}, []uint32{math.MaxUint32, 3}),
		graph.FromSlice([]int{2}, []uint64{math.MaxUint64, 3}),
		graph.FromSlice([]int{1, 3}, []graph.Half{graph.F16(1.5), graph.F16(-65504), graph.F16(float32(math.NaN()))}),
		graph.FromSlice([]int{}, []int32{5}),
		graph.NewTensor(graph.Uint8, []int{0}),
	} {
		p, err := export.TensorToProto("t", x)
		if err != nil {
			t.Fatal(err)
		}
		if p.GetName() != "t" || p.RawData == nil || p.GetDataType() != x.DType.ONNX() || len(p.RawData) != x.Len()*x.DType.ElemSize() {
			t.Fatalf("proto %v", p)
		}
		b, _ := proto.Marshal(p)
		q := &onnxpb.TensorProto{}
		if err := proto.Unmarshal(b, q); err != nil {
			t.Fatal(err)
		}
		y, err := export.TensorFromProto(q)
		if err != nil {
			t.Fatal(err)
		}
		if y.DType != x.DType || !graph.SameShape(x.Shape, y.Shape) || y.Len() != x.Len() {
			t.Fatalf("%v became %v", x, y)
		}
		for i := 0; i < x.Len(); i++ {
			if x.DType.IsInteger() {
				if x.Int(i) != y.Int(i) || fmt.Sprint(x) != fmt.Sprint(y) {
					t.Fatalf("%v became %v", x.I, y.I)
				}
				continue
			}
			a, b := x.Float(i), y.Float(i)
			if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
				t.Fatalf("%v became %v", x, y)
			}
		}
	}
}

func i32(v int32) *int32 { return &v }

func TestTensorFromTypedFields(t *testing.T) {
	f, err := export.TensorFromProto(&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(1), FloatData: []float32{1.5, 2}})
	if err != nil || f.F[0] != 1.5 || f.F[1] != 2 {
		t.Fatalf("float_data: %v %v", f, err)
	}
	i, err := export.TensorFromProto(&onnxpb.TensorProto{Dims: []int64{1, 2}, DataType: i32(7), Int64Data: []int64{5, -6}})
	if err != nil || i.I[1] != -6 || len(i.Shape) != 2 {
		t.Fatalf("int64_data: %v %v", i, err)
	}
	b, err := export.TensorFromProto(&onnxpb.TensorProto{Dims: []int64{3}, DataType: i32(9), Int32Data: []int32{1, 0, 2}})
	if err != nil || !b.B[0] || b.B[1] || !b.B[2] {
		t.Fatalf("int32_data bool: %v %v", b, err)
	}
	s, err := export.TensorFromProto(&onnxpb.TensorProto{DataType: i32(1), FloatData: []float32{4}})
	if err != nil || len(s.Shape) != 0 || s.F[0] != 4 {
		t.Fatalf("scalar: %v %v", s, err)
	}
}

func TestTensorFromProtoErrors(t *testing.T) {
	name := proto.String("w")
	ext := onnxpb.TensorProto_EXTERNAL
	for _, c := range []struct {
		p    *onnxpb.TensorProto
		want string
	}{
		{&onnxpb.TensorProto{Name: name, DataType: i32(14), Dims: []int64{1}, FloatData: []float32{1, 0}}, `tensor "w": element type COMPLEX64 is not supported`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(11), Dims: []int64{1}, FloatData: []float32{1}}, `DOUBLE typed-data tensor has float_data set`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(8), Dims: []int64{1}, RawData: []byte{1}}, `STRING tensor has raw_data set`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(12), Dims: []int64{2}, Uint64Data: []uint64{1}}, `uint64_data has 1 values, but dims [2] need 2`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(1), Dims: []int64{2, 2}, FloatData: []float32{1, 2, 3}}, `tensor "w": float_data has 3 values, but dims [2 2] need 4`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(7), Dims: []int64{2}, RawData: make([]byte, 15)}, `tensor "w": raw_data has 15 bytes, but dims [2] need 16`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(1), Dims: []int64{-1}}, `tensor "w": dimension 0 is negative`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(1), Dims: []int64{1 << 20, 1 << 20, 1 << 20}}, `more than`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(1), Dims: []int64{1 << 32, 1 << 32}}, `too large`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(1), Dims: []int64{1}, DataLocation: &ext}, `external data`},
		{&onnxpb.TensorProto{Name: name, DataType: i32(1), Dims: []int64{1}, Int64Data: []int64{1}}, `int64_data`},
		{&onnxpb.TensorProto{DataType: i32(1), Dims: []int64{1}}, `tensor (unnamed): float_data has 0 values`},
	} {
		_, err := export.TensorFromProto(c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.p, err, c.want)
		}
	}
	_, err := export.TensorFromProto(&onnxpb.TensorProto{DataType: i32(16), Dims: []int64{1}})
	var dt *export.UnsupportedDTypeError
	if !errors.As(err, &dt) || dt.Code != 16 {
		t.Errorf("bfloat16: %v, want an UnsupportedDTypeError", err)
	}
}

func TestTensorToProtoErrors(t *testing.T) {
	bad := &graph.Tensor{DType: graph.Float32, Shape: []int{3}, F: []float32{1}}
	if _, err := export.TensorToProto("b", bad); err == nil || !strings.Contains(err.Error(), `tensor "b"`) {
		t.Fatalf("size mismatch: %v", err)
	}
}

func TestTensorFromTypedFieldsEveryType(t *testing.T) {
	for _, c := range []struct {
		p    *onnxpb.TensorProto
		want *graph.Tensor
	}{
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(11), DoubleData: []float64{0.1, -2}}, graph.FromSlice([]int{2}, []float64{0.1, -2})},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(6), Int32Data: []int32{-5, 1 << 30}}, graph.FromSlice([]int{2}, []int32{-5, 1 << 30})},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(5), Int32Data: []int32{-5, 300}}, graph.FromSlice([]int{2}, []int16{-5, 300})},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(3), Int32Data: []int32{-5, 100}}, graph.FromSlice([]int{2}, []int8{-5, 100})},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(2), Int32Data: []int32{200, 1}}, graph.FromSlice([]int{2}, []uint8{200, 1})},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(4), Int32Data: []int32{60000, 1}}, graph.FromSlice([]int{2}, []uint16{60000, 1})},
		{&onnxpb.TensorProto{Dims: []int64{1}, DataType: i32(10), Int32Data: []int32{0x3e00}}, graph.FromSlice([]int{1}, []graph.Half{graph.F16(1.5)})},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(12), Uint64Data: []uint64{4000000000, 2}}, graph.FromSlice([]int{2}, []uint32{4000000000, 2})},
		{&onnxpb.TensorProto{Dims: []int64{1}, DataType: i32(13), Uint64Data: []uint64{math.MaxUint64}}, graph.FromSlice([]int{1}, []uint64{math.MaxUint64})},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: i32(8), StringData: [][]byte{[]byte("a"), []byte("")}}, graph.Strings([]int{2}, []string{"a", ""})},
	} {
		got, err := export.TensorFromProto(c.p)
		if err != nil {
			t.Fatalf("%v: %v", c.p, err)
		}
		if got.DType != c.want.DType || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: got %v, want %v", c.p, got, c.want)
		}
	}
	s, err := export.TensorToProto("s", graph.Strings([]int{1}, []string{"x"}))
	if err != nil || len(s.StringData) != 1 || string(s.StringData[0]) != "x" || s.RawData != nil {
		t.Fatalf("string export: %v %v", s, err)
	}
}
