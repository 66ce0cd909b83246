package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The vector kernel counts as the Go loop does, for sorted and unsorted
// rows, NaN padding, ties, infinities, more than 16 bounds, and both
// broadcasts (one bounds row for every column, one column against every
// row).
func TestBucketize(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	nan := float32(math.NaN())
	for _, c := range []struct{ n, k, kb, nb int }{{300, 5, 5, 7}, {40, 3, 3, 40}, {70, 1, 4, 16}, {33, 6, 1, 17}, {9, 2, 2, 0}} {
		x := make([]float32, c.n*c.k)
		for i := range x {
			x[i] = float32(r.NormFloat64())
			switch r.IntN(8) {
			case 0:
				x[i] = nan
			case 1:
				x[i] = float32(math.Inf(2*r.IntN(2) - 1))
			case 2:
				x[i] = float32(r.IntN(3)) - 1 // ties with the bounds below
			}
		}
		b := make([]float32, c.kb*c.nb)
		for i := range b {
			b[i] = float32(r.IntN(5)) - 2
			if r.IntN(6) == 0 {
				b[i] = nan
			}
		}
		if c.nb > 0 {
			slices.Sort(b[:c.nb]) // one sorted row (NaN first)
		}
		cols := max(c.k, c.kb)
		got, want := make([]int64, c.n*cols), make([]int64, c.n*cols)
		if err := Bucketize(got, x, c.n, c.k, b, c.kb, c.nb); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < c.n; i++ {
			for col := 0; col < cols; col++ {
				v := x[i*c.k+min(col, c.k-1)]
				if v != v {
					continue
				}
				want[i*cols+col] = 1
				for _, bb := range b[min(col, c.kb-1)*c.nb : (min(col, c.kb-1)+1)*c.nb] {
					if v >= bb {
						want[i*cols+col]++
					}
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: got %v, want %v", c, got[:min(20, len(got))], want[:min(20, len(want))])
		}
	}
	if err := Bucketize(make([]int64, 6), make([]float32, 6), 3, 2, make([]float32, 9), 3, 3); err == nil {
		t.Error("2 columns against 3 bounds rows: no error")
	}
}
