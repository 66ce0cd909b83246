package compat_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime/native"
)

// vocabulary lists the importable default-domain ops.
func vocabulary() []*graph.OpDef {
	var out []*graph.OpDef
	for _, d := range graph.Defs() {
		if d.Domain == "" && !d.Internal && d.Function == nil {
			out = append(out, d)
		}
	}
	return out
}

// randomNodeModel builds a one-node model of op d at its own opset, with
// inputs and attributes drawn from r: shapes, element types and attribute
// values that are often wrong, which the importer and the runtime must
// reject with errors.
func randomNodeModel(d *graph.OpDef, r *rand.Rand) (*onnxpb.ModelProto, map[string]*graph.Tensor) {
	nin := d.MinInputs
	if d.MaxInputs < 0 || d.MaxInputs > d.MinInputs {
		hi := d.MaxInputs
		if hi < 0 {
			hi = d.MinInputs + 3
		}
		nin += r.IntN(hi - d.MinInputs + 1)
	}
	var inputs []*onnxpb.ValueInfoProto
	var names []string
	feed := map[string]*graph.Tensor{}
	var inits []*onnxpb.TensorProto
	dtypes := []graph.DType{graph.Float32, graph.Float32, graph.Int64, graph.Bool}
	for i := 0; i < nin; i++ {
		name := fmt.Sprintf("x%d", i)
		if r.IntN(8) == 0 {
			names = append(names, "")
			continue
		}
		names = append(names, name)
		rank := r.IntN(4)
		shape := make([]int, rank)
		for k := range shape {
			shape[k] = r.IntN(4)
		}
		dt := dtypes[r.IntN(len(dtypes))]
		t := graph.NewTensor(dt, shape)
		for k := 0; k < t.Len(); k++ {
			switch dt {
			case graph.Float32:
				t.F[k] = float32(r.NormFloat64())
			case graph.Int64:
				t.I[k] = int64(r.IntN(7) - 3)
			case graph.Bool:
				t.B[k] = r.IntN(2) == 0
			}
		}
		if r.IntN(2) == 0 {
			p, _ := export.TensorToProto(name, t)
			inits = append(inits, p)
			continue
		}
		dims := make([]int64, rank)
		for k, s := range shape {
			dims[k] = int64(s)
			if r.IntN(4) == 0 {
				dims[k] = -1
			}
		}
		inputs = append(inputs, vi(name, dt.ONNX(), dims...))
		feed[name] = t
	}
	var attrs []*onnxpb.AttributeProto
	for _, s := range d.Attrs {
		if r.IntN(3) == 0 {
			continue
		}
		a := &onnxpb.AttributeProto{Name: proto.String(s.Name)}
		switch s.Type {
		case graph.AttrInt:
			a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(int64(r.IntN(9)-4))
			if s.Name == "to" {
				a.I = proto.Int64([]int64{1, 7, 9, 11}[r.IntN(4)])
			}
		case graph.AttrFloat:
			a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(float32(r.NormFloat64()))
		case graph.AttrString:
			a.Type, a.S = onnxpb.AttributeProto_STRING.Enum(), []byte([]string{"", "NOTSET", "constant", "reflect", "edge", "x"}[r.IntN(6)])
		case graph.AttrInts:
			v := make([]int64, r.IntN(5))
			for k := range v {
				v[k] = int64(r.IntN(9) - 4)
			}
			a.Type, a.Ints = onnxpb.AttributeProto_INTS.Enum(), v
		case graph.AttrFloats:
			v := make([]float32, r.IntN(4))
			for k := range v {
				v[k] = float32(r.NormFloat64())
			}
			a.Type, a.Floats = onnxpb.AttributeProto_FLOATS.Enum(), v
		case graph.AttrTensor:
			n := r.IntN(3)
			t := graph.NewTensor([]graph.DType{graph.Float32, graph.Int64, graph.Bool}[r.IntN(3)], []int{n})
			a.Type = onnxpb.AttributeProto_TENSOR.Enum()
			a.T, _ = export.TensorToProto("", t)
		}
		attrs = append(attrs, a)
	}
	var outs []*onnxpb.ValueInfoProto
	var onames []string
	for i := 0; i < d.Outputs; i++ {
		n := fmt.Sprintf("y%d", i)
		onames = append(onames, n)
		outs = append(outs, &onnxpb.ValueInfoProto{Name: proto.String(n)})
	}
	m := mkModel(int64(max(d.Since, 1)), []*onnxpb.NodeProto{node("n", d.Type, names, onames, attrs...)}, inputs, outs, inits...)
	return m, feed
}

// FuzzImportOps imports one-node models of every vocabulary op with
// random inputs and attributes and runs those that import: errors are
// fine, panics are bugs (in the importer, or in an op's inference or
// kernel).
//
//	go test -run '^$' -fuzz '^FuzzImportOps$' -fuzztime 60s ./compat/
func FuzzImportOps(f *testing.F) {
	for i := uint64(0); i < 16; i++ {
		f.Add(uint16(i*7), i)
	}
	defs := vocabulary()
	f.Fuzz(func(t *testing.T, op uint16, seed uint64) {
		d := defs[int(op)%len(defs)]
		r := rand.New(rand.NewPCG(seed, uint64(op)))
		m, feed := randomNodeModel(d, r)
		var g *graph.Graph
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s: import panicked: %v\n%v", d.Type, p, m)
				}
			}()
			var err error
			g, err = compat.Import(m)
			var pe *compat.PanicError
			if errors.As(err, &pe) {
				t.Fatalf("%s: %v\n%v", d.Type, err, m)
			}
		}()
		if g == nil {
			return
		}
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s: run panicked: %v\nmodel %v\nfeed %v", d.Type, p, m, feed)
			}
		}()
		if _, err := export.Model(g, export.Options{}); err != nil && !errors.Is(err, graph.ErrLegacyForm) {
			t.Fatalf("%s: imported but does not export: %v", d.Type, err)
		}
		s, err := native.New(g, native.Options{})
		if err != nil {
			return
		}
		s.Run(feed)
	})
}
