package compat_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime/native"
)

// Hand-built models.

func attrI(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrF(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func attrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func attrS(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func attrRef(name, ref string, t onnxpb.AttributeProto_AttributeType) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: t.Enum(), RefAttrName: proto.String(ref)}
}

func node(name, op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}
}

func vi(name string, dt int32, dims ...int64) *onnxpb.ValueInfoProto {
	sp := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dd := &onnxpb.TensorShapeProto_Dimension{}
		if d >= 0 {
			dd.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		} else {
			dd.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		}
		sp.Dim = append(sp.Dim, dd)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(dt), Shape: sp}}}}
}

// out declares an output by element type only.
func out(name string, dt int32) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(dt)}}}}
}

const (
	tFloat = 1
	tInt64 = 7
	tBool  = 9
)

func mkModel(opset int64, nodes []*onnxpb.NodeProto, inputs, outputs []*onnxpb.ValueInfoProto, inits ...*onnxpb.TensorProto) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("m"), Node: nodes, Input: inputs, Output: outputs, Initializer: inits,
		},
	}
}

func initT(t *testing.T, name string, x *graph.Tensor) *onnxpb.TensorProto {
	p, err := export.TensorToProto(name, x)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runModel(t *testing.T, m *onnxpb.ModelProto, feed map[string]*graph.Tensor) map[string]*graph.Tensor {
	t.Helper()
	g, err := compat.Import(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func expect(t *testing.T, got *graph.Tensor, shape []int, want []float64) {
	t.Helper()
	if got == nil || !graph.SameShape(got.Shape, shape) || got.Len() != len(want) {
		t.Fatalf("got %v, want shape %v values %v", got, shape, want)
	}
	for i, w := range want {
		if math.Abs(got.Float(i)-w) > 1e-5*(1+math.Abs(w)) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestImportErrors(t *testing.T) {
	f32 := func(name string) *onnxpb.ValueInfoProto { return vi(name, tFloat, 2) }
	fn := &onnxpb.FunctionProto{
		Name: proto.String("F"), Domain: proto.String("local"), Input: []string{"a"}, Output: []string{"b"},
		Attribute:   []string{"k"},
		Node:        []*onnxpb.NodeProto{node("c", "Constant", nil, []string{"k"}, attrRef("value_float", "k", onnxpb.AttributeProto_FLOAT)), node("m", "Mul", []string{"a", "k"}, []string{"b"})},
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
	}
	withFn := func(m *onnxpb.ModelProto) *onnxpb.ModelProto {
		m.Functions = []*onnxpb.FunctionProto{fn}
		m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("local"), Version: proto.Int64(1)})
		return m
	}
	for _, c := range []struct {
		name string
		m    *onnxpb.ModelProto
		want string
		na   string // the not-applicable kind, "" for a real error
	}{
		{"unknown op", mkModel(17, []*onnxpb.NodeProto{node("n1", "Foo", []string{"x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`node "n1": op type Foo (domain ai.onnx) is not supported`, compat.KindOp},
		{"custom domain op", mkModel(17, []*onnxpb.NodeProto{{OpType: proto.String("Bar"), Domain: proto.String("com.x"), Input: []string{"x"}, Output: []string{"y"}}}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`domain com.x is not in the opset_import`, ""},
		{"unsupported attribute", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"}, attrF("alpha", 1))}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`node "r" (Relu): attribute alpha is not supported`, compat.KindAttribute},
		{"uint8 input", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{vi("x", 2, 2)}, []*onnxpb.ValueInfoProto{out("y", 2)}),
			`node "r" (Relu): op Relu: input 0: element type uint8 not supported`, compat.KindDType},
		{"cast to bfloat16", mkModel(17, []*onnxpb.NodeProto{node("c", "Cast", []string{"x"}, []string{"y"}, attrI("to", 16))}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`node "c" (Cast): attribute to: element type BFLOAT16 is not supported`, compat.KindDType},
		{"bfloat16 initializer", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"w"}, []string{"y"})}, nil, []*onnxpb.ValueInfoProto{out("y", tFloat)},
			&onnxpb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(16), Dims: []int64{1}, RawData: []byte{0, 0}}),
			`initializer "w": element type BFLOAT16 is not supported`, compat.KindDType},
		{"bad initializer", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"w"}, []string{"y"})}, nil, []*onnxpb.ValueInfoProto{out("y", tFloat)},
			&onnxpb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{2}, RawData: []byte{0, 0}}),
			`tensor "w": raw_data has 2 bytes, but dims [2] need 8`, ""},
		{"dangling input", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"nope"}, []string{"y"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`node "r" (Relu): input "nope" is not defined`, ""},
		{"missing input", mkModel(17, []*onnxpb.NodeProto{node("a", "Add", []string{"x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`node "a" (Add): op Add: 1 inputs, want 2`, ""},
		{"unproduced output", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("z", tFloat)}),
			`graph output "z" is not produced`, ""},
		{"assigned twice", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"x"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("x", tFloat)}),
			`output "x" is already defined`, ""},
		{"wrong output type", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tInt64)}),
			`graph output "y": the model declares int64, odmn infers float32`, ""},
		{"sequence output", mkModel(17, nil, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{{Name: proto.String("x"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{}}}}}),
			`graph output "x" is not a tensor`, compat.KindFeature},
		{"opset too new", mkModel(26, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`node "r" (Relu): opset 26 is newer than the newest odmn supports (25)`, compat.KindOpset},
		{"op not yet in opset", mkModel(5, []*onnxpb.NodeProto{node("w", "Where", []string{"x", "x", "x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`op Where does not exist in opset 5 (it was introduced in opset 9)`, ""},
		{"reference in main graph", mkModel(17, []*onnxpb.NodeProto{node("s", "Softmax", []string{"x"}, []string{"y"}, attrRef("axis", "a", onnxpb.AttributeProto_INT))}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`references are only allowed inside functions`, ""},
		{"subgraph attribute", mkModel(17, []*onnxpb.NodeProto{node("s", "Softmax", []string{"x"}, []string{"y"}, &onnxpb.AttributeProto{Name: proto.String("g"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: &onnxpb.GraphProto{}})}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`node "s" (Softmax): attribute g: subgraph attributes are not supported`, compat.KindFeature},
		{"no shape", mkModel(17, []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"})}, []*onnxpb.ValueInfoProto{out("x", tFloat)}, []*onnxpb.ValueInfoProto{out("y", tFloat)}),
			`graph input "x" has no shape`, compat.KindFeature},
		{"no default opset", &onnxpb.ModelProto{Graph: &onnxpb.GraphProto{Node: []*onnxpb.NodeProto{node("r", "Relu", []string{"x"}, []string{"y"})}, Input: []*onnxpb.ValueInfoProto{f32("x")}, Output: []*onnxpb.ValueInfoProto{out("y", tFloat)}}},
			`domain ai.onnx is not in the opset_import`, ""},
		{"function call without attribute", withFn(mkModel(17, []*onnxpb.NodeProto{{Name: proto.String("call"), OpType: proto.String("F"), Domain: proto.String("local"), Input: []string{"x"}, Output: []string{"y"}}}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)})),
			`node "call" (F): op F: required attribute "k" is missing`, ""},
		{"function undeclared reference", withFn(mkModel(17, []*onnxpb.NodeProto{{Name: proto.String("call"), OpType: proto.String("F"), Domain: proto.String("local"), Input: []string{"x"}, Output: []string{"y"}, Attribute: []*onnxpb.AttributeProto{attrF("k", 2), attrF("j", 1)}}}, []*onnxpb.ValueInfoProto{f32("x")}, []*onnxpb.ValueInfoProto{out("y", tFloat)})),
			`attribute j is not supported`, compat.KindAttribute},
		{"no graph", &onnxpb.ModelProto{}, `model has no graph`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := compat.Import(c.m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			na, ok := compat.IsNotApplicable(err)
			if ok != (c.na != "") || ok && na.Kind != c.na {
				t.Fatalf("not applicable %v (%+v), want %q", ok, na, c.na)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := compat.Parse([]byte("this is not a model")); err == nil {
		t.Fatal("garbage parsed")
	}
	g := testGraphs()[0].build(t)
	b, err := export.Marshal(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 10, len(b) / 2, len(b) - 1} {
		m, err := compat.Parse(b[:n])
		if err == nil {
			_, err = compat.Import(m)
		}
		if err == nil {
			t.Errorf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	if _, err := compat.ReadFile(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Fatal("read a missing file")
	}
}

func TestFunctionImportRunsBody(t *testing.T) {
	fn := &onnxpb.FunctionProto{
		Name: proto.String("Scale"), Domain: proto.String("local"), Input: []string{"a"}, Output: []string{"b"},
		Attribute: []string{"k"},
		Node: []*onnxpb.NodeProto{
			node("c", "Constant", nil, []string{"k"}, attrRef("value_float", "k", onnxpb.AttributeProto_FLOAT)),
			node("m", "Mul", []string{"a", "k"}, []string{"b"}),
		},
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
	}
	m := mkModel(17, []*onnxpb.NodeProto{
		{Name: proto.String("call"), OpType: proto.String("Scale"), Domain: proto.String("local"), Input: []string{"x"}, Output: []string{"y"}, Attribute: []*onnxpb.AttributeProto{attrF("k", 3)}},
	}, []*onnxpb.ValueInfoProto{vi("x", tFloat, -1)}, []*onnxpb.ValueInfoProto{out("y", tFloat)})
	m.Functions = []*onnxpb.FunctionProto{fn}
	m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("local"), Version: proto.Int64(1)})
	res := runModel(t, m, map[string]*graph.Tensor{"x": graph.F32([]int{3}, []float32{1, 2, 3})})
	expect(t, res["y"], []int{3}, []float64{3, 6, 9})
}
