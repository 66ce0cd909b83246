package conform_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/onnxpb"
)

// embeddingModel writes a model whose int64 input ids indexes a 7-row
// embedding table: random ids must stay below 7.
func embeddingModel(t *testing.T, dir string) string {
	t.Helper()
	g := graph.New("emb")
	err := graph.Catch(func() {
		ids := g.Input("ids", graph.Int64, -1, 3)
		x := g.Input("x", graph.Float32, -1, 4)
		table := graph.NewTensor(graph.Float32, []int{7, 4})
		for i := range table.F {
			table.F[i] = float32(i%5) - 2
		}
		e := graph.ReduceSum(graph.Gather(g.Initializer("table", table), ids, 0), []int64{1}, false)
		g.SetOutput("y", graph.Sigmoid(graph.Add(e, x)))
		g.SetOutput("ids_out", graph.Mul(ids, ids))
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "emb.onnx")
	if err := export.WriteFile(p, g, export.Options{}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestModelRandom(t *testing.T) {
	testenv.RequireLib(t)
	p := embeddingModel(t, t.TempDir())
	rep, err := conform.Model(p, conform.ModelOptions{Random: 200, Seed: 3, RandomOptions: conform.RandomOptions{Dims: map[string]int{}}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Print(&out)
	if rep.ExitCode() != conform.ExitAgree || rep.Sets != 200 || len(rep.Checks) != 1 || len(rep.Checks[0].Outputs) != 2 {
		t.Fatalf("exit %d:\n%s", rep.ExitCode(), out.String())
	}
	var ids *conform.InputSpec
	for i := range rep.Specs {
		if rep.Specs[i].Name == "ids" {
			ids = &rep.Specs[i]
		}
	}
	if ids == nil || ids.Lo != 0 || ids.Hi != 7 || !strings.Contains(ids.Why, "size 7") {
		t.Errorf("ids drawn as %+v, want [0, 7) from the gathered dimension", ids)
	}
	for _, d := range rep.Checks[0].Outputs {
		if d.N == 0 {
			t.Errorf("%s: nothing compared", d.Output)
		}
	}
	// JUnit: one passing test case per output, parseable.
	var b bytes.Buffer
	if err := conform.WriteJUnit(&b, rep.JUnit()); err != nil {
		t.Fatal(err)
	}
	var doc conform.JUnitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, b.String())
	}
	if doc.Tests != 2 || doc.Failures != 0 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Errorf("JUnit: %+v", doc)
	}
}

// Expected outputs that are wrong make the check fail (exit 1), and name
// the output, the data set and the first element.
func TestModelMismatch(t *testing.T) {
	testenv.RequireLib(t)
	dir := t.TempDir()
	g := graph.New("relu")
	x := g.Input("x", graph.Float32, 3)
	g.SetOutput("y", graph.Relu(x))
	p := filepath.Join(dir, "relu.onnx")
	if err := export.WriteFile(p, g, export.Options{}); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(dir, "data", "test_data_set_0")
	if err := os.MkdirAll(set, 0o755); err != nil {
		t.Fatal(err)
	}
	writePB(t, filepath.Join(set, "input_0.pb"), graph.F32([]int{3}, []float32{-1, 0, 2}))
	writePB(t, filepath.Join(set, "output_0.pb"), graph.F32([]int{3}, []float32{0, 0, 2.5}))
	rep, err := conform.Model(p, conform.ModelOptions{Inputs: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode() != conform.ExitDisagree {
		t.Fatalf("exit %d, want %d", rep.ExitCode(), conform.ExitDisagree)
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, want := range []string{"native   ort       y", "native   expected  y", "set 0, index 2: 2 vs 2.5", "FAIL"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	var b bytes.Buffer
	conform.WriteJUnit(&b, rep.JUnit())
	var doc conform.JUnitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil || doc.Tests != 3 || doc.Failures != 2 {
		t.Errorf("JUnit %+v (%v):\n%s", doc, err, b.String())
	}
}

// A model with an op outside the vocabulary gives exit 3 and names every
// such op; nothing is run.
func TestModelUnknownOp(t *testing.T) {
	f32 := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1), Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 2}}}}}}}}
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(17)}, {Domain: proto.String("com.example"), Version: proto.Int64(1)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("g"),
			Node: []*onnxpb.NodeProto{
				{OpType: proto.String("Mystery"), Domain: proto.String("com.example"), Input: []string{"x"}, Output: []string{"h"}},
				{OpType: proto.String("Enigma"), Domain: proto.String("com.example"), Input: []string{"h"}, Output: []string{"y"}},
			},
			Input:  []*onnxpb.ValueInfoProto{f32("x")},
			Output: []*onnxpb.ValueInfoProto{f32("y")},
		},
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mystery.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := conform.Model(p, conform.ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode() != conform.ExitNotSupported || rep.UnsupportedNames() != "com.example.Enigma, com.example.Mystery" {
		t.Fatalf("exit %d, unsupported %q", rep.ExitCode(), rep.UnsupportedNames())
	}
	var out bytes.Buffer
	conform.WriteJUnit(&out, rep.JUnit())
	var doc conform.JUnitSuites
	if err := xml.Unmarshal(out.Bytes(), &doc); err != nil || doc.Errors != 2 {
		t.Errorf("JUnit %+v (%v)", doc, err)
	}
}

// Bad files are errors naming the file, not panics or reports.
func TestModelBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(p, []byte("not a model"), 0o644)
	if _, err := conform.Model(p, conform.ModelOptions{}); err == nil || !strings.Contains(err.Error(), "bad.onnx") {
		t.Errorf("error %v", err)
	}
}

func writePB(t *testing.T, path string, v *graph.Tensor) {
	t.Helper()
	p, err := export.TensorToProto("", v)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(p)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
