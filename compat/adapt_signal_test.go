package compat_test

import (
	"strings"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// TestSignalOpUpgrades imports DFT-17 (axis attribute), GridSample-16
// (bilinear/bicubic names) and RoiAlign-10 (no coordinate mode: output
// half-pixel) and runs them.
func TestSignalOpUpgrades(t *testing.T) {
	// DFT-17 along axis 1 of [1, 4, 1]: the DFT of 1, 2, 3, 4.
	x := graph.F32([]int{1, 4, 1}, []float32{1, 2, 3, 4})
	res := runModel(t, mkModel(17, []*onnxpb.NodeProto{node("d", "DFT", []string{"x"}, []string{"y"}, attrI("axis", 1))},
		[]*onnxpb.ValueInfoProto{vi("x", tFloat, 1, 4, 1)}, []*onnxpb.ValueInfoProto{out("y", tFloat)}), map[string]*graph.Tensor{"x": x})
	expect(t, res["y"], []int{1, 4, 2}, []float64{10, 0, -2, 2, -2, 0, -2, -2})

	// GridSample-16 bilinear at the image's center: the mean of the 4 pixels.
	img := graph.F32([]int{1, 1, 2, 2}, []float32{1, 2, 3, 4})
	grid := graph.F32([]int{1, 1, 1, 2}, []float32{0, 0})
	gs := func(mode string) *onnxpb.ModelProto {
		return mkModel(16, []*onnxpb.NodeProto{node("g", "GridSample", []string{"x", "g"}, []string{"y"}, attrS("mode", mode))},
			[]*onnxpb.ValueInfoProto{vi("x", tFloat, 1, 1, 2, 2), vi("g", tFloat, 1, 1, 1, 2)}, []*onnxpb.ValueInfoProto{out("y", tFloat)})
	}
	res = runModel(t, gs("bilinear"), map[string]*graph.Tensor{"x": img, "g": grid})
	expect(t, res["y"], []int{1, 1, 1, 1}, []float64{2.5})
	if _, err := compat.Import(gs("linear")); err == nil || !strings.Contains(err.Error(), "bilinear") {
		t.Errorf("GridSample-16 mode linear: got %v, want a refusal naming the version's modes", err)
	}

	// RoiAlign-10 on a ramp: output_half_pixel samples x at 0.5 and 1.5.
	ramp := graph.F32([]int{1, 1, 1, 4}, []float32{0, 1, 2, 3})
	res = runModel(t, mkModel(10, []*onnxpb.NodeProto{node("r", "RoiAlign", []string{"x", "rois", "b"}, []string{"y"}, attrI("sampling_ratio", 2))},
		[]*onnxpb.ValueInfoProto{vi("x", tFloat, 1, 1, 1, 4), vi("rois", tFloat, 1, 4), vi("b", tInt64, 1)}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
		map[string]*graph.Tensor{"x": ramp, "rois": graph.F32([]int{1, 4}, []float32{0, 0, 2, 0}), "b": graph.I64([]int{1}, []int64{0})})
	expect(t, res["y"], []int{1, 1, 1, 1}, []float64{1})
}
