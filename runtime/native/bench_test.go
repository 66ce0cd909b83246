package native_test

import (
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// BenchmarkScoreMLP runs a scoring-shaped float32 graph (Gemm, Relu, Add,
// Mul, Sigmoid, Softmax at batch 512) through RunWith: the executor's
// per-step overhead and the float32 hot kernels.
func BenchmarkScoreMLP(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	rt := func(shape ...int) *graph.Tensor {
		t := graph.NewTensor(graph.Float32, shape)
		for i := range t.F {
			t.F[i] = float32(r.NormFloat64())
		}
		return t
	}
	g := graph.New("mlp")
	x := g.Input("x", graph.Float32, -1, 32)
	h := graph.Relu(graph.Gemm(x, g.Initializer("w1", rt(32, 64)), g.Initializer("b1", rt(64)), 1, 1, false, false))
	h = graph.Add(graph.Mul(h, g.Initializer("s", rt(64))), g.Initializer("c", rt(64)))
	h = graph.Sigmoid(graph.Gemm(h, g.Initializer("w2", rt(64, 16)), g.Initializer("b2", rt(16)), 1, 1, false, false))
	g.SetOutput("p", graph.Softmax(h, -1))
	s, err := native.New(g, native.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	feed := map[string]*graph.Tensor{"x": rt(512, 32)}
	noop := func([]*graph.Tensor) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := s.RunWith(feed, nil, noop); err != nil {
			b.Fatal(err)
		}
	}
}
