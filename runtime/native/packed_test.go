package native_test

import (
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// Products with frozen weights run on weights packed once, with the
// unfused kernels' bits; trainable weights (a trainer changes them in
// place) and inputs the packed path does not cover run the kernels.
func TestPackedWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	g := graph.New("packed")
	x := g.Input("x", graph.Float32, -1, 40)
	h := graph.Relu(graph.Gemm(x, g.Initializer("w1", randF32(r, 40, 70)), g.Initializer("b1", randF32(r, 70)), 1, 1, false, false))
	h2 := graph.Gemm(h, g.Initializer("w2", randF32(r, 12, 70)), g.Initializer("b2", randF32(r, 1, 12)), 0.5, 1, false, true)
	g.SetOutput("y", h2)
	x3 := g.Input("x3", graph.Float32, -1, 3, 40)
	g.SetOutput("z", graph.MatMul(x3, g.Initializer("w3", randF32(r, 40, 9))))
	g.SetOutput("s", graph.Gemm(x, g.Initializer("w4", randF32(r, 40, 5)), g.Initializer("b4", randF32(r, 1)), 1, 1, false, false)) // scalar C: not covered
	g.SetOutput("p", graph.Relu(graph.Gemm(x, g.Param("w5", randF32(r, 40, 6)), nil, 1, 1, false, false)))                          // trainable: not packed
	feed := map[string]*graph.Tensor{"x": randF32(r, 300, 40), "x3": randF32(r, 7, 3, 40)}
	before := native.PackedRuns()
	ops := fusedOps(t, g, feed)
	if len(ops) == 0 {
		t.Fatal("no ops ran")
	}
	want := int64(3) // Gemm+Relu, Gemm with a bias row, MatMul
	if graph.SgemmImpl != "avx512" {
		want = 0 // only the AVX-512 kernel packs
	}
	if n := native.PackedRuns() - before; n != want {
		t.Errorf("%d products on packed weights, want %d", n, want)
	}
}
