package ort_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/ort"
)

var _ runtime.Session = (*ort.Session)(nil)

// TestLibraryPathAgreesWithTestenv checks LibraryPath's errors and that
// the test helpers see the library exactly when the runtime does.
func TestLibraryPathAgreesWithTestenv(t *testing.T) {
	check := func(label string) {
		t.Helper()
		got, err := ort.LibraryPath()
		want, where := testenv.LibPath()
		if (err == nil) != (want != "") || got != want {
			t.Errorf("%s: ort.LibraryPath() = %q, %v; testenv.LibPath() = %q (%s)", label, got, err, want, where)
		}
		if err != nil {
			if !errors.Is(err, ort.ErrLibNotFound) {
				t.Errorf("%s: error %v does not wrap ErrLibNotFound", label, err)
			}
			for _, hint := range []string{"make ort", "scripts/fetch-ort.sh", "ODMN_ORT_LIB"} {
				if !strings.Contains(err.Error(), hint) {
					t.Errorf("%s: error %q does not mention %s", label, err, hint)
				}
			}
		}
	}
	check("environment as given")

	t.Setenv(ort.LibEnv, filepath.Join(t.TempDir(), "nope.so"))
	check("ODMN_ORT_LIB names a missing file")

	t.Setenv(ort.LibEnv, "")
	check("ODMN_ORT_LIB unset")

	// Outside the module nothing is found.
	wd, _ := os.Getwd()
	t.Chdir(t.TempDir())
	check("outside the odmn module")
	t.Chdir(wd)
}

// loadTensor reads a serialized TensorProto (a node test's input_N.pb or
// output_N.pb) into a graph.Tensor.
func loadTensor(t *testing.T, path string) (string, *graph.Tensor) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tn, err := tensorFromProto(&tp)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tp.GetName(), tn
}

func tensorFromProto(tp *onnxpb.TensorProto) (*graph.Tensor, error) {
	shape := make([]int, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		shape[i] = int(d)
	}
	n := graph.Size(shape)
	raw := tp.GetRawData()
	switch onnxpb.TensorProto_DataType(tp.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		vals := tp.GetFloatData()
		if len(raw) > 0 {
			if len(raw) != 4*n {
				return nil, fmt.Errorf("float raw_data has %d bytes for %d values", len(raw), n)
			}
			vals = make([]float32, n)
			for i := range vals {
				vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
		if len(vals) != n {
			return nil, fmt.Errorf("float tensor %v has %d values", shape, len(vals))
		}
		return graph.F32(shape, vals), nil
	case onnxpb.TensorProto_INT64:
		vals := tp.GetInt64Data()
		if len(raw) > 0 {
			if len(raw) != 8*n {
				return nil, fmt.Errorf("int64 raw_data has %d bytes for %d values", len(raw), n)
			}
			vals = make([]int64, n)
			for i := range vals {
				vals[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
		if len(vals) != n {
			return nil, fmt.Errorf("int64 tensor %v has %d values", shape, len(vals))
		}
		return graph.I64(shape, vals), nil
	case onnxpb.TensorProto_BOOL:
		vals := make([]bool, n)
		switch {
		case len(raw) == n:
			for i := range vals {
				vals[i] = raw[i] != 0
			}
		case len(tp.GetInt32Data()) == n:
			for i, v := range tp.GetInt32Data() {
				vals[i] = v != 0
			}
		default:
			return nil, fmt.Errorf("bool tensor %v: no data for %d values", shape, n)
		}
		return graph.Bools(shape, vals), nil
	}
	return nil, fmt.Errorf("data_type %d is not float, int64 or bool", tp.GetDataType())
}

// runNodeTest runs an ONNX backend node test (model.onnx and
// test_data_set_0) through ORT and compares the outputs.
func runNodeTest(t *testing.T, name string) map[string]*graph.Tensor {
	t.Helper()
	testenv.RequireLib(t)
	dir := filepath.Join(testenv.RequireNodeTestData(t), name)
	s, err := ort.Open(filepath.Join(dir, "model.onnx"), ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	set := filepath.Join(dir, "test_data_set_0")
	inputs := map[string]*graph.Tensor{}
	for i, in := range s.InputNames() {
		pbName, tn := loadTensor(t, filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
		if pbName != "" && pbName != in {
			t.Fatalf("input_%d.pb is %q, model input %d is %q", i, pbName, i, in)
		}
		inputs[in] = tn
	}
	got, err := s.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(s.OutputNames()) {
		t.Fatalf("got %d outputs, want %d", len(got), len(s.OutputNames()))
	}
	for i, out := range s.OutputNames() {
		_, want := loadTensor(t, filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
		assertClose(t, out, got[out], want, 1e-5)
	}
	return got
}

func assertClose(t *testing.T, name string, got, want *graph.Tensor, tol float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no output", name)
	}
	if got.DType != want.DType || !graph.SameShape(got.Shape, want.Shape) || got.Shape == nil {
		t.Fatalf("%s: got %s%v, want %s%v", name, got.DType, got.Shape, want.DType, want.Shape)
	}
	if got.Len() != want.Len() {
		t.Fatalf("%s: got %d values, want %d", name, got.Len(), want.Len())
	}
	for i := 0; i < want.Len(); i++ {
		g, w := got.Float(i), want.Float(i)
		if math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("%s[%d] = %v, want %v (got %v)", name, i, g, w, got)
		}
	}
}

func TestNodeAdd(t *testing.T) {
	t.Parallel()
	runNodeTest(t, "test_add")
}

// Node tests whose outputs have rank 0: these exercise the pre-allocated
// scalar outputs (and int64 inputs and outputs).
func TestNodeRank0Outputs(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"test_size", "test_det_2d", "test_sce_mean", "test_nllloss_NCd1_weight_expanded"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for out, tn := range runNodeTest(t, name) {
				if len(tn.Shape) != 0 || tn.Shape == nil || tn.Len() != 1 {
					t.Errorf("%s: got %s, want a scalar", out, tn)
				}
			}
		})
	}
}

// Model building helpers for hand-made ModelProtos.

func valueInfo(name string, et onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.ValueInfoProto {
	vi := noShape(name, et)
	sh := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: fmt.Sprintf("d%d", len(sh.Dim))}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		sh.Dim = append(sh.Dim, dim)
	}
	vi.GetType().GetTensorType().Shape = sh
	return vi
}

// noShape declares a tensor of unknown rank.
func noShape(name string, et onnxpb.TensorProto_DataType) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(et))},
		}},
	}
}

func node(op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func modelBytes(t *testing.T, nodes []*onnxpb.NodeProto, inputs, outputs []*onnxpb.ValueInfoProto) []byte {
	t.Helper()
	m := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("odmn-test"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("test"),
			Node:   nodes,
			Input:  inputs,
			Output: outputs,
		},
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mixedModel: x float[2,3], mask bool[2,3], k int64 scalar ->
//
//	total = ReduceSum(x, keepdims=0)   float, declared rank 0
//	inv   = Not(mask)                  bool[2,3]
//	any   = ReduceMax(Cast(mask,int64), keepdims=0)  int64, declared rank 0
//	k2    = Add(k, k)                  int64 scalar input and output
func mixedModel(t *testing.T) []byte {
	return modelBytes(t,
		[]*onnxpb.NodeProto{
			node("ReduceSum", []string{"x"}, []string{"total"}, intAttr("keepdims", 0)),
			node("Not", []string{"mask"}, []string{"inv"}),
			node("Cast", []string{"mask"}, []string{"mask64"}, intAttr("to", int64(onnxpb.TensorProto_INT64))),
			node("ReduceMax", []string{"mask64"}, []string{"any"}, intAttr("keepdims", 0)),
			node("Add", []string{"k", "k"}, []string{"k2"}),
		},
		[]*onnxpb.ValueInfoProto{
			valueInfo("x", onnxpb.TensorProto_FLOAT, 2, 3),
			valueInfo("mask", onnxpb.TensorProto_BOOL, 2, 3),
			valueInfo("k", onnxpb.TensorProto_INT64),
		},
		[]*onnxpb.ValueInfoProto{
			valueInfo("total", onnxpb.TensorProto_FLOAT),
			valueInfo("inv", onnxpb.TensorProto_BOOL, 2, 3),
			valueInfo("any", onnxpb.TensorProto_INT64),
			valueInfo("k2", onnxpb.TensorProto_INT64),
		})
}

func mixedInputs() map[string]*graph.Tensor {
	return map[string]*graph.Tensor{
		"x":    graph.F32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6.5}),
		"mask": graph.Bools([]int{2, 3}, []bool{true, false, false, true, false, false}),
		"k":    graph.ScalarI64(21),
	}
}

func checkMixed(t *testing.T, got map[string]*graph.Tensor) {
	t.Helper()
	assertClose(t, "total", got["total"], graph.ScalarF32(21.5), 0)
	assertClose(t, "inv", got["inv"], graph.Bools([]int{2, 3}, []bool{false, true, true, false, true, true}), 0)
	assertClose(t, "any", got["any"], graph.ScalarI64(1), 0)
	assertClose(t, "k2", got["k2"], graph.ScalarI64(42), 0)
}

func TestOpenBytesMixedDTypesAndScalars(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	s, err := ort.OpenBytes(mixedModel(t), ort.Options{IntraOpThreads: 1, InterOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if got := strings.Join(s.InputNames(), ","); got != "x,mask,k" {
		t.Errorf("InputNames = %s", got)
	}
	if got := strings.Join(s.OutputNames(), ","); got != "total,inv,any,k2" {
		t.Errorf("OutputNames = %s", got)
	}
	wantIn := []string{"x float32[2 3]", "mask bool[2 3]", "k int64[]"}
	for i, ti := range s.Inputs() {
		if ti.String() != wantIn[i] {
			t.Errorf("input %d = %s, want %s", i, ti, wantIn[i])
		}
	}

	got, err := s.Run(mixedInputs())
	if err != nil {
		t.Fatal(err)
	}
	checkMixed(t, got)

	// A subset of the outputs.
	got, err = s.Run(mixedInputs(), "k2", "inv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["k2"] == nil || got["inv"] == nil {
		t.Fatalf("Run(..., k2, inv) returned %v", got)
	}
	assertClose(t, "k2", got["k2"], graph.ScalarI64(42), 0)
}

func TestRunConcurrent(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	s, err := ort.OpenBytes(mixedModel(t), ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				got, err := s.Run(mixedInputs())
				if err != nil {
					errs <- err
					return
				}
				if got["total"].F[0] != 21.5 || got["k2"].I[0] != 42 {
					errs <- fmt.Errorf("wrong result %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// An output with no declared shape is reported by ORT exactly like a rank-0
// one; Run must cope whether it turns out to be a scalar or not.
func TestUnknownRankOutputs(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	model := modelBytes(t,
		[]*onnxpb.NodeProto{node("Reshape", []string{"x", "shape"}, []string{"y"})},
		[]*onnxpb.ValueInfoProto{
			valueInfo("x", onnxpb.TensorProto_FLOAT, -1, -1),
			valueInfo("shape", onnxpb.TensorProto_INT64, -1),
		},
		[]*onnxpb.ValueInfoProto{noShape("y", onnxpb.TensorProto_FLOAT)})

	s, err := ort.OpenBytes(model, ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := graph.F32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	got, err := s.Run(map[string]*graph.Tensor{"x": x, "shape": graph.I64([]int{2}, []int64{3, 2})})
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "y", got["y"], graph.F32([]int{3, 2}, x.F), 0)

	// Same session, now a scalar result: the first such Run retries.
	for i := 0; i < 2; i++ {
		got, err = s.Run(map[string]*graph.Tensor{
			"x":     graph.F32([]int{1, 1}, []float32{7}),
			"shape": graph.I64([]int{0}, nil),
		})
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "y", got["y"], graph.ScalarF32(7), 0)
	}
}

func TestZeroSizeTensors(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	model := modelBytes(t,
		[]*onnxpb.NodeProto{node("Identity", []string{"x"}, []string{"y"})},
		[]*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, -1, 3)},
		[]*onnxpb.ValueInfoProto{valueInfo("y", onnxpb.TensorProto_FLOAT, -1, 3)})
	s, err := ort.OpenBytes(model, ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Run(map[string]*graph.Tensor{"x": graph.NewTensor(graph.Float32, []int{0, 3})})
	if err != nil {
		t.Fatal(err)
	}
	if y := got["y"]; y == nil || !graph.SameShape(y.Shape, []int{0, 3}) || y.Len() != 0 {
		t.Fatalf("y = %v, want float32[0 3]", y)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	s, err := ort.OpenBytes(mixedModel(t), ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		edit   func(map[string]*graph.Tensor)
		outs   []string
		substr []string
	}{
		{"missing input", func(m map[string]*graph.Tensor) { delete(m, "mask") }, nil,
			[]string{`missing input "mask"`}},
		{"nil input", func(m map[string]*graph.Tensor) { m["mask"] = nil }, nil,
			[]string{`missing input "mask"`}},
		{"wrong dtype", func(m map[string]*graph.Tensor) { m["x"] = graph.I64([]int{2, 3}, make([]int64, 6)) }, nil,
			[]string{`input "x"`, "int64", "float32"}},
		{"unknown input", func(m map[string]*graph.Tensor) { m["bogus"] = graph.ScalarF32(1) }, nil,
			[]string{`unknown input "bogus"`, "x, mask, k"}},
		{"short data", func(m map[string]*graph.Tensor) {
			m["x"] = &graph.Tensor{DType: graph.Float32, Shape: []int{2, 3}, F: make([]float32, 5)}
		}, nil,
			[]string{`input "x"`, "needs 6 values"}},
		{"wrong shape", func(m map[string]*graph.Tensor) { m["x"] = graph.NewTensor(graph.Float32, []int{3, 2}) }, nil,
			[]string{"x"}},
		{"unknown output", func(map[string]*graph.Tensor) {}, []string{"nope"},
			[]string{`unknown output "nope"`, "total, inv, any, k2"}},
	}
	for _, c := range cases {
		in := mixedInputs()
		c.edit(in)
		_, err := s.Run(in, c.outs...)
		if err == nil {
			t.Errorf("%s: Run succeeded", c.name)
			continue
		}
		for _, sub := range c.substr {
			if !strings.Contains(err.Error(), sub) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, sub)
			}
		}
	}
	// The session still works after errors.
	got, err := s.Run(mixedInputs())
	if err != nil {
		t.Fatal(err)
	}
	checkMixed(t, got)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Run(mixedInputs()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Run after Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	if _, err := ort.Open(filepath.Join(t.TempDir(), "missing.onnx"), ort.Options{}); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	if _, err := ort.OpenBytes([]byte("not a model"), ort.Options{}); err == nil {
		t.Error("OpenBytes of garbage succeeded")
	}
	if _, err := ort.OpenBytes(nil, ort.Options{}); err == nil {
		t.Error("OpenBytes(nil) succeeded")
	}
	if _, err := ort.OpenBytes(mixedModel(t), ort.Options{IntraOpThreads: -1}); err == nil {
		t.Error("negative thread count accepted")
	}
	// A bfloat16 output is outside odmn's dtypes.
	bf := modelBytes(t,
		[]*onnxpb.NodeProto{node("Cast", []string{"x"}, []string{"y"}, intAttr("to", int64(onnxpb.TensorProto_BFLOAT16)))},
		[]*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 2)},
		[]*onnxpb.ValueInfoProto{valueInfo("y", onnxpb.TensorProto_BFLOAT16, 2)})
	if _, err := ort.OpenBytes(bf, ort.Options{}); err == nil || !strings.Contains(err.Error(), `output "y"`) {
		t.Errorf("bfloat16 output: err = %v", err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	v, err := ort.Version()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "1.") {
		t.Errorf("Version() = %q", v)
	}
	t.Logf("ONNX Runtime %s from %s", v, ort.LoadedLibrary())
}

// TestEveryDType runs Identity on each element type odmn holds, at rank 2,
// rank 0 and with zero elements, and checks the values come back exactly
// (float16 goes through the session's float32 rewrite).
func TestEveryDType(t *testing.T) {
	t.Parallel()
	testenv.RequireLib(t)
	h := func(v ...float32) []graph.Half {
		out := make([]graph.Half, len(v))
		for i, x := range v {
			out[i] = graph.F16(x)
		}
		return out
	}
	cases := []*graph.Tensor{
		graph.F32([]int{2, 2}, []float32{1, -2, 3.5, 1e-8}),
		graph.I64([]int{2, 2}, []int64{1, -2, 1 << 40, -1 << 62}),
		graph.Bools([]int{2, 2}, []bool{true, false, false, true}),
		graph.FromSlice([]int{2, 2}, []float64{0.1, -2e300, 3, 4}),
		graph.FromSlice([]int{2, 2}, []int32{1, -2, 1 << 30, 4}),
		graph.FromSlice([]int{2, 2}, []int16{1, -2, 32767, 4}),
		graph.FromSlice([]int{2, 2}, []int8{1, -2, 127, -128}),
		graph.FromSlice([]int{2, 2}, []uint8{1, 2, 255, 0}),
		graph.FromSlice([]int{2, 2}, []uint16{1, 2, 65535, 0}),
		graph.FromSlice([]int{2, 2}, []uint32{1, 2, 1 << 31, 0}),
		graph.FromSlice([]int{2, 2}, []uint64{1, 2, 1 << 63, 0}),
		graph.FromSlice([]int{2, 2}, h(1.5, -65504, 0.0001, 3)),
		graph.FromSlice([]int{}, h(2.5)),
		graph.FromSlice([]int{}, []int8{-7}),
		graph.FromSlice([]int{}, []uint64{9}),
		graph.FromSlice([]int{0, 2}, []int32{}),
	}
	for _, x := range cases {
		dims := make([]int64, len(x.Shape))
		for i, d := range x.Shape {
			dims[i] = int64(d)
		}
		et := onnxpb.TensorProto_DataType(x.DType.ONNX())
		m := modelBytes(t,
			[]*onnxpb.NodeProto{node("Identity", []string{"x"}, []string{"y"})},
			[]*onnxpb.ValueInfoProto{valueInfo("x", et, dims...)},
			[]*onnxpb.ValueInfoProto{valueInfo("y", et, dims...)})
		s, err := ort.OpenBytes(m, ort.Options{IntraOpThreads: 1})
		if err != nil {
			t.Fatalf("%s: %v", x.DType, err)
		}
		if in := s.Inputs()[0]; in.Name != "x" || in.DType != x.DType {
			t.Errorf("%s: input info %v", x.DType, in)
		}
		out, err := s.Run(map[string]*graph.Tensor{"x": x})
		s.Close()
		if err != nil {
			t.Fatalf("%s%v: %v", x.DType, x.Shape, err)
		}
		y := out["y"]
		if y == nil || y.DType != x.DType || !graph.SameShape(y.Shape, x.Shape) || fmt.Sprint(y) != fmt.Sprint(x) {
			t.Errorf("%s%v: got %v, want %v", x.DType, x.Shape, y, x)
		}
		for i := 0; i < x.Len(); i++ {
			if x.Int(i) != y.Int(i) || x.Float(i) != y.Float(i) {
				t.Errorf("%s: element %d: got %v, want %v", x.DType, i, y, x)
				break
			}
		}
	}
}
