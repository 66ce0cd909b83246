package graph

import "fmt"

// This file holds Conv (1-D, 2-D and N-D; groups, dilations, strides,
// pads, auto_pad) and the window geometry it shares with the pools
// (ops_pool.go). Conv is im2col followed by one GEMM per sample and group:
// float32 through Sgemm (OpenBLAS or gonum), float64 through the generic
// GEMM loop, float16 through float32.

// winGeom is the geometry of a sliding window over the spatial dimensions
// of an (N, C, D1, ..., Dk) tensor.
type winGeom struct {
	in, k, s, d, pb, pe, out []int
}

// winAttrSpecs are the window attributes common to Conv and the pools.
func winAttrSpecs(extra ...AttrSpec) []AttrSpec {
	return append([]AttrSpec{
		{Name: "auto_pad", Type: AttrString, Default: "NOTSET"},
		{Name: "dilations", Type: AttrInts},
		{Name: "kernel_shape", Type: AttrInts},
		{Name: "pads", Type: AttrInts},
		{Name: "strides", Type: AttrInts},
	}, extra...)
}

// intsOr returns attribute name as ints of length n, or n copies of def.
func intsOr(a Attrs, name string, n int, def int) ([]int, error) {
	out := make([]int, n)
	if !a.Has(name) {
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	v := a.Ints(name)
	if len(v) != n {
		return nil, fmt.Errorf("%s has %d values, want %d (one per spatial dimension)", name, len(v), n)
	}
	for i, x := range v {
		if x < 1 || x > 1<<30 {
			return nil, fmt.Errorf("%s[%d] = %d must be positive", name, i, x)
		}
		out[i] = int(x)
	}
	return out, nil
}

// newWinGeom computes output sizes and pads for spatial input sizes in
// (-1: unknown, giving -1 outputs) and kernel k; ceil is MaxPool and
// AveragePool's ceil_mode.
func newWinGeom(op string, in, k []int, a Attrs, ceil bool) (*winGeom, error) {
	n := len(in)
	g := &winGeom{in: in, k: k, pb: make([]int, n), pe: make([]int, n), out: make([]int, n)}
	var err error
	if g.s, err = intsOr(a, "strides", n, 1); err != nil {
		return nil, err
	}
	if a.Has("dilations") {
		if g.d, err = intsOr(a, "dilations", n, 1); err != nil {
			return nil, err
		}
	} else {
		g.d, _ = intsOr(a, "dilations", n, 1)
	}
	autoPad := a.String("auto_pad")
	if a.Has("pads") {
		p := a.Ints("pads")
		if len(p) != 2*n {
			return nil, fmt.Errorf("pads has %d values, want %d", len(p), 2*n)
		}
		for i := 0; i < n; i++ {
			if p[i] < 0 || p[n+i] < 0 || p[i] > 1<<30 || p[n+i] > 1<<30 {
				return nil, fmt.Errorf("pads %v must be non-negative", p)
			}
			g.pb[i], g.pe[i] = int(p[i]), int(p[n+i])
		}
	}
	for i := 0; i < n; i++ {
		if k[i] < 1 {
			return nil, fmt.Errorf("kernel size %d in dimension %d must be positive", k[i], i)
		}
		ext := (k[i]-1)*g.d[i] + 1
		if in[i] < 0 {
			g.out[i] = -1
			continue
		}
		switch autoPad {
		case "NOTSET", "":
			span := in[i] + g.pb[i] + g.pe[i] - ext
			if span < 0 {
				return nil, fmt.Errorf("%s: the window (%d with dilation) is larger than the padded input (%d) in dimension %d", op, ext, in[i]+g.pb[i]+g.pe[i], i)
			}
			g.out[i] = span/g.s[i] + 1
			if ceil {
				g.out[i] = (span+g.s[i]-1)/g.s[i] + 1
				// The last window must start inside the input or its
				// leading pad.
				if (g.out[i]-1)*g.s[i] >= in[i]+g.pb[i] {
					g.out[i]--
				}
			}
		case "VALID":
			g.pb[i], g.pe[i] = 0, 0
			if in[i] < ext {
				return nil, fmt.Errorf("%s: the window (%d with dilation) is larger than the input (%d) in dimension %d", op, ext, in[i], i)
			}
			g.out[i] = (in[i]-ext)/g.s[i] + 1
			if ceil {
				g.out[i] = (in[i]-ext+g.s[i]-1)/g.s[i] + 1
			}
		case "SAME_UPPER", "SAME_LOWER":
			g.out[i] = (in[i] + g.s[i] - 1) / g.s[i]
			total := max(0, (g.out[i]-1)*g.s[i]+ext-in[i])
			small := total / 2
			if autoPad == "SAME_UPPER" {
				g.pb[i], g.pe[i] = small, total-small
			} else {
				g.pb[i], g.pe[i] = total-small, small
			}
		default:
			return nil, fmt.Errorf("auto_pad %q is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", autoPad)
		}
	}
	return g, nil
}

// coords tabulates, per spatial dimension, the input coordinate each
// (kernel index, output index) pair reads: tab[i][ki*out+oi], -1 in the
// padding.
func (g *winGeom) coords() [][]int {
	tab := make([][]int, len(g.in))
	for i := range g.in {
		t := make([]int, g.k[i]*g.out[i])
		for ki := 0; ki < g.k[i]; ki++ {
			for oi := 0; oi < g.out[i]; oi++ {
				c := oi*g.s[i] - g.pb[i] + ki*g.d[i]
				if c < 0 || c >= g.in[i] {
					c = -1
				}
				t[ki*g.out[i]+oi] = c
			}
		}
		tab[i] = t
	}
	return tab
}

// rowStrides returns the row-major strides of dims.
func rowStrides(dims []int) []int {
	st := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= dims[i]
	}
	return st
}

// ---------- Conv ----------

var convDef *OpDef

func init() {
	convDef = Register(&OpDef{
		Type: "Conv", Since: 11, Compat: []int{1, 22},
		MinInputs: 2, MaxInputs: 3,
		Attrs: winAttrSpecs(AttrSpec{Name: "group", Type: AttrInt, Default: int64(1)}),
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if err := sameFloat("Conv", in, 1, 2); err != nil {
				return nil, err
			}
			x, w := in[0], in[1]
			g, err := convGeom(x.Shape, w.Shape, a)
			if err != nil {
				return nil, err
			}
			if b, ok := optIn(in, 2); ok && (len(b.Shape) != 1 || (b.Shape[0] >= 0 && w.Shape[0] >= 0 && b.Shape[0] != w.Shape[0])) {
				return nil, fmt.Errorf("B must have shape [%d], got %v", w.Shape[0], b.Shape)
			}
			return []Meta{{DType: x.DType, Shape: append([]int{x.Shape[0], w.Shape[0]}, g.out...)}}, nil
		},
		Kernel: floatDispatch(convKernel[float32], convKernel[float64], 0),
	})
}

// convGeom checks Conv's X and W shapes and attributes.
func convGeom(xs, ws []int, a Attrs) (*winGeom, error) {
	if len(xs) < 3 {
		return nil, fmt.Errorf("X must have rank 3 or more (N, C, D1, ...), got shape %v", xs)
	}
	if len(ws) != len(xs) {
		return nil, fmt.Errorf("W has rank %d, X rank %d (they must agree)", len(ws), len(xs))
	}
	group := a.Int("group")
	if group < 1 {
		return nil, fmt.Errorf("group %d must be positive", group)
	}
	if c, cg := xs[1], ws[1]; c >= 0 && cg >= 0 && int64(c) != int64(cg)*group {
		return nil, fmt.Errorf("X has %d channels, W expects %d per group × %d groups", c, cg, group)
	}
	if m := ws[0]; m >= 0 && int64(m)%group != 0 {
		return nil, fmt.Errorf("W has %d output channels, not a multiple of group %d", m, group)
	}
	k := append([]int{}, ws[2:]...)
	if a.Has("kernel_shape") {
		ks := a.Ints("kernel_shape")
		if len(ks) != len(k) {
			return nil, fmt.Errorf("kernel_shape %v does not match W's shape %v", ks, ws)
		}
		for i, v := range ks {
			if k[i] >= 0 && int64(k[i]) != v {
				return nil, fmt.Errorf("kernel_shape %v does not match W's shape %v", ks, ws)
			}
			k[i] = int(v)
		}
	}
	for _, v := range k {
		if v < 0 {
			return nil, fmt.Errorf("W's spatial shape %v must be known while building", ws[2:])
		}
	}
	return newWinGeom("Conv", xs[2:], k, a, false)
}

// gemmFn is a GEMM over T with Sgemm's signature (Sgemm itself for
// float32, gemmT otherwise).
type gemmFn[T Number] func(transA, transB bool, m, n, k int, alpha float32, a []T, lda int, b []T, ldb int, beta float32, c []T, ldc int)

func gemmFor[T Float]() gemmFn[T] {
	if f, ok := any(gemmFn[float32](Sgemm)).(gemmFn[T]); ok {
		return f
	}
	return gemmT[T]
}

func convKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x, w, y := in[0], in[1], out[0]
	g, err := convGeom(x.Shape, w.Shape, a)
	if err != nil {
		return err
	}
	b := optT(in, 2)
	if b != nil && b.Len() != w.Shape[0] {
		return fmt.Errorf("B has %d values, want %d", b.Len(), w.Shape[0])
	}
	xs, ws, ys := Data[T](x), Data[T](w), Data[T](y)
	convInto(xs, ws, ys, x.Shape, w.Shape[0], g, int(a.Int("group")), gemmFor[T]())
	n, m, p := x.Shape[0], w.Shape[0], Size(g.out)
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

// convInto convolves xs (shape xShape: N, C, D1, ...) with ws (m output
// channels, geometry g from convGeom) into ys, im2col then gemm per sample
// and group; Conv, ConvInteger and QLinearConv share it.
func convInto[T Number](xs, ws, ys []T, xShape []int, m int, g *winGeom, group int, gemm gemmFn[T]) {
	n, c := xShape[0], xShape[1]
	cg, mg := c/group, m/group
	kk, p, sp := Size(g.k), Size(g.out), Size(g.in)
	rows := cg * kk
	// The column matrix is built a slab of output positions at a time
	// (whole rows of the last output dimension), so its size stays
	// bounded whatever the kernel and output sizes.
	ol := max(1, g.out[len(g.out)-1])
	cw := min(p, max(ol, colBudget/max(1, rows)/ol*ol))
	col := make([]T, rows*cw)
	tab := g.coords()
	inStr := rowStrides(g.in)
	for s := 0; s < n; s++ {
		for gi := 0; gi < group; gi++ {
			xg := xs[(s*c+gi*cg)*sp:]
			for q0 := 0; q0 < p; q0 += cw {
				width := min(cw, p-q0)
				im2col(xg, col[:rows*width], cg, g, tab, inStr, kk, q0, width, sp)
				gemm(false, false, mg, width, rows, 1, ws[gi*mg*rows:], rows, col, width, 0, ys[(s*m+gi*mg)*p+q0:], p)
			}
		}
	}
}

// colBudget bounds the elements of Conv's and ConvTranspose's column
// matrices (64 MiB of float64); a variable so that tests can shrink it.
var colBudget = 1 << 23

// im2col lays out the windows of one sample's group of channels (xg, cg
// channels of sp elements) as a (cg·K) × p matrix for the output positions
// q0..q0+p-1 (q0 and p multiples of the last output dimension, or p the
// rest): row (c, kernel index), column output position; zeros in the
// padding.
func im2col[T Number](xg, col []T, cg int, g *winGeom, tab [][]int, inStr []int, kk, q0, p, sp int) {
	nd := len(g.in)
	kidx := make([]int, nd)
	oidx := make([]int, nd)
	last := nd - 1
	ol := g.out[last]
	for ci := 0; ci < cg; ci++ {
		xc := xg[ci*sp : (ci+1)*sp]
		for i := range kidx {
			kidx[i] = 0
		}
		for r := 0; r < kk; r++ {
			dst := col[(ci*kk+r)*p : (ci*kk+r+1)*p]
			// The multi-index of output position q0 (last dimension 0).
			rest := q0 / ol
			for i := last - 1; i >= 0; i-- {
				oidx[i] = rest % g.out[i]
				rest /= g.out[i]
			}
			oidx[last] = 0
			lastTab := tab[last][kidx[last]*ol : (kidx[last]+1)*ol]
			for q := 0; q < p; q += ol {
				// Offset of the outer dimensions; -1 when any is padding.
				base := 0
				for i := 0; i < last; i++ {
					cc := tab[i][kidx[i]*g.out[i]+oidx[i]]
					if cc < 0 {
						base = -1
						break
					}
					base += cc * inStr[i]
				}
				seg := dst[q : q+ol]
				if base < 0 {
					clear(seg)
				} else {
					for j, cc := range lastTab {
						if cc < 0 {
							seg[j] = 0
						} else {
							seg[j] = xc[base+cc]
						}
					}
				}
				for i := last - 1; i >= 0; i-- {
					oidx[i]++
					if oidx[i] < g.out[i] {
						break
					}
					oidx[i] = 0
				}
			}
			for i := last; i >= 0; i-- {
				kidx[i]++
				if kidx[i] < g.k[i] {
					break
				}
				kidx[i] = 0
			}
		}
	}
}

// Conv convolves x (N, C, D1, ...) with w (M, C/group, k1, ...), plus the
// bias b (nil: none). attrs holds the ONNX attributes (strides, pads,
// dilations, group, auto_pad); nil means the defaults.
func Conv(x, w, b *Node, attrs Attrs) *Node {
	if b == nil {
		return Apply1(convDef, attrs, x, w)
	}
	return Apply1(convDef, attrs, x, w, b)
}

// ---------- ConvTranspose ----------

var convTransposeDef *OpDef

// convTGeom is ConvTranspose's geometry: output sizes and pads from the
// input sizes, kernel, strides, dilations, output_padding and either
// pads, output_shape or auto_pad (ONNX's formulas).
func convTGeom(xs, ws []int, a Attrs) (g *winGeom, m int, err error) {
	if len(xs) < 3 {
		return nil, 0, fmt.Errorf("X must have rank 3 or more (N, C, D1, ...), got shape %v", xs)
	}
	if len(ws) != len(xs) {
		return nil, 0, fmt.Errorf("W has rank %d, X rank %d (they must agree)", len(ws), len(xs))
	}
	group := a.Int("group")
	if group < 1 || group > 1<<20 {
		return nil, 0, fmt.Errorf("group %d must be positive", group)
	}
	if c := xs[1]; c >= 0 && ws[0] >= 0 && c != ws[0] {
		return nil, 0, fmt.Errorf("X has %d channels, W has %d input channels", c, ws[0])
	}
	if ws[0] >= 0 && int64(ws[0])%group != 0 {
		return nil, 0, fmt.Errorf("W's %d input channels are not a multiple of group %d", ws[0], group)
	}
	m = -1
	if ws[1] >= 0 {
		m = ws[1] * int(group)
	}
	n := len(xs) - 2
	k := append([]int{}, ws[2:]...)
	if a.Has("kernel_shape") {
		ks := a.Ints("kernel_shape")
		if len(ks) != n {
			return nil, 0, fmt.Errorf("kernel_shape %v does not match W's shape %v", ks, ws)
		}
		for i, v := range ks {
			if k[i] >= 0 && int64(k[i]) != v {
				return nil, 0, fmt.Errorf("kernel_shape %v does not match W's shape %v", ks, ws)
			}
			k[i] = int(v)
		}
	}
	for _, v := range k {
		if v < 1 {
			return nil, 0, fmt.Errorf("W's spatial shape %v must be known and positive", ws[2:])
		}
	}
	g = &winGeom{in: xs[2:], k: k, pb: make([]int, n), pe: make([]int, n), out: make([]int, n)}
	if g.s, err = intsOr(a, "strides", n, 1); err != nil {
		return nil, 0, err
	}
	if g.d, err = intsOr(a, "dilations", n, 1); err != nil {
		return nil, 0, err
	}
	adj := make([]int, n)
	if a.Has("output_padding") {
		op := a.Ints("output_padding")
		if len(op) != n {
			return nil, 0, fmt.Errorf("output_padding has %d values, want %d", len(op), n)
		}
		for i, v := range op {
			if v < 0 || int(v) >= max(g.s[i], g.d[i]) {
				return nil, 0, fmt.Errorf("output_padding %v must be below the stride or dilation", op)
			}
			adj[i] = int(v)
		}
	}
	autoPad := a.String("auto_pad")
	var outShape []int64
	if a.Has("output_shape") {
		outShape = a.Ints("output_shape")
		if len(outShape) == n+2 {
			outShape = outShape[2:]
		}
		if len(outShape) != n {
			return nil, 0, fmt.Errorf("output_shape %v has %d spatial values, want %d", a.Ints("output_shape"), len(outShape), n)
		}
	}
	if a.Has("pads") && outShape == nil {
		p := a.Ints("pads")
		if len(p) != 2*n {
			return nil, 0, fmt.Errorf("pads has %d values, want %d", len(p), 2*n)
		}
		for i := 0; i < n; i++ {
			if p[i] < 0 || p[n+i] < 0 || p[i] > 1<<30 || p[n+i] > 1<<30 {
				return nil, 0, fmt.Errorf("pads %v must be non-negative", p)
			}
			g.pb[i], g.pe[i] = int(p[i]), int(p[n+i])
		}
	}
	for i := 0; i < n; i++ {
		if g.in[i] < 0 {
			g.out[i] = -1
			continue
		}
		full := g.s[i]*(g.in[i]-1) + adj[i] + (k[i]-1)*g.d[i] + 1
		target := -1
		switch {
		case outShape != nil:
			target = int(outShape[i])
		case autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
			target = g.in[i] * g.s[i]
		case autoPad == "VALID", autoPad == "NOTSET", autoPad == "":
		default:
			return nil, 0, fmt.Errorf("auto_pad %q is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", autoPad)
		}
		if autoPad == "VALID" {
			g.pb[i], g.pe[i] = 0, 0
		}
		if target >= 0 {
			// A negative total (output_shape beyond the full output)
			// pads with zeros; half rounds down (ONNX's reference).
			total := full - target
			if total < -(1 << 30) {
				return nil, 0, fmt.Errorf("output_shape %d in dimension %d is too large", target, i)
			}
			half := total / 2
			if total < 0 && total%2 != 0 {
				half--
			}
			if autoPad == "SAME_UPPER" {
				g.pb[i], g.pe[i] = half, total-half
			} else {
				g.pb[i], g.pe[i] = total-half, half
			}
		}
		g.out[i] = full - g.pb[i] - g.pe[i]
		if g.out[i] < 0 {
			return nil, 0, fmt.Errorf("pads make dimension %d negative", i)
		}
	}
	return g, m, nil
}

func init() {
	convTransposeDef = Register(&OpDef{
		Type: "ConvTranspose", Since: 11, Compat: []int{1, 22},
		MinInputs: 2, MaxInputs: 3,
		Attrs: winAttrSpecs(
			AttrSpec{Name: "group", Type: AttrInt, Default: int64(1)},
			AttrSpec{Name: "output_padding", Type: AttrInts},
			AttrSpec{Name: "output_shape", Type: AttrInts},
		),
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if err := sameFloat("ConvTranspose", in, 1, 2); err != nil {
				return nil, err
			}
			x, w := in[0], in[1]
			g, m, err := convTGeom(x.Shape, w.Shape, a)
			if err != nil {
				return nil, err
			}
			if b, ok := optIn(in, 2); ok && (len(b.Shape) != 1 || (b.Shape[0] >= 0 && m >= 0 && b.Shape[0] != m)) {
				return nil, fmt.Errorf("B must have shape [%d], got %v", m, b.Shape)
			}
			return []Meta{{DType: x.DType, Shape: append([]int{x.Shape[0], m}, g.out...)}}, nil
		},
		Kernel: floatDispatch(convTransposeKernel[float32], convTransposeKernel[float64], 0),
	})
}

func convTransposeKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x, w, y := in[0], in[1], out[0]
	g, m, err := convTGeom(x.Shape, w.Shape, a)
	if err != nil {
		return err
	}
	b := optT(in, 2)
	if b != nil && b.Len() != m {
		return fmt.Errorf("B has %d values, want %d", b.Len(), m)
	}
	gemm := gemmFor[T]()
	group := int(a.Int("group"))
	n, c := x.Shape[0], x.Shape[1]
	cg, mg := c/group, m/group
	kk, pin, pout := Size(g.k), Size(g.in), Size(g.out)
	rows := mg * kk
	cw := min(pin, max(1, colBudget/max(1, rows))) // input positions per slab
	col := make([]T, rows*cw)
	xs, ws, ys := Data[T](x), Data[T](w), Data[T](y)
	clear(ys)
	nd := len(g.in)
	outStr := rowStrides(g.out)
	kidx := make([]int, nd)
	iidx := make([]int, nd)
	for s := 0; s < n; s++ {
		for gi := 0; gi < group; gi++ {
			for p0 := 0; p0 < pin; p0 += cw {
				width := min(cw, pin-p0)
				// col = W_gᵀ · X_g for input positions p0..p0+width-1:
				// [Mg·K, Cg] × [Cg, width].
				gemm(true, false, rows, width, cg, 1, ws[gi*cg*rows:], rows, xs[(s*c+gi*cg)*pin+p0:], pin, 0, col, width)
				col2im(col, ys[(s*m+gi*mg)*pout:], g, mg, kk, p0, width, pout, outStr, kidx, iidx)
			}
		}
	}
	if b != nil {
		bv := Data[T](b)
		for s := 0; s < n; s++ {
			for o := 0; o < m; o++ {
				row := ys[(s*m+o)*pout : (s*m+o+1)*pout]
				for j := range row {
					row[j] += bv[o]
				}
			}
		}
	}
	return nil
}

// col2im scatter-adds the column slab col (rows (m, kernel index), columns
// input positions p0..p0+w-1) into the mg output planes at y.
func col2im[T Number](col, y []T, g *winGeom, mg, kk, p0, w, pout int, outStr, kidx, iidx []int) {
	nd := len(g.in)
	for mi := 0; mi < mg; mi++ {
		yc := y[mi*pout : (mi+1)*pout]
		clear(kidx)
		for r := 0; r < kk; r++ {
			src := col[(mi*kk+r)*w : (mi*kk+r+1)*w]
			rest := p0
			for i := nd - 1; i >= 0; i-- {
				iidx[i] = rest % g.in[i]
				rest /= g.in[i]
			}
			for p := 0; p < w; p++ {
				off, ok := 0, true
				for i := 0; i < nd; i++ {
					o := iidx[i]*g.s[i] - g.pb[i] + kidx[i]*g.d[i]
					if o < 0 || o >= g.out[i] {
						ok = false
						break
					}
					off += o * outStr[i]
				}
				if ok {
					yc[off] += src[p]
				}
				for i := nd - 1; i >= 0; i-- {
					iidx[i]++
					if iidx[i] < g.in[i] {
						break
					}
					iidx[i] = 0
				}
			}
			for i := nd - 1; i >= 0; i-- {
				kidx[i]++
				if kidx[i] < g.k[i] {
					break
				}
				kidx[i] = 0
			}
		}
	}
}

// ConvTranspose is the transposed convolution of x (N, C, D1, ...) with w
// (C, M/group, k1, ...), plus the bias b (nil: none); attrs holds the
// ONNX attributes (nil: the defaults).
func ConvTranspose(x, w, b *Node, attrs Attrs) *Node {
	if b == nil {
		return Apply1(convTransposeDef, attrs, x, w)
	}
	return Apply1(convTransposeDef, attrs, x, w, b)
}
