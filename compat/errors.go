package compat

import (
	"errors"
	"fmt"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
)

// Reasons a valid model lies outside odmn's vocabulary.
const (
	KindOp        = "op"        // an op type (or domain) odmn does not implement
	KindDType     = "dtype"     // an element type other than float, int64, bool
	KindOpset     = "opset"     // an op version whose semantics odmn does not implement
	KindAttribute = "attribute" // an attribute odmn's op does not support
	KindFeature   = "feature"   // anything else: non-tensor values, subgraphs, external data, ...
)

// NotApplicableError reports a model that is (as far as odmn can tell)
// valid ONNX but uses something outside odmn's vocabulary: an op, an
// element type, an op version or a feature odmn does not implement. The
// conformance runner counts such tests as not applicable rather than
// failed. Every other import error is a real failure: a malformed model or
// a bug.
type NotApplicableError struct {
	Kind string // one of the Kind constants
	Msg  string // the full message, naming the node, op, attribute or tensor
}

func (e *NotApplicableError) Error() string { return e.Msg }

func notApplicable(kind, format string, args ...any) error {
	return &NotApplicableError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// IsNotApplicable reports whether err (or an error it wraps) says the model
// is outside odmn's vocabulary, and returns that error. An unsupported
// element type reported by export.TensorFromProto counts too.
func IsNotApplicable(err error) (*NotApplicableError, bool) {
	var na *NotApplicableError
	if errors.As(err, &na) {
		return na, true
	}
	var dt *export.UnsupportedDTypeError
	if errors.As(err, &dt) {
		return &NotApplicableError{Kind: KindDType, Msg: err.Error()}, true
	}
	var odt *graph.DTypeError
	if errors.As(err, &odt) {
		return &NotApplicableError{Kind: KindDType, Msg: err.Error()}, true
	}
	var ue *graph.UnsupportedError
	if errors.As(err, &ue) {
		return &NotApplicableError{Kind: KindFeature, Msg: err.Error()}, true
	}
	return nil, false
}

// PanicError is an import that panicked inside odmn (an op's shape
// inference or kernel, while folding constants). Import recovers it and
// returns it as an error; it is always a bug, never a property of the file.
type PanicError struct {
	Where string
	Value any
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("%s: internal error (panic: %v)", e.Where, e.Value)
}
