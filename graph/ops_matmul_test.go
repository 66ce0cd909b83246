package graph_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// refMatMul is numpy.matmul written out with loops in float64.
func refMatMul(a, b *graph.Tensor) ([]int, []float32) {
	as, bs := a.Shape, b.Shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	ab, bb := as[:len(as)-2], bs[:len(bs)-2]
	batch, err := graph.BroadcastShapes(ab, bb)
	if err != nil {
		panic(err)
	}
	ai, bi := graph.BroadcastIndex(ab, batch), graph.BroadcastIndex(bb, batch)
	out := make([]float32, graph.Size(batch)*m*n)
	for t := range ai {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					s += float64(a.F[ai[t]*m*k+i*k+p]) * float64(b.F[bi[t]*k*n+p*n+j])
				}
				out[(t*m+i)*n+j] = float32(s)
			}
		}
	}
	shape := append([]int{}, batch...)
	if len(a.Shape) > 1 {
		shape = append(shape, m)
	}
	if len(b.Shape) > 1 {
		shape = append(shape, n)
	}
	return shape, out
}

var matmulCases = []struct {
	name   string
	as, bs []int
}{
	{"2d", []int{3, 4}, []int{4, 5}},
	{"vec-mat", []int{4}, []int{4, 5}},
	{"mat-vec", []int{3, 4}, []int{4}},
	{"vec-vec", []int{4}, []int{4}},
	{"batched-2d", []int{2, 3, 4}, []int{4, 5}},
	{"2d-batched", []int{3, 4}, []int{2, 4, 5}},
	{"batched-both", []int{2, 3, 4}, []int{2, 4, 5}},
	{"broadcast-both", []int{2, 1, 3, 4}, []int{3, 4, 2}},
	{"vec-batched", []int{4}, []int{2, 4, 3}},
	{"batched-vec", []int{2, 3, 4}, []int{4}},
	{"k=0", []int{2, 0}, []int{0, 3}},
}

func TestMatMulValues(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, c := range matmulCases {
		t.Run(c.name, func(t *testing.T) {
			a, b := graphtest.Rand(r, -1, 1, c.as...), graphtest.Rand(r, -1, 1, c.bs...)
			out := graphtest.MustEval(t, one(func(n []*graph.Node) *graph.Node { return graph.MatMul(n[0], n[1]) }), a, b)[0]
			shape, want := refMatMul(a, b)
			wantShape(t, out, shape...)
			closeF(t, "MatMul", out.F, want, 1e-5)
		})
	}
}

func TestMatMulInfer(t *testing.T) {
	g := graph.New("m")
	x := g.Input("x", graph.Float32, -1, 4)
	w := g.Input("w", graph.Float32, 4, 3)
	if s := graph.MatMul(x, w).Shape(); !graph.SameShape(s, []int{-1, 3}) {
		t.Fatalf("shape %v", s)
	}
	xb := g.Input("xb", graph.Float32, -1, 1, 5, -1)
	wb := g.Input("wb", graph.Float32, 7, 4, 2)
	if s := graph.MatMul(xb, wb).Shape(); !graph.SameShape(s, []int{-1, 7, 5, 2}) {
		t.Fatalf("batched shape %v", s)
	}
	wantBuildErr(t, "inner dimensions differ", func(g *graph.Graph) *graph.Node {
		return graph.MatMul(g.Input("a", graph.Float32, 2, 3), g.Input("b", graph.Float32, 4, 2))
	})
	wantBuildErr(t, "rank 1 or more", func(g *graph.Graph) *graph.Node {
		return graph.MatMul(g.Input("a", graph.Float32), g.Input("b", graph.Float32, 4, 2))
	})
	wantBuildErr(t, "do not broadcast", func(g *graph.Graph) *graph.Node {
		return graph.MatMul(g.Input("a", graph.Float32, 2, 2, 3), g.Input("b", graph.Float32, 3, 3, 2))
	})
	wantBuildErr(t, "element type bool not supported", func(g *graph.Graph) *graph.Node {
		return graph.MatMul(g.Input("a", graph.Bool, 2, 3), g.Input("b", graph.Bool, 3, 2))
	})
	wantBuildErr(t, "must agree", func(g *graph.Graph) *graph.Node {
		return graph.MatMul(g.Input("a", graph.Int64, 2, 3), g.Input("b", graph.Float32, 3, 2))
	})
	// A dimension unknown while building that turns out wrong is a run-time error.
	g = graph.New("rt")
	a := g.Input("a", graph.Float32, 2, -1)
	b := g.Input("b", graph.Float32, 3, 2)
	g.SetOutput("y", graph.MatMul(a, b))
	s, err := newSession(g)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(map[string]*graph.Tensor{"a": graph.NewTensor(graph.Float32, []int{2, 4}), "b": graph.NewTensor(graph.Float32, []int{3, 2})})
	if err == nil || !strings.Contains(err.Error(), "inner dimensions differ") {
		t.Fatalf("run-time mismatch: %v", err)
	}
}

func TestMatMulGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, c := range matmulCases {
		if c.name == "k=0" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			a, b := graphtest.Rand(r, -1, 1, c.as...), graphtest.Rand(r, -1, 1, c.bs...)
			graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node { return graph.MatMul(n[0], n[1]) }), a, b)
		})
	}
}

// TestMatMulSecondOrder differentiates the gradient ops (each other's
// adjoints and MatMul) through a function of both operands.
func TestMatMulSecondOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for _, c := range []struct{ as, bs []int }{{[]int{3, 4}, []int{4, 2}}, {[]int{2, 3, 4}, []int{4, 2}}, {[]int{3, 4}, []int{2, 4, 2}}, {[]int{4}, []int{4, 2}}} {
		a, b := graphtest.Rand(r, -1, 1, c.as...), graphtest.Rand(r, -1, 1, c.bs...)
		graphtest.GradCheck(t, graphtest.DefaultTol, grad1(func(n []*graph.Node) *graph.Node {
			y := graph.MatMul(n[0], n[1])
			l := graph.ReduceSum(graph.Mul(y, y), nil, false)
			gr, err := graph.Gradients(l, n[0], n[1])
			if err != nil {
				panic(&graph.BuildError{Err: err})
			}
			return graph.Add(graph.ReduceSum(graph.Mul(gr[0], gr[0]), nil, false), graph.ReduceSum(graph.Mul(gr[1], gr[1]), nil, false))
		}), a, b)
	}
}

// refGemm computes alpha*op(A)*op(B) + beta*C in float64.
func refGemm(a, b, c *graph.Tensor, alpha, beta float64, ta, tb bool) []float32 {
	at := func(x *graph.Tensor, i, j int, tr bool) float64 {
		if tr {
			i, j = j, i
		}
		return x.Float(i*x.Shape[1] + j)
	}
	m, k := a.Shape[0], a.Shape[1]
	if ta {
		m, k = k, m
	}
	n := b.Shape[1]
	if tb {
		n = b.Shape[0]
	}
	out := make([]float32, m*n)
	var ci []int
	if c != nil {
		ci = graph.BroadcastIndex(c.Shape, []int{m, n})
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += at(a, i, p, ta) * at(b, p, j, tb)
			}
			s *= alpha
			if c != nil {
				s += beta * c.Float(ci[i*n+j])
			}
			out[i*n+j] = float32(s)
		}
	}
	return out
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	m, k, n := 3, 4, 5
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			as, bs := []int{m, k}, []int{k, n}
			if ta {
				as = []int{k, m}
			}
			if tb {
				bs = []int{n, k}
			}
			a, b := graphtest.Rand(r, -1, 1, as...), graphtest.Rand(r, -1, 1, bs...)
			for _, cs := range [][]int{nil, {}, {n}, {1, n}, {m, 1}, {m, n}} {
				alpha, beta := float32(1.5), float32(-0.5)
				var c *graph.Tensor
				xs := []*graph.Tensor{a, b}
				if cs != nil {
					c = graphtest.Rand(r, -1, 1, cs...)
					xs = append(xs, c)
				}
				f := func(x []*graph.Node) *graph.Node {
					var cn *graph.Node
					if len(x) > 2 {
						cn = x[2]
					}
					return graph.Gemm(x[0], x[1], cn, alpha, beta, ta, tb)
				}
				out := graphtest.MustEval(t, one(f), xs...)[0]
				wantShape(t, out, m, n)
				closeF(t, "Gemm", out.F, refGemm(a, b, c, float64(alpha), float64(beta), ta, tb), 1e-5)
				graphtest.GradCheck(t, graphtest.DefaultTol, grad1(f), xs...)
			}
		}
	}
	// Defaults: alpha = beta = 1; beta = 0 ignores C even when it holds NaN.
	a, b := graphtest.Rand(r, -1, 1, 2, 3), graphtest.Rand(r, -1, 1, 3, 2)
	cn := tf([]int{2}, nanF, 1)
	out := graphtest.MustEval(t, func(_ *graph.Graph, x []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Gemm(x[0], x[1], nil, 1, 1, false, false), graph.Gemm(x[0], x[1], x[2], 1, 0, false, false)}
	}, a, b, cn)
	_, want := refMatMul(a, b)
	closeF(t, "Gemm plain", out[0].F, want, 1e-6)
	closeF(t, "Gemm beta 0", out[1].F, want, 1e-6)

	wantBuildErr(t, "must be 2-D", func(g *graph.Graph) *graph.Node {
		return graph.Gemm(g.Input("a", graph.Float32, 2, 3, 1), g.Input("b", graph.Float32, 3, 2), nil, 1, 1, false, false)
	})
	wantBuildErr(t, "inner dimensions differ", func(g *graph.Graph) *graph.Node {
		return graph.Gemm(g.Input("a", graph.Float32, 2, 3), g.Input("b", graph.Float32, 3, 2), nil, 1, 1, true, false)
	})
	wantBuildErr(t, "does not broadcast to [2 2]", func(g *graph.Graph) *graph.Node {
		return graph.Gemm(g.Input("a", graph.Float32, 2, 3), g.Input("b", graph.Float32, 3, 2), g.Input("c", graph.Float32, 3), 1, 1, false, false)
	})
	g := graph.New("d")
	y := graph.Gemm(g.Input("a", graph.Float32, -1, 3), g.Input("b", graph.Float32, 3, 2), g.Input("c", graph.Float32, 2), 1, 1, false, false)
	if !graph.SameShape(y.Shape(), []int{-1, 2}) {
		t.Fatalf("Gemm dynamic shape %v", y.Shape())
	}
	// Only non-default attributes are written.
	if len(y.Op().Attrs) != 0 {
		t.Fatalf("default Gemm has attributes %v", y.Op().Attrs)
	}
}

func TestSgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(39, 40))
	// Shapes across the blocked kernels' edges: tiles of 8 rows and 32
	// columns, slabs of 256 along k, blocks of 128 rows and 512 columns,
	// and products large enough to be split over threads.
	shapes := [][3]int{{5, 4, 3}, {1, 1, 1}, {17, 33, 7}, {8, 32, 256}, {130, 70, 300}, {9, 530, 260}, {200, 16, 1}, {300, 64, 48}}
	defer graph.SetThreads(graph.SetThreads(3))
	defer graph.SetAVX512GEMM(graph.SetAVX512GEMM(true))
	for _, avx := range []bool{true, false} { // both kernels of the OpenBLAS build
		graph.SetAVX512GEMM(avx)
		for _, sh := range shapes {
			sgemmCase(t, r, sh[0], sh[1], sh[2])
		}
		sgemmEdges(t)
	}
}

// In the AVX-512 kernel, narrow products (16 columns or fewer) take
// their own register blocking; each element is summed in the same order,
// so a column comes out with the same bits whatever the width of the
// product it is in (as with the gonum kernels), with and without a bias,
// alpha, beta and a second slab of k (where the stores' multiply-adds
// round differently if one kernel fuses them and the other does not).
func TestSgemmNarrowSameBits(t *testing.T) {
	defer graph.SetAVX512GEMM(graph.SetAVX512GEMM(true))
	r := rand.New(rand.NewPCG(41, 42))
	const k, wn = 300, 48
	// both orders of A and B; rows in one and in two blocks of 16
	for _, m := range []int{13, 37, 70} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				lda, ldb := k, wn
				if ta {
					lda = m + 3
				}
				if tb {
					ldb = k + 1
				}
				a := graphtest.Rand(r, -1, 1, max(m, k)*lda).F
				b := graphtest.Rand(r, -1, 1, max(k, wn)*ldb).F
				bias := graphtest.Rand(r, -1, 1, wn).F
				c0 := graphtest.Rand(r, -1, 1, m*wn).F
				wide := make([]float32, m*wn)
				graph.SgemmBias(ta, tb, m, wn, k, 1.5, a, lda, b, ldb, bias, true, wide, wn)
				wideAcc := append([]float32{}, c0...)
				graph.Sgemm(ta, tb, m, wn, k, 0.5, a, lda, b, ldb, 0.25, wideAcc, wn)
				for _, n := range []int{16, 9, 2, 1} {
					narrow := make([]float32, m*n)
					graph.SgemmBias(ta, tb, m, n, k, 1.5, a, lda, b, ldb, bias[:n], true, narrow, n)
					acc := make([]float32, m*n)
					for i := range m {
						copy(acc[i*n:(i+1)*n], c0[i*wn:])
					}
					graph.Sgemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, acc, n)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							if math.Float32bits(narrow[i*n+j]) != math.Float32bits(wide[i*wn+j]) {
								t.Fatalf("m=%d n=%d transA=%v transB=%v: C[%d,%d] = %v, %v in the %d-wide product", m, n, ta, tb, i, j, narrow[i*n+j], wide[i*wn+j], wn)
							}
							if math.Float32bits(acc[i*n+j]) != math.Float32bits(wideAcc[i*wn+j]) {
								t.Fatalf("m=%d n=%d transA=%v transB=%v, beta 0.25: C[%d,%d] = %v, %v in the %d-wide product", m, n, ta, tb, i, j, acc[i*n+j], wideAcc[i*wn+j], wn)
							}
						}
					}
				}
			}
		}
	}
}

func sgemmCase(t *testing.T, r *rand.Rand, m, n, k int) {
	t.Helper()
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			// Stored with padded rows (ld > width) to check the strides.
			ar, ac := m, k
			if ta {
				ar, ac = k, m
			}
			br, bc := k, n
			if tb {
				br, bc = n, k
			}
			lda, ldb, ldc := ac+2, bc+1, n+3
			a := graphtest.Rand(r, -1, 1, ar*lda).F
			b := graphtest.Rand(r, -1, 1, br*ldb).F
			c := graphtest.Rand(r, -1, 1, m*ldc).F
			c0 := append([]float32{}, c...)
			graph.Sgemm(ta, tb, m, n, k, 2, a, lda, b, ldb, 0.5, c, ldc)
			for i := 0; i < m; i++ {
				for j := 0; j < ldc; j++ {
					if j >= n {
						if c[i*ldc+j] != c0[i*ldc+j] {
							t.Fatalf("padding of C written at %d,%d", i, j)
						}
						continue
					}
					var s, mag float64
					for p := 0; p < k; p++ {
						var av, bv float32
						if ta {
							av = a[p*lda+i]
						} else {
							av = a[i*lda+p]
						}
						if tb {
							bv = b[j*ldb+p]
						} else {
							bv = b[p*ldb+j]
						}
						s += float64(av) * float64(bv)
						mag += math.Abs(float64(av) * float64(bv))
					}
					want := 2*s + 0.5*float64(c0[i*ldc+j])
					if math.Abs(float64(c[i*ldc+j])-want) > 1e-5*(1+2*mag) {
						t.Fatalf("%dx%dx%d ta=%v tb=%v C[%d,%d] = %v, want %v", m, n, k, ta, tb, i, j, c[i*ldc+j], want)
					}
				}
			}
		}
	}
}

func sgemmEdges(t *testing.T) {
	t.Helper()
	// beta = 0 overwrites C without reading it; k = 0 gives beta*C.
	c := []float32{nanF, nanF}
	graph.Sgemm(false, false, 1, 2, 1, 1, []float32{2}, 1, []float32{3, 4}, 2, 0, c, 2)
	closeF(t, "beta 0", c, []float32{6, 8}, 0)
	c = []float32{nanF, 5}
	graph.Sgemm(false, false, 1, 2, 0, 1, nil, 0, nil, 0, 0, c, 2)
	closeF(t, "k 0", c, []float32{0, 0}, 0)
	c = []float32{1, 5}
	graph.Sgemm(false, false, 1, 2, 0, 1, nil, 0, nil, 0, 2, c, 2)
	closeF(t, "k 0 beta 2", c, []float32{2, 10}, 0)
}

// TestDynamicBatchGradients builds a small training graph on a batch
// dimension unknown while building and checks its gradients against the
// same graph built with static shapes.
func TestDynamicBatchGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	xv := graphtest.Rand(r, -1, 1, 3, 4)
	w1 := graphtest.Rand(r, -1, 1, 4, 5)
	b1 := graphtest.Rand(r, -1, 1, 5)
	w2 := graphtest.Rand(r, -1, 1, 5, 3)
	grads := func(batch int) map[string]*graph.Tensor {
		g := graph.New("train")
		x := g.Input("x", graph.Float32, batch, 4)
		p1, q1, p2 := g.Param("w1", w1.Clone()), g.Param("b1", b1.Clone()), g.Param("w2", w2.Clone())
		h := graph.Relu(graph.Gemm(x, p1, q1, 1, 1, false, false))
		h = graph.Clip(graph.Max(h, graph.Mul(h, g.Const(graph.ScalarF32(0.5)))), nil, g.Const(graph.ScalarF32(2)))
		y := graph.LogSoftmax(graph.MatMul(h, p2), -1)
		y = graph.CumSum(y, 1, false, false)
		y = graph.Where(graph.Greater(y, g.Const(graph.ScalarF32(-3))), y, graph.Mul(y, y))
		loss := graph.Add(graph.ReduceMean(graph.ReduceMax(y, []int64{1}, false), nil, false), graph.ReduceSum(y, nil, false))
		gr, err := graph.Gradients(loss, p1, q1, p2, x)
		if err != nil {
			t.Fatal(err)
		}
		if s := gr[3].Shape(); s[0] != batch {
			t.Fatalf("dx shape %v", s)
		}
		for i, name := range []string{"dw1", "db1", "dw2", "dx"} {
			g.SetOutput(name, gr[i])
		}
		return runGraph(t, g, map[string]*graph.Tensor{"x": xv})
	}
	dyn, static := grads(-1), grads(3)
	for name, want := range static {
		closeF(t, name, dyn[name].F, want.F, 1e-6)
	}
}

// TestMatMulDTypes checks MatMul and Gemm on every dtype against float64
// products of the same small integers.
func TestMatMulDTypes(t *testing.T) {
	av := []float64{1, 2, 3, 4, 5, 6}                         // 2x3
	bv := []float64{1, 0, 2, 1, 3, 1}                         // 3x2
	cv := []float64{1, 2}                                     // broadcast row
	want := []float64{14, 5, 32, 11}                          // A·B
	wantG := []float64{2*14 + 1, 2*5 + 2, 2*32 + 1, 2*11 + 2} // 2·A·B + C
	for _, dt := range []graph.DType{graph.Float32, graph.Float64, graph.Float16, graph.Int32, graph.Int64, graph.Uint32, graph.Uint64} {
		a, b, c := fromF64(dt, []int{2, 3}, av), fromF64(dt, []int{3, 2}, bv), fromF64(dt, []int{2}, cv)
		at := fromF64(dt, []int{3, 2}, []float64{1, 4, 2, 5, 3, 6})
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.MatMul(n[0], n[1]), graph.Gemm(n[0], n[1], n[2], 2, 1, false, false),
				graph.Gemm(n[3], n[1], nil, 1, 1, true, false)}
		}, a, b, c, at)
		for i, o := range out {
			if o.DType != dt {
				t.Fatalf("%s: output %d is %s", dt, i, o.DType)
			}
		}
		near(t, dt.String()+" MatMul", out[0], want, 1e-6)
		near(t, dt.String()+" Gemm", out[1], wantG, 1e-6)
		near(t, dt.String()+" Gemm transA", out[2], want, 1e-6)
	}
	// Batched float64 with a broadcast B.
	a := fromF64(graph.Float64, []int{2, 2, 3}, append(append([]float64{}, av...), av...))
	b := fromF64(graph.Float64, []int{3, 2}, bv)
	o := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.MatMul(n[0], n[1])}
	}, a, b)[0]
	near(t, "batched float64", o, append(append([]float64{}, want...), want...), 0)
}

func TestMatMulInteger(t *testing.T) {
	a := graph.FromSlice([]int{2, 2}, []uint8{10, 20, 30, 40})
	b := graph.FromSlice([]int{2, 2}, []uint8{1, 2, 3, 4})
	za := graph.FromSlice([]int{}, []uint8{10})
	zb := graph.FromSlice([]int{2}, []uint8{1, 2})
	def := graph.MustLookup("", "MatMulInteger")
	out := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Apply1(def, nil, n[0], n[1], n[2], n[3]), graph.Apply1(def, nil, n[0], n[1])}
	}, a, b, za, zb)
	// ·(B - [1 2]) = [[0 10][20 30]]·[[0 0][2 2]]
	if got := graph.Data[int32](out[0]); len(got) != 4 || got[0] != 20 || got[1] != 20 || got[2] != 60 || got[3] != 60 {
		t.Errorf("MatMulInteger with zero points = %v", got)
	}
	if got := graph.Data[int32](out[1]); got[0] != 70 || got[3] != 220 {
		t.Errorf("MatMulInteger = %v", got)
	}
}

// TestSgemmBias checks the fused bias and ReLU against Sgemm followed by
// the two passes, on both kernels, across the blocking edges (k over one
// slab of 256, products split over threads by rows and by columns).
func TestSgemmBias(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	defer graph.SetThreads(graph.SetThreads(2))
	defer graph.SetAVX512GEMM(graph.SetAVX512GEMM(true))
	for _, avx := range []bool{true, false} {
		graph.SetAVX512GEMM(avx)
		for _, sh := range [][3]int{{3, 5, 2}, {17, 40, 300}, {300, 70, 33}, {40, 600, 64}, {5, 3, 0}} {
			m, n, k := sh[0], sh[1], sh[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, relu := range []bool{false, true} {
						for _, withBias := range []bool{false, true} {
							lda, ldb := k, n
							if ta {
								lda = m
							}
							if tb {
								ldb = k
							}
							a := graphtest.Rand(r, -1, 1, m*k).F
							b := graphtest.Rand(r, -1, 1, k*n).F
							var bias []float32
							if withBias {
								bias = graphtest.Rand(r, -1, 1, n).F
								bias[0] = nanF // NaN through the bias and the clamp
							}
							got := graphtest.Rand(r, -1, 1, m*n).F
							got[0] = nanF // never read
							graph.SgemmBias(ta, tb, m, n, k, 1.5, a, lda, b, ldb, bias, relu, got, n)
							want := make([]float32, m*n)
							for i := range m {
								if bias != nil {
									copy(want[i*n:], bias)
								}
							}
							beta := float32(0)
							if bias != nil {
								beta = 1
							}
							graph.Sgemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, beta, want, n)
							for i, v := range want {
								if relu && v < 0 {
									want[i] = 0
								}
							}
							for i := range want {
								gv, wv := got[i], want[i]
								if math.IsNaN(float64(wv)) != math.IsNaN(float64(gv)) || math.Abs(float64(gv-wv)) > 1e-4*(1+math.Abs(float64(wv))) {
									t.Fatalf("avx=%v %dx%dx%d ta=%v tb=%v relu=%v bias=%v: [%d] = %v, want %v", avx, m, n, k, ta, tb, relu, withBias, i, gv, wv)
								}
							}
						}
					}
				}
			}
		}
	}
}
