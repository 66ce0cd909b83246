package compat_test

import (
	"fmt"
	"path/filepath"

	"github.com/odmn/odmn/compat"
)

// Import a foreign file: a PyTorch export (torch.onnx) of a zero-inflated
// lognormal LTV head, shipped in fixtures/foreign. ReadFile parses the
// protobuf; Import adapts older op versions and builds the graph, refusing
// anything outside odmn's vocabulary with the node and op named.
func ExampleImport() {
	m, err := compat.ReadFile(filepath.Join("..", "fixtures", "foreign", "torch_ziln_head.onnx"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("producer", m.GetProducerName())
	fmt.Println("ops", compat.Ops(m))
	g, err := compat.Import(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range g.Inputs() {
		fmt.Println("input", in.Name(), in.DType(), in.Shape())
	}
	for _, out := range g.Outputs() {
		fmt.Println("output", out.Name)
	}
	// Output:
	// producer pytorch
	// ops [Add Constant Exp Gemm Mul Relu Sigmoid Slice Softplus]
	// input x float32 [-1 10]
	// output p
	// output ltv
}
