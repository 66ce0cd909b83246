package export_test

import (
	"fmt"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
)

// Export a small graph, with no training involved: a linear layer and a
// ReLU over a batch of any size. Marshal gives the ONNX bytes; WriteFile
// writes them to a file atomically.
func ExampleMarshal() {
	g := graph.New("linear")
	x := g.Input("x", graph.Float32, -1, 2) // -1: the batch, exported as dim_param "N"
	w := g.Initializer("w", graph.F32([]int{2, 1}, []float32{0.5, -1}))
	b := g.Initializer("b", graph.F32([]int{1}, []float32{0.25}))
	g.SetOutput("y", graph.Relu(graph.Add(graph.MatMul(x, w), b)))

	raw, err := export.Marshal(g, export.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := compat.Parse(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ir version", m.GetIrVersion())
	for _, op := range m.GetOpsetImport() {
		fmt.Printf("opset %q %d\n", op.GetDomain(), op.GetVersion())
	}
	for _, n := range m.GetGraph().GetNode() {
		fmt.Println(n.GetOpType(), n.GetInput(), "->", n.GetOutput())
	}
	in := m.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()
	fmt.Println("input x dims:", in[0].GetDimParam(), in[1].GetDimValue())
	// Output:
	// ir version 8
	// opset "" 17
	// MatMul [x w] -> [MatMul_3]
	// Add [MatMul_3 b] -> [Add_4]
	// Relu [Add_4] -> [y]
	// input x dims: N 2
}
