// Package graph is odmn's computation graph: float32 (and int64, bool;
// string only into LabelEncoder) tensors, an op vocabulary that means exactly what the ONNX ops of the same
// name mean at opset 17, and reverse-mode autodiff.
//
// Every op is one OpDef (see Register): its ONNX identity and attribute
// schema, shape inference, forward kernel, gradient and export form. The
// builder functions (Add, MatMul, Softmax, ...) apply OpDefs to nodes; the
// native runtime (odmn/runtime/native) runs the kernels; the exporter
// (odmn/export) and importer (odmn/compat) translate OpDefs to and from
// ONNX. Nothing about an op is written twice.
//
// Builders panic with a *BuildError on misuse so model code reads as
// math; Catch turns that into an error. Graph.Apply is the error-returning
// form the importer uses.
//
// Shapes may hold -1 for dimensions only known at run time (the batch).
// Values known while building (constants and shape arithmetic on static
// shapes) are folded, so exported shape chains stay cheap to run.
//
// Composite ops are Functions: a body graph in a custom domain, exported as
// an ONNX model-local function, run natively by its body or by a fused Go
// kernel (RegisterFused), differentiated through its body.
package graph
