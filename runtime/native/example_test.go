package native_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// Run an ONNX file: read it, import it (compat refuses what odmn cannot
// run exactly, naming the node), and run it on a batch.
func Example_runFile() {
	dir, err := os.MkdirTemp("", "native-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "linear.onnx")
	if err := writeLinear(path); err != nil {
		fmt.Println(err)
		return
	}

	m, err := compat.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := compat.Import(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	out, err := s.Run(map[string]*graph.Tensor{"x": graph.F32([]int{3, 2}, []float32{1, 0, 0, 1, 4, 1})})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.InputNames(), s.OutputNames())
	fmt.Println(out["y"].Shape, out["y"].F)
	// Output:
	// [x] [y]
	// [3 1] [0.75 0 1.25]
}

// writeLinear writes y = relu(x·[0.5 -1]ᵀ + 0.25) for a batch of any size.
func writeLinear(path string) error {
	g := graph.New("linear")
	x := g.Input("x", graph.Float32, -1, 2)
	w := g.Initializer("w", graph.F32([]int{2, 1}, []float32{0.5, -1}))
	b := g.Initializer("b", graph.F32([]int{1}, []float32{0.25}))
	g.SetOutput("y", graph.Relu(graph.Add(graph.MatMul(x, w), b)))
	return export.WriteFile(path, g, export.Options{})
}
