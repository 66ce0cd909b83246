package native_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime/native"
)

// Models whose shapes, fixed or computed at run time, ask for huge
// tensors: the run must fail cleanly before allocating, naming the node
// and the size (not abort with out-of-memory, panic, or wrap to 0).

func hvi(name string, et onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.ValueInfoProto {
	sh := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		sh.Dim = append(sh.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(et)), Shape: sh}}}}
}

func hnode(name, op string, in []string, out ...string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: out}
}

func i64Init(name string, v ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(7), Dims: []int64{int64(len(v))}, Int64Data: v}
}

func hmodel(nodes []*onnxpb.NodeProto, in, out []*onnxpb.ValueInfoProto, inits ...*onnxpb.TensorProto) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph:       &onnxpb.GraphProto{Name: proto.String("hostile"), Node: nodes, Input: in, Output: out, Initializer: inits},
	}
}

func hout(name string, et onnxpb.TensorProto_DataType) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(et))}}}}
}

func TestHostileShapes(t *testing.T) {
	f, i64 := onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT64
	y := []*onnxpb.ValueInfoProto{hout("y", f)}
	x1 := []*onnxpb.ValueInfoProto{hvi("x", f, -1, 1)}
	cases := []struct {
		name   string
		m      *onnxpb.ModelProto
		feed   map[string]*graph.Tensor
		opts   native.Options
		needOp string // the case runs once this op is in the vocabulary
		own    bool   // the op's own inference refuses it (not a *native.SizeError)
		want   []string
	}{
		{name: "ConstantOfShape 2^40",
			m:    hmodel([]*onnxpb.NodeProto{hnode("big", "ConstantOfShape", []string{"s"}, "y")}, nil, y, i64Init("s", 1<<40)),
			want: []string{`node "big" (ConstantOfShape)`, "[1099511627776]", "1.1e+12 elements", "limit of 2147483648"}},
		{name: "ConstantOfShape wrapping to 0",
			m:    hmodel([]*onnxpb.NodeProto{hnode("wrap", "ConstantOfShape", []string{"s"}, "y")}, nil, y, i64Init("s", 1<<32, 1<<32)),
			want: []string{`node "wrap" (ConstantOfShape)`, "[4294967296 4294967296]", "1.845e+19 elements"}},
		{name: "ConstantOfShape from a run-time shape",
			m:    hmodel([]*onnxpb.NodeProto{hnode("cs", "ConstantOfShape", []string{"s"}, "y")}, []*onnxpb.ValueInfoProto{hvi("s", i64, 3)}, y),
			feed: map[string]*graph.Tensor{"s": graph.I64([]int{3}, []int64{1 << 21, 1 << 21, 1 << 21})},
			want: []string{`node "cs" (ConstantOfShape)`, "9.223e+18 elements"}},
		{name: "Expand to [N, 2^36]",
			m: hmodel([]*onnxpb.NodeProto{hnode("ex", "Expand", []string{"x", "s"}, "y")},
				[]*onnxpb.ValueInfoProto{hvi("x", f, -1, 1), hvi("s", i64, 2)}, y),
			feed: map[string]*graph.Tensor{"x": graph.F32([]int{2, 1}, []float32{1, 2}), "s": graph.I64([]int{2}, []int64{2, 1 << 36})},
			want: []string{`node "ex" (Expand)`, "[2 68719476736]"}},
		{name: "Range of 1e12 floats",
			m: hmodel([]*onnxpb.NodeProto{hnode("rg", "Range", []string{"a", "b", "c"}, "y")},
				[]*onnxpb.ValueInfoProto{hvi("a", f), hvi("b", f), hvi("c", f)}, y),
			feed: map[string]*graph.Tensor{"a": graph.ScalarF32(0), "b": graph.ScalarF32(1e12), "c": graph.ScalarF32(1)},
			own:  true, want: []string{`node "rg" (Range)`, "elements"}},
		{name: "Reshape of nothing to [2^32, 2^32]",
			m: hmodel([]*onnxpb.NodeProto{hnode("rs", "Reshape", []string{"x", "s"}, "y")},
				[]*onnxpb.ValueInfoProto{hvi("x", f, 0), hvi("s", i64, 2)}, y),
			feed: map[string]*graph.Tensor{"x": graph.F32([]int{0}, nil), "s": graph.I64([]int{2}, []int64{1 << 32, 1 << 32})},
			want: []string{`node "rs" (Reshape)`, "1.845e+19 elements"}},
		{name: "byte budget",
			m:    hmodel([]*onnxpb.NodeProto{hnode("mb", "ConstantOfShape", []string{"s"}, "y")}, nil, y, i64Init("s", 1<<20)),
			opts: native.Options{MaxBytes: 1 << 20},
			want: []string{`node "mb" (ConstantOfShape)`, "needs 4194304 bytes", "budget of 1048576 bytes"}},
		{name: "element limit from Options",
			m:    hmodel([]*onnxpb.NodeProto{hnode("ml", "ConstantOfShape", []string{"s"}, "y")}, nil, y, i64Init("s", 5000)),
			opts: native.Options{MaxElements: 4999},
			want: []string{`node "ml" (ConstantOfShape)`, "5000 elements", "limit of 4999"}},
		{name: "Tile by 2^40", needOp: "Tile",
			m:    hmodel([]*onnxpb.NodeProto{hnode("tl", "Tile", []string{"x", "r"}, "y")}, x1, y, i64Init("r", 1, 1<<40)),
			feed: map[string]*graph.Tensor{"x": graph.F32([]int{1, 1}, []float32{1})},
			want: []string{`node "tl" (Tile)`, "elements"}},
		{name: "Pad by 2^40", needOp: "Pad",
			m:    hmodel([]*onnxpb.NodeProto{hnode("pd", "Pad", []string{"x", "p"}, "y")}, x1, y, i64Init("p", 0, 0, 0, 1<<40)),
			feed: map[string]*graph.Tensor{"x": graph.F32([]int{1, 1}, []float32{1})},
			want: []string{`node "pd" (Pad)`, "elements"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := graph.Lookup("", c.needOp); c.needOp != "" && !ok {
				return // not in the vocabulary yet: nothing to run
			}
			b, err := proto.Marshal(c.m)
			if err != nil {
				t.Fatal(err)
			}
			m, err := compat.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			g, err := compat.Import(m)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			s, err := native.New(g, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			feed := c.feed
			if feed == nil {
				feed = map[string]*graph.Tensor{}
			}
			_, err = s.Run(feed)
			if err == nil {
				t.Fatal("the run succeeded")
			}
			var se *native.SizeError
			if !c.own && !errors.As(err, &se) {
				t.Errorf("error %v is not a *native.SizeError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// An input whose shape overflows is refused even when its data length
// matches the wrapped count.
func TestInputShapeOverflow(t *testing.T) {
	g := graph.New("in")
	x := g.Input("x", graph.Float32, -1, -1)
	g.SetOutput("y", graph.Identity(x))
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := &graph.Tensor{DType: graph.Float32, Shape: []int{1 << 32, 1 << 32}}
	if _, err := s.Run(map[string]*graph.Tensor{"x": bad}); err == nil || !strings.Contains(err.Error(), `input "x"`) {
		t.Fatalf("overflowing input shape: %v", err)
	}
}
