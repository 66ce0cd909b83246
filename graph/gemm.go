package graph

// This file holds the one GEMM entry point that every MatMul and Gemm
// forward and backward path calls. Which BLAS runs behind it is chosen at
// build time, in one of two files:
//
//   - gemm_openblas.go (the default; needs cgo and Debian's
//     libopenblas-dev): OpenBLAS's cblas_sgemm, or on CPUs with AVX-512F
//     odmn's own AVX-512 kernel (gemm_avx512.go; ODMN_GEMM=openblas
//     keeps OpenBLAS);
//   - gemm_gonum.go (built with -tags noopenblas, or when cgo is off):
//     gonum's pure-Go Sgemm.
//
// SgemmImpl names the one built in. Both are tested in CI (make test runs
// the suite both ways).

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// parallelFlops is the smallest product (2·m·n·k) that is split over
// several goroutines: about 20 µs of work on one core.
const parallelFlops = 2 << 20

// minBlock is the fewest rows or columns of C a goroutine gets.
const minBlock = 32

// inParts runs run on parts blocks of [0, span) at once, the last on the
// calling goroutine.
func inParts(span, parts int, run func(lo, hi int)) {
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*span/parts, (p+1)*span/parts
		if p == parts-1 {
			run(lo, hi)
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); run(lo, hi) }()
	}
	wg.Wait()
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices,
// where op(X) is X or its transpose, op(A) is m×k, op(B) is k×n and C is
// m×n. lda, ldb and ldc are the row strides (leading dimensions) of the
// slices as stored. With beta == 0, C is overwritten and never read (NaN in
// C does not leak). Callers pass valid sizes: it is a programming error,
// not a data error, when a slice is too short (Sgemm panics).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	counted(m, n, k, func() bool {
		sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return true
	})
}

// SgemmBias computes C = act(alpha·op(A)·op(B) + bias), where bias (nil:
// none) is a row of n values added to every row of C and act is max(0, ·)
// when relu, identity otherwise; C is overwritten, never read. The AVX-512
// kernel adds the bias and clamps as it stores each block of C, so C is
// written once; elsewhere it is three passes (fill, product, clamp) with
// the same result.
func SgemmBias(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("graph: SgemmBias: bias of %d values for %d columns", len(bias), n))
	}
	if k > 0 && alpha != 0 {
		checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
		if counted(m, n, k, func() bool {
			return sgemmEpilogue(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, relu, c, ldc)
		}) {
			return
		}
	}
	beta := float32(0)
	if bias != nil {
		for i := range m {
			copy(c[i*ldc:i*ldc+n], bias[:n])
		}
		beta = 1
	}
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	if relu {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			reluF32(row, row)
		}
	}
}

// checkGemm panics when A, B or C is too short for op(A) m×k, op(B) k×n
// and C m×n at their strides.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	checkMatrix("A", a, ra, ca, lda)
	checkMatrix("B", b, rb, cb, ldb)
	checkMatrix("C", c, m, n, ldc)
}

// counted runs an m×n×k product (run reports whether it ran) and, while
// counting is on, adds it to the GEMM accounting; the clock is read only
// then.
func counted(m, n, k int, run func() bool) bool {
	if !gemmCounting.Load() {
		return run()
	}
	t0 := time.Now()
	if !run() {
		return false
	}
	gemmCalls.Add(1)
	gemmFlops.Add(2 * int64(m) * int64(n) * int64(k))
	gemmNanos.Add(int64(time.Since(t0)))
	return true
}

// GEMM accounting for benchmarks (off unless CountGemm(true)).
var (
	gemmCounting                    atomic.Bool
	gemmCalls, gemmFlops, gemmNanos atomic.Int64
)

// GemmStats is what Sgemm did while counting was on.
type GemmStats struct {
	Calls   int64
	Flops   int64 // 2·m·n·k summed
	Seconds float64
}

// GFLOPS is the rate inside the GEMM calls.
func (s GemmStats) GFLOPS() float64 {
	if s.Seconds == 0 {
		return 0
	}
	return float64(s.Flops) / s.Seconds / 1e9
}

// CountGemm turns GEMM accounting on or off and returns what was counted
// since the last call (counters restart at zero).
func CountGemm(on bool) GemmStats {
	gemmCounting.Store(on)
	return GemmStats{Calls: gemmCalls.Swap(0), Flops: gemmFlops.Swap(0), Seconds: float64(gemmNanos.Swap(0)) / 1e9}
}

// checkMatrix panics unless x holds a rows×cols matrix of row stride ld.
func checkMatrix(name string, x []float32, rows, cols, ld int) {
	if ld < max(1, cols) || len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("graph.Sgemm: %s is %d×%d with stride %d but holds %d values", name, rows, cols, ld, len(x)))
	}
}

// scaleRows sets C = beta*C (C = 0 when beta is 0, whatever C held).
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// threads is the number of threads the kernels may use (GEMM and the large
// elementwise kernels); 0 until SetThreads is called, which means the
// machine's default.
var threads atomic.Int32

// SetThreads sets how many threads one kernel call may use (process-wide):
// the number of goroutines a large GEMM or elementwise kernel is split
// over. n < 1 restores the default: $OPENBLAS_NUM_THREADS when set in the
// OpenBLAS build, else GOMAXPROCS. gonum's GEMM (-tags noopenblas) splits
// itself over GOMAXPROCS goroutines whatever the setting. It returns the
// previous setting (0: the default).
func SetThreads(n int) int {
	if n < 1 {
		n = 0
	}
	return int(threads.Swap(int32(n)))
}

// Threads reports the number of threads the kernels use.
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return defaultThreads()
}
