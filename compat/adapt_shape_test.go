package compat_test

import (
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// TestShapeOpUpgrades imports the older forms of Pad, TopK, Split and
// Dropout (attributes where later versions take inputs) and runs them.
func TestShapeOpUpgrades(t *testing.T) {
	x := graph.F32([]int{2, 2}, []float32{1, 2, 3, 4})
	f32x := []*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 2)}

	res := runModel(t, mkModel(10, []*onnxpb.NodeProto{node("p", "Pad", []string{"x"}, []string{"y"},
		attrInts("pads", 0, 1, 0, 0), attrF("value", 5), attrS("mode", "constant"))}, f32x, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
		map[string]*graph.Tensor{"x": x})
	expect(t, res["y"], []int{2, 3}, []float64{5, 1, 2, 5, 3, 4})

	res = runModel(t, mkModel(9, []*onnxpb.NodeProto{node("k", "TopK", []string{"x"}, []string{"v", "i"}, attrI("k", 1))},
		f32x, []*onnxpb.ValueInfoProto{out("v", tFloat), out("i", tInt64)}), map[string]*graph.Tensor{"x": x})
	expect(t, res["v"], []int{2, 1}, []float64{2, 4})
	expect(t, res["i"], []int{2, 1}, []float64{1, 1})

	res = runModel(t, mkModel(10, []*onnxpb.NodeProto{node("s", "Split", []string{"x"}, []string{"a", "b"},
		attrI("axis", 1), attrInts("split", 1, 1))}, f32x, []*onnxpb.ValueInfoProto{out("a", tFloat), out("b", tFloat)}),
		map[string]*graph.Tensor{"x": x})
	expect(t, res["a"], []int{2, 1}, []float64{1, 3})
	expect(t, res["b"], []int{2, 1}, []float64{2, 4})

	// Split-13 into equal parts along a dimension known only at run time:
	// imported as Split-18 with num_outputs.
	res = runModel(t, mkModel(13, []*onnxpb.NodeProto{node("s", "Split", []string{"x"}, []string{"a", "b"})},
		[]*onnxpb.ValueInfoProto{vi("x", tFloat, -1, 2)}, []*onnxpb.ValueInfoProto{out("a", tFloat), out("b", tFloat)}),
		map[string]*graph.Tensor{"x": graph.F32([]int{4, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8})})
	expect(t, res["a"], []int{2, 2}, []float64{1, 2, 3, 4})
	expect(t, res["b"], []int{2, 2}, []float64{5, 6, 7, 8})

	res = runModel(t, mkModel(10, []*onnxpb.NodeProto{node("d", "Dropout", []string{"x"}, []string{"y", "m"}, attrF("ratio", 0.3))},
		f32x, []*onnxpb.ValueInfoProto{out("y", tFloat), out("m", tBool)}), map[string]*graph.Tensor{"x": x})
	expect(t, res["y"], []int{2, 2}, []float64{1, 2, 3, 4})
	expect(t, res["m"], []int{2, 2}, []float64{1, 1, 1, 1})
}
