package graph_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

func castTo(to graph.DType) buildFn {
	return one(func(x []*graph.Node) *graph.Node { return graph.Cast(x[0], to) })
}

func TestCastFloatToIntX86(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := graph.F32([]int{8}, []float32{2.9, -2.9, 300, -1, nan, inf, -inf, 3e9})
	for _, c := range []struct {
		to   graph.DType
		want string
	}{
		{graph.Int64, "[2 -2 300 -1 -9223372036854775808 -9223372036854775808 -9223372036854775808 3000000000]"},
		{graph.Int32, "[2 -2 300 -1 -2147483648 -2147483648 -2147483648 -2147483648]"},
		{graph.Int8, "[2 -2 44 -1 0 0 0 0]"},
		{graph.Uint8, "[2 254 44 255 0 0 0 0]"},
		{graph.Uint16, "[2 65534 300 65535 0 0 0 0]"},
		{graph.Uint32, "[2 4294967294 300 4294967295 0 0 0 3000000000]"},
		{graph.Uint64, "[2 18446744073709551614 300 18446744073709551615 9223372036854775808 0 9223372036854775808 3000000000]"},
	} {
		got := graphtest.MustEval(t, castTo(c.to), x)[0]
		if s := fmt.Sprint(dataOf(got)); got.DType != c.to || s != c.want {
			t.Errorf("float32 -> %s: %s, want %s", c.to, s, c.want)
		}
	}
}

// dataOf returns a tensor's elements as a slice of its own type.
func dataOf(t *graph.Tensor) any {
	switch t.DType {
	case graph.Float32:
		return t.F
	case graph.Int64:
		return t.I
	case graph.Bool:
		return t.B
	case graph.String:
		return t.S
	}
	return t.X
}

func TestCastEveryPairRoundTrips(t *testing.T) {
	// Small integers survive every numeric type and back.
	vals := []int64{0, 1, 2, 7, 100, 127}
	for _, from := range graph.AllNumeric {
		for _, to := range append(append([]graph.DType{}, graph.AllNumeric...), graph.String) {
			f := func(g *graph.Graph, x []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.Cast(graph.Cast(graph.Cast(x[0], from), to), graph.Int64)}
			}
			got := graphtest.MustEval(t, f, graph.I64([]int{len(vals)}, vals))[0]
			if fmt.Sprint(got.I) != fmt.Sprint(vals) {
				t.Errorf("int64 -> %s -> %s -> int64: %v", from, to, got.I)
			}
		}
	}
}

func TestCastStrings(t *testing.T) {
	s := graph.Strings([]int{7}, []string{"0.5", "1e3", "nan", "-inf", "+INF", " 42 ", "100.5"})
	got := graphtest.MustEval(t, castTo(graph.Float64), s)[0]
	if w := "[0.5 1000 NaN -Inf +Inf 42 100.5]"; fmt.Sprint(dataOf(got)) != w {
		t.Errorf("string -> double: %v, want %s", dataOf(got), w)
	}
	got = graphtest.MustEval(t, castTo(graph.Int32), s)[0]
	if w := "[0 1000 -2147483648 -2147483648 -2147483648 42 100]"; fmt.Sprint(dataOf(got)) != w {
		t.Errorf("string -> int32: %v, want %s", dataOf(got), w)
	}
	f := graph.F32([]int{5}, []float32{0.1, 1e21, float32(math.NaN()), float32(math.Inf(-1)), -3})
	got = graphtest.MustEval(t, castTo(graph.String), f)[0]
	if w := `[0.1 1e+21 NaN -INF -3]`; fmt.Sprint(got.S) != w {
		t.Errorf("float -> string: %v, want %s", got.S, w)
	}
	if _, err := graphtest.Eval(castTo(graph.Float32), graph.Strings([]int{1}, []string{"hello"})); err == nil || !strings.Contains(err.Error(), `"hello" is not a number`) {
		t.Errorf("bad string: %v", err)
	}
	var de *graph.DTypeError
	_, err := graphtest.Eval(castTo(graph.String), graph.Bools([]int{1}, []bool{true}))
	if !errorsAs(err, &de) {
		t.Errorf("bool -> string: %v, want a DTypeError", err)
	}
}

func TestCastHalfAndLike(t *testing.T) {
	x := graph.F32([]int{4}, []float32{1.0009765625, 65520, -0.1, 1e-8})
	h := graphtest.MustEval(t, castTo(graph.Float16), x)[0]
	back := graphtest.MustEval(t, castTo(graph.Float32), h)[0]
	if w := "[1.0009766 +Inf -0.099975586 0]"; fmt.Sprint(back.F) != w {
		t.Errorf("float -> half -> float: %v, want %s", back.F, w)
	}
	like := graph.FromSlice([]int{1}, []uint8{0})
	got := graphtest.MustEval(t, func(g *graph.Graph, x []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.CastLike(x[0], x[1])}
	}, graph.F32([]int{2}, []float32{3.7, 255}), like)[0]
	if got.DType != graph.Uint8 || fmt.Sprint(dataOf(got)) != "[3 255]" {
		t.Errorf("CastLike to uint8: %v", got)
	}
}

func TestIdentityEveryType(t *testing.T) {
	for _, dt := range append(append([]graph.DType{}, graph.AllTypes...), graph.String) {
		x := graph.NewTensor(dt, []int{2, 3})
		got := graphtest.MustEval(t, one(func(x []*graph.Node) *graph.Node { return graph.Identity(x[0]) }), x)[0]
		if got.DType != dt || !graph.SameShape(got.Shape, x.Shape) || got.Len() != 6 {
			t.Errorf("Identity %s: %v", dt, got)
		}
	}
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
