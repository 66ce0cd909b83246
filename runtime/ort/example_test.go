package ort_test

import (
	"fmt"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/ort"
)

// Run an ONNX file with ONNX Runtime. The shared library is found through
// $ODMN_ORT_LIB or .cache/ort/ in the odmn checkout (make ort puts it
// there). This example is compiled but not run by go test, because it
// needs that library; the package's tests run the same calls, and fail
// under CI=true when the library is missing.
func ExampleOpen() {
	s, err := ort.Open("model.onnx", ort.Options{IntraOpThreads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	out, err := s.Run(map[string]*graph.Tensor{"x": graph.F32([]int{1, 2}, []float32{1, 0})})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range s.OutputNames() {
		fmt.Println(name, out[name])
	}
}
