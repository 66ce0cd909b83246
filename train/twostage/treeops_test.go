package twostage

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// The ai.onnx.ml tree-ensemble kernels of package graph against ONNX
// Runtime on hand-made ensembles: every node mode, missing values tracked
// both ways, int64 input, the aggregates, multi-target transforms, and
// the binary classifier layouts whose semantics ONNX leaves to the runtime.

// handTree is a small two-tree ensemble over two features whose branch
// modes are given; tree 1 is a single leaf.
func handTree(mode0, mode2 string, miss0, miss2 int64, w []float32, targets []int64) graph.Attrs {
	if targets == nil {
		targets = []int64{0, 0, 0, 0}
	}
	return graph.Attrs{
		"nodes_treeids":                   []int64{0, 0, 0, 0, 0, 1},
		"nodes_nodeids":                   []int64{0, 1, 2, 3, 4, 0},
		"nodes_featureids":                []int64{0, 0, 1, 0, 0, 0},
		"nodes_modes":                     []string{mode0, "LEAF", mode2, "LEAF", "LEAF", "LEAF"},
		"nodes_values":                    []float32{1, 0, 2, 0, 0, 0},
		"nodes_truenodeids":               []int64{1, 0, 3, 0, 0, 0},
		"nodes_falsenodeids":              []int64{2, 0, 4, 0, 0, 0},
		"nodes_missing_value_tracks_true": []int64{miss0, 0, miss2, 0, 0, 0},
		"wtree":                           []int64{0, 0, 0, 1},
		"wnode":                           []int64{1, 3, 4, 0},
		"wids":                            targets,
		"w":                               w,
	}
}

func asRegressor(a graph.Attrs, extra graph.Attrs) graph.Attrs {
	out := graph.Attrs{}
	for k, v := range a {
		switch k {
		case "wtree":
			out["target_treeids"] = v
		case "wnode":
			out["target_nodeids"] = v
		case "wids":
			out["target_ids"] = v
		case "w":
			out["target_weights"] = v
		default:
			out[k] = v
		}
	}
	out["n_targets"] = int64(1)
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func asClassifier(a graph.Attrs, extra graph.Attrs) graph.Attrs {
	out := graph.Attrs{}
	for k, v := range a {
		switch k {
		case "wtree":
			out["class_treeids"] = v
		case "wnode":
			out["class_nodeids"] = v
		case "wids":
			out["class_ids"] = v
		case "w":
			out["class_weights"] = v
		default:
			out[k] = v
		}
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestTreeEnsembleKernelsVsORT(t *testing.T) {
	testenv.RequireLib(t)
	nan := float32(math.NaN())
	xf := graph.F32([]int{9, 2}, []float32{
		0, 0, 1, 1, 2, 2, 1, 3, 3, 1,
		nan, 0, 0, nan, nan, nan, -1, 2,
	})
	xi := graph.I64([]int{5, 2}, []int64{0, 0, 1, 1, 2, 2, 1, 3, 3, 1})
	modes := []string{"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"}

	type tc struct {
		name       string
		classifier bool
		attrs      graph.Attrs
		x          *graph.Tensor
	}
	var cases []tc
	mixed := []float32{-1.5, 0.5, 2, 0.25}
	for i, m0 := range modes {
		m2 := modes[(i+2)%len(modes)]
		for miss := int64(0); miss < 2; miss++ {
			a := handTree(m0, m2, miss, 1-miss, mixed, nil)
			cases = append(cases,
				tc{fmt.Sprintf("regressor %s/%s miss %d", m0, m2, miss), false, asRegressor(a, graph.Attrs{"base_values": []float32{0.5}}), xf},
				tc{fmt.Sprintf("classifier %s/%s miss %d LOGISTIC", m0, m2, miss), true, asClassifier(a, graph.Attrs{
					"classlabels_int64s": []int64{0, 1}, "post_transform": "LOGISTIC", "base_values": []float32{-0.2}}), xf},
			)
		}
	}
	base := handTree("BRANCH_LEQ", "BRANCH_LT", 1, 0, mixed, nil)
	twoT := handTree("BRANCH_LEQ", "BRANCH_LT", 1, 0, mixed, []int64{0, 1, 1, 0})
	threeC := handTree("BRANCH_LEQ", "BRANCH_LT", 1, 0, mixed, []int64{0, 1, 2, 1})
	cases = append(cases,
		// (ONNX Runtime has no int64 TreeEnsembleRegressor kernel.)
		tc{"classifier int64 input", true, asClassifier(base, graph.Attrs{"classlabels_int64s": []int64{0, 1}, "post_transform": "LOGISTIC"}), xi},
		tc{"binary NONE mixed weights", true, asClassifier(base, graph.Attrs{"classlabels_int64s": []int64{4, 9}}), xf},
		tc{"binary LOGISTIC weights >= 0", true, asClassifier(handTree("BRANCH_LEQ", "BRANCH_LT", 1, 0, []float32{0.1, 0.3, 0.7, 0.05}, nil),
			graph.Attrs{"classlabels_int64s": []int64{0, 1}, "post_transform": "LOGISTIC", "base_values": []float32{0.1}}), xf},
		tc{"binary SOFTMAX mixed weights", true, asClassifier(base, graph.Attrs{"classlabels_int64s": []int64{0, 1}, "post_transform": "SOFTMAX"}), xf},
		tc{"three classes SOFTMAX", true, asClassifier(threeC, graph.Attrs{"classlabels_int64s": []int64{5, 6, 7},
			"post_transform": "SOFTMAX", "base_values": []float32{0.1, -0.2, 0.3}}), xf},
		tc{"three classes LOGISTIC no base", true, asClassifier(threeC, graph.Attrs{"classlabels_int64s": []int64{5, 6, 7}, "post_transform": "LOGISTIC"}), xf},
		tc{"three classes SOFTMAX_ZERO", true, asClassifier(threeC, graph.Attrs{"classlabels_int64s": []int64{5, 6, 7}, "post_transform": "SOFTMAX_ZERO"}), xf},
		tc{"two targets SUM", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "base_values": []float32{1, 2}}), xf},
		tc{"two targets AVERAGE", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "aggregate_function": "AVERAGE"}), xf},
		tc{"two targets MIN", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "aggregate_function": "MIN", "base_values": []float32{1, 2}}), xf},
		tc{"two targets MAX", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "aggregate_function": "MAX"}), xf},
		tc{"two targets LOGISTIC", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "post_transform": "LOGISTIC"}), xf},
		tc{"two targets LOGISTIC base", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "post_transform": "LOGISTIC", "base_values": []float32{1, 2}}), xf},
		tc{"two targets AVERAGE base", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "aggregate_function": "AVERAGE", "base_values": []float32{1, 2}}), xf},
		tc{"two targets MAX base", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "aggregate_function": "MAX", "base_values": []float32{-1, 2}}), xf},
		tc{"two targets SOFTMAX", false, asRegressor(twoT, graph.Attrs{"n_targets": int64(2), "post_transform": "SOFTMAX"}), xf},
		tc{"one target AVERAGE", false, asRegressor(base, graph.Attrs{"aggregate_function": "AVERAGE", "base_values": []float32{3}}), xf},
		tc{"one target MIN", false, asRegressor(base, graph.Attrs{"aggregate_function": "MIN"}), xf},
		tc{"one target MAX", false, asRegressor(base, graph.Attrs{"aggregate_function": "MAX"}), xf},
	)

	for _, c := range cases {
		g := graph.New("trees")
		err := graph.Catch(func() {
			x := g.Input("x", c.x.DType, -1, 2)
			if c.classifier {
				l, s := graph.TreeEnsembleClassifier(x, c.attrs)
				g.SetOutput("label", l)
				g.SetOutput("scores", s)
			} else {
				g.SetOutput("y", graph.TreeEnsembleRegressor(x, c.attrs))
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := export.Marshal(g, export.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		so, err := ort.OpenBytes(b, ort.Options{IntraOpThreads: 1})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sn, err := native.New(g, native.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		diffs, err := conform.CrossRun(sn, so, map[string]*graph.Tensor{"x": c.x}, conform.Tolerance{Atol: 1e-6, Rtol: 1e-6})
		so.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sort.Slice(diffs, func(i, j int) bool { return diffs[i].Output < diffs[j].Output })
		for _, d := range diffs {
			if !d.OK() {
				got, _ := sn.Run(map[string]*graph.Tensor{"x": c.x})
				want, _ := func() (map[string]*graph.Tensor, error) {
					s, _ := ort.OpenBytes(b, ort.Options{})
					defer s.Close()
					return s.Run(map[string]*graph.Tensor{"x": c.x})
				}()
				t.Errorf("%s: native vs ORT: %s\nnative %v\nORT    %v", c.name, d, got[d.Output], want[d.Output])
			}
		}
	}
}
