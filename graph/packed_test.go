package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A product with B packed once gives SgemmBias's bits, across the slab
// (k > 256), column-block (n > 512) and narrow-panel (n <= 16) edges,
// both A layouts, both B layouts, bias or none, Relu or none, split over
// threads or not. Where the AVX-512 kernel is not in use PackB packs
// nothing and callers keep SgemmBias.
func TestSgemmPacked(t *testing.T) {
	if !packedGEMM() {
		if PackB(false, 4, 4, make([]float32, 16), 4) != nil {
			t.Fatal("PackB packed without the AVX-512 kernel")
		}
		return
	}
	r := rand.New(rand.NewPCG(61, 62))
	defer SetThreads(SetThreads(1))
	for _, th := range []int{1, 3} {
		SetThreads(th)
		for _, sh := range [][3]int{{37, 12, 64}, {300, 70, 300}, {9, 530, 33}, {1, 1, 1}, {129, 16, 257}, {64, 33, 8}} {
			m, n, k := sh[0], sh[1], sh[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					ar, ac := m, k
					if ta {
						ar, ac = k, m
					}
					br, bc := k, n
					if tb {
						br, bc = n, k
					}
					a := randSlice(r, ar*(ac+1))
					b := randSlice(r, br*(bc+2))
					bias := randSlice(r, n)
					pb := PackB(tb, k, n, b, bc+2)
					for _, bs := range [][]float32{nil, bias} {
						for _, relu := range []bool{false, true} {
							want := make([]float32, m*(n+1))
							got := make([]float32, m*(n+1))
							SgemmBias(ta, tb, m, n, k, 0.75, a, ac+1, b, bc+2, bs, relu, want, n+1)
							SgemmPacked(ta, m, 0.75, a, ac+1, pb, bs, relu, got, n+1)
							for i := range want {
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
									t.Fatalf("threads %d %dx%dx%d ta=%v tb=%v bias=%v relu=%v: C[%d] = %v, want %v", th, m, n, k, ta, tb, bs != nil, relu, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}
