package graph_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// ---------- helpers shared by the op tests ----------

type buildFn = func(g *graph.Graph, x []*graph.Node) []*graph.Node

// one wraps a single-output builder.
func one(f func(x []*graph.Node) *graph.Node) buildFn {
	return func(_ *graph.Graph, x []*graph.Node) []*graph.Node { return []*graph.Node{f(x)} }
}

func grad1(f func(x []*graph.Node) *graph.Node) func(*graph.Graph, []*graph.Node) *graph.Node {
	return func(_ *graph.Graph, x []*graph.Node) *graph.Node { return f(x) }
}

func wantShape(t *testing.T, got *graph.Tensor, shape ...int) {
	t.Helper()
	if shape == nil {
		shape = []int{}
	}
	if !graph.SameShape(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
}

// closeF compares float32 values with an absolute+relative tolerance;
// NaN must match NaN and infinities must match exactly.
func closeF(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d (%v vs %v)", what, len(got), len(want), got, want)
	}
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		switch {
		case math.IsNaN(w):
			if !math.IsNaN(g) {
				t.Fatalf("%s[%d] = %v, want NaN (%v)", what, i, g, got)
			}
		case math.IsInf(w, 0):
			if g != w {
				t.Fatalf("%s[%d] = %v, want %v (%v)", what, i, g, w, got)
			}
		case math.Abs(g-w) > tol*(1+math.Abs(w)) || math.IsNaN(g):
			t.Fatalf("%s[%d] = %v, want %v\n got  %v\n want %v", what, i, g, w, got, want)
		}
	}
}

func equalI(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func equalB(t *testing.T, what string, got, want []bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

// buildErr builds f on inputs of the given metas and returns the error.
func buildErr(f func(g *graph.Graph) *graph.Node) error {
	g := graph.New("e")
	return graph.Catch(func() { f(g) })
}

func wantBuildErr(t *testing.T, substr string, f func(g *graph.Graph) *graph.Node) {
	t.Helper()
	err := buildErr(f)
	if err == nil {
		t.Fatalf("no error, want one containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}

func tf(shape []int, v ...float32) *graph.Tensor { return graph.F32(shape, v) }
func ti(shape []int, v ...int64) *graph.Tensor   { return graph.I64(shape, v) }

var nanF = float32(math.NaN())

// ---------- unary ----------

func TestUnaryValues(t *testing.T) {
	xs := []float32{-100, -20, -3, -1, -0.5, 0, 0.25, 1, 3, 20, 100}
	x := tf([]int{len(xs)}, xs...)
	cases := []struct {
		name string
		f    func(*graph.Node) *graph.Node
		ref  func(float64) float64
	}{
		{"Relu", graph.Relu, func(v float64) float64 { return math.Max(v, 0) }},
		{"Sigmoid", graph.Sigmoid, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		{"Softplus", graph.Softplus, func(v float64) float64 {
			if v > 30 {
				return v
			}
			return math.Log(1 + math.Exp(v))
		}},
		{"Tanh", graph.Tanh, math.Tanh},
		{"Exp", graph.Exp, math.Exp},
	}
	for _, c := range cases {
		out := graphtest.MustEval(t, one(func(n []*graph.Node) *graph.Node { return c.f(n[0]) }), x)[0]
		want := make([]float32, len(xs))
		for i, v := range xs {
			want[i] = float32(c.ref(float64(v)))
		}
		closeF(t, c.name, out.F, want, 1e-6)
		for i, v := range out.F {
			if c.name != "Exp" && (math.IsInf(float64(v), 0) || math.IsNaN(float64(v))) {
				t.Fatalf("%s(%v) = %v", c.name, xs[i], v)
			}
		}
	}
	// Sigmoid(-100) is tiny but positive, Softplus(-100) too: no underflow to garbage.
	if s := float32(1 / (1 + math.Exp(100))); s <= 0 {
		t.Fatal("reference underflow")
	}

	pos := tf([]int{2, 3}, 0, 0.25, 1, 4, 9, 100)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Log(n[0]), graph.Sqrt(n[0])}
	}, pos)
	inf := float32(math.Inf(-1))
	closeF(t, "Log", out[0].F, []float32{inf, float32(math.Log(0.25)), 0, float32(math.Log(4)), float32(math.Log(9)), float32(math.Log(100))}, 1e-6)
	closeF(t, "Sqrt", out[1].F, []float32{0, 0.5, 1, 2, 3, 10}, 1e-7)
	wantShape(t, out[1], 2, 3)

	// NaN propagates through the activations.
	nx := tf([]int{1}, nanF)
	for _, f := range []func(*graph.Node) *graph.Node{graph.Relu, graph.Sigmoid, graph.Softplus, graph.Tanh} {
		o := graphtest.MustEval(t, one(func(n []*graph.Node) *graph.Node { return f(n[0]) }), nx)[0]
		if !math.IsNaN(float64(o.F[0])) {
			t.Fatalf("NaN in, %v out", o.F[0])
		}
	}
}

func TestUnaryErrors(t *testing.T) {
	wantBuildErr(t, "type bool not supported", func(g *graph.Graph) *graph.Node {
		return graph.Sigmoid(g.Input("b", graph.Bool, 2))
	})
	wantBuildErr(t, "type int64 not supported", func(g *graph.Graph) *graph.Node {
		return graph.Exp(g.Input("i", graph.Int64, 2))
	})
	wantBuildErr(t, "element type uint8 not supported", func(g *graph.Graph) *graph.Node {
		return graph.Relu(g.Input("i", graph.Uint8, 2))
	})
}

func TestUnaryGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := graphtest.Rand(r, -3, 3, 3, 4)
	for i, v := range x.F { // keep Relu away from its kink
		if math.Abs(float64(v)) < 0.05 {
			x.F[i] = 0.5
		}
	}
	pos := graphtest.Rand(r, 0.5, 3, 3, 4)
	for _, c := range []struct {
		name string
		f    func(*graph.Node) *graph.Node
		x    *graph.Tensor
	}{
		{"Relu", graph.Relu, x}, {"Sigmoid", graph.Sigmoid, x}, {"Softplus", graph.Softplus, x},
		{"Tanh", graph.Tanh, x}, {"Exp", graph.Exp, x}, {"Log", graph.Log, pos}, {"Sqrt", graph.Sqrt, pos},
	} {
		t.Run(c.name, func(t *testing.T) {
			graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return c.f(n[0]) }), c.x)
		})
	}
}

// ---------- Softmax, LogSoftmax ----------

// refSoftmax computes softmax along axis in float64, the textbook way.
func refSoftmax(x *graph.Tensor, axis int, logOut bool) []float32 {
	shape := x.Shape
	if axis < 0 {
		axis += len(shape)
	}
	outer, n, inner := 1, shape[axis], 1
	for i, d := range shape {
		if i < axis {
			outer *= d
		} else if i > axis {
			inner *= d
		}
	}
	out := make([]float32, len(x.F))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			var s float64
			for j := 0; j < n; j++ {
				s += math.Exp(float64(x.F[(o*n+j)*inner+i]))
			}
			for j := 0; j < n; j++ {
				p := (o*n+j)*inner + i
				if logOut {
					out[p] = float32(float64(x.F[p]) - math.Log(s))
				} else {
					out[p] = float32(math.Exp(float64(x.F[p])) / s)
				}
			}
		}
	}
	return out
}

func TestSoftmaxValues(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := graphtest.Rand(r, -4, 4, 2, 3, 4)
	for _, axis := range []int{0, 1, 2, -1, -3} {
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Softmax(n[0], int64(axis)), graph.LogSoftmax(n[0], int64(axis))}
		}, x)
		wantShape(t, out[0], 2, 3, 4)
		closeF(t, "Softmax", out[0].F, refSoftmax(x, axis, false), 1e-6)
		closeF(t, "LogSoftmax", out[1].F, refSoftmax(x, axis, true), 1e-5)
	}
	// Large logits: no overflow, rows sum to 1.
	big := tf([]int{2, 3}, 1000, 1001, 1002, -1000, -1000, -1000)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Softmax(n[0], -1), graph.LogSoftmax(n[0], -1)}
	}, big)
	e0, e1, e2 := math.Exp(-2), math.Exp(-1), 1.0
	s := e0 + e1 + e2
	closeF(t, "Softmax big", out[0].F, []float32{float32(e0 / s), float32(e1 / s), float32(e2 / s), 1. / 3, 1. / 3, 1. / 3}, 1e-6)
	closeF(t, "LogSoftmax big", out[1].F, []float32{float32(-2 - math.Log(s)), float32(-1 - math.Log(s)), float32(-math.Log(s)),
		float32(-math.Log(3)), float32(-math.Log(3)), float32(-math.Log(3))}, 1e-6)

	wantBuildErr(t, "axis 2 out of range for rank 2", func(g *graph.Graph) *graph.Node {
		return graph.Softmax(g.Input("x", graph.Float32, -1, 3), 2)
	})
	wantBuildErr(t, "type int64 not supported", func(g *graph.Graph) *graph.Node {
		return graph.LogSoftmax(g.Input("x", graph.Int64, 3), -1)
	})
}

func TestSoftmaxGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := graphtest.Rand(r, -2, 2, 2, 3, 4)
	for _, axis := range []int64{1, -1} {
		graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.Softmax(n[0], axis) }), x)
		graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.LogSoftmax(n[0], axis) }), x)
	}
}

// ---------- Max, Min ----------

func TestMaxMinValues(t *testing.T) {
	a := tf([]int{2, 3}, 1, 5, -2, 7, 0, 3)
	b := tf([]int{3}, 2, 2, 2)
	c := tf([]int{2, 1}, 4, -10)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Max(n[0], n[1], n[2]), graph.Min(n[0], n[1], n[2]), graph.Max(n[1]), graph.Min(n[2], n[1])}
	}, a, b, c)
	wantShape(t, out[0], 2, 3)
	closeF(t, "Max3", out[0].F, []float32{4, 5, 4, 7, 2, 3}, 0)
	closeF(t, "Min3", out[1].F, []float32{1, 2, -2, -10, -10, -10}, 0)
	closeF(t, "Max1", out[2].F, []float32{2, 2, 2}, 0)
	wantShape(t, out[3], 2, 3)
	closeF(t, "Min2", out[3].F, []float32{2, 2, 2, -10, -10, -10}, 0)

	ai := ti([]int{3}, 1, -5, 9)
	bi := ti([]int{2, 1}, 0, 4)
	oi := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Max(n[0], n[1]), graph.Min(n[0], n[1])}
	}, ai, bi)
	wantShape(t, oi[0], 2, 3)
	equalI(t, "Max int", oi[0].I, []int64{1, 0, 9, 4, 4, 9})
	equalI(t, "Min int", oi[1].I, []int64{0, -5, 0, 1, -5, 4})

	// NaN propagates whichever side it is on.
	on := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Max(n[0], n[1]), graph.Min(n[1], n[0])}
	}, tf([]int{3}, nanF, 1, 2), tf([]int{3}, 0, nanF, 1))
	closeF(t, "Max NaN", on[0].F, []float32{nanF, nanF, 2}, 0)
	closeF(t, "Min NaN", on[1].F, []float32{nanF, nanF, 1}, 0)

	wantBuildErr(t, "input types differ", func(g *graph.Graph) *graph.Node {
		return graph.Max(g.Input("a", graph.Float32, 2), g.Input("b", graph.Int64, 2))
	})
	wantBuildErr(t, "type bool not supported", func(g *graph.Graph) *graph.Node {
		return graph.Min(g.Input("a", graph.Bool, 2))
	})
	wantBuildErr(t, "do not broadcast", func(g *graph.Graph) *graph.Node {
		return graph.Min(g.Input("a", graph.Float32, 2), g.Input("b", graph.Float32, 3))
	})
}

func TestMaxMinGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	a := graphtest.Rand(r, -1, 1, 3, 4)
	b := graphtest.Rand(r, -1, 1, 4)
	c := graphtest.Rand(r, -1, 1, 3, 1)
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.Max(n[0], n[1], n[2]) }), a, b, c)
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.Min(n[0], n[1]) }), a, b)
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.Max(n[0]) }), a)

	// Ties: the first input takes the whole gradient.
	x := tf([]int{3}, 1, 2, 3)
	y := tf([]int{3}, 1, 5, 3)
	out := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		l := graph.ReduceSum(graph.Mul(graph.Max(n[0], n[1]), g.Const(tf([]int{3}, 10, 20, 30))), nil, false)
		gr, err := graph.Gradients(l, n[0], n[1])
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return gr
	}, x, y)
	closeF(t, "dx", out[0].F, []float32{10, 0, 30}, 0)
	closeF(t, "dy", out[1].F, []float32{0, 20, 0}, 0)
}

// ---------- Clip ----------

func TestClipValues(t *testing.T) {
	x := tf([]int{2, 3}, -3, -1, 0, 1, 2, nanF)
	lo, hi := tf([]int{}, -1), tf([]int{}, 1)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Clip(n[0], n[1], n[2]), graph.Clip(n[0], nil, n[2]), graph.Clip(n[0], n[1], nil),
			graph.Clip(n[0], nil, nil), graph.Clip(n[0], n[2], n[1])}
	}, x, lo, hi)
	wantShape(t, out[0], 2, 3)
	closeF(t, "both", out[0].F, []float32{-1, -1, 0, 1, 1, nanF}, 0)
	closeF(t, "max only", out[1].F, []float32{-3, -1, 0, 1, 1, nanF}, 0)
	closeF(t, "min only", out[2].F, []float32{-1, -1, 0, 1, 2, nanF}, 0)
	closeF(t, "none", out[3].F, x.F, 0)
	closeF(t, "min > max", out[4].F, []float32{-1, -1, -1, -1, -1, nanF}, 0)

	xi := ti([]int{4}, math.MinInt64, -5, 5, math.MaxInt64)
	oi := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Clip(n[0], n[1], n[2]), graph.Clip(n[0], nil, n[2])}
	}, xi, ti([]int{}, -2), ti([]int{}, 3))
	equalI(t, "int", oi[0].I, []int64{-2, -2, 3, 3})
	equalI(t, "int max only", oi[1].I, []int64{math.MinInt64, -5, 3, 3})

	wantBuildErr(t, "min must be a scalar", func(g *graph.Graph) *graph.Node {
		return graph.Clip(g.Input("x", graph.Float32, 3), g.Input("m", graph.Float32, 1), nil)
	})
	wantBuildErr(t, "max is int64 but the input is float32", func(g *graph.Graph) *graph.Node {
		return graph.Clip(g.Input("x", graph.Float32, 3), nil, g.Input("m", graph.Int64))
	})
}

func TestClipGrad(t *testing.T) {
	// Boundaries are inclusive: x == min and x == max pass the gradient.
	x := tf([]int{5}, -2, -1, 0, 1, 2)
	out := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		y := graph.Clip(n[0], n[1], n[2])
		l := graph.ReduceSum(graph.Mul(y, g.Const(tf([]int{5}, 1, 2, 3, 4, 5))), nil, false)
		gr, err := graph.Gradients(l, n[0], n[1], n[2])
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return gr
	}, x, tf([]int{}, -1), tf([]int{}, 1))
	closeF(t, "dx", out[0].F, []float32{0, 2, 3, 4, 0}, 0)
	closeF(t, "dmin", out[1].F, []float32{1}, 0)
	closeF(t, "dmax", out[2].F, []float32{5}, 0)

	r := rand.New(rand.NewPCG(11, 12))
	xr := graphtest.Rand(r, -2, 2, 3, 4)
	for i, v := range xr.F { // stay away from the kinks at ±0.5
		if math.Abs(math.Abs(float64(v))-0.5) < 0.01 {
			xr.F[i] = 0
		}
	}
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.Clip(n[0], n[1], n[2]) }),
		xr, tf([]int{}, -0.5), tf([]int{}, 0.5))
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.Clip(n[0], nil, n[1]) }),
		xr, tf([]int{}, 0.5))
}

// ---------- Where ----------

func TestWhere(t *testing.T) {
	c := graph.Bools([]int{2, 1}, []bool{true, false})
	x := tf([]int{3}, 1, 2, 3)
	y := tf([]int{2, 3}, 10, 20, 30, 40, 50, 60)
	out := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Where(n[0], n[1], n[2])}
	}, c, x, y)
	wantShape(t, out[0], 2, 3)
	closeF(t, "Where", out[0].F, []float32{1, 2, 3, 40, 50, 60}, 0)

	c2 := graph.Bools([]int{3}, []bool{true, false, true})
	oi := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Where(n[0], n[1], n[2]), graph.Where(n[0], n[3], n[4])}
	}, c2, ti([]int{3}, 1, 2, 3), ti([]int{}, -1), graph.Bools([]int{1}, []bool{false}), graph.Bools([]int{3}, []bool{true, true, false}))
	equalI(t, "Where int", oi[0].I, []int64{1, -1, 3})
	equalB(t, "Where bool", oi[1].B, []bool{false, true, false})

	wantBuildErr(t, "condition must be bool", func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Float32, 2)
		return graph.Where(x, x, x)
	})
	wantBuildErr(t, "same type", func(g *graph.Graph) *graph.Node {
		return graph.Where(g.Input("c", graph.Bool, 2), g.Input("x", graph.Float32, 2), g.Input("y", graph.Int64, 2))
	})

	r := rand.New(rand.NewPCG(13, 14))
	cb := graph.Bools([]int{3, 1}, []bool{true, false, true})
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.Where(n[0], n[1], n[2]) }),
		cb, graphtest.Rand(r, -1, 1, 4), graphtest.Rand(r, -1, 1, 3, 4))
}

// ---------- comparisons ----------

func TestCompare(t *testing.T) {
	a := tf([]int{2, 2}, 1, 2, nanF, 4)
	b := tf([]int{2}, 2, 2)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Equal(n[0], n[1]), graph.Less(n[0], n[1]), graph.Greater(n[0], n[1]), graph.Equal(n[0], n[0])}
	}, a, b)
	wantShape(t, out[0], 2, 2)
	equalB(t, "Equal", out[0].B, []bool{false, true, false, false})
	equalB(t, "Less", out[1].B, []bool{true, false, false, false})
	equalB(t, "Greater", out[2].B, []bool{false, false, false, true})
	equalB(t, "NaN == NaN", out[3].B, []bool{true, true, false, true})

	oi := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Equal(n[0], n[1]), graph.Less(n[0], n[1]), graph.Greater(n[0], n[1]), graph.Equal(n[2], n[3])}
	}, ti([]int{3}, 1, 5, 9), ti([]int{}, 5), graph.Bools([]int{2}, []bool{true, false}), graph.Bools([]int{2, 1}, []bool{true, false}))
	equalB(t, "Equal int", oi[0].B, []bool{false, true, false})
	equalB(t, "Less int", oi[1].B, []bool{true, false, false})
	equalB(t, "Greater int", oi[2].B, []bool{false, false, true})
	wantShape(t, oi[3], 2, 2)
	equalB(t, "Equal bool", oi[3].B, []bool{true, false, false, true})

	oe := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.GreaterOrEqual(n[0], n[1]), graph.LessOrEqual(n[0], n[1])}
	}, a, b)
	equalB(t, "GreaterOrEqual", oe[0].B, []bool{false, true, false, true})
	equalB(t, "LessOrEqual", oe[1].B, []bool{true, true, false, false})
	oie := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.GreaterOrEqual(n[0], n[1]), graph.LessOrEqual(n[0], n[1])}
	}, ti([]int{3}, 1, 5, 9), ti([]int{}, 5))
	equalB(t, "GreaterOrEqual int", oie[0].B, []bool{false, true, true})
	equalB(t, "LessOrEqual int", oie[1].B, []bool{true, true, false})

	wantBuildErr(t, "type bool not supported", func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Bool, 2)
		return graph.Less(x, x)
	})
	wantBuildErr(t, "type bool not supported", func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Bool, 2)
		return graph.GreaterOrEqual(x, x)
	})
	wantBuildErr(t, "input types differ", func(g *graph.Graph) *graph.Node {
		return graph.Equal(g.Input("x", graph.Bool, 2), g.Input("y", graph.Float32, 2))
	})
}

// ---------- Cast ----------

func TestCast(t *testing.T) {
	x := tf([]int{7}, 2.7, -2.7, 0, -0.5, nanF, 1e20, -1e20)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Cast(n[0], graph.Int64), graph.Cast(n[0], graph.Bool), graph.Cast(n[0], graph.Float32)}
	}, x)
	equalI(t, "f->i", out[0].I, []int64{2, -2, 0, 0, math.MinInt64, math.MinInt64, math.MinInt64})
	equalB(t, "f->b", out[1].B, []bool{true, true, false, true, true, true, true})
	closeF(t, "f->f", out[2].F, x.F, 0)

	xi := ti([]int{4}, -3, 0, 1<<40, 7)
	oi := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Cast(n[0], graph.Float32), graph.Cast(n[0], graph.Bool), graph.Cast(n[0], graph.Int64)}
	}, xi)
	closeF(t, "i->f", oi[0].F, []float32{-3, 0, 1 << 40, 7}, 0)
	equalB(t, "i->b", oi[1].B, []bool{true, false, true, true})
	equalI(t, "i->i", oi[2].I, xi.I)

	xb := graph.Bools([]int{2}, []bool{true, false})
	ob := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Cast(n[0], graph.Float32), graph.Cast(n[0], graph.Int64)}
	}, xb)
	closeF(t, "b->f", ob[0].F, []float32{1, 0}, 0)
	equalI(t, "b->i", ob[1].I, []int64{1, 0})

	err := buildErr(func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Float32, 2)
		return graph.Apply1(graph.MustLookup("", "Cast"), graph.Attrs{"to": int64(16)}, x)
	})
	if err == nil || !strings.Contains(err.Error(), "cast to bfloat16 not supported") {
		t.Fatalf("cast to bfloat16: %v", err)
	}
	err = buildErr(func(g *graph.Graph) *graph.Node {
		return graph.Apply1(graph.MustLookup("", "Cast"), nil, g.Input("x", graph.Float32, 2))
	})
	if err == nil || !strings.Contains(err.Error(), `"to" is missing`) {
		t.Fatalf("cast without to: %v", err)
	}

	r := rand.New(rand.NewPCG(15, 16))
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node {
		return graph.Mul(graph.Cast(n[0], graph.Float32), n[0])
	}), graphtest.Rand(r, -1, 1, 5))
}

// ---------- CumSum ----------

func TestCumSumValues(t *testing.T) {
	x := tf([]int{5}, 1, 2, 3, 4, 5)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.CumSum(n[0], 0, false, false), graph.CumSum(n[0], 0, true, false),
			graph.CumSum(n[0], 0, false, true), graph.CumSum(n[0], -1, true, true),
		}
	}, x)
	closeF(t, "inclusive", out[0].F, []float32{1, 3, 6, 10, 15}, 0)
	closeF(t, "exclusive", out[1].F, []float32{0, 1, 3, 6, 10}, 0)
	closeF(t, "reverse", out[2].F, []float32{15, 14, 12, 9, 5}, 0)
	closeF(t, "exclusive reverse", out[3].F, []float32{14, 12, 9, 5, 0}, 0)

	m := tf([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	om := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		axis1 := g.Const(ti([]int{1}, 1)) // a 1-element 1-D axis
		return []*graph.Node{graph.CumSum(n[0], 0, false, false), graph.CumSumNode(n[0], axis1, false, false),
			graph.CumSum(n[0], -2, true, true)}
	}, m)
	closeF(t, "axis 0", om[0].F, []float32{1, 2, 3, 5, 7, 9}, 0)
	closeF(t, "axis 1", om[1].F, []float32{1, 3, 6, 4, 9, 15}, 0)
	closeF(t, "axis -2 excl rev", om[2].F, []float32{4, 5, 6, 0, 0, 0}, 0)

	// A run-time axis and int64 data.
	oi := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.CumSumNode(n[0], n[1], false, false)}
	}, ti([]int{2, 2}, 1, 2, 3, 4), ti([]int{}, 1))
	equalI(t, "int axis 1", oi[0].I, []int64{1, 3, 3, 7})

	wantBuildErr(t, "axis 2 out of range for rank 2", func(g *graph.Graph) *graph.Node {
		return graph.CumSum(g.Input("x", graph.Float32, 2, 3), 2, false, false)
	})
	wantBuildErr(t, "axis must be a scalar", func(g *graph.Graph) *graph.Node {
		return graph.CumSumNode(g.Input("x", graph.Float32, 2, 3), g.Input("a", graph.Int64, 2), false, false)
	})
	_, err := graphtest.Eval(one(func(n []*graph.Node) *graph.Node { return graph.CumSumNode(n[0], n[1], false, false) }),
		tf([]int{2}, 1, 2), ti([]int{}, 5))
	if err == nil || !strings.Contains(err.Error(), "axis 5 out of range for rank 1") {
		t.Fatalf("run-time bad axis: %v", err)
	}
}

func TestCumSumGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	x := graphtest.Rand(r, -1, 1, 3, 4)
	for _, excl := range []bool{false, true} {
		for _, rev := range []bool{false, true} {
			for _, axis := range []int64{0, 1} {
				graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node {
					return graph.CumSum(n[0], axis, excl, rev)
				}), x)
			}
		}
	}
}

// TestOpDefs checks the registered identities of this op set.
func TestOpDefs(t *testing.T) {
	want := map[string]int{
		"Relu": 14, "Sigmoid": 13, "Softplus": 1, "Tanh": 13, "Exp": 13, "Log": 13, "Sqrt": 13,
		"Softmax": 13, "LogSoftmax": 13, "ArgMax": 13, "ReduceSum": 13, "ReduceMean": 13, "ReduceMax": 13,
		"Max": 13, "Min": 13, "Clip": 13, "Where": 16, "Equal": 13, "Less": 13, "Greater": 13,
		"LessOrEqual": 16, "GreaterOrEqual": 16, "Cast": 13, "CumSum": 14, "MatMul": 13, "Gemm": 13,
	}
	for typ, since := range want {
		d, ok := graph.Lookup("", typ)
		if !ok {
			t.Errorf("%s not registered", typ)
			continue
		}
		if d.Since != since || d.Internal || d.Kernel == nil {
			t.Errorf("%s: since %d internal %v kernel %v", typ, d.Since, d.Internal, d.Kernel != nil)
		}
		for _, c := range d.Compat {
			if c == d.Since {
				t.Errorf("%s: Compat repeats Since", typ)
			}
		}
	}
}
