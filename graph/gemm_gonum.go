//go:build !cgo || noopenblas

package graph

// gonum's pure-Go Sgemm behind Sgemm (built with -tags noopenblas, or
// without cgo). gonum splits a large GEMM over GOMAXPROCS goroutines
// itself; SetThreads has no effect on it beyond what Threads reports.

import (
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// SgemmImpl names the BLAS behind Sgemm (reported by benchmarks).
const SgemmImpl = "gonum"

var sgemmImpl gonum.Implementation

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	sgemmImpl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func defaultThreads() int { return runtime.GOMAXPROCS(0) }

// BLASConfig describes the BLAS build, for benchmark reports.
func BLASConfig() string { return "gonum (pure Go)" }

// epilogueFused: gonum has no fused stores.
func epilogueFused() bool { return false }

// sgemmEpilogue: gonum has no fused stores (SgemmBias does the passes).
func sgemmEpilogue(bool, bool, int, int, int, float32, []float32, int, []float32, int, []float32, bool, []float32, int) bool {
	return false
}

// The gonum build packs nothing: PackB returns nil.
func packedGEMM() bool                                  { return false }
func packBAll(bool, int, int, []float32, int) []float32 { return nil }
func sgemm512Packed(bool, int, int, int, float32, []float32, int, []float32, []float32, bool, []float32, int) {
}
