package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// wantRunErr builds f over xs and runs it; the run must fail with an
// error containing substr.
func wantRunErr(t *testing.T, substr string, f func(g *graph.Graph, n []*graph.Node) []*graph.Node, xs ...*graph.Tensor) {
	t.Helper()
	_, err := graphtest.Eval(f, xs...)
	if err == nil || !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %v, want one containing %q", err, substr)
	}
}

// The examples of ONNX's NegativeLogLikelihoodLoss documentation.
func TestNegativeLogLikelihoodLoss(t *testing.T) {
	in := []float64{1, 2, 2, 2, 3, 2, 0, 1, 2, 2, 1, 2} // N=2, C=3, d1=2
	w := []float64{0.2, 0.3, 0.1}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64, graph.Float16} {
		x := fromF64(dt, []int{2, 3, 2}, in)
		tgt := graph.I64([]int{2, 2}, []int64{2, 1, 0, 2})
		wt := fromF64(dt, []int{3}, w)
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{
				graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, graph.Attrs{"reduction": "none"}),
				graph.NegativeLogLikelihoodLoss(n[0], n[1], n[2], graph.Attrs{"reduction": "sum"}),
				graph.NegativeLogLikelihoodLoss(n[0], n[1], n[2], nil),
				graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, nil),
			}
		}, x, tgt, wt)
		tol := 1e-6
		if dt == graph.Float16 {
			tol = 2e-3
		}
		if out[0].DType != dt || !graph.SameShape(out[0].Shape, []int{2, 2}) || len(out[1].Shape) != 0 {
			t.Fatalf("%s: outputs %s%v and %v", dt, out[0].DType, out[0].Shape, out[1].Shape)
		}
		near(t, "none "+dt.String(), out[0], []float64{-3, -2, 0, -2}, tol)
		near(t, "sum "+dt.String(), out[1], []float64{-1.1}, tol)
		near(t, "mean "+dt.String(), out[2], []float64{-1.1 / 0.7}, tol)
		near(t, "mean unweighted "+dt.String(), out[3], []float64{-7.0 / 4}, tol)
	}

	// ignore_index (negative here) drops a target from the sum and the
	// weight total; int32 targets.
	x := fromF64(graph.Float32, []int{2, 3, 2}, in)
	tgt := graph.NewTensor(graph.Int32, []int{2, 2})
	copy(graph.Data[int32](tgt), []int32{2, -1, 0, 2})
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, graph.Attrs{"reduction": "none", "ignore_index": int64(-1)}),
			graph.NegativeLogLikelihoodLoss(n[0], n[1], n[2], graph.Attrs{"ignore_index": int64(-1)}),
			graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, graph.Attrs{"ignore_index": int64(-1)}),
		}
	}, x, tgt, fromF64(graph.Float32, []int{3}, w))
	near(t, "ignored none", out[0], []float64{-3, 0, 0, -2}, 1e-6)
	near(t, "ignored weighted mean", out[1], []float64{(-0.3 - 0 - 0.2) / 0.4}, 1e-6)
	near(t, "ignored mean", out[2], []float64{-5.0 / 3}, 1e-6)

	// Every target ignored: the mean is 0/0 (NaN, as in ONNX Runtime).
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, graph.Attrs{"ignore_index": int64(7)})}
	}, x, ti(dims(2, 2), 7, 7, 7, 7))
	if v := out[0].Float(0); v == v {
		t.Errorf("all ignored: mean %v, want NaN", v)
	}

	// (N, C) input: one class per sample.
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, graph.Attrs{"reduction": "none"})}
	}, tf(dims(2, 3), 1, 2, 3, 4, 5, 6), ti(dims(2), 1, 0))
	near(t, "2-D", out[0], []float64{-2, -4}, 0)

	wantRunErr(t, "target value 3 out of range", func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, nil)}
	}, x, ti(dims(2, 2), 0, 3, 1, 1))
	wantRunErr(t, "target value 5 out of range", func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.NegativeLogLikelihoodLoss(n[0], n[1], nil, graph.Attrs{"ignore_index": int64(4)})}
	}, x, ti(dims(2, 2), 0, 4, 5, 1))
	for _, c := range []struct {
		err string
		f   func(g *graph.Graph) *graph.Node
	}{
		{"target has shape [2 3]", func(g *graph.Graph) *graph.Node {
			return graph.NegativeLogLikelihoodLoss(g.Input("x", graph.Float32, 2, 3, 2), g.Input("t", graph.Int64, 2, 3), nil, nil)
		}},
		{"want rank 2", func(g *graph.Graph) *graph.Node {
			return graph.NegativeLogLikelihoodLoss(g.Input("x", graph.Float32, 2, 3, 2), g.Input("t", graph.Int64, 2), nil, nil)
		}},
		{"weight must have shape [3]", func(g *graph.Graph) *graph.Node {
			return graph.NegativeLogLikelihoodLoss(g.Input("x", graph.Float32, 2, 3), g.Input("t", graph.Int64, 2), g.Input("w", graph.Float32, 2), nil)
		}},
		{"target must be int32 or int64", func(g *graph.Graph) *graph.Node {
			return graph.NegativeLogLikelihoodLoss(g.Input("x", graph.Float32, 2, 3), g.Input("t", graph.Float32, 2), nil, nil)
		}},
		{"input must be a float tensor", func(g *graph.Graph) *graph.Node {
			return graph.NegativeLogLikelihoodLoss(g.Input("x", graph.Int64, 2, 3), g.Input("t", graph.Int64, 2), nil, nil)
		}},
		{`reduction "avg"`, func(g *graph.Graph) *graph.Node {
			return graph.NegativeLogLikelihoodLoss(g.Input("x", graph.Float32, 2, 3), g.Input("t", graph.Int64, 2), nil, graph.Attrs{"reduction": "avg"})
		}},
		{"rank 2 or more", func(g *graph.Graph) *graph.Node {
			return graph.NegativeLogLikelihoodLoss(g.Input("x", graph.Float32, 3), g.Input("t", graph.Int64), nil, nil)
		}},
	} {
		wantBuildErr(t, c.err, c.f)
	}
}

func TestSoftmaxCrossEntropyLoss(t *testing.T) {
	// N=2, C=3, d1=2; labels with one ignored (ignore_index 1 is a class).
	xv := []float64{0.5, -1, 2, 0, 1, 3, -2, 4, 0, 0, 1, -1}
	lab := []int64{2, 1, 0, 2}
	w := []float64{0.5, 2, 1}
	logp := make([]float64, 12)
	for b := 0; b < 2; b++ {
		for j := 0; j < 2; j++ {
			var s float64
			for c := 0; c < 3; c++ {
				s += math.Exp(xv[b*6+c*2+j])
			}
			for c := 0; c < 3; c++ {
				logp[b*6+c*2+j] = xv[b*6+c*2+j] - math.Log(s)
			}
		}
	}
	var none []float64
	var sum, wsum float64
	for k, l := range lab {
		b, j := k/2, k%2
		v := -logp[b*6+int(l)*2+j] * w[l]
		if l == 1 {
			v = 0
		} else {
			wsum += w[l]
		}
		none = append(none, v)
		sum += v
	}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64, graph.Float16} {
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			a := graph.Attrs{"ignore_index": int64(1)}
			l1, lp := graph.SoftmaxCrossEntropyLoss(n[0], n[1], n[2], graph.Attrs{"ignore_index": int64(1), "reduction": "none"})
			l2, _ := graph.SoftmaxCrossEntropyLoss(n[0], n[1], n[2], graph.Attrs{"ignore_index": int64(1), "reduction": "sum"})
			l3, _ := graph.SoftmaxCrossEntropyLoss(n[0], n[1], n[2], a)
			return []*graph.Node{l1, lp, l2, l3}
		}, fromF64(dt, []int{2, 3, 2}, xv), graph.I64([]int{2, 2}, lab), fromF64(dt, []int{3}, w))
		tol := 1e-6
		if dt == graph.Float16 {
			tol = 3e-3
		}
		if !graph.SameShape(out[1].Shape, []int{2, 3, 2}) || out[1].DType != dt {
			t.Fatalf("log_prob %s%v", out[1].DType, out[1].Shape)
		}
		near(t, "none "+dt.String(), out[0], none, tol)
		near(t, "log_prob "+dt.String(), out[1], logp, tol)
		near(t, "sum "+dt.String(), out[2], []float64{sum}, tol)
		near(t, "mean "+dt.String(), out[3], []float64{sum / wsum}, tol)
	}
	// Large scores: the log-softmax must not overflow.
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		l, lp := graph.SoftmaxCrossEntropyLoss(n[0], n[1], nil, graph.Attrs{"reduction": "none"})
		return []*graph.Node{l, lp}
	}, tf(dims(1, 2), 1000, 0), ti(dims(1), 1))
	near(t, "large", out[0], []float64{1000}, 1e-6)
	near(t, "large log_prob", out[1], []float64{0, -1000}, 1e-6)
}

func TestHardmax(t *testing.T) {
	x := tf(dims(2, 3), 1, 3, 3, 5, -1, 5)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Hardmax(n[0], -1), graph.Hardmax(n[0], 0)}
	}, x)
	near(t, "axis -1", out[0], []float64{0, 1, 0, 1, 0, 0}, 0) // the first maximum
	near(t, "axis 0", out[1], []float64{0, 1, 0, 1, 0, 1}, 0)
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Hardmax(n[0], 1)}
	}, fromF64(graph.Float64, []int{1, 3}, []float64{1, math.NaN(), 2}))
	near(t, "NaN", out[0], []float64{0, 1, 0}, 0)
	wantBuildErr(t, "axis 2 out of range", func(g *graph.Graph) *graph.Node {
		return graph.Hardmax(g.Input("x", graph.Float32, 2, 3), 2)
	})
}

func TestLRN(t *testing.T) {
	// N=1, C=4, 1x2; size 3: channels c-1..c+1.
	xv := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.LRN(n[0], 3, 0.125, 0.75, 2), graph.LRN(n[0], 2, 0.25, 0.5, 1)}
	}, fromF64(graph.Float64, []int{1, 4, 1, 2}, xv))
	want := func(size int, alpha, beta, bias float64) []float64 {
		var r []float64
		for c := 0; c < 4; c++ {
			for j := 0; j < 2; j++ {
				var ss float64
				// floor((size-1)/2) before, ceil((size-1)/2) after.
				for i := c - (size-1)/2; i <= c+size/2; i++ {
					if i >= 0 && i < 4 {
						ss += xv[i*2+j] * xv[i*2+j]
					}
				}
				r = append(r, xv[c*2+j]/math.Pow(bias+alpha/float64(size)*ss, beta))
			}
		}
		return r
	}
	near(t, "size 3", out[0], want(3, 0.125, 0.75, 2), 1e-12)
	near(t, "size 2", out[1], want(2, 0.25, 0.5, 1), 1e-12)
	// Hand-checked value: c=0 with size 2 sums channels 0 and 1.
	if v := out[1].Float(0); math.Abs(v-1/math.Sqrt(1+0.125*(1+9))) > 1e-12 {
		t.Errorf("size 2, c=0: %v", v)
	}
	wantBuildErr(t, "size 0 must be positive", func(g *graph.Graph) *graph.Node {
		return graph.LRN(g.Input("x", graph.Float32, 1, 2, 2), 0, 1e-4, 0.75, 1)
	})
}

func TestMeanVarianceNormalization(t *testing.T) {
	xv := []float64{1, 2, 3, 4, 10, 10, 10, 10} // N=2, C=2, 1x2
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.MeanVarianceNormalization(n[0], nil),
			graph.MeanVarianceNormalization(n[0], []int64{-1}),
		}
	}, fromF64(graph.Float32, []int{2, 2, 1, 2}, xv))
	// Default axes 0, 2, 3: channel 0 holds 1, 2, 10, 10 and channel 1
	// holds 3, 4, 10, 10.
	stat := func(v ...float64) (m, s float64) {
		for _, e := range v {
			m += e
		}
		m /= float64(len(v))
		for _, e := range v {
			s += (e - m) * (e - m)
		}
		return m, math.Sqrt(s / float64(len(v)))
	}
	m0, s0 := stat(1, 2, 10, 10)
	m1, s1 := stat(3, 4, 10, 10)
	near(t, "per channel", out[0], []float64{(1 - m0) / s0, (2 - m0) / s0, (3 - m1) / s1, (4 - m1) / s1,
		(10 - m0) / s0, (10 - m0) / s0, (10 - m1) / s1, (10 - m1) / s1}, 1e-5)
	// Last axis: pairs; a constant pair gives 0, not NaN.
	near(t, "last axis", out[1], []float64{-1, 1, -1, 1, 0, 0, 0, 0}, 1e-5)
	wantBuildErr(t, "out of range", func(g *graph.Graph) *graph.Node {
		return graph.MeanVarianceNormalization(g.Input("x", graph.Float32, 2, 3), nil)
	})
	wantBuildErr(t, "repeats axis 1", func(g *graph.Graph) *graph.Node {
		return graph.MeanVarianceNormalization(g.Input("x", graph.Float32, 2, 3), []int64{1, -1})
	})
}

func TestGroupNormalization(t *testing.T) {
	// N=1, C=4, 3 elements per channel; 2 groups of 2 channels.
	xv := []float64{1, 2, 3, 4, 5, 6, -1, 0, 2, 8, 8, 8}
	scale := []float64{1, 2, 3, 4}
	bias := []float64{0, 0.5, -1, 1}
	var want []float64
	for g := 0; g < 2; g++ {
		grp := xv[g*6 : g*6+6]
		var m, v float64
		for _, e := range grp {
			m += e
		}
		m /= 6
		for _, e := range grp {
			v += (e - m) * (e - m)
		}
		sd := math.Sqrt(v/6 + 1e-5)
		for j, e := range grp {
			c := g*2 + j/3
			want = append(want, (e-m)/sd*scale[c]+bias[c])
		}
	}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64, graph.Float16} {
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.GroupNormalization(n[0], n[1], n[2], 2, 1e-5)}
		}, fromF64(dt, []int{1, 4, 3}, xv), fromF64(dt, []int{4}, scale), fromF64(dt, []int{4}, bias))
		tol := 1e-5
		if dt == graph.Float16 {
			tol = 5e-3
		}
		near(t, "GroupNormalization "+dt.String(), out[0], want, tol)
	}
	// One group is LayerNormalization over (C, ...); C groups is
	// InstanceNormalization.
	x := fromF64(graph.Float64, []int{1, 4, 3}, xv)
	ones, zeros := fromF64(graph.Float64, []int{4}, []float64{1, 1, 1, 1}), fromF64(graph.Float64, []int{4}, []float64{0, 0, 0, 0})
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.GroupNormalization(n[0], n[1], n[2], 4, 1e-5),
			graph.InstanceNormalization(n[0], n[1], n[2], 1e-5),
		}
	}, x, ones, zeros)
	near(t, "C groups", out[0], vals(out[1]), 1e-6)

	wantBuildErr(t, "num_groups 3 must be positive and divide the 4 channels", func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Float32, 1, 4, 3)
		s := g.Input("s", graph.Float32, 4)
		return graph.GroupNormalization(x, s, s, 3, 1e-5)
	})
	wantBuildErr(t, "scale must have shape [4] (one per channel)", func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Float32, 1, 4, 3)
		s := g.Input("s", graph.Float32, 2) // GroupNormalization-18's per-group form
		return graph.GroupNormalization(x, s, s, 2, 1e-5)
	})
	wantBuildErr(t, "stash_type 10", func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Float32, 1, 4, 3)
		s := g.Input("s", graph.Float32, 4)
		return graph.Apply1(graph.MustLookup("", "GroupNormalization"), graph.Attrs{"num_groups": int64(2), "stash_type": int64(10)}, x, s, s)
	})
}

func vals(t *graph.Tensor) []float64 {
	v := make([]float64, t.Len())
	for i := range v {
		v[i] = t.Float(i)
	}
	return v
}

func TestDet(t *testing.T) {
	x := fromF64(graph.Float64, []int{4, 3, 3}, []float64{
		2, 0, 0, 0, 3, 0, 0, 0, 4, // diagonal: 24
		0, 1, 0, 1, 0, 0, 0, 0, 1, // one swap: -1
		1, 2, 3, 4, 5, 6, 7, 8, 9, // singular: 0
		0, 2, 1, 3, -1, 2, 1, 1, 1, // needs pivoting: 0*(-3) - 2*(1) + 1*(4) = 2
	})
	for _, dt := range []graph.DType{graph.Float64, graph.Float32, graph.Float16} {
		xs := x
		if dt != graph.Float64 {
			xs = fromF64(dt, x.Shape, vals(x))
		}
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Det(n[0])}
		}, xs)
		if !graph.SameShape(out[0].Shape, []int{4}) || out[0].DType != dt {
			t.Fatalf("%s: shape %v", dt, out[0].Shape)
		}
		near(t, "Det "+dt.String(), out[0], []float64{24, -1, 0, 2}, 1e-5)
	}
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Det(n[0])}
	}, tf(dims(2, 2), 1, 2, 3, 4))
	if len(out[0].Shape) != 0 {
		t.Fatalf("2-D input: shape %v, want a scalar", out[0].Shape)
	}
	near(t, "2x2", out[0], []float64{-2}, 1e-6)
	wantBuildErr(t, "square matrices", func(g *graph.Graph) *graph.Node {
		return graph.Det(g.Input("x", graph.Float32, 2, 3))
	})
	wantBuildErr(t, "rank 2 or more", func(g *graph.Graph) *graph.Node {
		return graph.Det(g.Input("x", graph.Float32, 3))
	})
}

func TestDepthToSpace(t *testing.T) {
	// N=1, C=8, H=1, W=2, blocksize 2: C' = 2.
	const bs, c2, h, w = 2, 2, 1, 2
	x := seqF(1, 8, 1, 2)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.DepthToSpace(n[0], 2, "DCR"), graph.DepthToSpace(n[0], 2, "CRD")}
	}, x)
	// ONNX: DCR reads channel (b1*bs + b2)*C' + c, CRD c*bs*bs + b1*bs + b2.
	var dcr, crd []float64
	for c := 0; c < c2; c++ {
		for y := 0; y < h*bs; y++ {
			for xx := 0; xx < w*bs; xx++ {
				b1, b2 := y%bs, xx%bs
				at := func(ch int) float64 { return float64(ch*h*w + (y/bs)*w + xx/bs) }
				dcr = append(dcr, at((b1*bs+b2)*c2+c))
				crd = append(crd, at(c*bs*bs+b1*bs+b2))
			}
		}
	}
	if !graph.SameShape(out[0].Shape, []int{1, 2, 2, 4}) {
		t.Fatalf("shape %v", out[0].Shape)
	}
	near(t, "DCR", out[0], dcr, 0)
	near(t, "CRD", out[1], crd, 0)

	// SpaceToDepth inverts DepthToSpace in DCR mode, for any dtype.
	s := graph.Strings([]int{1, 1, 2, 4}, []string{"a", "b", "c", "d", "e", "f", "g", "h"})
	res := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		d := graph.SpaceToDepth(n[0], 2)
		return []*graph.Node{d, graph.DepthToSpace(d, 2, "DCR")}
	}, s)
	if !graph.SameShape(res[0].Shape, []int{1, 4, 1, 2}) || strings.Join(res[0].S, "") != "acbdegfh" || strings.Join(res[1].S, "") != "abcdefgh" {
		t.Fatalf("SpaceToDepth %v %v, back %v", res[0].Shape, res[0].S, res[1].S)
	}
	wantBuildErr(t, "not a multiple of blocksize² = 4", func(g *graph.Graph) *graph.Node {
		return graph.DepthToSpace(g.Input("x", graph.Float32, 1, 6, 2, 2), 2, "DCR")
	})
	wantBuildErr(t, `mode "RCD"`, func(g *graph.Graph) *graph.Node {
		return graph.DepthToSpace(g.Input("x", graph.Float32, 1, 4, 2, 2), 2, "RCD")
	})
	wantBuildErr(t, "multiples of blocksize 2", func(g *graph.Graph) *graph.Node {
		return graph.SpaceToDepth(g.Input("x", graph.Float32, 1, 4, 3, 2), 2)
	})
	wantBuildErr(t, "rank 4", func(g *graph.Graph) *graph.Node {
		return graph.SpaceToDepth(g.Input("x", graph.Float32, 4, 2, 2), 2)
	})
	wantBuildErr(t, "blocksize 0 must be positive", func(g *graph.Graph) *graph.Node {
		return graph.SpaceToDepth(g.Input("x", graph.Float32, 1, 4, 2, 2), 0)
	})
	wantBuildErr(t, "too large", func(g *graph.Graph) *graph.Node {
		return graph.DepthToSpace(g.Input("x", graph.Float32, 1, 1<<40, 1<<40, 2), 1<<20, "DCR")
	})
}

// seqF is a float32 tensor holding 0, 1, 2, ...
func seqF(shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape)
	for i := range t.F {
		t.F[i] = float32(i)
	}
	return t
}

// The examples of ONNX's ReverseSequence documentation.
func TestReverseSequence(t *testing.T) {
	x := seqF(4, 4)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReverseSequence(n[0], n[1], 1, 0)}
	}, x, ti(dims(4), 1, 2, 3, 4))
	near(t, "time axis 1", out[0], []float64{0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12}, 0)
	xt := tf(dims(4, 4), 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReverseSequence(n[0], n[1], 0, 1)}
	}, xt, ti(dims(4), 4, 3, 2, 1))
	near(t, "time axis 0", out[0], []float64{3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15}, 0)
	// Rank 3: the trailing axis moves with its (time, batch) entry.
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReverseSequence(n[0], n[1], 0, 1)}
	}, seqF(3, 1, 2), ti(dims(1), 2))
	near(t, "rank 3", out[0], []float64{2, 3, 0, 1, 4, 5}, 0)

	wantRunErr(t, "sequence length 5 out of range", func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReverseSequence(n[0], n[1], 0, 1)}
	}, x, ti(dims(4), 1, 5, 1, 1))
	wantBuildErr(t, "must be 0 and 1", func(g *graph.Graph) *graph.Node {
		return graph.ReverseSequence(g.Input("x", graph.Float32, 4, 4), g.Input("l", graph.Int64, 4), 1, 1)
	})
	wantBuildErr(t, "sequence_lens has 3 values for a batch of 4", func(g *graph.Graph) *graph.Node {
		return graph.ReverseSequence(g.Input("x", graph.Float32, 4, 4), g.Input("l", graph.Int64, 3), 0, 1)
	})
}

func TestMaxUnpool(t *testing.T) {
	// MaxPool then MaxUnpool keeps the maxima in place and zeroes the rest.
	xv := []float32{1, 5, 2, 0, 3, 4, 8, 6, 7, 1, 0, 2, 9, 3, 1, 4}
	attrs := graph.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}
	out := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		y, idx := graph.MaxPool(n[0], attrs)
		return []*graph.Node{
			graph.MaxUnpool(y, idx, nil, attrs),
			graph.MaxUnpool(y, idx, g.Const(graph.I64([]int{4}, []int64{1, 1, 5, 5})), attrs),
		}
	}, tf(dims(1, 1, 4, 4), xv...))
	near(t, "unpooled", out[0], []float64{0, 5, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 9, 0, 0, 4}, 0)
	// A larger output_shape pads at the end (ONNX's reference).
	if !graph.SameShape(out[1].Shape, []int{1, 1, 5, 5}) {
		t.Fatalf("output_shape: %v", out[1].Shape)
	}
	near(t, "output_shape", out[1], []float64{0, 5, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 4, 0, 0, 0, 0, 0, 0}, 0)

	// Pads shrink the unpooled shape: (2-1)*2 + 3 - 1 - 0 = 4.
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.MaxUnpool(n[0], n[1], nil, graph.Attrs{"kernel_shape": []int64{3}, "strides": []int64{2}, "pads": []int64{1, 0}})}
	}, tf(dims(1, 1, 2), 5, 6), ti(dims(1, 1, 2), 0, 3))
	near(t, "1-D pads", out[0], []float64{5, 0, 0, 6}, 0)

	unpool := func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.MaxUnpool(n[0], n[1], nil, attrs)}
	}
	wantRunErr(t, "index 16 out of range", unpool, tf(dims(1, 1, 1, 1), 1), ti(dims(1, 1, 1, 1), 16))
	wantRunErr(t, "index -1 out of range", unpool, tf(dims(1, 1, 1, 1), 1), ti(dims(1, 1, 1, 1), -1))
	wantBuildErr(t, "smaller than the unpooled shape", func(g *graph.Graph) *graph.Node {
		return graph.MaxUnpool(g.Input("x", graph.Float32, 1, 1, 2, 2), g.Input("i", graph.Int64, 1, 1, 2, 2),
			g.Const(graph.I64([]int{4}, []int64{1, 1, 3, 5})), attrs)
	})
	wantBuildErr(t, "output_shape has 3 values", func(g *graph.Graph) *graph.Node {
		return graph.MaxUnpool(g.Input("x", graph.Float32, 1, 1, 2, 2), g.Input("i", graph.Int64, 1, 1, 2, 2),
			g.Const(graph.I64([]int{3}, []int64{1, 1, 3})), attrs)
	})
	wantBuildErr(t, "I has shape", func(g *graph.Graph) *graph.Node {
		return graph.MaxUnpool(g.Input("x", graph.Float32, 1, 1, 2, 2), g.Input("i", graph.Int64, 1, 1, 2, 3), nil, attrs)
	})
	wantBuildErr(t, "kernel_shape [2 2] has 2 values", func(g *graph.Graph) *graph.Node {
		return graph.MaxUnpool(g.Input("x", graph.Float32, 1, 1, 2), g.Input("i", graph.Int64, 1, 1, 2), nil, attrs)
	})
	wantBuildErr(t, "negative", func(g *graph.Graph) *graph.Node {
		return graph.MaxUnpool(g.Input("x", graph.Float32, 1, 1, 1), g.Input("i", graph.Int64, 1, 1, 1), nil,
			graph.Attrs{"kernel_shape": []int64{1}, "pads": []int64{1, 1}})
	})
}

func TestLpPool(t *testing.T) {
	// 1-D, kernel 2, stride 1, pads 1 before: windows [pad, -3], [-3, 4],
	// [4, 0], [0, 2].
	x := tf(dims(1, 1, 4), -3, 4, 0, 2)
	at := func(p int64) graph.Attrs {
		return graph.Attrs{"kernel_shape": []int64{2}, "pads": []int64{1, 0}, "p": p}
	}
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.LpPool(n[0], at(1)), graph.LpPool(n[0], at(2)), graph.LpPool(n[0], at(3)),
			graph.LpPool(n[0], graph.Attrs{"kernel_shape": []int64{2}, "dilations": []int64{2}, "strides": []int64{2}, "ceil_mode": int64(1)}),
			graph.GlobalLpPool(n[0], 2), graph.GlobalLpPool(n[0], 1),
		}
	}, x)
	near(t, "p=1", out[0], []float64{3, 7, 4, 2}, 1e-6)
	near(t, "p=2", out[1], []float64{3, 5, 4, 2}, 1e-6)
	near(t, "p=3", out[2], []float64{3, math.Cbrt(27 + 64), 4, 2}, 1e-6)
	// Dilation 2, stride 2, ceil_mode: windows {-3, 0} and {0, past the end}.
	near(t, "dilated ceil", out[3], []float64{3, 0}, 1e-6)
	near(t, "global p=2", out[4], []float64{math.Sqrt(9 + 16 + 4)}, 1e-6)
	near(t, "global p=1", out[5], []float64{9}, 1e-6)
	wantBuildErr(t, "p 0 must be positive", func(g *graph.Graph) *graph.Node {
		return graph.LpPool(g.Input("x", graph.Float32, 1, 1, 4), graph.Attrs{"kernel_shape": []int64{2}, "p": int64(0)})
	})
	wantBuildErr(t, "kernel_shape is required", func(g *graph.Graph) *graph.Node {
		return graph.LpPool(g.Input("x", graph.Float32, 1, 1, 4), nil)
	})
	wantBuildErr(t, "rank 3 or more", func(g *graph.Graph) *graph.Node {
		return graph.GlobalLpPool(g.Input("x", graph.Float32, 1, 4), 2)
	})
}
