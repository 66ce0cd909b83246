package graph_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

func TestLabelEncoderStringToInt(t *testing.T) {
	attrs := graph.Attrs{
		"keys_strings":  []string{"ios", "android", ""},
		"values_int64s": []int64{1, 2, 7},
		"default_int64": int64(0),
	}
	x := graph.Strings([]int{2, 3}, []string{"android", "web", "ios", "", "iOS", "android"})
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.LabelEncoder(n[0], attrs)}
	}, x)
	wantShape(t, out[0], 2, 3)
	if want := []int64{2, 0, 1, 7, 0, 2}; !slices.Equal(out[0].I, want) {
		t.Errorf("got %v, want %v", out[0].I, want)
	}
	// Twice more: the cached table gives the same answer.
	for range 2 {
		again := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.LabelEncoder(n[0], attrs)}
		}, x)
		if !slices.Equal(again[0].I, out[0].I) {
			t.Errorf("cached run gave %v", again[0].I)
		}
	}
}

func TestLabelEncoderOtherTypes(t *testing.T) {
	// int64 -> string with the ONNX default "_Unused".
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.LabelEncoder(n[0], graph.Attrs{
			"keys_int64s": []int64{3, 1}, "values_strings": []string{"three", "one"},
		})}
	}, ti([]int{3}, 1, 2, 3))
	if want := []string{"one", "_Unused", "three"}; !slices.Equal(out[0].S, want) {
		t.Errorf("int64->string: got %q", out[0].S)
	}
	// float -> float: -0.0 finds key 0, NaN finds nothing (default -0.0).
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.LabelEncoder(n[0], graph.Attrs{
			"keys_floats": []float32{0, 2.5}, "values_floats": []float32{10, 20},
		})}
	}, tf([]int{4}, float32(math.Copysign(0, -1)), 2.5, nanF, 1))
	if out[0].F[0] != 10 || out[0].F[1] != 20 || out[0].F[2] != 0 || !math.Signbit(float64(out[0].F[2])) || out[0].F[3] != 0 {
		t.Errorf("float->float: got %v", out[0].F)
	}
	// string -> float.
	out = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.LabelEncoder(n[0], graph.Attrs{
			"keys_strings": []string{"a"}, "values_floats": []float32{1.5}, "default_float": float32(-1),
		})}
	}, graph.Strings([]int{2}, []string{"b", "a"}))
	if !slices.Equal(out[0].F, []float32{-1, 1.5}) {
		t.Errorf("string->float: got %v", out[0].F)
	}
}

func TestLabelEncoderErrors(t *testing.T) {
	str := func(g *graph.Graph) *graph.Node { return g.Input("x", graph.String, -1) }
	cases := []struct {
		want  string
		attrs graph.Attrs
		in    func(*graph.Graph) *graph.Node
	}{
		{"no keys attribute", graph.Attrs{"values_int64s": []int64{1}}, str},
		{"no values attribute", graph.Attrs{"keys_strings": []string{"a"}}, str},
		{"1 keys but 2 values", graph.Attrs{"keys_strings": []string{"a"}, "values_int64s": []int64{1, 2}}, str},
		{"both keys_strings and keys_int64s", graph.Attrs{"keys_strings": []string{"a"}, "keys_int64s": []int64{1}, "values_int64s": []int64{1}}, str},
		{"input is float32, but the keys are string", graph.Attrs{"keys_strings": []string{"a"}, "values_int64s": []int64{1}},
			func(g *graph.Graph) *graph.Node { return g.Input("x", graph.Float32, 2) }},
	}
	for _, c := range cases {
		wantBuildErr(t, c.want, func(g *graph.Graph) *graph.Node { return graph.LabelEncoder(c.in(g), c.attrs) })
	}
	// Repeated and NaN keys fail at run time.
	for _, a := range []graph.Attrs{
		{"keys_strings": []string{"a", "a"}, "values_int64s": []int64{1, 2}},
		{"keys_floats": []float32{nanF}, "values_int64s": []int64{1}},
	} {
		in := graph.Strings([]int{1}, []string{"a"})
		if _, ok := a["keys_floats"]; ok {
			in = tf([]int{1}, 1)
		}
		if _, err := graphtest.Eval(func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.LabelEncoder(n[0], a)}
		}, in); err == nil {
			t.Errorf("%v: no error", a)
		}
	}
}

// Ops other than LabelEncoder refuse string tensors when the graph is built.
func TestStringInputsRefused(t *testing.T) {
	g := graph.New("s")
	x := g.Input("x", graph.String, 3)
	_, err := g.Apply(graph.MustLookup("", "Relu"), nil, x)
	var se *graph.StringInputError
	if !errors.As(err, &se) || se.Op != "Relu" {
		t.Fatalf("Relu on strings: %v", err)
	}
	if graph.String.ONNX() != 8 || graph.String.String() != "string" {
		t.Errorf("String dtype: %d %s", graph.String.ONNX(), graph.String)
	}
	if _, ok := graph.DTypeFromONNX(8); ok {
		t.Error("DTypeFromONNX accepts strings (Cast and tensors must not)")
	}
	if dt, ok := graph.ValueTypeFromONNX(8); !ok || dt != graph.String {
		t.Error("ValueTypeFromONNX(8)")
	}
	s := graph.Strings([]int{2}, []string{"a", "b"})
	c := s.Clone()
	c.S[0] = "z"
	if s.S[0] != "a" || c.Len() != 2 {
		t.Error("Clone shares string storage")
	}
	var r graph.Tensor
	r.CopyFrom(s)
	if !slices.Equal(r.S, s.S) || r.DType != graph.String {
		t.Errorf("CopyFrom: %v", r)
	}
}
