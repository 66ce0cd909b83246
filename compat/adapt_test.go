package compat_test

import (
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"google.golang.org/protobuf/proto"
)

func need(t *testing.T, ops ...string) {
	t.Helper()
	for _, op := range ops {
		if _, ok := graph.Lookup("", op); !ok {
			t.Fatalf("op %s is not registered: this adapter test needs it", op)
		}
	}
}

func seq(shape ...int) *graph.Tensor {
	x := graph.NewTensor(graph.Float32, shape)
	for i := range x.F {
		x.F[i] = float32(i) - 3
	}
	return x
}

// TestAdapters imports older op versions and checks that they compute
// what those versions specify.
func TestAdapters(t *testing.T) {
	x23 := map[string]*graph.Tensor{"x": seq(2, 3)}
	in23 := []*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 3)}
	y := []*onnxpb.ValueInfoProto{out("y", tFloat)}

	t.Run("Unsqueeze-11", func(t *testing.T) {
		need(t, "Unsqueeze")
		m := mkModel(11, []*onnxpb.NodeProto{node("u", "Unsqueeze", []string{"x"}, []string{"y"}, attrInts("axes", 0, -1))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{1, 2, 3, 1}, []float64{-3, -2, -1, 0, 1, 2})
	})
	t.Run("Squeeze-1", func(t *testing.T) {
		need(t, "Squeeze")
		m := mkModel(1, []*onnxpb.NodeProto{node("s", "Squeeze", []string{"x"}, []string{"y"}, attrInts("axes", 1))},
			[]*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 1, 3)}, y)
		expect(t, runModel(t, m, map[string]*graph.Tensor{"x": seq(2, 1, 3)})["y"], []int{2, 3}, []float64{-3, -2, -1, 0, 1, 2})
	})
	t.Run("ReduceSum-11", func(t *testing.T) {
		need(t, "ReduceSum")
		m := mkModel(11, []*onnxpb.NodeProto{node("r", "ReduceSum", []string{"x"}, []string{"y"}, attrInts("axes", 1), attrI("keepdims", 0))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2}, []float64{-6, 3})
	})
	t.Run("ReduceSum-11 all axes", func(t *testing.T) {
		need(t, "ReduceSum")
		m := mkModel(11, []*onnxpb.NodeProto{node("r", "ReduceSum", []string{"x"}, []string{"y"})}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{1, 1}, []float64{-3})
	})
	t.Run("ReduceMean-18 constant axes", func(t *testing.T) {
		need(t, "ReduceMean")
		m := mkModel(18, []*onnxpb.NodeProto{
			node("a", "Constant", nil, []string{"axes"}, &onnxpb.AttributeProto{Name: strp("value_ints"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: []int64{0}}),
			node("r", "ReduceMean", []string{"x", "axes"}, []string{"y"}),
		}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{1, 3}, []float64{-1.5, -0.5, 0.5})
	})
	t.Run("ReduceMax-18 initializer axes", func(t *testing.T) {
		need(t, "ReduceMax")
		m := mkModel(18, []*onnxpb.NodeProto{node("r", "ReduceMax", []string{"x", "axes"}, []string{"y"}, attrI("keepdims", 0))}, in23, y,
			initT(t, "axes", graph.I64([]int{1}, []int64{-1})))
		expect(t, runModel(t, m, x23)["y"], []int{2}, []float64{-1, 2})
	})
	t.Run("ReduceMean-18 noop", func(t *testing.T) {
		need(t, "ReduceMean")
		m := mkModel(18, []*onnxpb.NodeProto{node("r", "ReduceMean", []string{"x"}, []string{"y"}, attrI("noop_with_empty_axes", 1))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2, 3}, []float64{-3, -2, -1, 0, 1, 2})
	})
	t.Run("ReduceMean-18 axes from an input", func(t *testing.T) {
		need(t, "ReduceMean")
		m := mkModel(18, []*onnxpb.NodeProto{node("r", "ReduceMean", []string{"x", "axes"}, []string{"y"})},
			append(in23, vi("axes", tInt64, 1)), y)
		feeds := map[string]*graph.Tensor{"x": seq(2, 3), "axes": graph.I64([]int{1}, []int64{1})}
		expect(t, runModel(t, m, feeds)["y"], []int{2, 1}, []float64{-2, 1})
		// Exported again, it keeps opset 18's form (the axes an input), and
		// the model declares opset 18.
		g, err := compat.Import(m)
		if err != nil {
			t.Fatal(err)
		}
		em, err := export.Model(g, export.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if v := em.GetOpsetImport()[0].GetVersion(); v != 18 {
			t.Fatalf("exported at opset %d, want 18", v)
		}
		back, err := proto.Marshal(em)
		if err != nil {
			t.Fatal(err)
		}
		var m2 onnxpb.ModelProto
		if err := proto.Unmarshal(back, &m2); err != nil {
			t.Fatal(err)
		}
		expect(t, runModel(t, &m2, feeds)["y"], []int{2, 1}, []float64{-2, 1})
	})
	softmax := func(v []float64) []float64 {
		mx := math.Inf(-1)
		for _, x := range v {
			mx = math.Max(mx, x)
		}
		s := 0.0
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = math.Exp(x - mx)
			s += out[i]
		}
		for i := range out {
			out[i] /= s
		}
		return out
	}
	x234 := seq(2, 3, 4)
	var rows [][]float64 // x234 as rows of 12 (axis 1 of the legacy semantics)
	for r := 0; r < 2; r++ {
		var row []float64
		for i := 0; i < 12; i++ {
			row = append(row, float64(x234.F[r*12+i])*0.3)
		}
		rows = append(rows, row)
	}
	for i := range x234.F {
		x234.F[i] *= 0.3
	}
	in234 := []*onnxpb.ValueInfoProto{vi("x", tFloat, 2, 3, 4)}
	t.Run("Softmax-11 default axis", func(t *testing.T) {
		need(t, "Softmax", "Flatten", "Shape", "Reshape")
		m := mkModel(11, []*onnxpb.NodeProto{node("s", "Softmax", []string{"x"}, []string{"y"})}, in234, y)
		want := append(softmax(rows[0]), softmax(rows[1])...)
		expect(t, runModel(t, m, map[string]*graph.Tensor{"x": x234})["y"], []int{2, 3, 4}, want)
	})
	t.Run("LogSoftmax-1 last axis", func(t *testing.T) {
		need(t, "LogSoftmax")
		m := mkModel(1, []*onnxpb.NodeProto{node("s", "LogSoftmax", []string{"x"}, []string{"y"}, attrI("axis", 2))}, in234, y)
		var want []float64
		for i := 0; i < 6; i++ {
			for _, v := range softmax(rows[i/3][(i%3)*4 : (i%3)*4+4]) {
				want = append(want, math.Log(v))
			}
		}
		expect(t, runModel(t, m, map[string]*graph.Tensor{"x": x234})["y"], []int{2, 3, 4}, want)
	})
	t.Run("Clip-6", func(t *testing.T) {
		need(t, "Clip")
		m := mkModel(6, []*onnxpb.NodeProto{node("c", "Clip", []string{"x"}, []string{"y"}, attrF("min", -1.5), attrF("max", 1))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2, 3}, []float64{-1.5, -1.5, -1, 0, 1, 1})
	})
	t.Run("Clip-6 max only", func(t *testing.T) {
		need(t, "Clip")
		m := mkModel(6, []*onnxpb.NodeProto{node("c", "Clip", []string{"x"}, []string{"y"}, attrF("max", 0))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2, 3}, []float64{-3, -2, -1, 0, 0, 0})
	})
	t.Run("Add-6 legacy broadcast", func(t *testing.T) {
		need(t, "Add", "Unsqueeze")
		m := mkModel(6, []*onnxpb.NodeProto{node("a", "Add", []string{"x", "b"}, []string{"y"}, attrI("broadcast", 1), attrI("axis", 0))},
			append(in23, vi("b", tFloat, 2)), y)
		res := runModel(t, m, map[string]*graph.Tensor{"x": seq(2, 3), "b": graph.F32([]int{2}, []float32{10, 20})})
		expect(t, res["y"], []int{2, 3}, []float64{7, 8, 9, 20, 21, 22})
	})
	t.Run("Mul-1 same shape", func(t *testing.T) {
		need(t, "Mul")
		m := mkModel(1, []*onnxpb.NodeProto{node("a", "Mul", []string{"x", "x"}, []string{"y"}, attrInts("consumed_inputs", 0, 0))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2, 3}, []float64{9, 4, 1, 0, 1, 4})
	})
	t.Run("Relu-1 consumed_inputs", func(t *testing.T) {
		need(t, "Relu")
		m := mkModel(1, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"}, attrInts("consumed_inputs", 0))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2, 3}, []float64{0, 0, 0, 0, 1, 2})
	})
	t.Run("Reshape-1", func(t *testing.T) {
		need(t, "Reshape")
		m := mkModel(1, []*onnxpb.NodeProto{node("r", "Reshape", []string{"x"}, []string{"y"}, attrInts("shape", 3, -1))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{3, 2}, []float64{-3, -2, -1, 0, 1, 2})
	})
	t.Run("Concat-1 default axis", func(t *testing.T) {
		need(t, "Concat")
		m := mkModel(1, []*onnxpb.NodeProto{node("c", "Concat", []string{"x", "x"}, []string{"y"})}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2, 6}, []float64{-3, -2, -1, -3, -2, -1, 0, 1, 2, 0, 1, 2})
	})
	t.Run("Slice-1", func(t *testing.T) {
		need(t, "Slice")
		m := mkModel(1, []*onnxpb.NodeProto{node("s", "Slice", []string{"x"}, []string{"y"}, attrInts("starts", 1), attrInts("ends", 3), attrInts("axes", 1))}, in23, y)
		expect(t, runModel(t, m, x23)["y"], []int{2, 2}, []float64{-2, -1, 1, 2})
	})
	t.Run("Cast-1", func(t *testing.T) {
		need(t, "Cast")
		m := mkModel(1, []*onnxpb.NodeProto{node("c", "Cast", []string{"x"}, []string{"y"}, attrS("to", "INT64"))}, in23, []*onnxpb.ValueInfoProto{out("y", tInt64)})
		expect(t, runModel(t, m, x23)["y"], []int{2, 3}, []float64{-3, -2, -1, 0, 1, 2})
	})
}

func strp(s string) *string { return &s }

// A node of an older version without its data input is an error naming
// the node, not a panic in the upgrade steps that read that input.
func TestAdaptMissingDataInput(t *testing.T) {
	for _, c := range []struct {
		op    string
		opset int64
	}{{"Split", 9}, {"Pad", 9}, {"TopK", 9}, {"Upsample", 7}, {"Resize", 10}, {"Slice", 9}, {"Clip", 9}} {
		m := mkModel(c.opset, []*onnxpb.NodeProto{node("n", c.op, nil, []string{"y"})}, nil, []*onnxpb.ValueInfoProto{vi("y", tFloat, 2)})
		_, err := compat.Import(m)
		if err == nil || !strings.Contains(err.Error(), `"n"`) {
			t.Errorf("%s-%d without inputs: %v, want an error naming node \"n\"", c.op, c.opset, err)
		}
	}
}
