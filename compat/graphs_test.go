package compat_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
)

// testGraph is a graph the export and import tests share, with inputs to
// run it on.
type testGraph struct {
	name  string
	build func(t testing.TB) *graph.Graph
	feed  func(r *rand.Rand) map[string]*graph.Tensor
}

func randT(r *rand.Rand, shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape)
	for i := range t.F {
		t.F[i] = float32(r.NormFloat64())
	}
	return t
}

func mustFn(f *graph.Function, err error) *graph.Function {
	if err != nil {
		panic(err)
	}
	return f
}

func build(t testing.TB, name string, f func(g *graph.Graph)) *graph.Graph {
	t.Helper()
	g := graph.New(name)
	if err := graph.Catch(func() { f(g) }); err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	return g
}

// testGraphs: an MLP (Gemm, Relu, Softmax, ArgMax) with metadata; a graph
// with Constants, names and shared outputs; functions with attribute
// references, one calling another.
func testGraphs() []testGraph {
	return []testGraph{
		{
			name: "mlp",
			build: func(t testing.TB) *graph.Graph {
				r := rand.New(rand.NewPCG(1, 1))
				return build(t, "mlp", func(g *graph.Graph) {
					g.Doc = "a two-layer perceptron"
					g.Metadata["task"] = "classification"
					g.Metadata["author"] = "odmn tests"
					x := g.Input("x", graph.Float32, -1, 4)
					w1 := g.Param("w1", randT(r, 4, 8))
					b1 := g.Param("b1", randT(r, 8))
					w2 := g.Param("w2", randT(r, 8, 3))
					b2 := g.Initializer("b2", randT(r, 3))
					h := graph.Relu(graph.Gemm(x, w1, b1, 1, 1, false, false)).SetName("hidden")
					logits := graph.Gemm(h, w2, b2, 0.5, 1, false, false)
					p := graph.Softmax(logits, -1)
					p.Op().Name = "softmax"
					g.SetOutput("probs", p)
					g.SetOutput("class", graph.ArgMax(p, 1, false, false))
				})
			},
			feed: func(r *rand.Rand) map[string]*graph.Tensor {
				return map[string]*graph.Tensor{"x": randT(r, 5, 4)}
			},
		},
		{
			name: "constants",
			build: func(t testing.TB) *graph.Graph {
				return build(t, "constants", func(g *graph.Graph) {
					x := g.Input("x", graph.Float32, 2, 3)
					c := g.Const(graph.F32([]int{3}, []float32{1, 2, 3}))
					y := graph.Add(x, c)
					g.SetOutput("y", y)
					g.SetOutput("y_again", y)                               // shared: Identity
					g.SetOutput("x_out", x)                                 // an input: Identity
					g.SetOutput("flat", graph.ReshapeTo(y, 6).SetName("y")) // a name that is taken
					k := graph.Add(g.Const(graph.ScalarF32(2)), g.Const(graph.ScalarF32(3)))
					g.SetOutput("k", k) // folded, exported as its ops
					g.SetOutput("mask", graph.Greater(x, graph.Mul(c, k)))
				})
			},
			feed: func(r *rand.Rand) map[string]*graph.Tensor {
				return map[string]*graph.Tensor{"x": randT(r, 2, 3)}
			},
		},
		{
			name: "function",
			build: func(t testing.TB) *graph.Graph {
				scaled := mustFn(graph.DefineFunction("odmn.test", "ScaledSoftmax",
					[]graph.AttrSpec{{Name: "axis", Type: graph.AttrInt}, {Name: "scale", Type: graph.AttrFloat}},
					func(body *graph.Graph) error {
						x := body.Input("x", graph.Float32, -1, -1)
						s, err := body.Apply(graph.MustLookup("", "Softmax"), graph.Attrs{"axis": graph.AttrRef("axis")}, x)
						if err != nil {
							return err
						}
						k, err := body.Apply(graph.MustLookup("", "Constant"), graph.Attrs{"value_float": graph.AttrRef("scale")})
						if err != nil {
							return err
						}
						body.SetOutput("y", graph.Mul(s[0], k[0]))
						return nil
					}))
				outer := mustFn(graph.DefineFunction("odmn.test", "Head",
					[]graph.AttrSpec{{Name: "scale", Type: graph.AttrFloat}},
					func(body *graph.Graph) error {
						x := body.Input("x", graph.Float32, -1, -1)
						b := body.Input("b", graph.Float32, -1)
						y := scaled.Call(graph.Attrs{"axis": int64(-1), "scale": graph.AttrRef("scale")}, graph.Add(x, b))
						body.SetOutput("out", y[0])
						body.SetOutput("pre", graph.Relu(x))
						return nil
					}))
				r := rand.New(rand.NewPCG(2, 2))
				return build(t, "function", func(g *graph.Graph) {
					g.Metadata["kind"] = "functions"
					x := g.Input("x", graph.Float32, -1, 5)
					b := g.Initializer("bias", randT(r, 5))
					o := outer.Call(graph.Attrs{"scale": float32(2)}, x, b)
					g.SetOutput("out", o[0])
					g.SetOutput("pre", o[1])
					g.SetOutput("direct", scaled.Call(graph.Attrs{"axis": int64(0), "scale": float32(0.5)}, x)[0])
				})
			},
			feed: func(r *rand.Rand) map[string]*graph.Tensor {
				return map[string]*graph.Tensor{"x": randT(r, 3, 5)}
			},
		},
	}
}

func sameTensor(a, b *graph.Tensor) error {
	if a.DType != b.DType || !graph.SameShape(a.Shape, b.Shape) {
		return fmt.Errorf("%s%v vs %s%v", a.DType, a.Shape, b.DType, b.Shape)
	}
	for i := 0; i < a.Len(); i++ {
		if a.Float(i) != b.Float(i) {
			return fmt.Errorf("element %d: %v vs %v", i, a.Float(i), b.Float(i))
		}
	}
	return nil
}
