package data

import (
	"math/bits"
	"math/rand/v2"
	"sort"
)

// rng is a seeded PCG (math/rand/v2's PCG-DXSM, whose output is fixed by its
// specification) with its own bounded-integer reduction, so that splits and
// samples depend only on the seed, not on the Go release.
type rng struct{ src *rand.PCG }

func newRNG(seed, stream uint64) *rng {
	return &rng{rand.NewPCG(seed, stream^0x6f646d6e64617461)} // "odmndata"
}

// below returns a uniform integer in [0, n), n > 0 (Lemire's method).
func (r *rng) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.src.Uint64(), n)
		}
	}
	return hi
}

// Split deterministically divides the row indices 0..n-1 into a training
// and a validation set: a seeded random permutation whose first
// round(valFrac*n) entries are the validation rows. Both results are
// sorted ascending (so a stream can pick them up in file order). valFrac
// must be in [0, 1]; Split panics otherwise.
func Split(n int, valFrac float64, seed uint64) (train, val []int) {
	if !(valFrac >= 0 && valFrac <= 1) || n < 0 {
		panic("data.Split: valFrac must be in [0, 1] and n >= 0")
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	r := newRNG(seed, 1)
	for i := n - 1; i > 0; i-- {
		j := int(r.below(uint64(i + 1)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	nv := int(valFrac*float64(n) + 0.5)
	val = append([]int{}, perm[:nv]...)
	train = append([]int{}, perm[nv:]...)
	sort.Ints(val)
	sort.Ints(train)
	return train, val
}
