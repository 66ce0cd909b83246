// Package native runs a graph.Graph in pure Go: a plan compiled once (ops
// in topological order, only those the requested outputs need, values
// known at build time bound as constants, composite ops inlined unless a
// fused kernel is registered), then kernels called on buffers that persist
// across runs. Run is safe for concurrent use.
//
// Inputs and outputs may have any element type graph holds. A run refuses,
// before allocating, any tensor whose shape overflows or holds more than
// Options.MaxElements elements, or that would take the run's buffers past
// Options.MaxBytes, with a *SizeError naming the node and the size: a
// hostile model cannot make the process run out of memory.
package native
