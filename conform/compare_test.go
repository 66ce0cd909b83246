package conform_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/graph"
)

func TestCompareRule(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tol := conform.Tolerance{Atol: 1e-3, Rtol: 1e-2}
	cases := []struct {
		name      string
		got, want *graph.Tensor
		beyond    int
		first     int
		problem   string
	}{
		// 1.0 vs 1.0109: 0.0109 <= 0.001 + 0.01*1.0109 = 0.011109 agrees;
		// 0 vs 0.0011 does not (atol only).
		{"rule", graph.F32([]int{2}, []float32{1, 0}), graph.F32([]int{2}, []float32{1.0109, 0.0011}), 1, 1, ""},
		{"nan", graph.F32([]int{3}, []float32{nan, nan, 1}), graph.F32([]int{3}, []float32{nan, 1, nan}), 2, 1, ""},
		{"inf", graph.F32([]int{3}, []float32{inf, -inf, inf}), graph.F32([]int{3}, []float32{inf, inf, 1e30}), 2, 1, ""},
		{"int exact", graph.I64([]int{2}, []int64{1, 1 << 60}), graph.I64([]int{2}, []int64{1, 1<<60 + 1}), 1, 1, ""},
		{"bool", graph.Bools([]int{2}, []bool{true, false}), graph.Bools([]int{2}, []bool{true, true}), 1, 1, ""},
		{"string", graph.Strings([]int{1}, []string{"a"}), graph.Strings([]int{1}, []string{"a"}), 0, -1, ""},
		{"shape", graph.F32([]int{2, 1}, []float32{1, 2}), graph.F32([]int{2}, []float32{1, 2}), 0, -1, "shape [2 1], want [2]"},
		{"dtype", graph.I64([]int{1}, []int64{1}), graph.F32([]int{1}, []float32{1}), 0, -1, "element type int64, want float32"},
		{"missing", nil, graph.F32([]int{1}, []float32{1}), 0, -1, "missing"},
	}
	for _, c := range cases {
		d := conform.Compare("y", c.got, c.want, tol)
		if d.Beyond != c.beyond || d.First != c.first || d.Problem != c.problem {
			t.Errorf("%s: beyond %d first %d problem %q, want %d %d %q (%s)", c.name, d.Beyond, d.First, d.Problem, c.beyond, c.first, c.problem, d)
		}
		if d.OK() != (c.beyond == 0 && c.problem == "") || (d.Err() == nil) != d.OK() {
			t.Errorf("%s: OK %v, Err %v", c.name, d.OK(), d.Err())
		}
		if _, err := json.Marshal(d); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestCompareMaxima(t *testing.T) {
	d := conform.Compare("y", graph.F32([]int{3}, []float32{1.5, 4, 0.25}), graph.F32([]int{3}, []float32{1, 4, 0}), conform.Tolerance{Atol: 1})
	if d.MaxAbs != 0.5 || d.MaxRel != 0.5 || d.Beyond != 0 || d.N != 3 {
		t.Errorf("got %+v", d)
	}
	d = conform.Compare("y", graph.F32([]int{1}, []float32{float32(math.NaN())}), graph.F32([]int{1}, []float32{1}), conform.Tolerance{})
	if !math.IsInf(d.MaxAbs, 1) {
		t.Errorf("NaN against 1: max abs %v, want +Inf", d.MaxAbs)
	}
	b, err := json.Marshal(d)
	if err != nil || !strings.Contains(string(b), `"max_abs":"+Inf"`) {
		t.Errorf("JSON %s, %v", b, err)
	}
	var back conform.Diff
	if err := json.Unmarshal(b, &back); err != nil || !math.IsInf(back.MaxAbs, 1) || back.DType != graph.Float32 || back.Beyond != 1 {
		t.Errorf("JSON round trip: %+v, %v", back, err)
	}
}

func TestCompareSkip(t *testing.T) {
	got := graph.F32([]int{3}, []float32{1, 9, 3})
	want := graph.F32([]int{3}, []float32{1, 2, 3.5})
	d := conform.CompareSkip("ltv", got, want, conform.Tolerance{Atol: 0.1}, []bool{false, true, false})
	if d.Skipped != 1 || d.Beyond != 1 || d.First != 2 || d.MaxAbs != 0.5 {
		t.Errorf("got %+v", d)
	}
}
