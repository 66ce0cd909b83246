package compat_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime/native"
)

// FuzzRun feeds arbitrary bytes to Parse and Import and runs what imports
// on the native runtime, with small random inputs drawn for the declared
// inputs (every element type; dynamic dimensions 0 to 3). Errors are fine;
// a panic (in the importer, an op's inference or a kernel) or an
// allocation beyond the session's limits is a bug. The limits are small so
// that a hostile shape shows up as an error at once.
//
//	go test -run '^$' -fuzz '^FuzzRun$' -fuzztime 60s ./compat/
func FuzzRun(f *testing.F) {
	for _, tg := range testGraphs() {
		b, err := export.Marshal(tg.build(f), export.Options{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(1))
	}
	// One-node models of every vocabulary op, and shapes computed at run time.
	r := rand.New(rand.NewPCG(7, 7))
	for _, d := range vocabulary() {
		m, _ := randomNodeModel(d, r)
		if b, err := proto.Marshal(m); err == nil {
			f.Add(b, r.Uint64())
		}
	}
	x := []*onnxpb.ValueInfoProto{vi("x", tFloat, -1, 2)}
	s := []*onnxpb.ValueInfoProto{vi("s", tInt64, 2)}
	y := []*onnxpb.ValueInfoProto{out("y", tFloat)}
	for _, m := range []*onnxpb.ModelProto{
		mkModel(17, []*onnxpb.NodeProto{node("c", "ConstantOfShape", []string{"s"}, []string{"y"})}, s, y),
		mkModel(17, []*onnxpb.NodeProto{node("e", "Expand", []string{"x", "s"}, []string{"y"})}, append(x, s...), y),
		mkModel(17, []*onnxpb.NodeProto{node("r", "Reshape", []string{"x", "s"}, []string{"y"})}, append(x, s...), y),
		mkModel(17, []*onnxpb.NodeProto{
			node("a", "Cast", []string{"x"}, []string{"h"}, attrI("to", 10)),
			node("b", "Abs", []string{"h"}, []string{"y"}),
		}, x, []*onnxpb.ValueInfoProto{out("y", 10)}),
		mkModel(17, []*onnxpb.NodeProto{node("p", "Pow", []string{"x", "k"}, []string{"y"})},
			append(x, vi("k", 6, 1)), y),
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
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
		sess, err := native.New(g, native.Options{MaxElements: 1 << 16, MaxBytes: 16 << 20})
		if err != nil {
			return
		}
		feed := randomFeed(g, rand.New(rand.NewPCG(seed, 1)))
		if feed == nil {
			return
		}
		sess.Run(feed)
	})
}

// randomFeed draws a small tensor for every graph input (nil when an input
// is too large even so).
func randomFeed(g *graph.Graph, r *rand.Rand) map[string]*graph.Tensor {
	feed := map[string]*graph.Tensor{}
	for _, in := range g.Inputs() {
		shape := append([]int{}, in.Shape()...)
		for i, d := range shape {
			if d < 0 {
				shape[i] = r.IntN(4)
			}
		}
		if _, ok := graph.SizeWithin(shape, 1<<12); !ok {
			return nil
		}
		tmp := graph.NewTensor(graph.Float64, shape)
		v := graph.Data[float64](tmp)
		for i := range v {
			switch r.IntN(8) {
			case 0:
				v[i] = 0
			case 1:
				v[i] = float64(r.IntN(9) - 4)
			default:
				v[i] = r.NormFloat64() * 3
			}
		}
		t := graph.NewTensor(in.DType(), shape)
		if in.DType() == graph.String {
			for i := range t.S {
				t.S[i] = []string{"", "a", "1.5", "NaN", "x y"}[r.IntN(5)]
			}
		} else if err := castInto(tmp, t); err != nil {
			return nil
		}
		feed[in.Name()] = t
	}
	return feed
}

// castInto converts src into dst's dtype with a one-node Cast graph.
func castInto(src, dst *graph.Tensor) error {
	g := graph.New("cast")
	x := g.Input("x", src.DType, src.Shape...)
	g.SetOutput("y", graph.Cast(x, dst.DType))
	s, err := native.New(g, native.Options{})
	if err != nil {
		return err
	}
	res, err := s.Run(map[string]*graph.Tensor{"x": src})
	if err != nil {
		return err
	}
	dst.CopyFrom(res["y"])
	return nil
}
