package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

func TestPadModes(t *testing.T) {
	x := tensF(dims(3, 2), 1, 2, 3, 4, 5, 6) // rows [1 2] [3 4] [5 6]
	cases := []struct {
		mode string
		pads []int64
		want *graph.Tensor
	}{
		{"constant", []int64{1, 0, 0, 1}, tensF(dims(4, 3), 9, 9, 9, 1, 2, 9, 3, 4, 9, 5, 6, 9)},
		{"edge", []int64{0, 2, 0, 0}, tensF(dims(3, 4), 1, 1, 1, 2, 3, 3, 3, 4, 5, 5, 5, 6)},
		{"reflect", []int64{2, 0, 0, 0}, tensF(dims(5, 2), 5, 6, 3, 4, 1, 2, 3, 4, 5, 6)},
		{"wrap", []int64{0, 1, 0, 2}, tensF(dims(3, 5), 2, 1, 2, 1, 2, 4, 3, 4, 3, 4, 6, 5, 6, 5, 6)},
		// Negative pads crop first; the mode then reads the cropped range.
		{"edge", []int64{-1, 0, 1, 0}, tensF(dims(3, 2), 3, 4, 5, 6, 5, 6)},
		{"constant", []int64{0, -1, 0, 0}, tensF(dims(3, 1), 2, 4, 6)},
	}
	for _, c := range cases {
		got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.Pad(in[0], in[1], g.Const(graph.ScalarF32(9)), nil, c.mode)}
		}, x, tensI(dims(4), c.pads...))[0]
		expectTensor(t, fmt.Sprintf("Pad %s %v", c.mode, c.pads), got, c.want)
	}
	// The axes input (opset 18): pad axis -1 only.
	got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Pad(in[0], i64Const(g, 1, 0), nil, i64Const(g, -1), "constant")}
	}, x)[0]
	expectTensor(t, "Pad axes", got, tensF(dims(3, 3), 0, 1, 2, 0, 3, 4, 0, 5, 6))
	expectRunError(t, "Pad edge on an empty axis", func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Pad(in[0], in[1], nil, nil, "edge")}
	}, []*graph.Tensor{graph.NewTensor(graph.Float32, dims(0, 2)), tensI(dims(4), 1, 0, 0, 0)}, "Pad", "empty dimension")
	expectRunError(t, "Pad huge", func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Pad(in[0], in[1], nil, nil, "constant")}
	}, []*graph.Tensor{x, tensI(dims(4), 1<<40, 0, 0, 1<<40)}, "Pad", "too many elements")
}

func i64Const(g *graph.Graph, v ...int64) *graph.Node { return g.Const(graph.I64(dims(len(v)), v)) }

func TestTileSplitTrilu(t *testing.T) {
	x := tensF(dims(2, 2), 1, 2, 3, 4)
	got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Tile(in[0], in[1])}
	}, x, tensI(dims(2), 2, 3))[0]
	expectTensor(t, "Tile", got, tensF(dims(4, 6),
		1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4))
	expectRunError(t, "Tile overflow", func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Tile(in[0], in[1])}
	}, []*graph.Tensor{x, tensI(dims(2), 1<<40, 1<<40)}, "Tile", "too many elements")

	parts := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return graph.Split(in[0], 1, 1, 0, 2)
	}, iotaF(2, 3))
	expectTensor(t, "Split 0", parts[0], tensF(dims(2, 1), 0, 3))
	expectTensor(t, "Split 1", parts[1], graph.NewTensor(graph.Float32, dims(2, 0)))
	expectTensor(t, "Split 2", parts[2], tensF(dims(2, 2), 1, 2, 4, 5))

	for _, c := range []struct {
		upper bool
		k     int64
		want  []float32
	}{
		{true, 0, []float32{0, 1, 2, 0, 4, 5, 0, 0, 8}},
		{false, -1, []float32{0, 0, 0, 3, 0, 0, 6, 7, 0}},
		{true, 5, []float32{0, 0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.Trilu(in[0], g.Const(graph.ScalarI64(c.k)), c.upper)}
		}, iotaF(3, 3))[0]
		expectTensor(t, fmt.Sprintf("Trilu upper=%v k=%d", c.upper, c.k), got, tensF(dims(3, 3), c.want...))
	}
}

func TestTopKTiesAndNaN(t *testing.T) {
	nan := float32(math.NaN())
	x := tensF(dims(1, 6), 3, 1, 3, nan, 1, 2)
	o := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		v, i := graph.TopK(in[0], g.Const(graph.I64(dims(1), []int64{4})), -1, true)
		return nodeList{v, i}
	}, x)
	vals, idx := o[0], o[1]
	if !graph.SameShape(idx.Shape, dims(1, 4)) || fmt.Sprint(idx.I) != "[3 0 2 5]" || !math.IsNaN(float64(vals.F[0])) {
		t.Errorf("TopK largest: values %v indices %v, want NaN first then 3 (index 0), 3 (2), 2", vals, idx.I)
	}
	_, idx = func() (*graph.Tensor, *graph.Tensor) {
		o := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
			v, i := graph.TopK(in[0], g.Const(graph.I64(dims(1), []int64{3})), 1, false)
			return nodeList{v, i}
		}, x)
		return o[0], o[1]
	}()
	if fmt.Sprint(idx.I) != "[1 4 5]" {
		t.Errorf("TopK smallest: indices %v, want [1 4 5] (ties by lower index)", idx.I)
	}
	expectBuildError(t, "TopK K too large", func(g *graph.Graph, in nodeList) nodeList {
		v, _ := graph.TopK(in[0], g.Const(graph.I64(dims(1), []int64{7})), -1, true)
		return nodeList{v}
	}, []*graph.Tensor{x}, "TopK", "out of range")
}

func TestScatterGatherND(t *testing.T) {
	data := tensF(dims(2, 3), 1, 2, 3, 4, 5, 6)
	idx := tensI(dims(2, 2), 0, -1, 1, 0) // row 0: cols 0, 2 (-1); row 1: cols 1, 0
	upd := tensF(dims(2, 2), 10, 20, 30, 40)
	for red, want := range map[string][]float32{
		"none": {10, 2, 20, 40, 30, 6},
		"add":  {11, 2, 23, 44, 35, 6},
		"mul":  {10, 2, 60, 160, 150, 6},
		"max":  {10, 2, 20, 40, 30, 6},
		"min":  {1, 2, 3, 4, 5, 6},
	} {
		got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.ScatterElements(in[0], in[1], in[2], 1, red)}
		}, data, idx, upd)[0]
		expectTensor(t, "ScatterElements "+red, got, tensF(dims(2, 3), want...))
	}
	// ScatterND with a duplicate index and add: both updates land.
	got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.ScatterND(in[0], in[1], in[2], "add")}
	}, data, tensI(dims(2, 1), 1, 1), tensF(dims(2, 3), 1, 1, 1, 2, 2, 2))[0]
	expectTensor(t, "ScatterND add", got, tensF(dims(2, 3), 1, 2, 3, 7, 8, 9))
	// GatherND with batch_dims 1: per batch, one index tuple.
	got = graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.GatherND(in[0], in[1], 1)}
	}, iotaF(2, 2, 2), tensI(dims(2, 1), 1, 0))[0]
	expectTensor(t, "GatherND batch_dims 1", got, tensF(dims(2, 2), 2, 3, 4, 5))
	expectRunError(t, "GatherND index out of range", func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.GatherND(in[0], in[1], 0)}
	}, []*graph.Tensor{iotaF(2, 2), tensI(dims(1, 2), 0, 2)}, "GatherND", "out of range")
	expectRunError(t, "ScatterElements index out of range", func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.ScatterElements(in[0], in[1], in[2], 0, "none")}
	}, []*graph.Tensor{data, tensI(dims(1, 1), 2), tensF(dims(1, 1), 0)}, "ScatterElements", "out of range")
	expectBuildError(t, "ScatterElements reduction on bool", func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.ScatterElements(in[0], in[1], in[2], 0, "add")}
	}, []*graph.Tensor{tensB(dims(2), true, false), tensI(dims(1), 0), tensB(dims(1), true)}, "reduction add on bool")
}

func TestOneHotEyeLikeNonZero(t *testing.T) {
	got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.OneHot(in[0], g.Const(graph.ScalarF32(3)), g.Const(graph.Strings(dims(2), []string{"off", "on"})), 0)}
	}, tensF(dims(2), 2.7, -1))[0] // 2.7 truncates to 2; -1 is depth-1
	if !graph.SameShape(got.Shape, dims(3, 2)) || fmt.Sprint(got.S) != "[off off off off on on]" {
		t.Errorf("OneHot: got %v %q", got.Shape, got.S)
	}
	got = graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.EyeLike(in[0], graph.Int32, 1)}
	}, graph.NewTensor(graph.Float32, dims(2, 3)))[0]
	if got.DType != graph.Int32 || fmt.Sprint(graph.Data[int32](got)) != "[0 1 0 0 0 1]" {
		t.Errorf("EyeLike k=1: got %v", got)
	}
	// NonZero's output size follows the values at run time.
	got = graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.NonZero(in[0])}
	}, tensF(dims(2, 2), 0, 1, float32(math.Copysign(0, -1)), 3))[0]
	expectTensor(t, "NonZero", got, tensI(dims(2, 2), 0, 1, 1, 1))
	got = graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.SizeOf(in[0])}
	}, iotaF(2, 5))[0]
	expectTensor(t, "Size", got, graph.ScalarI64(10))
}

// TestNewOpsAgreeWithORT runs random cases of the new ops through ONNX
// Runtime (from odmn's export) and the native runtime and wants the same
// outputs: ties, negative indices, crops and reductions included.
func TestNewOpsAgreeWithORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(7, 11))
	// Small integers as float32 make ties frequent.
	randF := func(shape ...int) *graph.Tensor {
		x := graph.NewTensor(graph.Float32, shape)
		for i := range x.F {
			x.F[i] = float32(r.IntN(5) - 2)
		}
		return x
	}
	randIdx := func(n, lo, hi int, shape ...int) *graph.Tensor {
		x := graph.NewTensor(graph.Int64, shape)
		for i := range x.I {
			x.I[i] = int64(lo + r.IntN(hi-lo))
		}
		_ = n
		return x
	}
	type tcase struct {
		name string
		f    func(g *graph.Graph, in nodeList) nodeList
		xs   []*graph.Tensor
	}
	var cases []tcase
	for _, mode := range []string{"constant", "reflect", "edge", "wrap"} {
		cases = append(cases, tcase{"Pad " + mode, func(g *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.Pad(in[0], in[1], g.Const(graph.ScalarF32(7)), nil, mode)}
		}, []*graph.Tensor{randF(3, 4, 5), tensI(dims(6), 1, -1, 2, 2, 0, -2)}})
	}
	for _, largest := range []bool{true, false} {
		for _, axis := range []int64{0, -1} {
			cases = append(cases, tcase{fmt.Sprintf("TopK largest=%v axis=%d", largest, axis), func(g *graph.Graph, in nodeList) nodeList {
				v, i := graph.TopK(in[0], g.Const(graph.I64(dims(1), []int64{3})), axis, largest)
				return nodeList{v, i}
			}, []*graph.Tensor{randF(6, 7)}})
		}
	}
	cases = append(cases,
		tcase{"Tile", func(g *graph.Graph, in nodeList) nodeList { return nodeList{graph.Tile(in[0], in[1])} },
			[]*graph.Tensor{randF(2, 3, 1), tensI(dims(3), 2, 1, 3)}},
		tcase{"Split", func(g *graph.Graph, in nodeList) nodeList { return graph.Split(in[0], -1, 2, 3, 0) },
			[]*graph.Tensor{randF(3, 5)}},
		tcase{"GatherND", func(g *graph.Graph, in nodeList) nodeList { return nodeList{graph.GatherND(in[0], in[1], 1)} },
			[]*graph.Tensor{randF(3, 4, 5), randIdx(0, -4, 4, 3, 2, 1)}},
		tcase{"Trilu", func(g *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.Trilu(in[0], g.Const(graph.ScalarI64(-1)), false), graph.Trilu(in[0], nil, true)}
		}, []*graph.Tensor{randF(2, 4, 3)}},
		tcase{"OneHot", func(g *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.OneHot(in[0], g.Const(graph.ScalarI64(4)), g.Const(tensF(dims(2), -1, 5)), 1)}
		}, []*graph.Tensor{randIdx(0, -5, 5, 3, 2)}},
		tcase{"NonZero", func(g *graph.Graph, in nodeList) nodeList { return nodeList{graph.NonZero(in[0])} },
			[]*graph.Tensor{randF(3, 4)}},
	)
	for _, red := range []string{"none", "add", "mul", "max", "min"} {
		cases = append(cases, tcase{"ScatterElements " + red, func(g *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.ScatterElements(in[0], in[1], in[2], 0, red)}
		}, []*graph.Tensor{randF(4, 3), randIdx(0, -4, 4, 5, 3), randF(5, 3)}})
		if red != "none" { // duplicate indices with none are unspecified
			cases = append(cases, tcase{"ScatterND " + red, func(g *graph.Graph, in nodeList) nodeList {
				return nodeList{graph.ScatterND(in[0], in[1], in[2], red)}
			}, []*graph.Tensor{randF(4, 3), randIdx(0, -4, 4, 3, 1), randF(3, 3)}})
		}
	}
	for _, c := range cases {
		g, err := graphtest.Build(c.f, c.xs...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := export.Marshal(g, export.Options{})
		if err != nil {
			t.Fatalf("%s: export: %v", c.name, err)
		}
		s, err := ort.OpenBytes(b, ort.Options{IntraOpThreads: 1})
		if err != nil {
			t.Fatalf("%s: ORT: %v", c.name, err)
		}
		feed := map[string]*graph.Tensor{}
		for i, x := range c.xs {
			feed[fmt.Sprintf("x%d", i)] = x
		}
		want, err := s.Run(feed)
		s.Close()
		if err != nil {
			t.Fatalf("%s: ORT run: %v", c.name, err)
		}
		got := graphtest.MustEval(t, c.f, c.xs...)
		for i, gt := range got {
			w := want[fmt.Sprintf("y%d", i)]
			if !sameTensor(gt, w) {
				t.Errorf("%s output %d: native %v, ORT %v", c.name, i, gt, w)
			}
		}
	}
}

// TestValueShapedRerun runs ops whose output shape follows input values
// twice in one native session, with equal shapes and different values:
// the second run must give the right answer, or (with a runtime that
// reuses the first run's shape inference) a clean error, never a stale
// shape.
func TestValueShapedRerun(t *testing.T) {
	cases := []struct {
		name  string
		f     func(g *graph.Graph, x nodeList) nodeList
		a, b  *graph.Tensor
		wantB *graph.Tensor
	}{
		{"NonZero", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.NonZero(x[0])} },
			tensF(dims(3), 1, 0, 2), tensF(dims(3), 1, 1, 1), tensI(dims(1, 3), 0, 1, 2)},
		{"Range int32", func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.Range(g.Const(graph.FromSlice([]int{}, []int32{0})), x[0], g.Const(graph.FromSlice([]int{}, []int32{1})))}
		}, graph.FromSlice([]int{}, []int32{2}), graph.FromSlice([]int{}, []int32{3}), graph.FromSlice([]int{3}, []int32{0, 1, 2})},
	}
	for _, c := range cases {
		g, err := graphtest.Build(c.f, c.a)
		if err != nil {
			t.Fatal(err)
		}
		s, err := native.New(g, native.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Run(map[string]*graph.Tensor{"x0": c.a}); err != nil {
			t.Fatalf("%s: first run: %v", c.name, err)
		}
		got, err := s.Run(map[string]*graph.Tensor{"x0": c.b})
		if err != nil {
			checkError(t, c.name+" second run", err, "stale shape inference")
			continue
		}
		if !sameElems(got["y0"], c.wantB) || got["y0"].DType != c.wantB.DType {
			t.Errorf("%s second run: got %v, want %v", c.name, got["y0"], c.wantB)
		}
	}
}
