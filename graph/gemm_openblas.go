//go:build cgo && !noopenblas

package graph

// OpenBLAS behind Sgemm (the default build) on CPUs without AVX-512
// (gemm_avx512.go runs on the others, unless ODMN_GEMM=openblas).
// Debian's libopenblas-dev provides cblas.h and libopenblas.so.
//
// OpenBLAS runs single-threaded here, always: its own threads cost more
// than they give on the small products of these models (a 512×64×64 GEMM
// is slower on two OpenBLAS threads than on one), and they spin between
// calls, taking cores from the Go code in between. Sgemm parallelizes
// instead by splitting C into blocks of rows (or of columns when C has
// few rows) over up to Threads() goroutines, each calling OpenBLAS.

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"os"
	"runtime"
	"strconv"
	"sync"
)

// SgemmImpl names the GEMM behind Sgemm (reported by benchmarks):
// "avx512" (gemm_avx512.go) where the CPU has AVX-512F, else "openblas".
var SgemmImpl = map[bool]string{true: "avx512", false: "openblas"}[useAVX512GEMM]

var blasInit sync.Once

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	blasInit.Do(func() { C.openblas_set_num_threads(1) })
	splitGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, false)
}

// epilogueFused says whether SgemmBias fuses the bias and ReLU here.
func epilogueFused() bool { return useAVX512GEMM }

// sgemmEpilogue is SgemmBias where the kernel fuses the bias and the
// ReLU into its stores (the AVX-512 kernel); false when it cannot.
func sgemmEpilogue(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) bool {
	if !useAVX512GEMM {
		return false
	}
	splitGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, 0, c, ldc, bias, relu)
	return true
}

// splitGemm runs the product on up to Threads() goroutines, each taking a
// block of rows of C (or of columns when C has few rows).
func splitGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, relu bool) {
	t := Threads()
	if t < 2 || 2*m*n*k < parallelFlops {
		blockGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu)
		return
	}
	byRows := m >= n || n < 2*minBlock
	span := n
	if byRows {
		span = m
	}
	parts := min(t, span/minBlock)
	if parts < 2 {
		blockGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu)
		return
	}
	inParts(span, parts, func(lo, hi int) {
		if byRows {
			oa := lo * lda // rows of A
			if transA {
				oa = lo // columns of the stored A
			}
			blockGemm(transA, transB, hi-lo, n, k, alpha, a[oa:], lda, b, ldb, beta, c[lo*ldc:], ldc, bias, relu)
			return
		}
		ob := lo // columns of B
		if transB {
			ob = lo * ldb // rows of the stored B
		}
		var bs []float32
		if bias != nil {
			bs = bias[lo:]
		}
		blockGemm(transA, transB, m, hi-lo, k, alpha, a, lda, b[ob:], ldb, beta, c[lo:], ldc, bs, relu)
	})
}

// blockGemm is one goroutine's product: the AVX-512 kernel, or OpenBLAS
// (which never gets a bias or relu: sgemmEpilogue declines first).
func blockGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, relu bool) {
	if useAVX512GEMM {
		sgemm512(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu)
		return
	}
	cblasSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func cblasSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := uint32(C.CblasNoTrans), uint32(C.CblasNoTrans)
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb),
		C.float(beta), (*C.float)(&c[0]), C.blasint(ldc))
}

var envThreads = sync.OnceValue(func() int {
	if n, err := strconv.Atoi(os.Getenv("OPENBLAS_NUM_THREADS")); err == nil && n > 0 {
		return n
	}
	return 0
})

// defaultThreads is OPENBLAS_NUM_THREADS when set, else GOMAXPROCS.
func defaultThreads() int {
	if n := envThreads(); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// BLASConfig describes the BLAS build (OpenBLAS's configuration string and
// the core type it chose), for benchmark reports.
func BLASConfig() string {
	s := C.GoString(C.openblas_get_config()) + " (core " + C.GoString(C.openblas_get_corename()) + ")"
	if useAVX512GEMM {
		s = "odmn's AVX-512 SGEMM; " + s + " unused (ODMN_GEMM=openblas uses it)"
	}
	return s
}
