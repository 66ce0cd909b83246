package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// tn is one node of a hand-made tree ensemble.
type tn struct {
	tree, id int64
	mode     string
	feat     int64
	val      float32
	t, f     int64 // true and false node ids
	miss     int64
	w        []tw // leaf votes
}

type tw struct {
	id int64
	w  float32
}

// ensembleAttrs writes nodes as TreeEnsembleClassifier (classifier) or
// TreeEnsembleRegressor attributes.
func ensembleAttrs(nodes []tn, classifier bool) graph.Attrs {
	a := graph.Attrs{}
	var treeIDs, nodeIDs, feats, trues, falses, miss []int64
	var modes []string
	var vals []float32
	var wTree, wNode, wID []int64
	var wVal []float32
	for _, n := range nodes {
		treeIDs = append(treeIDs, n.tree)
		nodeIDs = append(nodeIDs, n.id)
		feats = append(feats, n.feat)
		trues = append(trues, n.t)
		falses = append(falses, n.f)
		miss = append(miss, n.miss)
		modes = append(modes, n.mode)
		vals = append(vals, n.val)
		for _, w := range n.w {
			wTree = append(wTree, n.tree)
			wNode = append(wNode, n.id)
			wID = append(wID, w.id)
			wVal = append(wVal, w.w)
		}
	}
	a["nodes_treeids"], a["nodes_nodeids"], a["nodes_featureids"] = treeIDs, nodeIDs, feats
	a["nodes_truenodeids"], a["nodes_falsenodeids"] = trues, falses
	a["nodes_missing_value_tracks_true"] = miss
	a["nodes_modes"], a["nodes_values"] = modes, vals
	p := "target_"
	if classifier {
		p = "class_"
	} else {
		a["n_targets"] = int64(1)
	}
	a[p+"treeids"], a[p+"nodeids"], a[p+"ids"], a[p+"weights"] = wTree, wNode, wID, wVal
	return a
}

func leaf(tree, id int64, w ...tw) tn { return tn{tree: tree, id: id, mode: "LEAF", w: w} }

func vote(w float32) []tw { return []tw{{0, w}} }

var nan = float32(math.NaN())

func runRegressor(t *testing.T, a graph.Attrs, x *graph.Tensor) *graph.Tensor {
	t.Helper()
	out, err := graphtest.Eval(func(g *graph.Graph, xs []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.TreeEnsembleRegressor(xs[0], a)}
	}, x)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func runClassifier(t *testing.T, a graph.Attrs, x *graph.Tensor) (*graph.Tensor, *graph.Tensor) {
	t.Helper()
	out, err := graphtest.Eval(func(g *graph.Graph, xs []*graph.Node) []*graph.Node {
		l, s := graph.TreeEnsembleClassifier(xs[0], a)
		return []*graph.Node{l, s}
	}, x)
	if err != nil {
		t.Fatal(err)
	}
	return out[0], out[1]
}

func closeTo(a, b float32) bool {
	return math.Abs(float64(a-b)) <= 1e-6*math.Max(1, math.Abs(float64(b)))
}

func TestTreeEnsembleRegressorHandTree(t *testing.T) {
	nodes := []tn{
		{tree: 0, id: 0, mode: "BRANCH_LEQ", feat: 0, val: 1.5, t: 1, f: 2, miss: 1},
		leaf(0, 1, tw{0, 10}),
		{tree: 0, id: 2, mode: "BRANCH_LT", feat: 1, val: 0, t: 3, f: 4, miss: 0},
		leaf(0, 3, tw{0, 20}),
		leaf(0, 4, tw{0, 30}),
		leaf(1, 0, tw{0, 1}),
	}
	a := ensembleAttrs(nodes, false)
	a["n_targets"] = int64(1)
	a["base_values"] = []float32{100}
	x := graph.F32([]int{5, 2}, []float32{
		1.5, 5, // LEQ holds: 10
		2, -1, // x1 < 0: 20
		2, 0, // 30
		nan, 0, // missing tracks true: 10
		2, nan, // missing tracks false: 30
	})
	want := []float32{111, 121, 131, 111, 131}
	got := runRegressor(t, a, x)
	if !graph.SameShape(got.Shape, []int{5, 1}) {
		t.Fatalf("shape %v", got.Shape)
	}
	for i, w := range want {
		if got.F[i] != w {
			t.Errorf("row %d: got %v, want %v", i, got.F[i], w)
		}
	}

	// The same trees on int64 input, and on one row given as rank 1.
	xi := graph.I64([]int{3, 2}, []int64{1, 5, 2, -1, 2, 0})
	gi := runRegressor(t, a, xi)
	for i, w := range want[:3] {
		if gi.F[i] != w {
			t.Errorf("int64 row %d: got %v, want %v", i, gi.F[i], w)
		}
	}
	g1 := runRegressor(t, a, graph.F32([]int{2}, []float32{2, -1}))
	if !graph.SameShape(g1.Shape, []int{1, 1}) || g1.F[0] != 121 {
		t.Errorf("rank-1 input: got %v", g1)
	}
}

func TestTreeEnsembleModes(t *testing.T) {
	xs := []float32{0, 1, 2, nan}
	want := map[string][]float32{ // true leaf 1, false leaf 0; NaN column is for miss=0, miss=1
		"BRANCH_LEQ": {1, 1, 0},
		"BRANCH_LT":  {1, 0, 0},
		"BRANCH_GTE": {0, 1, 1},
		"BRANCH_GT":  {0, 0, 1},
		"BRANCH_EQ":  {0, 1, 0},
		"BRANCH_NEQ": {1, 0, 1},
	}
	for mode, w := range want {
		for miss := int64(0); miss <= 1; miss++ {
			nodes := []tn{
				{tree: 0, id: 0, mode: mode, feat: 0, val: 1, t: 1, f: 2, miss: miss},
				leaf(0, 1, tw{0, 1}),
				leaf(0, 2, tw{0, 0}),
			}
			a := ensembleAttrs(nodes, false)
			got := runRegressor(t, a, graph.F32([]int{4, 1}, xs))
			exp := append(append([]float32{}, w...), float32(miss))
			if mode == "BRANCH_NEQ" {
				exp[3] = 1 // NaN != 1 holds whatever the missing flag (ONNX Runtime)
			}
			for i := range xs {
				if got.F[i] != exp[i] {
					t.Errorf("%s miss=%d x=%v: got %v, want %v", mode, miss, xs[i], got.F[i], exp[i])
				}
			}
		}
	}
}

func TestTreeEnsembleAggregates(t *testing.T) {
	// Two trees, two targets: row 0 reaches leaves (3, 7) for target 0 and
	// (-1, 5) for target 1; tree 1's leaf has no vote for target 1 on row 1.
	nodes := []tn{
		{tree: 0, id: 0, mode: "BRANCH_LT", feat: 0, val: 0.5, t: 1, f: 2},
		leaf(0, 1, tw{0, 3}, tw{1, -1}),
		leaf(0, 2, tw{0, 4}, tw{1, 2}),
		{tree: 1, id: 0, mode: "BRANCH_LT", feat: 0, val: 0.5, t: 1, f: 2},
		leaf(1, 1, tw{0, 7}, tw{1, 5}),
		leaf(1, 2, tw{0, 1}),
	}
	x := graph.F32([]int{2, 1}, []float32{0, 1})
	cases := []struct {
		agg  string
		want []float32 // [row][target], base values [10, 20] included
	}{
		{"SUM", []float32{20, 24, 15, 22}},
		{"AVERAGE", []float32{15, 22, 12.5, 21}},
		{"MIN", []float32{13, 19, 11, 22}},
		{"MAX", []float32{17, 25, 14, 22}},
	}
	for _, c := range cases {
		a := ensembleAttrs(nodes, false)
		a["n_targets"] = int64(2)
		a["aggregate_function"] = c.agg
		a["base_values"] = []float32{10, 20}
		got := runRegressor(t, a, x)
		if !equalF(got.F, c.want) {
			t.Errorf("%s: got %v, want %v", c.agg, got.F, c.want)
		}
	}
	// Multi-target LOGISTIC applies to every target.
	a := ensembleAttrs(nodes, false)
	a["n_targets"] = int64(2)
	a["post_transform"] = "LOGISTIC"
	got := runRegressor(t, a, x)
	for i, s := range []float32{10, 4, 5, 2} {
		if w := float32(1 / (1 + math.Exp(-float64(s)))); !closeTo(got.F[i], w) {
			t.Errorf("LOGISTIC element %d: got %v, want %v", i, got.F[i], w)
		}
	}
}

func binaryTree(w1, w2 float32) []tn {
	return []tn{
		{tree: 0, id: 0, mode: "BRANCH_LT", feat: 0, val: 0.5, t: 1, f: 2},
		leaf(0, 1, vote(w1)...),
		leaf(0, 2, vote(w2)...),
		leaf(1, 0, vote(0.25)...),
	}
}

func TestTreeEnsembleClassifierBinary(t *testing.T) {
	x := graph.F32([]int{2, 1}, []float32{0, 1})
	sig := func(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

	// Mixed signs, LOGISTIC, one base value (the XGBoost layout).
	a := ensembleAttrs(binaryTree(-1.5, 0.75), true)
	a["classlabels_int64s"] = []int64{0, 1}
	a["post_transform"] = "LOGISTIC"
	a["base_values"] = []float32{0.1}
	lab, sc := runClassifier(t, a, x)
	for r, s := range []float32{-1.5 + 0.25 + 0.1, 0.75 + 0.25 + 0.1} {
		if !closeTo(sc.F[2*r], sig(-s)) || !closeTo(sc.F[2*r+1], sig(s)) {
			t.Errorf("row %d: scores %v, want [%v %v]", r, sc.F[2*r:2*r+2], sig(-s), sig(s))
		}
		if want := map[bool]int64{true: 1, false: 0}[s > 0]; lab.I[r] != want {
			t.Errorf("row %d: label %d, want %d", r, lab.I[r], want)
		}
	}

	// Mixed signs, NONE: [-s, s] whatever the label (ONNX Runtime 1.24).
	a = ensembleAttrs(binaryTree(-1.5, 0.75), true)
	a["classlabels_int64s"] = []int64{3, 7}
	lab, sc = runClassifier(t, a, x)
	// row 0: s = -1.25, label 3; row 1: s = 1, label 7
	if !equalF(sc.F, []float32{1.25, -1.25, -1, 1}) || lab.I[0] != 3 || lab.I[1] != 7 {
		t.Errorf("NONE: labels %v scores %v", lab.I, sc.F)
	}

	// Every weight >= 0: ONNX Runtime's [1-s, s] with no transform, label s > 0.5.
	a = ensembleAttrs(binaryTree(0.1, 0.5), true)
	a["classlabels_int64s"] = []int64{0, 1}
	a["post_transform"] = "LOGISTIC"
	lab, sc = runClassifier(t, a, x)
	if !equalF(sc.F, []float32{1 - 0.35, 0.35, 1 - 0.75, 0.75}) || lab.I[0] != 0 || lab.I[1] != 1 {
		t.Errorf("all-positive: labels %v scores %v", lab.I, sc.F)
	}
}

func equalF(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !closeTo(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestTreeEnsembleClassifierMulticlass(t *testing.T) {
	nodes := []tn{
		{tree: 0, id: 0, mode: "BRANCH_GT", feat: 1, val: 0, t: 1, f: 2},
		leaf(0, 1, tw{0, 1}, tw{2, 0.5}),
		leaf(0, 2, tw{1, 2}),
	}
	a := ensembleAttrs(nodes, true)
	a["classlabels_int64s"] = []int64{10, 20, 30}
	a["base_values"] = []float32{0, 0.5, 0.25}
	a["post_transform"] = "SOFTMAX"
	x := graph.F32([]int{2, 2}, []float32{0, 1, 0, -1})
	lab, sc := runClassifier(t, a, x)
	soft := func(v ...float64) []float32 {
		var s float64
		for _, x := range v {
			s += math.Exp(x)
		}
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(math.Exp(x) / s)
		}
		return out
	}
	want := append(soft(1, 0.5, 0.75), soft(0, 2.5, 0.25)...)
	if !equalF(sc.F, want) || lab.I[0] != 10 || lab.I[1] != 20 {
		t.Errorf("labels %v scores %v, want [10 20] %v", lab.I, sc.F, want)
	}
}

// TestTreeEnsembleCacheKeyedByWeights: regressors that share attribute
// slices but differ in another attribute must not share a compiled
// ensemble.
func TestTreeEnsembleCacheKeyedByWeights(t *testing.T) {
	a := ensembleAttrs(binaryTree(1, 2), false)
	b := graph.Attrs{}
	for k, v := range a {
		b[k] = v
	}
	b["target_weights"] = []float32{5, 6, 7}
	x := graph.F32([]int{1, 1}, []float32{0})
	if got := runRegressor(t, a, x); got.F[0] != 1.25 {
		t.Errorf("a: %v", got.F)
	}
	if got := runRegressor(t, b, x); got.F[0] != 12 {
		t.Errorf("b: %v", got.F)
	}
	// Same slices, another aggregate and base value.
	c := graph.Attrs{}
	for k, v := range a {
		c[k] = v
	}
	c["aggregate_function"], c["base_values"] = "AVERAGE", []float32{1}
	if got := runRegressor(t, c, x); got.F[0] != 1.625 {
		t.Errorf("c: %v", got.F)
	}
}

func TestTreeEnsembleErrors(t *testing.T) {
	base := func() graph.Attrs { return ensembleAttrs(binaryTree(-1, 1), false) }
	cases := []struct {
		name   string
		edit   func(a graph.Attrs)
		x      *graph.Tensor
		substr string
	}{
		{"probit", func(a graph.Attrs) { a["n_targets"] = int64(2); a["post_transform"] = "PROBIT" }, nil, "PROBIT"},
		{"single-target transform", func(a graph.Attrs) { a["post_transform"] = "LOGISTIC" }, nil, "single target"},
		{"unknown mode", func(a graph.Attrs) { a["nodes_modes"] = []string{"BRANCH_XX", "LEAF", "LEAF", "LEAF"} }, nil, "unknown mode"},
		{"missing child", func(a graph.Attrs) { a["nodes_truenodeids"] = []int64{9, 0, 0, 0} }, nil, "not in the tree"},
		{"cycle", func(a graph.Attrs) {
			a["nodes_modes"] = []string{"BRANCH_LT", "BRANCH_LT", "LEAF", "LEAF"}
			a["nodes_truenodeids"] = []int64{1, 0, 0, 0}
			a["nodes_falsenodeids"] = []int64{2, 2, 0, 0}
		}, nil, "cycle"},
		{"feature out of range", func(a graph.Attrs) { a["nodes_featureids"] = []int64{3, 0, 0, 0} }, nil, "feature 3"},
		{"lengths", func(a graph.Attrs) { a["nodes_values"] = []float32{1} }, nil, "nodes_values"},
		{"not contiguous", func(a graph.Attrs) { a["nodes_treeids"] = []int64{0, 1, 0, 1}; a["target_treeids"] = []int64{1, 0, 1} }, nil, "contiguous"},
		{"target id", func(a graph.Attrs) { a["target_ids"] = []int64{0, 1, 0} }, nil, "out of range"},
		{"no n_targets", func(a graph.Attrs) { delete(a, "n_targets") }, nil, "n_targets is missing"},
		{"rank 3", func(a graph.Attrs) {}, graph.F32([]int{1, 1, 1}, []float32{0}), "rank 3"},
	}
	for _, c := range cases {
		a := base()
		c.edit(a)
		x := c.x
		if x == nil {
			x = graph.F32([]int{1, 1}, []float32{0})
		}
		_, err := graphtest.Eval(func(g *graph.Graph, xs []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.TreeEnsembleRegressor(xs[0], a)}
		}, x)
		if err == nil || !strings.Contains(err.Error(), c.substr) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.substr)
		}
	}

	// Classifier-only refusals.
	cls := []struct {
		name   string
		edit   func(a graph.Attrs)
		substr string
	}{
		{"empty strings", func(a graph.Attrs) { delete(a, "classlabels_int64s"); a["classlabels_strings"] = []string{} }, "classlabels_strings is empty"},
		{"class id 1", func(a graph.Attrs) { a["class_ids"] = []int64{1, 1, 1} }, "class id 0"},
		{"two base values", func(a graph.Attrs) { a["base_values"] = []float32{0, 0} }, "zero or one base value"},
	}
	for _, c := range cls {
		a := ensembleAttrs(binaryTree(-1, 1), true)
		a["classlabels_int64s"] = []int64{0, 1}
		c.edit(a)
		_, err := graphtest.Eval(func(g *graph.Graph, xs []*graph.Node) []*graph.Node {
			l, s := graph.TreeEnsembleClassifier(xs[0], a)
			return []*graph.Node{l, s}
		}, graph.F32([]int{1, 1}, []float32{0}))
		if err == nil || !strings.Contains(err.Error(), c.substr) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.substr)
		}
	}
}
