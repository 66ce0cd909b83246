package graph_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
)

func TestVisionOpsAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(9, 10))

	// CenterCropPad: crop and pad (odd and even differences), axes subsets.
	x := graphtest.Rand(r, -1, 1, 3, 6, 5)
	for _, c := range []struct {
		shape []int64
		axes  []int64
	}{
		{[]int64{2, 3, 8}, nil},
		{[]int64{5, 9}, []int64{1, 2}},
		{[]int64{4}, []int64{-2}},
		{[]int64{1, 2}, []int64{2, 0}},
	} {
		agreeWithORT(t, fmt.Sprintf("CenterCropPad %v %v", c.shape, c.axes), func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.CenterCropPad(in[0], g.Const(graph.I64([]int{len(c.shape)}, c.shape)), c.axes)}
		}, x)
	}

	// Col2Im: 2-D and 3-D, with pads, strides and dilations.
	for _, c := range []struct {
		x             *graph.Tensor
		img, blk      []int64
		dil, pad, str []int64
	}{
		{graphtest.Rand(r, -1, 1, 2, 2*6, 16), []int64{5, 6}, []int64{2, 3}, nil, nil, nil},
		{graphtest.Rand(r, -1, 1, 1, 3*4, 12), []int64{5, 5}, []int64{2, 2}, []int64{2, 1}, []int64{1, 0, 0, 1}, []int64{1, 2}},
		{graphtest.Rand(r, -1, 1, 1, 2*8, 8), []int64{3, 3, 3}, []int64{2, 2, 2}, nil, nil, nil},
	} {
		agreeWithORT(t, fmt.Sprintf("Col2Im %v %v", c.img, c.blk), func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Col2Im(in[0], g.Const(graph.I64([]int{len(c.img)}, c.img)),
				g.Const(graph.I64([]int{len(c.blk)}, c.blk)), c.dil, c.pad, c.str)}
		}, c.x)
	}

	// GridSample: every mode, padding mode and alignment, 2-D and 3-D,
	// with grid values beyond [-1, 1].
	x2 := graphtest.Rand(r, -1, 1, 2, 3, 5, 6)
	g2 := graphtest.Rand(r, -1.4, 1.4, 2, 4, 7, 2)
	x3 := graphtest.Rand(r, -1, 1, 1, 2, 4, 5, 3)
	g3 := graphtest.Rand(r, -1.4, 1.4, 1, 3, 2, 4, 3)
	for _, mode := range []string{"linear", "nearest", "cubic"} {
		for _, pad := range []string{"zeros", "border", "reflection"} {
			for _, ac := range []bool{false, true} {
				agreeWithORT(t, fmt.Sprintf("GridSample 2-D %s %s %v", mode, pad, ac), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
					return []*graph.Node{graph.GridSample(in[0], in[1], mode, pad, ac)}
				}, x2, g2)
				if mode == "cubic" {
					continue // ONNX Runtime has no 3-D cubic
				}
				agreeWithORT(t, fmt.Sprintf("GridSample 3-D %s %s %v", mode, pad, ac), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
					return []*graph.Node{graph.GridSample(in[0], in[1], mode, pad, ac)}
				}, x3, g3)
			}
		}
	}

	// AffineGrid 2-D and 3-D.
	for _, ac := range []bool{false, true} {
		agreeWithORT(t, fmt.Sprintf("AffineGrid 2-D %v", ac), func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.AffineGrid(in[0], g.Const(graph.I64([]int{4}, []int64{2, 3, 4, 5})), ac)}
		}, graphtest.Rand(r, -1, 1, 2, 2, 3))
		agreeWithORT(t, fmt.Sprintf("AffineGrid 3-D %v", ac), func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.AffineGrid(in[0], g.Const(graph.I64([]int{5}, []int64{1, 3, 2, 4, 3})), ac)}
		}, graphtest.Rand(r, -1, 1, 1, 3, 4))
	}

	// RoiAlign: both modes and transformations, adaptive and fixed
	// sampling, RoIs partly outside the image.
	fx := graphtest.Rand(r, -1, 1, 2, 3, 10, 12)
	rois := graph.F32([]int{4, 4}, []float32{0, 0, 9, 9, 2.5, 1.2, 7.7, 6.3, -2, -1, 5, 4, 6, 3, 14, 12})
	bidx := graph.I64([]int{4}, []int64{0, 1, 1, 0})
	for _, mode := range []string{"avg", "max"} {
		for _, half := range []bool{false, true} {
			for _, sr := range []int64{0, 2} {
				agreeWithORT(t, fmt.Sprintf("RoiAlign %s half %v sr %d", mode, half, sr), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
					return []*graph.Node{graph.RoiAlign(in[0], in[1], in[2], mode, 3, 2, sr, 0.75, half)}
				}, fx, rois, bidx)
			}
		}
	}

	// NonMaxSuppression on random overlapping boxes, both box formats.
	boxes := graphtest.Rand(r, 0, 1, 2, 30, 4)
	scores := graphtest.Rand(r, 0, 1, 2, 3, 30)
	for _, cb := range []bool{false, true} {
		for _, th := range [][2]float32{{0.5, 0}, {0.3, 0.4}, {0, 0.9}} {
			agreeWithORT(t, fmt.Sprintf("NonMaxSuppression %v %v", cb, th), func(g *graph.Graph, in []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.NonMaxSuppression(in[0], in[1], g.Const(scalarI64(5)),
					g.Const(graph.ScalarF32(th[0])), g.Const(graph.ScalarF32(th[1])), cb)}
			}, boxes, scores)
		}
	}

	// Unique on repeated values, flattened and along each axis.
	u := graph.NewTensor(graph.Float32, []int{3, 4, 2})
	for i := range u.F {
		u.F[i] = float32(r.IntN(3) + 1)
	}
	u.F[8], u.F[9], u.F[16], u.F[17] = 1, 2, 1, 2 // a repeated [4]-row... along axis 1 some
	for _, axis := range []*int64{nil, ptr(0), ptr(1), ptr(-1)} {
		for _, sorted := range []bool{true, false} {
			agreeWithORT(t, fmt.Sprintf("Unique %v %v", deref(axis), sorted), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
				y, idx, inv, cnt := graph.Unique(in[0], axis, sorted)
				return []*graph.Node{y, idx, inv, cnt}
			}, u)
		}
	}
}

func ptr(v int64) *int64 { return &v }

func deref(p *int64) any {
	if p == nil {
		return "none"
	}
	return *p
}

// TestUniqueExamples checks the spec's examples.
func TestUniqueExamples(t *testing.T) {
	outs := graphtest.MustEval(t, func(g *graph.Graph, _ []*graph.Node) []*graph.Node {
		y, idx, inv, cnt := graph.Unique(g.Const(tensF(dims(6), 2, 1, 1, 3, 4, 3)), nil, false)
		y2, idx2, inv2, cnt2 := graph.Unique(g.Const(tensF(dims(3, 3), 1, 0, 0, 1, 0, 0, 2, 3, 4)), ptr(0), true)
		return []*graph.Node{y, idx, inv, cnt, y2, idx2, inv2, cnt2}
	})
	expectTensor(t, "Y", outs[0], tensF(dims(4), 2, 1, 3, 4))
	expectTensor(t, "indices", outs[1], tensI(dims(4), 0, 1, 3, 4))
	expectTensor(t, "inverse", outs[2], tensI(dims(6), 0, 1, 1, 2, 3, 2))
	expectTensor(t, "counts", outs[3], tensI(dims(4), 1, 2, 2, 1))
	expectTensor(t, "Y axis", outs[4], tensF(dims(2, 3), 1, 0, 0, 2, 3, 4))
	expectTensor(t, "indices axis", outs[5], tensI(dims(2), 0, 2))
	expectTensor(t, "inverse axis", outs[6], tensI(dims(3), 0, 0, 1))
	expectTensor(t, "counts axis", outs[7], tensI(dims(2), 2, 1))
	// Strings sort too.
	s := graph.FromSlice([]int{4}, []string{"b", "a", "b", "c"})
	so := graphtest.MustEval(t, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		y, _, inv, _ := graph.Unique(in[0], nil, true)
		return []*graph.Node{y, inv}
	}, s)
	if got := so[0].S; strings.Join(got, ",") != "a,b,c" {
		t.Errorf("strings: got %q, want a, b, c", got)
	}
	expectTensor(t, "strings inverse", so[1], tensI(dims(4), 1, 0, 1, 2))
}

func TestVisionOpsBadInput(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := graphtest.Rand(r, -1, 1, 1, 2, 4, 4)
	cases := []struct {
		name, want string
		f          func(g *graph.Graph, in []*graph.Node) []*graph.Node
	}{
		{"GridSample grid rank", "grid must have rank", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.GridSample(in[0], g.Const(graphtest.Rand(r, -1, 1, 1, 3, 2)), "linear", "zeros", false)}
		}},
		{"GridSample mode", "mode", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.GridSample(in[0], g.Const(graphtest.Rand(r, -1, 1, 1, 3, 3, 2)), "bilinear", "zeros", false)}
		}},
		{"GridSample batch", "batch", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.GridSample(in[0], g.Const(graphtest.Rand(r, -1, 1, 2, 3, 3, 2)), "linear", "zeros", false)}
		}},
		{"RoiAlign batch index", "batch_indices[0]", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.RoiAlign(in[0], g.Const(tensF(dims(1, 4), 0, 0, 2, 2)), g.Const(tensI(dims(1), 3)), "avg", 2, 2, 0, 1, true)}
		}},
		{"RoiAlign huge roi", "too many samples", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.RoiAlign(in[0], g.Const(tensF(dims(1, 4), 0, 0, 1e9, 1e9)), g.Const(tensI(dims(1), 0)), "avg", 2, 2, 0, 1, true)}
		}},
		{"RoiAlign mode", "mode", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.RoiAlign(in[0], g.Const(tensF(dims(1, 4), 0, 0, 2, 2)), g.Const(tensI(dims(1), 0)), "min", 2, 2, 0, 1, true)}
		}},
		{"AffineGrid size", "size must hold", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.AffineGrid(g.Const(graphtest.Rand(r, -1, 1, 1, 2, 3)), g.Const(tensI(dims(3), 1, 2, 3)), false)}
		}},
		{"AffineGrid theta", "theta", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.AffineGrid(g.Const(graphtest.Rand(r, -1, 1, 1, 3, 4)), g.Const(tensI(dims(4), 1, 2, 3, 3)), false)}
		}},
		{"Col2Im blocks", "blocks", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Col2Im(g.Const(graphtest.Rand(r, -1, 1, 1, 4, 5)), g.Const(tensI(dims(2), 3, 3)), g.Const(tensI(dims(2), 2, 2)), nil, nil, nil)}
		}},
		{"Col2Im block too big", "does not fit", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Col2Im(g.Const(graphtest.Rand(r, -1, 1, 1, 16, 1)), g.Const(tensI(dims(2), 3, 3)), g.Const(tensI(dims(2), 4, 4)), nil, nil, nil)}
		}},
		{"CenterCropPad shape length", "values for", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.CenterCropPad(in[0], g.Const(tensI(dims(2), 3, 3)), nil)}
		}},
		{"CenterCropPad repeated axis", "twice", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.CenterCropPad(in[0], g.Const(tensI(dims(2), 3, 3)), []int64{1, -3})}
		}},
		{"NMS iou", "iou_threshold", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.NonMaxSuppression(g.Const(graphtest.Rand(r, 0, 1, 1, 3, 4)), g.Const(graphtest.Rand(r, 0, 1, 1, 1, 3)),
				g.Const(scalarI64(2)), g.Const(graph.ScalarF32(1.5)), nil, false)}
		}},
		{"NMS shapes", "disagree", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.NonMaxSuppression(g.Const(graphtest.Rand(r, 0, 1, 1, 3, 4)), g.Const(graphtest.Rand(r, 0, 1, 1, 1, 4)),
				nil, nil, nil, false)}
		}},
		{"Unique axis", "axis", func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			y, _, _, _ := graph.Unique(in[0], ptr(4), true)
			return []*graph.Node{y}
		}},
	}
	for _, c := range cases {
		_, err := graphtest.Eval(c.f, x)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

// TestGridSampleND checks the spatial ranks ONNX Runtime lacks (1-D and
// 4-D): with align_corners a size-1 axis samples exactly its one
// position, so adding one (with any grid coordinate on it) must not
// change the result of the lower rank, which ORT checks for 2-D and 3-D.
func TestGridSampleND(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, mode := range []string{"linear", "nearest", "cubic"} {
		for _, pad := range []string{"zeros", "border", "reflection"} {
			x := graphtest.Rand(r, -1, 1, 2, 3, 4, 5, 3)
			grid := graphtest.Rand(r, -1.3, 1.3, 2, 3, 2, 2, 3)
			// The same with a size-1 axis in front and a random coordinate on it.
			x4 := graph.F32([]int{2, 3, 1, 4, 5, 3}, x.F)
			g4 := graph.NewTensor(graph.Float32, []int{2, 1, 3, 2, 2, 4})
			for i := 0; i < g4.Len()/4; i++ {
				copy(g4.F[4*i:4*i+3], grid.F[3*i:3*i+3])
				g4.F[4*i+3] = r.Float32()*2 - 1
			}
			outs := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.GridSample(in[0], in[1], mode, pad, true), graph.GridSample(in[2], in[3], mode, pad, true)}
			}, x, grid, x4, g4)
			if outs[0].Len() != outs[1].Len() {
				t.Fatalf("%s %s: %v and %v elements", mode, pad, outs[0].Shape, outs[1].Shape)
			}
			for i, v := range outs[0].F {
				if d := v - outs[1].F[i]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("%s %s: 4-D [%d] = %v, 3-D %v", mode, pad, i, outs[1].F[i], v)
				}
			}
			// 1-D against 2-D.
			x1 := graphtest.Rand(r, -1, 1, 1, 2, 6)
			g1 := graphtest.Rand(r, -1.3, 1.3, 1, 5, 1)
			x2 := graph.F32([]int{1, 2, 1, 6}, x1.F)
			g2 := graph.NewTensor(graph.Float32, []int{1, 1, 5, 2})
			for i := 0; i < 5; i++ {
				g2.F[2*i], g2.F[2*i+1] = g1.F[i], r.Float32()*2-1
			}
			o := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.GridSample(in[0], in[1], mode, pad, true), graph.GridSample(in[2], in[3], mode, pad, true)}
			}, x1, g1, x2, g2)
			for i, v := range o[0].F {
				if d := v - o[1].F[i]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("%s %s: 1-D [%d] = %v, 2-D %v", mode, pad, i, v, o[1].F[i])
				}
			}
		}
	}
}
