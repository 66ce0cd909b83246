package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

func TestBroadcastArith(t *testing.T) {
	a := graph.F32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	b := graph.F32([]int{3}, []float32{10, 20, 30})
	c := graph.F32([]int{2, 1}, []float32{100, 200})
	out := graphtest.MustEval(t, func(g *graph.Graph, x []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Add(x[0], x[1]), graph.Mul(x[0], x[2]), graph.Sub(x[2], x[1]), graph.Div(x[1], x[0])}
	}, a, b, c)
	want := [][]float32{
		{11, 22, 33, 14, 25, 36},
		{100, 200, 300, 800, 1000, 1200},
		{90, 80, 70, 190, 180, 170},
		{10, 10, 10, 2.5, 4, 5},
	}
	for i, w := range want {
		for j := range w {
			if out[i].F[j] != w[j] {
				t.Fatalf("output %d: got %v, want %v", i, out[i].F, w)
			}
		}
	}
}

func TestGradArith(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a := graphtest.Rand(r, -1, 1, 3, 4)
	b := graphtest.Rand(r, 0.5, 2, 4)
	c := graphtest.Rand(r, 0.5, 2, 3, 1)
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x []*graph.Node) *graph.Node {
		return graph.Div(graph.Sub(graph.Mul(x[0], x[1]), graph.Neg(x[2])), graph.Add(x[1], x[2]))
	}, a, b, c)
}

func TestFoldAndStopGradient(t *testing.T) {
	g := graph.New("f")
	x := g.Input("x", graph.Float32, -1, 2)
	k := graph.Add(g.Const(graph.ScalarF32(2)), g.Const(graph.ScalarF32(3)))
	if k.Value() == nil || k.Value().F[0] != 5 {
		t.Fatalf("constant not folded: %v", k.Value())
	}
	y := graph.Mul(graph.StopGradient(x), k)
	loss := graph.Mul(y, y)
	_ = loss
	if y.Shape()[0] != -1 || y.Shape()[1] != 2 {
		t.Fatalf("shape %v", y.Shape())
	}
}
