package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// AdamF32 (the C kernel in the OpenBLAS build) gives the Go loop's bits.
func TestAdamF32MatchesGoLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 63, 64, 100, 1000, 4099} {
		mk := func(scale float64) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * scale)
			}
			return x
		}
		w, g, m, v := mk(1), mk(1e-2), mk(1e-3), mk(1e-3)
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i])))
		}
		g[0] = 0
		w2, m2, v2 := append([]float32{}, w...), append([]float32{}, m...), append([]float32{}, v...)
		for step := 0; step < 3; step++ {
			AdamF32(w, g, m, v, 1e-3, 1e-8, 0.9, 0.999)
			adamGo(w2, g, m2, v2, 1e-3, 1e-8, 0.9, 0.999)
		}
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || m[i] != m2[i] || v[i] != v2[i] {
				t.Fatalf("n=%d element %d: kernel w %v m %v v %v, Go loop w %v m %v v %v", n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
			}
		}
	}
}

func BenchmarkAdamF32(b *testing.B) {
	n := 1 << 16
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) * 0.01
	}
	b.SetBytes(int64(16 * n))
	for b.Loop() {
		AdamF32(w, g, m, v, 1e-3, 1e-8, 0.9, 0.999)
	}
}
