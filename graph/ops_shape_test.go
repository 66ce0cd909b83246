package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

// ---------- helpers shared by the shape and index op tests ----------

type nodeList = []*graph.Node

func tensF(shape []int, v ...float32) *graph.Tensor { return graph.F32(shape, v) }
func tensI(shape []int, v ...int64) *graph.Tensor   { return graph.I64(shape, v) }
func tensB(shape []int, v ...bool) *graph.Tensor    { return graph.Bools(shape, v) }
func dims(d ...int) []int                           { return append([]int{}, d...) }

// iotaF is 0, 1, ..., n-1 as float32 of the given shape.
func iotaF(shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape)
	for i := range t.F {
		t.F[i] = float32(i)
	}
	return t
}

func iotaI(shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Int64, shape)
	for i := range t.I {
		t.I[i] = int64(i)
	}
	return t
}

// sameTensor reports whether got equals want exactly: dtype, shape and values.
func sameTensor(got, want *graph.Tensor) bool {
	if got == nil || got.DType != want.DType || !graph.SameShape(got.Shape, want.Shape) || got.Len() != want.Len() {
		return false
	}
	for i := 0; i < want.Len(); i++ {
		if got.Float(i) != want.Float(i) {
			return false
		}
	}
	return true
}

func expectTensor(t *testing.T, what string, got, want *graph.Tensor) {
	t.Helper()
	if !sameTensor(got, want) {
		t.Errorf("%s: got %v (shape %v), want %v (shape %v)", what, got, tensorShape(got), want, want.Shape)
	}
}

func tensorShape(t *graph.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}

func expectInferred(t *testing.T, what string, n *graph.Node, want ...int) {
	t.Helper()
	if !graph.SameShape(n.Shape(), want) {
		t.Errorf("%s: inferred shape %v, want %v", what, n.Shape(), want)
	}
}

// expectBuildError builds f on inputs of xs's shapes and wants an error
// containing every fragment.
func expectBuildError(t *testing.T, what string, f func(g *graph.Graph, x nodeList) nodeList, xs []*graph.Tensor, frags ...string) {
	t.Helper()
	_, err := graphtest.Build(f, xs...)
	checkError(t, what, err, frags...)
}

// expectRunError wants f to build but fail when run (not panic).
func expectRunError(t *testing.T, what string, f func(g *graph.Graph, x nodeList) nodeList, xs []*graph.Tensor, frags ...string) {
	t.Helper()
	if _, err := graphtest.Build(f, xs...); err != nil {
		t.Errorf("%s: build failed: %v", what, err)
		return
	}
	_, err := graphtest.Eval(f, xs...)
	checkError(t, what, err, frags...)
}

func checkError(t *testing.T, what string, err error, frags ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, frags)
		return
	}
	for _, f := range frags {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %q does not mention %q", what, err, f)
		}
	}
}

// dynInput is a declared graph input (dims may be -1) and the tensor fed to it.
type dynInput struct {
	dt    graph.DType
	shape []int
	feed  *graph.Tensor
}

// runDynamic builds f on declared inputs, runs it on the native runtime
// with their feeds, and returns the outputs and the output nodes.
func runDynamic(t *testing.T, ins []dynInput, f func(g *graph.Graph, x nodeList) nodeList) ([]*graph.Tensor, nodeList) {
	t.Helper()
	g := graph.New("dyn")
	var outs nodeList
	err := graph.Catch(func() {
		xs := make(nodeList, len(ins))
		for i, in := range ins {
			xs[i] = g.Input(fmt.Sprintf("x%d", i), in.dt, in.shape...)
		}
		outs = f(g, xs)
		for i, o := range outs {
			g.SetOutput(fmt.Sprintf("y%d", i), o)
		}
	})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	feed := map[string]*graph.Tensor{}
	for i, in := range ins {
		feed[fmt.Sprintf("x%d", i)] = in.feed
	}
	res, err := s.Run(feed)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	got := make([]*graph.Tensor, len(outs))
	for i := range got {
		got[i] = res[fmt.Sprintf("y%d", i)]
	}
	return got, outs
}

func lookupDef(t *testing.T, typ string) *graph.OpDef {
	t.Helper()
	d, ok := graph.Lookup("", typ)
	if !ok {
		t.Fatalf("op %s not registered", typ)
	}
	return d
}

func constI(g *graph.Graph, shape []int, v ...int64) *graph.Node { return g.Const(graph.I64(shape, v)) }

// ---------- Reshape ----------

func TestReshapeForward(t *testing.T) {
	x := iotaF(2, 3, 4)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.ReshapeTo(x[0], 4, 6),
			graph.ReshapeTo(x[0], 0, -1),      // 0 copies dimension 0
			graph.ReshapeTo(x[0], -1),         // flat
			graph.ReshapeTo(x[0], 2, 0, 2, 2), // copies 3
			graph.ReshapeTo(x[0], -1, 4),
		}
	}, x)
	want := [][]int{{4, 6}, {2, 12}, {24}, {2, 3, 2, 2}, {6, 4}}
	for i, w := range want {
		expectTensor(t, fmt.Sprintf("reshape %d", i), out[i], tensF(w, x.F...))
	}

	// Scalars in and out, int64 and bool data.
	out = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ReshapeTo(x[0]), graph.ReshapeTo(x[1], 3, 1), graph.ReshapeTo(x[2], 1, 1, 2)}
	}, tensF(dims(1, 1), 7), tensI(dims(3), 1, 2, 3), tensB(dims(2), true, false))
	expectTensor(t, "to scalar", out[0], tensF(dims(), 7))
	expectTensor(t, "int64", out[1], tensI(dims(3, 1), 1, 2, 3))
	expectTensor(t, "bool", out[2], tensB(dims(1, 1, 2), true, false))
}

func TestReshapeAllowZero(t *testing.T) {
	empty := graph.NewTensor(graph.Float32, dims(0, 3))
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.ReshapeAllowZero(x[0], constI(g, dims(2), 3, 0)), // 0 is a real 0
			graph.ReshapeTo(x[0], 0, 3),                            // 0 copies the 0
			graph.ReshapeAllowZero(x[1], constI(g, dims(2), 3, 2)), // no zeros: plain reshape
		}
	}, empty, iotaF(2, 3))
	expectTensor(t, "allowzero [3 0]", out[0], graph.NewTensor(graph.Float32, dims(3, 0)))
	expectTensor(t, "copy 0", out[1], graph.NewTensor(graph.Float32, dims(0, 3)))
	expectTensor(t, "allowzero no zeros", out[2], tensF(dims(3, 2), 0, 1, 2, 3, 4, 5))

	// Without allowzero a 0 copies the input dimension: [2 3] -> [0 3] is [2 3].
	out = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ReshapeTo(x[0], 0, 3)}
	}, iotaF(2, 3))
	expectTensor(t, "0 copies", out[0], iotaF(2, 3))
}

func TestReshapeErrors(t *testing.T) {
	x := []*graph.Tensor{iotaF(2, 3)}
	expectBuildError(t, "size", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ReshapeTo(x[0], 4, -1)} }, x,
		"Reshape", "cannot reshape 6 elements to [4 -1]")
	expectBuildError(t, "size no -1", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ReshapeTo(x[0], 5)} }, x,
		"cannot reshape 6 elements to [5]")
	expectBuildError(t, "two -1", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ReshapeTo(x[0], -1, -1)} }, x,
		"more than one -1")
	expectBuildError(t, "bad dim", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ReshapeTo(x[0], -2, -3)} }, x,
		"invalid dimension -2")
	expectBuildError(t, "copy beyond rank", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ReshapeTo(x[0], 6, 1, 0)} }, x,
		"rank 2")
	expectBuildError(t, "allowzero with -1", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ReshapeAllowZero(x[0], constI(g, dims(2), 0, -1))}
	}, x, "both 0 and -1")
	expectBuildError(t, "float shape", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Reshape(x[0], x[0])} }, x,
		"shape must be int64")
	expectBuildError(t, "2-D shape", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Reshape(x[0], constI(g, dims(1, 2), 3, 2))}
	}, x,
		"1-D")
}

func TestReshapeInference(t *testing.T) {
	g := graph.New("infer")
	x := g.Input("x", graph.Float32, -1, 3, 4)
	expectInferred(t, "[0 -1]", graph.ReshapeTo(x, 0, -1), -1, 12)
	expectInferred(t, "[-1 12]", graph.ReshapeTo(x, -1, 12), -1, 12)
	expectInferred(t, "[0 3 2 2]", graph.ReshapeTo(x, 0, 3, 2, 2), -1, 3, 2, 2)
	expectInferred(t, "[0 0 -1]", graph.ReshapeTo(x, 0, 0, -1), -1, 3, 4)
	if err := graph.Catch(func() { graph.ReshapeTo(x, 0, 5, -1) }); err == nil {
		t.Error("[0 5 -1] of [-1 3 4]: no error (12 is not a multiple of 5)")
	}

	// A shape folded from static pieces of the input's shape gives an
	// exact static shape even though x's batch is unknown.
	s := graph.Concat(0, constI(g, dims(1), -1), graph.ShapeOfRange(x, 1, 3))
	if s.Value() == nil || !sameTensor(s.Value(), tensI(dims(3), -1, 3, 4)) {
		t.Fatalf("shape not folded: %v", s.Value())
	}
	expectInferred(t, "folded", graph.Reshape(x, s), -1, 3, 4)

	// Folded through Shape -> Gather -> Concat of a static tensor.
	y := g.Input("y", graph.Float32, 6, 2)
	s2 := graph.Concat(0, graph.Gather(graph.ShapeOf(y), constI(g, dims(1), 1), 0), constI(g, dims(1), -1))
	if s2.Value() == nil {
		t.Fatal("Shape -> Gather -> Concat did not fold")
	}
	expectInferred(t, "gather-folded", graph.Reshape(y, s2), 2, 6)

	// An unknown shape value of static length still gives the rank.
	z := g.Input("z", graph.Float32, -1, 5)
	sz := graph.ShapeOf(z)
	if sz.Value() != nil {
		t.Fatalf("ShapeOf [-1 5] folded to %v", sz.Value())
	}
	expectInferred(t, "ShapeOf [-1 5]", sz, 2)
	expectInferred(t, "unknown values", graph.Reshape(x, sz), -1, -1)

	// Unknown length: the rank cannot be known.
	unk := g.Input("s", graph.Int64, -1)
	if err := graph.Catch(func() { graph.Reshape(x, unk) }); err == nil || !strings.Contains(err.Error(), "rank") {
		t.Errorf("shape of unknown length: err %v, want one about the rank", err)
	}
}

func TestReshapeDynamicRun(t *testing.T) {
	x := iotaF(2, 3, 4)
	got, outs := runDynamic(t, []dynInput{{graph.Float32, dims(-1, 3, 4), x}}, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ReshapeTo(x[0], 0, -1), graph.Reshape(x[0], graph.Concat(0, graph.ShapeOfRange(x[0], 0, 1), constI(g, dims(2), 2, 6)))}
	})
	expectInferred(t, "dyn out 0", outs[0], -1, 12)
	expectInferred(t, "dyn out 1", outs[1], -1, -1, -1)
	expectTensor(t, "dyn reshape", got[0], tensF(dims(2, 12), x.F...))
	expectTensor(t, "dyn reshape 2", got[1], tensF(dims(2, 2, 6), x.F...))
}

func TestReshapeGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Mul(graph.ReshapeTo(x[0], 3, -1), graph.ReshapeTo(x[1], 1, 4))
	}, graphtest.Rand(r, -1, 1, 2, 6), graphtest.Rand(r, -1, 1, 2, 2))
}

// The gradient of shape-only ops must take the run-time shape when x has
// dynamic dimensions (and keep 0-sized dimensions).
func TestShapeOnlyGradDynamic(t *testing.T) {
	x := iotaF(2, 3, 4)
	seed := graphtest.Rand(rand.New(rand.NewPCG(1, 1)), -1, 1, 2, 12)
	got, _ := runDynamic(t, []dynInput{{graph.Float32, dims(-1, 3, 4), x}, {graph.Float32, dims(-1, 12), seed}}, func(g *graph.Graph, x nodeList) nodeList {
		y := graph.Flatten(x[0], 1)
		gr, err := graph.VJP(nodeList{y}, nodeList{x[1]}, nodeList{x[0]})
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return gr
	})
	expectTensor(t, "Flatten grad", got[0], tensF(dims(2, 3, 4), seed.F...))

	empty := graph.NewTensor(graph.Float32, dims(0, 3))
	got, _ = runDynamic(t, []dynInput{{graph.Float32, dims(-1, 3), empty}, {graph.Float32, dims(3, -1), graph.NewTensor(graph.Float32, dims(3, 0))}}, func(g *graph.Graph, x nodeList) nodeList {
		y := graph.ReshapeAllowZero(x[0], constI(g, dims(2), 3, 0))
		gr, err := graph.VJP(nodeList{y}, nodeList{x[1]}, nodeList{x[0]})
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return gr
	})
	expectTensor(t, "zero-size grad", got[0], empty)
}

// ---------- Flatten ----------

func TestFlatten(t *testing.T) {
	x := iotaF(2, 3, 4)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Flatten(x[0], 1), graph.Flatten(x[0], 0), graph.Flatten(x[0], -1), graph.Flatten(x[0], 3), graph.Flatten(x[0], -3), graph.Flatten(x[1], 0)}
	}, x, tensF(dims(), 5))
	for i, w := range [][]int{{2, 12}, {1, 24}, {6, 4}, {24, 1}, {1, 24}} {
		expectTensor(t, fmt.Sprintf("flatten %d", i), out[i], tensF(w, x.F...))
	}
	expectTensor(t, "flatten scalar", out[5], tensF(dims(1, 1), 5))

	// Default axis 1 through the raw op, and bool data.
	out = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Apply1(lookupDef(t, "Flatten"), nil, x[0])}
	}, tensB(dims(2, 1, 2), true, false, false, true))
	expectTensor(t, "default axis", out[0], tensB(dims(2, 2), true, false, false, true))

	expectBuildError(t, "axis 4", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Flatten(x[0], 4)} }, []*graph.Tensor{x}, "axis 4 out of range for rank 3")
	expectBuildError(t, "axis -4", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Flatten(x[0], -4)} }, []*graph.Tensor{x}, "out of range")

	g := graph.New("f")
	d := g.Input("d", graph.Float32, -1, 3, 4)
	expectInferred(t, "dyn axis 1", graph.Flatten(d, 1), -1, 12)
	expectInferred(t, "dyn axis 2", graph.Flatten(d, 2), -1, 4)
	expectInferred(t, "dyn axis 0", graph.Flatten(d, 0), 1, -1)

	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Flatten(x[0], -1)
	}, graphtest.Rand(rand.New(rand.NewPCG(5, 6)), -1, 1, 2, 3, 2))
}

// ---------- Unsqueeze / Squeeze ----------

func TestUnsqueeze(t *testing.T) {
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.Unsqueeze(x[0], 0),
			graph.Unsqueeze(x[0], 0, -1),
			graph.Unsqueeze(x[1], 1),
			graph.Unsqueeze(x[1], -1, 0), // order does not matter
			graph.Unsqueeze(x[2], 0),
			graph.UnsqueezeAxes(x[3], g.Const(graph.ScalarI64(1))), // scalar axes accepted
		}
	}, tensF(dims(3), 1, 2, 3), iotaI(2, 3), tensF(dims(), 4), tensB(dims(2), true, false))
	expectTensor(t, "[3] axis 0", out[0], tensF(dims(1, 3), 1, 2, 3))
	expectTensor(t, "[3] axes 0,-1", out[1], tensF(dims(1, 3, 1), 1, 2, 3))
	expectTensor(t, "[2 3] axis 1", out[2], tensI(dims(2, 1, 3), 0, 1, 2, 3, 4, 5))
	expectTensor(t, "[2 3] axes -1,0", out[3], tensI(dims(1, 2, 3, 1), 0, 1, 2, 3, 4, 5))
	expectTensor(t, "scalar", out[4], tensF(dims(1), 4))
	expectTensor(t, "bool", out[5], tensB(dims(2, 1), true, false))

	x := []*graph.Tensor{tensF(dims(3), 1, 2, 3)}
	expectBuildError(t, "dup", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Unsqueeze(x[0], 0, 0)} }, x, "twice")
	expectBuildError(t, "dup negative", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Unsqueeze(x[0], 2, -1)} }, x, "twice")
	expectBuildError(t, "range", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Unsqueeze(x[0], 2)} }, x, "axis 2 out of range for rank 2")

	g := graph.New("u")
	d := g.Input("d", graph.Float32, -1, 3)
	expectInferred(t, "dyn", graph.Unsqueeze(d, 1), -1, 1, 3)
	axes := g.Input("axes", graph.Int64, 2)
	expectInferred(t, "unknown axes", graph.UnsqueezeAxes(d, axes), -1, -1, -1, -1)

	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Unsqueeze(x[0], 1, 3)
	}, graphtest.Rand(rand.New(rand.NewPCG(5, 7)), -1, 1, 2, 3))
}

func TestSqueeze(t *testing.T) {
	x := tensF(dims(1, 3, 1), 1, 2, 3)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.Squeeze(x[0]),
			graph.Squeeze(x[0], -1),
			graph.Squeeze(x[0], 0, 2),
			graph.SqueezeAxes(x[0], constI(g, dims(0))), // empty axes: like none (ONNX Runtime)
			graph.Squeeze(x[1]),
			graph.Squeeze(x[2], 1),
		}
	}, x, tensI(dims(1, 1), 9), tensB(dims(2, 1), true, false))
	expectTensor(t, "all", out[0], tensF(dims(3), 1, 2, 3))
	expectTensor(t, "-1", out[1], tensF(dims(1, 3), 1, 2, 3))
	expectTensor(t, "0,2", out[2], tensF(dims(3), 1, 2, 3))
	expectTensor(t, "empty axes", out[3], tensF(dims(3), 1, 2, 3))
	expectTensor(t, "to scalar", out[4], tensI(dims(), 9))
	expectTensor(t, "bool", out[5], tensB(dims(2), true, false))

	xs := []*graph.Tensor{x}
	expectBuildError(t, "not 1", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Squeeze(x[0], 1)} }, xs, "cannot squeeze axis 1 of size 3")
	expectBuildError(t, "range", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Squeeze(x[0], 3)} }, xs, "axis 3 out of range for rank 3")
	expectBuildError(t, "dup", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Squeeze(x[0], 0, -3)} }, xs, "twice")
	expectBuildError(t, "size 0", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Squeeze(x[0], 0)} },
		[]*graph.Tensor{graph.NewTensor(graph.Float32, dims(0, 1))}, "cannot squeeze axis 0 of size 0")

	g := graph.New("s")
	d := g.Input("d", graph.Float32, -1, 1, 3)
	expectInferred(t, "dyn axis 1", graph.Squeeze(d, 1), -1, 3)
	expectInferred(t, "dyn axis 0 (checked at run time)", graph.Squeeze(d, 0), 1, 3)
	if err := graph.Catch(func() { graph.Squeeze(d) }); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("Squeeze of [-1 1 3] without axes: err %v, want one about the unknown rank", err)
	}

	// A dynamic dim named in axes must be 1 at run time.
	_, err := graphtest.Eval(func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Squeeze(x[0], 1)} }, tensF(dims(1, 2), 1, 2))
	checkError(t, "static not-1", err, "cannot squeeze")
	gd := graph.New("sd")
	in := gd.Input("x", graph.Float32, -1, 2)
	gd.SetOutput("y", graph.Squeeze(in, 0))
	s, err := native.New(gd, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(map[string]*graph.Tensor{"x": tensF(dims(2, 2), 1, 2, 3, 4)}); err == nil || !strings.Contains(err.Error(), "cannot squeeze axis 0 of size 2") {
		t.Errorf("run-time squeeze of size 2: err %v", err)
	}

	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Squeeze(x[0])
	}, graphtest.Rand(rand.New(rand.NewPCG(5, 8)), -1, 1, 1, 3, 1, 2))
}

// ---------- Transpose ----------

func TestTranspose(t *testing.T) {
	x := iotaF(2, 3, 4)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Transpose(x[0]), graph.Transpose(x[0], 1, 0, 2), graph.Transpose(x[1]), graph.Transpose(x[2], 1, 0), graph.Transpose(x[3])}
	}, x, iotaI(2, 3), tensB(dims(1, 2), true, false), tensF(dims(), 3))
	// reversed: y[k][j][i] = x[i][j][k] = 12i + 4j + k
	want := make([]float32, 24)
	for k := 0; k < 4; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 2; i++ {
				want[k*6+j*2+i] = float32(12*i + 4*j + k)
			}
		}
	}
	expectTensor(t, "reversed", out[0], tensF(dims(4, 3, 2), want...))
	// perm (1 0 2): y[j][i][k] = x[i][j][k]
	want = want[:0]
	for j := 0; j < 3; j++ {
		for i := 0; i < 2; i++ {
			for k := 0; k < 4; k++ {
				want = append(want, float32(12*i+4*j+k))
			}
		}
	}
	expectTensor(t, "perm 1 0 2", out[1], tensF(dims(3, 2, 4), want...))
	expectTensor(t, "int64 2-D", out[2], tensI(dims(3, 2), 0, 3, 1, 4, 2, 5))
	expectTensor(t, "bool", out[3], tensB(dims(2, 1), true, false))
	expectTensor(t, "scalar", out[4], tensF(dims(), 3))

	xs := []*graph.Tensor{x}
	expectBuildError(t, "short perm", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Transpose(x[0], 1, 0)} }, xs, "2 entries", "rank 3")
	expectBuildError(t, "not a perm", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Transpose(x[0], 0, 0, 1)} }, xs, "not a permutation")

	g := graph.New("t")
	d := g.Input("d", graph.Float32, -1, 3)
	expectInferred(t, "dyn", graph.Transpose(d), 3, -1)

	r := rand.New(rand.NewPCG(9, 9))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Transpose(x[0], 2, 0, 1)
	}, graphtest.Rand(r, -1, 1, 2, 3, 4))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Transpose(x[0])
	}, graphtest.Rand(r, -1, 1, 2, 3, 4))
}

// ---------- Shape ----------

func TestShapeOp(t *testing.T) {
	g := graph.New("shape")
	x := g.Input("x", graph.Float32, 2, 3, 4)
	cases := []struct {
		n    *graph.Node
		want []int64
	}{
		{graph.ShapeOf(x), []int64{2, 3, 4}},
		{graph.ShapeOfRange(x, -1, math.MaxInt64), []int64{4}},
		{graph.ShapeOfRange(x, 0, -1), []int64{2, 3}},
		{graph.ShapeOfRange(x, 1, 2), []int64{3}},
		{graph.ShapeOfRange(x, 2, 1), []int64{}},
		{graph.ShapeOfRange(x, -10, 10), []int64{2, 3, 4}},
		{graph.Apply1(lookupDef(t, "Shape"), graph.Attrs{"start": int64(1)}, x), []int64{3, 4}},
	}
	for i, c := range cases {
		if c.n.Value() == nil || !sameTensor(c.n.Value(), tensI(dims(len(c.want)), c.want...)) {
			t.Errorf("case %d: folded value %v, want %v", i, c.n.Value(), c.want)
		}
	}

	// Dynamic: not folded, evaluated at run time.
	got, outs := runDynamic(t, []dynInput{{graph.Float32, dims(-1, 3), iotaF(5, 3)}, {graph.Bool, dims(), tensB(dims(), true)}}, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ShapeOf(x[0]), graph.ShapeOfRange(x[0], 1, 2), graph.ShapeOf(x[1]), graph.ShapeOfRange(x[0], 0, 1)}
	})
	if outs[0].Value() != nil {
		t.Errorf("ShapeOf [-1 3] folded to %v", outs[0].Value())
	}
	expectInferred(t, "ShapeOf [-1 3]", outs[0], 2)
	if v := outs[1].Value(); v == nil || v.I[0] != 3 {
		t.Errorf("ShapeOfRange [-1 3] 1:2 = %v, want folded [3]", v)
	}
	if outs[3].Value() != nil {
		t.Errorf("ShapeOfRange [-1 3] 0:1 folded")
	}
	expectTensor(t, "run [5 3]", got[0], tensI(dims(2), 5, 3))
	expectTensor(t, "run 1:2", got[1], tensI(dims(1), 3))
	expectTensor(t, "scalar shape", got[2], tensI(dims(0)))
	expectTensor(t, "run 0:1", got[3], tensI(dims(1), 5))
}

// ---------- ConstantOfShape ----------

func TestConstantOfShape(t *testing.T) {
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.ConstantOfShape(constI(g, dims(2), 2, 3), nil),
			graph.ConstantOfShape(constI(g, dims(1), 3), graph.I64(dims(1), []int64{7})),
			graph.ConstantOfShape(constI(g, dims(2), 1, 2), graph.Bools(dims(1), []bool{true})),
			graph.ConstantOfShape(constI(g, dims(0)), graph.F32(dims(1), []float32{2.5})),
			graph.ConstantOfShape(constI(g, dims(2), 2, 0), nil),
			graph.ConstantOfShape(x[0], graph.F32(dims(), []float32{-1})),
		}
	}, tensI(dims(2), 1, 2))
	expectTensor(t, "default", out[0], graph.NewTensor(graph.Float32, dims(2, 3)))
	expectTensor(t, "int64", out[1], tensI(dims(3), 7, 7, 7))
	expectTensor(t, "bool", out[2], tensB(dims(1, 2), true, true))
	expectTensor(t, "scalar", out[3], tensF(dims(), 2.5))
	expectTensor(t, "empty", out[4], graph.NewTensor(graph.Float32, dims(2, 0)))
	expectTensor(t, "from input", out[5], tensF(dims(1, 2), -1, -1))

	got, outs := runDynamic(t, []dynInput{{graph.Float32, dims(-1, 3), iotaF(2, 3)}}, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ConstantOfShape(graph.ShapeOf(x[0]), graph.I64(dims(1), []int64{1}))}
	})
	expectInferred(t, "dyn", outs[0], -1, -1)
	expectTensor(t, "dyn run", got[0], tensI(dims(2, 3), 1, 1, 1, 1, 1, 1))

	none := []*graph.Tensor{}
	expectBuildError(t, "negative", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ConstantOfShape(constI(g, dims(2), 2, -1), nil)}
	}, none, "negative dimension -1")
	expectBuildError(t, "two values", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ConstantOfShape(constI(g, dims(1), 2), graph.F32(dims(2), []float32{1, 2}))}
	}, none, "one element")
}

// ---------- Expand ----------

func TestExpand(t *testing.T) {
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.ExpandTo(x[0], 2, 1, 4),
			graph.ExpandTo(x[1], 2, 1),
			graph.ExpandTo(x[1], 1), // smaller shape: x's shape wins
			graph.ExpandTo(x[2], 3),
			graph.ExpandTo(x[3], 2, 2),
		}
	}, tensF(dims(3, 1), 1, 2, 3), tensI(dims(3), 4, 5, 6), tensB(dims(), true), tensF(dims(1, 2), 7, 8))
	want := []float32{}
	for i := 0; i < 2; i++ {
		for j := 1; j <= 3; j++ {
			for k := 0; k < 4; k++ {
				want = append(want, float32(j))
			}
		}
	}
	expectTensor(t, "[3 1] to [2 1 4]", out[0], tensF(dims(2, 3, 4), want...))
	expectTensor(t, "[3] to [2 1]", out[1], tensI(dims(2, 3), 4, 5, 6, 4, 5, 6))
	expectTensor(t, "[3] to [1]", out[2], tensI(dims(3), 4, 5, 6))
	expectTensor(t, "bool scalar", out[3], tensB(dims(3), true, true, true))
	expectTensor(t, "[1 2] to [2 2]", out[4], tensF(dims(2, 2), 7, 8, 7, 8))

	xs := []*graph.Tensor{tensF(dims(3), 1, 2, 3)}
	expectBuildError(t, "incompatible", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ExpandTo(x[0], 2)} }, xs, "cannot expand shape [3] to [2]")
	expectBuildError(t, "negative", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ExpandTo(x[0], -1, 3)} }, xs, "negative")

	g := graph.New("e")
	x := g.Input("x", graph.Float32, 3, 1)
	z := g.Input("z", graph.Float32, -1, 1, 4)
	expectInferred(t, "unknown shape values", graph.Expand(x, graph.ShapeOf(z)), -1, 3, -1)
	d := g.Input("d", graph.Float32, -1, 1)
	expectInferred(t, "dynamic x", graph.ExpandTo(d, 1, 5), -1, 5)

	r := rand.New(rand.NewPCG(2, 9))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.ExpandTo(x[0], 2, 3, 4)
	}, graphtest.Rand(r, -1, 1, 3, 1))
}

// ---------- Range ----------

func TestRange(t *testing.T) {
	s := func(v int64) *graph.Tensor { return graph.ScalarI64(v) }
	fs := func(v float32) *graph.Tensor { return graph.ScalarF32(v) }
	rng := func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Range(x[0], x[1], x[2])} }
	cases := []struct {
		in   [3]*graph.Tensor
		want *graph.Tensor
	}{
		{[3]*graph.Tensor{s(3), s(9), s(3)}, tensI(dims(2), 3, 6)},
		{[3]*graph.Tensor{s(10), s(4), s(-2)}, tensI(dims(3), 10, 8, 6)},
		{[3]*graph.Tensor{s(0), s(5), s(1)}, tensI(dims(5), 0, 1, 2, 3, 4)},
		{[3]*graph.Tensor{s(0), s(7), s(3)}, tensI(dims(3), 0, 3, 6)},
		{[3]*graph.Tensor{s(5), s(1), s(1)}, tensI(dims(0))},
		{[3]*graph.Tensor{s(-3), s(-10), s(-4)}, tensI(dims(2), -3, -7)},
		{[3]*graph.Tensor{fs(0), fs(1), fs(0.25)}, tensF(dims(4), 0, 0.25, 0.5, 0.75)},
		{[3]*graph.Tensor{fs(1), fs(0), fs(-0.5)}, tensF(dims(2), 1, 0.5)},
		{[3]*graph.Tensor{fs(0), fs(1.1), fs(0.5)}, tensF(dims(3), 0, 0.5, 1)},
		{[3]*graph.Tensor{fs(2), fs(2), fs(1)}, tensF(dims(0))},
	}
	for i, c := range cases {
		out := graphtest.MustEval(t, rng, c.in[:]...)
		expectTensor(t, fmt.Sprintf("range %d", i), out[0], c.want)
		// The same with constants folds at build time.
		g := graph.New("r")
		n := graph.Range(g.Const(c.in[0]), g.Const(c.in[1]), g.Const(c.in[2]))
		if !sameTensor(n.Value(), c.want) {
			t.Errorf("range %d folded: %v, want %v", i, n.Value(), c.want)
		}
	}
	g := graph.New("r")
	st := g.Input("s", graph.Int64)
	expectInferred(t, "dynamic", graph.Range(st, g.Const(s(3)), g.Const(s(1))), -1)

	_, err := graphtest.Eval(rng, s(0), s(3), s(0))
	checkError(t, "delta 0", err, "delta is 0")
	_, err = graphtest.Eval(rng, s(0), fs(3), s(1))
	checkError(t, "mixed types", err, "limit is float32")
	_, err = graphtest.Eval(rng, tensI(dims(2), 0, 1), s(3), s(1))
	checkError(t, "not scalar", err, "scalar")
	_, err = graphtest.Eval(rng, tensB(dims(), true), tensB(dims(), true), tensB(dims(), true))
	checkError(t, "bool", err, "not supported")
}
