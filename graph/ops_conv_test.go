package graph_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// TestConvPoolDTypes runs Conv, ConvTranspose and the pools in float64 and
// float16 against float32 on the same values.
func TestConvPoolDTypes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := graphtest.Rand(r, -1, 1, 2, 2, 5, 4)
	w := graphtest.Rand(r, -1, 1, 3, 2, 2, 3)
	wt := graphtest.Rand(r, -1, 1, 2, 3, 2, 2)
	build := func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		y, idx := graph.MaxPool(n[0], graph.Attrs{"kernel_shape": ints(2, 2), "pads": ints(1, 1, 0, 0)})
		return []*graph.Node{
			graph.Conv(n[0], n[1], nil, graph.Attrs{"pads": ints(1, 1, 1, 1), "strides": ints(2, 1)}),
			graph.ConvTranspose(n[0], n[2], nil, graph.Attrs{"strides": ints(2, 2)}),
			y, idx,
			graph.AveragePool(n[0], graph.Attrs{"kernel_shape": ints(3, 2), "count_include_pad": int64(1), "pads": ints(1, 1, 1, 1)}),
			graph.GlobalAveragePool(n[0]), graph.GlobalMaxPool(n[0]),
		}
	}
	want := graphtest.MustEval(t, build, x, w, wt)
	conv := func(dt graph.DType, t32 *graph.Tensor) *graph.Tensor {
		v := make([]float64, len(t32.F))
		for i, f := range t32.F {
			v[i] = float64(f)
		}
		return fromF64(dt, t32.Shape, v)
	}
	for _, dt := range []graph.DType{graph.Float64, graph.Float16} {
		got := graphtest.MustEval(t, build, conv(dt, x), conv(dt, w), conv(dt, wt))
		tol := 1e-6
		if dt == graph.Float16 {
			tol = 1e-2 // inputs rounded to half, results rounded again
		}
		for i := range want {
			if !graph.SameShape(got[i].Shape, want[i].Shape) {
				t.Fatalf("%s output %d: shape %v, float32 %v", dt, i, got[i].Shape, want[i].Shape)
			}
			wv := make([]float64, want[i].Len())
			for j := range wv {
				wv[j] = want[i].Float(j)
			}
			near(t, dt.String()+" output "+string(rune('0'+i)), got[i], wv, tol)
		}
	}
	// MaxPool on uint8.
	u := graph.FromSlice([]int{1, 1, 2, 3}, []uint8{3, 250, 7, 9, 1, 200})
	o := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		y, i := graph.MaxPool(n[0], graph.Attrs{"kernel_shape": ints(2, 2)})
		return []*graph.Node{y, i}
	}, u)
	if got := graph.Data[uint8](o[0]); len(got) != 2 || got[0] != 250 || got[1] != 250 {
		t.Errorf("uint8 MaxPool = %v", got)
	}
	equalI(t, "uint8 MaxPool indices", o[1].I, []int64{1, 1})
}

func TestConvPoolRNNErrors(t *testing.T) {
	wantBuildErr(t, "X has 3 channels, W expects 2 per group × 1 groups", func(g *graph.Graph) *graph.Node {
		return graph.Conv(g.Input("x", graph.Float32, 1, 3, 5), g.Input("w", graph.Float32, 4, 2, 3), nil, nil)
	})
	wantBuildErr(t, "larger than the padded input", func(g *graph.Graph) *graph.Node {
		return graph.Conv(g.Input("x", graph.Float32, 1, 1, 2), g.Input("w", graph.Float32, 1, 1, 3), nil, nil)
	})
	wantBuildErr(t, "auto_pad \"SAME\"", func(g *graph.Graph) *graph.Node {
		return graph.Conv(g.Input("x", graph.Float32, 1, 1, 5), g.Input("w", graph.Float32, 1, 1, 3), nil, graph.Attrs{"auto_pad": "SAME"})
	})
	wantBuildErr(t, "strides has 1 values, want 2", func(g *graph.Graph) *graph.Node {
		return graph.Conv(g.Input("x", graph.Float32, 1, 1, 5, 5), g.Input("w", graph.Float32, 1, 1, 3, 3), nil, graph.Attrs{"strides": ints(2)})
	})
	wantBuildErr(t, "kernel_shape is required", func(g *graph.Graph) *graph.Node {
		return graph.AveragePool(g.Input("x", graph.Float32, 1, 1, 5), nil)
	})
	wantBuildErr(t, "element type int64 not supported", func(g *graph.Graph) *graph.Node {
		return graph.Conv(g.Input("x", graph.Int64, 1, 1, 5), g.Input("w", graph.Int64, 1, 1, 3), nil, nil)
	})
	wantBuildErr(t, "hidden_size 4 but R has shape [1 12 5]", func(g *graph.Graph) *graph.Node {
		y, _ := graph.GRU(graph.Attrs{"hidden_size": int64(4)}, g.Input("x", graph.Float32, 2, 1, 3),
			g.Input("w", graph.Float32, 1, 12, 3), g.Input("r", graph.Float32, 1, 12, 5), nil, nil, nil)
		return y
	})
	for _, a := range []graph.Attrs{
		{"activations": []string{"Sigmoid", "LeakyRelu", "Tanh"}},
		{"activation_alpha": []float32{0.1}},
		{"input_forget": int64(1)},
	} {
		g := graph.New("lstm")
		_, err := g.Apply(graph.MustLookup("", "LSTM"), a, g.Input("x", graph.Float32, 2, 1, 3),
			g.Input("w", graph.Float32, 1, 8, 3), g.Input("r", graph.Float32, 1, 8, 2))
		var un *graph.UnsupportedError
		if !errors.As(err, &un) {
			t.Errorf("LSTM %v: %v, want an UnsupportedError", a, err)
		}
	}
}

// TestConvSlabs checks that building the column matrix in slabs (a tiny
// budget) gives what one slab gives.
func TestConvSlabs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := graphtest.Rand(r, -1, 1, 2, 4, 6, 5)
	w := graphtest.Rand(r, -1, 1, 4, 2, 3, 2)
	wt := graphtest.Rand(r, -1, 1, 4, 3, 2, 3)
	build := func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.Conv(n[0], n[1], nil, graph.Attrs{"group": int64(2), "pads": ints(1, 0, 1, 1), "strides": ints(1, 2)}),
			graph.ConvTranspose(n[0], n[2], nil, graph.Attrs{"strides": ints(2, 1), "pads": ints(0, 1, 1, 0)}),
		}
	}
	want := graphtest.MustEval(t, build, x, w, wt)
	for _, budget := range []int{1, 7, 40} {
		restore := graph.SetColBudget(budget)
		got := graphtest.MustEval(t, build, x, w, wt)
		restore()
		for i := range want {
			closeF(t, "slabs", got[i].F, want[i].F, 1e-6)
		}
	}
}
