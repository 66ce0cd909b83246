package graph_test

import (
	"math"
	"testing"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/ort"
	"google.golang.org/protobuf/proto"
)

// TestEqualStrings: Equal 19 compares strings elementwise with
// broadcasting; Less still refuses them.
func TestEqualStrings(t *testing.T) {
	a := graph.Strings(dims(2, 2), []string{"a", "b", "", "é"})
	b := graph.Strings(dims(2), []string{"a", "é"})
	got := graphtest.MustEval(t, func(_ *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Equal(in[0], in[1])}
	}, a, b)[0]
	equalB(t, "Equal strings", got.B, []bool{true, false, false, true})
	if _, err := graphtest.Eval(func(_ *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Less(in[0], in[1])}
	}, a, b); err == nil {
		t.Error("Less on strings: no error")
	}
	if _, err := graphtest.Eval(func(_ *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Equal(in[0], in[1])}
	}, a, graph.F32(dims(1), []float32{1})); err == nil {
		t.Error("Equal string with float32: no error")
	}
}

func TestEqualStringsAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	a := graph.Strings(dims(3, 2), []string{"x", "y", "", "x", "yy", "y"})
	b := graph.Strings(dims(2), []string{"x", "y"})
	g, err := graphtest.Build(func(_ *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Equal(in[0], in[1])}
	}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	// Strings are Equal-19's: the exporter declares that opset.
	m, err := export.Model(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := m.GetOpsetImport()[0].GetVersion(); v != 19 {
		t.Fatalf("a string Equal exported at opset %d, want 19", v)
	}
	mb, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.OpenBytes(mb, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatalf("ORT: %v", err)
	}
	defer s.Close()
	out, err := s.Run(map[string]*graph.Tensor{"x0": a, "x1": b})
	if err != nil {
		t.Fatalf("ORT run: %v", err)
	}
	got := out["y0"]
	equalB(t, "ORT Equal strings", got.B, []bool{true, true, false, false, false, true})
}

// TestCeluRangeFloat16: Celu takes float16 and float64 (computed in
// float64 and rounded), Range float16 (computed in float32 and rounded).
func TestCeluRangeFloat16(t *testing.T) {
	celu := func(x, alpha float64) float64 { return max(0, x) + min(0, alpha*math.Expm1(x/alpha)) }
	xs := []float64{-3, -0.5, 0, 0.25, 2}
	for _, dt := range []graph.DType{graph.Float16, graph.Float64} {
		x := floatTensor(dt, xs...)
		got := graphtest.MustEval(t, func(_ *graph.Graph, in nodeList) nodeList {
			return graph.MustApply(graph.MustLookup("", "Celu"), graph.Attrs{"alpha": float32(2)}, in[0])
		}, x)[0]
		if got.DType != dt {
			t.Fatalf("Celu %s: output %s", dt, got.DType)
		}
		for i, v := range xs {
			w := celu(v, 2)
			if dt == graph.Float16 {
				w = float64(graph.F16(float32(w)).Float32())
			}
			if got.Float(i) != w {
				t.Errorf("Celu %s(%v) = %v, want %v", dt, v, got.Float(i), w)
			}
		}
	}
	h := func(v float32) *graph.Tensor {
		t := graph.NewTensor(graph.Float16, nil)
		graph.Data[graph.Half](t)[0] = graph.F16(v)
		return t
	}
	got := graphtest.MustEval(t, func(_ *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.Range(in[0], in[1], in[2])}
	}, h(1), h(2.2), h(0.25))[0]
	want := []float64{1, 1.25, 1.5, 1.75, 2}
	if got.DType != graph.Float16 || got.Len() != len(want) {
		t.Fatalf("Range float16: %s%v", got.DType, got.Shape)
	}
	for i, w := range want {
		if got.Float(i) != w {
			t.Errorf("Range float16[%d] = %v, want %v", i, got.Float(i), w)
		}
	}
}
