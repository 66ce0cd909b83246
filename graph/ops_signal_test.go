package graph_test

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
)

func toF64(t *graph.Tensor) *graph.Tensor {
	v := make([]float64, t.Len())
	for i := range v {
		v[i] = t.Float(i)
	}
	return graph.FromSlice(t.Shape, v)
}

func scalarI64(v int64) *graph.Tensor { return graph.I64([]int{}, []int64{v}) }

// naiveDFT is the textbook O(n²) transform in float64 (the reference the
// FFT is checked against).
func naiveDFT(x []complex128, inverse bool) []complex128 {
	n := len(x)
	sign := -1.0
	if inverse {
		sign = 1
	}
	y := make([]complex128, n)
	for k := range y {
		for j, v := range x {
			y[k] += v * cmplx.Rect(1, sign*2*math.Pi*float64((k*j)%n)/float64(n))
		}
		if inverse {
			y[k] /= complex(float64(n), 0)
		}
	}
	return y
}

// TestDFTMatchesNaive checks the radix-2, direct and Bluestein paths on
// float64 complex input against the naive DFT, forward and inverse, for
// lengths around each switch-over.
func TestDFTMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 5, 8, 16, 31, 32, 33, 37, 64, 97, 100, 128, 255, 1000} {
		for _, inv := range []bool{false, true} {
			x := make([]float64, 2*n)
			xc := make([]complex128, n)
			for i := range xc {
				x[2*i], x[2*i+1] = r.NormFloat64(), r.NormFloat64()
				xc[i] = complex(x[2*i], x[2*i+1])
			}
			in := graph.FromSlice([]int{1, n, 2}, x)
			got := graphtest.MustEval(t, func(g *graph.Graph, xs []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.DFT(xs[0], nil, g.Const(scalarI64(1)), inv, false)}
			}, in)[0]
			want := naiveDFT(xc, inv)
			gv := graph.Data[float64](got)
			worst := 0.0
			for k, w := range want {
				worst = max(worst, cmplx.Abs(complex(gv[2*k], gv[2*k+1])-w))
			}
			if worst > 1e-9*math.Sqrt(float64(n)) {
				t.Errorf("n=%d inverse=%v: max error %.3g", n, inv, worst)
			}
		}
	}
}

// TestDFTOneSided checks RFFT against the full transform and IRFFT as its
// inverse (odd and even lengths, padded and truncated).
func TestDFTOneSided(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{6, 7, 40, 41} {
		x := graph.NewTensor(graph.Float64, []int{2, n, 1})
		xv := graph.Data[float64](x)
		for i := range xv {
			xv[i] = r.NormFloat64()
		}
		outs := graphtest.MustEval(t, func(g *graph.Graph, xs []*graph.Node) []*graph.Node {
			full := graph.DFT(xs[0], nil, nil, false, false)
			half := graph.DFT(xs[0], nil, nil, false, true)
			back := graph.DFT(half, g.Const(scalarI64(int64(n))), nil, true, true)
			return []*graph.Node{full, half, back}
		}, x)
		full, half, back := graph.Data[float64](outs[0]), graph.Data[float64](outs[1]), graph.Data[float64](outs[2])
		if want := []int{2, n/2 + 1, 2}; !graph.SameShape(outs[1].Shape, want) {
			t.Fatalf("n=%d: onesided shape %v, want %v", n, outs[1].Shape, want)
		}
		for b := 0; b < 2; b++ {
			for k := 0; k <= n/2; k++ {
				for c := 0; c < 2; c++ {
					if d := math.Abs(full[(b*n+k)*2+c] - half[(b*(n/2+1)+k)*2+c]); d > 1e-9 {
						t.Errorf("n=%d: onesided[%d][%d] differs by %g", n, b, k, d)
					}
				}
			}
		}
		if !graph.SameShape(outs[2].Shape, x.Shape) {
			t.Fatalf("n=%d: IRFFT shape %v, want %v", n, outs[2].Shape, x.Shape)
		}
		for i, v := range xv {
			if math.Abs(back[i]-v) > 1e-9 {
				t.Fatalf("n=%d: IRFFT(RFFT(x))[%d] = %v, want %v", n, i, back[i], v)
			}
		}
	}
}

const noAxis = 99

func TestSignalOpsAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(5, 6))
	real3 := graphtest.Rand(r, -1, 1, 2, 12, 5, 1)
	cplx := graphtest.Rand(r, -1, 1, 3, 10, 2)
	// A prime length above directMax (Bluestein), in float64: ONNX
	// Runtime's float32 transform of 97 points is itself off by ~5e-5.
	long := toF64(graphtest.Rand(r, -1, 1, 2, 97, 1))
	for _, c := range []struct {
		name       string
		x          *graph.Tensor
		n, axis    int64 // n 0, axis noAxis: absent
		inv, onesd bool
	}{
		{"real axis 1", real3, 0, 1, false, false},
		{"real axis 2", real3, 0, 2, false, false},
		{"real axis -2 padded", real3, 8, -2, false, false},
		{"real default axis", real3, 0, noAxis, false, false},
		{"real onesided truncated", real3, 9, 1, false, true},
		{"real onesided", real3, 0, 1, false, true},
		{"complex", cplx, 0, 1, false, false},
		{"complex inverse", cplx, 0, 1, true, false},
		{"complex inverse padded", cplx, 13, 1, true, false},
		{"complex axis 0", cplx, 0, 0, false, false},
		{"bluestein", long, 0, 1, false, false},
		{"bluestein onesided", long, 0, 1, false, true},
		// The one-sided inverse (IRFFT) is not compared: ONNX's shape
		// inference in ONNX Runtime refuses onesided=1 with inverse=1
		// (TestDFTOneSided checks it as RFFT's inverse).
	} {
		agreeWithORT(t, "DFT "+c.name, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			var n, axis *graph.Node
			if c.n != 0 {
				n = g.Const(scalarI64(c.n))
			}
			if c.axis != noAxis {
				axis = g.Const(scalarI64(c.axis))
			}
			return []*graph.Node{graph.DFT(in[0], n, axis, c.inv, c.onesd)}
		}, c.x)
	}
	sig := graphtest.Rand(r, -1, 1, 2, 50, 1)
	win := graphtest.Rand(r, 0, 1, 12)
	agreeWithORT(t, "STFT window", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.STFT(in[0], g.Const(scalarI64(5)), in[1], nil, true),
			graph.STFT(in[0], g.Const(scalarI64(7)), in[1], g.Const(scalarI64(12)), false),
			graph.STFT(in[0], g.Const(scalarI64(3)), nil, g.Const(scalarI64(10)), true),
		}
	}, sig, win)
	agreeWithORT(t, "windows", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		var outs []*graph.Node
		for _, n := range []int64{3, 7, 10} {
			for _, p := range []bool{true, false} {
				size := g.Const(scalarI64(n))
				outs = append(outs, graph.HannWindow(size, graph.Float32, p), graph.HammingWindow(size, graph.Float64, p),
					graph.BlackmanWindow(size, graph.Float32, p))
			}
		}
		// Size 1 (periodic: N = 1); the symmetric one divides 0 by 0 (NaN).
		outs = append(outs, graph.HammingWindow(g.Const(scalarI64(1)), graph.Float32, true))
		return append(outs, graph.Add(in[0], graph.HannWindow(g.Const(scalarI64(3)), graph.Float32, true)))
	}, graphtest.Rand(r, 1, 2, 1))
	agreeWithORT(t, "MelWeightMatrix", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		i32 := func(v int32) *graph.Node { return g.Const(graph.FromSlice([]int{}, []int32{v})) }
		f := func(v float32) *graph.Node { return g.Const(graph.ScalarF32(v)) }
		return []*graph.Node{
			graph.MelWeightMatrix(i32(8), i32(16), i32(8192), f(0), f(4096), graph.Float32),
			graph.MelWeightMatrix(i32(20), i32(512), i32(16000), f(100), f(7000), graph.Float64),
			graph.Add(in[0], graph.MelWeightMatrix(i32(3), i32(64), i32(22050), f(300), f(8000), graph.Float32)),
		}
	}, graphtest.Rand(r, 1, 2, 1))
}

func TestSignalOpsBadInput(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := graphtest.Rand(r, -1, 1, 2, 8, 1)
	cases := []struct {
		name, want string
		f          func(g *graph.Graph, in []*graph.Node) []*graph.Node
	}{
		{"DFT last axis", "last", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.DFT(in[0], nil, g.Const(scalarI64(2)), false, false)}
		}},
		{"DFT zero length", "dft_length", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.DFT(in[0], g.Const(scalarI64(0)), nil, false, false)}
		}},
		{"DFT onesided complex", "real input", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			c := graph.DFT(in[0], nil, nil, false, false)
			return []*graph.Node{graph.DFT(c, nil, nil, false, true)}
		}},
		{"DFT int axis", "axis", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.DFT(in[0], nil, g.Const(graph.I64([]int{2}, []int64{1, 1})), false, false)}
		}},
		{"STFT long frame", "exceeds", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.STFT(in[0], g.Const(scalarI64(1)), nil, g.Const(scalarI64(9)), true)}
		}},
		{"STFT zero step", "frame_step", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.STFT(in[0], g.Const(scalarI64(0)), nil, g.Const(scalarI64(4)), true)}
		}},
		{"STFT no length", "window or a frame_length", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.STFT(in[0], g.Const(scalarI64(1)), nil, nil, true)}
		}},
		{"window negative", "negative", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.HannWindow(g.Const(scalarI64(-3)), graph.Float32, true)}
		}},
		{"window bool", "output_datatype", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.HannWindow(g.Const(scalarI64(3)), graph.Bool, true)}
		}},
		{"mel out of range", "outside", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.MelWeightMatrix(g.Const(scalarI64(4)), g.Const(scalarI64(16)), g.Const(scalarI64(100)),
				g.Const(graph.ScalarF32(0)), g.Const(graph.ScalarF32(1000)), graph.Float32)}
		}},
	}
	for _, c := range cases {
		_, err := graphtest.Eval(c.f, x)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

// TestWindowValues checks the windows against their formulas at a few
// points, periodic and symmetric, and an integer output type.
func TestWindowValues(t *testing.T) {
	outs := graphtest.MustEval(t, func(g *graph.Graph, _ []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.HannWindow(g.Const(scalarI64(4)), graph.Float64, true),
			graph.HammingWindow(g.Const(scalarI64(5)), graph.Float64, false),
			graph.BlackmanWindow(g.Const(scalarI64(3)), graph.Float64, false),
			graph.HannWindow(g.Const(scalarI64(4)), graph.Int32, true),
		}
	})
	want := [][]float64{
		{0, 0.5, 1, 0.5},
		{2.0 / 23, 25.0/46 - 21.0/46*math.Cos(math.Pi/2), 1, 25.0/46 - 21.0/46*math.Cos(3*math.Pi/2), 2.0 / 23},
		{0.42 - 0.5 + 0.08, 1, 0.42 - 0.5 + 0.08},
		{0, 0, 1, 0},
	}
	for i, w := range want {
		for j, v := range w {
			if got := outs[i].Float(j); math.Abs(got-v) > 1e-12 {
				t.Errorf("window %d[%d] = %v, want %v", i, j, got, v)
			}
		}
	}
}

// TestSignalFloat16 runs DFT and STFT on float16 input with an int32
// length: computed in float64 and rounded once, they agree with float32
// to float16's precision.
func TestSignalFloat16(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	x := graphtest.Rand(r, -1, 1, 1, 20, 1)
	h := make([]graph.Half, x.Len())
	for i, v := range x.F {
		h[i] = graph.F16(v)
		x.F[i] = h[i].Float32()
	}
	xh := graph.FromSlice(x.Shape, h)
	run := func(in *graph.Tensor) []*graph.Tensor {
		return graphtest.MustEval(t, func(g *graph.Graph, xs []*graph.Node) []*graph.Node {
			n := g.Const(graph.FromSlice([]int{}, []int32{24}))
			fl := g.Const(graph.FromSlice([]int{}, []int32{8}))
			return []*graph.Node{graph.DFT(xs[0], n, nil, false, true), graph.STFT(xs[0], g.Const(scalarI64(4)), nil, fl, false)}
		}, in)
	}
	want, got := run(x), run(xh)
	for k, shape := range [][]int{{1, 13, 2}, {1, 4, 8, 2}} {
		if !graph.SameShape(want[k].Shape, shape) || !graph.SameShape(got[k].Shape, shape) {
			t.Fatalf("output %d: shapes %v and %v, want %v", k, want[k].Shape, got[k].Shape, shape)
		}
		for i := range want[k].F {
			w, g := float64(want[k].F[i]), got[k].Float(i)
			if math.Abs(w-g) > 2e-3*math.Max(1, math.Abs(w)) {
				t.Fatalf("output %d: float16 [%d] = %v, float32 %v", k, i, g, w)
			}
		}
	}
}
