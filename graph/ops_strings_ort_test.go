package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
)

// agreeExactlyWithORT is agreeWithORT for outputs of any dtype (strings,
// bools, integers compared exactly; float32 within 1e-6 relative): it
// builds a graph on inputs x0, x1, ... whose dimensions other than 1 are
// unknown, runs it
// natively and in ONNX Runtime, and compares every output's shape and
// values; it also imports the exported file back and wants the same
// outputs from it.
func agreeExactlyWithORT(t *testing.T, name string, build func(in []*graph.Node) []*graph.Node, xs ...*graph.Tensor) {
	t.Helper()
	g := graph.New("strings")
	in := make([]*graph.Node, len(xs))
	feed := map[string]*graph.Tensor{}
	for i, x := range xs {
		nm := fmt.Sprintf("x%d", i)
		dims := make([]int, len(x.Shape))
		for j, d := range x.Shape {
			dims[j] = -1
			if d == 1 {
				dims[j] = 1 // ONNX's StringNormalizer inference wants [1, C] known
			}
		}
		in[i] = g.Input(nm, x.DType, dims...)
		feed[nm] = x
	}
	var outs []*graph.Node
	if err := graph.Catch(func() { outs = build(in) }); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i, o := range outs {
		g.SetOutput(fmt.Sprintf("y%d", i), o)
	}
	want, got, b := nativeAndORT(t, name, g, feed)
	// The exported file imported back runs as the graph did.
	m, err := compat.Parse(b)
	if err != nil {
		t.Fatalf("%s: parse: %v", name, err)
	}
	ig, err := compat.Import(m)
	if err != nil {
		t.Fatalf("%s: import: %v", name, err)
	}
	is, err := native.New(ig, native.Options{})
	if err != nil {
		t.Fatalf("%s: imported: %v", name, err)
	}
	imported, err := is.Run(feed)
	if err != nil {
		t.Fatalf("%s: imported: run: %v", name, err)
	}
	for i := range outs {
		nm := fmt.Sprintf("y%d", i)
		w, o := want[nm], got[nm]
		if iw := imported[nm]; !graph.SameShape(iw.Shape, w.Shape) || fmt.Sprint(show(iw)) != fmt.Sprint(show(w)) {
			t.Errorf("%s %s: imported %v %v, built %v %v", name, nm, iw.Shape, show(iw), w.Shape, show(w))
		}
		same := w.DType == o.DType && graph.SameShape(w.Shape, o.Shape)
		if same {
			switch w.DType {
			case graph.String:
				same = slices.Equal(w.S, o.S)
			case graph.Bool:
				same = slices.Equal(w.B, o.B)
			case graph.Int64:
				same = slices.Equal(w.I, o.I)
			case graph.Float32:
				for j := range w.F {
					same = same && math.Abs(float64(w.F[j]-o.F[j])) <= 1e-6*math.Abs(float64(o.F[j]))
				}
			default:
				t.Fatalf("%s: no comparison for %s", name, w.DType)
			}
		}
		if !same {
			t.Errorf("%s %s: native %s%v %v, ORT %s%v %v", name, nm, w.DType, w.Shape, show(w), o.DType, o.Shape, show(o))
		}
	}
}

func show(x *graph.Tensor) any {
	switch x.DType {
	case graph.String:
		return fmt.Sprintf("%q", x.S)
	case graph.Bool:
		return x.B
	case graph.Int64:
		return x.I
	}
	return x.F
}

// The string ops against ONNX Runtime 1.24 on inputs chosen for their
// corners: empty strings, Unicode, nothing matching, maxsplit, stop words
// that drop everything, weights and permuted n-gram columns.
func TestStringOpsAgreeWithORT(t *testing.T) {
	testenv.RequireLib(t)
	mixed := strs([]int{2, 4}, "", "a b", "  lead and trail  ", "日本 語", "x..y", ".", "a\tb c", "Ünïcödé ÉTÉ")
	one := func(f func(*graph.Node) *graph.Node) func([]*graph.Node) []*graph.Node {
		return func(in []*graph.Node) []*graph.Node { return []*graph.Node{f(in[0])} }
	}
	split := func(a graph.Attrs) func([]*graph.Node) []*graph.Node {
		return func(in []*graph.Node) []*graph.Node {
			y, z := graph.StringSplit(in[0], a)
			return []*graph.Node{y, z}
		}
	}
	// StringConcat, broadcasting both ways.
	agreeExactlyWithORT(t, "concat", func(in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.StringConcat(in[0], in[1]), graph.StringConcat(in[1], in[0])}
	}, mixed, strs([]int{4}, "", "→", "é", " "))
	agreeExactlyWithORT(t, "concat empty", func(in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.StringConcat(in[0], in[1])}
	}, strs([]int{0, 3}), strs([]int{1}, "z"))

	// StringSplit: every delimiter form and maxsplit.
	for _, a := range []graph.Attrs{
		nil, {"delimiter": ""}, {"delimiter": " "}, {"delimiter": "."}, {"delimiter": ".."}, {"delimiter": "日"},
		{"maxsplit": int64(0)}, {"maxsplit": int64(1)}, {"maxsplit": int64(2)}, {"delimiter": ".", "maxsplit": int64(1)},
		{"delimiter": "a", "maxsplit": int64(0)}, {"delimiter": "zz"},
	} {
		agreeExactlyWithORT(t, fmt.Sprintf("split %v", a), split(a), mixed)
	}
	agreeExactlyWithORT(t, "split all empty", split(graph.Attrs{"delimiter": ","}), strs([]int{3}, "", "", ""))
	agreeExactlyWithORT(t, "split empty tensor", split(nil), strs([]int{2, 0}))
	// (not a scalar: the ORT wrapper cannot feed rank-0 string tensors)
	agreeExactlyWithORT(t, "split dashes", split(graph.Attrs{"delimiter": "-"}), strs([]int{1}, "a--b-"))

	// RegexFullMatch.
	for _, p := range []string{`.*`, `a b`, `\w+`, `[^ ]+ [^ ]+`, `(?i)ünïcödé été`, `\p{Han}+ \p{Han}`, `x\.+y`, ``,
		`a\s+b.*`, `nothing matches this`, `(a|日本)( .*)?`, `(?s).+`, `\.`, `[[:alpha:]]*`} {
		agreeExactlyWithORT(t, "regex "+p, one(func(x *graph.Node) *graph.Node { return graph.RegexFullMatch(x, p) }), mixed)
	}

	// StringNormalizer: stop words, cases, Unicode, everything dropped.
	// Every case names locale C.UTF-8: ONNX Runtime fails to load the node
	// with its default en_US.UTF-8 on machines without that locale (this
	// one has only C, C.utf8 and POSIX); glibc's C.UTF-8 has the same case
	// mappings.
	words := strs([]int{1, 9}, "Monday", "monday", "MONDAY", "Straße", "ÉTÉ", "été", "İstanbul", "ılık", "ǅemal")
	corners := strs([]int{19}, "straße", "çéöÇÉÖ", "ǅǆǄ", "σίσυφοςΣ", "İı", "ﬁ", "აᲐ", "ꞵꞴ", "ǰ", "ŉ", "ΐ", "ᾳᾼ", "Ω",
		"ÿŸ", "µ", "ſ", "K", "abcXYZ", "")
	for _, loc := range []string{"C.UTF-8", "C", "POSIX", ""} {
		for _, act := range []string{"UPPER", "LOWER"} {
			a := graph.Attrs{"locale": loc, "case_change_action": act}
			agreeExactlyWithORT(t, fmt.Sprintf("normalizer corners %v", a), one(func(x *graph.Node) *graph.Node { return graph.StringNormalizer(x, a) }), corners)
		}
	}
	for _, a := range []graph.Attrs{
		{}, {"case_change_action": "LOWER"}, {"case_change_action": "UPPER"},
		{"stopwords": []string{"monday"}}, {"stopwords": []string{"monday"}, "is_case_sensitive": int64(1)},
		{"stopwords": []string{"ÉTÉ", "straße"}, "case_change_action": "UPPER"},
		{"stopwords": []string{"été", "STRASSE"}, "case_change_action": "LOWER"},
		{"stopwords": []string{"Monday", "été"}, "is_case_sensitive": int64(1), "case_change_action": "UPPER"},
		{"case_change_action": "UPPER", "locale": "en_US.UTF-8"},
		{"stopwords": []string{"monday", "straße", "été", "istanbul", "ılık", "ǆemal"}, "case_change_action": "LOWER"},
	} {
		a["locale"] = "C.UTF-8"
		agreeExactlyWithORT(t, fmt.Sprintf("normalizer %v [1, C]", a), one(func(x *graph.Node) *graph.Node { return graph.StringNormalizer(x, a) }), words)
		flat := strs([]int{9}, words.S...)
		agreeExactlyWithORT(t, fmt.Sprintf("normalizer %v [C]", a), one(func(x *graph.Node) *graph.Node { return graph.StringNormalizer(x, a) }), flat)
	}
	for _, x := range []*graph.Tensor{strs([]int{2}, "a", "A"), strs([]int{1, 2}, "a", "A")} {
		agreeExactlyWithORT(t, fmt.Sprintf("normalizer all dropped %v", x.Shape), one(func(x *graph.Node) *graph.Node {
			return graph.StringNormalizer(x, graph.Attrs{"stopwords": []string{"a"}, "locale": "C.UTF-8"})
		}), x)
	}

	// TfIdfVectorizer on random rows, every mode, int32/int64/strings,
	// 1-D and 2-D.
	r := rand.New(rand.NewPCG(3, 9))
	pool := []int64{1, 2, 3, 4, 1, 2, 2, 3, 3, 3, 4, 1, 1, 2, 3, 2}
	counts := []int64{0, 4, 10}
	vocab := []string{"a", "b", "c", "d", "e"}
	spool := make([]string, len(pool))
	for i, v := range pool {
		spool[i] = vocab[v]
	}
	for trial := 0; trial < 24; trial++ {
		lo := int64(1 + r.IntN(3))
		hi := lo + int64(r.IntN(int(4-lo)))
		idx := make([]int64, 9) // 4 + 3 + 2 n-grams
		for i := range idx {
			idx[i] = int64(i)
		}
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		a := graph.Attrs{
			"mode": []string{"TF", "IDF", "TFIDF"}[trial%3], "min_gram_length": lo, "max_gram_length": hi,
			"max_skip_count": int64(r.IntN(4)), "ngram_counts": counts, "ngram_indexes": idx,
		}
		if trial%2 == 0 {
			w := make([]float32, len(idx))
			for i := range w {
				w[i] = float32(r.IntN(8)) / 4
			}
			a["weights"] = w
		}
		shape := []int{2 + r.IntN(12)}
		if trial%4 >= 2 {
			shape = []int{1 + r.IntN(3), 1 + r.IntN(10)}
		}
		n := graph.Size(shape)
		var x *graph.Tensor
		switch (trial / 3) % 3 { // not the mode's trial % 3
		case 0:
			x = graph.NewTensor(graph.Int64, shape)
			for i := range x.I {
				x.I[i] = int64(r.IntN(5))
			}
			a["pool_int64s"] = pool
		case 1:
			x = graph.NewTensor(graph.Int32, shape)
			for i := range n {
				graph.Data[int32](x)[i] = int32(r.IntN(5))
			}
			a["pool_int64s"] = pool
		default:
			v := make([]string, n)
			for i := range v {
				v[i] = vocab[r.IntN(5)]
			}
			x = strs(shape, v...)
			a["pool_strings"] = spool
		}
		agreeExactlyWithORT(t, fmt.Sprintf("tfidf %d %v", trial, strings.ReplaceAll(fmt.Sprint(a), " ", "")),
			one(func(x *graph.Node) *graph.Node { return graph.TfIdfVectorizer(x, a) }), x)
	}
}
