package ort

import (
	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// onnxruntime_go cannot exchange float16 tensors reliably: it copies an
// ORT-allocated float16 output with one byte per element (and so fails),
// and cannot make a rank-0 tensor of a type it has no Go type for. The
// session therefore runs a rewritten model whose float16 graph inputs and
// outputs are float32, with a Cast on each side inside the model: float16
// to float32 is exact and so is the way back for a value that came from
// float16, so callers see exactly the model's float16 values.

const (
	f16InSuffix  = "__odmn_f32in"
	f16OutSuffix = "__odmn_f32out"
)

// f16Rewrite rewrites m in place when a graph input or output is float16
// and returns, per user-facing name, the name ORT sees; nil maps when
// nothing was rewritten (or the model has no default-domain opset to
// declare Cast under, in which case ORT's own error stands).
func f16Rewrite(m *onnxpb.ModelProto) (ins, outs map[string]string) {
	g := m.GetGraph()
	if g == nil {
		return nil, nil
	}
	hasDefault := false
	for _, o := range m.GetOpsetImport() {
		hasDefault = hasDefault || o.GetDomain() == "" || o.GetDomain() == "ai.onnx"
	}
	if !hasDefault {
		return nil, nil
	}
	isF16 := func(vi *onnxpb.ValueInfoProto) bool {
		tt := vi.GetType().GetTensorType()
		return tt != nil && tt.GetElemType() == int32(onnxpb.TensorProto_FLOAT16)
	}
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	cast := func(from, to string, code onnxpb.TensorProto_DataType) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{
			Name: proto.String("odmn_f16_" + to), OpType: proto.String("Cast"),
			Input: []string{from}, Output: []string{to},
			Attribute: []*onnxpb.AttributeProto{{
				Name: proto.String("to"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(code)),
			}},
		}
	}
	var front, back []*onnxpb.NodeProto
	for _, vi := range g.GetInput() {
		if !isF16(vi) || inits[vi.GetName()] {
			continue
		}
		name := vi.GetName()
		if ins == nil {
			ins = map[string]string{}
		}
		ins[name] = name + f16InSuffix
		vi.Name = proto.String(name + f16InSuffix)
		vi.GetType().GetTensorType().ElemType = proto.Int32(int32(onnxpb.TensorProto_FLOAT))
		front = append(front, cast(name+f16InSuffix, name, onnxpb.TensorProto_FLOAT16))
	}
	for _, vi := range g.GetOutput() {
		if !isF16(vi) {
			continue
		}
		name := vi.GetName()
		if outs == nil {
			outs = map[string]string{}
		}
		outs[name] = name + f16OutSuffix
		vi.Name = proto.String(name + f16OutSuffix)
		vi.GetType().GetTensorType().ElemType = proto.Int32(int32(onnxpb.TensorProto_FLOAT))
		back = append(back, cast(name, name+f16OutSuffix, onnxpb.TensorProto_FLOAT))
	}
	if ins == nil && outs == nil {
		return nil, nil
	}
	g.Node = append(append(front, g.Node...), back...)
	return ins, outs
}

// toHalf converts a float32 output of the rewritten model back to float16
// (exact: the values came from float16).
func toHalf(t *graph.Tensor) *graph.Tensor {
	h := make([]graph.Half, len(t.F))
	for i, v := range t.F {
		h[i] = graph.F16(v)
	}
	return graph.FromSlice(t.Shape, h)
}
