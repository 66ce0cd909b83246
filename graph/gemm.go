package graph

// This file holds the one GEMM kernel that every MatMul and Gemm forward
// and backward path calls. It is the only file that knows which BLAS is
// used (gonum's pure-Go implementation for now), so swapping in another
// BLAS is a change to this file alone.

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// SgemmImpl names the BLAS behind Sgemm (reported by benchmarks).
const SgemmImpl = "gonum"

var sgemmImpl gonum.Implementation

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices,
// where op(X) is X or its transpose, op(A) is m×k, op(B) is k×n and C is
// m×n. lda, ldb and ldc are the row strides (leading dimensions) of the
// slices as stored. With beta == 0, C is overwritten and never read (NaN in
// C does not leak). Callers pass valid sizes: it is a programming error,
// not a data error, when a slice is too short.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	sgemmImpl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// scaleRows sets C = beta*C (C = 0 when beta is 0, whatever C held).
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 1:
			return
		case 0:
			clear(row)
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}
