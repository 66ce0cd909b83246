package graph_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

func newSession(g *graph.Graph) (*native.Session, error) { return native.New(g, native.Options{}) }

// refReduce reduces x over the marked axes in float64 with f, starting
// from init, keeping reduced axes as size 1.
func refReduce(x *graph.Tensor, red []bool, init float64, f func(acc, v float64) float64) (shape []int, out []float64) {
	for i, d := range x.Shape {
		if red[i] {
			shape = append(shape, 1)
		} else {
			shape = append(shape, d)
		}
	}
	out = make([]float64, graph.Size(shape))
	for i := range out {
		out[i] = init
	}
	idx := graph.BroadcastIndex(shape, x.Shape)
	for i, j := range idx {
		out[j] = f(out[j], x.Float(i))
	}
	return shape, out
}

func mask(rank int, axes ...int) []bool {
	m := make([]bool, rank)
	for _, a := range axes {
		m[(a+rank)%rank] = true
	}
	return m
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func squeezeShape(shape []int, red []bool) []int {
	out := []int{}
	for i, d := range shape {
		if !red[i] {
			out = append(out, d)
		}
	}
	return out
}

func TestReduceValues(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	x := graphtest.Rand(r, -2, 2, 2, 3, 4)
	sum := func(a, v float64) float64 { return a + v }
	mx := func(a, v float64) float64 { return math.Max(a, v) }
	for _, axes := range [][]int64{{1}, {-1}, {0, 2}, {2, 0, 1}, nil} {
		var ia []int
		for _, a := range axes {
			ia = append(ia, int(a))
		}
		red := mask(3, ia...)
		if axes == nil {
			red = mask(3, 0, 1, 2)
		}
		for _, keep := range []bool{true, false} {
			out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.ReduceSum(n[0], axes, keep), graph.ReduceMean(n[0], axes, keep), graph.ReduceMax(n[0], axes, keep)}
			}, x)
			ks, ws := refReduce(x, red, 0, sum)
			_, wm := refReduce(x, red, math.Inf(-1), mx)
			count := float64(x.Len() / len(ws))
			wmean := make([]float64, len(ws))
			for i, v := range ws {
				wmean[i] = v / count
			}
			shape := ks
			if !keep {
				shape = squeezeShape(x.Shape, red)
			}
			for _, o := range out {
				wantShape(t, o, shape...)
			}
			closeF(t, "ReduceSum", out[0].F, toF32(ws), 1e-6)
			closeF(t, "ReduceMean", out[1].F, toF32(wmean), 1e-6)
			closeF(t, "ReduceMax", out[2].F, toF32(wm), 0)
		}
	}

	xi := ti([]int{2, 3}, 1, -2, 3, 4, 5, -6)
	oi := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReduceSum(n[0], []int64{1}, false), graph.ReduceMax(n[0], []int64{0}, true), graph.ReduceSum(n[0], nil, true)}
	}, xi)
	equalI(t, "ReduceSum int", oi[0].I, []int64{2, 3})
	wantShape(t, oi[1], 1, 3)
	equalI(t, "ReduceMax int", oi[1].I, []int64{4, 5, 3})
	wantShape(t, oi[2], 1, 1)
	equalI(t, "ReduceSum int all", oi[2].I, []int64{5})

	// A scalar reduces to itself.
	os := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReduceSum(n[0], nil, true), graph.ReduceMax(n[0], nil, false)}
	}, tf([]int{}, 3))
	wantShape(t, os[0])
	closeF(t, "scalar", append(os[0].F, os[1].F...), []float32{3, 3}, 0)
}

func TestReduceEdgeCases(t *testing.T) {
	// NaN propagates through ReduceMax (and sums).
	x := tf([]int{2, 3}, 1, nanF, 2, 3, 4, 5)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReduceMax(n[0], []int64{1}, false), graph.ReduceMax(n[0], []int64{0}, false)}
	}, x)
	closeF(t, "max NaN rows", out[0].F, []float32{nanF, 5}, 0)
	closeF(t, "max NaN cols", out[1].F, []float32{3, nanF, 5}, 0)

	// Reducing an empty axis: identities of the reductions.
	e := graph.NewTensor(graph.Float32, []int{0, 3})
	oe := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReduceSum(n[0], []int64{0}, false), graph.ReduceMax(n[0], []int64{0}, false),
			graph.ReduceMean(n[0], []int64{0}, false), graph.ReduceSum(n[0], []int64{1}, false)}
	}, e)
	closeF(t, "sum empty", oe[0].F, []float32{0, 0, 0}, 0)
	ninf := float32(math.Inf(-1))
	closeF(t, "max empty", oe[1].F, []float32{ninf, ninf, ninf}, 0)
	closeF(t, "mean empty", oe[2].F, []float32{nanF, nanF, nanF}, 0)
	wantShape(t, oe[3], 0)

	// noop_with_empty_axes: an empty axes input leaves x as is; without it,
	// an empty axes input reduces everything.
	m := tf([]int{2, 2}, 1, 2, 3, 4)
	on := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		empty := g.Const(graph.I64([]int{0}, []int64{}))
		return []*graph.Node{graph.ReduceSumNode(n[0], empty, true, true), graph.ReduceSumNode(n[0], empty, false, false),
			graph.ReduceSumNode(n[0], nil, false, true)}
	}, m)
	wantShape(t, on[0], 2, 2)
	closeF(t, "noop", on[0].F, m.F, 0)
	wantShape(t, on[1])
	closeF(t, "empty axes", on[1].F, []float32{10}, 0)
	closeF(t, "absent axes noop", on[2].F, m.F, 0)

	// Axes only known at run time.
	g := graph.New("dyn")
	xin := g.Input("x", graph.Float32, -1, 3, 1)
	axes := g.Input("axes", graph.Int64, -1)
	axes2 := g.Input("axes2", graph.Int64, 2)
	y1 := graph.ReduceSumNode(xin, axes, true, false)
	y2 := graph.ReduceSumNode(xin, axes2, false, false)
	if s := y1.Shape(); !graph.SameShape(s, []int{-1, -1, 1}) {
		t.Fatalf("dynamic keepdims shape %v", s)
	}
	if s := y2.Shape(); !graph.SameShape(s, []int{-1}) {
		t.Fatalf("dynamic shape %v", s)
	}
	err := graph.Catch(func() { graph.ReduceSumNode(xin, axes, false, false) })
	if err == nil || !strings.Contains(err.Error(), "keepdims=0") {
		t.Fatalf("unknown axis count with keepdims=0: %v", err)
	}
	g.SetOutput("y1", y1)
	g.SetOutput("y2", y2)
	res := runGraph(t, g, map[string]*graph.Tensor{
		"x":     tf([]int{2, 3, 1}, 1, 2, 3, 4, 5, 6),
		"axes":  ti([]int{1}, -2),
		"axes2": ti([]int{2}, 0, 2),
	})
	wantShape(t, res["y1"], 2, 1, 1)
	closeF(t, "dyn keep", res["y1"].F, []float32{6, 15}, 0)
	wantShape(t, res["y2"], 3)
	closeF(t, "dyn", res["y2"].F, []float32{5, 7, 9}, 0)

	wantBuildErr(t, "axis 2 out of range for rank 2", func(g *graph.Graph) *graph.Node {
		return graph.ReduceSum(g.Input("x", graph.Float32, 2, 2), []int64{2}, true)
	})
	wantBuildErr(t, "axis -3 out of range for rank 2", func(g *graph.Graph) *graph.Node {
		return graph.ReduceMean(g.Input("x", graph.Float32, 2, 2), []int64{-3}, true)
	})
	wantBuildErr(t, "given twice", func(g *graph.Graph) *graph.Node {
		return graph.ReduceMax(g.Input("x", graph.Float32, 2, 2), []int64{1, -1}, true)
	})
	wantBuildErr(t, "element type bool not supported", func(g *graph.Graph) *graph.Node {
		return graph.ReduceMean(g.Input("x", graph.Bool, 2, 2), nil, true)
	})
	wantBuildErr(t, "type bool not supported", func(g *graph.Graph) *graph.Node {
		return graph.ReduceSum(g.Input("x", graph.Bool, 2, 2), nil, true)
	})
	wantBuildErr(t, "axes must be int64", func(g *graph.Graph) *graph.Node {
		return graph.ReduceSumNode(g.Input("x", graph.Float32, 2, 2), g.Input("a", graph.Float32, 1), true, false)
	})
}

func runGraph(t *testing.T, g *graph.Graph, feed map[string]*graph.Tensor) map[string]*graph.Tensor {
	t.Helper()
	s, err := newSession(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReduceGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	x := graphtest.Rand(r, -2, 2, 2, 3, 4)
	for _, axes := range [][]int64{{1}, {0, 2}, {-1}, nil} {
		for _, keep := range []bool{true, false} {
			graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.ReduceSum(n[0], axes, keep) }), x)
			graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.ReduceMean(n[0], axes, keep) }), x)
			graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.ReduceMax(n[0], axes, keep) }), x)
		}
	}
	// noop_with_empty_axes passes the gradient through.
	graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node {
		return graph.ReduceSumNode(n[0], nil, false, true)
	}), x)

	// ReduceMax splits the gradient evenly among ties.
	out := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		l := graph.ReduceSum(graph.Mul(graph.ReduceMax(n[0], []int64{1}, false), g.Const(tf([]int{2}, 6, 10))), nil, false)
		gr, err := graph.Gradients(l, n[0])
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return gr
	}, tf([]int{2, 4}, 1, 3, 3, 3, 5, 0, 5, 1))
	closeF(t, "ties", out[0].F, []float32{0, 2, 2, 2, 5, 0, 5, 0}, 1e-7)
}

// TestReduceSecondOrder differentiates through the gradient ops.
func TestReduceSecondOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	x := graphtest.Rand(r, 0.5, 2, 3, 4)
	for _, kind := range []string{"sum", "mean", "max"} {
		t.Run(kind, func(t *testing.T) {
			graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node {
				// f(x) = d/dx sum(w * reduce(x*x)), a function of x again.
				sq := graph.Mul(n[0], n[0])
				var red *graph.Node
				switch kind {
				case "sum":
					red = graph.ReduceSum(sq, []int64{1}, false)
				case "mean":
					red = graph.ReduceMean(sq, []int64{1}, false)
				default:
					red = graph.ReduceMax(sq, []int64{1}, false)
				}
				w := n[0].Graph().Const(tf([]int{3}, 1, -2, 3))
				l := graph.ReduceSum(graph.Mul(red, w), nil, false)
				gr, err := graph.Gradients(l, n[0])
				if err != nil {
					panic(&graph.BuildError{Err: err})
				}
				return graph.Mul(gr[0], n[0])
			}), x)
		})
	}
}

func TestArgMax(t *testing.T) {
	x := tf([]int{2, 3}, 1, 5, 5, 7, 0, 7)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.ArgMax(n[0], 1, true, false), graph.ArgMax(n[0], 1, false, true),
			graph.ArgMax(n[0], 0, false, false), graph.ArgMax(n[0], -2, true, true),
		}
	}, x)
	wantShape(t, out[0], 2, 1)
	equalI(t, "axis 1 first", out[0].I, []int64{1, 0})
	wantShape(t, out[1], 2)
	equalI(t, "axis 1 last", out[1].I, []int64{2, 2})
	wantShape(t, out[2], 3)
	equalI(t, "axis 0", out[2].I, []int64{1, 0, 1})
	wantShape(t, out[3], 1, 3)
	equalI(t, "axis -2 last", out[3].I, []int64{1, 0, 1})

	xi := ti([]int{2, 2, 2}, 1, 2, 3, 4, 8, 7, 6, 5)
	oi := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ArgMax(n[0], 1, false, false)}
	}, xi)
	wantShape(t, oi[0], 2, 2)
	equalI(t, "int64 axis 1", oi[0].I, []int64{1, 1, 0, 0})

	// NaN as ONNX Runtime 1.2x gives: the first NaN wins; with
	// select_last_index NaN compares false (it wins only in first place).
	on := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ArgMax(n[0], 1, false, false), graph.ArgMax(n[0], 1, false, true)}
	}, tf([]int{4, 5}, 8, nanF, 3, 10, 5, nanF, 1, 2, 3, 0, 1, 2, nanF, 0, 3, 5, nanF, 5, 1, nanF))
	equalI(t, "NaN first", on[0].I, []int64{1, 0, 2, 1})
	equalI(t, "NaN last", on[1].I, []int64{3, 0, 4, 2})

	wantBuildErr(t, "axis 2 out of range for rank 2", func(g *graph.Graph) *graph.Node {
		return graph.ArgMax(g.Input("x", graph.Float32, 2, 3), 2, true, false)
	})
	wantBuildErr(t, "size 0", func(g *graph.Graph) *graph.Node {
		return graph.ArgMax(g.Input("x", graph.Float32, 2, 0), 1, true, false)
	})
	wantBuildErr(t, "type bool not supported", func(g *graph.Graph) *graph.Node {
		return graph.ArgMax(g.Input("x", graph.Bool, 2), 0, true, false)
	})
	// ArgMax has no gradient: a loss through it does not reach x.
	g := graph.New("a")
	xn := g.Input("x", graph.Float32, 3)
	l := graph.ReduceSum(graph.Mul(graph.Cast(graph.ArgMax(xn, 0, false, false), graph.Float32), xn), nil, false)
	gr, err := graph.Gradients(l, xn)
	if err != nil {
		t.Fatal(err)
	}
	g.SetOutput("g", gr[0])
	res := runGraph(t, g, map[string]*graph.Tensor{"x": tf([]int{3}, 1, 3, 2)})
	closeF(t, "grad through ArgMax", res["g"].F, []float32{1, 1, 1}, 0)
}

// TestReduceDTypes checks every reduction on every dtype it takes against
// a float64 reference of the same values (integers: values small enough
// to be exact; integer means, L2 and logs truncate).
func TestReduceDTypes(t *testing.T) {
	type op struct {
		name  string
		build func(x *graph.Node, axes []int64, keep bool) *graph.Node
		init  float64
		step  func(a, v float64) float64
		fin   func(a float64, n int) float64
	}
	add := func(a, v float64) float64 { return a + v }
	id := func(a float64, _ int) float64 { return a }
	ops := []op{
		{"ReduceSum", graph.ReduceSum, 0, add, id},
		{"ReduceMean", graph.ReduceMean, 0, add, func(a float64, n int) float64 { return a / float64(n) }},
		{"ReduceMax", graph.ReduceMax, math.Inf(-1), math.Max, id},
		{"ReduceMin", graph.ReduceMin, math.Inf(1), math.Min, id},
		{"ReduceProd", graph.ReduceProd, 1, func(a, v float64) float64 { return a * v }, id},
		{"ReduceL1", graph.ReduceL1, 0, func(a, v float64) float64 { return a + math.Abs(v) }, id},
		{"ReduceL2", graph.ReduceL2, 0, func(a, v float64) float64 { return a + v*v }, func(a float64, _ int) float64 { return math.Sqrt(a) }},
		{"ReduceSumSquare", graph.ReduceSumSquare, 0, func(a, v float64) float64 { return a + v*v }, id},
		{"ReduceLogSum", graph.ReduceLogSum, 0, add, func(a float64, _ int) float64 { return math.Log(a) }},
		{"ReduceLogSumExp", graph.ReduceLogSumExp, 0, func(a, v float64) float64 { return a + math.Exp(v) }, func(a float64, _ int) float64 { return math.Log(a) }},
	}
	vals := []float64{1, 2, 3, 1, 2, 2, 3, 1, 1, 2, 3, 2} // positive: LogSum is defined
	for _, dt := range []graph.DType{graph.Float32, graph.Float64, graph.Float16, graph.Int32, graph.Int64, graph.Uint32, graph.Uint64} {
		x := fromF64(dt, []int{2, 3, 2}, vals)
		for _, o := range ops {
			for _, axes := range [][]int64{{1}, {0, 2}, nil} {
				var ia []int
				for _, a := range axes {
					ia = append(ia, int(a))
				}
				red := mask(3, ia...)
				if axes == nil {
					red = mask(3, 0, 1, 2)
				}
				n := 1
				for i, d := range x.Shape {
					if red[i] {
						n *= d
					}
				}
				shape, want := refReduce(x, red, o.init, o.step)
				for i := range want {
					want[i] = o.fin(want[i], n)
					if dt.IsInteger() {
						want[i] = math.Trunc(want[i])
					}
				}
				out := graphtest.MustEval(t, func(_ *graph.Graph, nn []*graph.Node) []*graph.Node {
					return []*graph.Node{o.build(nn[0], axes, true)}
				}, x)[0]
				if out.DType != dt || !graph.SameShape(out.Shape, shape) {
					t.Fatalf("%s %s %v: got %s%v, want %s%v", o.name, dt, axes, out.DType, out.Shape, dt, shape)
				}
				tol := 1e-6
				if dt == graph.Float16 {
					tol = 2e-3
				}
				for i, w := range want {
					if g := out.Float(i); math.Abs(g-w) > tol*math.Max(1, math.Abs(w)) {
						t.Errorf("%s %s axes %v [%d] = %v, want %v", o.name, dt, axes, i, g, w)
					}
				}
			}
		}
	}
	// 8-bit integers and bool for ReduceMax/ReduceMin only.
	xi8 := graph.FromSlice([]int{2, 2}, []int8{-3, 7, 5, -8})
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReduceMax(n[0], []int64{1}, false), graph.ReduceMin(n[0], []int64{0}, false)}
	}, xi8)
	if g := graph.Data[int8](out[0]); g[0] != 7 || g[1] != 5 {
		t.Errorf("int8 max %v", g)
	}
	if g := graph.Data[int8](out[1]); g[0] != -3 || g[1] != -8 {
		t.Errorf("int8 min %v", g)
	}
	xb := graph.Bools([]int{2, 2}, []bool{true, false, false, false})
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReduceMax(n[0], []int64{1}, false), graph.ReduceMin(n[0], []int64{0}, false)}
	}, xb)
	if g := out[0].B; !g[0] || g[1] {
		t.Errorf("bool max %v", g)
	}
	if g := out[1].B; g[0] || g[1] {
		t.Errorf("bool min %v", g)
	}
	wantBuildErr(t, "element type int8 not supported", func(g *graph.Graph) *graph.Node {
		return graph.ReduceSum(g.Input("x", graph.Int8, 2), nil, true)
	})
}

// fromF64 makes a tensor of dtype dt holding vals.
func fromF64(dt graph.DType, shape []int, vals []float64) *graph.Tensor {
	switch dt {
	case graph.Float32:
		return graph.F32(shape, toF32(vals))
	case graph.Float64:
		return graph.FromSlice(shape, append([]float64{}, vals...))
	case graph.Float16:
		h := make([]graph.Half, len(vals))
		for i, v := range vals {
			h[i] = graph.F16(float32(v))
		}
		return graph.FromSlice(shape, h)
	case graph.Int32:
		return graph.FromSlice(shape, castSlice[int32](vals))
	case graph.Int64:
		return graph.FromSlice(shape, castSlice[int64](vals))
	case graph.Uint32:
		return graph.FromSlice(shape, castSlice[uint32](vals))
	case graph.Uint64:
		return graph.FromSlice(shape, castSlice[uint64](vals))
	}
	panic("fromF64: dtype " + dt.String())
}

func castSlice[T int32 | int64 | uint32 | uint64 | int8 | uint8](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

func TestReduceEmptySets(t *testing.T) {
	e := graph.NewTensor(graph.Float64, []int{0, 2})
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		var r []*graph.Node
		for _, f := range []func(*graph.Node, []int64, bool) *graph.Node{graph.ReduceSum, graph.ReduceProd, graph.ReduceMax,
			graph.ReduceMin, graph.ReduceL1, graph.ReduceL2, graph.ReduceSumSquare, graph.ReduceLogSum, graph.ReduceLogSumExp, graph.ReduceMean} {
			r = append(r, f(n[0], []int64{0}, false))
		}
		return r
	}, e)
	inf := math.Inf(1)
	want := []float64{0, 1, -inf, inf, 0, 0, 0, -inf, -inf, math.NaN()}
	for i, w := range want {
		got := graph.Data[float64](out[i])
		if len(got) != 2 || !(got[0] == w || w != w && got[0] != got[0]) {
			t.Errorf("empty reduction %d: %v, want %v", i, got, w)
		}
	}
	// LogSumExp is stable where exp overflows, and keeps ±Inf and NaN.
	x := tf([]int{4, 2}, 1000, 1000, float32(math.Inf(1)), 1, float32(math.Inf(-1)), float32(math.Inf(-1)), nanF, 1)
	o := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReduceLogSumExp(n[0], []int64{1}, false)}
	}, x)[0]
	wantLSE := []float32{1000 + float32(math.Ln2), float32(math.Inf(1)), float32(math.Inf(-1)), nanF}
	for i, w := range wantLSE {
		if g := o.F[i]; !(math.Abs(float64(g-w)) < 1e-3 || g == w || w != w && g != g) {
			t.Errorf("LogSumExp row %d = %v, want %v", i, g, w)
		}
	}
}

func TestArgMinDTypes(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64, graph.Float16, graph.Int32, graph.Int64, graph.Uint32, graph.Uint64} {
		x := fromF64(dt, []int{2, 3}, []float64{3, 1, 1, 2, 5, 2})
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.ArgMin(n[0], 1, false, false), graph.ArgMin(n[0], 1, true, true), graph.ArgMax(n[0], 0, false, false)}
		}, x)
		equalI(t, dt.String()+" argmin first", out[0].I, []int64{1, 0})
		equalI(t, dt.String()+" argmin last", out[1].I, []int64{2, 2})
		wantShape(t, out[1], 2, 1)
		equalI(t, dt.String()+" argmax", out[2].I, []int64{0, 1, 1})
	}
	on := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ArgMin(n[0], 1, false, false), graph.ArgMin(n[0], 1, false, true)}
	}, tf([]int{2, 3}, 3, nanF, 1, nanF, 2, 0))
	equalI(t, "argmin NaN first", on[0].I, []int64{1, 0})
	equalI(t, "argmin NaN last", on[1].I, []int64{2, 0})
}
