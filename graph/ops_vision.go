package graph

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Vision ops: CenterCropPad, Col2Im, GridSample, AffineGrid, RoiAlign,
// NonMaxSuppression and Unique. Interpolating kernels compute in float64
// and round once to the element type.

// ---------- CenterCropPad ----------

var centerCropPadDef *OpDef

// cropAxes resolves CenterCropPad's axes attribute for rank r.
func cropAxes(a Attrs, r int) ([]int, error) {
	if !a.Has("axes") {
		ax := make([]int, r)
		for i := range ax {
			ax[i] = i
		}
		return ax, nil
	}
	vals := a.Ints("axes")
	seen := make([]bool, r)
	ax := make([]int, len(vals))
	for i, v := range vals {
		n, err := normAxis(v, r)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("axis %d given twice in axes %v", v, vals)
		}
		seen[n], ax[i] = true, n
	}
	return ax, nil
}

func init() {
	centerCropPadDef = Register(&OpDef{
		Type: "CenterCropPad", Since: 18,
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		ShapeFromValues: true,
		Attrs:           []AttrSpec{{Name: "axes", Type: AttrInts}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input_data"); err != nil {
				return nil, err
			}
			r := len(x.Shape)
			axes, err := cropAxes(a, r)
			if err != nil {
				return nil, err
			}
			sh, err := intsInput(in[1], "shape", false)
			if err != nil {
				return nil, err
			}
			if sh.n >= 0 && sh.n != len(axes) {
				return nil, fmt.Errorf("shape has %d values for %d axes", sh.n, len(axes))
			}
			out := append([]int{}, x.Shape...)
			for i, ax := range axes {
				out[ax] = -1
				if sh.known {
					if out[ax], err = dimOf(sh.vals[i], "shape"); err != nil {
						return nil, err
					}
				}
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			x, o := in[0], out[0]
			maps := make([][]int, len(x.Shape))
			for i, d := range x.Shape {
				n := o.Shape[i]
				m := make([]int, n)
				if d >= n { // crop: the window starts at floor((d-n)/2)
					s := (d - n) / 2
					for j := range m {
						m[j] = s + j
					}
				} else { // pad: floor((n-d)/2) before, the rest after
					b := (n - d) / 2
					for j := range m {
						m[j] = j - b
						if m[j] < 0 || m[j] >= d {
							m[j] = -1
						}
					}
				}
				maps[i] = m
			}
			mapCopyT(o, x, stridesOf(x.Shape), maps, nil)
			return nil
		},
	})
}

// CenterCropPad crops or zero-pads x, centered, to shape (int64 1-D) on
// axes (nil: every axis).
func CenterCropPad(x, shape *Node, axes []int64) *Node {
	var a Attrs
	if axes != nil {
		a = Attrs{"axes": axes}
	}
	return Apply1(centerCropPadDef, a, x, shape)
}

// ---------- Col2Im ----------

var col2ImDef *OpDef

// col2ImGeom is Col2Im's geometry: per spatial axis the image size, block
// size, dilation, begin pad, stride and number of block positions.
type col2ImGeom struct {
	img, blk, dil, pad, str, cnt []int
}

func col2ImAttrs(a Attrs, k int) (dil, pads, str []int64, err error) {
	get := func(name string, n int, def int64) ([]int64, error) {
		if !a.Has(name) {
			v := make([]int64, n)
			for i := range v {
				v[i] = def
			}
			return v, nil
		}
		v := a.Ints(name)
		if len(v) != n {
			return nil, fmt.Errorf("%s has %d values, want %d", name, len(v), n)
		}
		return v, nil
	}
	if dil, err = get("dilations", k, 1); err != nil {
		return
	}
	if pads, err = get("pads", 2*k, 0); err != nil {
		return
	}
	str, err = get("strides", k, 1)
	return
}

// col2ImGeometry checks image_shape and block_shape against the
// attributes; it returns the geometry and the number of blocks.
func col2ImGeometry(img, blk []int64, a Attrs) (col2ImGeom, int, error) {
	var g col2ImGeom
	k := len(img)
	if len(blk) != k {
		return g, 0, fmt.Errorf("image_shape has %d values, block_shape %d", k, len(blk))
	}
	dil, pads, str, err := col2ImAttrs(a, k)
	if err != nil {
		return g, 0, err
	}
	g = col2ImGeom{make([]int, k), make([]int, k), make([]int, k), make([]int, k), make([]int, k), make([]int, k)}
	blocks := 1
	for i := 0; i < k; i++ {
		if img[i] < 0 || img[i] > maxElements || blk[i] <= 0 || blk[i] > maxElements {
			return g, 0, fmt.Errorf("image_shape %v and block_shape %v must be positive", img, blk)
		}
		if dil[i] <= 0 || str[i] <= 0 || pads[i] < 0 || pads[k+i] < 0 || dil[i] > maxElements || str[i] > maxElements || pads[i] > maxElements || pads[k+i] > maxElements {
			return g, 0, fmt.Errorf("dilations %v and strides %v must be positive, pads %v non-negative", dil, str, pads)
		}
		ext := img[i] + pads[i] + pads[k+i] - (dil[i]*(blk[i]-1) + 1)
		if ext < 0 {
			return g, 0, fmt.Errorf("block_shape %v (dilated) does not fit image_shape %v padded by %v", blk, img, pads)
		}
		g.img[i], g.blk[i], g.dil[i], g.pad[i], g.str[i] = int(img[i]), int(blk[i]), int(dil[i]), int(pads[i]), int(str[i])
		g.cnt[i] = int(ext/str[i] + 1)
		if blocks > maxElements/g.cnt[i] {
			return g, 0, fmt.Errorf("too many blocks for image_shape %v", img)
		}
		blocks *= g.cnt[i]
	}
	return g, blocks, nil
}

func init() {
	col2ImDef = Register(&OpDef{
		Type: "Col2Im", Since: 18,
		MinInputs: 3, MaxInputs: 3,
		Types: AllNumeric,
		Attrs: []AttrSpec{
			{Name: "dilations", Type: AttrInts},
			{Name: "pads", Type: AttrInts},
			{Name: "strides", Type: AttrInts},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			if len(x.Shape) != 3 {
				return nil, fmt.Errorf("input must have shape [N, C*prod(block_shape), L], got %v", x.Shape)
			}
			img, err := intsInput(in[1], "image_shape", false)
			if err != nil {
				return nil, err
			}
			blk, err := intsInput(in[2], "block_shape", false)
			if err != nil {
				return nil, err
			}
			if in[1].DType != Int64 || in[2].DType != Int64 {
				return nil, fmt.Errorf("image_shape and block_shape must be int64, got %s and %s", in[1].DType, in[2].DType)
			}
			if img.n >= 0 && blk.n >= 0 && img.n != blk.n {
				return nil, fmt.Errorf("image_shape has %d values, block_shape %d", img.n, blk.n)
			}
			if img.n == 0 {
				return nil, fmt.Errorf("image_shape is empty")
			}
			if img.n < 0 {
				return nil, unsupportedf("image_shape of unknown length")
			}
			out := append([]int{x.Shape[0], -1}, unknownDims(img.n)...)
			if img.known {
				for i, v := range img.vals {
					if out[2+i], err = dimOf(v, "image_shape"); err != nil {
						return nil, err
					}
				}
			}
			if !img.known || !blk.known {
				return []Meta{{DType: x.DType, Shape: out}}, nil
			}
			_, blocks, err := col2ImGeometry(img.vals, blk.vals, a)
			if err != nil {
				return nil, err
			}
			bs := int64(1)
			for _, b := range blk.vals {
				bs *= b // each is at most the padded image's size: no overflow in practice, checked below
				if bs > maxElements {
					return nil, fmt.Errorf("block_shape %v too large", blk.vals)
				}
			}
			if c := x.Shape[1]; c >= 0 {
				if int64(c)%bs != 0 {
					return nil, fmt.Errorf("input's dimension 1 (%d) is not a multiple of the block size %d", c, bs)
				}
				out[1] = int(int64(c) / bs)
			}
			if l := x.Shape[2]; l >= 0 && l != blocks {
				return nil, fmt.Errorf("input has %d blocks, image_shape %v with block_shape %v gives %d", l, img.vals, blk.vals, blocks)
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: Dispatch{
			Float32: col2ImK[float32], Float64: col2ImK[float64], Float16: viaFloat32(col2ImK[float32]),
			Int8: col2ImK[int8], Int16: col2ImK[int16], Int32: col2ImK[int32], Int64: col2ImK[int64],
			Uint8: col2ImK[uint8], Uint16: col2ImK[uint16], Uint32: col2ImK[uint32], Uint64: col2ImK[uint64],
		}.On(0),
	})
}

// col2ImK sums every block element into its image position (positions
// in the padding are dropped).
func col2ImK[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	x, o := in[0], out[0]
	g, blocks, err := col2ImGeometry(indexVals(in[1]), indexVals(in[2]), a)
	if err != nil {
		return err
	}
	k := len(g.img)
	n, c := o.Shape[0], o.Shape[1]
	bs := Size(g.blk)
	imgSize := Size(g.img)
	if x.Shape[2] != blocks || x.Shape[1] != c*bs {
		return fmt.Errorf("input shape %v does not fit the output %v (a stale shape inference)", x.Shape, o.Shape)
	}
	xv, ov := Data[T](x), Data[T](o)
	clear(ov)
	imgSt := stridesOf(g.img)
	bi := make([]int, k) // block element index
	li := make([]int, k) // block position index
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			obase := (b*c + ch) * imgSize
			for e := 0; e < bs; e++ {
				rem := e
				for d := k - 1; d >= 0; d-- {
					bi[d] = rem % g.blk[d]
					rem /= g.blk[d]
				}
				row := ((b*c+ch)*bs + e) * blocks
				for l := 0; l < blocks; l++ {
					rem := l
					for d := k - 1; d >= 0; d-- {
						li[d] = rem % g.cnt[d]
						rem /= g.cnt[d]
					}
					off, ok := 0, true
					for d := 0; d < k; d++ {
						p := li[d]*g.str[d] - g.pad[d] + bi[d]*g.dil[d]
						if p < 0 || p >= g.img[d] {
							ok = false
							break
						}
						off += p * imgSt[d]
					}
					if ok {
						ov[obase+off] += xv[row+l]
					}
				}
			}
		}
	}
	return nil
}

// Col2Im rearranges column blocks ([N, C*prod(block), L]) back into an
// image of shape [N, C, image_shape...], summing overlaps.
func Col2Im(x, imageShape, blockShape *Node, dilations, pads, strides []int64) *Node {
	a := Attrs{}
	if dilations != nil {
		a["dilations"] = dilations
	}
	if pads != nil {
		a["pads"] = pads
	}
	if strides != nil {
		a["strides"] = strides
	}
	return Apply1(col2ImDef, a, x, imageShape, blockShape)
}

// ---------- GridSample ----------

var gridSampleDef *OpDef

func gridSampleModes(a Attrs) (mode, pad string, err error) {
	mode, pad = a.String("mode"), a.String("padding_mode")
	switch mode {
	case "linear", "nearest", "cubic":
	default:
		return "", "", fmt.Errorf("mode %q is not one of linear, nearest, cubic", mode)
	}
	switch pad {
	case "zeros", "border", "reflection":
	default:
		return "", "", fmt.Errorf("padding_mode %q is not one of zeros, border, reflection", pad)
	}
	if ac := a.Int("align_corners"); ac != 0 && ac != 1 {
		return "", "", fmt.Errorf("align_corners must be 0 or 1, got %d", ac)
	}
	return mode, pad, nil
}

func init() {
	gridSampleDef = Register(&OpDef{
		Type: "GridSample", Since: 20,
		// 22 only adds bfloat16; 16 (4-D only, modes bilinear and bicubic)
		// is rewritten by the importer.
		Compat:    []int{22},
		MinInputs: 2, MaxInputs: 2,
		Types: FloatTypes,
		Attrs: []AttrSpec{
			{Name: "align_corners", Type: AttrInt, Default: int64(0)},
			{Name: "mode", Type: AttrString, Default: "linear"},
			{Name: "padding_mode", Type: AttrString, Default: "zeros"},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, g := in[0], in[1]
			if err := checkData(x, "X"); err != nil {
				return nil, err
			}
			if err := checkData(g, "grid"); err != nil {
				return nil, err
			}
			if _, _, err := gridSampleModes(a); err != nil {
				return nil, err
			}
			r := len(x.Shape) - 2
			if r < 1 {
				return nil, fmt.Errorf("X must have rank at least 3 (N, C, spatial...), got shape %v", x.Shape)
			}
			if len(g.Shape) != r+2 {
				return nil, fmt.Errorf("grid must have rank %d for X of shape %v, got shape %v", r+2, x.Shape, g.Shape)
			}
			if d := g.Shape[r+1]; d >= 0 && d != r {
				return nil, fmt.Errorf("grid's last dimension must be %d (the spatial rank), got %v", r, g.Shape)
			}
			if x.Shape[0] >= 0 && g.Shape[0] >= 0 && x.Shape[0] != g.Shape[0] {
				return nil, fmt.Errorf("X has batch %d, grid %d", x.Shape[0], g.Shape[0])
			}
			out := append([]int{x.Shape[0], x.Shape[1]}, g.Shape[1:r+1]...)
			if out[0] < 0 {
				out[0] = g.Shape[0]
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			mode, pad, err := gridSampleModes(a)
			if err != nil {
				return err
			}
			y, err := gridSample(float64sOf(in[0]), in[0].Shape, float64sOf(in[1]), out[0].Shape, mode, pad, a.Int("align_corners") == 1)
			if err != nil {
				return err
			}
			return storeFloats(out[0], y)
		},
	})
}

// gsReflect reflects x by the borders lo and hi until it is within them.
func gsReflect(x, lo, hi float64) float64 {
	rng := hi - lo
	if rng <= 0 {
		return lo
	}
	switch {
	case x < lo:
		dx := lo - x
		n := math.Floor(dx / rng)
		r := dx - n*rng
		if math.Mod(n, 2) == 0 {
			return lo + r
		}
		return hi - r
	case x > hi:
		dx := x - hi
		n := math.Floor(dx / rng)
		r := dx - n*rng
		if math.Mod(n, 2) == 0 {
			return hi - r
		}
		return lo + r
	}
	return x
}

// gridCubicCoeffs are the Keys cubic convolution weights (A = -0.75) of the
// 4 points around a sample at fraction t past the second.
func gridCubicCoeffs(t float64, c *[4]float64) {
	const A = -0.75
	x := t + 1
	c[0] = ((A*x-5*A)*x+8*A)*x - 4*A
	c[1] = ((A+2)*t-(A+3))*t*t + 1
	x = 1 - t
	c[2] = ((A+2)*x-(A+3))*x*x + 1
	x = 2 - t
	c[3] = ((A*x-5*A)*x+8*A)*x - 4*A
}

// gridSample follows ONNX's reference: grid coordinates (innermost axis
// first) are denormalized, moved in bounds by the padding mode when they
// fall outside the borders, and interpolated from the neighbours, each
// neighbour read with the padding mode (zeros: 0 outside; border: the
// nearest; reflection: reflected). In cubic mode the coordinate itself is
// not moved, only its 4 neighbours per axis, as PyTorch's grid_sample
// (whose exporter emits the op) and ONNX Runtime do; this differs from
// the reference for border padding. For nearest and linear modes moving
// the coordinate first changes nothing.
func gridSample(x []float64, xs []int, grid []float64, ys []int, mode, pad string, align bool) ([]float64, error) {
	r := len(xs) - 2
	n, c := xs[0], xs[1]
	dims := xs[2:]
	if ys[0] != n || ys[1] != c || len(ys) != r+2 {
		return nil, fmt.Errorf("output shape %v does not fit X %v (a stale shape inference)", ys, xs)
	}
	npos := Size(ys[2:])
	img := Size(dims)
	y := make([]float64, Size(ys))
	if len(y) == 0 || img == 0 {
		return y, nil // no pixel to read: every sample is 0
	}
	lo, hi := make([]float64, r), make([]float64, r)
	for i, d := range dims {
		if align {
			lo[i], hi[i] = 0, float64(d-1)
		} else {
			lo[i], hi[i] = -0.5, float64(d)-0.5
		}
	}
	st := stridesOf(dims)
	// pixel returns the offset of integer position p on axis i, or -1
	// (a zero) under the padding mode.
	pixel := func(i, p int) int {
		d := dims[i]
		switch pad {
		case "zeros":
			if p < 0 || p >= d {
				return -1
			}
		case "border":
			p = min(max(p, 0), d-1)
		default:
			p = int(gsReflect(float64(p), lo[i], hi[i]))
			p = min(max(p, 0), d-1)
		}
		return p * st[i]
	}
	taps := 2
	switch mode {
	case "nearest":
		taps = 1
	case "cubic":
		taps = 4
	}
	coord := make([]float64, r)
	offs := make([][]int, r) // per axis: each tap's offset (-1: zero)
	wts := make([][]float64, r)
	for i := range offs {
		offs[i] = make([]int, taps)
		wts[i] = make([]float64, taps)
	}
	ntaps := 1
	for i := 0; i < r; i++ {
		ntaps *= taps
	}
	for b := 0; b < n; b++ {
		for p := 0; p < npos; p++ {
			gp := grid[(b*npos+p)*r : (b*npos+p+1)*r]
			for i := 0; i < r; i++ {
				g := gp[r-1-i] // grid lists the innermost axis first
				d := float64(dims[i])
				var v float64
				if align {
					v = (g + 1) / 2 * (d - 1)
				} else {
					v = ((g+1)*d - 1) / 2
				}
				if mode == "nearest" {
					v = math.RoundToEven(v)
				}
				if mode != "cubic" && (v < lo[i] || v > hi[i]) {
					switch pad {
					case "border":
						v = min(max(v, 0), d-1)
					case "reflection":
						v = gsReflect(v, lo[i], hi[i])
					}
				}
				if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1<<52 {
					v = -2 // outside every image: zeros reads 0, the others clamp
					if pad != "zeros" {
						v = 0
					}
				}
				coord[i] = v
			}
			for i := 0; i < r; i++ {
				v := coord[i]
				switch mode {
				case "nearest":
					offs[i][0], wts[i][0] = pixel(i, int(v)), 1
				case "linear":
					f := math.Floor(v)
					t := v - f
					offs[i][0], wts[i][0] = pixel(i, int(f)), 1-t
					offs[i][1], wts[i][1] = pixel(i, int(f)+1), t
				default:
					f := math.Floor(v)
					var cc [4]float64
					gridCubicCoeffs(v-f, &cc)
					for k := 0; k < 4; k++ {
						offs[i][k], wts[i][k] = pixel(i, int(f)-1+k), cc[k]
					}
				}
			}
			for ch := 0; ch < c; ch++ {
				xb := x[(b*c+ch)*img : (b*c+ch+1)*img]
				var s float64
				for t := 0; t < ntaps; t++ {
					w, off, rem := 1.0, 0, t
					for i := r - 1; i >= 0; i-- {
						k := rem % taps
						rem /= taps
						if offs[i][k] < 0 {
							off = -1
							break
						}
						w *= wts[i][k]
						off += offs[i][k]
					}
					if off >= 0 {
						s += w * xb[off]
					}
				}
				y[((b*c+ch)*npos)+p] = s
			}
		}
	}
	return y, nil
}

// GridSample samples x ([N, C, spatial...]) at the normalized positions
// of grid ([N, out spatial..., r], innermost axis first) with mode
// linear, nearest or cubic and padding_mode zeros, border or reflection.
func GridSample(x, grid *Node, mode, paddingMode string, alignCorners bool) *Node {
	ac := int64(0)
	if alignCorners {
		ac = 1
	}
	return Apply1(gridSampleDef, Attrs{"mode": mode, "padding_mode": paddingMode, "align_corners": ac}, x, grid)
}

// ---------- AffineGrid ----------

var affineGridDef *OpDef

func init() {
	affineGridDef = Register(&OpDef{
		Type: "AffineGrid", Since: 20,
		MinInputs: 2, MaxInputs: 2,
		Types: []DType{Float32, Float64, Float16, Int64},
		Attrs: []AttrSpec{{Name: "align_corners", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			th := in[0]
			if err := checkData(th, "theta"); err != nil {
				return nil, err
			}
			if !th.DType.IsFloat() {
				return nil, fmt.Errorf("theta must be a float tensor, got %s", th.DType)
			}
			if ac := a.Int("align_corners"); ac != 0 && ac != 1 {
				return nil, fmt.Errorf("align_corners must be 0 or 1, got %d", ac)
			}
			if in[1].DType != Int64 {
				return nil, fmt.Errorf("size must be int64, got %s", in[1].DType)
			}
			sz, err := intsInput(in[1], "size", false)
			if err != nil {
				return nil, err
			}
			if len(th.Shape) != 3 {
				return nil, fmt.Errorf("theta must have shape [N, 2, 3] or [N, 3, 4], got %v", th.Shape)
			}
			if sz.n >= 0 && sz.n != 4 && sz.n != 5 {
				return nil, fmt.Errorf("size must hold 4 (N, C, H, W) or 5 (N, C, D, H, W) values, got %d", sz.n)
			}
			if sz.n < 0 {
				return nil, unsupportedf("size of unknown length")
			}
			k := sz.n - 2
			if d := th.Shape[1]; d >= 0 && d != k {
				return nil, fmt.Errorf("theta of shape %v does not match a %d-D size", th.Shape, k)
			}
			if d := th.Shape[2]; d >= 0 && d != k+1 {
				return nil, fmt.Errorf("theta of shape %v does not match a %d-D size", th.Shape, k)
			}
			out := append(unknownDims(k+1), k)
			out[0] = th.Shape[0]
			if sz.known {
				if th.Shape[0] >= 0 && sz.vals[0] != int64(th.Shape[0]) {
					return nil, fmt.Errorf("size's N %d differs from theta's %d", sz.vals[0], th.Shape[0])
				}
				if out[0], err = dimOf(sz.vals[0], "size"); err != nil {
					return nil, err
				}
				for i := 0; i < k; i++ {
					if out[1+i], err = dimOf(sz.vals[2+i], "size"); err != nil {
						return nil, err
					}
				}
			}
			return []Meta{{DType: th.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			th, o := float64sOf(in[0]), out[0]
			r := len(o.Shape)
			k := r - 2
			n := o.Shape[0]
			if in[0].Shape[0] != n {
				return fmt.Errorf("theta has batch %d, the output %d (a stale shape inference)", in[0].Shape[0], n)
			}
			dims := o.Shape[1 : r-1]
			npos := Size(dims)
			align := a.Int("align_corners") == 1
			// base[i][j]: the normalized coordinate of position j on axis i.
			base := make([][]float64, k)
			for i, d := range dims {
				base[i] = make([]float64, d)
				for j := range base[i] {
					if align {
						if d > 1 {
							base[i][j] = -1 + 2*float64(j)/float64(d-1)
						} else {
							base[i][j] = -1
						}
					} else {
						base[i][j] = -1 + float64(2*j+1)/float64(d)
					}
				}
			}
			y := make([]float64, o.Len())
			idx := make([]int, k)
			h := make([]float64, k+1) // homogeneous position, innermost axis first
			for b := 0; b < n; b++ {
				t := th[b*k*(k+1) : (b+1)*k*(k+1)]
				for p := 0; p < npos; p++ {
					rem := p
					for i := k - 1; i >= 0; i-- {
						idx[i] = rem % dims[i]
						rem /= dims[i]
					}
					for i := 0; i < k; i++ {
						h[i] = base[k-1-i][idx[k-1-i]]
					}
					h[k] = 1
					for row := 0; row < k; row++ {
						var s float64
						for col := 0; col <= k; col++ {
							s += t[row*(k+1)+col] * h[col]
						}
						y[(b*npos+p)*k+row] = s
					}
				}
			}
			return storeFloats(o, y)
		},
	})
}

// AffineGrid returns the sampling grid ([N, H, W, 2] or [N, D, H, W, 3])
// of the affine matrices theta ([N, 2, 3] or [N, 3, 4]) for an output of
// size (int64 [N, C, H, W] or [N, C, D, H, W]).
func AffineGrid(theta, size *Node, alignCorners bool) *Node {
	ac := int64(0)
	if alignCorners {
		ac = 1
	}
	return Apply1(affineGridDef, Attrs{"align_corners": ac}, theta, size)
}

// ---------- RoiAlign ----------

var roiAlignDef *OpDef

// roiMaxSamples bounds the bilinear samples of one RoI (output bins times
// the sampling grid of each), so that huge RoIs with an adaptive grid are
// refused rather than computed for hours.
const roiMaxSamples = 1 << 26

func init() {
	roiAlignDef = Register(&OpDef{
		Type: "RoiAlign", Since: 16,
		// 22 only adds bfloat16; 10 (no coordinate_transformation_mode,
		// behaving as output_half_pixel) is rewritten by the importer.
		Compat:    []int{22},
		MinInputs: 3, MaxInputs: 3,
		Types: []DType{Float32, Float64, Float16, Int64},
		Attrs: []AttrSpec{
			{Name: "coordinate_transformation_mode", Type: AttrString, Default: "half_pixel"},
			{Name: "mode", Type: AttrString, Default: "avg"},
			{Name: "output_height", Type: AttrInt, Default: int64(1)},
			{Name: "output_width", Type: AttrInt, Default: int64(1)},
			{Name: "sampling_ratio", Type: AttrInt, Default: int64(0)},
			{Name: "spatial_scale", Type: AttrFloat, Default: float32(1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, rois, bi := in[0], in[1], in[2]
			for i, nm := range []string{"X", "rois", "batch_indices"} {
				if err := checkData(in[i], nm); err != nil {
					return nil, err
				}
			}
			if !x.DType.IsFloat() || rois.DType != x.DType {
				return nil, fmt.Errorf("X and rois must be float tensors of one type, got %s and %s", x.DType, rois.DType)
			}
			if bi.DType != Int64 {
				return nil, fmt.Errorf("batch_indices must be int64, got %s", bi.DType)
			}
			if err := roiAlignAttrs(a); err != nil {
				return nil, err
			}
			if len(x.Shape) != 4 {
				return nil, fmt.Errorf("X must have shape [N, C, H, W], got %v", x.Shape)
			}
			if len(rois.Shape) != 2 || rois.Shape[1] >= 0 && rois.Shape[1] != 4 {
				return nil, fmt.Errorf("rois must have shape [num_rois, 4], got %v", rois.Shape)
			}
			if len(bi.Shape) != 1 {
				return nil, fmt.Errorf("batch_indices must be 1-D, got shape %v", bi.Shape)
			}
			nr := rois.Shape[0]
			if nr >= 0 && bi.Shape[0] >= 0 && nr != bi.Shape[0] {
				return nil, fmt.Errorf("rois has %d rows, batch_indices %d values", nr, bi.Shape[0])
			}
			if nr < 0 {
				nr = bi.Shape[0]
			}
			return []Meta{{DType: x.DType, Shape: []int{nr, x.Shape[1], int(a.Int("output_height")), int(a.Int("output_width"))}}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			y, err := roiAlign(float64sOf(in[0]), in[0].Shape, float64sOf(in[1]), in[2].I, a, out[0].Shape)
			if err != nil {
				return err
			}
			return storeFloats(out[0], y)
		},
	})
}

func roiAlignAttrs(a Attrs) error {
	switch m := a.String("coordinate_transformation_mode"); m {
	case "half_pixel", "output_half_pixel":
	default:
		return fmt.Errorf("coordinate_transformation_mode %q is not one of half_pixel, output_half_pixel", m)
	}
	switch m := a.String("mode"); m {
	case "avg", "max":
	default:
		return fmt.Errorf("mode %q is not one of avg, max", m)
	}
	oh, ow := a.Int("output_height"), a.Int("output_width")
	if oh <= 0 || ow <= 0 || oh > 1<<24 || ow > 1<<24 || oh*ow > roiMaxSamples {
		return fmt.Errorf("output_height %d and output_width %d must be positive and give at most %d bins", oh, ow, roiMaxSamples)
	}
	if s := a.Int("sampling_ratio"); s < 0 || s > 1<<12 {
		return fmt.Errorf("sampling_ratio %d must be in [0, 4096]", s)
	}
	if s := a.Float("spatial_scale"); math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
		return fmt.Errorf("spatial_scale %g must be finite", s)
	}
	return nil
}

// roiAlign follows ONNX Runtime's RoiAlign: each bin averages (or takes
// the largest weighted corner of) bilinear samples on a regular grid;
// samples more than one pixel outside the image count as 0.
func roiAlign(x []float64, xs []int, rois []float64, bidx []int64, a Attrs, ys []int) ([]float64, error) {
	if err := roiAlignAttrs(a); err != nil {
		return nil, err
	}
	n, c, h, w := xs[0], xs[1], xs[2], xs[3]
	nr, ph, pw := ys[0], ys[2], ys[3]
	if len(bidx) != nr || len(rois) != 4*nr || ys[1] != c {
		return nil, fmt.Errorf("rois and batch_indices do not fit the output %v (a stale shape inference)", ys)
	}
	scale := float64(a.Float("spatial_scale"))
	half := a.String("coordinate_transformation_mode") == "half_pixel"
	isMax := a.String("mode") == "max"
	sr := int(a.Int("sampling_ratio"))
	off := 0.0
	if half {
		off = 0.5
	}
	y := make([]float64, Size(ys))
	var taps []roiTap
	for r := 0; r < nr; r++ {
		b := bidx[r]
		if b < 0 || b >= int64(n) {
			return nil, fmt.Errorf("batch_indices[%d] = %d out of range for batch %d", r, b, n)
		}
		roi := rois[4*r : 4*r+4]
		x0, y0 := roi[0]*scale-off, roi[1]*scale-off
		x1, y1 := roi[2]*scale-off, roi[3]*scale-off
		rw, rh := x1-x0, y1-y0
		if !half {
			rw, rh = max(rw, 1), max(rh, 1)
		}
		if math.IsNaN(rw) || math.IsNaN(rh) || math.IsInf(rw, 0) || math.IsInf(rh, 0) || math.IsNaN(x0) || math.IsNaN(y0) {
			return nil, fmt.Errorf("rois[%d] = %v is not finite", r, roi)
		}
		bh, bw := rh/float64(ph), rw/float64(pw)
		gh, gw := sr, sr
		if sr == 0 {
			fh, fw := math.Ceil(rh/float64(ph)), math.Ceil(rw/float64(pw))
			if fh*fw*float64(ph*pw) > roiMaxSamples {
				return nil, fmt.Errorf("rois[%d] = %v needs too many samples for an adaptive grid (set sampling_ratio)", r, roi)
			}
			gh, gw = max(int(fh), 0), max(int(fw), 0)
		} else if float64(gh*gw)*float64(ph*pw) > roiMaxSamples {
			return nil, fmt.Errorf("sampling_ratio %d with %dx%d bins needs too many samples", sr, ph, pw)
		}
		count := float64(max(gh*gw, 1))
		// The sample taps of every bin, shared by the channels.
		taps = taps[:0]
		for i := 0; i < ph; i++ {
			for j := 0; j < pw; j++ {
				for iy := 0; iy < gh; iy++ {
					yy := y0 + float64(i)*bh + (float64(iy)+0.5)*bh/float64(gh)
					for ix := 0; ix < gw; ix++ {
						xx := x0 + float64(j)*bw + (float64(ix)+0.5)*bw/float64(gw)
						taps = append(taps, bilinearTap(yy, xx, h, w))
					}
				}
			}
		}
		per := gh * gw
		for ch := 0; ch < c; ch++ {
			img := x[(int(b)*c+ch)*h*w : (int(b)*c+ch+1)*h*w]
			for bin := 0; bin < ph*pw; bin++ {
				var acc float64
				first := true
				for _, t := range taps[bin*per : (bin+1)*per] {
					if isMax {
						v := 0.0
						if t.inside {
							v = math.Max(math.Max(t.w[0]*img[t.o[0]], t.w[1]*img[t.o[1]]), math.Max(t.w[2]*img[t.o[2]], t.w[3]*img[t.o[3]]))
						}
						if first || v > acc {
							acc, first = v, false
						}
						continue
					}
					if t.inside {
						acc += t.w[0]*img[t.o[0]] + t.w[1]*img[t.o[1]] + t.w[2]*img[t.o[2]] + t.w[3]*img[t.o[3]]
					}
				}
				if !isMax {
					acc /= count
				}
				y[(r*c+ch)*ph*pw+bin] = acc
			}
		}
	}
	return y, nil
}

// roiTap is one bilinear sample: four pixel offsets and their weights
// (inside false: the sample is 0).
type roiTap struct {
	o      [4]int
	w      [4]float64
	inside bool
}

// bilinearTap returns the four corners and weights of a bilinear sample
// at (yy, xx) in an h×w image, as ONNX Runtime (Caffe2) computes them.
func bilinearTap(yy, xx float64, h, w int) (t roiTap) {
	if yy < -1 || yy > float64(h) || xx < -1 || xx > float64(w) || h == 0 || w == 0 {
		return t
	}
	yy, xx = max(yy, 0), max(xx, 0)
	yl, xl := int(yy), int(xx)
	var yh, xh int
	if yl >= h-1 {
		yl, yh = h-1, h-1
		yy = float64(yl)
	} else {
		yh = yl + 1
	}
	if xl >= w-1 {
		xl, xh = w-1, w-1
		xx = float64(xl)
	} else {
		xh = xl + 1
	}
	ly, lx := yy-float64(yl), xx-float64(xl)
	hy, hx := 1-ly, 1-lx
	t.o = [4]int{yl*w + xl, yl*w + xh, yh*w + xl, yh*w + xh}
	t.w = [4]float64{hy * hx, hy * lx, ly * hx, ly * lx}
	t.inside = true
	return t
}

// RoiAlign pools x ([N, C, H, W]) over each RoI (rois [R, 4] as x1, y1,
// x2, y2; batchIndices int64 [R]) into [R, C, outH, outW] bins.
func RoiAlign(x, rois, batchIndices *Node, mode string, outH, outW, samplingRatio int64, spatialScale float32, halfPixel bool) *Node {
	ct := "output_half_pixel"
	if halfPixel {
		ct = "half_pixel"
	}
	return Apply1(roiAlignDef, Attrs{"mode": mode, "output_height": outH, "output_width": outW,
		"sampling_ratio": samplingRatio, "spatial_scale": spatialScale, "coordinate_transformation_mode": ct}, x, rois, batchIndices)
}

// ---------- NonMaxSuppression ----------

var nmsDef *OpDef

func init() {
	nmsDef = Register(&OpDef{
		Type: "NonMaxSuppression", Since: 11,
		// 10 is the same.
		Compat:    []int{10},
		MinInputs: 2, MaxInputs: 5,
		Types:           []DType{Float32, Int64},
		ShapeFromValues: true,
		NoFold:          true,
		Attrs:           []AttrSpec{{Name: "center_point_box", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			boxes, scores := in[0], in[1]
			if err := checkData(boxes, "boxes"); err != nil {
				return nil, err
			}
			if err := checkData(scores, "scores"); err != nil {
				return nil, err
			}
			if boxes.DType != Float32 || scores.DType != Float32 {
				return nil, fmt.Errorf("boxes and scores must be float32, got %s and %s", boxes.DType, scores.DType)
			}
			if cb := a.Int("center_point_box"); cb != 0 && cb != 1 {
				return nil, fmt.Errorf("center_point_box must be 0 or 1, got %d", cb)
			}
			if len(boxes.Shape) != 3 || boxes.Shape[2] >= 0 && boxes.Shape[2] != 4 {
				return nil, fmt.Errorf("boxes must have shape [batches, boxes, 4], got %v", boxes.Shape)
			}
			if len(scores.Shape) != 3 {
				return nil, fmt.Errorf("scores must have shape [batches, classes, boxes], got %v", scores.Shape)
			}
			for _, d := range [][2]int{{0, 0}, {1, 2}} {
				if b, s := boxes.Shape[d[0]], scores.Shape[d[1]]; b >= 0 && s >= 0 && b != s {
					return nil, fmt.Errorf("boxes %v and scores %v disagree", boxes.Shape, scores.Shape)
				}
			}
			known := boxes.Value != nil && scores.Value != nil
			if len(in) > 2 && in[2].DType != Invalid {
				if in[2].DType != Int64 {
					return nil, fmt.Errorf("max_output_boxes_per_class must be int64, got %s", in[2].DType)
				}
				if _, k, err := scalarIntInput(in[2], "max_output_boxes_per_class"); err != nil {
					return nil, err
				} else if !k {
					known = false
				}
			}
			for i, nm := range []string{"iou_threshold", "score_threshold"} {
				if len(in) > 3+i && in[3+i].DType != Invalid {
					if in[3+i].DType != Float32 {
						return nil, fmt.Errorf("%s must be float32, got %s", nm, in[3+i].DType)
					}
					v, k, err := scalarFloatInput(in[3+i], nm)
					if err != nil {
						return nil, err
					}
					if k && i == 0 && !(v >= 0 && v <= 1) {
						return nil, fmt.Errorf("iou_threshold %g must be in [0, 1]", v)
					}
					known = known && k
				}
			}
			n := -1
			if known {
				vals := make([]*Tensor, len(in))
				for i, m := range in {
					vals[i] = m.Value
				}
				sel, err := nms(vals, a)
				if err != nil {
					return nil, err
				}
				n = len(sel) / 3
			}
			return []Meta{{DType: Int64, Shape: []int{n, 3}}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			sel, err := nms(in, a)
			if err != nil {
				return err
			}
			if len(sel) != out[0].Len() {
				return fmt.Errorf("%d boxes selected, the output was sized for %d (a stale shape inference)", len(sel)/3, out[0].Shape[0])
			}
			copy(out[0].I, sel)
			return nil
		},
	})
}

// nms runs greedy non-maximum suppression per batch and class as ONNX
// Runtime does: candidates above score_threshold (when given) in order of
// decreasing score (ties: lower index first), each kept unless its IoU
// with a kept box exceeds iou_threshold, up to max_output_boxes_per_class.
func nms(in []*Tensor, a Attrs) ([]int64, error) {
	boxes, scores := in[0], in[1]
	nb, ns, nc := boxes.Shape[0], boxes.Shape[1], scores.Shape[1]
	if scores.Shape[0] != nb || scores.Shape[2] != ns || boxes.Shape[2] != 4 {
		return nil, fmt.Errorf("boxes %v and scores %v disagree", boxes.Shape, scores.Shape)
	}
	maxOut := int64(0)
	if len(in) > 2 && in[2] != nil {
		maxOut = in[2].Int(0)
	}
	iouTh := 0.0
	if len(in) > 3 && in[3] != nil {
		iouTh = in[3].Float(0)
		if !(iouTh >= 0 && iouTh <= 1) {
			return nil, fmt.Errorf("iou_threshold %g must be in [0, 1]", iouTh)
		}
	}
	hasScoreTh, scoreTh := false, 0.0
	if len(in) > 4 && in[4] != nil {
		hasScoreTh, scoreTh = true, in[4].Float(0)
	}
	center := a.Int("center_point_box") == 1
	if maxOut <= 0 || ns == 0 {
		return []int64{}, nil
	}
	bv, sv := boxes.F, scores.F
	// corners returns a box as ymin, xmin, ymax, xmax.
	corners := func(b, i int) [4]float64 {
		p := bv[(b*ns+i)*4 : (b*ns+i)*4+4]
		if center {
			xc, yc, w, h := float64(p[0]), float64(p[1]), float64(p[2]), float64(p[3])
			return [4]float64{yc - h/2, xc - w/2, yc + h/2, xc + w/2}
		}
		y1, x1, y2, x2 := float64(p[0]), float64(p[1]), float64(p[2]), float64(p[3])
		return [4]float64{min(y1, y2), min(x1, x2), max(y1, y2), max(x1, x2)}
	}
	suppress := func(p, q [4]float64) bool {
		iy1, ix1 := max(p[0], q[0]), max(p[1], q[1])
		iy2, ix2 := min(p[2], q[2]), min(p[3], q[3])
		if ix2 <= ix1 || iy2 <= iy1 {
			return false
		}
		inter := (ix2 - ix1) * (iy2 - iy1)
		ap := (p[2] - p[0]) * (p[3] - p[1])
		aq := (q[2] - q[0]) * (q[3] - q[1])
		union := ap + aq - inter
		if ap <= 0 || aq <= 0 || union <= 0 {
			return false
		}
		return inter/union > iouTh
	}
	var sel []int64
	cand := make([]int, 0, ns)
	var kept [][4]float64
	for b := 0; b < nb; b++ {
		for c := 0; c < nc; c++ {
			s := sv[(b*nc+c)*ns : (b*nc+c+1)*ns]
			cand = cand[:0]
			for i, v := range s {
				if !hasScoreTh || float64(v) > scoreTh {
					cand = append(cand, i)
				}
			}
			sort.SliceStable(cand, func(i, j int) bool { return s[cand[i]] > s[cand[j]] })
			kept = kept[:0]
			for _, i := range cand {
				if int64(len(kept)) >= maxOut {
					break
				}
				bx := corners(b, i)
				ok := true
				for _, k := range kept {
					if suppress(k, bx) {
						ok = false
						break
					}
				}
				if ok {
					kept = append(kept, bx)
					sel = append(sel, int64(b), int64(c), int64(i))
				}
			}
		}
	}
	if sel == nil {
		sel = []int64{}
	}
	return sel, nil
}

// NonMaxSuppression selects boxes ([B, S, 4]) by score ([B, C, S]) per
// batch and class, returning [selected, 3] int64 rows (batch, class,
// box). maxOut (int64), iou and scoreTh (float32 scalars) may be nil.
func NonMaxSuppression(boxes, scores, maxOut, iou, scoreTh *Node, centerPointBox bool) *Node {
	cb := int64(0)
	if centerPointBox {
		cb = 1
	}
	args := []*Node{boxes, scores, maxOut, iou, scoreTh}
	for len(args) > 2 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	return Apply1(nmsDef, Attrs{"center_point_box": cb}, args...)
}

// ---------- Unique ----------

var uniqueDef *OpDef

func init() {
	uniqueDef = Register(&OpDef{
		Type: "Unique", Since: 11,
		MinInputs: 1, MaxInputs: 1, Outputs: 4,
		Types: withStrings, StringInputs: true,
		ShapeFromValues: true,
		NoFold:          true,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt},
			{Name: "sorted", Type: AttrInt, Default: int64(1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "X"); err != nil {
				return nil, err
			}
			if s := a.Int("sorted"); s != 0 && s != 1 {
				return nil, fmt.Errorf("sorted must be 0 or 1, got %d", s)
			}
			var y []int
			var nIn int
			ax := -1
			if a.Has("axis") {
				var err error
				if ax, err = normAxis(a.Int("axis"), len(x.Shape)); err != nil {
					return nil, err
				}
				y = append([]int{}, x.Shape...)
				nIn = x.Shape[ax]
			} else {
				y = []int{-1}
				nIn = prodDims(x.Shape)
			}
			u := -1
			if x.Value != nil {
				firsts, _, _ := uniqueGroups(x.Value, ax, a.Int("sorted") == 1)
				u = len(firsts)
			}
			if ax >= 0 {
				y[ax] = u
			} else {
				y[0] = u
			}
			return []Meta{{DType: x.DType, Shape: y}, {DType: Int64, Shape: []int{u}},
				{DType: Int64, Shape: []int{nIn}}, {DType: Int64, Shape: []int{u}}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			ax := -1
			if a.Has("axis") {
				var err error
				if ax, err = normAxis(a.Int("axis"), len(x.Shape)); err != nil {
					return err
				}
			}
			firsts, inverse, counts := uniqueGroups(x, ax, a.Int("sorted") == 1)
			if out[1].Len() != len(firsts) || out[2].Len() != len(inverse) {
				return fmt.Errorf("%d unique values, the outputs were sized for %d (a stale shape inference)", len(firsts), out[1].Len())
			}
			src, shape := x, x.Shape
			if ax < 0 {
				src = &Tensor{DType: x.DType, Shape: []int{x.Len()}, F: x.F, I: x.I, B: x.B, S: x.S, X: x.X}
				shape, ax = src.Shape, 0
			}
			maps := make([][]int, len(shape))
			for i, d := range shape {
				if i == ax {
					maps[i] = firsts
					continue
				}
				maps[i] = make([]int, d)
				for j := range maps[i] {
					maps[i][j] = j
				}
			}
			if out[0].Shape[ax] != len(firsts) {
				return fmt.Errorf("%d unique values, Y was sized for %d (a stale shape inference)", len(firsts), out[0].Shape[ax])
			}
			mapCopyT(out[0], src, stridesOf(shape), maps, nil)
			for i, f := range firsts {
				out[1].I[i] = int64(f)
				out[3].I[i] = counts[i]
			}
			copy(out[2].I, inverse)
			return nil
		},
	})
}

// elemCompare returns a three-way comparison of elements p and q of x's
// flattened data (NaN after every number, equal to NaN).
func elemCompare(x *Tensor) func(p, q int) int {
	switch x.DType {
	case String:
		return func(p, q int) int { return strings.Compare(x.S[p], x.S[q]) }
	case Bool:
		return func(p, q int) int {
			a, b := x.B[p], x.B[q]
			switch {
			case a == b:
				return 0
			case b:
				return -1
			}
			return 1
		}
	case Float32:
		return orderedCompare(x.F)
	case Float64:
		return orderedCompare(Data[float64](x))
	case Float16:
		return orderedCompare(halfIn(x).F)
	case Int64:
		return orderedCompare(x.I)
	case Int32:
		return orderedCompare(Data[int32](x))
	case Int16:
		return orderedCompare(Data[int16](x))
	case Int8:
		return orderedCompare(Data[int8](x))
	case Uint64:
		return orderedCompare(Data[uint64](x))
	case Uint32:
		return orderedCompare(Data[uint32](x))
	case Uint16:
		return orderedCompare(Data[uint16](x))
	case Uint8:
		return orderedCompare(Data[uint8](x))
	}
	return func(p, q int) int { return 0 }
}

func orderedCompare[T Number](v []T) func(p, q int) int {
	return func(p, q int) int {
		a, b := v[p], v[q]
		an, bn := a != a, b != b
		switch {
		case an || bn:
			switch {
			case an && bn:
				return 0
			case an:
				return 1
			}
			return -1
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
}

// uniqueGroups finds the unique slices of x along axis ax (-1: the
// unique elements of the flattened x): firsts holds each one's first
// index in Y's order (ascending when sorted, else by first occurrence),
// inverse each slice's position in Y, counts each one's occurrences.
func uniqueGroups(x *Tensor, ax int, sorted bool) (firsts []int, inverse, counts []int64) {
	n, outer, inner := x.Len(), 1, 1
	if ax >= 0 {
		n = x.Shape[ax]
		outer, inner = Size(x.Shape[:ax]), Size(x.Shape[ax+1:])
	}
	ec := elemCompare(x)
	cmpSlices := func(p, q int) int {
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				if c := ec((o*n+p)*inner+i, (o*n+q)*inner+i); c != 0 {
					return c
				}
			}
		}
		return 0
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, cmpSlices)
	group := make([]int, n) // group (in sorted order) of each slice
	var gFirst []int
	var gCount []int64
	for k, s := range order {
		if k == 0 || cmpSlices(order[k-1], s) != 0 {
			gFirst = append(gFirst, s)
			gCount = append(gCount, 0)
		}
		g := len(gFirst) - 1
		group[s] = g
		gCount[g]++
	}
	pos := make([]int, len(gFirst)) // position of each group in Y
	gorder := make([]int, len(gFirst))
	for g := range gorder {
		gorder[g] = g
	}
	if !sorted {
		slices.SortFunc(gorder, func(a, b int) int { return gFirst[a] - gFirst[b] })
	}
	firsts = make([]int, len(gFirst))
	counts = make([]int64, len(gFirst))
	for p, g := range gorder {
		pos[g] = p
		firsts[p] = gFirst[g]
		counts[p] = gCount[g]
	}
	inverse = make([]int64, n)
	for s := range inverse {
		inverse[s] = int64(pos[group[s]])
	}
	return firsts, inverse, counts
}

// Unique returns x's unique elements (axis nil) or slices along *axis,
// sorted or in order of first occurrence, with the first-occurrence
// indices, the inverse indices and the counts (all int64).
func Unique(x *Node, axis *int64, sorted bool) (y, indices, inverse, counts *Node) {
	s := int64(0)
	if sorted {
		s = 1
	}
	a := Attrs{"sorted": s}
	if axis != nil {
		a["axis"] = *axis
	}
	o := MustApply(uniqueDef, a, x)
	return o[0], o[1], o[2], o[3]
}
