package graph_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/ort"
)

// stringClassifiers are TreeEnsembleClassifier attribute sets (binary and
// three-class, with classlabels_int64s) whose string-label versions are
// tested against them.
func stringClassifiers() []graph.Attrs {
	bin := ensembleAttrs(binaryTree(-1.5, 0.75), true)
	bin["classlabels_int64s"] = []int64{0, 1}
	bin["post_transform"] = "LOGISTIC"
	binPos := ensembleAttrs(binaryTree(0.1, 0.5), true)
	binPos["classlabels_int64s"] = []int64{0, 1}
	multi := ensembleAttrs([]tn{
		{tree: 0, id: 0, mode: "BRANCH_GT", feat: 1, val: 0, t: 1, f: 2},
		leaf(0, 1, tw{0, 1}, tw{2, 0.5}),
		leaf(0, 2, tw{1, 2}),
	}, true)
	multi["classlabels_int64s"] = []int64{0, 1, 2}
	multi["post_transform"] = "SOFTMAX"
	return []graph.Attrs{bin, binPos, multi}
}

func withStringLabels(a graph.Attrs, names []string) graph.Attrs {
	b := graph.Attrs{}
	for k, v := range a {
		b[k] = v
	}
	delete(b, "classlabels_int64s")
	b["classlabels_strings"] = names[:len(a["classlabels_int64s"].([]int64))]
	return b
}

// TestTreeEnsembleClassifierStringLabels: the string labels are the
// classlabels_strings entries at the int64 version's label indices, the
// scores the same.
func TestTreeEnsembleClassifierStringLabels(t *testing.T) {
	names := []string{"no", "yes", "maybe"}
	x := graph.F32([]int{4, 2}, []float32{0, 1, 1, -1, 0, -1, 1, 2})
	for i, a := range stringClassifiers() {
		li, si := runClassifier(t, a, x)
		ls, ss := runClassifier(t, withStringLabels(a, names), x)
		if ls.DType != graph.String || !closeTensor(ss, si, 0, 0) {
			t.Fatalf("case %d: label %s, scores %v vs %v", i, ls.DType, ss.F, si.F)
		}
		for r := range li.I {
			if ls.S[r] != names[li.I[r]] {
				t.Errorf("case %d row %d: label %q, want %q", i, r, ls.S[r], names[li.I[r]])
			}
		}
	}
	a := stringClassifiers()[2]
	a["classlabels_strings"] = []string{"a", "b", "c"}
	if _, err := graphtest.Eval(func(_ *graph.Graph, xs []*graph.Node) []*graph.Node {
		l, s := graph.TreeEnsembleClassifier(xs[0], a)
		return []*graph.Node{l, s}
	}, x); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("both label lists: error %v", err)
	}
}

func TestTreeEnsembleClassifierStringLabelsAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(2, 8))
	x := graph.NewTensor(graph.Float32, dims(16, 2))
	for i := range x.F {
		x.F[i] = float32(r.NormFloat64())
	}
	for i, a := range stringClassifiers() {
		a = withStringLabels(a, []string{"no", "yes", "maybe"})
		f := func(_ *graph.Graph, xs []*graph.Node) []*graph.Node {
			l, s := graph.TreeEnsembleClassifier(xs[0], a)
			return []*graph.Node{l, s}
		}
		g, err := graphtest.Build(f, x)
		if err != nil {
			t.Fatal(err)
		}
		b, err := export.Marshal(g, export.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := ort.OpenBytes(b, ort.Options{IntraOpThreads: 1})
		if err != nil {
			t.Fatalf("case %d: ORT: %v", i, err)
		}
		want, err := s.Run(map[string]*graph.Tensor{"x0": x})
		s.Close()
		if err != nil {
			t.Fatalf("case %d: ORT run: %v", i, err)
		}
		got := graphtest.MustEval(t, f, x)
		if !closeTensor(got[0], want["y0"], 0, 0) || !closeTensor(got[1], want["y1"], 1e-5, 1e-6) {
			t.Errorf("case %d: native %v %v, ORT %v %v", i, got[0].S, got[1].F, want["y0"].S, want["y1"].F)
		}
	}
}
