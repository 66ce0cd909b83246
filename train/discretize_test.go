package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	g "github.com/odmn/odmn/graph"
)

// The fused Discretize kernel counts the bounds <= x whatever path it
// takes: a few sorted bounds (a branch-free count), many (a search),
// unsorted ones or NaN padding in the middle (a linear count).
func TestDiscretizeKernelPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, nb := range []int{1, 5, 32, 33, 100} {
		for _, sorted := range []bool{true, false} {
			const n, k = 50, 3
			x := g.NewTensor(g.Float32, []int{n, k})
			for i := range x.F {
				x.F[i] = float32(r.NormFloat64() * 2)
			}
			x.F[4] = float32(math.NaN())
			bounds := g.NewTensor(g.Float32, []int{k, nb})
			for c := 0; c < k; c++ {
				row := bounds.F[c*nb : (c+1)*nb]
				for j := range row {
					row[j] = float32(r.NormFloat64() * 2)
				}
				if sorted {
					slices.Sort(row)
					if c == 1 && nb > 2 { // NaN padding at the end
						row[nb-1] = float32(math.NaN())
					}
				}
				if nb > 1 {
					x.F[7*k+c] = row[nb/2] // a value on a bound
				}
			}
			out := g.NewTensor(g.Int64, []int{n, k})
			if err := discretizeKernel([]*g.Tensor{x, bounds}, nil, []*g.Tensor{out}); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				for c := 0; c < k; c++ {
					v := x.F[i*k+c]
					want := int64(0)
					if v == v {
						want = 1
						for _, b := range bounds.F[c*nb : (c+1)*nb] {
							if v >= b {
								want++
							}
						}
					}
					if got := out.I[i*k+c]; got != want {
						t.Fatalf("%d bounds (sorted %v): row %d column %d, x %v: got %d, want %d", nb, sorted, i, c, v, got, want)
					}
				}
			}
		}
	}
}
