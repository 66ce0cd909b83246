package metrics

import "slices"

// pair is one user's value and index. Sorting pairs instead of indices keeps
// the comparisons cache-friendly on millions of users.
type pair struct {
	v float64
	i int32
}

// fillPairs writes (v[j], j) into p[:len(v)] and returns that slice.
func fillPairs(p []pair, v []float64) []pair {
	p = p[:len(v)]
	for j, x := range v {
		p[j] = pair{x, int32(j)}
	}
	return p
}

// sortDesc sorts by value descending, ties by index ascending, so the order
// is fully deterministic. (The metrics built on it average over ties and do
// not depend on the tie order; the rule only fixes which user sits where.)
func sortDesc(p []pair) {
	slices.SortFunc(p, func(a, b pair) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	})
}

// sortedPairs allocates and sorts the pairs of v (stand-alone functions).
func sortedPairs(v []float64) []pair {
	p := fillPairs(make([]pair, len(v)), v)
	sortDesc(p)
	return p
}

// blockEnd returns the end of the block of values equal to p[a].v.
func blockEnd(p []pair, a int) int {
	b := a + 1
	for b < len(p) && p[b].v == p[a].v {
		b++
	}
	return b
}
