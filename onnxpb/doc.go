// Package onnxpb holds the Go protocol buffer types of the ONNX format
// (ModelProto, GraphProto, NodeProto, TensorProto, ...), generated from
// /usr/include/onnx/onnx.proto of Debian's libonnx-dev 1.12 (IR version 8,
// proto2, package onnx).
//
// onnx.pb.go is generated; do not edit it. Regenerate with `make proto`,
// which installs protoc-gen-go at the google.golang.org/protobuf version
// named in go.mod into .cache/bin and runs:
//
//	protoc --plugin=protoc-gen-go=.cache/bin/protoc-gen-go -I/usr/include/onnx \
//		--go_out=onnxpb --go_opt=paths=source_relative \
//		--go_opt=Monnx.proto=odmn/onnxpb onnx.proto
//
// The proto declares no go_package, so the M option maps it to this package.
// Marshal and unmarshal with google.golang.org/protobuf/proto.
package onnxpb
