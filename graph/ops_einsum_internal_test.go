package graph

import (
	"math/rand/v2"
	"testing"
)

// TestEinsumPathsAgree compares the batched-GEMM path with the direct
// fallback (which the kernel only takes for huge intermediates) on random
// equations over random operands, in float32 and int64.
func TestEinsumPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	letters := "abcdeAB"
	for n := 0; n < 300; n++ {
		nops := 1 + r.IntN(3)
		size := map[byte]int{}
		for i := 0; i < len(letters); i++ {
			size[letters[i]] = 1 + r.IntN(3)
		}
		var terms []string
		var shapes [][]int
		used := map[byte]bool{}
		for o := 0; o < nops; o++ {
			rank := r.IntN(4)
			var tm []byte
			var sh []int
			for k := 0; k < rank; k++ {
				c := letters[r.IntN(len(letters))]
				tm = append(tm, c)
				sh = append(sh, size[c])
				used[c] = true
			}
			terms = append(terms, string(tm))
			shapes = append(shapes, sh)
		}
		eq := ""
		for i, tm := range terms {
			if i > 0 {
				eq += ","
			}
			eq += tm
		}
		if r.IntN(2) == 0 {
			var out []byte
			for c := range used {
				if r.IntN(2) == 0 {
					out = append(out, c)
				}
			}
			eq += "->" + string(out)
		}
		ranks := make([]int, nops)
		for i, s := range shapes {
			ranks[i] = len(s)
		}
		e, err := parseEinsum(eq, ranks)
		if err != nil {
			t.Fatalf("%s: %v", eq, err)
		}
		sz, err := e.labelSizes(shapes)
		if err != nil {
			t.Fatalf("%s: %v", eq, err)
		}
		check := func(name string, pairs func() (a, b []float64)) {
			a, b := pairs()
			if len(a) != len(b) {
				t.Fatalf("%s %s: %d vs %d values", name, eq, len(a), len(b))
			}
			for i := range a {
				if d := a[i] - b[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("%s %s [%d]: GEMM path %v, direct %v", name, eq, i, a[i], b[i])
				}
			}
		}
		outLen := 1
		for _, c := range e.out {
			outLen *= sz[c]
		}
		check("float32", func() (a, b []float64) {
			views := make([]einView[float32], nops)
			for i, s := range shapes {
				d := make([]float32, Size(s))
				for j := range d {
					d[j] = r.Float32()*2 - 1
				}
				views[i], _ = newEinView(d, s, e.in[i], sz)
			}
			p, ok := einsumPairs(views, e.out, 1<<20)
			if !ok {
				t.Fatalf("%s: GEMM path refused", eq)
			}
			q := make([]float32, outLen)
			einsumDirect(views, e.out, sz, q)
			for i := range p {
				a, b = append(a, float64(p[i])), append(b, float64(q[i]))
			}
			return a, b
		})
		check("int64", func() (a, b []float64) {
			views := make([]einView[int64], nops)
			for i, s := range shapes {
				d := make([]int64, Size(s))
				for j := range d {
					d[j] = r.Int64N(7) - 3
				}
				views[i], _ = newEinView(d, s, e.in[i], sz)
			}
			p, _ := einsumPairs(views, e.out, 1<<20)
			q := make([]int64, outLen)
			einsumDirect(views, e.out, sz, q)
			for i := range p {
				a, b = append(a, float64(p[i])), append(b, float64(q[i]))
			}
			return a, b
		})
	}
}
