//go:build cgo && !noopenblas

package graph

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
#include <stddef.h>
#include <math.h>
#include <immintrin.h>

// The Go loop's arithmetic exactly: no fused multiply-adds (each product
// rounded to float32 before the sum), correctly rounded square roots and
// divisions, in the same order. The vector loops use intrinsics because
// GCC does not vectorize sqrtf while it may set errno.
#pragma GCC optimize("fp-contract=off")

static void adam_tail(float *w, const float *g, float *m, float *v, ptrdiff_t j, ptrdiff_t n,
		float step, float eps, float b1, float b2) {
	float c1 = 1.0f - b1, c2 = 1.0f - b2;
	for (; j < n; j++) {
		float gj = g[j];
		float mj = b1 * m[j] + c1 * gj;
		float vj = b2 * v[j] + c2 * gj * gj;
		m[j] = mj;
		v[j] = vj;
		w[j] -= step * mj / (sqrtf(vj) + eps);
	}
}

__attribute__((target("avx512f")))
static void adam_avx512(float *w, const float *g, float *m, float *v, ptrdiff_t n,
		float step, float eps, float b1, float b2) {
	__m512 B1 = _mm512_set1_ps(b1), C1 = _mm512_set1_ps(1.0f - b1);
	__m512 B2 = _mm512_set1_ps(b2), C2 = _mm512_set1_ps(1.0f - b2);
	__m512 S = _mm512_set1_ps(step), E = _mm512_set1_ps(eps);
	ptrdiff_t j = 0;
	for (; j + 16 <= n; j += 16) {
		__m512 gj = _mm512_loadu_ps(g + j);
		__m512 mj = _mm512_add_ps(_mm512_mul_ps(B1, _mm512_loadu_ps(m + j)), _mm512_mul_ps(C1, gj));
		__m512 vj = _mm512_add_ps(_mm512_mul_ps(B2, _mm512_loadu_ps(v + j)), _mm512_mul_ps(_mm512_mul_ps(C2, gj), gj));
		_mm512_storeu_ps(m + j, mj);
		_mm512_storeu_ps(v + j, vj);
		__m512 u = _mm512_div_ps(_mm512_mul_ps(S, mj), _mm512_add_ps(_mm512_sqrt_ps(vj), E));
		_mm512_storeu_ps(w + j, _mm512_sub_ps(_mm512_loadu_ps(w + j), u));
	}
	adam_tail(w, g, m, v, j, n, step, eps, b1, b2);
}

__attribute__((target("avx2")))
static void adam_avx2(float *w, const float *g, float *m, float *v, ptrdiff_t n,
		float step, float eps, float b1, float b2) {
	__m256 B1 = _mm256_set1_ps(b1), C1 = _mm256_set1_ps(1.0f - b1);
	__m256 B2 = _mm256_set1_ps(b2), C2 = _mm256_set1_ps(1.0f - b2);
	__m256 S = _mm256_set1_ps(step), E = _mm256_set1_ps(eps);
	ptrdiff_t j = 0;
	for (; j + 8 <= n; j += 8) {
		__m256 gj = _mm256_loadu_ps(g + j);
		__m256 mj = _mm256_add_ps(_mm256_mul_ps(B1, _mm256_loadu_ps(m + j)), _mm256_mul_ps(C1, gj));
		__m256 vj = _mm256_add_ps(_mm256_mul_ps(B2, _mm256_loadu_ps(v + j)), _mm256_mul_ps(_mm256_mul_ps(C2, gj), gj));
		_mm256_storeu_ps(m + j, mj);
		_mm256_storeu_ps(v + j, vj);
		__m256 u = _mm256_div_ps(_mm256_mul_ps(S, mj), _mm256_add_ps(_mm256_sqrt_ps(vj), E));
		_mm256_storeu_ps(w + j, _mm256_sub_ps(_mm256_loadu_ps(w + j), u));
	}
	adam_tail(w, g, m, v, j, n, step, eps, b1, b2);
}

static int adam_level = -1;

static void odmn_adam_init(void) {
	__builtin_cpu_init();
	adam_level = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
}

static void odmn_adam(float *w, const float *g, float *m, float *v, ptrdiff_t n,
		float step, float eps, float b1, float b2) {
	switch (adam_level) {
	case 2: adam_avx512(w, g, m, v, n, step, eps, b1, b2); break;
	case 1: adam_avx2(w, g, m, v, n, step, eps, b1, b2); break;
	default: adam_tail(w, g, m, v, 0, n, step, eps, b1, b2);
	}
}
*/
import "C"

func init() { C.odmn_adam_init() }

func adamF32(w, g, m, v []float32, step, eps, b1, b2 float32) {
	C.odmn_adam(fp(w), fp(g), fp(m), fp(v), C.ptrdiff_t(len(g)), C.float(step), C.float(eps), C.float(b1), C.float(b2))
}
