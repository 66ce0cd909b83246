// Package compat reads ONNX models into odmn graphs, adapting op versions
// onto the ones odmn implements. The conformance harnesses that run what
// it imports (node tests, cross-runtime checks) are in package conform.
//
// Import builds a graph.Graph from any model inside odmn's vocabulary: the
// ops registered in package graph, element types float, int64 and bool
// (and string for graph inputs and outputs and the ai.onnx.ml LabelEncoder
// between them: a string tensor reaching any other op is outside the
// vocabulary), and model-local functions (FunctionProto, called by nodes of their
// domain and name; ref_attr_name becomes graph.AttrRef). Graph inputs keep
// their dims, unknown ones as -1; initializers become fixed initializers
// with the file's names; value and node names are kept, so that for a
// model odmn exported, export(Import(m)) equals m.
//
// Op versions: a node's version is the since-version of its op at the
// model's opset, looked up in a table of the ai.onnx op history
// (versions_gen.go, made by gen_versions.py from onnx 1.12's schemas for
// opsets 1-17 plus the later versions up to opset 21). A version that
// odmn's op implements, or one with the same semantics, imports as is; an
// older form that maps exactly onto odmn's (Unsqueeze-11's axes attribute
// as a constant input, ReduceMean-18's constant axes input as an
// attribute, Softmax-11 on a non-last axis through Flatten and Reshape,
// Clip-6's attributes as inputs, ...) is rewritten; anything else is
// refused. See opset.go.
//
// Errors name the node, op type, attribute or tensor. A valid model that
// uses something outside the vocabulary (an op, an element type, an op
// version, a feature such as subgraphs) gives a *NotApplicableError
// (IsNotApplicable); everything else — truncated bytes, dangling value
// names, missing inputs — is a plain error. Import never panics.
//
// CheckModel validates a model with Python onnx's checker and strict shape
// inference.
package compat
