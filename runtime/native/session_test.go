package native_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

func mlp(t *testing.T) *graph.Graph {
	t.Helper()
	g := graph.New("mlp")
	err := graph.Catch(func() {
		x := g.Input("x", graph.Float32, -1, 3)
		w := g.Param("w", graph.F32([]int{3, 2}, []float32{1, 0, 0, 1, 1, 1}))
		b := g.Initializer("b", graph.F32([]int{2}, []float32{0.5, -0.5}))
		y := graph.Relu(graph.Add(graph.MatMul(x, w), b))
		g.SetOutput("y", y)
		g.SetOutput("k", graph.ArgMax(y, 1, false, false))
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRunConcurrentAndReuse(t *testing.T) {
	s, err := native.New(mlp(t), native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				n := 1 + (w+i)%5 // batch sizes change between runs
				x := graph.NewTensor(graph.Float32, []int{n, 3})
				for j := range x.F {
					x.F[j] = float32(w)
				}
				res, err := s.Run(map[string]*graph.Tensor{"x": x})
				if err != nil {
					errs <- err
					return
				}
				// y = relu([w+w, w+w] + [.5, -.5]) ... row: [2w+.5, 2w-.5]
				y := res["y"]
				if y.Shape[0] != n || y.F[0] != float32(2*w)+0.5 || y.F[1] != max(float32(2*w)-0.5, 0) {
					errs <- &mismatch{got: y.String()}
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

type mismatch struct{ got string }

func (m *mismatch) Error() string { return "wrong result " + m.got }

func TestRunSubsetAndErrors(t *testing.T) {
	s, err := native.New(mlp(t), native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := graph.F32([]int{1, 3}, []float32{1, 3, 0})
	res, err := s.Run(map[string]*graph.Tensor{"x": x}, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res["k"].I[0] != 1 {
		t.Fatalf("subset run: %v", res)
	}
	cases := []struct {
		feed map[string]*graph.Tensor
		out  []string
		want string
	}{
		{map[string]*graph.Tensor{}, nil, `missing input "x"`},
		{map[string]*graph.Tensor{"x": graph.F32([]int{1, 4}, make([]float32, 4))}, nil, "dimension 1"},
		{map[string]*graph.Tensor{"x": graph.I64([]int{1, 3}, make([]int64, 3))}, nil, "is int64, want float32"},
		{map[string]*graph.Tensor{"x": graph.F32([]int{3}, make([]float32, 3))}, nil, "want rank 2"},
		{map[string]*graph.Tensor{"x": x, "z": x}, nil, `unknown input "z"`},
		{map[string]*graph.Tensor{"x": x}, []string{"nope"}, `no output named "nope"`},
	}
	for _, c := range cases {
		_, err := s.Run(c.feed, c.out...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got error %v, want one containing %q", err, c.want)
		}
	}
}

func TestParamUpdatesAreSeen(t *testing.T) {
	g := mlp(t)
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := graph.F32([]int{1, 3}, []float32{1, 1, 1})
	r1, _ := s.Run(map[string]*graph.Tensor{"x": x}, "y")
	g.Params()[0].Tensor().F[0] = 10 // training updates parameters in place
	r2, _ := s.Run(map[string]*graph.Tensor{"x": x}, "y")
	if r1["y"].F[0] == r2["y"].F[0] {
		t.Fatal("a parameter update was not seen by the next run (was it folded?)")
	}
}

func TestSplitRowsMatchesWholeRun(t *testing.T) {
	g := mlp(t)
	whole, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer graph.SetThreads(0)
	n := 1000
	x := graph.NewTensor(graph.Float32, []int{n, 3})
	for i := range x.F {
		x.F[i] = float32(i%17) - 8
	}
	a, err := whole.Run(map[string]*graph.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	// the default chunks, many small ones (the last shorter) and three
	for _, rows := range []int{0, 7, 300} {
		split, err := native.New(g, native.Options{SplitRows: true, Threads: 3, ChunkRows: rows})
		if err != nil {
			t.Fatal(err)
		}
		b, err := split.Run(map[string]*graph.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		for name, ta := range a {
			tb := b[name]
			if !graph.SameShape(ta.Shape, tb.Shape) || ta.String() != tb.String() || len(ta.F) != len(tb.F) || len(ta.I) != len(tb.I) {
				t.Fatalf("chunks of %d rows: %s: split %v, whole %v", rows, name, tb, ta)
			}
			for i := range ta.F {
				if ta.F[i] != tb.F[i] {
					t.Fatalf("chunks of %d rows: %s[%d]: split %v, whole %v", rows, name, i, tb.F[i], ta.F[i])
				}
			}
			for i := range ta.I {
				if ta.I[i] != tb.I[i] {
					t.Fatalf("chunks of %d rows: %s[%d]: split %v, whole %v", rows, name, i, tb.I[i], ta.I[i])
				}
			}
		}
	}
}

// In steady state a run allocates nothing (RunWith, same shapes). gonum's
// GEMM (-tags noopenblas) allocates inside itself, so there only the

func TestRunWithAllocationFree(t *testing.T) {
	if graph.SgemmImpl == "gonum" {
		t.Skip("gonum's Sgemm allocates in each call; the OpenBLAS build checks this")
	}
	if raceEnabled {
		t.Skip("the race detector drops pooled buffers at random; the plain build checks this")
	}
	s, err := native.New(mlp(t), native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := graph.NewTensor(graph.Float32, []int{512, 3})
	feed := map[string]*graph.Tensor{"x": x}
	noop := func([]*graph.Tensor) error { return nil }
	if err := s.RunWith(feed, nil, noop); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { _ = s.RunWith(feed, nil, noop) }); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

// Every element type goes in and comes out unchanged, also when SplitRows
// cuts the batch into parts and joins them again.
func TestEveryDTypeInOut(t *testing.T) {
	for _, dt := range append(append([]graph.DType{}, graph.AllTypes...), graph.String) {
		g := graph.New("io")
		x := g.Input("x", dt, -1, 2)
		g.SetOutput("y", graph.Identity(x))
		in := graph.NewTensor(graph.Int64, []int{600, 2})
		for i := range in.I {
			in.I[i] = int64(i % 120)
		}
		want := in
		if dt != graph.Int64 {
			c := graph.New("c")
			ci := c.Input("i", graph.Int64, 600, 2)
			c.SetOutput("o", graph.Cast(ci, dt))
			cs, err := native.New(c, native.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := cs.Run(map[string]*graph.Tensor{"i": in})
			if err != nil {
				t.Fatal(err)
			}
			want = res["o"]
		}
		for _, opts := range []native.Options{{}, {SplitRows: true, Threads: 2}} {
			s, err := native.New(g, opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(map[string]*graph.Tensor{"x": want})
			if err != nil {
				t.Fatalf("%s %+v: %v", dt, opts, err)
			}
			y := res["y"]
			if y.DType != dt || !graph.SameShape(y.Shape, want.Shape) || y.Len() != want.Len() {
				t.Fatalf("%s %+v: got %v", dt, opts, y)
			}
			for i := 0; i < y.Len(); i++ {
				if dt == graph.String && y.S[i] != want.S[i] || dt != graph.String && (y.Float(i) != want.Float(i) || y.Int(i) != want.Int(i)) {
					t.Fatalf("%s %+v: element %d: %v vs %v", dt, opts, i, y, want)
				}
			}
		}
	}
}

// An op marked ShapeFromValues (Range with float bounds) is re-inferred
// when its input values change, with no special case by op name.
func TestShapeFromValuesReinfers(t *testing.T) {
	g := graph.New("r")
	lo := g.Input("lo", graph.Float32)
	hi := g.Input("hi", graph.Float32)
	d := g.Const(graph.ScalarF32(0.5))
	out, err := g.Apply(graph.MustLookup("", "Range"), nil, lo, hi, d)
	if err != nil {
		t.Fatal(err)
	}
	if !graph.MustLookup("", "Range").ShapeFromValues {
		t.Fatal("Range is not marked ShapeFromValues")
	}
	g.SetOutput("y", out[0])
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lo, hi float32 }{{0, 2}, {0, 3}, {1, 1.2}, {0, 2}} {
		res, err := s.Run(map[string]*graph.Tensor{"lo": graph.ScalarF32(c.lo), "hi": graph.ScalarF32(c.hi)})
		if err != nil {
			t.Fatal(err)
		}
		want := int((c.hi - c.lo + 0.5 - 1e-6) / 0.5)
		if y := res["y"]; len(y.F) != want || y.F[0] != c.lo {
			t.Errorf("Range(%v, %v, 0.5) = %v, want %d values", c.lo, c.hi, y, want)
		}
	}
}

// A multi-output op whose inputs are all constants is computed while
// building (LayerNormalization's three outputs here); the session binds
// every folded output, asked for or not.
func TestFoldedMultiOutputOp(t *testing.T) {
	g := graph.New("m")
	x := g.Const(graph.F32([]int{2, 2, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 9}))
	s := g.Const(graph.F32([]int{1}, []float32{0.5}))
	d, _ := graph.Lookup("", "LayerNormalization")
	o := graph.MustApply(d, graph.Attrs{"epsilon": float32(0.8)}, x, s)
	for i := range o {
		if o[i].Value() == nil {
			t.Fatalf("output %d was not folded: the test no longer covers folding", i)
		}
	}
	g.SetOutput("y0", o[0])
	g.SetOutput("y2", o[2])
	ns, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ns.Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]*graph.Tensor{"y0": o[0].Value(), "y2": o[2].Value()} {
		if !graph.SameShape(got[name].Shape, want.Shape) || got[name].F[0] != want.F[0] {
			t.Errorf("%s: %v, want %v", name, got[name], want)
		}
	}
}
