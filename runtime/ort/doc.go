// Package ort runs ONNX models through ONNX Runtime (ORT), behind the same
// runtime.Session interface as odmn's native Go executor, so scoring,
// conformance checks and benchmarks can compare the two on one model file.
//
// It binds ORT's C API through github.com/yalue/onnxruntime_go (cgo, C API
// version 24), which loads the shared library at run time with dlopen. The
// library is not part of the Go build: scripts/fetch-ort.sh (`make ort`)
// takes libonnxruntime.so.1 from the npm package onnxruntime-node@1.24.3 and
// puts it at .cache/ort/libonnxruntime.so.1 in the repository. LibraryPath
// finds it: $ODMN_ORT_LIB when set, else that file under the nearest
// directory at or above the working directory whose go.mod says
// `module odmn`.
//
// The ORT environment is created once per process (Init, called by Open and
// OpenBytes) and never torn down. A Session is safe for concurrent Run calls.
//
// Tensors: every graph element type maps to its ONNX type (float, double,
// float16, the signed and unsigned integers, bool, string). Inputs are
// passed to ORT without copying, except strings, which ORT copies into its
// own, and float16, which onnxruntime_go cannot exchange reliably: the
// session runs the model with its float16 inputs and outputs rewritten to
// float32 behind a Cast inside the model (exact both ways). Outputs are
// allocated by ORT and copied once into Go memory, except rank-0 outputs,
// which onnxruntime_go cannot wrap after ORT allocates them and which
// Session.Run therefore pre-allocates (see Run).
package ort
