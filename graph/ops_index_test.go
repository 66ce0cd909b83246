package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// ---------- Concat ----------

func TestConcat(t *testing.T) {
	a := tensF(dims(2, 2), 1, 2, 3, 4)
	b := tensF(dims(2, 1), 5, 6)
	c := tensF(dims(1, 2), 7, 8)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.Concat(1, x[0], x[1]),
			graph.Concat(-1, x[1], x[0], x[1]),
			graph.Concat(0, x[0], x[2]),
			graph.Concat(-2, x[2], x[0]),
			graph.Concat(0, x[0]),
			graph.Concat(0, x[3], x[4]),
			graph.Concat(1, x[5], x[5]),
		}
	}, a, b, c, tensI(dims(2), 1, 2), tensI(dims(1), 3), tensB(dims(1, 1), true))
	expectTensor(t, "axis 1", out[0], tensF(dims(2, 3), 1, 2, 5, 3, 4, 6))
	expectTensor(t, "axis -1, three", out[1], tensF(dims(2, 4), 5, 1, 2, 5, 6, 3, 4, 6))
	expectTensor(t, "axis 0", out[2], tensF(dims(3, 2), 1, 2, 3, 4, 7, 8))
	expectTensor(t, "axis -2", out[3], tensF(dims(3, 2), 7, 8, 1, 2, 3, 4))
	expectTensor(t, "single", out[4], a)
	expectTensor(t, "int64", out[5], tensI(dims(3), 1, 2, 3))
	expectTensor(t, "bool", out[6], tensB(dims(1, 2), true, true))

	// Empty inputs contribute nothing.
	out = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Concat(0, x[0], x[1])} },
		graph.NewTensor(graph.Float32, dims(0, 2)), a)
	expectTensor(t, "empty part", out[0], a)

	xs := []*graph.Tensor{a, b, c, tensI(dims(2, 1), 1, 2), tensF(dims(), 1)}
	expectBuildError(t, "dims", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Concat(0, x[0], x[1])} }, xs, "does not match")
	expectBuildError(t, "rank", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Concat(0, x[0], graph.ReshapeTo(x[2], -1))}
	}, xs, "input 1 has rank 1, input 0 has rank 2")
	expectBuildError(t, "dtype", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Concat(1, x[1], x[3])} }, xs, "input 1 is int64")
	expectBuildError(t, "axis", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Concat(2, x[0], x[1])} }, xs, "axis 2 out of range for rank 2")
	expectBuildError(t, "scalars", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Concat(0, x[4], x[4])} }, xs, "scalars")
	expectBuildError(t, "axis required", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Apply1(lookupDef(t, "Concat"), nil, x[0])}
	}, xs, "axis")

	g := graph.New("c")
	p := g.Input("p", graph.Float32, -1, 3)
	q := g.Input("q", graph.Float32, -1, 2)
	r := g.Input("r", graph.Float32, 2, -1)
	s := g.Input("s", graph.Float32, 3, 4)
	expectInferred(t, "dyn axis 1", graph.Concat(1, p, q), -1, 5)
	expectInferred(t, "dyn axis 0", graph.Concat(0, r, s), 5, 4)
	expectInferred(t, "dyn unknown sum", graph.Concat(0, p, p), -1, 3)
	k := graph.Concat(0, constI(g, dims(1), 1), constI(g, dims(2), 2, 3))
	if !sameTensor(k.Value(), tensI(dims(3), 1, 2, 3)) {
		t.Errorf("constant Concat not folded: %v", k.Value())
	}
}

func TestConcatGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	x := []*graph.Tensor{graphtest.Rand(r, -1, 1, 2, 3), graphtest.Rand(r, -1, 1, 2, 1), graphtest.Rand(r, -1, 1, 2, 2)}
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Concat(1, x[0], x[1], x[2])
	}, x...)
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		// the same input twice: its gradients add up
		return graph.Concat(0, x[0], graph.Transpose(x[1]), x[0])
	}, graphtest.Rand(r, -1, 1, 2, 3), graphtest.Rand(r, -1, 1, 3, 1))
}

// With dynamic dimensions the gradient's slice offsets come from the
// inputs' shapes at run time.
func TestConcatGradDynamic(t *testing.T) {
	seed := iotaF(2, 5)
	got, _ := runDynamic(t, []dynInput{
		{graph.Float32, dims(-1, 2), graph.NewTensor(graph.Float32, dims(2, 2))},
		{graph.Float32, dims(2, -1), graph.NewTensor(graph.Float32, dims(2, 3))},
		{graph.Float32, dims(-1, -1), seed},
	}, func(g *graph.Graph, x nodeList) nodeList {
		y := graph.Concat(1, x[0], x[1])
		gr, err := graph.VJP(nodeList{y}, nodeList{x[2]}, nodeList{x[0], x[1]})
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return gr
	})
	expectTensor(t, "grad 0", got[0], tensF(dims(2, 2), 0, 1, 5, 6))
	expectTensor(t, "grad 1", got[1], tensF(dims(2, 3), 2, 3, 4, 7, 8, 9))
}

// ---------- Slice ----------

func TestSlice(t *testing.T) {
	x := tensF(dims(2, 4), 1, 2, 3, 4, 5, 6, 7, 8)
	v := iotaF(6)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.Slice(x[0], []int64{1, 0}, []int64{2, 3}, []int64{0, 1}, []int64{1, 2}), // ONNX example 1
			graph.Slice(x[0], []int64{0, 1}, []int64{-1, 1000}, nil, nil),                 // ONNX example 2
			graph.Slice(x[1], []int64{-1}, []int64{math.MinInt64}, nil, []int64{-1}),      // reverse
			graph.Slice(x[1], []int64{4}, []int64{0}, nil, []int64{-2}),
			graph.Slice(x[1], []int64{3}, []int64{1}, nil, nil),        // empty
			graph.Slice(x[1], []int64{-1000}, []int64{1000}, nil, nil), // clamped: all
			graph.Slice(x[0], []int64{1}, []int64{math.MaxInt64}, []int64{-1}, nil),
			graph.Slice(x[1], []int64{20}, []int64{1000}, nil, []int64{-1}), // empty backwards
			graph.Slice(x[1], []int64{math.MaxInt64}, []int64{-3}, nil, []int64{-1}),
			graph.Slice(x[1], []int64{0}, []int64{6}, nil, []int64{100}), // huge step: one element
			graph.Slice(x[1], []int64{5}, []int64{-7}, nil, []int64{math.MinInt64}),
			graph.Slice(x[0], []int64{0, 3}, []int64{2, 0}, []int64{0, 1}, []int64{1, -1}),
		}
	}, x, v)
	expectTensor(t, "example 1", out[0], tensF(dims(1, 2), 5, 7))
	expectTensor(t, "example 2", out[1], tensF(dims(1, 3), 2, 3, 4))
	expectTensor(t, "reverse", out[2], tensF(dims(6), 5, 4, 3, 2, 1, 0))
	expectTensor(t, "step -2", out[3], tensF(dims(2), 4, 2))
	expectTensor(t, "empty", out[4], tensF(dims(0)))
	expectTensor(t, "clamped", out[5], v)
	expectTensor(t, "axis -1", out[6], tensF(dims(2, 3), 2, 3, 4, 6, 7, 8))
	expectTensor(t, "empty backwards", out[7], tensF(dims(0)))
	expectTensor(t, "from MaxInt64 backwards", out[8], tensF(dims(2), 5, 4))
	expectTensor(t, "huge step", out[9], tensF(dims(1), 0))
	expectTensor(t, "MinInt64 step", out[10], tensF(dims(1), 5))
	expectTensor(t, "mixed steps", out[11], tensF(dims(2, 3), 4, 3, 2, 8, 7, 6))

	// int64 and bool data, 3-D with a step on the middle axis, steps without axes.
	out = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.Slice(x[0], []int64{1}, []int64{3}, nil, nil),
			graph.Slice(x[1], []int64{1}, []int64{2}, []int64{0}, nil),
			graph.Slice(x[2], []int64{0}, []int64{3}, []int64{1}, []int64{2}),
			graph.SliceNodes(x[2], constI(g, dims(1), -1), constI(g, dims(1), 0), nil, constI(g, dims(1), -1)),
		}
	}, tensI(dims(4), 10, 11, 12, 13), tensB(dims(2, 1), true, false), iotaF(2, 3, 2))
	expectTensor(t, "int64", out[0], tensI(dims(2), 11, 12))
	expectTensor(t, "bool", out[1], tensB(dims(1, 1), false))
	expectTensor(t, "3-D middle step 2", out[2], tensF(dims(2, 2, 2), 0, 1, 4, 5, 6, 7, 10, 11))
	expectTensor(t, "steps without axes", out[3], tensF(dims(1, 3, 2), 6, 7, 8, 9, 10, 11))
}

func TestSliceErrors(t *testing.T) {
	xs := []*graph.Tensor{iotaF(2, 4)}
	expectBuildError(t, "step 0", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Slice(x[0], []int64{0}, []int64{1}, nil, []int64{0})}
	}, xs, "steps cannot be 0")
	expectBuildError(t, "lengths", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Slice(x[0], []int64{0, 0}, []int64{1}, nil, nil)}
	}, xs, "same length")
	expectBuildError(t, "repeated axis", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Slice(x[0], []int64{0, 0}, []int64{1, 1}, []int64{1, -1}, nil)}
	}, xs, "twice")
	expectBuildError(t, "axis range", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Slice(x[0], []int64{0}, []int64{1}, []int64{2}, nil)}
	}, xs, "axis 2 out of range for rank 2")
	expectBuildError(t, "too many", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Slice(x[0], []int64{0, 0, 0}, []int64{1, 1, 1}, nil, nil)}
	}, xs, "3 axes to slice for rank 2")
	expectBuildError(t, "float starts", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.SliceNodes(x[0], x[0], x[0], nil, nil)}
	}, xs, "starts must be int64")
}

func TestSliceInference(t *testing.T) {
	g := graph.New("s")
	x := g.Input("x", graph.Float32, -1, 4)
	expectInferred(t, "sliced known axis", graph.Slice(x, []int64{1}, []int64{3}, []int64{1}, nil), -1, 2)
	expectInferred(t, "sliced unknown axis", graph.Slice(x, []int64{0}, []int64{1}, []int64{0}, nil), -1, 4)
	st := g.Input("st", graph.Int64, 1)
	expectInferred(t, "unknown starts", graph.SliceNodes(x, st, constI(g, dims(1), 3), constI(g, dims(1), 1), nil), -1, -1)
	expectInferred(t, "unknown starts, axis 0", graph.SliceNodes(x, st, constI(g, dims(1), 3), constI(g, dims(1), 0), nil), -1, 4)
	expectInferred(t, "unknown axes", graph.SliceNodes(x, constI(g, dims(1), 0), constI(g, dims(1), 3), st, nil), -1, -1)

	// Run with a concrete batch.
	got, outs := runDynamic(t, []dynInput{{graph.Float32, dims(-1, 4), iotaF(3, 4)}}, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Slice(x[0], []int64{1, -1}, []int64{math.MaxInt64, 0}, []int64{0, 1}, []int64{1, -2})}
	})
	expectInferred(t, "dyn", outs[0], -1, 2)
	expectTensor(t, "dyn run", got[0], tensF(dims(2, 2), 7, 5, 11, 9))
}

func TestSliceGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Slice(x[0], []int64{-1, 1}, []int64{0, 4}, []int64{0, -1}, []int64{-1, 2})
	}, graphtest.Rand(r, -1, 1, 3, 5))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		// overlapping slices of one input add up
		return graph.Add(graph.Slice(x[0], []int64{0}, []int64{3}, []int64{1}, nil), graph.Slice(x[0], []int64{1}, []int64{4}, []int64{1}, nil))
	}, graphtest.Rand(r, -1, 1, 2, 4))

	// Second order: the gradient of SliceGrad is a slice again.
	got, _ := runDynamic(t, []dynInput{{graph.Float32, dims(4), iotaF(4)}, {graph.Float32, dims(2), tensF(dims(2), 10, 20)}, {graph.Float32, dims(4), tensF(dims(4), 1, 2, 3, 4)}}, func(g *graph.Graph, x nodeList) nodeList {
		y := graph.Slice(x[0], []int64{1}, []int64{3}, nil, nil)
		gx, err := graph.VJP(nodeList{y}, nodeList{x[1]}, nodeList{x[0]}) // SliceGrad(x1): [0 10 20 0]
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		gg, err := graph.VJP(gx, nodeList{x[2]}, nodeList{x[1]}) // its gradient wrt the seed: [2 3]
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return nodeList{gx[0], gg[0]}
	})
	expectTensor(t, "SliceGrad", got[0], tensF(dims(4), 0, 10, 20, 0))
	expectTensor(t, "SliceGrad grad", got[1], tensF(dims(2), 2, 3))
}

// ---------- Gather ----------

func TestGather(t *testing.T) {
	d1 := tensF(dims(3, 2), 1.0, 1.2, 2.3, 3.4, 4.5, 5.7)
	d2 := tensF(dims(3, 3), 1.0, 1.2, 1.9, 2.3, 3.4, 3.9, 4.5, 5.7, 5.9)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.Gather(x[0], constI(g, dims(2, 2), 0, 1, 1, 2), 0), // ONNX example axis 0
			graph.Gather(x[1], constI(g, dims(1, 2), 0, 2), 1),       // ONNX-13 example axis 1
			graph.Gather(x[0], constI(g, dims(1), -1), 0),            // negative index
			graph.Gather(x[1], constI(g, dims(), 1), -1),             // scalar index, negative axis
			graph.Gather(x[0], constI(g, dims(0)), 0),                // no indices
			graph.Gather(x[2], constI(g, dims(2), 2, 0), 0),          // int64 data
			graph.Gather(x[3], constI(g, dims(3), 1, 1, 0), 0),       // bool data
			graph.Gather(x[0], x[4], 1),                              // indices from an input
		}
	}, d1, d2, tensI(dims(3), 2, 3, 4), tensB(dims(2), true, false), tensI(dims(2), 1, -2))
	expectTensor(t, "axis 0", out[0], tensF(dims(2, 2, 2), 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7))
	expectTensor(t, "axis 1", out[1], tensF(dims(3, 1, 2), 1.0, 1.9, 2.3, 3.9, 4.5, 5.9))
	expectTensor(t, "negative index", out[2], tensF(dims(1, 2), 4.5, 5.7))
	expectTensor(t, "scalar index", out[3], tensF(dims(3), 1.2, 3.4, 5.7))
	expectTensor(t, "no indices", out[4], tensF(dims(0, 2)))
	expectTensor(t, "int64", out[5], tensI(dims(2), 4, 2))
	expectTensor(t, "bool", out[6], tensB(dims(3), false, false, true))
	expectTensor(t, "input indices", out[7], tensF(dims(3, 2), 1.2, 1.0, 3.4, 2.3, 5.7, 4.5))

	// Shape -> Gather folds at build time.
	g := graph.New("g")
	y := g.Input("y", graph.Float32, 2, 7, 4)
	k := graph.Gather(graph.ShapeOf(y), g.Const(graph.ScalarI64(1)), 0)
	if !sameTensor(k.Value(), tensI(dims(), 7)) {
		t.Errorf("Gather of a static shape: %v, want folded 7", k.Value())
	}
	dyn := g.Input("dyn", graph.Float32, -1, 4)
	expectInferred(t, "dyn", graph.Gather(dyn, constI(g, dims(2, 3), 0, 0, 0, 0, 0, 0), 1), -1, 2, 3)

	xs := []*graph.Tensor{d1, tensI(dims(1), 3), tensI(dims(2), 0, -4), tensF(dims(), 1)}
	expectRunError(t, "index 3", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Gather(x[0], x[1], 0)} }, xs,
		"index 3 out of range for axis 0 of size 3")
	expectRunError(t, "index -4", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Gather(x[0], x[2], 0)} }, xs,
		"index -4 out of range")
	expectRunError(t, "index 3 axis 1", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Gather(x[0], x[1], 1)} }, xs,
		"index 3 out of range for axis 1 of size 2")
	expectBuildError(t, "axis", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Gather(x[0], x[1], 2)} }, xs, "axis 2 out of range for rank 2")
	expectBuildError(t, "float indices", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Gather(x[0], x[0], 0)} }, xs, "indices must be int64")
	expectBuildError(t, "scalar data", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Gather(x[3], x[1], 0)} }, xs, "rank at least 1")
}

func TestGatherGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Gather(x[0], constI(g, dims(2, 2), 0, 2, 2, -3), 0) // repeated rows add up
	}, graphtest.Rand(r, -1, 1, 3, 2))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Gather(x[0], constI(g, dims(3), 1, 1, -1), -2)
	}, graphtest.Rand(r, -1, 1, 2, 3, 2))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.Gather(x[0], constI(g, dims(), 2), 1)
	}, graphtest.Rand(r, -1, 1, 2, 3))
}

// ---------- GatherElements ----------

func TestGatherElements(t *testing.T) {
	d2 := tensF(dims(2, 2), 1, 2, 3, 4)
	d3 := tensF(dims(3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)
	out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{
			graph.GatherElements(x[0], constI(g, dims(2, 2), 0, 0, 1, 0), 1),          // ONNX example 1
			graph.GatherElements(x[1], constI(g, dims(2, 3), 1, 2, 0, 2, 0, 0), 0),    // ONNX example 2
			graph.GatherElements(x[1], constI(g, dims(2, 3), -1, -2, 0, -2, 0, 0), 0), // negative indices
			graph.GatherElements(x[1], constI(g, dims(2, 1), 0, 2), -1),               // smaller indices, axis -1
			graph.GatherElements(x[2], constI(g, dims(1, 3), 1, 0, 1), 0),             // int64
			graph.GatherElements(x[3], constI(g, dims(2, 2), 1, 1, 0, 0), 1),          // bool
			graph.GatherElements(x[1], constI(g, dims(0, 3)), 0),                      // empty
		}
	}, d2, d3, tensI(dims(2, 3), 1, 2, 3, 4, 5, 6), tensB(dims(2, 2), true, false, false, true))
	expectTensor(t, "example 1", out[0], tensF(dims(2, 2), 1, 1, 4, 3))
	expectTensor(t, "example 2", out[1], tensF(dims(2, 3), 4, 8, 3, 7, 2, 3))
	expectTensor(t, "negative", out[2], tensF(dims(2, 3), 7, 5, 3, 4, 2, 3))
	expectTensor(t, "smaller indices", out[3], tensF(dims(2, 1), 1, 6))
	expectTensor(t, "int64", out[4], tensI(dims(1, 3), 4, 2, 6))
	expectTensor(t, "bool", out[5], tensB(dims(2, 2), false, false, false, false))
	expectTensor(t, "empty", out[6], tensF(dims(0, 3)))

	xs := []*graph.Tensor{d2, tensI(dims(1, 2), 0, 2), tensI(dims(2), 0, 1), tensI(dims(3, 2), 0, 0, 0, 0, 0, 0)}
	expectRunError(t, "index 2", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.GatherElements(x[0], x[1], 0)} }, xs,
		"index 2 out of range for axis 0 of size 2")
	expectBuildError(t, "rank", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.GatherElements(x[0], x[2], 0)} }, xs,
		"indices have rank 1, data has rank 2")
	expectBuildError(t, "too big", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.GatherElements(x[0], x[3], 1)} }, xs,
		"exceeds data shape")
	expectBuildError(t, "axis", func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.GatherElements(x[0], x[1], -3)} }, xs,
		"axis -3 out of range for rank 2")
}

func TestGatherElementsGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 3))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.GatherElements(x[0], constI(g, dims(2, 3), 1, 2, 0, 2, 0, 0), 0) // repeats add up
	}, graphtest.Rand(r, -1, 1, 3, 3))
	graphtest.GradCheck(t, graphtest.DefaultTol, func(g *graph.Graph, x nodeList) *graph.Node {
		return graph.GatherElements(x[0], constI(g, dims(2, 2, 3), 0, 1, -1, 1, 1, 1, 2, 0, 0, 0, -3, 2), -1)
	}, graphtest.Rand(r, -1, 1, 2, 2, 3))
}

// TestShapeOpDefs checks the registered identities of the shape and
// indexing ops and their internal gradient ops.
func TestShapeOpDefs(t *testing.T) {
	want := map[string]struct {
		since int
		grad  bool
	}{
		"Reshape": {14, true}, "Flatten": {13, true}, "Unsqueeze": {13, true}, "Squeeze": {13, true},
		"Transpose": {13, true}, "Shape": {15, false}, "ConstantOfShape": {9, false}, "Expand": {13, true},
		"Range": {11, false}, "Concat": {13, true}, "Slice": {13, true}, "Gather": {13, true},
		"GatherElements": {13, true},
	}
	for typ, w := range want {
		d := lookupDef(t, typ)
		if d.Since != w.since || d.Internal || d.Kernel == nil || (d.Grad != nil) != w.grad {
			t.Errorf("%s: since %d internal %v kernel %v grad %v", typ, d.Since, d.Internal, d.Kernel != nil, d.Grad != nil)
		}
		for _, c := range d.Compat {
			if c == d.Since {
				t.Errorf("%s: Compat repeats Since", typ)
			}
		}
	}
	for _, typ := range []string{"SliceGrad", "GatherGrad", "GatherElementsGrad"} {
		d, ok := graph.Lookup("odmn.internal", typ)
		if !ok || !d.Internal || d.Kernel == nil || d.Grad == nil {
			t.Errorf("internal op %s: registered %v", typ, ok)
		}
	}
}
