package graph_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

func bin(f func(a, b *graph.Node) *graph.Node) buildFn {
	return one(func(x []*graph.Node) *graph.Node { return f(x[0], x[1]) })
}

func un(f func(a *graph.Node) *graph.Node) buildFn {
	return one(func(x []*graph.Node) *graph.Node { return f(x[0]) })
}

func wantData(t *testing.T, what string, got *graph.Tensor, dt graph.DType, want string) {
	t.Helper()
	if got.DType != dt || fmt.Sprint(dataOf(got)) != want {
		t.Errorf("%s: %s %v, want %s %s", what, got.DType, dataOf(got), dt, want)
	}
}

func TestIntegerArithmeticWraps(t *testing.T) {
	a := graph.FromSlice([]int{3}, []int8{127, -128, 100})
	b := graph.FromSlice([]int{3}, []int8{1, -1, 3})
	wantData(t, "int8 add", graphtest.MustEval(t, bin(graph.Add), a, b)[0], graph.Int8, "[-128 127 103]")
	wantData(t, "int8 mul", graphtest.MustEval(t, bin(graph.Mul), a, b)[0], graph.Int8, "[127 -128 44]")
	wantData(t, "int8 div", graphtest.MustEval(t, bin(graph.Div), a, b)[0], graph.Int8, "[127 -128 33]")
	u := graph.FromSlice([]int{2}, []uint16{1, 65535})
	v := graph.FromSlice([]int{1}, []uint16{2})
	wantData(t, "uint16 sub (broadcast)", graphtest.MustEval(t, bin(graph.Sub), u, v)[0], graph.Uint16, "[65535 65533]")
	wantData(t, "int8 neg", graphtest.MustEval(t, un(graph.Neg), a)[0], graph.Int8, "[-127 -128 -100]")
	wantData(t, "int8 abs", graphtest.MustEval(t, un(graph.Abs), a)[0], graph.Int8, "[127 -128 100]")
	z := graph.FromSlice([]int{1}, []int32{0})
	if _, err := graphtest.Eval(bin(graph.Div), graph.FromSlice([]int{1}, []int32{5}), z); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("int32 division by zero: %v", err)
	}
	f := graph.FromSlice([]int{2}, []float64{1, -1})
	wantData(t, "float64 div by zero", graphtest.MustEval(t, bin(graph.Div), f, graph.FromSlice([]int{1}, []float64{0}))[0], graph.Float64, "[+Inf -Inf]")
}

func TestModSigns(t *testing.T) {
	a := graph.FromSlice([]int{4}, []int32{7, -7, 7, -7})
	b := graph.FromSlice([]int{4}, []int32{3, 3, -3, -3})
	mod := func(fmod bool) buildFn {
		return bin(func(x, y *graph.Node) *graph.Node { return graph.Mod(x, y, fmod) })
	}
	wantData(t, "mod", graphtest.MustEval(t, mod(false), a, b)[0], graph.Int32, "[1 2 -2 -1]")
	wantData(t, "fmod", graphtest.MustEval(t, mod(true), a, b)[0], graph.Int32, "[1 -1 1 -1]")
	fa := graph.FromSlice([]int{2}, []float64{5.5, -5.5})
	fb := graph.FromSlice([]int{1}, []float64{2})
	wantData(t, "float fmod", graphtest.MustEval(t, mod(true), fa, fb)[0], graph.Float64, "[1.5 -1.5]")
	if _, err := graphtest.Eval(mod(false), fa, fb); err == nil || !strings.Contains(err.Error(), "fmod must be 1") {
		t.Errorf("float mod without fmod: %v", err)
	}
	if _, err := graphtest.Eval(mod(false), a, graph.FromSlice([]int{1}, []int32{0})); err == nil || !strings.Contains(err.Error(), "modulo by zero") {
		t.Errorf("mod by zero: %v", err)
	}
}

func TestPowMixedTypes(t *testing.T) {
	base := graph.FromSlice([]int{3}, []int32{2, 3, -2})
	e := graph.F32([]int{1}, []float32{3})
	wantData(t, "int32 ** float", graphtest.MustEval(t, bin(graph.Pow), base, e)[0], graph.Int32, "[8 27 -8]")
	fb := graph.F32([]int{2}, []float32{4, 9})
	ie := graph.FromSlice([]int{2}, []uint8{2, 0})
	wantData(t, "float ** uint8", graphtest.MustEval(t, bin(graph.Pow), fb, ie)[0], graph.Float32, "[16 1]")
	half := graph.F32([]int{1}, []float32{0.5})
	wantData(t, "float ** 0.5", graphtest.MustEval(t, bin(graph.Pow), fb, half)[0], graph.Float32, "[2 3]")
	if _, err := graphtest.Eval(bin(graph.Pow), graph.FromSlice([]int{1}, []uint8{2}), e); err == nil {
		t.Error("uint8 base accepted (ONNX allows float, int32 and int64 bases)")
	}
}

func TestRoundingAndSign(t *testing.T) {
	x := graph.FromSlice([]int{7}, []float64{0.5, 1.5, 2.5, -0.5, -1.5, 2.4, math.NaN()})
	wantData(t, "round half to even", graphtest.MustEval(t, un(graph.Round), x)[0], graph.Float64, "[0 2 2 -0 -2 2 NaN]")
	wantData(t, "ceil", graphtest.MustEval(t, un(graph.Ceil), x)[0], graph.Float64, "[1 2 3 -0 -1 3 NaN]")
	wantData(t, "floor", graphtest.MustEval(t, un(graph.Floor), x)[0], graph.Float64, "[0 1 2 -1 -2 2 NaN]")
	wantData(t, "sign", graphtest.MustEval(t, un(graph.Sign), x)[0], graph.Float64, "[1 1 1 -1 -1 1 NaN]")
	u := graph.FromSlice([]int{3}, []uint32{0, 5, 1 << 31})
	wantData(t, "uint sign", graphtest.MustEval(t, un(graph.Sign), u)[0], graph.Uint32, "[0 1 1]")
}

func TestComparisonsEveryType(t *testing.T) {
	a := graph.FromSlice([]int{3}, []uint64{1 << 63, 5, 0})
	b := graph.FromSlice([]int{1}, []uint64{5})
	wantData(t, "uint64 greater", graphtest.MustEval(t, bin(graph.Greater), a, b)[0], graph.Bool, "[true false false]")
	wantData(t, "uint64 equal", graphtest.MustEval(t, bin(graph.Equal), a, b)[0], graph.Bool, "[false true false]")
	h := graph.FromSlice([]int{2}, []graph.Half{graph.F16(1), graph.F16(float32(math.NaN()))})
	h1 := graph.FromSlice([]int{1}, []graph.Half{graph.F16(1)})
	wantData(t, "half <=", graphtest.MustEval(t, bin(graph.LessOrEqual), h, h1)[0], graph.Bool, "[true false]")
	bb := graph.Bools([]int{2}, []bool{true, false})
	wantData(t, "bool equal", graphtest.MustEval(t, bin(graph.Equal), bb, graph.Bools([]int{1}, []bool{false}))[0], graph.Bool, "[false true]")
}

func TestVariadicEveryType(t *testing.T) {
	nan := math.NaN()
	a := graph.FromSlice([]int{2, 1}, []float64{1, nan})
	b := graph.FromSlice([]int{3}, []float64{0, 2, 5})
	wantData(t, "float64 max (broadcast, NaN)", graphtest.MustEval(t, bin(func(x, y *graph.Node) *graph.Node { return graph.Max(x, y) }), a, b)[0],
		graph.Float64, "[1 2 5 NaN NaN NaN]")
	wantData(t, "float64 sum", graphtest.MustEval(t, bin(func(x, y *graph.Node) *graph.Node { return graph.Sum(x, y) }), a, b)[0],
		graph.Float64, "[1 3 6 NaN NaN NaN]")
	wantData(t, "float64 mean", graphtest.MustEval(t, bin(func(x, y *graph.Node) *graph.Node { return graph.Mean(x, y) }), a, b)[0],
		graph.Float64, "[0.5 1.5 3 NaN NaN NaN]")
	i := graph.FromSlice([]int{3}, []int16{-5, 7, 0})
	j := graph.FromSlice([]int{3}, []int16{3, -9, 0})
	wantData(t, "int16 min", graphtest.MustEval(t, bin(func(x, y *graph.Node) *graph.Node { return graph.Min(x, y) }), i, j)[0], graph.Int16, "[-5 -9 0]")
	if _, err := graphtest.Eval(bin(func(x, y *graph.Node) *graph.Node { return graph.Sum(x, y) }), i, j); err == nil {
		t.Error("int16 Sum accepted (ONNX Sum takes floats)")
	}
}

func TestActivationsEveryFloat(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(*graph.Node) *graph.Node
		x    float32
		want float64
	}{
		{"leaky", func(x *graph.Node) *graph.Node { return graph.LeakyRelu(x, 0.1) }, -2, -0.2},
		{"elu", func(x *graph.Node) *graph.Node { return graph.Elu(x, 1) }, -1, math.Expm1(-1)},
		{"hardsigmoid", func(x *graph.Node) *graph.Node { return graph.HardSigmoid(x, 0.2, 0.5) }, 1, 0.7},
		{"hardswish", graph.HardSwish, 1, 1 * (1.0/6 + 0.5)},
		{"softsign", graph.Softsign, 3, 0.75},
		{"mish", graph.Mish, 1, math.Tanh(math.Log1p(math.E))},
		{"gelu", func(x *graph.Node) *graph.Node { return graph.Gelu(x, false) }, 1, 0.5 * (1 + math.Erf(1/math.Sqrt2))},
		{"gelu tanh", func(x *graph.Node) *graph.Node { return graph.Gelu(x, true) }, 1, 0.5 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*1.044715))},
		{"erf", graph.Erf, 0.5, math.Erf(0.5)},
		{"sin", graph.Sin, 1, math.Sin(1)},
		{"cos", graph.Cos, 1, math.Cos(1)},
		{"reciprocal", graph.Reciprocal, 4, 0.25},
		{"relu", graph.Relu, -1, 0},
		{"sigmoid", graph.Sigmoid, 0, 0.5},
	} {
		for _, dt := range graph.FloatTypes {
			x := graph.NewTensor(dt, []int{1})
			switch dt {
			case graph.Float32:
				x.F[0] = c.x
			case graph.Float64:
				graph.Data[float64](x)[0] = float64(c.x)
			case graph.Float16:
				graph.Data[graph.Half](x)[0] = graph.F16(c.x)
			}
			got := graphtest.MustEval(t, un(c.f), x)[0]
			tol := 1e-6
			if dt == graph.Float16 {
				tol = 2e-3
			}
			if got.DType != dt || math.Abs(got.Float(0)-c.want) > tol*(1+math.Abs(c.want)) {
				t.Errorf("%s on %s: %v, want %v", c.name, dt, got, c.want)
			}
		}
	}
}

func TestPReluBroadcastAndLogic(t *testing.T) {
	x := graph.F32([]int{2, 3}, []float32{-1, 2, -3, -4, 5, -6})
	slope := graph.F32([]int{3}, []float32{0.1, 0.2, 0.3})
	wantData(t, "prelu", graphtest.MustEval(t, bin(graph.PRelu), x, slope)[0], graph.Float32, "[-0.1 2 -0.90000004 -0.4 5 -1.8000001]")
	if _, err := graphtest.Eval(bin(graph.PRelu), slope, x); err == nil {
		t.Error("PRelu with a slope larger than x accepted")
	}
	inf := graph.FromSlice([]int{3}, []float64{math.Inf(1), math.Inf(-1), 1})
	wantData(t, "isinf +", graphtest.MustEval(t, un(func(x *graph.Node) *graph.Node { return graph.IsInf(x, false, true) }), inf)[0], graph.Bool, "[true false false]")
	wantData(t, "isnan", graphtest.MustEval(t, un(graph.IsNaN), graph.F32([]int{2}, []float32{float32(math.NaN()), 0}))[0], graph.Bool, "[true false]")
	u := graph.FromSlice([]int{3}, []uint8{1, 255, 16})
	s := graph.FromSlice([]int{3}, []uint8{7, 1, 8})
	wantData(t, "shift left", graphtest.MustEval(t, bin(func(a, b *graph.Node) *graph.Node { return graph.BitShift(a, b, true) }), u, s)[0], graph.Uint8, "[128 254 0]")
	p := graph.Bools([]int{2, 2}, []bool{true, true, false, false})
	q := graph.Bools([]int{2}, []bool{true, false})
	wantData(t, "xor", graphtest.MustEval(t, bin(graph.Xor), p, q)[0], graph.Bool, "[false true true false]")
	wantData(t, "not", graphtest.MustEval(t, un(graph.Not), q)[0], graph.Bool, "[false true]")
}

func TestWhereAndClipEveryType(t *testing.T) {
	c := graph.Bools([]int{3}, []bool{true, false, true})
	x := graph.Strings([]int{3}, []string{"a", "b", "c"})
	y := graph.Strings([]int{1}, []string{"-"})
	got := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Where(n[0], n[1], n[2])}
	}, c, x, y)[0]
	wantData(t, "where strings", got, graph.String, "[a - c]")
	v := graph.FromSlice([]int{4}, []uint8{0, 5, 10, 255})
	lo := graph.FromSlice([]int{}, []uint8{3})
	hi := graph.FromSlice([]int{}, []uint8{200})
	got = graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Clip(n[0], n[1], n[2])}
	}, v, lo, hi)[0]
	wantData(t, "clip uint8", got, graph.Uint8, "[3 5 10 200]")
}
