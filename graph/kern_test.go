package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The vectorized kernels (C in the OpenBLAS build) agree with the float64
// reference functions to a few float32 ulps, and keep NaN and the
// infinities.
func TestVectorMathMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1e-8, -1e-8, 20, -20, 87, -87, 88.7, -88, 89, -104, 200, -200,
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for i := 0; i < 20000; i++ {
		xs = append(xs, float32(r.NormFloat64()*10), float32(r.Float64()*180-90))
	}
	o := make([]float32, len(xs))
	for _, c := range []struct {
		name string
		fn   int
		f    func(float32) float32
	}{{"exp", mathExp, exp32}, {"sigmoid", mathSigmoid, sigmoid32}, {"softplus", mathSoftplus, softplus32}} {
		vmathF32(c.fn, o, xs, c.f)
		for i, x := range xs {
			want, got := c.f(x), o[i]
			if want != want || got != got {
				if want == want || got == got {
					t.Errorf("%s(%v) = %v, want %v", c.name, x, got, want)
				}
				continue
			}
			tol := 4e-7*math.Abs(float64(want)) + 1.2e-38
			if math.IsInf(float64(want), 0) || math.IsInf(float64(got), 0) {
				tol = 0
			}
			if d := math.Abs(float64(got - want)); d > tol && !(want == got) {
				t.Errorf("%s(%v) = %v, want %v (diff %g)", c.name, x, got, want, d)
			}
		}
	}
}

func TestReluAndArithKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 1000
	x, g := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], g[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	x[3] = float32(math.NaN())
	o := make([]float32, n)
	reluF32(o, x)
	for i, v := range x {
		if w := max(v, 0); v == v && o[i] != w || v != v && o[i] == o[i] {
			t.Fatalf("relu(%v) = %v", v, o[i])
		}
	}
	reluGradF32(o, g, x)
	for i, v := range x {
		w := float32(0)
		if v > 0 {
			w = g[i]
		}
		if o[i] != w {
			t.Fatalf("reluGrad at %v = %v, want %v", v, o[i], w)
		}
	}
	// [25, 40] op [40] (a row), [25, 1] (a column) and a scalar
	rows, cols := 25, 40
	for op := opAdd; op <= opDiv; op++ {
		for _, bs := range [][2]int{{0, 1}, {1, 0}, {0, 0}, {cols, 1}} {
			arith2D(op, o, x, cols, 1, g, bs[0], bs[1], rows, cols)
			for i := 0; i < rows; i++ {
				for j := 0; j < cols; j++ {
					a, b := x[i*cols+j], g[i*bs[0]+j*bs[1]]
					w := [...]float32{a + b, a - b, a * b, a / b}[op]
					if got := o[i*cols+j]; got != w && !(got != got && w != w) {
						t.Fatalf("op %d strides %v at %d,%d: %v, want %v", op, bs, i, j, got, w)
					}
				}
			}
		}
	}
	colSum(o[:cols], x[:rows*cols], rows, cols)
	for j := 0; j < cols; j++ {
		var w float32
		for i := 0; i < rows; i++ {
			w += x[i*cols+j]
		}
		if o[j] != w && !(w != w && o[j] != o[j]) {
			t.Fatalf("colSum[%d] = %v, want %v", j, o[j], w)
		}
	}
}
