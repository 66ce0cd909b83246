package graph_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

// The GEMM benchmarks run at batch 512 over square-ish widths: X is
// [512, w], W is [w, w]. The MatMul and Gemm ones go through the native
// runtime (executor overhead and the copy of the returned outputs count);
// BenchmarkSgemm calls the kernel directly. Every one reports GFLOP/s,
// counting 2·m·n·k per product (backward: the two products dX and dW).

const benchBatch = 512

var benchWidths = []int{64, 128, 256, 512}

func reportGFLOPS(b *testing.B, flopsPerOp float64) {
	b.ReportMetric(flopsPerOp*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// benchGraph runs build's outputs on the native runtime in a loop.
func benchGraph(b *testing.B, flops float64, build func(g *graph.Graph, x *graph.Node, w int)) {
	for _, w := range benchWidths {
		b.Run(fmt.Sprintf("w=%d", w), func(b *testing.B) {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			g := graph.New("bench")
			x := g.Input("x", graph.Float32, benchBatch, w)
			build(g, x, w)
			s, err := native.New(g, native.Options{})
			if err != nil {
				b.Fatal(err)
			}
			feed := map[string]*graph.Tensor{"x": graphtest.Rand(r, -1, 1, benchBatch, w)}
			for _, in := range g.Inputs() {
				if in.Name() != "x" {
					feed[in.Name()] = graphtest.Rand(r, -1, 1, benchBatch, w)
				}
			}
			if _, err := s.Run(feed); err != nil { // warm the buffer pool
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := s.Run(feed); err != nil {
					b.Fatal(err)
				}
			}
			reportGFLOPS(b, flops*float64(benchBatch*w*w))
		})
	}
}

func benchParam(g *graph.Graph, name string, shape ...int) *graph.Node {
	r := rand.New(rand.NewPCG(uint64(len(name)), uint64(shape[0])))
	return g.Param(name, graphtest.Rand(r, -0.1, 0.1, shape...))
}

// backward adds the gradients of x and W for a seed fed as input "gy".
func backward(g *graph.Graph, y, x, w *graph.Node) {
	gy := g.Input("gy", graph.Float32, y.Shape()...)
	grads, err := graph.VJP([]*graph.Node{y}, []*graph.Node{gy}, []*graph.Node{x, w})
	if err != nil {
		panic(err)
	}
	g.SetOutput("dx", grads[0])
	g.SetOutput("dw", grads[1])
}

func BenchmarkMatMulForward(b *testing.B) {
	benchGraph(b, 2, func(g *graph.Graph, x *graph.Node, w int) {
		g.SetOutput("y", graph.MatMul(x, benchParam(g, "W", w, w)))
	})
}

func BenchmarkGemmForward(b *testing.B) {
	benchGraph(b, 2, func(g *graph.Graph, x *graph.Node, w int) {
		g.SetOutput("y", graph.Gemm(x, benchParam(g, "W", w, w), benchParam(g, "bias", w), 1, 1, false, false))
	})
}

func BenchmarkMatMulBackward(b *testing.B) {
	benchGraph(b, 4, func(g *graph.Graph, x *graph.Node, w int) {
		wn := benchParam(g, "W", w, w)
		backward(g, graph.MatMul(x, wn), x, wn)
	})
}

func BenchmarkGemmBackward(b *testing.B) {
	benchGraph(b, 4, func(g *graph.Graph, x *graph.Node, w int) {
		wn := benchParam(g, "W", w, w)
		backward(g, graph.Gemm(x, wn, benchParam(g, "bias", w), 1, 1, false, false), x, wn)
	})
}

// BenchmarkSgemm is the bare kernel: C[512, w] = A[512, w] · B[w, w].
func BenchmarkSgemm(b *testing.B) {
	for _, w := range benchWidths {
		b.Run(fmt.Sprintf("w=%d", w), func(b *testing.B) {
			r := rand.New(rand.NewPCG(uint64(w), 2))
			a := graphtest.Rand(r, -1, 1, benchBatch*w).F
			bm := graphtest.Rand(r, -1, 1, w*w).F
			c := make([]float32, benchBatch*w)
			for b.Loop() {
				graph.Sgemm(false, false, benchBatch, w, w, 1, a, w, bm, w, 0, c, w)
			}
			reportGFLOPS(b, 2*float64(benchBatch*w*w))
		})
	}
}
