package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

// scaleShift is y = x * scale + b with scale a caller attribute.
func scaleShift(t *testing.T, name string) *graph.Function {
	t.Helper()
	f, err := graph.DefineFunction("ai.odmn.test", name, []graph.AttrSpec{{Name: "scale", Type: graph.AttrFloat}},
		func(body *graph.Graph) error {
			x := body.Input("x", graph.Float32, -1, -1)
			b := body.Input("b", graph.Float32, -1)
			c, err := body.Apply(graph.MustLookup("", "Constant"), graph.Attrs{"value_float": graph.AttrRef("scale")})
			if err != nil {
				return err
			}
			body.SetOutput("y", graph.Add(graph.Mul(x, c[0]), b))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFunctionBodyAndFused(t *testing.T) {
	f := scaleShift(t, "ScaleShift")
	called := 0
	graph.RegisterFused(f, func(in []*graph.Tensor, a graph.Attrs, out []*graph.Tensor) error {
		called++
		s := a.Float("scale")
		n := in[1].Shape[0]
		for i, v := range in[0].F {
			out[0].F[i] = v*s + in[1].F[i%n]
		}
		return nil
	})
	g := graph.New("fn")
	x := g.Input("x", graph.Float32, -1, 3)
	b := g.Input("b", graph.Float32, 3)
	y := f.Call(graph.Attrs{"scale": float32(2)}, x, b)[0]
	if got := y.Shape(); len(got) != 2 || got[0] != -1 || got[1] != 3 {
		t.Fatalf("call output shape %v, want [-1 3]", got)
	}
	g.SetOutput("y", y)
	feed := map[string]*graph.Tensor{
		"x": graph.F32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		"b": graph.F32([]int{3}, []float32{10, 20, 30}),
	}
	want := []float32{12, 24, 36, 18, 30, 42}
	for _, bodies := range []bool{true, false} {
		s, err := native.New(g, native.Options{BodiesOnly: bodies})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Run(feed)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			if res["y"].F[i] != w {
				t.Fatalf("bodiesOnly=%v: got %v, want %v", bodies, res["y"].F, want)
			}
		}
	}
	if called != 1 {
		t.Fatalf("fused kernel called %d times, want 1", called)
	}
	if len(g.Functions()) != 1 {
		t.Fatalf("Functions() = %d, want 1", len(g.Functions()))
	}
}

func TestFunctionMissingAttr(t *testing.T) {
	f := scaleShift(t, "ScaleShift2")
	g := graph.New("fn")
	x := g.Input("x", graph.Float32, 2, 3)
	b := g.Input("b", graph.Float32, 3)
	err := graph.Catch(func() { f.Call(nil, x, b) })
	if err == nil {
		t.Fatal("call without the function's attribute was accepted")
	}
}

func TestFunctionGradient(t *testing.T) {
	f := scaleShift(t, "ScaleShift3")
	r := rand.New(rand.NewPCG(3, 4))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x []*graph.Node) *graph.Node {
		y := f.Call(graph.Attrs{"scale": float32(-1.5)}, x[0], x[1])[0]
		return graph.Mul(y, y)
	}, graphtest.Rand(r, -1, 1, 4, 3), graphtest.Rand(r, -1, 1, 3))
}

// Functions defined apart with the same body match; another body (Sub for
// Add) or another name does not.
func TestFunctionSameBody(t *testing.T) {
	a, b := scaleShift(t, "SameBody"), scaleShift(t, "SameBody")
	if !a.SameBody(b) || !b.SameBody(a) {
		t.Fatal("two definitions of one body differ")
	}
	if a.SameBody(scaleShift(t, "OtherName")) {
		t.Fatal("functions of different names match")
	}
	sub, err := graph.DefineFunction("ai.odmn.test", "SameBody", []graph.AttrSpec{{Name: "scale", Type: graph.AttrFloat}},
		func(body *graph.Graph) error {
			x := body.Input("x", graph.Float32, -1, -1)
			bias := body.Input("b", graph.Float32, -1)
			c, err := body.Apply(graph.MustLookup("", "Constant"), graph.Attrs{"value_float": graph.AttrRef("scale")})
			if err != nil {
				return err
			}
			body.SetOutput("y", graph.Sub(graph.Mul(x, c[0]), bias))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if a.SameBody(sub) {
		t.Fatal("x*scale+b matches x*scale-b")
	}
	graph.RegisterFused(a, func(in []*graph.Tensor, _ graph.Attrs, out []*graph.Tensor) error { return nil })
	if _, ok := graph.FusedKernel(b); !ok {
		t.Error("no kernel for an equal body")
	}
	if _, ok := graph.FusedKernel(sub); ok {
		t.Error("kernel chosen for another body")
	}
}
