package graph_test

import (
	"fmt"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// Build loss = (x·w)² for a trainable w, differentiate it, and run both the
// loss and its gradient on the native runtime.
func Example_differentiate() {
	g := graph.New("example")
	x := g.Input("x", graph.Float32, 1, 3)
	w := g.Param("w", graph.F32([]int{3, 1}, []float32{1, 2, 3}))
	y := graph.MatMul(x, w)
	loss := graph.ReduceSum(graph.Mul(y, y), nil, false)
	grads, err := graph.Gradients(loss, w)
	if err != nil {
		fmt.Println(err)
		return
	}
	g.SetOutput("loss", loss)
	g.SetOutput("dloss_dw", grads[0])

	s, err := native.New(g, native.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := s.Run(map[string]*graph.Tensor{"x": graph.F32([]int{1, 3}, []float32{1, 1, 1})})
	if err != nil {
		fmt.Println(err)
		return
	}
	// x·w = 6, so the loss is 36 and its gradient 2·(x·w)·xᵀ = 12 per weight.
	fmt.Println("loss", out["loss"].F)
	fmt.Println("dloss/dw", out["dloss_dw"].F)
	// Output:
	// loss [36]
	// dloss/dw [12 12 12]
}

// Builders panic with a *BuildError on misuse, so model code reads as
// math; Catch turns the panic into an error that names the op.
func ExampleCatch() {
	g := graph.New("bad")
	a := g.Input("a", graph.Float32, 2, 3)
	b := g.Input("b", graph.Float32, 2, 3)
	err := graph.Catch(func() { graph.MatMul(a, b) })
	fmt.Println(err)
	// Output: op MatMul: inner dimensions differ: A is [2 3], B is [2 3] (3 vs 2)
}
