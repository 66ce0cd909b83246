package graph

import "fmt"

// PackedB is the B operand of products that reuse it (a layer's constant
// weights), packed once in the AVX-512 kernel's panel layout: the kernel
// then skips packing B on every call, which matters when a batch is run
// in small row chunks. SgemmPacked gives SgemmBias's bits.
type PackedB struct {
	k, n int
	data []float32
}

// PackB packs op(B) (k×n; B stored with row stride ldb, transposed when
// transB) for SgemmPacked. It returns nil where the AVX-512 kernel is not
// in use (OpenBLAS, the gonum build): callers then call SgemmBias.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	if !packedGEMM() || k < 1 || n < 1 {
		return nil
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	checkMatrix("B", b, rb, cb, ldb)
	return &PackedB{k: k, n: n, data: packBAll(transB, k, n, b, ldb)}
}

// Dims are op(B)'s rows and columns.
func (p *PackedB) Dims() (k, n int) { return p.k, p.n }

// SgemmPacked is SgemmBias(transA, false, m, n, k, alpha, a, lda, B, ...,
// bias, relu, c, ldc) for the op(B) that pb holds (k×n), with the same
// bits; alpha must not be 0.
func SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, bias []float32, relu bool, c []float32, ldc int) {
	k, n := pb.k, pb.n
	if m == 0 {
		return
	}
	if alpha == 0 {
		panic("graph: SgemmPacked with alpha 0")
	}
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("graph: SgemmPacked: bias of %d values for %d columns", len(bias), n))
	}
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	checkMatrix("A", a, ra, ca, lda)
	checkMatrix("C", c, m, n, ldc)
	counted(m, n, k, func() bool {
		run := func(lo, hi int) {
			oa := lo * lda
			if transA {
				oa = lo
			}
			sgemm512Packed(transA, hi-lo, n, k, alpha, a[oa:], lda, pb.data, bias, relu, c[lo*ldc:], ldc)
		}
		parts := min(Threads(), m/minBlock)
		if parts < 2 || 2*m*n*k < parallelFlops {
			run(0, m)
		} else {
			inParts(m, parts, run)
		}
		return true
	})
}
