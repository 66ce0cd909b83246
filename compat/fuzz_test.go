package compat_test

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/onnxpb"
)

// FuzzImport feeds arbitrary bytes to Parse and Import (and exports what
// imports): nothing may panic, and no panic may be recovered inside
// Import either (a *compat.PanicError is a bug in an op's inference).
//
//	go test -run '^$' -fuzz '^FuzzImport$' -fuzztime 60s ./compat/
func FuzzImport(f *testing.F) {
	var seeds [][]byte
	for _, tg := range testGraphs() {
		b, err := export.Marshal(tg.build(f), export.Options{})
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	// Older forms that go through adapters, and a function with references.
	in := []*onnxpb.ValueInfoProto{vi("x", tFloat, -1, 3)}
	y := []*onnxpb.ValueInfoProto{out("y", tFloat)}
	for _, m := range []*onnxpb.ModelProto{
		mkModel(11, []*onnxpb.NodeProto{node("u", "Unsqueeze", []string{"x"}, []string{"y"}, attrInts("axes", 0))}, in, y),
		mkModel(11, []*onnxpb.NodeProto{node("s", "Softmax", []string{"x"}, []string{"y"}, attrI("axis", 0))}, in, y),
		mkModel(6, []*onnxpb.NodeProto{node("c", "Clip", []string{"x"}, []string{"y"}, attrF("min", 0))}, in, y),
		mkModel(18, []*onnxpb.NodeProto{node("r", "ReduceMean", []string{"x", "a"}, []string{"y"})}, in, y,
			&onnxpb.TensorProto{Name: proto.String("a"), DataType: proto.Int32(7), Dims: []int64{1}, Int64Data: []int64{1}}),
		mkModel(17, []*onnxpb.NodeProto{node("c", "Cast", []string{"x"}, []string{"y"}, attrI("to", 7))}, in, []*onnxpb.ValueInfoProto{out("y", tInt64)}),
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, b := range seeds {
		f.Add(b)
		for _, n := range []int{1, len(b) / 3, len(b) / 2, len(b) - 7} {
			if n > 0 && n < len(b) {
				f.Add(b[:n])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := compat.Parse(data)
		if err != nil {
			return
		}
		g, err := compat.Import(m)
		var pe *compat.PanicError
		if errors.As(err, &pe) {
			t.Fatalf("import panicked: %v", err)
		}
		if err != nil {
			return
		}
		if _, err := export.Model(g, export.Options{}); err != nil {
			return
		}
	})
}
