package graph_test

import (
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

// BenchmarkMoveOps times the element-moving ops on float32 tensors of the
// sizes ODMN scoring moves (a batch of 1024 rows of 64 features), through
// the native runtime.
func BenchmarkMoveOps(b *testing.B) {
	x := iotaF(1024, 64)
	idx := graph.NewTensor(graph.Int64, []int{1024})
	for i := range idx.I {
		idx.I[i] = int64(i*7) % 1024
	}
	for name, f := range map[string]func(g *graph.Graph, x nodeList) nodeList{
		"Gather":    func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Gather(x[0], x[1], 0)} },
		"Concat":    func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Concat(1, x[0], x[0])} },
		"Transpose": func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Transpose(x[0])} },
		"Slice": func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.Slice(x[0], []int64{8}, []int64{40}, []int64{1}, nil)}
		},
		"Reshape": func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ReshapeTo(x[0], -1)} },
	} {
		b.Run(name, func(b *testing.B) {
			g, err := graphtest.Build(f, x, idx)
			if err != nil {
				b.Fatal(err)
			}
			s, err := native.New(g, native.Options{})
			if err != nil {
				b.Fatal(err)
			}
			feed := map[string]*graph.Tensor{"x0": x, "x1": idx}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := s.Run(feed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
