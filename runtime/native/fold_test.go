package native_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// runBoth runs g fused and unfused and returns both results and the op
// types the fused plan ran.
func runBoth(t *testing.T, g *graph.Graph, feed map[string]*graph.Tensor) (fused, plain map[string]*graph.Tensor, ops []string) {
	t.Helper()
	ps, err := native.New(g, native.Options{NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := native.New(g, native.Options{Profile: true})
	if err != nil {
		t.Fatal(err)
	}
	if plain, err = ps.Run(feed); err != nil {
		t.Fatal(err)
	}
	if fused, err = fs.Run(feed); err != nil {
		t.Fatal(err)
	}
	for _, p := range fs.Profile() {
		ops = append(ops, p.Op)
	}
	slices.Sort(ops)
	return fused, plain, ops
}

// close reports the first element where a and b differ by more than
// float32 rounding of a sum of k products of unit-scale values.
func closeTo(t *testing.T, name string, got, want *graph.Tensor, k int) {
	t.Helper()
	if got == nil || !slices.Equal(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, want %v", name, got, want.Shape)
	}
	tol := 4e-7 * float64(k)
	for i, w := range want.F {
		if d := math.Abs(float64(got.F[i] - w)); d > tol*(1+math.Abs(float64(w))) {
			t.Fatalf("%s[%d] = %v, unfused %v", name, i, got.F[i], w)
		}
	}
}

func embedIDs(r *rand.Rand, n, cols, hi int) *graph.Tensor {
	ids := graph.NewTensor(graph.Int64, []int{n, cols})
	for i := range ids.I {
		ids.I[i] = int64(r.IntN(hi))
	}
	return ids
}

// Embeddings feeding a dense layer fold into table sums, in the forms
// exporters write them: ids plus per-column offsets or plain ids, Reshape
// or Flatten, Gemm (bias row, scalar bias, transposed weights, alpha and
// beta) or MatMul, with or without the Relu.
func TestFoldEmbedding(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	g := graph.New("fold")
	const cols, d, v = 6, 4, 40
	ids := g.Input("ids", graph.Int64, -1, cols)
	table := g.Initializer("table", randF32(r, v, d))
	off := g.Initializer("off", graph.I64([]int{cols}, []int64{0, 5, 10, 15, 20, -40}))
	rows := graph.Gather(table, graph.Add(ids, off), 0)
	flat := graph.Reshape(rows, g.Initializer("shape", graph.I64([]int{2}, []int64{-1, cols * d})))
	wT := randF32(r, cols*d, 150)
	g.SetOutput("a", graph.Relu(graph.Gemm(flat, g.Param("w", wT), g.Initializer("b", randF32(r, 150)), 1, 1, false, false)))
	rows2 := graph.Gather(g.Initializer("table2", randF32(r, v, d)), ids, 0)
	g.SetOutput("b", graph.MatMul(graph.Flatten(rows2, 1), g.Initializer("w2", randF32(r, cols*d, 20))))
	rows3 := graph.Gather(g.Initializer("table3", randF32(r, v, d)), ids, 0)
	flat3 := graph.Reshape(rows3, g.Initializer("shape3", graph.I64([]int{2}, []int64{0, -1})))
	g.SetOutput("c", graph.Gemm(flat3, g.Initializer("w3", randF32(r, 33, cols*d)), g.Initializer("b3", graph.F32([]int{1}, []float32{0.25})), 0.5, 2, false, true))

	feed := map[string]*graph.Tensor{"ids": embedIDs(r, 300, cols, 5)}
	feed["ids"].I[7] = -3 // negative indices count from the table's end
	before := native.FoldRuns()
	got, want, ops := runBoth(t, g, feed)
	if n := native.FoldRuns() - before; n != 3 {
		t.Errorf("%d folded runs, want 3", n)
	}
	for _, name := range []string{"a", "b", "c"} {
		closeTo(t, name, got[name], want[name], cols*d)
	}
	for _, op := range []string{"Add+Gather+Reshape+Gemm+Relu", "Gather+Flatten+MatMul", "Gather+Reshape+Gemm"} {
		if !slices.Contains(ops, op) {
			t.Errorf("fused plan ran %v, want %s among them", ops, op)
		}
	}

	// A user's outputs do not depend on the batch it is scored in.
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 5, 299} {
		one := graph.NewTensor(graph.Int64, []int{1, cols})
		copy(one.I, feed["ids"].I[n*cols:(n+1)*cols])
		res, err := s.Run(map[string]*graph.Tensor{"ids": one})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a", "b", "c"} {
			w := got[name]
			h := w.Shape[1]
			if !slices.Equal(res[name].F, w.F[n*h:(n+1)*h]) {
				t.Errorf("%s: user %d alone differs from the batch", name, n)
			}
		}
	}

	// Trainable weights changed in place between runs (as a trainer does)
	// are folded again.
	for i := range wT.F {
		wT.F[i] = -wT.F[i]
	}
	again, err := s.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	_, want2, _ := runBoth(t, g, feed)
	closeTo(t, "a after the weights changed", again["a"], want2["a"], cols*d)

	// An index out of range fails as the unfused Gather does.
	feed["ids"].I[11] = v
	for _, opts := range []native.Options{{}, {NoFusion: true}} {
		s, err := native.New(g, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Run(feed); err == nil || !strings.Contains(err.Error(), "Gather") {
			t.Errorf("NoFusion %v: an index out of range gave %v", opts.NoFusion, err)
		}
	}
}

// What the fold does not cover runs the kernels as they are: a table fed
// at run time is not folded; one-wide embeddings, a per-row bias and
// tables past the size bound take the chain's slow path, bit for bit the
// unfused result.
func TestFoldDeclines(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	g := graph.New("nofold")
	ids := g.Input("ids", graph.Int64, -1, 3)
	fed := g.Input("table", graph.Float32, 10, 4)
	g.SetOutput("a", graph.MatMul(graph.Flatten(graph.Gather(fed, ids, 0), 1), g.Initializer("w", randF32(r, 12, 5))))
	narrow := graph.Gather(g.Initializer("t1", randF32(r, 10, 1)), ids, 0)
	g.SetOutput("b", graph.MatMul(graph.Flatten(narrow, 1), g.Initializer("w1", randF32(r, 3, 5))))
	wide := graph.Gather(g.Initializer("t2", randF32(r, 10, 4)), ids, 0)
	g.SetOutput("c", graph.Gemm(graph.Flatten(wide, 1), g.Initializer("w2", randF32(r, 12, 5)), g.Initializer("b2", randF32(r, 4, 5)), 1, 1, false, false))
	// tables past the size bound: 3 columns x 50,000 rows x 64 floats
	big := graph.Gather(g.Initializer("t3", randF32(r, 50000, 2)), ids, 0)
	g.SetOutput("d", graph.MatMul(graph.Flatten(big, 1), g.Initializer("w3", randF32(r, 6, 64))))
	feed := map[string]*graph.Tensor{"ids": embedIDs(r, 4, 3, 10), "table": randF32(r, 10, 4)}
	before := native.FoldRuns()
	got, want, ops := runBoth(t, g, feed)
	if n := native.FoldRuns() - before; n != 0 {
		t.Errorf("%d folded runs, want 0", n)
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		if !slices.Equal(got[name].F, want[name].F) {
			t.Errorf("%s: fused and unfused differ", name)
		}
	}
	if !slices.Contains(ops, "Gather") || !slices.Contains(ops, "Flatten") {
		t.Errorf("the fed table's lookup was fused: %v", ops)
	}
}

// Only the table rows a run meets are folded, once: with each column's ids
// in its own block of the table, about one column's worth of the C·V rows.
func TestFoldOnlyRowsMet(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	g := graph.New("fold-rows")
	const cols, d, v = 6, 4, 60
	ids := g.Input("ids", graph.Int64, -1, cols)
	off := g.Initializer("off", graph.I64([]int{cols}, []int64{0, 10, 20, 30, 40, 50}))
	rows := graph.Gather(g.Initializer("table", randF32(r, v, d)), graph.Add(ids, off), 0)
	flat := graph.Reshape(rows, g.Initializer("shape", graph.I64([]int{2}, []int64{-1, cols * d})))
	g.SetOutput("y", graph.Relu(graph.Gemm(flat, g.Initializer("w", randF32(r, cols*d, 32)), g.Initializer("b", randF32(r, 32)), 1, 1, false, false)))
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for round, users := range []int{50, 50, 400} {
		feed := map[string]*graph.Tensor{"ids": embedIDs(r, users, cols, 10)}
		met := map[[2]int64]bool{}
		for i, id := range feed["ids"].I {
			met[[2]int64{int64(i % cols), id}] = true
		}
		before, runs := native.FoldedRows(), native.FoldRuns()
		if _, err := s.Run(feed); err != nil {
			t.Fatal(err)
		}
		if native.FoldRuns() == runs {
			t.Fatal("the run did not fold")
		}
		n := native.FoldedRows() - before
		if round == 0 && n != int64(len(met)) {
			t.Errorf("first run folded %d rows, met %d (of %d)", n, len(met), cols*v)
		}
		if n > int64(cols*10) {
			t.Errorf("round %d folded %d rows; at most %d are ever met", round, n, cols*10)
		}
	}
}

// FuzzFoldEmbedding builds small embedding-then-dense graphs from the
// fuzzer's bytes (every form the fold matches, shapes and attributes
// included, indices in and out of range, NaN values) and requires the
// fused plan to fail where the unfused one does and to agree with it
// within float rounding otherwise.
func FuzzFoldEmbedding(f *testing.F) {
	f.Add([]byte{3, 2, 2, 4, 5, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{7, 5, 3, 17, 9, 1, 1, 1, 2, 1, 200, 3, 250, 7, 1, 0, 9})
	f.Add([]byte{1, 0, 0, 0, 0, 2, 0, 2, 3, 2, 255, 255, 255})
	f.Fuzz(func(t *testing.T, in []byte) {
		next := func(n int) int { // a value in [0, n) from the next byte
			if len(in) == 0 {
				return 0
			}
			b := int(in[0])
			in = in[1:]
			return b % n
		}
		V, D, C, H, N := 1+next(12), 1+next(5), 1+next(4), 1+next(40), next(20)
		shaper, lin, trans, bform, extra := next(3), next(2), next(2), next(4), next(4)
		alpha := []float32{1, 0.5, -2, 0}[next(4)]
		beta := []float32{1, 0.5, 0}[next(3)]
		desc := fmt.Sprintf("V=%d D=%d C=%d H=%d N=%d shaper=%d lin=%d trans=%d bias=%d extra=%d alpha=%v beta=%v", V, D, C, H, N, shaper, lin, trans, bform, extra, alpha, beta)
		val := func() float32 {
			if next(37) == 0 {
				return float32(math.NaN())
			}
			return float32(next(256)-128) / 16
		}
		tensor := func(shape ...int) *graph.Tensor {
			x := graph.NewTensor(graph.Float32, shape)
			for i := range x.F {
				x.F[i] = val()
			}
			return x
		}
		g := graph.New("fuzzfold")
		ids := g.Input("ids", graph.Int64, -1, C)
		idx := ids
		switch extra % 3 {
		case 1:
			off := graph.NewTensor(graph.Int64, []int{C})
			for i := range off.I {
				off.I[i] = int64(next(2*V+1) - V)
			}
			idx = graph.Add(ids, g.Initializer("off", off))
		case 2:
			idx = graph.Add(ids, g.Initializer("one", graph.ScalarI64(int64(next(3)-1))))
		}
		rows := graph.Gather(g.Initializer("table", tensor(V, D)), idx, 0)
		var flat *graph.Node
		switch shaper {
		case 0:
			flat = graph.Reshape(rows, g.Initializer("shape", graph.I64([]int{2}, []int64{-1, int64(C * D)})))
		case 1:
			flat = graph.Reshape(rows, g.Initializer("shape", graph.I64([]int{2}, []int64{0, -1})))
		default:
			flat = graph.Flatten(rows, 1)
		}
		var y *graph.Node
		if lin == 0 {
			w := tensor(C*D, H)
			if trans == 1 {
				w = tensor(H, C*D)
			}
			var bias *graph.Node
			switch bform {
			case 1:
				bias = g.Initializer("b", tensor(H))
			case 2:
				bias = g.Initializer("b", tensor(1, H))
			case 3:
				bias = g.Initializer("b", tensor(1))
			}
			y = graph.Gemm(flat, g.Initializer("w", w), bias, alpha, beta, false, trans == 1)
		} else {
			y = graph.MatMul(flat, g.Initializer("w", tensor(C*D, H)))
		}
		if extra >= 2 {
			y = graph.Relu(y)
		}
		g.SetOutput("y", y)
		feed := graph.NewTensor(graph.Int64, []int{N, C})
		for i := range feed.I {
			feed.I[i] = int64(next(2*V+3) - V - 1) // some out of range
		}
		run := func(opts native.Options) (*graph.Tensor, error) {
			s, err := native.New(g, opts)
			if err != nil {
				return nil, err
			}
			res, err := s.Run(map[string]*graph.Tensor{"ids": feed})
			if err != nil {
				return nil, err
			}
			return res["y"], nil
		}
		want, werr := run(native.Options{NoFusion: true})
		got, gerr := run(native.Options{})
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: unfused error %v, fused error %v", desc, werr, gerr)
		}
		if werr != nil {
			return
		}
		if !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("%s: shape %v, unfused %v", desc, got.Shape, want.Shape)
		}
		// |E| and |W| are at most 8, so each product is at most 64.
		tol := 1e-5 * (1 + float64(C*D)*64*math.Abs(float64(alpha)) + 8*math.Abs(float64(beta)))
		for i, w := range want.F {
			x := got.F[i]
			if w != w || x != x {
				if (w != w) != (x != x) {
					t.Fatalf("%s: y[%d] = %v, unfused %v (ids %v)", desc, i, x, w, feed.I)
				}
				continue
			}
			if math.Abs(float64(x-w)) > tol {
				t.Fatalf("%s: y[%d] = %v, unfused %v", desc, i, x, w)
			}
		}
	})
}
