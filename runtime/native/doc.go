// Package native runs a graph.Graph in pure Go: a plan compiled once (ops
// in topological order, only those the requested outputs need, values
// known at build time bound as constants, composite ops inlined unless a
// fused kernel is registered), then kernels called on buffers that persist
// across runs. Run is safe for concurrent use.
package native
