package onnxpb_test

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/onnxpb"
)

func TestModelRoundTrip(t *testing.T) {
	dir := testenv.RequireNodeTestData(t)
	path := filepath.Join(dir, "test_add", "model.onnx")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	var m onnxpb.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		t.Fatalf("unmarshal %s: %v", path, err)
	}
	g := m.GetGraph()
	if g == nil {
		t.Fatal("model has no graph")
	}
	if n := len(g.GetNode()); n != 1 || g.GetNode()[0].GetOpType() != "Add" {
		t.Fatalf("want one Add node, got %v", g.GetNode())
	}
	var in []string
	for _, vi := range g.GetInput() {
		in = append(in, vi.GetName())
	}
	if len(in) != 2 || in[0] != "x" || in[1] != "y" {
		t.Fatalf("inputs = %v, want [x y]", in)
	}
	out := g.GetOutput()
	if len(out) != 1 || out[0].GetName() != "sum" {
		t.Fatalf("outputs = %v, want [sum]", out)
	}
	tt := out[0].GetType().GetTensorType()
	if tt.GetElemType() != int32(onnxpb.TensorProto_FLOAT) {
		t.Errorf("sum elem_type = %d, want FLOAT", tt.GetElemType())
	}
	var dims []int64
	for _, d := range tt.GetShape().GetDim() {
		dims = append(dims, d.GetDimValue())
	}
	if len(dims) != 3 || dims[0] != 3 || dims[1] != 4 || dims[2] != 5 {
		t.Errorf("sum dims = %v, want [3 4 5]", dims)
	}
	if len(m.GetOpsetImport()) == 0 || m.GetIrVersion() == 0 {
		t.Errorf("ir_version %d, opset_import %v: want both set", m.GetIrVersion(), m.GetOpsetImport())
	}

	// Marshal and parse again: the messages must be equal. (Byte equality is
	// not promised by protobuf, so compare messages.)
	again, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	var m2 onnxpb.ModelProto
	if err := proto.Unmarshal(again, &m2); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&m, &m2) {
		t.Fatal("model changed in a Marshal/Unmarshal round trip")
	}
	// Deterministic marshaling of the same message is stable.
	opts := proto.MarshalOptions{Deterministic: true}
	b1, _ := opts.Marshal(&m)
	b2, _ := opts.Marshal(&m2)
	if string(b1) != string(b2) {
		t.Fatal("deterministic marshal differs after round trip")
	}
}

func TestTensorProtoParse(t *testing.T) {
	dir := testenv.RequireNodeTestData(t)
	data, err := os.ReadFile(filepath.Join(dir, "test_add", "test_data_set_0", "input_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		t.Fatal(err)
	}
	if tp.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
		t.Fatalf("data_type = %d, want FLOAT", tp.GetDataType())
	}
	if got, want := len(tp.GetRawData()), 3*4*5*4; got != want {
		t.Fatalf("raw_data has %d bytes, want %d", got, want)
	}
}
