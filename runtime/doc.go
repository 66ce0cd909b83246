// Package runtime defines the Session interface that every odmn backend
// implements. Subpackage native is the pure-Go executor over graph.Graph;
// subpackage ort runs the same ONNX file through ONNX Runtime.
package runtime
