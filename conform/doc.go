// Package conform checks that runtimes compute what they should: ONNX's
// backend node tests on the native runtime (RunNodeTests), and any ONNX
// model on the native runtime against ONNX Runtime and against expected
// outputs (Model), with reports as text, JSON and JUnit XML. It also
// describes model files (Inspect) and runs them on tensors stored as
// TensorProto or NumPy files (RunFile, ReadInputs, WriteTensors): the
// library behind `odmn conform`, `odmn inspect` and `odmn run`.
//
// Every comparison goes through Compare, under one rule (Tolerance): a
// floating element agrees with its reference when
//
//	|got - want| <= atol + rtol*|want|
//
// NaN agrees only with NaN and an infinity only with itself; integer, bool
// and string elements must be equal. Each output's outcome is a Diff: the
// largest absolute and relative differences, how many elements are beyond
// tolerance, and the first one.
package conform
