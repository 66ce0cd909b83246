package graph_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

// ints64 reads an integer tensor as []int64.
func ints64(t *graph.Tensor) []int64 {
	v := make([]int64, t.Len())
	for i := range v {
		v[i] = t.Int(i)
	}
	return v
}

func halves(v ...float32) *graph.Tensor {
	h := make([]graph.Half, len(v))
	for i, f := range v {
		h[i] = graph.F16(f)
	}
	return graph.FromSlice([]int{len(v)}, h)
}

func quantize(t *testing.T, attrs graph.Attrs, xs ...*graph.Tensor) *graph.Tensor {
	t.Helper()
	return graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		var zp *graph.Node
		if len(in) > 2 {
			zp = in[2]
		}
		return []*graph.Node{graph.QuantizeLinear(in[0], in[1], zp, attrs)}
	}, xs...)[0]
}

func dequantize(t *testing.T, attrs graph.Attrs, xs ...*graph.Tensor) *graph.Tensor {
	t.Helper()
	return graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		var zp *graph.Node
		if len(in) > 2 {
			zp = in[2]
		}
		return []*graph.Node{graph.DequantizeLinear(in[0], in[1], zp, attrs)}
	}, xs...)[0]
}

// The expected values below follow the specification: round half to
// even, then add the zero point, then saturate.
func TestQuantizeLinear(t *testing.T) {
	x := graph.F32([]int{8}, []float32{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 300, -300})
	cases := []struct {
		name  string
		attrs graph.Attrs
		in    []*graph.Tensor
		dt    graph.DType
		want  []int64
	}{
		{"int8 ties", nil, []*graph.Tensor{x, graph.ScalarF32(1), graph.FromSlice([]int{}, []int8{0})}, graph.Int8, []int64{0, 2, 2, 0, -2, -2, 127, -128}},
		{"uint8 zero point 10", nil, []*graph.Tensor{x, graph.ScalarF32(1), graph.FromSlice([]int{}, []uint8{10})}, graph.Uint8, []int64{10, 12, 12, 10, 8, 8, 255, 0}},
		{"no zero point: uint8", nil, []*graph.Tensor{x, graph.ScalarF32(0.5)}, graph.Uint8, []int64{1, 3, 5, 0, 0, 0, 255, 0}},
		{"one-element 1-D scale is per-tensor", graph.Attrs{"axis": int64(0)}, []*graph.Tensor{x, graph.F32([]int{1}, []float32{1}), graph.FromSlice([]int{1}, []int8{1})}, graph.Int8, []int64{1, 3, 3, 1, -1, -1, 127, -128}},
		{"output_dtype int16", graph.Attrs{"output_dtype": int64(5)}, []*graph.Tensor{graph.F32([]int{3}, []float32{40000.4, -40000, 1.5}), graph.ScalarF32(1)}, graph.Int16, []int64{32767, -32768, 2}},
		{"per-axis", nil, []*graph.Tensor{graph.F32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}), graph.F32([]int{3}, []float32{1, 2, 4}), graph.FromSlice([]int{3}, []int8{0, 1, 2})}, graph.Int8, []int64{1, 2, 3, 4, 3, 4}},
		{"per-axis 0", graph.Attrs{"axis": int64(0)}, []*graph.Tensor{graph.F32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}), graph.F32([]int{2}, []float32{1, 2})}, graph.Uint8, []int64{1, 2, 3, 2, 2, 3}},
		// Blocks of 2 along axis 1 of a [1, 5] x: scales 1, 2, 0.5.
		{"blocked uint16", graph.Attrs{"block_size": int64(2)}, []*graph.Tensor{graph.F32([]int{1, 5}, []float32{1, 2, 3, 4, 5}), graph.F32([]int{1, 3}, []float32{1, 2, 0.5}), graph.FromSlice([]int{1, 3}, []uint16{0, 100, 65530})}, graph.Uint16, []int64{1, 2, 102, 102, 65535}},
		{"blocked axis 0", graph.Attrs{"axis": int64(0), "block_size": int64(2)}, []*graph.Tensor{graph.F32([]int{3, 2}, []float32{1, 2, 3, 4, 5, 6}), graph.F32([]int{2, 2}, []float32{1, 2, 4, 8}), graph.FromSlice([]int{2, 2}, []int16{0, 0, -10, 10})}, graph.Int16, []int64{1, 1, 3, 2, -9, 11}},
		{"int32 x", nil, []*graph.Tensor{graph.FromSlice([]int{3}, []int32{5, -7, 1000}), graph.ScalarF32(2)}, graph.Uint8, []int64{2, 0, 255}},
	}
	for _, c := range cases {
		got := quantize(t, c.attrs, c.in...)
		if got.DType != c.dt || !slices.Equal(ints64(got), c.want) {
			t.Errorf("%s: got %s %v, want %s %v", c.name, got.DType, ints64(got), c.dt, c.want)
		}
	}
}

// float16 x and scale divide in float16 (the precision is y_scale's
// type): 1001 / 3.330078125 = 300.59... rounds to 300.5 in float16, then
// half to even to 300; in float32 (precision 1) it rounds to 301. ONNX
// Runtime 1.24.3 truncates float16 quotients toward zero instead, so this
// is checked against the specification only.
func TestQuantizeLinearFloat16(t *testing.T) {
	x := halves(1001, -56.96875, 81.75, 2.5, -3.5)
	s := graph.FromSlice([]int{}, []graph.Half{graph.F16(3.330078125)})
	one := graph.FromSlice([]int{}, []graph.Half{graph.F16(1)})
	if got := quantize(t, graph.Attrs{"output_dtype": int64(5)}, x, s); ints64(got)[0] != 300 {
		t.Errorf("float16 precision: got %v, want 300 first", ints64(got))
	}
	if got := quantize(t, graph.Attrs{"output_dtype": int64(5), "precision": int64(1)}, x, s); ints64(got)[0] != 301 {
		t.Errorf("float32 precision: got %v, want 301 first", ints64(got))
	}
	// float32 x with precision float16 rounds both operands to float16.
	x32 := graph.F32([]int{1}, []float32{1001})
	if got := quantize(t, graph.Attrs{"output_dtype": int64(5), "precision": int64(10)}, x32, graph.ScalarF32(3.330078125)); ints64(got)[0] != 300 {
		t.Errorf("float32 x, float16 precision: got %v, want 300", ints64(got))
	}
	if got := quantize(t, nil, x, one, graph.FromSlice([]int{}, []int8{-5})); !slices.Equal(ints64(got), []int64{127, -62, 77, -3, -9}) {
		t.Errorf("float16 ties: got %v", ints64(got))
	}
}

func TestDequantizeLinear(t *testing.T) {
	cases := []struct {
		name  string
		attrs graph.Attrs
		in    []*graph.Tensor
		dt    graph.DType
		want  []float32
	}{
		{"int8", nil, []*graph.Tensor{graph.FromSlice([]int{3}, []int8{-128, 0, 127}), graph.ScalarF32(0.5), graph.FromSlice([]int{}, []int8{-1})}, graph.Float32, []float32{-63.5, 0.5, 64}},
		{"int32 no zero point", nil, []*graph.Tensor{graph.FromSlice([]int{2}, []int32{-1 << 20, 3}), graph.ScalarF32(0.25)}, graph.Float32, []float32{-(1 << 18), 0.75}},
		{"per-axis", nil, []*graph.Tensor{graph.FromSlice([]int{2, 2}, []uint8{1, 2, 3, 4}), graph.F32([]int{2}, []float32{1, 10}), graph.FromSlice([]int{2}, []uint8{1, 0})}, graph.Float32, []float32{0, 20, 2, 40}},
		{"blocked int16", graph.Attrs{"axis": int64(-1), "block_size": int64(2)}, []*graph.Tensor{graph.FromSlice([]int{1, 3}, []int16{-30000, 2, 7}), graph.F32([]int{1, 2}, []float32{2, 0.5}), graph.FromSlice([]int{1, 2}, []int16{30000, 1})}, graph.Float32, []float32{-120000, -59996, 3}},
		{"output_dtype float16", graph.Attrs{"output_dtype": int64(10)}, []*graph.Tensor{graph.FromSlice([]int{2}, []uint8{3, 255}), graph.ScalarF32(0.1)}, graph.Float16, []float32{graph.F16(float32(3) * float32(0.1)).Float32(), graph.F16(25.5).Float32()}},
		{"float16 scale", nil, []*graph.Tensor{graph.FromSlice([]int{2}, []uint16{3, 65535}), halves(0.5)}, graph.Float16, []float32{1.5, 32768}},
	}
	for _, c := range cases {
		got := dequantize(t, c.attrs, c.in...)
		gv := make([]float32, got.Len())
		for i := range gv {
			gv[i] = float32(got.Float(i))
		}
		if got.DType != c.dt || !slices.Equal(gv, c.want) {
			t.Errorf("%s: got %s %v, want %s %v", c.name, got.DType, gv, c.dt, c.want)
		}
	}
}

func TestDynamicQuantizeLinear(t *testing.T) {
	run := func(v ...float32) []*graph.Tensor {
		return graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			y, s, z := graph.DynamicQuantizeLinear(in[0])
			return []*graph.Node{y, s, z}
		}, graph.F32([]int{len(v)}, v))
	}
	// Range [-0.55, 2]: scale 2.55/255, zero point 55.
	o := run(0, 2, -0.55, 1)
	if !slices.Equal(ints64(o[0]), []int64{55, 255, 0, 155}) || o[1].F[0] != float32(2.55)/255 || o[2].Int(0) != 55 {
		t.Errorf("got y %v, scale %v, zero point %v", ints64(o[0]), o[1].F, ints64(o[2]))
	}
	// The range always includes 0: all positive gives zero point 0.
	o = run(1, 3)
	if !slices.Equal(ints64(o[0]), []int64{85, 255}) || o[2].Int(0) != 0 {
		t.Errorf("positive: got y %v, zero point %v", ints64(o[0]), ints64(o[2]))
	}
	o = run(0, 0, 0)
	if !slices.Equal(ints64(o[0]), []int64{0, 0, 0}) || o[1].F[0] != 0 || o[2].Int(0) != 0 {
		t.Errorf("zeros: got y %v, scale %v, zero point %v", ints64(o[0]), o[1].F, ints64(o[2]))
	}
}

func TestQLinearMatMul(t *testing.T) {
	qmm := func(xs ...*graph.Tensor) *graph.Tensor {
		return graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.QLinearMatMul(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7])}
		}, xs...)[0]
	}
	a := graph.FromSlice([]int{2, 2}, []uint8{1, 2, 3, 4})
	id := graph.FromSlice([]int{2, 2}, []uint8{1, 0, 0, 1})
	u0 := graph.FromSlice([]int{}, []uint8{0})
	one := graph.ScalarF32(1)
	// a per row: scales 1 and 2, zero points 0 and 1 (as an M-vector and
	// as [M, 1]).
	for _, sh := range [][]int{{2}, {2, 1}} {
		got := qmm(a, graph.F32(sh, []float32{1, 2}), graph.FromSlice(sh, []uint8{0, 1}), id, one, u0, one, u0)
		if !slices.Equal(ints64(got), []int64{1, 2, 4, 6}) {
			t.Errorf("per row %v: got %v", sh, ints64(got))
		}
	}
	// b per column, and y saturating: [[1,2],[3,4]]·diag(3, 100)/2 + 10.
	got := qmm(a, one, u0, id, graph.F32([]int{2}, []float32{3, 100}), graph.FromSlice([]int{2}, []uint8{0, 0}), graph.ScalarF32(2), graph.FromSlice([]int{}, []uint8{10}))
	if !slices.Equal(ints64(got), []int64{12, 110, 14, 210}) {
		t.Errorf("per column: got %v", ints64(got))
	}
	// A 1-D a and ties: (1·1 + 2·0)·0.5 = 0.5 rounds to 0; 1.5 to 2.
	got = qmm(graph.FromSlice([]int{2}, []uint8{1, 3}), graph.ScalarF32(0.5), u0, id, one, u0, one, u0)
	if !slices.Equal(ints64(got), []int64{0, 2}) {
		t.Errorf("vector: got %v", ints64(got))
	}
}

// ConvInteger and QLinearConv agree with Conv (float64, exact on these
// integers) on the operands minus their zero points, per-channel w zero
// points included (which ONNX Runtime does not implement).
func TestConvInteger(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	attrs := graph.Attrs{"pads": ints(1, 0, 0, 2), "strides": ints(1, 2), "group": int64(2)}
	x := randQ(r, graph.Uint8, 0, 255, 2, 4, 5, 6)
	w := randQ(r, graph.Int8, -128, 127, 6, 2, 2, 3)
	xz := graph.FromSlice([]int{}, []uint8{131})
	wz := randQ(r, graph.Int8, -128, 127, 6)
	// The reference: Conv on float64 x - xz and w - wz[m].
	xf := graph.NewTensor(graph.Float64, x.Shape)
	for i := range graph.Data[float64](xf) {
		graph.Data[float64](xf)[i] = float64(x.Int(i) - 131)
	}
	wf := graph.NewTensor(graph.Float64, w.Shape)
	per := w.Len() / 6
	for i := range graph.Data[float64](wf) {
		graph.Data[float64](wf)[i] = float64(w.Int(i) - wz.Int(i/per))
	}
	ref := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Conv(in[0], in[1], nil, attrs)}
	}, xf, wf)[0]
	got := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ConvInteger(in[0], in[1], in[2], in[3], attrs)}
	}, x, w, xz, wz)[0]
	if got.DType != graph.Int32 || !slices.Equal(got.Shape, ref.Shape) {
		t.Fatalf("ConvInteger gives %s %v, want int32 %v", got.DType, got.Shape, ref.Shape)
	}
	for i := 0; i < got.Len(); i++ {
		if float64(got.Int(i)) != ref.Float(i) {
			t.Fatalf("ConvInteger[%d] = %d, Conv %v", i, got.Int(i), ref.Float(i))
		}
	}
	// QLinearConv: the same accumulator plus B, times x_scale·w_scale[m]/
	// y_scale in float32, rounded half to even, plus y's zero point,
	// saturated.
	b := randQ(r, graph.Int32, -3000, 3000, 6)
	ws := graph.F32([]int{6}, []float32{0.5, 0.25, 1, 0.125, 2, 0.0625})
	q := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.QLinearConv(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], attrs)}
	}, x, graph.ScalarF32(0.5), xz, w, ws, wz, graph.ScalarF32(64), graph.FromSlice([]int{}, []int8{3}), b)[0]
	p := graph.Size(got.Shape[2:])
	for i := 0; i < q.Len(); i++ {
		m := (i / p) % 6
		v := float64(float32(got.Int(i)+b.Int(m)) * (float32(0.5) * ws.F[m] / 64))
		want := min(max(roundEven(v)+3, -128), 127)
		if float64(q.Int(i)) != want {
			t.Fatalf("QLinearConv[%d] = %d, want %v", i, q.Int(i), want)
		}
	}
}

func roundEven(v float64) float64 {
	f := float64(int64(v))
	d := v - f
	switch {
	case d > 0.5 || d == 0.5 && int64(f)%2 != 0:
		return f + 1
	case d < -0.5 || d == -0.5 && int64(f)%2 != 0:
		return f - 1
	}
	return f
}

// Bad inputs are errors, not panics; element types odmn lacks are
// unsupported.
func TestQuantOpsBadInputs(t *testing.T) {
	f32 := func(shape ...int) *graph.Tensor { return graph.NewTensor(graph.Float32, shape) }
	q := func(dt graph.DType, shape ...int) *graph.Tensor { return graph.NewTensor(dt, shape) }
	quant := func(attrs graph.Attrs) func(*graph.Graph, []*graph.Node) []*graph.Node {
		return func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			var zp *graph.Node
			if len(in) > 2 {
				zp = in[2]
			}
			return []*graph.Node{graph.QuantizeLinear(in[0], in[1], zp, attrs)}
		}
	}
	dequant := func(attrs graph.Attrs) func(*graph.Graph, []*graph.Node) []*graph.Node {
		return func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			var zp *graph.Node
			if len(in) > 2 {
				zp = in[2]
			}
			return []*graph.Node{graph.DequantizeLinear(in[0], in[1], zp, attrs)}
		}
	}
	qmm := func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.QLinearMatMul(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7])}
	}
	convInt := func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ConvInteger(in[0], in[1], in[2], in[3], nil)}
	}
	qconv := func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.QLinearConv(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], nil)}
	}
	u8, i8 := q(graph.Uint8), q(graph.Int8)
	cases := []struct {
		name        string
		build       func(*graph.Graph, []*graph.Node) []*graph.Node
		in          []*graph.Tensor
		want        string
		unsupported bool
	}{
		{"per-axis length", quant(nil), []*graph.Tensor{f32(2, 3), f32(4)}, "scale has 4 values", false},
		{"axis out of range", quant(graph.Attrs{"axis": int64(2)}), []*graph.Tensor{f32(2, 3), f32(3)}, "axis 2 out of range", false},
		{"2-D scale without block_size", quant(nil), []*graph.Tensor{f32(2, 3), f32(2, 3)}, "without block_size", false},
		{"blocks count", quant(graph.Attrs{"block_size": int64(2)}), []*graph.Tensor{f32(2, 5), f32(2, 2)}, "make 3", false},
		{"blocked rank", quant(graph.Attrs{"block_size": int64(2)}), []*graph.Tensor{f32(2, 4), f32(2)}, "x's rank", false},
		{"blocked other dims", quant(graph.Attrs{"block_size": int64(2)}), []*graph.Tensor{f32(2, 4), f32(3, 2)}, "except along axis", false},
		{"negative block_size", quant(graph.Attrs{"block_size": int64(-1)}), []*graph.Tensor{f32(2, 4), f32(2, 2)}, "must not be negative", false},
		{"zero point shape", quant(nil), []*graph.Tensor{f32(2, 3), f32(3), q(graph.Int8, 2)}, "y_zero_point has shape", false},
		{"output_dtype float", quant(graph.Attrs{"output_dtype": int64(1)}), []*graph.Tensor{f32(2), f32()}, "not a quantized type", false},
		{"output_dtype vs zero point", quant(graph.Attrs{"output_dtype": int64(3)}), []*graph.Tensor{f32(2), f32(), u8}, "differs from y_zero_point", false},
		{"output_dtype float8", quant(graph.Attrs{"output_dtype": int64(17)}), []*graph.Tensor{f32(2), f32()}, "float8", true},
		{"output_dtype nonsense", quant(graph.Attrs{"output_dtype": int64(1000)}), []*graph.Tensor{f32(2), f32()}, "not a data type", false},
		{"precision int", quant(graph.Attrs{"precision": int64(6)}), []*graph.Tensor{f32(2), f32()}, "not a floating-point", false},
		{"precision bfloat16", quant(graph.Attrs{"precision": int64(16)}), []*graph.Tensor{f32(2), f32()}, "bfloat16", true},
		{"int8 x", quant(nil), []*graph.Tensor{q(graph.Int8, 2), f32()}, "element type int8", false},
		{"int32 zero point", quant(nil), []*graph.Tensor{f32(2), f32(), q(graph.Int32)}, "element type int32", false},
		{"dequant zero point type", dequant(nil), []*graph.Tensor{q(graph.Int8, 2), f32(), u8}, "must agree", false},
		{"dequant float x", dequant(nil), []*graph.Tensor{f32(2), f32()}, "element type float32", false},
		{"dequant output_dtype bfloat16", dequant(graph.Attrs{"output_dtype": int64(16)}), []*graph.Tensor{u8, f32()}, "bfloat16", true},
		{"dequant output_dtype int", dequant(graph.Attrs{"output_dtype": int64(6)}), []*graph.Tensor{u8, f32()}, "not float", false},
		{"dequant blocked", dequant(graph.Attrs{"block_size": int64(3)}), []*graph.Tensor{q(graph.Uint8, 2, 7), f32(2, 2)}, "make 3", false},
		{"qmm zero point type", qmm, []*graph.Tensor{q(graph.Uint8, 2, 3), f32(), i8, q(graph.Uint8, 3, 2), f32(), u8, f32(), u8}, "must agree", false},
		{"qmm scales differ", qmm, []*graph.Tensor{q(graph.Uint8, 2, 3), f32(), u8, q(graph.Uint8, 3, 2), q(graph.Float16), u8, f32(), u8}, "scales must agree", false},
		{"qmm y per-tensor only", qmm, []*graph.Tensor{q(graph.Uint8, 2, 3), f32(), u8, q(graph.Uint8, 3, 2), f32(), u8, f32(2), q(graph.Uint8, 2)}, "y_scale", true},
		{"qmm inner dims", qmm, []*graph.Tensor{q(graph.Uint8, 2, 3), f32(), u8, q(graph.Uint8, 4, 2), f32(), u8, f32(), u8}, "inner dimensions", false},
		{"qmm a per row length", qmm, []*graph.Tensor{q(graph.Uint8, 2, 3), f32(3), q(graph.Uint8, 3), q(graph.Uint8, 3, 2), f32(), u8, f32(), u8}, "scale has 3 values", false},
		{"qmm b per row", qmm, []*graph.Tensor{q(graph.Uint8, 2, 3), f32(), u8, q(graph.Uint8, 3, 2), f32(3, 1), q(graph.Uint8, 3, 1), f32(), u8}, "per column", false},
		{"qmm int16", qmm, []*graph.Tensor{q(graph.Int16, 2, 3), f32(), q(graph.Int16), q(graph.Uint8, 3, 2), f32(), u8, f32(), u8}, "element type int16", false},
		{"convinteger w zero point length", convInt, []*graph.Tensor{q(graph.Uint8, 1, 2, 5), q(graph.Uint8, 3, 2, 2), u8, q(graph.Uint8, 2)}, "one per output channel", false},
		{"convinteger x zero point", convInt, []*graph.Tensor{q(graph.Uint8, 1, 2, 5), q(graph.Uint8, 3, 2, 2), q(graph.Uint8, 2), u8}, "one value", false},
		{"convinteger channels", convInt, []*graph.Tensor{q(graph.Uint8, 1, 2, 5), q(graph.Uint8, 3, 3, 2), u8, u8}, "channels", false},
		{"qlinearconv bias length", qconv, []*graph.Tensor{q(graph.Uint8, 1, 2, 5), f32(), u8, q(graph.Int8, 3, 2, 2), f32(), i8, f32(), u8, q(graph.Int32, 2)}, "B must have shape", false},
		{"qlinearconv bias type", qconv, []*graph.Tensor{q(graph.Uint8, 1, 2, 5), f32(), u8, q(graph.Int8, 3, 2, 2), f32(), i8, f32(), u8, f32(3)}, "element type float32", false},
		{"qlinearconv w_scale", qconv, []*graph.Tensor{q(graph.Uint8, 1, 2, 5), f32(), u8, q(graph.Int8, 3, 2, 2), f32(2), i8, f32(), u8, q(graph.Int32, 3)}, "w_scale", false},
	}
	for _, c := range cases {
		_, err := graphtest.Build(c.build, c.in...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
			continue
		}
		var ue *graph.UnsupportedError
		if errors.As(err, &ue) != c.unsupported {
			t.Errorf("%s: %v: unsupported = %v, want %v", c.name, err, !c.unsupported, c.unsupported)
		}
	}
}

// Shapes unknown while building are checked when the graph runs.
func TestQuantizeLinearRunTimeShapes(t *testing.T) {
	g := graph.New("q")
	x := g.Input("x", graph.Float32, 2, -1)
	s := g.Input("s", graph.Float32, -1)
	g.SetOutput("y", graph.QuantizeLinear(x, s, nil, nil))
	ns, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ns.Run(map[string]*graph.Tensor{"x": graph.NewTensor(graph.Float32, []int{2, 3}), "s": graph.NewTensor(graph.Float32, []int{4})})
	if err == nil || !strings.Contains(err.Error(), "scale has 4 values") {
		t.Errorf("got %v", err)
	}
}
