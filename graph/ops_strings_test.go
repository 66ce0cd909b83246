package graph_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

func strs(shape []int, v ...string) *graph.Tensor { return graph.Strings(shape, v) }

// evalDyn runs f on x fed through an input of the given (possibly
// unknown) shape, so that shape inference sees no value while building.
func evalDyn(t *testing.T, x *graph.Tensor, shape []int, f func(*graph.Node) []*graph.Node) ([]*graph.Tensor, error) {
	t.Helper()
	g := graph.New("dyn")
	var outs []*graph.Node
	if err := graph.Catch(func() {
		outs = f(g.Input("x", x.DType, shape...))
	}); err != nil {
		return nil, err
	}
	names := make([]string, len(outs))
	for i, o := range outs {
		names[i] = string(rune('a' + i))
		g.SetOutput(names[i], o)
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		return nil, err
	}
	res, err := s.Run(map[string]*graph.Tensor{"x": x})
	if err != nil {
		return nil, err
	}
	got := make([]*graph.Tensor, len(names))
	for i, nm := range names {
		got[i] = res[nm]
	}
	return got, nil
}

func wantStrings(t *testing.T, what string, got *graph.Tensor, shape []int, want ...string) {
	t.Helper()
	if got.DType != graph.String || !graph.SameShape(got.Shape, shape) || !slices.Equal(got.S, want) {
		t.Errorf("%s: got %s%v %q, want %v %q", what, got.DType, got.Shape, got.S, shape, want)
	}
}

func TestStringNormalizer(t *testing.T) {
	days := strs([]int{4}, "monday", "tuesday", "wednesday", "thursday")
	cases := []struct {
		name  string
		attrs graph.Attrs
		x     *graph.Tensor
		shape []int
		want  []string
	}{
		{"lower", graph.Attrs{"case_change_action": "LOWER", "is_case_sensitive": int64(1), "stopwords": []string{"monday"}},
			days, []int{3}, []string{"tuesday", "wednesday", "thursday"}},
		{"upper", graph.Attrs{"case_change_action": "UPPER", "is_case_sensitive": int64(1), "stopwords": []string{"monday"}},
			days, []int{3}, []string{"TUESDAY", "WEDNESDAY", "THURSDAY"}},
		// every element dropped: one empty string, [1] for [C]
		{"empty", graph.Attrs{"case_change_action": "UPPER", "is_case_sensitive": int64(1), "stopwords": []string{"monday"}},
			strs([]int{2}, "monday", "monday"), []int{1}, []string{""}},
		// ... and [1, 1] for [1, C]
		{"empty2d", graph.Attrs{"stopwords": []string{"MONDAY"}},
			strs([]int{1, 2}, "monday", "Monday"), []int{1, 1}, []string{""}},
		// case-insensitive stop words, case kept
		{"insensitive", graph.Attrs{"stopwords": []string{"MONDAY", "tuesday"}},
			strs([]int{1, 4}, "Monday", "TUESDAY", "Wednesday", "monday"), []int{1, 1}, []string{"Wednesday"}},
		// case-sensitive: "Monday" is not "monday"
		{"sensitive", graph.Attrs{"is_case_sensitive": int64(1), "stopwords": []string{"monday"}},
			strs([]int{3}, "Monday", "monday", "x"), []int{2}, []string{"Monday", "x"}},
		// Unicode: per code point simple mappings; ß has no one-letter upper case
		{"unicode upper", graph.Attrs{"case_change_action": "UPPER"},
			strs([]int{5}, "straße", "çéö", "ǆ", "σίσυφος", ""), []int{5}, []string{"STRAßE", "ÇÉÖ", "Ǆ", "ΣΊΣΥΦΟΣ", ""}},
		{"unicode lower", graph.Attrs{"case_change_action": "LOWER", "locale": "en_US"},
			strs([]int{3}, "İSTANBUL", "ΣΊΣΥΦΟΣ", "ÀÉÎ"), []int{3}, []string{"istanbul", "σίσυφοσ", "àéî"}},
		// Turkish rules for tr and az locales
		{"turkish upper", graph.Attrs{"case_change_action": "UPPER", "locale": "tr_TR.UTF-8"},
			strs([]int{2}, "istanbul", "ılık"), []int{2}, []string{"İSTANBUL", "ILIK"}},
		{"turkish lower", graph.Attrs{"case_change_action": "LOWER", "locale": "az"},
			strs([]int{1}, "İI"), []int{1}, []string{"iı"}},
		// case-insensitive stop words match accented capitals
		{"unicode stop", graph.Attrs{"case_change_action": "LOWER", "stopwords": []string{"ÉTÉ"}},
			strs([]int{2}, "été", "Hiver"), []int{1}, []string{"hiver"}},
		// UPPER compares in upper case: "ß" upper-cases to itself, so it
		// does not match a stop word "SS"
		{"upper compare", graph.Attrs{"case_change_action": "UPPER", "stopwords": []string{"ss", "İ"}},
			strs([]int{3}, "ß", "SS", "i"), []int{2}, []string{"ß", "I"}},
		// C and POSIX change ASCII letters only; C.UTF-8 is Unicode's
		{"C locale", graph.Attrs{"case_change_action": "UPPER", "locale": "C"},
			strs([]int{2}, "abcxyz", "çé"), []int{2}, []string{"ABCXYZ", "çé"}},
		{"POSIX locale", graph.Attrs{"case_change_action": "LOWER", "locale": "POSIX"},
			strs([]int{2}, "ABCXYZ", "ÇÉ"), []int{2}, []string{"abcxyz", "ÇÉ"}},
		{"C.UTF-8 locale", graph.Attrs{"case_change_action": "LOWER", "locale": "C.utf8"},
			strs([]int{2}, "ABCXYZ", "ÇÉ"), []int{2}, []string{"abcxyz", "çé"}},
		// no stop words, no case change: a copy
		{"none", nil, strs([]int{1, 2}, "A b", "\xff"), []int{1, 2}, []string{"A b", "\xff"}},
	}
	for _, c := range cases {
		f := func(x *graph.Node) []*graph.Node { return []*graph.Node{graph.StringNormalizer(x, c.attrs)} }
		out := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node { return f(in[0]) }, c.x)
		wantStrings(t, c.name, out[0], c.shape, c.want...)
		dyn := make([]int, len(c.x.Shape))
		for i := range dyn {
			dyn[i] = -1
		}
		got, err := evalDyn(t, c.x, dyn, f)
		if err != nil {
			t.Fatalf("%s, unknown shape: %v", c.name, err)
		}
		wantStrings(t, c.name+", unknown shape", got[0], c.shape, c.want...)
	}
	// Without stop words the output shape is known while building.
	g := graph.New("s")
	var y *graph.Node
	if err := graph.Catch(func() {
		y = graph.StringNormalizer(g.Input("x", graph.String, 1, 5), graph.Attrs{"case_change_action": "LOWER"})
	}); err != nil || !graph.SameShape(y.Shape(), []int{1, 5}) {
		t.Errorf("static shape: %v %v", y, err)
	}
}

func TestStringNormalizerErrors(t *testing.T) {
	in := func(shape ...int) func(*graph.Graph) *graph.Node {
		return func(g *graph.Graph) *graph.Node { return g.Input("x", graph.String, shape...) }
	}
	cases := []struct {
		want  string
		attrs graph.Attrs
		in    func(*graph.Graph) *graph.Node
	}{
		{"case_change_action must be LOWER, UPPER or NONE", graph.Attrs{"case_change_action": "lower"}, in(3)},
		{`locale "de_DE.ISO-8859-1" is not supported`, graph.Attrs{"locale": "de_DE.ISO-8859-1"}, in(3)},
		{`locale "english" is not supported`, graph.Attrs{"locale": "english"}, in(3)},
		{`locale "en_US.ISO-8859-1" is not supported`, graph.Attrs{"locale": "en_US.ISO-8859-1"}, in(3)},
		{"shape [C] or [1, C], got [2 3]", nil, in(2, 3)},
		{"shape [C] or [1, C], got [1 1 3]", nil, in(1, 1, 3)},
		{"shape [C] or [1, C], got []", nil, in()},
		{"X has no elements", nil, in(0)},
		{"X has no elements", nil, in(1, 0)},
		{"input 0: element type float32 not supported", nil, func(g *graph.Graph) *graph.Node { return g.Input("x", graph.Float32, 3) }},
		{"stopwords: a string is not valid UTF-8", graph.Attrs{"stopwords": []string{"\xff"}}, in(3)},
	}
	for _, c := range cases {
		wantBuildErr(t, c.want, func(g *graph.Graph) *graph.Node { return graph.StringNormalizer(c.in(g), c.attrs) })
	}
	// Invalid UTF-8 fails when the case changes (or stop words compare
	// without case), as in ONNX Runtime; the message hides the text.
	for _, a := range []graph.Attrs{{"case_change_action": "UPPER"}, {"stopwords": []string{"a"}}} {
		_, err := graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.StringNormalizer(n[0], a)}
		}, strs([]int{2}, "ok", "secret\xff"))
		if err == nil || !strings.Contains(err.Error(), "not valid UTF-8") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: %v", a, err)
		}
	}
	// [N, C] with N > 1 fed to an input of unknown shape fails at run time.
	if _, err := evalDyn(t, strs([]int{2, 1}, "a", "b"), []int{-1, -1}, func(x *graph.Node) []*graph.Node {
		return []*graph.Node{graph.StringNormalizer(x, nil)}
	}); err == nil {
		t.Error("[2, 1]: no error")
	}
}

func TestStringConcat(t *testing.T) {
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.StringConcat(n[0], n[1]), graph.StringConcat(n[1], n[2])}
	}, strs([]int{2, 1}, "a", "é"), strs([]int{3}, "", "x", "日本"), strs(nil, "!"))
	wantStrings(t, "broadcast", out[0], []int{2, 3}, "a", "ax", "a日本", "é", "éx", "é日本")
	wantStrings(t, "scalar", out[1], []int{3}, "!", "x!", "日本!")
	wantBuildErr(t, "do not broadcast", func(g *graph.Graph) *graph.Node {
		return graph.StringConcat(g.Input("x", graph.String, 2), g.Input("y", graph.String, 3))
	})
	wantBuildErr(t, "input 1: element type int64 not supported", func(g *graph.Graph) *graph.Node {
		return graph.StringConcat(g.Input("x", graph.String, 2), g.Input("y", graph.Int64, 2))
	})
}

func TestStringSplit(t *testing.T) {
	cases := []struct {
		name   string
		attrs  graph.Attrs
		x      *graph.Tensor
		shape  []int
		want   []string
		counts []int64
	}{
		{"basic", graph.Attrs{"delimiter": "."}, strs([]int{2}, "abc.com", "def.net"),
			[]int{2, 2}, []string{"abc", "com", "def", "net"}, []int64{2, 2}},
		{"consecutive", graph.Attrs{"delimiter": "-"}, strs([]int{2}, "o-n-n--x-", "o-n----nx"),
			[]int{2, 6}, []string{"o", "n", "n", "", "x", "", "o", "n", "", "", "", "nx"}, []int64{6, 6}},
		{"spaces", nil, strs([]int{3}, "hello world !", "  hello   world !", " hello world   ! "),
			[]int{3, 3}, []string{"hello", "world", "!", "hello", "world", "!", "hello", "world", "!"}, []int64{3, 3, 3}},
		{"empty delimiter", graph.Attrs{"delimiter": ""}, strs([]int{1}, " a  b "), []int{1, 2}, []string{"a", "b"}, []int64{2}},
		{"maxsplit", graph.Attrs{"maxsplit": int64(2)},
			strs([]int{2, 2}, "hello world", "def.net", "o n n x", "the quick brown fox  "),
			[]int{2, 2, 3}, []string{"hello", "world", "", "def.net", "", "", "o", "n", "n x", "the", "quick", "brown fox"},
			[]int64{2, 1, 3, 3}},
		// empty strings have no substrings, whatever the delimiter;
		// only spaces separate, not tabs
		{"empties", graph.Attrs{"delimiter": ","}, strs([]int{4}, "", ",", "a,", "日,本"),
			[]int{4, 2}, []string{"", "", "", "", "a", "", "日", "本"}, []int64{0, 2, 2, 2}},
		{"blank", nil, strs([]int{3}, "", "   ", "a\tb"), []int{3, 1}, []string{"", "", "a\tb"}, []int64{0, 0, 1}},
		{"maxsplit 0", graph.Attrs{"maxsplit": int64(0)}, strs([]int{2}, "  a b  ", ""), []int{2, 1}, []string{"a b", ""}, []int64{1, 0}},
		{"maxsplit 1 delim", graph.Attrs{"delimiter": "ab", "maxsplit": int64(1)}, strs([]int{1}, "xabyabz"),
			[]int{1, 2}, []string{"x", "yabz"}, []int64{2}},
		{"negative maxsplit", graph.Attrs{"delimiter": "/", "maxsplit": int64(-1)}, strs([]int{1}, "a/b/c"),
			[]int{1, 3}, []string{"a", "b", "c"}, []int64{3}},
		{"scalar", graph.Attrs{"delimiter": "→"}, strs(nil, "ä→ö→"), []int{3}, []string{"ä", "ö", ""}, []int64{3}},
		{"empty tensor", nil, strs([]int{0, 2}), []int{0, 2, 0}, []string{}, []int64{}},
	}
	for _, c := range cases {
		f := func(x *graph.Node) []*graph.Node {
			y, z := graph.StringSplit(x, c.attrs)
			return []*graph.Node{y, z}
		}
		out := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node { return f(in[0]) }, c.x)
		wantStrings(t, c.name, out[0], c.shape, c.want...)
		if !slices.Equal(out[1].I, c.counts) || !graph.SameShape(out[1].Shape, c.x.Shape) {
			t.Errorf("%s: counts %v%v, want %v", c.name, out[1].Shape, out[1].I, c.counts)
		}
		dyn := make([]int, len(c.x.Shape))
		for i := range dyn {
			dyn[i] = -1
		}
		got, err := evalDyn(t, c.x, dyn, f)
		if err != nil {
			t.Fatalf("%s, unknown shape: %v", c.name, err)
		}
		wantStrings(t, c.name+", unknown shape", got[0], c.shape, c.want...)
	}
	wantBuildErr(t, "input 0: element type int64 not supported", func(g *graph.Graph) *graph.Node {
		y, _ := graph.StringSplit(g.Input("x", graph.Int64, 2), nil)
		return y
	})
}

func TestRegexFullMatch(t *testing.T) {
	x := strs([]int{2, 3}, "www.google.com", "www.facebook.com", "www.bbc.co.uk", "", "日本", "ab\n")
	cases := []struct {
		pattern string
		want    []bool
	}{
		{`www\.[\w.-]+\.\bcom\b`, []bool{true, true, false, false, false, false}},
		{`.*`, []bool{true, true, true, true, true, false}}, // . does not match \n
		{`(?s).*`, []bool{true, true, true, true, true, true}},
		{`\p{Han}+`, []bool{false, false, false, false, true, false}},
		{`ab$`, []bool{false, false, false, false, false, false}},  // no match before a final \n
		{`a|www.*`, []bool{true, true, true, false, false, false}}, // alternation inside the anchors
		{`google`, []bool{false, false, false, false, false, false}},
		{``, []bool{false, false, false, true, false, false}},
	}
	for _, c := range cases {
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.RegexFullMatch(n[0], c.pattern)}
		}, x)
		if !slices.Equal(out[0].B, c.want) || !graph.SameShape(out[0].Shape, []int{2, 3}) {
			t.Errorf("%q: got %v%v, want %v", c.pattern, out[0].Shape, out[0].B, c.want)
		}
	}
	for _, p := range []string{`(`, `a)|(b`, `\C`, `a{2000}`} {
		wantBuildErr(t, "pattern is not a valid regular expression", func(g *graph.Graph) *graph.Node {
			return graph.RegexFullMatch(g.Input("x", graph.String, 2), p)
		})
	}
	wantBuildErr(t, `required attribute "pattern"`, func(g *graph.Graph) *graph.Node {
		return graph.Apply1(graph.MustLookup("", "RegexFullMatch"), nil, g.Input("x", graph.String, 2))
	})
}

// tfidf builds a TfIdfVectorizer with the attributes of ONNX's node tests
// (pool_int64s [2, 3, 5, 4, 5, 6, 7, 8, 6, 7]: 1-grams 2, 3, 5, 4 and
// 2-grams 5 6, 7 8, 6 7) and the changes in extra.
func tfidfAttrs(extra graph.Attrs) graph.Attrs {
	a := graph.Attrs{
		"mode": "TF", "min_gram_length": int64(2), "max_gram_length": int64(2), "max_skip_count": int64(0),
		"ngram_counts":  []int64{0, 4},
		"ngram_indexes": []int64{0, 1, 2, 3, 4, 5, 6},
		"pool_int64s":   []int64{2, 3, 5, 4, 5, 6, 7, 8, 6, 7},
	}
	for k, v := range extra {
		if v == nil {
			delete(a, k)
		} else {
			a[k] = v
		}
	}
	return a
}

func TestTfIdfVectorizer(t *testing.T) {
	row := []int64{1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8}
	x := ti([]int{12}, row...)
	x2 := ti([]int{2, 6}, row...)
	x32 := graph.NewTensor(graph.Int32, []int{12})
	for i, v := range row {
		graph.Data[int32](x32)[i] = int32(v)
	}
	words := strs([]int{12}, "a", "a", "c", "c", "c", "g", "h", "f", "g", "e", "f", "h")
	wordPool := graph.Attrs{"pool_int64s": nil, "pool_strings": []string{"b", "c", "e", "d", "e", "f", "g", "h", "f", "g"}}
	with := func(a ...graph.Attrs) graph.Attrs {
		m := graph.Attrs{}
		for _, x := range a {
			for k, v := range x {
				m[k] = v
			}
		}
		return m
	}
	cases := []struct {
		name  string
		attrs graph.Attrs
		x     *graph.Tensor
		shape []int
		want  []float32
	}{
		// ONNX's test_tfidfvectorizer_tf_only_bigrams_skip0
		{"bigrams", nil, x, []int{7}, []float32{0, 0, 0, 0, 1, 1, 1}},
		{"int32", nil, x32, []int{7}, []float32{0, 0, 0, 0, 1, 1, 1}},
		{"strings", wordPool, words, []int{7}, []float32{0, 0, 0, 0, 1, 1, 1}},
		// skips up to 5: 5 6 once, 7 8 three times (distances 1, 6, 3), 6 7 once
		{"skip5", graph.Attrs{"max_skip_count": int64(5)}, x, []int{7}, []float32{0, 0, 0, 0, 1, 3, 1}},
		{"uni and bi", graph.Attrs{"min_gram_length": int64(1), "max_skip_count": int64(5)}, x, []int{7},
			[]float32{0, 3, 1, 0, 1, 3, 1}},
		{"unigrams only", graph.Attrs{"min_gram_length": int64(1), "max_gram_length": int64(1), "max_skip_count": int64(5)}, x, []int{7},
			[]float32{0, 3, 1, 0, 0, 0, 0}},
		{"batch", graph.Attrs{"min_gram_length": int64(1), "max_skip_count": int64(5)}, x2, []int{2, 7},
			[]float32{0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1}},
		// permuted output columns, weights by column (as ONNX Runtime)
		{"tfidf", graph.Attrs{"min_gram_length": int64(1), "max_skip_count": int64(5), "mode": "TFIDF",
			"ngram_indexes": []int64{6, 5, 4, 3, 2, 1, 0}, "weights": []float32{1, 2, 3, 4, 5, 6, 7}}, x, []int{7},
			[]float32{1 * 1, 2 * 3, 3 * 1, 0, 5 * 1, 6 * 3, 0}},
		{"idf", graph.Attrs{"min_gram_length": int64(1), "max_skip_count": int64(5), "mode": "IDF",
			"ngram_indexes": []int64{6, 5, 4, 3, 2, 1, 0}, "weights": []float32{1, 2, 3, 4, 5, 6, 7}}, x, []int{7},
			[]float32{1, 2, 3, 0, 5, 6, 0}},
		{"idf unweighted", graph.Attrs{"min_gram_length": int64(1), "max_skip_count": int64(5), "mode": "IDF"}, x, []int{7},
			[]float32{0, 1, 1, 0, 1, 1, 1}},
		{"tfidf unweighted", graph.Attrs{"min_gram_length": int64(1), "max_skip_count": int64(5), "mode": "TFIDF"}, x, []int{7},
			[]float32{0, 3, 1, 0, 1, 3, 1}},
		// ngram_indexes may repeat a column and leave some out
		{"shared column", graph.Attrs{"min_gram_length": int64(1), "ngram_indexes": []int64{0, 0, 0, 0, 9, 9, 9}}, x, []int{10},
			[]float32{4, 0, 0, 0, 0, 0, 0, 0, 0, 3}},
		// level 1 empty (test_tfidfvectorizer_tf_onlybigrams_levelempty)
		{"level empty", graph.Attrs{"ngram_counts": []int64{0, 0}, "ngram_indexes": []int64{0, 1, 2},
			"pool_int64s": []int64{5, 6, 7, 8, 6, 7}}, x, []int{3}, []float32{1, 1, 1}},
		{"empty row", nil, ti([]int{0}), []int{7}, []float32{0, 0, 0, 0, 0, 0, 0}},
		{"scalar", graph.Attrs{"min_gram_length": int64(1)}, ti(nil, 3), []int{7}, []float32{0, 1, 0, 0, 0, 0, 0}},
		// 3-grams with skips: pool 1 2 3 (at distance 2) and 1 1 1 (at 3)
		{"trigrams", graph.Attrs{"min_gram_length": int64(3), "max_gram_length": int64(3), "max_skip_count": int64(2),
			"ngram_counts": []int64{0, 0, 0}, "ngram_indexes": []int64{0, 1}, "pool_int64s": []int64{1, 2, 3, 1, 1, 1}},
			ti([]int{7}, 1, 1, 2, 1, 3, 3, 1), []int{2}, []float32{1, 1}},
	}
	for _, c := range cases {
		a := with(tfidfAttrs(nil), c.attrs)
		for k, v := range a {
			if v == nil {
				delete(a, k)
			}
		}
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.TfIdfVectorizer(n[0], a)}
		}, c.x)
		if !graph.SameShape(out[0].Shape, c.shape) || !slices.Equal(out[0].F, c.want) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, out[0].Shape, out[0].F, c.shape, c.want)
		}
	}
}

func TestTfIdfVectorizerErrors(t *testing.T) {
	i64 := func(shape ...int) func(*graph.Graph) *graph.Node {
		return func(g *graph.Graph) *graph.Node { return g.Input("x", graph.Int64, shape...) }
	}
	cases := []struct {
		want  string
		attrs graph.Attrs
		in    func(*graph.Graph) *graph.Node
	}{
		{"mode must be TF, IDF or TFIDF", graph.Attrs{"mode": "tf"}, i64(3)},
		{"min_gram_length must be at least 1", graph.Attrs{"min_gram_length": int64(0)}, i64(3)},
		{"max_gram_length 1 is less than min_gram_length 2", graph.Attrs{"max_gram_length": int64(1)}, i64(3)},
		{"max_skip_count must not be negative", graph.Attrs{"max_skip_count": int64(-1)}, i64(3)},
		{"beyond ngram_counts", graph.Attrs{"max_gram_length": int64(3)}, i64(3)},
		{"ngram_indexes is empty", graph.Attrs{"ngram_indexes": []int64{}}, i64(3)},
		{"ngram_indexes[1] = -1 is out of range", graph.Attrs{"ngram_indexes": []int64{0, -1, 2, 3, 4, 5, 6}}, i64(3)},
		{"ngram_indexes[0] = 4611686018427387904 is out of range", graph.Attrs{"ngram_indexes": []int64{1 << 62, 1, 2, 3, 4, 5, 6}}, i64(3)},
		{"both pool_strings and pool_int64s", graph.Attrs{"pool_strings": []string{"a"}}, i64(3)},
		{"neither pool_strings nor pool_int64s", graph.Attrs{"pool_int64s": nil}, i64(3)},
		{"the pool is empty", graph.Attrs{"pool_int64s": []int64{}}, i64(3)},
		{"outside the pool", graph.Attrs{"ngram_counts": []int64{0, 11}}, i64(3)},
		{"outside the pool", graph.Attrs{"ngram_counts": []int64{-1, 4}}, i64(3)},
		{"outside the pool", graph.Attrs{"ngram_counts": []int64{5, 4}}, i64(3)},
		{"5 items do not make whole 2-grams", graph.Attrs{"ngram_counts": []int64{0, 5}}, i64(3)},
		{"at least 7 n-grams, but ngram_indexes only 6", graph.Attrs{"ngram_indexes": []int64{0, 1, 2, 3, 4, 5}}, i64(3)},
		{"weights has 2 values, ngram_indexes 7", graph.Attrs{"weights": []float32{1, 2}}, i64(3)},
		{"the output has 9 columns (max(ngram_indexes)+1), but weights only 7",
			graph.Attrs{"ngram_indexes": []int64{0, 1, 2, 3, 4, 5, 8}, "weights": []float32{1, 1, 1, 1, 1, 1, 1}}, i64(3)},
		{"X is string, but the n-grams are pool_int64s", nil, func(g *graph.Graph) *graph.Node { return g.Input("x", graph.String, 3) }},
		{"X is int64, but the n-grams are pool_strings", graph.Attrs{"pool_int64s": nil, "pool_strings": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}, i64(3)},
		{"shape [C] or [N, C], got [1 2 3]", nil, i64(1, 2, 3)},
		{"a batch must have at least one row", nil, i64(0, 3)},
		{"float32", nil, func(g *graph.Graph) *graph.Node { return g.Input("x", graph.Float32, 3) }},
	}
	for _, c := range cases {
		a := tfidfAttrs(c.attrs)
		wantBuildErr(t, c.want, func(g *graph.Graph) *graph.Node { return graph.TfIdfVectorizer(c.in(g), a) })
	}
	// A repeated n-gram fails at run time (the pool is compiled then).
	_, err := graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.TfIdfVectorizer(n[0], tfidfAttrs(graph.Attrs{"pool_int64s": []int64{2, 3, 5, 4, 5, 6, 7, 8, 5, 6}}))}
	}, ti([]int{3}, 1, 2, 3))
	if err == nil || !strings.Contains(err.Error(), "repeats a 2-gram") {
		t.Errorf("repeated 2-gram: %v", err)
	}
	// A huge max_skip_count costs nothing (distances past the row are
	// skipped) and does not overflow.
	for _, skip := range []int64{2, 1 << 62, math.MaxInt64} {
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.TfIdfVectorizer(n[0], tfidfAttrs(graph.Attrs{"max_skip_count": skip}))}
		}, ti([]int{4}, 5, 0, 0, 6))
		if !slices.Equal(out[0].F, []float32{0, 0, 0, 0, 1, 0, 0}) {
			t.Errorf("skip %d: %v", skip, out[0].F)
		}
	}
}

// FuzzStringOps runs the string ops on fuzzed strings and attributes: no
// panics, and splitting on a delimiter then joining gives the string back.
func FuzzStringOps(f *testing.F) {
	f.Add("a,b,,c|日本|", ",", int64(-1), "a.*", "b", uint8(0))
	f.Add("  x  y |\xff|", "", int64(1), "(", "X", uint8(1))
	f.Add("Monday|monday|İ", "--", int64(0), `\w+`, "monday", uint8(2))
	f.Fuzz(func(t *testing.T, data, delim string, maxSplit int64, pattern, stop string, mode uint8) {
		if len(data) > 1<<10 {
			return
		}
		elems := strings.Split(data, "|")
		x := strs([]int{len(elems)}, elems...)
		// StringSplit
		a := graph.Attrs{"delimiter": delim}
		if mode&1 != 0 {
			a["maxsplit"] = maxSplit
		}
		out, err := graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			y, z := graph.StringSplit(n[0], a)
			return []*graph.Node{y, z}
		}, x)
		if err != nil {
			t.Fatalf("StringSplit %v: %v", a, err)
		}
		k := out[0].Shape[1]
		for i, s := range elems {
			n := int(out[1].I[i])
			if n > k {
				t.Fatalf("count %d > %d", n, k)
			}
			if delim != "" && s != "" && mode&1 == 0 {
				if j := strings.Join(out[0].S[i*k:i*k+n], delim); j != s {
					t.Fatalf("split %q on %q joins back to %q", s, delim, j)
				}
			}
		}
		// RegexFullMatch: an invalid pattern is an error, never a panic.
		_, _ = graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.RegexFullMatch(n[0], pattern)}
		}, x)
		// StringNormalizer
		actions := []string{"NONE", "LOWER", "UPPER"}
		na := graph.Attrs{"case_change_action": actions[int(mode/2)%3], "is_case_sensitive": int64(mode / 8 % 2),
			"stopwords": []string{stop}}
		if mode&16 != 0 {
			na["locale"] = []string{"tr_TR", "C", "en_US.UTF-8"}[int(mode/32)%3]
		}
		if out, err := graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.StringNormalizer(n[0], na)}
		}, x); err == nil && out[0].Len() > len(elems) {
			t.Fatalf("StringNormalizer grew %d strings to %d", len(elems), out[0].Len())
		}
		// StringConcat of x with its reverse column
		col := strs([]int{len(elems), 1}, elems...)
		if _, err := graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.StringConcat(n[0], n[1])}
		}, x, col); err != nil {
			t.Fatal(err)
		}
		// TfIdfVectorizer on the bytes of data
		ints := graph.NewTensor(graph.Int64, []int{len(data)})
		for i := range ints.I {
			ints.I[i] = int64(data[i] % 8)
		}
		ta := graph.Attrs{
			"mode": []string{"TF", "IDF", "TFIDF"}[int(mode)%3], "min_gram_length": int64(1 + mode%2), "max_gram_length": int64(2),
			"max_skip_count": maxSplit & 7, "ngram_counts": []int64{0, 3}, "ngram_indexes": []int64{0, 1, 2, 3, 4},
			"pool_int64s": []int64{1, 2, 3, 1, 2, 3, 4}, "weights": []float32{1, 2, 3, 4, 5},
		}
		if _, err := graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.TfIdfVectorizer(n[0], ta)}
		}, ints); err != nil {
			t.Fatal(err)
		}
	})
}
