package native_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// fusedOps runs g with and without the plan's fusions, requires the same
// bits from both, and returns the op types the fused plan profiled.
func fusedOps(t *testing.T, g *graph.Graph, feed map[string]*graph.Tensor) []string {
	t.Helper()
	got, want, ops := runBoth(t, g, feed)
	for name, w := range want {
		x := got[name]
		if x == nil || x.DType != w.DType || !slices.Equal(x.Shape, w.Shape) || x.Len() != w.Len() {
			t.Fatalf("output %s: fused %v, unfused %v", name, x, w)
		}
		for i := 0; i < w.Len(); i++ {
			a, b := x.Float(i), w.Float(i)
			if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
				t.Fatalf("output %s element %d: fused %v, unfused %v", name, i, a, b)
			}
		}
	}
	return ops
}

func randF32(r *rand.Rand, shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape)
	for i := range t.F {
		t.F[i] = float32(r.NormFloat64())
	}
	return t
}

func TestFuseGemmRelu(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := graph.New("gemmrelu")
	x := g.Input("x", graph.Float32, -1, 16)
	h := graph.Relu(graph.Gemm(x, g.Initializer("w", randF32(r, 16, 24)), g.Initializer("b", randF32(r, 24)), 1, 1, false, false))
	// transposed weights, no bias, alpha != 1
	h2 := graph.Relu(graph.Gemm(h, g.Initializer("w2", randF32(r, 8, 24)), nil, 0.5, 1, false, true))
	g.SetOutput("y", h2)
	// MatMul then Relu, rank 3 by rank 2
	x3 := g.Input("x3", graph.Float32, -1, 3, 16)
	g.SetOutput("z", graph.Relu(graph.MatMul(x3, g.Initializer("w3", randF32(r, 16, 5)))))
	in := randF32(r, 33, 16)
	in.F[7] = float32(math.NaN())
	ops := fusedOps(t, g, map[string]*graph.Tensor{"x": in, "x3": randF32(r, 7, 3, 16)})
	if want := []string{"Gemm+Relu", "MatMul+Relu"}; !slices.Equal(ops, want) {
		t.Errorf("fused plan ran %v, want %v", ops, want)
	}
}

// A product another op (or the caller) also reads is not fused: the Relu
// would overwrite it.
func TestFuseKeepsSharedValues(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := graph.New("shared")
	x := g.Input("x", graph.Float32, -1, 4)
	y := graph.Gemm(x, g.Initializer("w", randF32(r, 4, 6)), nil, 1, 1, false, false)
	g.SetOutput("pre", y)
	g.SetOutput("post", graph.Relu(y))
	ops := fusedOps(t, g, map[string]*graph.Tensor{"x": randF32(r, 9, 4)})
	if want := []string{"Gemm", "Relu"}; !slices.Equal(ops, want) {
		t.Errorf("plan ran %v, want %v (nothing fused)", ops, want)
	}
}

func TestFuseCountCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	g := graph.New("count")
	// Interp's search: how many knots of each row lie below each value.
	xs := g.Input("xs", graph.Float32, -1, 9)
	v := g.Input("v", graph.Float32, -1, 4)
	lt := graph.Less(graph.Unsqueeze(xs, 1), graph.Unsqueeze(v, 2)) // [N,4,9]
	g.SetOutput("k", graph.ReduceSum(graph.Cast(lt, graph.Int64), []int64{2}, false))
	// the other comparisons, a float32 count, keepdims, a middle axis
	ge := graph.GreaterOrEqual(graph.Unsqueeze(xs, 1), graph.Unsqueeze(v, 2))
	g.SetOutput("kf", graph.ReduceSum(graph.Cast(ge, graph.Float32), []int64{1}, true))
	gt := graph.Greater(graph.Unsqueeze(v, 2), graph.Unsqueeze(xs, 1))
	g.SetOutput("kg", graph.ReduceSum(graph.Cast(gt, graph.Int64), []int64{-1}, false))
	le := graph.LessOrEqual(graph.Unsqueeze(xs, 1), graph.Unsqueeze(v, 2))
	g.SetOutput("kl", graph.ReduceSum(graph.Cast(le, graph.Int64), []int64{0}, false))
	// int64 operands
	ids := g.Input("ids", graph.Int64, -1, 5)
	eq := graph.Equal(graph.Unsqueeze(ids, 2), graph.Unsqueeze(ids, 1))
	g.SetOutput("ke", graph.ReduceSum(graph.Cast(eq, graph.Int64), []int64{2}, false))
	// two axes: not covered by the fast path, run kernel by kernel
	g.SetOutput("k2", graph.ReduceSum(graph.Cast(lt, graph.Float32), []int64{1, 2}, false))

	n := 37
	xv, vv := randF32(r, n, 9), randF32(r, n, 4)
	for i := 0; i < n; i++ {
		slices.Sort(xv.F[i*9 : (i+1)*9])
	}
	xv.F[5], vv.F[3] = float32(math.NaN()), float32(math.NaN())
	vv.F[8] = xv.F[2*9+4] // a tie
	iv := graph.NewTensor(graph.Int64, []int{n, 5})
	for i := range iv.I {
		iv.I[i] = int64(r.IntN(4))
	}
	ops := fusedOps(t, g, map[string]*graph.Tensor{"xs": xv, "v": vv, "ids": iv})
	// lt has two readers (k and k2), so it stays; the other four fuse.
	for _, op := range []string{"GreaterOrEqual+Cast+ReduceSum", "Greater+Cast+ReduceSum", "LessOrEqual+Cast+ReduceSum", "Equal+Cast+ReduceSum", "Less"} {
		if !slices.Contains(ops, op) {
			t.Errorf("fused plan ran %v, want %s among them", ops, op)
		}
	}
	if slices.Contains(ops, "Less+Cast+ReduceSum") {
		t.Errorf("a comparison with two readers was fused: %v", ops)
	}
}

// The slow path of a fused chain (inputs the fast path does not cover)
// gives the unfused result too.
func TestFuseCountFallback(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := graph.New("fallback")
	xs := g.Input("xs", graph.Float32, -1, 6)
	v := g.Input("v", graph.Float32, -1, 3)
	lt := graph.Less(graph.Unsqueeze(xs, 1), graph.Unsqueeze(v, 2))
	g.SetOutput("k2", graph.ReduceSum(graph.Cast(lt, graph.Float32), []int64{1, 2}, true))
	ops := fusedOps(t, g, map[string]*graph.Tensor{"xs": randF32(r, 11, 6), "v": randF32(r, 11, 3)})
	if !slices.Contains(ops, "Less+Cast+ReduceSum") {
		t.Errorf("fused plan ran %v, want Less+Cast+ReduceSum", ops)
	}
}

// Reshape-like ops are views of their input: the input's buffer must stay
// untouched while a view of it is alive, whatever runs in between.
func TestAliasViewsKeepTheirBuffer(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	g := graph.New("alias")
	x := g.Input("x", graph.Float32, -1, 4)
	flat := graph.Reshape(graph.Relu(x), g.Initializer("s1", graph.I64([]int{1}, []int64{-1})))
	w := graph.Neg(graph.Sigmoid(x)) // buffers made while flat is alive
	back := graph.Reshape(flat, g.Initializer("s2", graph.I64([]int{2}, []int64{-1, 4})))
	g.SetOutput("y", graph.Add(back, w))
	g.SetOutput("flat", flat)
	g.SetOutput("same", graph.Unsqueeze(x, 0)) // a view of the caller's input
	in := randF32(r, 13, 4)
	ops := fusedOps(t, g, map[string]*graph.Tensor{"x": in})
	if !slices.Contains(ops, "Reshape") {
		t.Errorf("plan ran %v", ops)
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(map[string]*graph.Tensor{"x": in})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range in.F {
		relu := max(v, 0)
		if got := out["flat"].F[i]; got != relu {
			t.Fatalf("flat[%d] = %v, want %v", i, got, relu)
		}
		if got := out["same"].F[i]; got != v {
			t.Fatalf("same[%d] = %v, want %v", i, got, v)
		}
	}
	if !slices.Equal(out["same"].Shape, []int{1, 13, 4}) {
		t.Errorf("same has shape %v", out["same"].Shape)
	}
}

// An embedding lookup of ids plus each slot's offset: Add then Gather.
func TestFuseAddGather(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	g := graph.New("lookup")
	ids := g.Input("ids", graph.Int64, -1, 5)
	off := g.Initializer("off", graph.I64([]int{5}, []int64{0, 3, 6, -2, 9}))
	table := g.Initializer("table", randF32(r, 12, 4))
	g.SetOutput("rows", graph.Gather(table, graph.Add(ids, off), 0))
	// a scalar offset and a 1-D table
	g.SetOutput("vals", graph.Gather(g.Initializer("vec", randF32(r, 12)), graph.Add(ids, g.Initializer("one", graph.ScalarI64(1))), 0))
	in := graph.NewTensor(graph.Int64, []int{9, 5})
	for i := range in.I {
		in.I[i] = int64(r.IntN(3))
	}
	ops := fusedOps(t, g, map[string]*graph.Tensor{"ids": in})
	if !slices.Contains(ops, "Add+Gather") || slices.Contains(ops, "Add") {
		t.Errorf("fused plan ran %v, want Add+Gather only", ops)
	}
	// An index out of range fails as the unfused Gather does.
	in.I[7] = 40
	for _, opts := range []native.Options{{}, {NoFusion: true}} {
		s, err := native.New(g, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Run(map[string]*graph.Tensor{"ids": in}); err == nil {
			t.Errorf("NoFusion %v: an index out of range gave no error", opts.NoFusion)
		}
	}
}
