package compat_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// TestResizeUpsampleVersions imports Upsample-7/9 and Resize-10, which
// the importer rewrites (scales attribute to input; Resize-10's asymmetric
// coordinates and its rounding: ceil where an axis shrinks, floor where it
// grows), and refuses Upsample at opset 10, where it is deprecated.
func TestResizeUpsampleVersions(t *testing.T) {
	x22 := map[string]*graph.Tensor{"x": graph.F32([]int{2, 2}, []float32{1, 2, 3, 4})}
	in22 := []*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 2)}
	y := []*onnxpb.ValueInfoProto{out("y", tFloat)}
	floats := func(name string, v ...float32) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: v}
	}

	t.Run("Upsample-7 nearest", func(t *testing.T) {
		m := mkModel(7, []*onnxpb.NodeProto{node("u", "Upsample", []string{"x"}, []string{"y"}, floats("scales", 1, 2))}, in22, y)
		expect(t, runModel(t, m, x22)["y"], []int{2, 4}, []float64{1, 1, 2, 2, 3, 3, 4, 4})
	})
	t.Run("Upsample-9 linear", func(t *testing.T) {
		// asymmetric: x_original = 0, .5, 1, 1.5 (clamped to 1).
		m := mkModel(9, []*onnxpb.NodeProto{node("u", "Upsample", []string{"x", "s"}, []string{"y"}, attrS("mode", "linear"))},
			in22, y, initT(t, "s", graph.F32([]int{2}, []float32{1, 2})))
		expect(t, runModel(t, m, x22)["y"], []int{2, 4}, []float64{1, 1.5, 2, 2, 3, 3.5, 4, 4})
	})
	t.Run("Resize-10 nearest down", func(t *testing.T) {
		// ONNX 1.5's resize_downsample_nearest: x_original = 0, 1/0.6,
		// rounded up: columns 0 and 2.
		x := map[string]*graph.Tensor{"x": graph.F32([]int{2, 4}, []float32{1, 2, 3, 4, 5, 6, 7, 8})}
		m := mkModel(10, []*onnxpb.NodeProto{node("r", "Resize", []string{"x", "s"}, []string{"y"})},
			[]*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 4)}, y, initT(t, "s", graph.F32([]int{2}, []float32{0.6, 0.6})))
		expect(t, runModel(t, m, x)["y"], []int{1, 2}, []float64{1, 3})
	})
	t.Run("Resize-10 nearest up", func(t *testing.T) {
		m := mkModel(10, []*onnxpb.NodeProto{node("r", "Resize", []string{"x", "s"}, []string{"y"})},
			in22, y, initT(t, "s", graph.F32([]int{2}, []float32{1, 1.5})))
		expect(t, runModel(t, m, x22)["y"], []int{2, 3}, []float64{1, 1, 2, 3, 3, 4})
		g, err := compat.Import(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := export.Model(g, export.Options{}); err != nil {
			t.Fatalf("Resize-10 growing (nearest_mode floor) does not export: %v", err)
		}
	})
	t.Run("Resize-10 nearest mixed", func(t *testing.T) {
		// Rows grow (floor of 0, .67, 1.33), columns shrink (ceil of 0,
		// 1.67): no single nearest_mode, so odmn's simple, not exportable.
		x := map[string]*graph.Tensor{"x": graph.F32([]int{2, 4}, []float32{1, 2, 3, 4, 5, 6, 7, 8})}
		m := mkModel(10, []*onnxpb.NodeProto{node("r", "Resize", []string{"x", "s"}, []string{"y"})},
			[]*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 4)}, y, initT(t, "s", graph.F32([]int{2}, []float32{1.5, 0.6})))
		expect(t, runModel(t, m, x)["y"], []int{3, 2}, []float64{1, 3, 1, 3, 5, 7})
		g, err := compat.Import(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := export.Model(g, export.Options{}); err == nil || !strings.Contains(err.Error(), "simple") {
			t.Fatalf("export of Resize-10's mixed rounding: %v", err)
		}
	})
	t.Run("Resize-11 tf_half_pixel_for_nn", func(t *testing.T) {
		// x_original = (x+0.5)/2 = .25 .75 1.25 1.75: round_prefer_floor
		// gives 0 1 1 2 (clamped to 1); the importer writes half_pixel
		// with ceil, which exports.
		x := map[string]*graph.Tensor{"x": graph.F32([]int{1, 2}, []float32{1, 2})}
		m := mkModel(11, []*onnxpb.NodeProto{node("r", "Resize", []string{"x", "", "s"}, []string{"y"},
			attrS("coordinate_transformation_mode", "tf_half_pixel_for_nn"))},
			[]*onnxpb.ValueInfoProto{vi("x", tFloat, 1, 2)}, y, initT(t, "s", graph.F32([]int{2}, []float32{1, 2})))
		expect(t, runModel(t, m, x)["y"], []int{1, 4}, []float64{1, 2, 2, 2})
		g, err := compat.Import(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := export.Model(g, export.Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Upsample-10 refused", func(t *testing.T) {
		m := mkModel(10, []*onnxpb.NodeProto{node("u", "Upsample", []string{"x", "s"}, []string{"y"})},
			in22, y, initT(t, "s", graph.F32([]int{2}, []float32{1, 2})))
		_, err := compat.Import(m)
		var na *compat.NotApplicableError
		if !errors.As(err, &na) {
			t.Fatalf("Upsample at opset 10: %v, want a NotApplicableError", err)
		}
	})
	t.Run("export refuses forms without a later version", func(t *testing.T) {
		m := mkModel(11, []*onnxpb.NodeProto{node("r", "Resize", []string{"x", "", "s"}, []string{"y"},
			attrS("coordinate_transformation_mode", "tf_half_pixel_for_nn"), attrS("nearest_mode", "ceil"))},
			in22, y, initT(t, "s", graph.F32([]int{2}, []float32{1, 2})))
		g, err := compat.Import(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := export.Model(g, export.Options{}); err == nil || !strings.Contains(err.Error(), "tf_half_pixel_for_nn") {
			t.Fatalf("export of tf_half_pixel_for_nn: %v", err)
		}
		m = mkModel(9, []*onnxpb.NodeProto{node("u", "Upsample", []string{"x", "s"}, []string{"y"})},
			in22, y, initT(t, "s", graph.F32([]int{2}, []float32{1, 2})))
		if g, err = compat.Import(m); err != nil {
			t.Fatal(err)
		}
		if _, err := export.Model(g, export.Options{}); err == nil || !strings.Contains(err.Error(), "Upsample") {
			t.Fatalf("export of Upsample: %v", err)
		}
	})
}
