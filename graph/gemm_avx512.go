//go:build cgo && !noopenblas

package graph

// An AVX-512 SGEMM for the OpenBLAS build, used on CPUs that have
// AVX-512F. The products of these models are small and thin (a few
// thousand rows times 64-336 columns times 64-256 outputs), where a
// library GEMM spends much of its time packing and dispatching, and the
// OpenBLAS kernels chosen by the environment may be the AVX2 ones
// (OPENBLAS_CORETYPE=Haswell) on a CPU with twice that width. The kernel
// is the textbook one: op(B) packed in panels of 32 columns, op(A) read in
// place 8 rows at a time (each element broadcast once), an 8×32 block of
// C held in 16 registers while k runs, k in slabs of 256 so a B panel
// stays in L1. Each element of C is summed
// in the same order (k ascending) however the product is split, so
// results do not depend on the thread count. Aᵀ·B with at most 16 columns
// (the weight gradients of narrow heads) reads rows of A as vectors
// instead (kernTN), with the same sums.

/*
#cgo CFLAGS: -O3
#include <stddef.h>
#include <string.h>
#include <immintrin.h>

enum { MR = 8, NR = 32, KC = 256, MC = 128, NC = 512 };

// epilogue is the value stored for an accumulated slab acc, old C: C +
// alpha·acc after the first slab, else alpha·acc + beta·C (C not read
// when beta is 0) + bias; then max(0, ·) when relu (NaN stays NaN, as in
// Relu). The fused multiply-adds are written out, so every kernel rounds
// alike whatever the compiler would contract.
__attribute__((target("avx512f"), always_inline))
static inline __m512 epilogue(__m512 acc, __m512 va, __m512 vb, __m512 old, __m512 bias, int first, int hasBeta,
		int hasBias, int relu) {
	__m512 y;
	if (!first) {
		y = _mm512_fmadd_ps(acc, va, old);
	} else if (hasBeta) {
		y = _mm512_fmadd_ps(vb, old, _mm512_mul_ps(acc, va));
		if (hasBias) y = _mm512_add_ps(y, bias);
	} else if (hasBias) {
		y = _mm512_fmadd_ps(acc, va, bias);
	} else {
		y = _mm512_mul_ps(acc, va);
	}
	return relu ? _mm512_max_ps(_mm512_setzero_ps(), y) : y;
}

// C[0:mr, 0:nr] (= or +=) alpha * op(A)·Bp over kc, where op(A)[r][p]
// is a[r*rs + p*cs] (read in place: no packing). first: apply beta to C
// (beta 0: C is not read) and add bias (per column, when set); else
// accumulate. relu (on the last slab only) clamps at zero.
__attribute__((target("avx512f")))
static void kern(ptrdiff_t kc, const float *a, ptrdiff_t rs, ptrdiff_t cs, const float *bp,
		float *c, ptrdiff_t ldc, float alpha, float beta, int first, int mr, int nr,
		const float *bias, int relu) {
	__m512 acc[MR][2];
	const float *ar[MR];
#pragma GCC unroll 8
	for (int r = 0; r < MR; r++) {
		acc[r][0] = _mm512_setzero_ps();
		acc[r][1] = _mm512_setzero_ps();
		ar[r] = a + (r < mr ? r : mr - 1) * rs; // rows past mr repeat the last
	}
	if (cs == 1) {
		for (ptrdiff_t p = 0; p < kc; p++) {
			__m512 b0 = _mm512_load_ps(bp + p * NR), b1 = _mm512_load_ps(bp + p * NR + 16);
#pragma GCC unroll 8
			for (int r = 0; r < MR; r++) {
				__m512 x = _mm512_set1_ps(ar[r][p]);
				acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
				acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
			}
		}
	} else {
		for (ptrdiff_t p = 0; p < kc; p++) {
			__m512 b0 = _mm512_load_ps(bp + p * NR), b1 = _mm512_load_ps(bp + p * NR + 16);
			ptrdiff_t o = p * cs;
#pragma GCC unroll 8
			for (int r = 0; r < MR; r++) {
				__m512 x = _mm512_set1_ps(ar[r][o]);
				acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
				acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
			}
		}
	}
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
	__mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
	__mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
	__m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps(), zero = _mm512_setzero_ps();
	if (first && bias) {
		bias0 = _mm512_maskz_loadu_ps(m0, bias);
		bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
	}
	for (int r = 0; r < mr; r++) {
		float *cr = c + r * ldc;
		__m512 y0 = epilogue(acc[r][0], va, vb, _mm512_maskz_loadu_ps(m0, cr), bias0, first, beta != 0.0f, bias != 0, relu);
		__m512 y1 = epilogue(acc[r][1], va, vb, _mm512_maskz_loadu_ps(m1, cr + 16), bias1, first, beta != 0.0f, bias != 0, relu);
		_mm512_mask_storeu_ps(cr, m0, y0);
		_mm512_mask_storeu_ps(cr + 16, m1, y1);
	}
}

// kern16 is kern for a panel of at most 16 columns (the narrow heads of
// these models): one register per row and 16 rows at a time, instead of
// half of kern's 32 columns computed and thrown away. Each element is
// summed in kern's order, so the two give the same bits.
__attribute__((target("avx512f")))
static void kern16(ptrdiff_t kc, const float *a, ptrdiff_t rs, ptrdiff_t cs, const float *bp,
		float *c, ptrdiff_t ldc, float alpha, float beta, int first, int mr, int nr,
		const float *bias, int relu) {
	__m512 acc[2 * MR];
	const float *ar[2 * MR];
#pragma GCC unroll 16
	for (int r = 0; r < 2 * MR; r++) {
		acc[r] = _mm512_setzero_ps();
		ar[r] = a + (r < mr ? r : mr - 1) * rs;
	}
	for (ptrdiff_t p = 0; p < kc; p++) {
		__m512 b0 = _mm512_load_ps(bp + p * NR);
		ptrdiff_t o = p * cs;
#pragma GCC unroll 16
		for (int r = 0; r < 2 * MR; r++)
			acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(ar[r][o]), b0, acc[r]);
	}
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), zero = _mm512_setzero_ps();
	__mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
	__m512 bias0 = first && bias ? _mm512_maskz_loadu_ps(m0, bias) : zero;
	for (int r = 0; r < mr; r++) {
		float *cr = c + r * ldc;
		__m512 y0 = epilogue(acc[r], va, vb, _mm512_maskz_loadu_ps(m0, cr), bias0, first, beta != 0.0f, bias != 0, relu);
		_mm512_mask_storeu_ps(cr, m0, y0);
	}
}

// tnBlock accumulates NV·16 rows of op(A) = Aᵀ (row p of A read as NV
// vectors, the last masked to `last`) times NJ columns of B over one k
// slab into tmp[j·64 + i]. NV and NJ are constants at every call, so the
// accumulators stay in registers (NV·NJ <= 24).
__attribute__((target("avx512f"), always_inline))
static inline void tnBlock(const int NV, const int NJ, ptrdiff_t kc, const float *a, ptrdiff_t lda,
		const float *b, ptrdiff_t ldb, __mmask16 last, float *tmp) {
	__m512 acc[4][6];
	for (int v = 0; v < NV; v++)
		for (int j = 0; j < NJ; j++)
			acc[v][j] = _mm512_setzero_ps();
	for (ptrdiff_t p = 0; p < kc; p++) {
		const float *ap = a + p * lda, *bp = b + p * ldb;
		__m512 x[4];
		for (int v = 0; v < NV; v++)
			x[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, ap + 16 * v) : _mm512_loadu_ps(ap + 16 * v);
		for (int j = 0; j < NJ; j++) {
			__m512 bb = _mm512_set1_ps(bp[j]);
			for (int v = 0; v < NV; v++)
				acc[v][j] = _mm512_fmadd_ps(x[v], bb, acc[v][j]);
		}
	}
	for (int v = 0; v < NV; v++)
		for (int j = 0; j < NJ; j++)
			_mm512_store_ps(tmp + j * 64 + 16 * v, acc[v][j]);
}

// kernTN is one k slab of C = op(A)·B for op(A) = Aᵀ and at most 16
// columns (the weight gradient of a narrow layer, Xᵀ·dY over the batch).
// kern16 would broadcast each element of A into an FMA of which only n of
// 16 lanes count; here row p of A is read as vectors, 64 rows of op(A) at
// a time, and B[p][j] is broadcast, so every lane counts. Each element is
// summed in kern's order (p ascending, one FMA each) and stored through
// the same epilogue, so the bits are kern's.
__attribute__((target("avx512f")))
static void kernTN(ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
		float *c, ptrdiff_t ldc, float alpha, float beta, int first, ptrdiff_t m, int n,
		const float *bias, int relu) {
	float tmp[16 * 64] __attribute__((aligned(64)));
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
	__mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
	__m512 bias0 = first && bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
	for (ptrdiff_t i0 = 0; i0 < m; i0 += 64) {
		int mi = m - i0 < 64 ? (int)(m - i0) : 64;
		int nv = (mi + 15) / 16;
		__mmask16 last = mi % 16 ? (__mmask16)((1u << (mi % 16)) - 1) : 0xffff;
		for (int j0 = 0; j0 < n; j0 += 6) {
			int nj = n - j0 < 6 ? n - j0 : 6;
			const float *ai = a + i0, *bj = b + j0;
			float *t = tmp + j0 * 64;
			switch (nv * 8 + nj) {
#define TN(V, J) case V * 8 + J: tnBlock(V, J, kc, ai, lda, bj, ldb, last, t); break;
			TN(1, 1) TN(1, 2) TN(1, 3) TN(1, 4) TN(1, 5) TN(1, 6)
			TN(2, 1) TN(2, 2) TN(2, 3) TN(2, 4) TN(2, 5) TN(2, 6)
			TN(3, 1) TN(3, 2) TN(3, 3) TN(3, 4) TN(3, 5) TN(3, 6)
			TN(4, 1) TN(4, 2) TN(4, 3) TN(4, 4) TN(4, 5) TN(4, 6)
#undef TN
			}
		}
		for (int r = 0; r < mi; r++) {
			float row[16] __attribute__((aligned(64)));
			for (int j = 0; j < n; j++)
				row[j] = tmp[j * 64 + r];
			float *cr = c + (i0 + r) * ldc;
			__m512 y = epilogue(_mm512_maskz_load_ps(m0, row), va, vb, _mm512_maskz_loadu_ps(m0, cr), bias0, first,
				beta != 0.0f, bias != 0, relu);
			_mm512_mask_storeu_ps(cr, m0, y);
		}
	}
}

// packB: rows p0..p0+kc of op(B), columns j0..j0+nc, as panels of NR
// columns (kc×NR each, zero-padded).
static void packB(int transB, const float *b, ptrdiff_t ldb, ptrdiff_t p0, ptrdiff_t kc,
		ptrdiff_t j0, ptrdiff_t nc, float *bp) {
	for (ptrdiff_t jp = 0; jp < nc; jp += NR) {
		ptrdiff_t w = nc - jp < NR ? nc - jp : NR;
		float *dst = bp + jp * kc;
		for (ptrdiff_t p = 0; p < kc; p++) {
			float *d = dst + p * NR;
			if (!transB) {
				memcpy(d, b + (p0 + p) * ldb + j0 + jp, w * sizeof(float));
			} else {
				const float *s = b + (j0 + jp) * ldb + p0 + p;
				for (ptrdiff_t j = 0; j < w; j++) d[j] = s[j * ldb];
			}
			for (ptrdiff_t j = w; j < NR; j++) d[j] = 0.0f;
		}
	}
}

// odmn_packb_all packs all of op(B) (k×n) once, slab by slab: slab s
// (rows s·KC..) holds its kc rows as panels of NR columns over n rounded
// up to NR, at pb + s·KC·npad, so that the panel of columns J of slab p0
// is at pb + p0·npad + J·kc, as packB lays a block out.
static void odmn_packb_all(int transB, const float *b, ptrdiff_t ldb, ptrdiff_t k, ptrdiff_t n, float *pb) {
	ptrdiff_t npad = (n + NR - 1) / NR * NR;
	for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
		ptrdiff_t kc = k - p0 < KC ? k - p0 : KC;
		packB(transB, b, ldb, p0, kc, 0, n, pb + p0 * npad);
	}
}

// odmn_sgemm512: row-major C = act(alpha·op(A)·op(B) + beta·C + bias)
// (bias per column, may be NULL; act is max(0, x) when relu). op(B) is
// packed slab by slab into the caller's scratch bp of KC·NC floats
// (64-byte aligned), or, when packed is not NULL, read from the panels
// odmn_packb_all made (the same layout, so the same bits). op(A) is read
// in place, MC rows at a time so they stay in L2 across the column panels.
static void odmn_sgemm512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
		const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc,
		float *bp, const float *bias, int relu, const float *packed) {
	ptrdiff_t rs = transA ? 1 : lda, cs = transA ? lda : 1;
	ptrdiff_t npad = (n + NR - 1) / NR * NR;
	if (transA && !transB && !packed && n <= 16) {
		for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
			ptrdiff_t kc = k - p0 < KC ? k - p0 : KC;
			kernTN(kc, a + p0 * lda, lda, b + p0 * ldb, ldb, c, ldc, alpha, beta, p0 == 0, m, (int)n, bias,
				relu && p0 + kc >= k);
		}
		return;
	}
	for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
		ptrdiff_t kc = k - p0 < KC ? k - p0 : KC;
		int first = p0 == 0, last = p0 + kc >= k;
		for (ptrdiff_t j0 = 0; j0 < n; j0 += NC) {
			ptrdiff_t nc = n - j0 < NC ? n - j0 : NC;
			const float *panels = bp;
			if (packed) {
				panels = packed + p0 * npad + j0 * kc;
			} else {
				packB(transB, b, ldb, p0, kc, j0, nc, bp);
			}
			for (ptrdiff_t i0 = 0; i0 < m; i0 += MC) {
				ptrdiff_t mc = m - i0 < MC ? m - i0 : MC;
				for (ptrdiff_t jp = 0; jp < nc; jp += NR) {
					int nr = nc - jp < NR ? (int)(nc - jp) : NR;
					if (nr <= 16) {
						for (ptrdiff_t it = 0; it < mc; it += 2 * MR) {
							int mr = mc - it < 2 * MR ? (int)(mc - it) : 2 * MR;
							kern16(kc, a + (i0 + it) * rs + p0 * cs, rs, cs, panels + jp * kc,
								c + (i0 + it) * ldc + j0 + jp, ldc, alpha, beta, first, mr, nr,
								bias ? bias + j0 + jp : 0, relu && last);
						}
						continue;
					}
					for (ptrdiff_t it = 0; it < mc; it += MR) {
						int mr = mc - it < MR ? (int)(mc - it) : MR;
						kern(kc, a + (i0 + it) * rs + p0 * cs, rs, cs, panels + jp * kc,
							c + (i0 + it) * ldc + j0 + jp, ldc, alpha, beta, first, mr, nr,
							bias ? bias + j0 + jp : 0, relu && last);
					}
				}
			}
		}
	}
}

static int odmn_have_avx512(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
}
*/
import "C"

import (
	"os"
	"sync"
	"unsafe"
)

// useAVX512GEMM: the CPU has AVX-512F and ODMN_GEMM does not ask for
// OpenBLAS (ODMN_GEMM=openblas, for comparisons).
var useAVX512GEMM = haveAVX512() && os.Getenv("ODMN_GEMM") != "openblas"

func haveAVX512() bool { return C.odmn_have_avx512() != 0 }

// gemmKC and gemmNC are KC and NC of the C code.
const gemmKC, gemmNC = 256, 512

// gemmScratch holds one call's packed B (64-byte aligned).
type gemmScratch struct{ b []float32 }

var gemmScratchPool = sync.Pool{New: func() any {
	return &gemmScratch{b: aligned64(gemmKC * gemmNC)}
}}

func aligned64(n int) []float32 {
	s := make([]float32, n+16)
	off := (64 - int(uintptr(unsafe.Pointer(&s[0]))%64)) % 64 / 4
	return s[off : off+n]
}

func sgemm512(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, relu bool) {
	s := gemmScratchPool.Get().(*gemmScratch)
	callSgemm512(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, s.b, bias, relu, nil)
	gemmScratchPool.Put(s)
}

// sgemm512Packed is sgemm512 with beta 0 on op(B) packed by packBAll.
func sgemm512Packed(transA bool, m, n, k int, alpha float32, a []float32, lda int, pb []float32, bias []float32, relu bool, c []float32, ldc int) {
	callSgemm512(transA, false, m, n, k, alpha, a, lda, nil, 0, 0, c, ldc, nil, bias, relu, pb)
}

func callSgemm512(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, scratch, bias []float32, relu bool, packed []float32) {
	cb := func(x bool) C.int {
		if x {
			return 1
		}
		return 0
	}
	ptr := func(x []float32) *C.float {
		if x == nil {
			return nil
		}
		return (*C.float)(&x[0])
	}
	C.odmn_sgemm512(cb(transA), cb(transB), C.ptrdiff_t(m), C.ptrdiff_t(n), C.ptrdiff_t(k), C.float(alpha),
		ptr(a), C.ptrdiff_t(lda), ptr(b), C.ptrdiff_t(ldb), C.float(beta),
		ptr(c), C.ptrdiff_t(ldc), ptr(scratch), ptr(bias), cb(relu), ptr(packed))
}

// packBAll packs op(B) (k×n, row stride ldb) for sgemm512Packed.
func packBAll(transB bool, k, n int, b []float32, ldb int) []float32 {
	tb := C.int(0)
	if transB {
		tb = 1
	}
	npad := (n + 31) / 32 * 32
	pb := aligned64(k * npad)
	C.odmn_packb_all(tb, (*C.float)(&b[0]), C.ptrdiff_t(ldb), C.ptrdiff_t(k), C.ptrdiff_t(n), (*C.float)(&pb[0]))
	return pb
}

// packedGEMM says whether PackB packs (the AVX-512 kernel is in use).
func packedGEMM() bool { return useAVX512GEMM }
