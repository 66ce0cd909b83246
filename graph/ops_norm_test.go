package graph_test

import (
	"errors"
	"math"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

func near(t *testing.T, what string, got *graph.Tensor, want []float64, tol float64) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("%s: %d values, want %d", what, got.Len(), len(want))
	}
	for i, w := range want {
		if g := got.Float(i); math.Abs(g-w) > tol*math.Max(1, math.Abs(w)) || g != g {
			t.Errorf("%s[%d] = %v, want %v", what, i, g, w)
		}
	}
}

func TestBatchNormalization(t *testing.T) {
	xv := []float64{1, 2, 3, 4, 5, 6, 7, 8} // N=2, C=2, 2
	for _, dt := range []graph.DType{graph.Float32, graph.Float64, graph.Float16} {
		x := fromF64(dt, []int{2, 2, 2}, xv)
		p := func(v ...float64) *graph.Tensor { return fromF64(dt, []int{2}, v) }
		out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.BatchNormalization(n[0], n[1], n[2], n[3], n[4], 0.5)}
		}, x, p(2, -1), p(0.5, 1), p(1, 2), p(1.5, 3.5))[0]
		var want []float64
		for i, v := range xv {
			c := (i / 2) % 2
			s, b, m, vr := []float64{2, -1}[c], []float64{0.5, 1}[c], []float64{1, 2}[c], []float64{1.5, 3.5}[c]
			want = append(want, (v-m)/math.Sqrt(vr+0.5)*s+b)
		}
		tol := 1e-6
		if dt == graph.Float16 {
			tol = 2e-3
		}
		if out.DType != dt {
			t.Fatalf("dtype %s", out.DType)
		}
		near(t, "BatchNormalization "+dt.String(), out, want, tol)
	}
	g := graph.New("bn")
	x := g.Input("x", graph.Float32, 2, 2)
	c := g.Const(graph.F32([]int{2}, []float32{1, 1}))
	_, err := g.Apply(graph.MustLookup("", "BatchNormalization"), graph.Attrs{"training_mode": int64(1)}, x, c, c, c, c)
	var un *graph.UnsupportedError
	if !errors.As(err, &un) {
		t.Fatalf("training_mode=1: %v", err)
	}
	wantBuildErr(t, "scale must have shape [2]", func(g *graph.Graph) *graph.Node {
		x := g.Input("x", graph.Float32, 2, 2)
		c3 := g.Const(graph.F32([]int{3}, []float32{1, 1, 1}))
		return graph.BatchNormalization(x, c3, c3, c3, c3, 1e-5)
	})
}

func TestLayerNormalization(t *testing.T) {
	xv := []float64{1, 2, 3, 4, 2, 2, 2, 8, -1, 0, 1, 5}
	x := fromF64(graph.Float64, []int{2, 2, 3}, xv)
	scale := fromF64(graph.Float64, []int{3}, []float64{1, 2, 3})
	bias := fromF64(graph.Float64, []int{1}, []float64{0.5})
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		y, m, inv := graph.LayerNormalization(n[0], n[1], n[2], -1, 1e-5)
		y2, m2, _ := graph.LayerNormalization(n[0], n[3], nil, 1, 1e-5)
		return []*graph.Node{y, m, inv, y2, m2}
	}, x, scale, bias, fromF64(graph.Float64, []int{1, 3}, []float64{1, 1, 1}))
	var wantY, wantM, wantI []float64
	for r := 0; r < 4; r++ {
		row := xv[r*3 : r*3+3]
		m := (row[0] + row[1] + row[2]) / 3
		v := 0.0
		for _, e := range row {
			v += (e - m) * (e - m)
		}
		inv := 1 / math.Sqrt(v/3+1e-5)
		for j, e := range row {
			wantY = append(wantY, (e-m)*inv*float64(j+1)+0.5)
		}
		wantM, wantI = append(wantM, m), append(wantI, inv)
	}
	near(t, "Y", out[0], wantY, 1e-9)
	wantShape(t, out[1], 2, 2, 1)
	near(t, "Mean", out[1], wantM, 1e-6)
	near(t, "InvStdDev", out[2], wantI, 1e-6)
	if out[1].DType != graph.Float32 {
		t.Errorf("Mean is %s, want float32", out[1].DType)
	}
	wantShape(t, out[4], 2, 1, 1)
	near(t, "axis 1 mean", out[4], []float64{(1 + 2 + 3 + 4 + 2 + 2) / 6.0, (2 + 8 - 1 + 0 + 1 + 5) / 6.0}, 1e-6)
	wantBuildErr(t, "does not broadcast", func(g *graph.Graph) *graph.Node {
		y, _, _ := graph.LayerNormalization(g.Input("x", graph.Float32, 2, 3), g.Input("s", graph.Float32, 2), nil, -1, 1e-5)
		return y
	})
}

func TestLpAndInstanceNormalization(t *testing.T) {
	x := tf([]int{2, 3}, 3, 0, -4, 0, 0, 0)
	out := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.LpNormalization(n[0], -1, 2), graph.LpNormalization(n[0], 1, 1), graph.LpNormalization(n[0], 0, 1)}
	}, x)
	near(t, "L2", out[0], []float64{0.6, 0, -0.8, 0, 0, 0}, 1e-6)
	near(t, "L1", out[1], []float64{3.0 / 7, 0, -4.0 / 7, 0, 0, 0}, 1e-6)
	near(t, "L1 axis 0", out[2], []float64{1, 0, -1, 0, 0, 0}, 1e-6)

	xi := fromF64(graph.Float16, []int{1, 2, 3}, []float64{1, 2, 3, 0, 0, 6})
	p := func(v ...float64) *graph.Tensor { return fromF64(graph.Float16, []int{2}, v) }
	o := graphtest.MustEval(t, func(_ *graph.Graph, n []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.InstanceNormalization(n[0], n[1], n[2], 1e-5)}
	}, xi, p(1, 2), p(0, 1))[0]
	s1 := math.Sqrt(2.0/3 + 1e-5)
	s2 := math.Sqrt(8 + 1e-5)
	near(t, "InstanceNormalization", o, []float64{-1 / s1, 0, 1 / s1, -2*2/s2 + 1, -2*2/s2 + 1, 2*4/s2 + 1}, 2e-3)
}
