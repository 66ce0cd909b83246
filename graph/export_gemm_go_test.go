//go:build !cgo || noopenblas

package graph

// SetAVX512GEMM does nothing in the gonum build.
func SetAVX512GEMM(bool) bool { return false }
