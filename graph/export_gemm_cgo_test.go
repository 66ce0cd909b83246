//go:build cgo && !noopenblas

package graph

// SetAVX512GEMM switches between the AVX-512 kernel (where the CPU has
// it) and OpenBLAS, so that tests cover both; it returns the old setting.
func SetAVX512GEMM(on bool) bool {
	prev := useAVX512GEMM
	useAVX512GEMM = on && haveAVX512()
	return prev
}
