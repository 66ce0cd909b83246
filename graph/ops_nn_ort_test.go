package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// agreeWithORT builds a graph whose inputs are xs (named x0, x1, ...) and
// whose outputs are what build returns, runs it natively and in ONNX
// Runtime, and compares every output (atol 1e-5 + rtol 1e-4).
func agreeWithORT(t *testing.T, name string, build func(g *graph.Graph, in []*graph.Node) []*graph.Node, xs ...*graph.Tensor) {
	t.Helper()
	g := graph.New(name)
	in := make([]*graph.Node, len(xs))
	feed := map[string]*graph.Tensor{}
	for i, x := range xs {
		nm := fmt.Sprintf("x%d", i)
		in[i] = g.Input(nm, x.DType, x.Shape...)
		feed[nm] = x
	}
	var outs []*graph.Node
	if err := graph.Catch(func() { outs = build(g, in) }); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i, o := range outs {
		g.SetOutput(fmt.Sprintf("y%d", i), o)
	}
	want, got, _ := nativeAndORT(t, name, g, feed)
	for i := range outs {
		nm := fmt.Sprintf("y%d", i)
		w, o := want[nm], got[nm]
		if !graph.SameShape(w.Shape, o.Shape) {
			t.Errorf("%s %s: native shape %v, ORT %v", name, nm, w.Shape, o.Shape)
			continue
		}
		worst, nonzero := 0.0, false
		for j := 0; j < w.Len(); j++ {
			nonzero = nonzero || w.Float(j) != 0
			a, b := w.Float(j), o.Float(j)
			if d := math.Abs(a - b); d > 1e-5+1e-4*math.Abs(b) || a != a {
				t.Errorf("%s %s[%d]: native %v, ORT %v", name, nm, j, a, b)
				break
			}
			worst = math.Max(worst, math.Abs(a-b))
		}
		if !nonzero && w.Len() > 0 {
			t.Errorf("%s %s: every value is 0, the comparison proves nothing", name, nm)
		}
		t.Logf("%s %s %v: max |native-ORT| = %.3g", name, nm, w.Shape, worst)
	}
}

func ints(v ...int64) []int64 { return v }

func TestConvPoolAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(7, 8))
	x1 := graphtest.Rand(r, -1, 1, 2, 4, 9)    // N, C, L
	w1 := graphtest.Rand(r, -1, 1, 6, 2, 3)    // M, C/2, k
	x2 := graphtest.Rand(r, -1, 1, 2, 3, 7, 8) // N, C, H, W
	w2 := graphtest.Rand(r, -1, 1, 4, 3, 3, 2) // M, C, kh, kw
	b2 := graphtest.Rand(r, -1, 1, 4)
	x3 := graphtest.Rand(r, -1, 1, 1, 2, 4, 5, 3)
	w3 := graphtest.Rand(r, -1, 1, 2, 2, 2, 3, 2)
	cases := []struct {
		name  string
		attrs graph.Attrs
	}{
		{"default", nil},
		{"pads strides", graph.Attrs{"pads": ints(1, 0, 2, 1), "strides": ints(2, 1)}},
		{"dilations", graph.Attrs{"dilations": ints(2, 2)}},
		{"same upper", graph.Attrs{"auto_pad": "SAME_UPPER", "strides": ints(2, 3)}},
		{"same lower", graph.Attrs{"auto_pad": "SAME_LOWER", "strides": ints(2, 2)}},
		{"valid", graph.Attrs{"auto_pad": "VALID", "strides": ints(1, 2)}},
	}
	for _, c := range cases {
		agreeWithORT(t, "Conv2D "+c.name, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Conv(in[0], in[1], in[2], c.attrs)}
		}, x2, w2, b2)
	}
	agreeWithORT(t, "Conv1D groups", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.Conv(in[0], in[1], nil, graph.Attrs{"group": int64(2), "pads": ints(1, 2), "strides": ints(2)}),
			graph.Conv(in[0], in[1], nil, graph.Attrs{"group": int64(2), "strides": ints(2), "auto_pad": "SAME_UPPER"}),
			graph.Conv(in[0], in[1], nil, graph.Attrs{"group": int64(2), "dilations": ints(3)}),
		}
	}, x1, w1)
	wt := graphtest.Rand(r, -1, 1, 3, 2, 3, 2) // C, M/group, kh, kw
	for _, c := range []graph.Attrs{
		nil,
		{"strides": ints(2, 3), "pads": ints(1, 0, 0, 1), "output_padding": ints(1, 2)},
		{"dilations": ints(2, 1), "strides": ints(2, 2)},
		{"strides": ints(2, 2), "output_shape": ints(15, 17)},
	} {
		agreeWithORT(t, fmt.Sprintf("ConvTranspose %v", c), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.ConvTranspose(in[0], in[1], in[2], c)}
		}, x2, wt, graphtest.Rand(r, -1, 1, 2))
	}
	agreeWithORT(t, "ConvTranspose groups 1-D", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ConvTranspose(in[0], in[1], nil, graph.Attrs{"group": int64(2), "strides": ints(2)})}
	}, x1, graphtest.Rand(r, -1, 1, 4, 3, 3))
	agreeWithORT(t, "Conv3D", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Conv(in[0], in[1], nil, graph.Attrs{"pads": ints(1, 0, 1, 0, 1, 1)})}
	}, x3, w3)
	for _, c := range []graph.Attrs{
		{"kernel_shape": ints(3, 2)},
		{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "ceil_mode": int64(1)},
		{"kernel_shape": ints(2, 3), "pads": ints(1, 1, 1, 0), "dilations": ints(2, 1)},
		{"kernel_shape": ints(3, 3), "auto_pad": "SAME_LOWER", "strides": ints(2, 2)},
		{"kernel_shape": ints(3, 2), "pads": ints(1, 1, 1, 1), "storage_order": int64(1), "strides": ints(2, 2), "ceil_mode": int64(1)},
	} {
		agreeWithORT(t, fmt.Sprintf("MaxPool %v", c), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			y, idx := graph.MaxPool(in[0], c)
			return []*graph.Node{y, idx}
		}, x2)
		ac := graph.Attrs{}
		for k, v := range c {
			if k != "storage_order" {
				ac[k] = v
			}
		}
		for _, inc := range []int64{0, 1} {
			ac["count_include_pad"] = inc
			agreeWithORT(t, fmt.Sprintf("AveragePool %v", ac), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.AveragePool(in[0], ac)}
			}, x2)
		}
	}
	agreeWithORT(t, "global pools", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.GlobalAveragePool(in[0]), graph.GlobalMaxPool(in[0])}
	}, x3)
}

func TestRecurrentAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(9, 10))
	const seq, batch, inp, hid = 7, 3, 5, 4
	for _, k := range []string{"GRU", "LSTM", "RNN"} {
		gates := map[string]int{"GRU": 3, "LSTM": 4, "RNN": 1}[k]
		for _, dir := range []string{"forward", "reverse", "bidirectional"} {
			dirs := 1
			if dir == "bidirectional" {
				dirs = 2
			}
			// ONNX Runtime runs layout 0 only (TestRecurrentLayout checks 1).
			for _, layout := range []int64{0} {
				xs := []int{seq, batch, inp}
				hs := []int{dirs, batch, hid}
				if layout == 1 {
					xs, hs = []int{batch, seq, inp}, []int{batch, dirs, hid}
				}
				x := graphtest.Rand(r, -1, 1, xs...)
				w := graphtest.Rand(r, -0.7, 0.7, dirs, gates*hid, inp)
				rr := graphtest.Rand(r, -0.7, 0.7, dirs, gates*hid, hid)
				b := graphtest.Rand(r, -0.5, 0.5, dirs, 2*gates*hid)
				h0 := graphtest.Rand(r, -1, 1, hs...)
				c0 := graphtest.Rand(r, -1, 1, hs...)
				p := graphtest.Rand(r, -0.5, 0.5, dirs, 3*hid)
				attrs := graph.Attrs{"direction": dir, "hidden_size": int64(hid), "layout": layout}
				name := fmt.Sprintf("%s %s layout %d", k, dir, layout)
				switch k {
				case "GRU":
					for _, lbr := range []int64{0, 1} {
						a := graph.Attrs{"linear_before_reset": lbr}
						for kk, v := range attrs {
							a[kk] = v
						}
						agreeWithORT(t, fmt.Sprintf("%s lbr %d", name, lbr), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
							y, yh := graph.GRU(a, in[0], in[1], in[2], in[3], nil, in[4])
							y2, _ := graph.GRU(a, in[0], in[1], in[2], nil, nil, nil)
							return []*graph.Node{y, yh, y2}
						}, x, w, rr, b, h0)
					}
				case "LSTM":
					agreeWithORT(t, name, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
						y, yh, yc := graph.LSTM(attrs, in[0], in[1], in[2], in[3], nil, in[4], in[5], in[6])
						a := graph.Attrs{"clip": float32(0.5)}
						for kk, v := range attrs {
							a[kk] = v
						}
						y2, _, _ := graph.LSTM(a, in[0], in[1], in[2], nil, nil, nil, nil, nil)
						return []*graph.Node{y, yh, yc, y2}
					}, x, w, rr, b, h0, c0, p)
				case "RNN":
					agreeWithORT(t, name, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
						y, yh := graph.RNN(attrs, in[0], in[1], in[2], in[3], nil, in[4])
						return []*graph.Node{y, yh}
					}, x, w, rr, b, h0)
				}
			}
		}
	}
}

func TestNormsAndReductionsAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(11, 12))
	x := graphtest.Rand(r, -2, 2, 3, 4, 5)
	c := graphtest.Rand(r, 0.5, 1.5, 4)
	agreeWithORT(t, "norms", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		y, m, inv := graph.LayerNormalization(in[0], in[2], in[3], -1, 1e-5)
		y1, _, _ := graph.LayerNormalization(in[0], in[4], nil, 1, 1e-3)
		return []*graph.Node{
			graph.BatchNormalization(in[0], in[1], in[1], in[1], in[1], 1e-5),
			graph.InstanceNormalization(in[0], in[1], in[1], 1e-5),
			y, m, inv, y1,
			graph.LpNormalization(in[0], -1, 2), graph.LpNormalization(in[0], 1, 1),
		}
	}, x, c, graphtest.Rand(r, 0.5, 1.5, 5), graphtest.Rand(r, -1, 1, 5), graphtest.Rand(r, -1, 1, 4, 5))
	agreeWithORT(t, "reductions", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		var out []*graph.Node
		for _, f := range []func(*graph.Node, []int64, bool) *graph.Node{graph.ReduceMin, graph.ReduceProd, graph.ReduceL1,
			graph.ReduceL2, graph.ReduceSumSquare, graph.ReduceLogSumExp} {
			out = append(out, f(in[0], []int64{1}, true), f(in[0], []int64{0, 2}, false))
		}
		out = append(out, graph.ReduceLogSum(graph.ReduceL1(in[0], []int64{2}, true), []int64{1}, false))
		out = append(out, graph.ArgMin(in[0], 1, false, false), graph.ArgMin(in[0], -1, true, true))
		return out
	}, x)
}

// TestRecurrentLayout checks layout 1 (batch first) against layout 0 on
// the same data, transposed.
func TestRecurrentLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const seq, batch, inp, hid = 5, 3, 2, 4
	x := graphtest.Rand(r, -1, 1, seq, batch, inp)
	w := graphtest.Rand(r, -0.7, 0.7, 2, 4*hid, inp)
	rr := graphtest.Rand(r, -0.7, 0.7, 2, 4*hid, hid)
	h0 := graphtest.Rand(r, -1, 1, 2, batch, hid)
	c0 := graphtest.Rand(r, -1, 1, 2, batch, hid)
	out := graphtest.MustEval(t, func(g *graph.Graph, n []*graph.Node) []*graph.Node {
		a0 := graph.Attrs{"direction": "bidirectional"}
		a1 := graph.Attrs{"direction": "bidirectional", "layout": int64(1)}
		perm := func(x *graph.Node, p ...int64) *graph.Node { return graph.Transpose(x, p...) }
		y0, h, c := graph.LSTM(a0, n[0], n[1], n[2], nil, nil, n[3], n[4], nil)
		y1, h1, c1 := graph.LSTM(a1, perm(n[0], 1, 0, 2), n[1], n[2], nil, nil, perm(n[3], 1, 0, 2), perm(n[4], 1, 0, 2), nil)
		return []*graph.Node{y0, h, c, perm(y1, 1, 2, 0, 3), perm(h1, 1, 0, 2), perm(c1, 1, 0, 2)}
	}, x, w, rr, h0, c0)
	for i := 0; i < 3; i++ {
		if !graph.SameShape(out[i].Shape, out[i+3].Shape) {
			t.Fatalf("output %d: layout 0 shape %v, layout 1 (transposed) %v", i, out[i].Shape, out[i+3].Shape)
		}
		for j := range out[i].F {
			if out[i].F[j] != out[i+3].F[j] {
				t.Fatalf("output %d [%d]: layout 0 %v, layout 1 %v", i, j, out[i].F[j], out[i+3].F[j])
			}
		}
	}
}

// nativeAndORT runs g natively and, exported, in ONNX Runtime (one
// thread) on feed; it returns both runs' outputs and the exported model.
func nativeAndORT(t *testing.T, name string, g *graph.Graph, feed map[string]*graph.Tensor) (want, got map[string]*graph.Tensor, model []byte) {
	t.Helper()
	ns, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want, err = ns.Run(feed)
	if err != nil {
		t.Fatalf("%s: native: %v", name, err)
	}
	model, err = export.Marshal(g, export.Options{})
	if err != nil {
		t.Fatalf("%s: export: %v", name, err)
	}
	s, err := ort.OpenBytes(model, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatalf("%s: ort: %v", name, err)
	}
	defer s.Close()
	got, err = s.Run(feed)
	if err != nil {
		t.Fatalf("%s: ort run: %v", name, err)
	}
	return want, got, model
}
