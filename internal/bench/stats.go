package bench

import "slices"

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is the per-round ratios a[i]/b[i] with their median and range.
func ratio(of string, threads int, a, b []float64) Ratio {
	r := Ratio{Of: of, Threads: threads}
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			r.Rounds = append(r.Rounds, a[i]/b[i])
		}
	}
	if len(r.Rounds) > 0 {
		r.Median = median(r.Rounds)
		r.Min, r.Max = slices.Min(r.Rounds), slices.Max(r.Rounds)
	}
	return r
}

// amdahl fits Amdahl's law s(n) = 1 / (f + (1-f)/n) to a speedup s
// measured on n threads and returns the serial fraction f (clamped to
// [0, 1]) and the speedup it predicts on cores.
func amdahl(s float64, n, cores int) (serial, speedup float64) {
	if n < 2 || s <= 0 {
		return 1, 1
	}
	// 1/s = f + (1-f)/n  =>  f = (1/s - 1/n) / (1 - 1/n)
	serial = (1/s - 1/float64(n)) / (1 - 1/float64(n))
	serial = min(1, max(0, serial))
	return serial, 1 / (serial + (1-serial)/float64(cores))
}
