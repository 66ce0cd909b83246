package compat_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// TestLpPoolV1 imports LpPool-1 and GlobalLpPool-1, whose p is a float.
func TestLpPoolV1(t *testing.T) {
	x := graph.F32([]int{1, 1, 4}, []float32{-3, 4, 0, 2})
	in := []*onnxpb.ValueInfoProto{vi("x", tFloat, 1, 1, 4)}
	y := []*onnxpb.ValueInfoProto{out("y", tFloat)}
	feed := map[string]*graph.Tensor{"x": x}
	lp := func(attrs ...*onnxpb.AttributeProto) *onnxpb.ModelProto {
		return mkModel(1, []*onnxpb.NodeProto{node("p", "LpPool", []string{"x"}, []string{"y"}, append(attrs, attrInts("kernel_shape", 2))...)}, in, y)
	}
	expect(t, runModel(t, lp(), feed)["y"], []int{1, 1, 3}, []float64{5, 4, 2}) // p defaults to 2
	expect(t, runModel(t, lp(attrF("p", 1)), feed)["y"], []int{1, 1, 3}, []float64{7, 4, 2})
	g := mkModel(1, []*onnxpb.NodeProto{node("p", "GlobalLpPool", []string{"x"}, []string{"y"}, attrF("p", 3))}, in, y)
	expect(t, runModel(t, g, feed)["y"], []int{1, 1, 1}, []float64{math.Cbrt(27 + 64 + 8)})

	_, err := compat.Import(lp(attrF("p", 1.5)))
	var na *compat.NotApplicableError
	if !errors.As(err, &na) || !strings.Contains(err.Error(), "p = 1.5") {
		t.Fatalf("LpPool-1 with p = 1.5: %v", err)
	}
}

// TestGroupNormalizationV18 imports GroupNormalization-18 (scale and bias
// per group), with the channel count known and only known at run time,
// and checks it against the same model at 21 with each group's values
// repeated per channel.
func TestGroupNormalizationV18(t *testing.T) {
	x := graph.F32([]int{2, 4, 3}, []float32{1, 2, 3, 4, 5, 6, -1, 0, 2, 8, 8, 8, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8})
	s18 := graph.F32([]int{2}, []float32{2, -1})
	b18 := graph.F32([]int{2}, []float32{0.5, 3})
	s21 := graph.F32([]int{4}, []float32{2, 2, -1, -1})
	b21 := graph.F32([]int{4}, []float32{0.5, 0.5, 3, 3})
	gn := func(opset int64, xdims []int64, np int64) *onnxpb.ModelProto {
		return mkModel(opset, []*onnxpb.NodeProto{node("g", "GroupNormalization", []string{"x", "s", "b"}, []string{"y"}, attrI("num_groups", 2))},
			[]*onnxpb.ValueInfoProto{vi("x", tFloat, xdims...), vi("s", tFloat, np), vi("b", tFloat, np)}, []*onnxpb.ValueInfoProto{out("y", tFloat)})
	}
	want := runModel(t, gn(21, []int64{2, 4, 3}, 4), map[string]*graph.Tensor{"x": x, "s": s21, "b": b21})["y"]
	wv := make([]float64, want.Len())
	for i := range wv {
		wv[i] = want.Float(i)
	}
	for _, opset := range []int64{18, 19, 20} {
		for _, dims := range [][]int64{{2, 4, 3}, {-1, -1, -1}} {
			got := runModel(t, gn(opset, dims, 2), map[string]*graph.Tensor{"x": x, "s": s18, "b": b18})["y"]
			expect(t, got, []int{2, 4, 3}, wv)
		}
	}
	// A group count that does not divide the channels, and 21's
	// per-channel shapes at 18, are errors.
	if _, err := compat.Import(gn(18, []int64{2, 4, 3}, 4)); err == nil || !strings.Contains(err.Error(), "must have shape [2] (num_groups)") {
		t.Fatalf("per-channel scale at 18: %v", err)
	}
	bad := gn(18, []int64{2, 6, 3}, 4)
	bad.Graph.Node[0].Attribute = []*onnxpb.AttributeProto{attrI("num_groups", 4)}
	if _, err := compat.Import(bad); err == nil || !strings.Contains(err.Error(), "does not divide the 6 channels") {
		t.Fatalf("4 groups of 6 channels: %v", err)
	}

	// 18 computes in X's type: a double X keeps double precision (21's
	// default stash_type would round X to float32 first, which here makes
	// the group constant and the output the bias, 1).
	const tDouble = 11
	xd := graph.NewTensor(graph.Float64, []int{1, 2, 2})
	copy(graph.Data[float64](xd), []float64{1, 1 + 1e-9, 1 + 2e-9, 1 + 3e-9})
	pd := graph.NewTensor(graph.Float64, []int{1})
	graph.Data[float64](pd)[0] = 1
	m := mkModel(18, []*onnxpb.NodeProto{node("g", "GroupNormalization", []string{"x", "s", "b"}, []string{"y"}, attrI("num_groups", 1), attrF("epsilon", 1e-30))},
		[]*onnxpb.ValueInfoProto{vi("x", tDouble, 1, 2, 2), vi("s", tDouble, 1), vi("b", tDouble, 1)}, []*onnxpb.ValueInfoProto{out("y", tDouble)})
	got := runModel(t, m, map[string]*graph.Tensor{"x": xd, "s": pd, "b": pd})["y"]
	if math.Abs(got.Float(0)-(1-3/math.Sqrt(5))) > 1e-6 || math.Abs(got.Float(3)-(1+3/math.Sqrt(5))) > 1e-6 {
		t.Fatalf("GroupNormalization-18 on doubles: %v (not computed in double)", got)
	}
}

// TestHardmaxV11 imports Hardmax-11, which coerces the input to 2-D at
// axis: on [2, 2, 2] with axis 1 it is one-hot over 4 elements per batch.
func TestHardmaxV11(t *testing.T) {
	x := graph.F32([]int{2, 2, 2}, []float32{1, 5, 7, 2, 3, 3, 0, -1})
	for _, opset := range []int64{1, 11, 12} {
		m := mkModel(opset, []*onnxpb.NodeProto{node("h", "Hardmax", []string{"x"}, []string{"y"})},
			[]*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 2, 2)}, []*onnxpb.ValueInfoProto{out("y", tFloat)})
		expect(t, runModel(t, m, map[string]*graph.Tensor{"x": x})["y"], []int{2, 2, 2}, []float64{0, 0, 1, 0, 1, 0, 0, 0})
	}
}
