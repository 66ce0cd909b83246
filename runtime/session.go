package runtime

import "github.com/odmn/odmn/graph"

// Session runs one model: named input tensors in, named output tensors out.
// Both backends (native, ort) implement it, so every caller (scoring,
// conformance, benchmarks) is written once and runs on either.
type Session interface {
	// Run evaluates the named outputs (all outputs when names is empty).
	// Returned tensors belong to the caller.
	Run(inputs map[string]*graph.Tensor, names ...string) (map[string]*graph.Tensor, error)
	// InputNames and OutputNames list the model's graph inputs and outputs in order.
	InputNames() []string
	OutputNames() []string
	// Close frees backend resources; the session is unusable afterwards.
	Close() error
}
