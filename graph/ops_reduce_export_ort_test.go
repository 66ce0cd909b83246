package graph_test

import (
	"testing"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"math/rand/v2"
)

// A model exports at the newest Since among its ops, so Reduce ops (written
// in their 13 form, axes as an attribute) beside an op of opset 18 or later
// must take their axes as an input; and a Reduce node whose axes are
// computed at run time needs opset 18 itself. ONNX Runtime checks both
// forms against the opset's schema.
func TestReduceAxesFormFollowsOpset(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := graphtest.Rand(r, -2, 2, 3, 4, 5)
	axes := graph.I64([]int{1}, []int64{2})
	agreeWithORT(t, "reduce-beside-gelu", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		m := graph.ReduceMean(in[0], []int64{1}, true)
		p := graph.ReduceProd(in[0], []int64{0, 2}, false)
		return []*graph.Node{graph.Gelu(m, false), p, graph.ReduceL2(in[0], nil, true)}
	}, x)
	agreeWithORT(t, "reduce-runtime-axes", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		d, _ := graph.Lookup("", "ReduceMax")
		return []*graph.Node{graph.Apply1(d, graph.Attrs{"noop_with_empty_axes": int64(0)}, in[0], in[1])}
	}, x, axes)

	// The 13 form stays when nothing needs a newer opset.
	g := graph.New("reduce13")
	xi := g.Input("x", graph.Float32, 3, 4)
	g.SetOutput("y", graph.ReduceMean(xi, []int64{1}, true))
	m, err := export.Model(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := m.GetOpsetImport()[0].GetVersion(); v != export.DefaultOpset {
		t.Fatalf("opset %d, want %d", v, export.DefaultOpset)
	}
	n := m.GetGraph().GetNode()
	if len(n) != 1 || len(n[0].GetInput()) != 1 || n[0].GetAttribute()[0].GetName() != "axes" {
		t.Fatalf("ReduceMean at opset %d: %v", export.DefaultOpset, n)
	}
}

// An Attention node with a sliding window (opset 25's attributes) exports
// at opset 25; one without at 24.
func TestAttentionWindowExportsAt25(t *testing.T) {
	for _, win := range []bool{false, true} {
		g := graph.New("attn")
		q := g.Input("q", graph.Float32, 1, 2, 3, 4)
		k := g.Input("k", graph.Float32, 1, 2, 5, 4)
		v := g.Input("v", graph.Float32, 1, 2, 5, 4)
		d, _ := graph.Lookup("", "Attention")
		a := graph.Attrs{}
		if win {
			a["left_window_size"] = int64(2)
		}
		outs := graph.MustApply(d, a, q, k, v)
		g.SetOutput("y", outs[0])
		m, err := export.Model(g, export.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := int64(24)
		if win {
			want = 25
		}
		if got := m.GetOpsetImport()[0].GetVersion(); got != want {
			t.Errorf("window %v: exported at opset %d, want %d", win, got, want)
		}
	}
}
