package ort_test

import (
	"slices"
	"testing"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// String tensors go into ORT (a LabelEncoder input) and come back out (a
// LabelEncoder output), as in the native runtime.
func TestStringTensors(t *testing.T) {
	testenv.RequireLib(t)
	g := graph.New("strings")
	err := graph.Catch(func() {
		x := g.Input("x", graph.String, -1)
		id := graph.LabelEncoder(x, graph.Attrs{"keys_strings": []string{"a", "b"}, "values_int64s": []int64{1, 2}, "default_int64": int64(0)})
		g.SetOutput("id", id)
		g.SetOutput("name", graph.LabelEncoder(id, graph.Attrs{"keys_int64s": []int64{1, 2}, "values_strings": []string{"A", "B"}}))
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := export.Marshal(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.OpenBytes(raw, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if in := s.Inputs(); in[0].DType != graph.String {
		t.Errorf("input %v", in[0])
	}
	ns, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, xs := range [][]string{{"b", "", "a", "é", "b"}, {}} {
		feed := map[string]*graph.Tensor{"x": graph.Strings([]int{len(xs)}, xs)}
		got, err := s.Run(feed)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ns.Run(feed)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got["id"].I, want["id"].I) || !slices.Equal(got["name"].S, want["name"].S) || got["name"].DType != graph.String {
			t.Errorf("%q: ORT %v %q, native %v %q", xs, got["id"].I, got["name"].S, want["id"].I, want["name"].S)
		}
	}
}
