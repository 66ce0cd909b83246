package graph

import "fmt"

// UnsupportedError reports an attribute value or input combination of a
// valid ONNX node that odmn's op does not implement (BatchNormalization in
// training mode, a recurrent op with non-default activations, ...). The
// importer and the conformance runner count it as outside the vocabulary,
// not as a failure.
type UnsupportedError struct {
	Op   string
	What string
}

func (e *UnsupportedError) Error() string {
	return e.What + " is not supported" // Apply prefixes the op
}

func unsupported(op, format string, args ...any) error {
	return &UnsupportedError{Op: op, What: fmt.Sprintf(format, args...)}
}
