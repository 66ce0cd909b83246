package export_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/onnxpb"
)

func build(t *testing.T, f func(g *graph.Graph)) *graph.Graph {
	t.Helper()
	g := graph.New("t")
	if err := graph.Catch(func() { f(g) }); err != nil {
		t.Fatal(err)
	}
	return g
}

func model(t *testing.T, g *graph.Graph) *onnxpb.ModelProto {
	t.Helper()
	m, err := export.Model(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkAll validates the models with Python onnx (checker, strict shape
// inference).
func checkAll(t *testing.T, models map[string]*onnxpb.ModelProto) {
	t.Helper()
	py := testenv.RequirePythonONNX(t)
	if err := compat.CheckModels(py, models); err != nil {
		t.Fatal(err)
	}
}

func dims(vi *onnxpb.ValueInfoProto) string {
	var s []string
	for _, d := range vi.GetType().GetTensorType().GetShape().GetDim() {
		switch v := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			s = append(s, strconv.FormatInt(v.DimValue, 10))
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			s = append(s, v.DimParam)
		default:
			s = append(s, "?")
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestModelHeaderAndShapes(t *testing.T) {
	g := build(t, func(g *graph.Graph) {
		g.Doc = "doc"
		g.Metadata["b"] = "2"
		g.Metadata["a"] = "1"
		x := g.Input("x", graph.Float32, -1, 4)
		w := g.Param("w", graph.F32([]int{4, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8}))
		y := graph.MatMul(x, w)
		g.SetOutput("y", y)
		g.SetOutput("flat", graph.ReshapeTo(x, -1)) // 4N: not the batch
		g.SetOutput("first", graph.Gather(x, g.Const(graph.ScalarI64(0)), 0))
	})
	m := model(t, g)
	if m.GetIrVersion() != 8 || m.GetProducerName() != "odmn" || m.GetDocString() != "doc" {
		t.Fatalf("header: ir %d producer %q doc %q", m.GetIrVersion(), m.GetProducerName(), m.GetDocString())
	}
	if len(m.OpsetImport) != 1 || m.OpsetImport[0].GetDomain() != "" || m.OpsetImport[0].GetVersion() != 17 {
		t.Fatalf("opset_import %v", m.OpsetImport)
	}
	if p := m.MetadataProps; len(p) != 2 || p[0].GetKey() != "a" || p[1].GetKey() != "b" {
		t.Fatalf("metadata %v", p)
	}
	gp := m.Graph
	if gp.GetName() != "t" || len(gp.Input) != 1 || dims(gp.Input[0]) != "[N 4]" {
		t.Fatalf("input %v", gp.Input)
	}
	want := map[string]string{"y": "[N 2]", "flat": "[?]", "first": "[4]"}
	for _, o := range gp.Output {
		if dims(o) != want[o.GetName()] {
			t.Errorf("output %s dims %s, want %s", o.GetName(), dims(o), want[o.GetName()])
		}
	}
	if len(gp.Initializer) != 1 || gp.Initializer[0].GetName() != "w" || len(gp.Initializer[0].RawData) != 32 {
		t.Fatalf("initializer %v", gp.Initializer)
	}
	m2, err := export.Model(g, export.Options{BatchDim: "batch"})
	if err != nil {
		t.Fatal(err)
	}
	if dims(m2.Graph.Input[0]) != "[batch 4]" || dims(m2.Graph.Output[0]) != "[batch 2]" {
		t.Fatalf("BatchDim: %s %s", dims(m2.Graph.Input[0]), dims(m2.Graph.Output[0]))
	}
	checkAll(t, map[string]*onnxpb.ModelProto{"shapes": m, "batch": m2})
}

func TestNamesAndIdentities(t *testing.T) {
	g := build(t, func(g *graph.Graph) {
		x := g.Input("x", graph.Float32, 3)
		a := graph.Relu(x).SetName("y") // takes an output's name, which wins
		b := graph.Neg(a).SetName("h")
		c := graph.Neg(b).SetName("h") // a duplicate name
		c.Op().Name = "neg"
		d := graph.Neg(c)
		d.Op().Name = "neg" // a duplicate node name
		g.SetOutput("y", d)
		g.SetOutput("z", d)
		g.SetOutput("x", x)
		g.SetOutput("a", a)
	})
	m := model(t, g)
	var got []string
	for _, n := range m.Graph.Node {
		got = append(got, n.GetName()+":"+n.GetOpType()+"("+strings.Join(n.Input, ",")+")->"+strings.Join(n.Output, ","))
	}
	want := []string{
		"Relu_1:Relu(x)->y_1",
		"Neg_2:Neg(y_1)->h",
		"neg:Neg(h)->h_1",
		"neg_1:Neg(h_1)->y",
		"Identity_z:Identity(y)->z",
		"Identity_a:Identity(y_1)->a",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("nodes\n got %v\nwant %v", got, want)
	}
	var outs []string
	for _, o := range m.Graph.Output {
		outs = append(outs, o.GetName())
	}
	if strings.Join(outs, ",") != "y,z,x,a" {
		t.Fatalf("outputs %v", outs)
	}
	checkAll(t, map[string]*onnxpb.ModelProto{"names": m})
}

func TestOnlyNeededOpsAndInternalRefused(t *testing.T) {
	var grad *graph.Node
	g := build(t, func(g *graph.Graph) {
		x := g.Input("x", graph.Float32, -1, 3)
		b := g.Param("b", graph.F32([]int{3}, []float32{1, 2, 3}))
		unused := g.Param("unused", graph.F32([]int{1}, []float32{0}))
		_ = unused
		y := graph.Add(x, b)
		loss := graph.ReduceSum(graph.Mul(y, y), nil, false)
		gs, err := graph.Gradients(loss, b)
		if err != nil {
			t.Fatal(err)
		}
		grad = gs[0]
		g.SetOutput("y", y)
	})
	m := model(t, g)
	if len(m.Graph.Node) != 1 || len(m.Graph.Initializer) != 1 {
		t.Fatalf("training ops or the unused initializer were exported: %v", m.Graph)
	}
	checkAll(t, map[string]*onnxpb.ModelProto{"pruned": m})
	g.SetOutput("db", grad)
	_, err := export.Model(g, export.Options{})
	if err == nil || !regexp.MustCompile(`training-only op \w+ \(node \w+_\d+\) cannot be exported`).MatchString(err.Error()) {
		t.Fatalf("gradient export: %v", err)
	}
}

func TestStopGradientExportsAsIdentity(t *testing.T) {
	g := build(t, func(g *graph.Graph) {
		x := g.Input("x", graph.Float32, 2)
		g.SetOutput("y", graph.Mul(graph.StopGradient(x), x))
	})
	m := model(t, g)
	n := m.Graph.Node[0]
	if n.GetOpType() != "Identity" || n.GetDomain() != "" || len(m.OpsetImport) != 1 {
		t.Fatalf("StopGradient: %v, opsets %v", n, m.OpsetImport)
	}
	checkAll(t, map[string]*onnxpb.ModelProto{"stopgrad": m})
}

func scaleFn(t *testing.T) *graph.Function {
	f, err := graph.DefineFunction("odmn.test", "Scale", []graph.AttrSpec{{Name: "k", Type: graph.AttrFloat}},
		func(body *graph.Graph) error {
			x := body.Input("x", graph.Float32, -1)
			c, err := body.Apply(graph.MustLookup("", "Constant"), graph.Attrs{"value_float": graph.AttrRef("k")})
			if err != nil {
				return err
			}
			body.SetOutput("y", graph.Mul(x, c[0]))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFunctionExport(t *testing.T) {
	f := scaleFn(t)
	var call *graph.Node
	g := build(t, func(g *graph.Graph) {
		x := g.Input("x", graph.Float32, -1)
		call = f.Call(graph.Attrs{"k": float32(3)}, x)[0]
		g.SetOutput("y", call)
	})
	m := model(t, g)
	if len(m.Functions) != 1 || len(m.OpsetImport) != 2 || m.OpsetImport[1].GetDomain() != "odmn.test" {
		t.Fatalf("functions %d, opsets %v", len(m.Functions), m.OpsetImport)
	}
	fp := m.Functions[0]
	if fp.GetName() != "Scale" || fp.GetDomain() != "odmn.test" || strings.Join(fp.Attribute, ",") != "k" ||
		strings.Join(fp.Input, ",") != "x" || strings.Join(fp.Output, ",") != "y" || len(fp.OpsetImport) != 1 {
		t.Fatalf("function %v", fp)
	}
	ref := fp.Node[0].Attribute[0]
	if ref.GetRefAttrName() != "k" || ref.GetType() != onnxpb.AttributeProto_FLOAT {
		t.Fatalf("reference %v", ref)
	}
	if dims(m.Graph.Output[0]) != "[N]" {
		t.Fatalf("output dims %s", dims(m.Graph.Output[0]))
	}
	checkAll(t, map[string]*onnxpb.ModelProto{"function": m})

	// A call that lost an attribute (IR 8 has no defaults).
	delete(call.Op().Attrs, "k")
	_, err := export.Model(g, export.Options{})
	if err == nil || !strings.Contains(err.Error(), `calls function odmn.test.Scale without its attribute "k"`) {
		t.Fatalf("missing attribute: %v", err)
	}
	// A reference outside a function body.
	call.Op().Attrs["k"] = graph.AttrRef("k")
	_, err = export.Model(g, export.Options{})
	if err == nil || !strings.Contains(err.Error(), "outside a function body") {
		t.Fatalf("reference in the main graph: %v", err)
	}
}

func TestModelErrors(t *testing.T) {
	g := graph.New("empty")
	g.Input("x", graph.Float32, 1)
	if _, err := export.Model(g, export.Options{}); err == nil || !strings.Contains(err.Error(), "no outputs") {
		t.Fatalf("no outputs: %v", err)
	}
	g2 := build(t, func(g *graph.Graph) {
		x := g.Input("x", graph.Float32, 1)
		y := g.Input("y", graph.Float32, 1)
		g.SetOutput("y", graph.Neg(x))
		_ = y
	})
	if _, err := export.Model(g2, export.Options{}); err == nil || !strings.Contains(err.Error(), `output "y" has the name of another input`) {
		t.Fatalf("output named like an input: %v", err)
	}
	g3 := build(t, func(g *graph.Graph) {
		x := g.Input("x", graph.Float32, 1)
		g.SetOutput("o", graph.Neg(x))
		g.SetOutput("o", graph.Relu(x))
	})
	if _, err := export.Model(g3, export.Options{}); err == nil || !strings.Contains(err.Error(), `two outputs are named "o"`) {
		t.Fatalf("duplicate output: %v", err)
	}
}

func TestMarshalDeterministicAndWriteFile(t *testing.T) {
	mk := func() *graph.Graph {
		return build(t, func(g *graph.Graph) {
			g.Metadata["z"], g.Metadata["y"], g.Metadata["x"] = "1", "2", "3"
			x := g.Input("x", graph.Float32, -1, 2)
			g.SetOutput("y", graph.Softmax(graph.Add(x, g.Param("b", graph.F32([]int{2}, []float32{1, 2}))), -1))
		})
	}
	b1, err := export.Marshal(mk(), export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := export.Marshal(mk(), export.Options{})
	if !bytes.Equal(b1, b2) {
		t.Fatal("Marshal is not deterministic")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := export.WriteFile(path, mk(), export.Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, b1) {
		t.Fatalf("file differs from Marshal: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := export.WriteFile(filepath.Join(dir, "no", "such", "m.onnx"), mk(), export.Options{}); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	// A graph that cannot be exported leaves the old file alone.
	bad := graph.New("bad")
	if err := export.WriteFile(path, bad, export.Options{}); err == nil {
		t.Fatal("exported a graph without outputs")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, b1) {
		t.Fatal("a failed export changed the file")
	}
	checkAll(t, map[string]*onnxpb.ModelProto{"written": model(t, mk())})
}
