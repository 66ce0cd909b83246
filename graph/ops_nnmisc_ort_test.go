package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
)

// randInts is an int64 tensor of values in [lo, hi).
func randInts(r *rand.Rand, lo, hi int64, shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Int64, shape)
	for i := range t.I {
		t.I[i] = lo + r.Int64N(hi-lo)
	}
	return t
}

func TestNNMiscAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(11, 12))
	x := graphtest.Rand(r, -2, 2, 2, 4, 3, 5) // N, C, H, W

	// Losses: N=3, C=4, d1=2, d2=3; labels include ignored ones (-1).
	sc := graphtest.Rand(r, -3, 3, 3, 4, 2, 3)
	lab := randInts(r, -1, 4, 3, 2, 3)
	w := graphtest.Rand(r, 0.1, 2, 4)
	for _, red := range []string{"none", "sum", "mean"} {
		agreeWithORT(t, "losses "+red, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			a := graph.Attrs{"reduction": red, "ignore_index": int64(-1)}
			l1, lp1 := graph.SoftmaxCrossEntropyLoss(in[0], in[1], in[2], a)
			l2, lp2 := graph.SoftmaxCrossEntropyLoss(in[0], in[1], nil, a)
			return []*graph.Node{
				l1, lp1, l2, lp2,
				graph.NegativeLogLikelihoodLoss(lp1, in[1], in[2], a),
				graph.NegativeLogLikelihoodLoss(lp1, in[1], nil, a),
			}
		}, sc, lab, w)
	}
	sc64, w64 := fromF64(graph.Float64, sc.Shape, vals(sc)), fromF64(graph.Float64, w.Shape, vals(w))
	agreeWithORT(t, "losses float64", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		a := graph.Attrs{"ignore_index": int64(-1)}
		l, lp := graph.SoftmaxCrossEntropyLoss(in[0], in[1], in[2], a)
		return []*graph.Node{l, lp, graph.NegativeLogLikelihoodLoss(lp, in[1], nil, a)}
	}, sc64, lab, w64)
	lab2 := randInts(r, 0, 4, 3)
	agreeWithORT(t, "losses (N, C)", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		l, lp := graph.SoftmaxCrossEntropyLoss(in[0], in[1], nil, nil)
		return []*graph.Node{l, lp, graph.NegativeLogLikelihoodLoss(lp, in[1], nil, graph.Attrs{"reduction": "sum"})}
	}, graphtest.Rand(r, -3, 3, 3, 4), lab2)

	agreeWithORT(t, "Hardmax", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Hardmax(in[0], -1), graph.Hardmax(in[0], 1), graph.Hardmax(in[0], 0)}
	}, x)
	// ONNX Runtime takes odd sizes only (odmn takes any).
	agreeWithORT(t, "LRN", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.LRN(in[0], 3, 1e-2, 0.75, 1), graph.LRN(in[0], 1, 0.5, 0.5, 2), graph.LRN(in[0], 5, 1e-4, 0.75, 1)}
	}, x)
	agreeWithORT(t, "MeanVarianceNormalization", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.MeanVarianceNormalization(in[0], nil),
			graph.MeanVarianceNormalization(in[0], []int64{2, 3}),
			graph.MeanVarianceNormalization(in[0], []int64{1}),
		}
	}, x)
	agreeWithORT(t, "GroupNormalization", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.GroupNormalization(in[0], in[1], in[2], 2, 1e-5),
			graph.GroupNormalization(in[0], in[1], in[2], 4, 1e-3),
			graph.GroupNormalization(in[0], in[1], in[2], 1, 1e-5),
		}
	}, x, graphtest.Rand(r, -1, 1, 4), graphtest.Rand(r, -1, 1, 4))
	agreeWithORT(t, "Det", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Det(in[0]), graph.Det(in[1])}
	}, graphtest.Rand(r, -2, 2, 2, 3, 4, 4), graphtest.Rand(r, -2, 2, 5, 5))
	agreeWithORT(t, "DepthToSpace SpaceToDepth", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{
			graph.DepthToSpace(in[0], 2, "DCR"), graph.DepthToSpace(in[0], 2, "CRD"),
			graph.SpaceToDepth(in[1], 2), graph.SpaceToDepth(in[1], 3),
		}
	}, graphtest.Rand(r, -2, 2, 2, 8, 3, 2), graphtest.Rand(r, -2, 2, 2, 3, 6, 6))
	// ONNX Runtime leaves a length-0 sequence uninitialized (odmn copies
	// it, as ONNX says): lengths from 1 here.
	agreeWithORT(t, "ReverseSequence", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ReverseSequence(in[0], in[1], 0, 1), graph.ReverseSequence(in[2], in[1], 1, 0)}
	}, graphtest.Rand(r, -2, 2, 5, 3, 2), graph.I64([]int{3}, []int64{4, 1, 3}), graphtest.Rand(r, -2, 2, 3, 4))
	pool := graph.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}
	agreeWithORT(t, "MaxUnpool", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		y, idx := graph.MaxPool(in[0], pool)
		y3, idx3 := graph.MaxPool(in[0], graph.Attrs{"kernel_shape": []int64{3, 2}, "strides": []int64{1, 2}, "pads": []int64{1, 0, 1, 0}})
		return []*graph.Node{
			graph.MaxUnpool(y, idx, nil, pool),
			graph.MaxUnpool(y3, idx3, nil, graph.Attrs{"kernel_shape": []int64{3, 2}, "strides": []int64{1, 2}, "pads": []int64{1, 0, 1, 0}}),
		}
	}, graphtest.Rand(r, -2, 2, 2, 3, 4, 6))
	lp := []graph.Attrs{
		{"kernel_shape": []int64{2, 3}},
		{"kernel_shape": []int64{3, 3}, "pads": []int64{1, 0, 1, 2}, "strides": []int64{2, 1}, "p": int64(1)},
		{"kernel_shape": []int64{2, 2}, "p": int64(3), "auto_pad": "SAME_UPPER", "strides": []int64{2, 2}},
		{"kernel_shape": []int64{2, 2}, "auto_pad": "SAME_LOWER"},
		{"kernel_shape": []int64{2, 2}, "auto_pad": "VALID", "strides": []int64{1, 2}},
		{"kernel_shape": []int64{2, 2}, "dilations": []int64{2, 1}},
		{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}, "ceil_mode": int64(1)},
	}
	for i, a := range lp {
		agreeWithORT(t, "LpPool "+string(rune('a'+i)), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.LpPool(in[0], a)}
		}, x)
	}
	agreeWithORT(t, "GlobalLpPool", func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.GlobalLpPool(in[0], 2), graph.GlobalLpPool(in[0], 1), graph.GlobalLpPool(in[0], 3)}
	}, x)
}
