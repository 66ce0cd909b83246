// Package export writes a graph.Graph as an ONNX model (IR version 8,
// ai.onnx opset 17 or the newest an op in the model needs, plus one opset
// per custom domain in use), which ONNX Runtime and every other ONNX
// consumer can load.
//
// Model builds the ModelProto, Marshal encodes it deterministically, and
// WriteFile writes it atomically (a temporary file in the same directory,
// then a rename).
//
// What is written:
//
//   - Only what the graph outputs depend on: ops, initializers (trainable
//     parameters and fixed tensors alike, as TensorProto raw_data, little
//     endian) and every graph input. Training ops built next to the model
//     are left out; an Internal op (a gradient helper such as SumTo) that
//     an output does depend on is an error naming the node and op.
//   - Graph inputs with their element type and dims; a dimension of -1
//     becomes dim_param Options.BatchDim ("N"). Graph outputs get their
//     known dims as dim_value, and dim_param "N" only for the -1 dims that
//     provably follow the inputs' (the exporter re-infers the graph with two
//     batch sizes); other unknown dims are left empty, so ONNX's strict
//     shape inference can never find a conflict.
//   - Names: value names set with Node.SetName and node names set in
//     Op.Name are kept; the others are generated from the op type and the
//     node id (e.g. "MatMul_12"), deterministically, never colliding. A
//     graph output whose value has another name, or that shares its value
//     with another output, is written through an Identity node.
//   - Nodes carry the op's ONNX type (OpDef.ExportType, in the default
//     domain, when set: StopGradient is written as Identity) and their
//     explicit attributes in name order; absent optional inputs are "" and
//     trailing ones are dropped.
//   - Composite ops (graph.Function) become model-local FunctionProtos,
//     callees first, with their domain in the model's opset_import (ONNX
//     Runtime does not resolve a function otherwise). Inside a body an
//     attribute graph.AttrRef is written as ref_attr_name with the type the
//     op declares. IR 8 has no attribute defaults, so every calling node
//     must carry every function attribute; the exporter checks this itself,
//     because onnx 1.12's checker does not.
//
// TensorToProto and TensorFromProto convert tensors both ways and are the
// one place that knows the TensorProto encodings (raw_data and the typed
// fields: float_data, int64_data, double_data, int32_data for the small
// integer types, bool and float16 bits, uint64_data for uint32 and uint64,
// string_data), for every element type odmn holds; the importer (package
// compat) uses them too.
package export
