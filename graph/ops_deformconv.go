package graph

import (
	"fmt"
	"math"
)

// DeformConv (since 19; 22 only adds bfloat16) is Conv whose kernel
// samples X at fractional positions: each kernel element k at output
// position o reads X at o·stride − pad_begin + k·dilation + offset, where
// offset has shape (N, offset_group·K·n, o1, ..., on) laid out as
// (offset_group, k1, ..., kn, n) along its channels (K the kernel size, n
// the spatial rank). The value is interpolated linearly along every
// spatial axis from the neighbouring elements, those outside X counting as
// 0 (GridSample with align_corners=1 and zero padding, as the ONNX
// reference does), then multiplied by the optional mask (N,
// offset_group·K, o1, ..., on; ones by default). The input channels are
// split into offset_group groups that share offsets, and into group
// groups as in Conv. The output spatial shape is the Conv geometry's,
// which offset's must match. Any spatial rank is taken (the ONNX
// reference implements 2-D only); float32, float64, float16 (computed in
// float32). No gradient.
var deformConvDef *OpDef

func init() {
	deformConvDef = Register(&OpDef{
		Type: "DeformConv", Since: 19, Compat: []int{22},
		MinInputs: 3, MaxInputs: 5,
		Attrs: []AttrSpec{
			{Name: "dilations", Type: AttrInts},
			{Name: "group", Type: AttrInt, Default: int64(1)},
			{Name: "kernel_shape", Type: AttrInts},
			{Name: "offset_group", Type: AttrInt, Default: int64(1)},
			{Name: "pads", Type: AttrInts},
			{Name: "strides", Type: AttrInts},
		},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if err := sameFloat("DeformConv", in, 1, 2, 3, 4); err != nil {
				return nil, err
			}
			x, w := in[0], in[1]
			if err := checkData(in[2], "offset"); err != nil {
				return nil, err
			}
			g, err := deformGeom(x.Shape, w.Shape, a)
			if err != nil {
				return nil, err
			}
			if err := checkDeformInputs(x.Shape, w.Shape, in[2].Shape, maskShape(in), g, a); err != nil {
				return nil, err
			}
			if b, ok := optIn(in, 3); ok && (len(b.Shape) != 1 || (b.Shape[0] >= 0 && w.Shape[0] >= 0 && b.Shape[0] != w.Shape[0])) {
				return nil, fmt.Errorf("B must have shape [%d], got %v", w.Shape[0], b.Shape)
			}
			return []Meta{{DType: x.DType, Shape: append([]int{x.Shape[0], w.Shape[0]}, g.out...)}}, nil
		},
		Kernel: floatDispatch(deformConvKernel[float32], deformConvKernel[float64], 0),
	})
}

// DeformConv applies ONNX DeformConv to x (N, C, D1, ...) with weights w,
// offsets offset and the optional bias b and mask (nil when absent).
func DeformConv(x, w, offset, b, mask *Node, attrs Attrs) *Node {
	switch {
	case mask != nil:
		return Apply1(deformConvDef, attrs, x, w, offset, b, mask)
	case b != nil:
		return Apply1(deformConvDef, attrs, x, w, offset, b)
	}
	return Apply1(deformConvDef, attrs, x, w, offset)
}

func maskShape(in []Meta) []int {
	if m, ok := optIn(in, 4); ok {
		return m.Shape
	}
	return nil
}

// maxDeformRank bounds the spatial rank (interpLinear visits 2^rank
// neighbours).
const maxDeformRank = 8

// deformGeom is Conv's geometry (no auto_pad in DeformConv).
func deformGeom(xs, ws []int, a Attrs) (*winGeom, error) {
	ca := make(Attrs, len(a)+1)
	for k, v := range a {
		ca[k] = v
	}
	ca["auto_pad"] = "NOTSET"
	return convGeom(xs, ws, ca)
}

// checkDeformInputs checks offset_group and the shapes of offset and mask
// (nil when absent) against the geometry.
func checkDeformInputs(xs, ws, os, ms []int, g *winGeom, a Attrs) error {
	og := a.Int("offset_group")
	if og < 1 || og > 1<<20 {
		return fmt.Errorf("offset_group %d must be positive", og)
	}
	if c := xs[1]; c >= 0 && int64(c)%og != 0 {
		return fmt.Errorf("X has %d channels, not a multiple of offset_group %d", c, og)
	}
	nd, kk := len(g.k), int64(Size(g.k))
	if nd > maxDeformRank {
		return fmt.Errorf("X has %d spatial dimensions; DeformConv takes at most %d", nd, maxDeformRank)
	}
	check := func(name string, s []int, ch int64) error {
		want := append([]int{xs[0], int(ch)}, g.out...)
		if len(s) != len(want) {
			return fmt.Errorf("%s has shape %v, want %v", name, s, want)
		}
		for i := range s {
			if s[i] >= 0 && want[i] >= 0 && s[i] != want[i] {
				return fmt.Errorf("%s has shape %v, want %v (offset_group · kernel size%s, then the output's spatial shape)",
					name, s, want, map[bool]string{true: " · rank", false: ""}[name == "offset"])
			}
		}
		return nil
	}
	if err := check("offset", os, og*kk*int64(nd)); err != nil {
		return err
	}
	if ms != nil {
		return check("mask", ms, og*kk)
	}
	return nil
}

func deformConvKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x, w, off, y := in[0], in[1], in[2], out[0]
	b, mask := optT(in, 3), optT(in, 4)
	g, err := deformGeom(x.Shape, w.Shape, a)
	if err != nil {
		return err
	}
	var ms []int
	if mask != nil {
		ms = mask.Shape
	}
	if err := checkDeformInputs(x.Shape, w.Shape, off.Shape, ms, g, a); err != nil {
		return err
	}
	if b != nil && b.Len() != w.Shape[0] {
		return fmt.Errorf("B has %d values, want %d", b.Len(), w.Shape[0])
	}
	gemm := gemmFor[T]()
	group, og := int(a.Int("group")), int(a.Int("offset_group"))
	n, c, m := x.Shape[0], x.Shape[1], w.Shape[0]
	cg, mg, cog := c/group, m/group, c/og
	nd, kk, p, sp := len(g.k), Size(g.k), Size(g.out), Size(g.in)
	rows := cg * kk
	cw := min(p, max(1, colBudget/max(1, rows)))
	col := make([]T, rows*cw)
	xs, ws, ys, os := Data[T](x), Data[T](w), Data[T](y), Data[T](off)
	var mv []T
	if mask != nil {
		mv = Data[T](mask)
	}
	inStr := rowStrides(g.in)
	kIdx, oIdx := make([][]int, kk), make([][]int, p)
	for k := range kIdx {
		kIdx[k] = unflatten(k, g.k)
	}
	for q := range oIdx {
		oIdx[q] = unflatten(q, g.out)
	}
	pos := make([]float64, nd)
	for s := 0; s < n; s++ {
		for gi := 0; gi < group; gi++ {
			for q0 := 0; q0 < p; q0 += cw {
				width := min(cw, p-q0)
				for ci := 0; ci < cg; ci++ {
					ch := gi*cg + ci
					o := ch / cog // offset group
					xc := xs[(s*c+ch)*sp : (s*c+ch+1)*sp]
					for k := 0; k < kk; k++ {
						dst := col[(ci*kk+k)*width : (ci*kk+k+1)*width]
						for j := range dst {
							q := q0 + j
							for d := 0; d < nd; d++ {
								offCh := (o*kk+k)*nd + d
								pos[d] = float64(oIdx[q][d]*g.s[d]-g.pb[d]+kIdx[k][d]*g.d[d]) +
									float64(os[(s*og*kk*nd+offCh)*p+q])
							}
							v := interpLinear(xc, g.in, inStr, pos)
							if mv != nil {
								v *= float64(mv[(s*og*kk+o*kk+k)*p+q])
							}
							dst[j] = T(v)
						}
					}
				}
				gemm(false, false, mg, width, rows, 1, ws[gi*mg*rows:], rows, col, width, 0, ys[(s*m+gi*mg)*p+q0:], p)
			}
		}
	}
	if b != nil {
		bv := Data[T](b)
		for s := 0; s < n; s++ {
			for o := 0; o < m; o++ {
				row := ys[(s*m+o)*p : (s*m+o+1)*p]
				for j := range row {
					row[j] += bv[o]
				}
			}
		}
	}
	return nil
}

// unflatten is the row-major multi-index of flat index i in dims.
func unflatten(i int, dims []int) []int {
	idx := make([]int, len(dims))
	for d := len(dims) - 1; d >= 0; d-- {
		idx[d] = i % dims[d]
		i /= dims[d]
	}
	return idx
}

// interpLinear samples x (spatial shape dims, row-major strides st) at the
// fractional position pos, linear along every axis, elements outside x
// counting as 0; NaN positions give NaN.
func interpLinear[T Float](x []T, dims, st []int, pos []float64) float64 {
	nd := len(dims)
	var lo [maxDeformRank]int
	var fr [maxDeformRank]float64
	for d := 0; d < nd; d++ {
		p := pos[d]
		if p != p {
			return math.NaN()
		}
		if p <= -1 || p >= float64(dims[d]) {
			return 0
		}
		f := math.Floor(p)
		lo[d], fr[d] = int(f), p-f
	}
	sum := 0.0
	for corner := 0; corner < 1<<nd; corner++ {
		wgt, off := 1.0, 0
		for d := 0; d < nd; d++ {
			i := lo[d]
			if corner>>d&1 == 1 {
				i++
				wgt *= fr[d]
			} else {
				wgt *= 1 - fr[d]
			}
			if i < 0 || i >= dims[d] || wgt == 0 {
				wgt = 0
				break
			}
			off += i * st[d]
		}
		if wgt != 0 {
			sum += wgt * float64(x[off])
		}
	}
	return sum
}
