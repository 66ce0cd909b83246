//go:build cgo && !noopenblas

package graph

// Elementwise kernels in C, built with the OpenBLAS build (cgo): GCC
// vectorizes these loops (AVX-512 or AVX2 where the CPU has them, chosen
// once at start-up), which Go's compiler does not. gonum builds
// (-tags noopenblas) use the Go loops of kern_go.go instead; both compute
// the same values (the same float32 operations in the same order per
// element; sums reduce along rows in the same order).

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
#include <stddef.h>
#include <stdint.h>
#include <immintrin.h>

// No floating-point traps: lets GCC turn the selects below into vector
// blends (Go code runs with every FP exception masked anyway).
#pragma GCC optimize("no-trapping-math")

// Sixteen floats, for the kernels written with GCC's vector extensions
// (one AVX-512 register, two AVX2 ones, four SSE ones); v16u loads and
// stores them unaligned.
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
typedef int32_t v16i __attribute__((vector_size(64)));

#define KERNELS(SUF)                                                              \
static void relu_##SUF(float *o, const float *x, ptrdiff_t n) {                   \
	for (ptrdiff_t i = 0; i < n; i++) {                                           \
		float v = x[i];                                                           \
		o[i] = v < 0.0f ? 0.0f : v;                                               \
	}                                                                             \
}                                                                                 \
static void relugrad_##SUF(float *o, const float *g, const float *x, ptrdiff_t n) { \
	for (ptrdiff_t i = 0; i < n; i++) o[i] = x[i] > 0.0f ? g[i] : 0.0f;           \
}                                                                                 \
static void arith_##SUF(int op, float *o, const float *a, ptrdiff_t a0, ptrdiff_t a1, \
		const float *b, ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t rows, ptrdiff_t cols) { \
	for (ptrdiff_t r = 0; r < rows; r++) {                                        \
		float *or_ = o + r * cols;                                                \
		const float *ar = a + r * a0, *br = b + r * b0;                           \
		if (a1 == 1 && b1 == 1) {                                                 \
			switch (op) {                                                         \
			case 0: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] + br[j]; break; \
			case 1: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] - br[j]; break; \
			case 2: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] * br[j]; break; \
			default: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] / br[j]; \
			}                                                                     \
		} else if (a1 == 1 && b1 == 0) {                                          \
			float y = br[0];                                                      \
			switch (op) {                                                         \
			case 0: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] + y; break; \
			case 1: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] - y; break; \
			case 2: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] * y; break; \
			default: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = ar[j] / y;     \
			}                                                                     \
		} else if (a1 == 0 && b1 == 1) {                                          \
			float x = ar[0];                                                      \
			switch (op) {                                                         \
			case 0: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = x + br[j]; break; \
			case 1: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = x - br[j]; break; \
			case 2: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = x * br[j]; break; \
			default: for (ptrdiff_t j = 0; j < cols; j++) or_[j] = x / br[j];     \
			}                                                                     \
		} else {                                                                  \
			for (ptrdiff_t j = 0; j < cols; j++) {                                \
				float x = ar[j * a1], y = br[j * b1];                             \
				or_[j] = op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / y; \
			}                                                                     \
		}                                                                         \
	}                                                                             \
}                                                                                 \
static void embedsum_##SUF(float *o, const float *tab, const int32_t *ent, const float *bias, \
		ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t h, int relu) {                  \
	const v16 zero = {0};                                                         \
	for (ptrdiff_t r = 0; r < rows; r++) {                                        \
		const int32_t *e = ent + r * cols;                                        \
		float *or_ = o + r * h;                                                   \
		ptrdiff_t j0 = 0;                                                         \
		for (; j0 + 128 <= h; j0 += 128) {                                        \
			v16 acc[8];                                                           \
			const float *t = tab + (ptrdiff_t)e[0] * h + j0;                      \
			for (int q = 0; q < 8; q++) acc[q] = *(const v16u *)(t + 16 * q);    \
			for (ptrdiff_t c = 1; c < cols; c++) {                                \
				t = tab + (ptrdiff_t)e[c] * h + j0;                               \
				for (int q = 0; q < 8; q++) acc[q] += *(const v16u *)(t + 16 * q); \
			}                                                                     \
			for (int q = 0; q < 8; q++) {                                         \
				v16 v = acc[q];                                                   \
				if (bias) v += *(const v16u *)(bias + j0 + 16 * q);               \
				if (relu) v = (v16)((v16i)v & ~(v < zero));                                \
				*(v16u *)(or_ + j0 + 16 * q) = v;                                 \
			}                                                                     \
		}                                                                         \
		for (; j0 + 16 <= h; j0 += 16) {                                          \
			const float *t = tab + (ptrdiff_t)e[0] * h + j0;                      \
			v16 v = *(const v16u *)t;                                             \
			for (ptrdiff_t c = 1; c < cols; c++)                                  \
				v += *(const v16u *)(tab + (ptrdiff_t)e[c] * h + j0);             \
			if (bias) v += *(const v16u *)(bias + j0);                            \
			if (relu) v = (v16)((v16i)v & ~(v < zero));                                    \
			*(v16u *)(or_ + j0) = v;                                              \
		}                                                                         \
		for (ptrdiff_t j = j0; j < h; j++) {                                      \
			float v = tab[(ptrdiff_t)e[0] * h + j];                               \
			for (ptrdiff_t c = 1; c < cols; c++) v += tab[(ptrdiff_t)e[c] * h + j]; \
			if (bias) v += bias[j];                                               \
			or_[j] = relu && v < 0.0f ? 0.0f : v;                                 \
		}                                                                         \
	}                                                                             \
}                                                                                 \
static void colsum_##SUF(float *o, const float *g, ptrdiff_t rows, ptrdiff_t cols) { \
	for (ptrdiff_t j = 0; j < cols; j++) o[j] = 0.0f;                             \
	for (ptrdiff_t r = 0; r < rows; r++) {                                        \
		const float *gr = g + r * cols;                                           \
		for (ptrdiff_t j = 0; j < cols; j++) o[j] += gr[j];                       \
	}                                                                             \
}

// expf, logf, sigmoid and softplus in float32 arithmetic that GCC can
// vectorize (Cephes-style range reduction and polynomials, within 2 ulp
// over the normal range; NaN propagates; results below the normal range
// flush to 0, above it to +Inf). expf scales by 2^n as 2^(n/2)·2^(n-n/2),
// both normal floats for n in [-150, 128], so denormal results and the top
// of the range come out right; logf takes the mantissa in [0.5, 1).
#define MATH_KERNELS(SUF) \
static inline float expf_##SUF(float x) { \
	float xc = x > 88.72283f ? 88.72283f : x; \
	xc = xc < -103.9721f ? -103.9721f : xc; \
	float fn = __builtin_floorf(xc * 1.44269504f + 0.5f); \
	float r = xc - fn * 0.693359375f; \
	r = r - fn * -2.12194440e-4f; \
	float p = 1.9875691500e-4f; \
	p = p * r + 1.3981999507e-3f; \
	p = p * r + 8.3334519073e-3f; \
	p = p * r + 4.1665795894e-2f; \
	p = p * r + 1.6666665459e-1f; \
	p = p * r + 5.0000001201e-1f; \
	p = p * r * r + r + 1.0f; \
	int32_t n = (int32_t)fn, n1 = n / 2; \
	union { float f; int32_t i; } s1, s2; \
	s1.i = (n1 + 127) << 23; \
	s2.i = (n - n1 + 127) << 23; \
	float y = p * s1.f * s2.f; \
	y = x > 88.72283f ? __builtin_inff() : y; \
	y = x < -103.9721f ? 0.0f : y; \
	return x != x ? x : y; \
} \
static inline float logf_##SUF(float x) { \
	union { float f; int32_t i; } u = { x }; \
	int32_t e = ((u.i >> 23) & 0xff) - 126; \
	u.i = (u.i & 0x807fffff) | 0x3f000000; \
	float m = u.f; \
	int small = m < 0.70710678f; \
	e = small ? e - 1 : e; \
	m = small ? m + m - 1.0f : m - 1.0f; \
	float z = m * m; \
	float p = 7.0376836292e-2f; \
	p = p * m - 1.1514610310e-1f; \
	p = p * m + 1.1676998740e-1f; \
	p = p * m - 1.2420140846e-1f; \
	p = p * m + 1.4249322787e-1f; \
	p = p * m - 1.6668057665e-1f; \
	p = p * m + 2.0000714765e-1f; \
	p = p * m - 2.4999993993e-1f; \
	p = p * m + 3.3333331174e-1f; \
	float y = p * m * z; \
	float fe = (float)e; \
	y = y + fe * -2.12194440e-4f; \
	y = y - 0.5f * z; \
	y = m + y + fe * 0.693359375f; \
	y = x == 0.0f ? -__builtin_inff() : y; \
	y = x == __builtin_inff() ? x : y; \
	y = x < 0.0f ? __builtin_nanf("") : y; \
	return x != x ? x : y; \
} \
static void vexp_##SUF(float *o, const float *x, ptrdiff_t n) {                   \
	for (ptrdiff_t i = 0; i < n; i++) o[i] = expf_##SUF(x[i]);                     \
}                                                                                 \
static void vsigmoid_##SUF(float *o, const float *x, ptrdiff_t n) {               \
	for (ptrdiff_t i = 0; i < n; i++) {                                           \
		float v = x[i];                                                           \
		float e = expf_##SUF(v < 0.0f ? v : -v);                                   \
		float d = 1.0f + e;                                                       \
		o[i] = v >= 0.0f ? 1.0f / d : e / d;                                      \
		o[i] = v != v ? v : o[i];                                                 \
	}                                                                             \
}                                                                                 \
static void vsoftplus_##SUF(float *o, const float *x, ptrdiff_t n) {              \
	for (ptrdiff_t i = 0; i < n; i++) {                                           \
		float v = x[i];                                                           \
		float e = expf_##SUF(v < 0.0f ? v : -v);                                   \
		float u = 1.0f + e;                                                       \
		float l = u == 1.0f ? e : logf_##SUF(u) * (e / (u - 1.0f));                \
		o[i] = l + (v > 0.0f ? v : 0.0f);                                         \
		o[i] = v != v ? v : o[i];                                                 \
	}                                                                             \
}

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx2,fma")
MATH_KERNELS(avx512)
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
MATH_KERNELS(avx2)
#pragma GCC pop_options
MATH_KERNELS(base)

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx2,fma")
KERNELS(avx512)
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
KERNELS(avx2)
#pragma GCC pop_options
KERNELS(base)

// bucketize_avx512 is bucketizeGo (kern_go.go) with each column's bounds
// compared 16 at a time and the hits counted: o[i*cols+c] = 0 where v =
// x[i*k + min(c, k-1)] is NaN, else 1 + #{b in row min(c, kb-1) : v >= b}.
__attribute__((target("avx512f")))
static void bucketize_avx512(int64_t *o, const float *x, ptrdiff_t n, ptrdiff_t k,
		const float *bounds, ptrdiff_t kb, ptrdiff_t nb) {
	ptrdiff_t cols = k > kb ? k : kb;
	for (ptrdiff_t i = 0; i < n; i++) {
		for (ptrdiff_t c = 0; c < cols; c++) {
			float v = x[i * k + (c < k ? c : k - 1)];
			const float *b = bounds + (c < kb ? c : kb - 1) * nb;
			__m512 vv = _mm512_set1_ps(v);
			int64_t cnt = 0;
			for (ptrdiff_t j = 0; j < nb; j += 16) {
				__mmask16 m = nb - j >= 16 ? 0xffff : (__mmask16)((1u << (nb - j)) - 1);
				__m512 bv = _mm512_maskz_loadu_ps(m, b + j);
				cnt += __builtin_popcount(_mm512_mask_cmp_ps_mask(m, bv, vv, _CMP_LE_OQ));
			}
			o[i * cols + c] = v != v ? 0 : cnt + 1;
		}
	}
}

static int level = -1;

static void pick(void) {
	__builtin_cpu_init();
	level = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
		__builtin_cpu_supports("avx512dq") ? 2 : __builtin_cpu_supports("avx2") &&
		__builtin_cpu_supports("fma") ? 1 : 0;
}

static int odmn_simd_level(void) { if (level < 0) pick(); return level; }

static void odmn_relu(float *o, const float *x, ptrdiff_t n) {
	switch (level) { case 2: relu_avx512(o, x, n); break; case 1: relu_avx2(o, x, n); break; default: relu_base(o, x, n); }
}
static void odmn_relugrad(float *o, const float *g, const float *x, ptrdiff_t n) {
	switch (level) { case 2: relugrad_avx512(o, g, x, n); break; case 1: relugrad_avx2(o, g, x, n); break; default: relugrad_base(o, g, x, n); }
}
static void odmn_arith(int op, float *o, const float *a, ptrdiff_t a0, ptrdiff_t a1,
		const float *b, ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t rows, ptrdiff_t cols) {
	switch (level) {
	case 2: arith_avx512(op, o, a, a0, a1, b, b0, b1, rows, cols); break;
	case 1: arith_avx2(op, o, a, a0, a1, b, b0, b1, rows, cols); break;
	default: arith_base(op, o, a, a0, a1, b, b0, b1, rows, cols);
	}
}
static void odmn_vmath(int f, float *o, const float *x, ptrdiff_t n) {
	switch (level * 3 + f) {
	case 0: vexp_base(o, x, n); break;
	case 1: vsigmoid_base(o, x, n); break;
	case 2: vsoftplus_base(o, x, n); break;
	case 3: vexp_avx2(o, x, n); break;
	case 4: vsigmoid_avx2(o, x, n); break;
	case 5: vsoftplus_avx2(o, x, n); break;
	case 6: vexp_avx512(o, x, n); break;
	case 7: vsigmoid_avx512(o, x, n); break;
	default: vsoftplus_avx512(o, x, n);
	}
}
static void odmn_embedsum(float *o, const float *tab, const int32_t *ent, const float *bias,
		ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t h, int relu) {
	switch (level) {
	case 2: embedsum_avx512(o, tab, ent, bias, rows, cols, h, relu); break;
	case 1: embedsum_avx2(o, tab, ent, bias, rows, cols, h, relu); break;
	default: embedsum_base(o, tab, ent, bias, rows, cols, h, relu);
	}
}
static void odmn_colsum(float *o, const float *g, ptrdiff_t rows, ptrdiff_t cols) {
	switch (level) { case 2: colsum_avx512(o, g, rows, cols); break; case 1: colsum_avx2(o, g, rows, cols); break; default: colsum_base(o, g, rows, cols); }
}
*/
import "C"

import "unsafe"

// cKernelMin is the fewest elements for which a C kernel is called (below
// it the Go loop is quicker than the cgo call).
const cKernelMin = 256

// SIMDLevel names the vector instructions the C kernels use.
func SIMDLevel() string {
	return [...]string{"none", "avx2", "avx512"}[C.odmn_simd_level()]
}

func init() { C.odmn_simd_level() }

func fp(x []float32) *C.float { return (*C.float)(unsafe.Pointer(unsafe.SliceData(x))) }

func reluF32(o, x []float32) {
	if len(o) < cKernelMin {
		reluGo(o, x)
		return
	}
	C.odmn_relu(fp(o), fp(x), C.ptrdiff_t(len(o)))
}

func reluGradF32(o, g, x []float32) {
	if len(o) < cKernelMin {
		reluGradGo(o, g, x)
		return
	}
	C.odmn_relugrad(fp(o), fp(g), fp(x), C.ptrdiff_t(len(o)))
}

// arith2D computes o[r*cols+j] = a[r*a0+j*a1] op b[r*b0+j*b1].
func arith2D(op int, o, a []float32, a0, a1 int, b []float32, b0, b1 int, rows, cols int) {
	if rows*cols < cKernelMin {
		arith2DGo(op, o, a, a0, a1, b, b0, b1, rows, cols)
		return
	}
	C.odmn_arith(C.int(op), fp(o), fp(a), C.ptrdiff_t(a0), C.ptrdiff_t(a1), fp(b), C.ptrdiff_t(b0), C.ptrdiff_t(b1),
		C.ptrdiff_t(rows), C.ptrdiff_t(cols))
}

// vexpFast says whether vmathF32 is vectorized (Softmax then takes one
// exp pass over the tensor).
const vexpFast = true

// Vector math functions of vmathF32.
const (
	mathExp = iota
	mathSigmoid
	mathSoftplus
)

// vmathF32 applies exp, sigmoid or softplus elementwise; small sizes take
// the Go (float64) function f.
func vmathF32(fn int, o, x []float32, f func(float32) float32) {
	if len(o) < cKernelMin/4 {
		for i, v := range x[:len(o)] {
			o[i] = f(v)
		}
		return
	}
	C.odmn_vmath(C.int(fn), fp(o), fp(x), C.ptrdiff_t(len(o)))
}

// colSum sets o[j] to the sum over rows of g[r*cols+j].
func colSum(o, g []float32, rows, cols int) {
	if rows*cols < cKernelMin {
		colSumGo(o, g, rows, cols)
		return
	}
	C.odmn_colsum(fp(o), fp(g), C.ptrdiff_t(rows), C.ptrdiff_t(cols))
}

// embedSum: see EmbedSum.
func embedSum(o, tab []float32, ent []int32, bias []float32, rows, cols, h int, relu bool) {
	if rows*h < cKernelMin {
		embedSumGo(o, tab, ent, bias, rows, cols, h, relu)
		return
	}
	var bp *C.float
	if bias != nil {
		bp = fp(bias)
	}
	r := C.int(0)
	if relu {
		r = 1
	}
	C.odmn_embedsum(fp(o), fp(tab), (*C.int32_t)(unsafe.Pointer(unsafe.SliceData(ent))), bp,
		C.ptrdiff_t(rows), C.ptrdiff_t(cols), C.ptrdiff_t(h), r)
}

// bucketize: see Bucketize. Only the AVX-512 compare-and-count beats the
// Go loop; elsewhere the Go loop runs.
func bucketize(o []int64, x []float32, n, k int, bounds []float32, kb, nb int) {
	if C.odmn_simd_level() != 2 || n*max(k, kb) < cKernelMin/4 {
		bucketizeGo(o, x, n, k, bounds, kb, nb)
		return
	}
	C.bucketize_avx512((*C.int64_t)(unsafe.Pointer(unsafe.SliceData(o))), fp(x), C.ptrdiff_t(n), C.ptrdiff_t(k),
		fp(bounds), C.ptrdiff_t(kb), C.ptrdiff_t(nb))
}
