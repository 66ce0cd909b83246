package graph_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// TestDeformConvSpecExample is the ONNX spec's example with padding: a 2x2
// kernel of ones over 0..8, one offset of 0.5 in h and one of -0.1 in w.
func TestDeformConvSpecExample(t *testing.T) {
	x := iotaF(1, 1, 3, 3)
	w := graph.F32(dims(1, 1, 2, 2), []float32{1, 1, 1, 1})
	off := graph.NewTensor(graph.Float32, dims(1, 8, 4, 4))
	off.F[0] = 0.5           // [0, 0, 0, 0]
	off.F[5*16+1*4+2] = -0.1 // [0, 5, 1, 2]
	got := graphtest.MustEval(t, func(_ *graph.Graph, in nodeList) nodeList {
		return nodeList{graph.DeformConv(in[0], in[1], in[2], nil, nil, graph.Attrs{"kernel_shape": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}})}
	}, x, w, off)[0]
	want := []float32{0, 1, 3, 2, 3, 8, 11.9, 7, 9, 20, 24, 13, 6, 13, 15, 8}
	if !closeTensor(got, graph.F32(dims(1, 1, 4, 4), want), 1e-6, 1e-6) {
		t.Errorf("got %v, want %v", got.F, want)
	}
}

// TestDeformConvZeroOffsetsIsConv: with zero offsets and no mask,
// DeformConv is Conv (groups, strides, dilations, pads, bias, 1-D to 3-D);
// a mask of 2 doubles everything but the bias.
func TestDeformConvZeroOffsetsIsConv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 19))
	randT := func(shape ...int) *graph.Tensor {
		x := graph.NewTensor(graph.Float32, shape)
		for i := range x.F {
			x.F[i] = float32(r.NormFloat64())
		}
		return x
	}
	for _, c := range []struct {
		x, w  []int
		attrs graph.Attrs
		og    int
	}{
		{[]int{2, 4, 7}, []int{6, 2, 3}, graph.Attrs{"group": int64(2), "strides": []int64{2}, "pads": []int64{1, 2}}, 2},
		{[]int{1, 3, 5, 6}, []int{2, 3, 2, 3}, graph.Attrs{"dilations": []int64{2, 1}, "pads": []int64{0, 1, 1, 0}}, 3},
		{[]int{1, 2, 4, 3, 3}, []int{2, 1, 2, 2, 2}, graph.Attrs{"group": int64(2)}, 1},
	} {
		x, w, b := randT(c.x...), randT(c.w...), randT(c.w[0])
		conv := graphtest.MustEval(t, func(_ *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.Conv(in[0], in[1], in[2], c.attrs)}
		}, x, w, b)[0]
		nd, kk := len(c.x)-2, 1
		for _, k := range c.w[2:] {
			kk *= k
		}
		a := graph.Attrs{"offset_group": int64(c.og)}
		for k, v := range c.attrs {
			a[k] = v
		}
		off := graph.NewTensor(graph.Float32, append([]int{c.x[0], c.og * kk * nd}, conv.Shape[2:]...))
		mask := graph.NewTensor(graph.Float32, append([]int{c.x[0], c.og * kk}, conv.Shape[2:]...))
		for i := range mask.F {
			mask.F[i] = 2
		}
		got := graphtest.MustEval(t, func(_ *graph.Graph, in nodeList) nodeList {
			return nodeList{graph.DeformConv(in[0], in[1], in[2], in[3], nil, a), graph.DeformConv(in[0], in[1], in[2], nil, in[4], a)}
		}, x, w, off, b, mask)
		if !closeTensor(got[0], conv, 1e-5, 1e-5) {
			t.Errorf("%v: DeformConv %v, Conv %v", c.x, got[0].F, conv.F)
		}
		m := conv.Shape[1]
		p := conv.Len() / conv.Shape[0] / m
		for i := range conv.F {
			want := 2 * (conv.F[i] - b.F[i/p%m])
			if math.Abs(float64(got[1].F[i]-want)) > 1e-4 {
				t.Fatalf("%v mask 2: y[%d] = %v, want %v", c.x, i, got[1].F[i], want)
			}
		}
	}
}

func TestDeformConvErrors(t *testing.T) {
	for _, c := range []struct {
		want        string
		off, mask   []int
		attrs       graph.Attrs
		x, w, bias  []int
		offDType    graph.DType
		skipOffset  bool
		wrongMaskDT bool
	}{
		{want: "offset has shape", off: []int{1, 4, 2, 2}},
		{want: "offset has shape", off: []int{1, 8, 3, 2}},
		{want: "mask has shape", off: []int{1, 8, 2, 2}, mask: []int{1, 8, 2, 2}},
		{want: "offset_group 0", off: []int{1, 8, 2, 2}, attrs: graph.Attrs{"offset_group": int64(0)}},
		{want: "not a multiple of offset_group 3", off: []int{1, 24, 2, 2}, attrs: graph.Attrs{"offset_group": int64(3)}},
		{want: "B must have shape", off: []int{1, 8, 2, 2}, bias: []int{3}},
		{want: "want float32", off: []int{1, 8, 2, 2}, offDType: graph.Float64},
		{want: "channels", off: []int{1, 8, 2, 2}, w: []int{1, 3, 2, 2}},
		{want: "attribute \"auto_pad\" is not supported", off: []int{1, 8, 2, 2}, attrs: graph.Attrs{"auto_pad": "VALID"}},
	} {
		if c.x == nil {
			c.x = []int{1, 2, 3, 3}
		}
		if c.w == nil {
			c.w = []int{1, 2, 2, 2}
		}
		dt := c.offDType
		if dt == graph.Invalid {
			dt = graph.Float32
		}
		err := buildErr(func(g *graph.Graph) *graph.Node {
			x, w := g.Input("x", graph.Float32, c.x...), g.Input("w", graph.Float32, c.w...)
			off := g.Input("off", dt, c.off...)
			var b, m *graph.Node
			if c.bias != nil {
				b = g.Input("b", graph.Float32, c.bias...)
			}
			if c.mask != nil {
				m = g.Input("m", graph.Float32, c.mask...)
			}
			return graph.DeformConv(x, w, off, b, m, c.attrs)
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v", c.want, err)
		}
	}
}

// deformConvRef is a direct 2-D DeformConv written after the ONNX
// reference implementation (loops over output and input channels, 4-corner
// bilinear sampling, zero outside), float64 throughout.
func deformConvRef(x, w, off, b, mask *graph.Tensor, group, og int, st, dil, pads []int64) []float64 {
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	m, cg, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	oh, ow := off.Shape[2], off.Shape[3]
	mg, cog := m/group, c/og
	xv := func(s, ch, i, j int) float64 {
		if i < 0 || i >= h || j < 0 || j >= wd {
			return 0
		}
		return x.Float(((s*c+ch)*h+i)*wd + j)
	}
	y := make([]float64, n*m*oh*ow)
	for s := 0; s < n; s++ {
		for oc := 0; oc < m; oc++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					sum := 0.0
					if b != nil {
						sum = b.Float(oc)
					}
					for ic := 0; ic < c; ic++ {
						if ic/cg != oc/mg {
							continue
						}
						g := ic / cog
						for ki := 0; ki < kh; ki++ {
							for kj := 0; kj < kw; kj++ {
								k := ki*kw + kj
								oy := off.Float(((s*off.Shape[1]+(g*kh*kw+k)*2)*oh+i)*ow + j)
								ox := off.Float(((s*off.Shape[1]+(g*kh*kw+k)*2+1)*oh+i)*ow + j)
								py := float64(i*int(st[0])-int(pads[0])+ki*int(dil[0])) + oy
								px := float64(j*int(st[1])-int(pads[1])+kj*int(dil[1])) + ox
								y0, x0 := math.Floor(py), math.Floor(px)
								fy, fx := py-y0, px-x0
								iy, ix := int(y0), int(x0)
								v := (1-fy)*(1-fx)*xv(s, ic, iy, ix) + (1-fy)*fx*xv(s, ic, iy, ix+1) +
									fy*(1-fx)*xv(s, ic, iy+1, ix) + fy*fx*xv(s, ic, iy+1, ix+1)
								if mask != nil {
									v *= mask.Float(((s*mask.Shape[1]+g*kh*kw+k)*oh+i)*ow + j)
								}
								sum += v * w.Float(((oc*cg+ic%cg)*kh+ki)*kw+kj)
							}
						}
					}
					y[((s*m+oc)*oh+i)*ow+j] = sum
				}
			}
		}
	}
	return y
}

// TestDeformConvAgainstReference compares random 2-D DeformConvs (groups,
// offset groups, strides, dilations, pads, bias, mask, offsets reaching
// outside X) with deformConvRef. ONNX Runtime 1.24 has no CPU DeformConv
// kernel to compare with.
func TestDeformConvAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 22))
	randT := func(dt graph.DType, scale float64, shape ...int) *graph.Tensor {
		x := graph.NewTensor(dt, shape)
		for i := 0; i < x.Len(); i++ {
			v := r.NormFloat64() * scale
			switch dt {
			case graph.Float64:
				graph.Data[float64](x)[i] = v
			case graph.Float16:
				graph.Data[graph.Half](x)[i] = graph.F16(float32(v))
			default:
				x.F[i] = float32(v)
			}
		}
		return x
	}
	compared := 0
	for i := 0; i < 40; i++ {
		dt := []graph.DType{graph.Float32, graph.Float64, graph.Float16}[i%3]
		group, og := 1+r.IntN(2), 1+r.IntN(2)
		c := group * og * (1 + r.IntN(2))
		m := group * (1 + r.IntN(2))
		kh, kw := 1+r.IntN(3), 1+r.IntN(3)
		h, w := kh+r.IntN(4), kw+r.IntN(4)
		st := []int64{int64(1 + r.IntN(2)), int64(1 + r.IntN(2))}
		dil := []int64{int64(1 + r.IntN(2)), int64(1 + r.IntN(2))}
		pads := []int64{int64(r.IntN(2)), int64(r.IntN(2)), int64(r.IntN(2)), int64(r.IntN(2))}
		a := graph.Attrs{"group": int64(group), "offset_group": int64(og), "strides": st, "dilations": dil, "pads": pads}
		sh, sw := h+int(pads[0]+pads[2])-(kh-1)*int(dil[0])-1, w+int(pads[1]+pads[3])-(kw-1)*int(dil[1])-1
		if sh < 0 || sw < 0 {
			continue
		}
		oh, ow := sh/int(st[0])+1, sw/int(st[1])+1
		n := 1 + r.IntN(2)
		x := randT(dt, 1, n, c, h, w)
		wt := randT(dt, 1, m, c/group, kh, kw)
		off := randT(dt, 1.5, n, og*kh*kw*2, oh, ow)
		b := randT(dt, 1, m)
		mask := randT(dt, 1, n, og*kh*kw, oh, ow)
		if r.IntN(2) == 0 {
			b = nil
		}
		if r.IntN(2) == 0 {
			mask = nil
		}
		got := graphtest.MustEval(t, func(g *graph.Graph, in nodeList) nodeList {
			var bn, mn *graph.Node
			if b != nil {
				bn = g.Const(b)
			}
			if mask != nil {
				mn = g.Const(mask)
			}
			return nodeList{graph.DeformConv(in[0], in[1], in[2], bn, mn, a)}
		}, x, wt, off)[0]
		want := deformConvRef(x, wt, off, b, mask, group, og, st, dil, pads)
		tol := 1e-4
		if dt == graph.Float16 {
			tol = 2e-2
		}
		if got.DType != dt || got.Len() != len(want) {
			t.Fatalf("case %d: got %s%v, want %d values", i, got.DType, got.Shape, len(want))
		}
		for k, v := range want {
			if d := math.Abs(got.Float(k) - v); d > tol*(1+math.Abs(v)) {
				t.Fatalf("case %d (%s, %v): y[%d] = %v, want %v", i, dt, a, k, got.Float(k), v)
			}
		}
		compared++
	}
	if compared < 20 {
		t.Fatalf("only %d cases compared", compared)
	}
}
