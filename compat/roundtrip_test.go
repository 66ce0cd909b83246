package compat_test

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

func run(t *testing.T, g *graph.Graph, feed map[string]*graph.Tensor) map[string]*graph.Tensor {
	t.Helper()
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRoundTrip: export, import, export gives the same ModelProto, the
// imported graph computes what the original does, and onnx's checker
// accepts every exported model.
func TestRoundTrip(t *testing.T) {
	checked := map[string]*onnxpb.ModelProto{}
	for _, tg := range testGraphs() {
		t.Run(tg.name, func(t *testing.T) {
			g := tg.build(t)
			m1, err := export.Model(g, export.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := proto.Marshal(m1)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := compat.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			g2, err := compat.Import(parsed)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, prototext.Format(m1))
			}
			m2, err := export.Model(g2, export.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(m1, m2) {
				t.Fatalf("export(import(m)) != m\nfirst:\n%s\nsecond:\n%s", prototext.Format(m1), prototext.Format(m2))
			}
			feed := tg.feed(rand.New(rand.NewPCG(9, 9)))
			want, got := run(t, g, feed), run(t, g2, feed)
			if len(want) != len(got) {
				t.Fatalf("%d outputs vs %d", len(want), len(got))
			}
			for k, w := range want {
				if err := sameTensor(w, got[k]); err != nil {
					t.Errorf("output %s: %v", k, err)
				}
			}
			checked[tg.name] = m1
		})
	}
	py := testenv.RequirePythonONNX(t)
	if err := compat.CheckModels(py, checked); err != nil {
		t.Fatal(err)
	}
}

// TestORTAgrees runs every exported test graph in ONNX Runtime (functions
// included, which ORT resolves only when their domain is imported) and
// compares with the native runtime.
func TestORTAgrees(t *testing.T) {
	testenv.RequireLib(t)
	for _, tg := range testGraphs() {
		t.Run(tg.name, func(t *testing.T) {
			g := tg.build(t)
			b, err := export.Marshal(g, export.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := ort.OpenBytes(b, ort.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			feed := tg.feed(rand.New(rand.NewPCG(4, 4)))
			got, err := s.Run(feed)
			if err != nil {
				t.Fatal(err)
			}
			want := run(t, g, feed)
			for k, w := range want {
				if err := conform.Compare(k, got[k], w, conform.Tolerance{Atol: 1e-6, Rtol: 1e-5}).Err(); err != nil {
					t.Errorf("output %s: ORT vs native: %v", k, err)
				}
			}
		})
	}
}
