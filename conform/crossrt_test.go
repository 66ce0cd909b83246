package conform_test

import (
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// crossModel is a random 3-layer MLP with a softmax head, an ArgMax output
// and a custom-domain function node (ai.odmn Sharpen, with an attribute).
func crossModel(t *testing.T) *graph.Graph {
	t.Helper()
	r := rand.New(rand.NewPCG(21, 22))
	w := func(shape ...int) *graph.Tensor {
		x := graph.NewTensor(graph.Float32, shape)
		for i := range x.F {
			x.F[i] = float32(r.NormFloat64() * 0.5)
		}
		return x
	}
	sharpen, err := graph.DefineFunction("ai.odmn", "Sharpen", []graph.AttrSpec{{Name: "inv_temp", Type: graph.AttrFloat}},
		func(b *graph.Graph) error {
			p := b.Input("p", graph.Float32, -1, -1)
			k, err := b.Apply(graph.MustLookup("", "Constant"), graph.Attrs{"value_float": graph.AttrRef("inv_temp")})
			if err != nil {
				return err
			}
			b.SetOutput("q", graph.Softmax(graph.Mul(graph.Log(p), k[0]), -1))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	g := graph.New("cross")
	err = graph.Catch(func() {
		x := g.Input("x", graph.Float32, -1, 16)
		h := graph.Relu(graph.Gemm(x, g.Initializer("w1", w(16, 32)), g.Initializer("b1", w(32)), 1, 1, false, false))
		h = graph.Tanh(graph.Add(graph.MatMul(h, g.Initializer("w2", w(32, 32))), g.Initializer("b2", w(32))))
		logits := graph.Gemm(h, g.Initializer("w3", w(8, 32)), g.Initializer("b3", w(8)), 1, 1, false, true)
		p := graph.Softmax(logits, 1)
		g.SetOutput("probs", p)
		g.SetOutput("class", graph.ArgMax(p, 1, false, false))
		g.SetOutput("sharp", sharpen.Call(graph.Attrs{"inv_temp": float32(3)}, p)[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCrossRuntimeMLP runs one exported file through the native runtime
// and ONNX Runtime on 10,000 random rows: floats within 1e-5 + 1e-5*|ref|,
// the ArgMax output identical.
func TestCrossRuntimeMLP(t *testing.T) {
	testenv.RequireLib(t)
	g := crossModel(t)
	raw, err := export.Marshal(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if py := testenv.RequirePythonONNX(t); py != "" {
		m, err := export.Model(g, export.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := compat.CheckModel(py, m); err != nil {
			t.Fatal(err)
		}
	}
	m, err := compat.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	imported, err := compat.Import(m)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := native.New(imported, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	os, err := ort.OpenBytes(raw, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	r := rand.New(rand.NewPCG(1, 2))
	x := graph.NewTensor(graph.Float32, []int{10000, 16})
	for i := range x.F {
		x.F[i] = float32(r.NormFloat64())
	}
	diffs, err := conform.CrossRun(ns, os, map[string]*graph.Tensor{"x": x}, conform.Tolerance{Atol: 1e-5, Rtol: 1e-5})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 3 {
		t.Fatalf("compared %d outputs, want 3:\n%s", len(diffs), conform.Summary(diffs))
	}
	for _, d := range diffs {
		if !d.OK() {
			t.Errorf("native vs ORT: %s", d)
		}
	}
	t.Logf("native vs ORT on 10,000 rows:\n%s", conform.Summary(diffs))
}
