package graph

import "fmt"

// Bucketize sets o[i·cols + c] (cols = max(k, kb)) to 0 where the value
// v = x[i·k + min(c, k-1)] is NaN, else to 1 plus the number of bounds b
// in row min(c, kb-1) of bounds (kb rows of nb) with v >= b; NaN bounds
// never count, and the rows need not be sorted. It is the bucket rule of
// odmn's Discretize function.
func Bucketize(o []int64, x []float32, n, k int, bounds []float32, kb, nb int) error {
	if n < 0 || k < 1 || kb < 1 || nb < 0 || k != kb && k != 1 && kb != 1 || len(x) != n*k || len(bounds) != kb*nb || len(o) != n*max(k, kb) {
		return fmt.Errorf("Bucketize: %d outputs, %d values for %dx%d, %d bounds for %dx%d", len(o), len(x), n, k, len(bounds), kb, nb)
	}
	if n > 0 {
		bucketize(o, x, n, k, bounds, kb, nb)
	}
	return nil
}
