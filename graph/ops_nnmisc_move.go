package graph

import (
	"fmt"
	"math"
)

// This file holds the ops that move elements of NCHW-style tensors
// (DepthToSpace, SpaceToDepth, ReverseSequence, MaxUnpool) and the Lp
// pools (LpPool, GlobalLpPool), whose window geometry is MaxPool's
// (ops_pool.go).
//
// Choices where ONNX leaves room:
//   - A ReverseSequence length outside [0, time steps] is an error (as in
//     ONNX Runtime).
//   - MaxUnpool's indices are flat indices into the whole unpooled tensor
//     (N, C, D1, ...), as MaxPool writes them; one out of range is an
//     error, and when two indices repeat, the later element wins. A
//     larger output_shape pads that tensor at the end of each dimension,
//     as ONNX's reference implementation and node test do (ONNX Runtime
//     reads the indices as flat in output_shape instead, which disagrees
//     with that test), and a smaller one is an error.
//   - LpPool's padding contributes nothing to the sums.

// gatherFlat sets dst[i] = src[from[i]] for tensors of one dtype.
func gatherFlat(dst, src *Tensor, from []int) {
	switch {
	case src.DType == String:
		gatherFlatT(dst.S, src.S, from)
	case src.DType.ElemSize() == 1:
		gatherFlatT(raw[uint8](dst), raw[uint8](src), from)
	case src.DType.ElemSize() == 2:
		gatherFlatT(raw[uint16](dst), raw[uint16](src), from)
	case src.DType.ElemSize() == 4:
		gatherFlatT(raw[uint32](dst), raw[uint32](src), from)
	case src.DType.ElemSize() == 8:
		gatherFlatT(raw[uint64](dst), raw[uint64](src), from)
	}
}

func gatherFlatT[T any](dst, src []T, from []int) {
	for i, f := range from {
		dst[i] = src[f]
	}
}

// ---------- DepthToSpace and SpaceToDepth ----------

var depthToSpaceDef, spaceToDepthDef *OpDef

// blockCheck checks a 4-D input and the blocksize attribute.
func blockCheck(xs []int, a Attrs) (int, error) {
	if len(xs) != 4 {
		return 0, fmt.Errorf("input must have rank 4 (N, C, H, W), got shape %v", xs)
	}
	bs := a.Int("blocksize")
	if bs < 1 || bs > 1<<20 {
		return 0, fmt.Errorf("blocksize %d must be positive", bs)
	}
	return int(bs), nil
}

// scaleDim multiplies a known dim by f, refusing overflow (-1 stays).
func scaleDim(d, f int, what string) (int, error) {
	if d < 0 {
		return -1, nil
	}
	if d > maxElements/f {
		return 0, fmt.Errorf("%s %d times %d is too large", what, d, f)
	}
	return d * f, nil
}

func init() {
	depthToSpaceDef = Register(&OpDef{
		Type: "DepthToSpace", Since: 11,
		// 1 has no mode attribute: its behaviour is DCR, the default. 13
		// only marks differentiability and adds bfloat16.
		Compat:    []int{1, 13},
		MinInputs: 1, MaxInputs: 1,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "blocksize", Type: AttrInt, Required: true},
			{Name: "mode", Type: AttrString, Default: "DCR"},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			bs, err := blockCheck(x.Shape, a)
			if err != nil {
				return nil, err
			}
			if m := a.String("mode"); m != "DCR" && m != "CRD" {
				return nil, fmt.Errorf("mode %q is not DCR or CRD", m)
			}
			c := x.Shape[1]
			if c >= 0 && c%(bs*bs) != 0 {
				return nil, fmt.Errorf("channels %d are not a multiple of blocksize² = %d", c, bs*bs)
			}
			if c >= 0 {
				c /= bs * bs
			}
			h, err := scaleDim(x.Shape[2], bs, "H")
			if err != nil {
				return nil, err
			}
			w, err := scaleDim(x.Shape[3], bs, "W")
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: []int{x.Shape[0], c, h, w}}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			bs := int(a.Int("blocksize"))
			n, c, h, w := x.Shape[0], x.Shape[1]/(bs*bs), x.Shape[2], x.Shape[3]
			hw := h * w
			// The output seen as (N, C', H, bs, W, bs), read from the
			// input seen as (N, bs, bs, C', H, W) (DCR) or (N, C', bs,
			// bs, H, W) (CRD).
			st := []int{bs * bs * c * hw, hw, w, bs * c * hw, 1, c * hw}
			if a.String("mode") == "CRD" {
				st = []int{bs * bs * c * hw, bs * bs * hw, w, bs * hw, 1, hw}
			}
			v := *out[0]
			v.Shape = []int{n, c, h, bs, w, bs}
			stridedCopyT(&v, x, 0, st)
			return nil
		},
	})
	spaceToDepthDef = Register(&OpDef{
		Type: "SpaceToDepth", Since: 1, Compat: []int{13}, // 13 adds bfloat16
		MinInputs: 1, MaxInputs: 1,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{{Name: "blocksize", Type: AttrInt, Required: true}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			bs, err := blockCheck(x.Shape, a)
			if err != nil {
				return nil, err
			}
			out := []int{x.Shape[0], -1, -1, -1}
			for i := 2; i < 4; i++ {
				if d := x.Shape[i]; d >= 0 {
					if d%bs != 0 {
						return nil, fmt.Errorf("input shape %v: H and W must be multiples of blocksize %d", x.Shape, bs)
					}
					out[i] = d / bs
				}
			}
			if out[1], err = scaleDim(x.Shape[1], bs*bs, "C"); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			bs := int(a.Int("blocksize"))
			n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2]/bs, x.Shape[3]/bs
			// ONNX: reshape to (N, C, H', bs, W', bs), transpose to
			// (N, bs, bs, C, H', W').
			W := x.Shape[3]
			st := []int{c * x.Shape[2] * W, W, 1, x.Shape[2] * W, bs * W, bs}
			v := *out[0]
			v.Shape = []int{n, bs, bs, c, h, w}
			stridedCopyT(&v, x, 0, st)
			return nil
		},
	})
}

// DepthToSpace moves blocks of blocksize² channels of x (N, C, H, W) into
// blocksize × blocksize spatial blocks; mode is "DCR" (ONNX's default)
// or "CRD" (the order of PixelShuffle).
func DepthToSpace(x *Node, blocksize int64, mode string) *Node {
	return Apply1(depthToSpaceDef, Attrs{"blocksize": blocksize, "mode": mode}, x)
}

// SpaceToDepth is the inverse of DepthToSpace in DCR mode.
func SpaceToDepth(x *Node, blocksize int64) *Node {
	return Apply1(spaceToDepthDef, Attrs{"blocksize": blocksize}, x)
}

// ---------- ReverseSequence ----------

var reverseSequenceDef *OpDef

func reverseSeqAxes(a Attrs) (tAx, bAx int, err error) {
	t, b := a.Int("time_axis"), a.Int("batch_axis")
	if t < 0 || t > 1 || b < 0 || b > 1 || t == b {
		return 0, 0, fmt.Errorf("time_axis %d and batch_axis %d must be 0 and 1 in some order", t, b)
	}
	return int(t), int(b), nil
}

func init() {
	reverseSequenceDef = Register(&OpDef{
		Type: "ReverseSequence", Since: 10,
		MinInputs: 2, MaxInputs: 2,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "batch_axis", Type: AttrInt, Default: int64(1)},
			{Name: "time_axis", Type: AttrInt, Default: int64(0)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, l := in[0], in[1]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			_, bAx, err := reverseSeqAxes(a)
			if err != nil {
				return nil, err
			}
			if len(x.Shape) < 2 {
				return nil, fmt.Errorf("input must have rank 2 or more, got shape %v", x.Shape)
			}
			if l.DType != Int64 || len(l.Shape) != 1 {
				return nil, fmt.Errorf("sequence_lens must be a 1-D int64 tensor, got %s%v", l.DType, l.Shape)
			}
			if b := x.Shape[bAx]; b >= 0 && l.Shape[0] >= 0 && l.Shape[0] != b {
				return nil, fmt.Errorf("sequence_lens has %d values for a batch of %d", l.Shape[0], b)
			}
			return sameAsInput(in, nil)
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, lens := in[0], in[1].I
			tAx, _, err := reverseSeqAxes(a)
			if err != nil {
				return err
			}
			nt, inner := x.Shape[tAx], Size(x.Shape[2:])
			for _, l := range lens {
				if l < 0 || l > int64(nt) {
					return fmt.Errorf("sequence length %d out of range [0, %d]", l, nt)
				}
			}
			st := stridesOf(x.Shape)
			from := make([]int, x.Len())
			for i := range from {
				i0, i1 := i/st[0], i/st[1]%x.Shape[1]
				t, b := i0, i1
				if tAx == 1 {
					t, b = i1, i0
				}
				if l := int(lens[b]); t < l {
					t = l - 1 - t
				}
				if tAx == 1 {
					from[i] = i0*st[0] + t*st[1] + i%inner
				} else {
					from[i] = t*st[0] + i1*st[1] + i%inner
				}
			}
			gatherFlat(out[0], x, from)
			return nil
		},
	})
}

// ReverseSequence reverses, for each batch entry b, the first lens[b]
// steps along the time axis of x; timeAxis and batchAxis are 0 and 1.
func ReverseSequence(x, lens *Node, timeAxis, batchAxis int64) *Node {
	return Apply1(reverseSequenceDef, Attrs{"time_axis": timeAxis, "batch_axis": batchAxis}, x, lens)
}

// ---------- MaxUnpool ----------

var maxUnpoolDef *OpDef

// unpoolShape checks MaxUnpool's attributes and computes its inferred
// output shape: each spatial dim (in-1)*stride + kernel - pads (-1 when
// in is unknown).
func unpoolShape(xs []int, a Attrs) ([]int, error) {
	if len(xs) < 3 {
		return nil, fmt.Errorf("X must have rank 3 or more (N, C, D1, ...), got shape %v", xs)
	}
	nd := len(xs) - 2
	ks := a.Ints("kernel_shape")
	if len(ks) != nd {
		return nil, fmt.Errorf("kernel_shape %v has %d values, X has %d spatial dimensions", ks, len(ks), nd)
	}
	s, err := intsOr(a, "strides", nd, 1)
	if err != nil {
		return nil, err
	}
	pads := make([]int64, 2*nd)
	if a.Has("pads") {
		pads = a.Ints("pads")
		if len(pads) != 2*nd {
			return nil, fmt.Errorf("pads has %d values, want %d", len(pads), 2*nd)
		}
	}
	out := append([]int{}, xs...)
	for i := 0; i < nd; i++ {
		k, pb, pe := ks[i], pads[i], pads[nd+i]
		if k < 1 || k > 1<<30 || pb < 0 || pe < 0 || pb > 1<<30 || pe > 1<<30 {
			return nil, fmt.Errorf("kernel_shape %v must be positive and pads %v non-negative", ks, pads)
		}
		d := xs[i+2]
		if d < 0 {
			continue
		}
		if d > 0 && d-1 > maxElements/s[i] {
			return nil, fmt.Errorf("X's dimension %d times stride %d is too large", d, s[i])
		}
		o := (d-1)*s[i] + int(k) - int(pb) - int(pe)
		if o < 0 {
			return nil, fmt.Errorf("the output dimension %d is negative (X %v, kernel_shape %v, strides %v, pads %v)", o, xs, ks, s, pads)
		}
		out[i+2] = o
	}
	return out, nil
}

// maxUnpoolKernel scatters X into the unpooled shape (indices are flat
// in it), which sits at the origin of a larger output_shape (ONNX's
// reference implementation and its test; ONNX Runtime instead takes the
// indices as flat in output_shape).
func maxUnpoolKernel[T Float | Half](in []*Tensor, a Attrs, out []*Tensor) error {
	shape, err := unpoolShape(in[0].Shape, a)
	if err != nil {
		return err
	}
	xs, idx, ys := Data[T](in[0]), in[1].I, Data[T](out[0])
	clear(ys)
	n := Size(shape)
	same := SameShape(shape, out[0].Shape)
	ist, ost := stridesOf(shape), stridesOf(out[0].Shape)
	for i, j := range idx {
		if j < 0 || j >= int64(n) {
			return fmt.Errorf("index %d out of range for the unpooled shape %v", j, shape)
		}
		f := int(j)
		if !same {
			f = 0
			for d, st := range ist {
				f += int(j) / st % shape[d] * ost[d]
			}
		}
		ys[f] = xs[i]
	}
	return nil
}

func init() {
	maxUnpoolDef = Register(&OpDef{
		Type: "MaxUnpool", Since: 9,
		// 11 only documents strides' default; 22 adds bfloat16.
		Compat:    []int{11, 22},
		MinInputs: 2, MaxInputs: 3,
		Types: append(append([]DType{}, FloatTypes...), Int64),
		Attrs: []AttrSpec{
			{Name: "kernel_shape", Type: AttrInts, Required: true},
			{Name: "pads", Type: AttrInts},
			{Name: "strides", Type: AttrInts},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, idx := in[0], in[1]
			if !x.DType.IsFloat() {
				return nil, fmt.Errorf("X must be a float tensor, got %s", x.DType)
			}
			if idx.DType != Int64 {
				return nil, fmt.Errorf("I must be int64, got %s", idx.DType)
			}
			if len(idx.Shape) != len(x.Shape) {
				return nil, fmt.Errorf("I has shape %v, want X's %v", idx.Shape, x.Shape)
			}
			for i, d := range x.Shape {
				if d >= 0 && idx.Shape[i] >= 0 && d != idx.Shape[i] {
					return nil, fmt.Errorf("I has shape %v, want X's %v", idx.Shape, x.Shape)
				}
			}
			out, err := unpoolShape(x.Shape, a)
			if err != nil {
				return nil, err
			}
			if m, ok := optIn(in, 2); ok {
				l, err := intsInput(m, "output_shape", false)
				if err != nil {
					return nil, err
				}
				if m.DType != Int64 {
					return nil, fmt.Errorf("output_shape must be int64, got %s", m.DType)
				}
				if l.n >= 0 && l.n != len(x.Shape) {
					return nil, fmt.Errorf("output_shape has %d values, want %d (X's rank)", l.n, len(x.Shape))
				}
				inferred := out
				out = unknownDims(len(x.Shape))
				if l.known {
					s, err := shapeFromInts(l.vals, "output_shape")
					if err != nil {
						return nil, err
					}
					for i, d := range inferred {
						if d >= 0 && s[i] < d {
							return nil, fmt.Errorf("output_shape %v is smaller than the unpooled shape %v", l.vals, inferred)
						}
					}
					out = s
				}
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: Dispatch{
			Float32: maxUnpoolKernel[float32], Float64: maxUnpoolKernel[float64], Float16: maxUnpoolKernel[Half],
		}.On(0),
	})
}

// MaxUnpool places each element of x at its flat index in indices (both
// as MaxPool returns them) in a zero tensor; outputShape (nil: derived
// from attrs' kernel_shape, strides and pads) is that tensor's shape.
func MaxUnpool(x, indices, outputShape *Node, attrs Attrs) *Node {
	if outputShape == nil {
		return Apply1(maxUnpoolDef, attrs, x, indices)
	}
	return Apply1(maxUnpoolDef, attrs, x, indices, outputShape)
}

// ---------- LpPool and GlobalLpPool ----------

var lpPoolDef, globalLpPoolDef *OpDef

func lpCheck(a Attrs) (int64, error) {
	p := a.Int("p")
	if p < 1 || p > 1<<20 {
		return 0, fmt.Errorf("p %d must be positive", p)
	}
	return p, nil
}

// lpAcc accumulates |v|^p; lpRoot finishes the norm.
func lpAcc(v float64, p int64) float64 {
	switch p {
	case 1:
		return math.Abs(v)
	case 2:
		return v * v
	}
	return math.Pow(math.Abs(v), float64(p))
}

func lpRoot(s float64, p int64) float64 {
	switch p {
	case 1:
		return s
	case 2:
		return math.Sqrt(s)
	}
	return math.Pow(s, 1/float64(p))
}

func lpPoolKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	p, err := lpCheck(a)
	if err != nil {
		return err
	}
	g, err := poolGeom("LpPool", x.Shape, a)
	if err != nil {
		return err
	}
	planes, sp, np := x.Shape[0]*x.Shape[1], Size(g.in), Size(g.out)
	xs, ys := Data[T](x), Data[T](out[0])
	var sum float64
	poolRun(g, planes, func(q, flat int, inside bool) {
		if inside {
			sum += lpAcc(float64(xs[(q/np)*sp+flat]), p)
		}
	}, func(q, _ int) {
		ys[q] = T(lpRoot(sum, p))
		sum = 0
	})
	return nil
}

func globalLpKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	p, err := lpCheck(a)
	if err != nil {
		return err
	}
	xs, ys := Data[T](x), Data[T](out[0])
	sp := Size(x.Shape[2:])
	for q := range ys {
		var s float64
		for _, v := range xs[q*sp : (q+1)*sp] {
			s += lpAcc(float64(v), p)
		}
		ys[q] = T(lpRoot(s, p))
	}
	return nil
}

func init() {
	pAttr := AttrSpec{Name: "p", Type: AttrInt, Default: int64(2)}
	infer := poolInfer("LpPool", 1)
	lpPoolDef = Register(&OpDef{
		// 18 adds ceil_mode and dilations to 2 and 11 (whose defaults
		// are their behaviour); 22 adds bfloat16. 1's float p is made
		// an int by the importer (compat's lpPLegacy).
		Type: "LpPool", Since: 18, Compat: []int{2, 11, 22},
		MinInputs: 1, MaxInputs: 1,
		Attrs: poolAttrs(pAttr),
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if _, err := lpCheck(a); err != nil {
				return nil, err
			}
			return infer(in, a)
		},
		Kernel: floatDispatch(lpPoolKernel[float32], lpPoolKernel[float64], 0),
	})
	globalLpPoolDef = Register(&OpDef{
		Type: "GlobalLpPool", Since: 2, Compat: []int{22}, // 22 adds bfloat16
		MinInputs: 1, MaxInputs: 1,
		Attrs: []AttrSpec{pAttr},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if _, err := lpCheck(a); err != nil {
				return nil, err
			}
			return globalInfer(in, a)
		},
		Kernel: floatDispatch(globalLpKernel[float32], globalLpKernel[float64], 0),
	})
}

// LpPool is the p-norm over windows of x (N, C, D1, ...); attrs holds the
// ONNX attributes (kernel_shape is required, p defaults to 2).
func LpPool(x *Node, attrs Attrs) *Node { return Apply1(lpPoolDef, attrs, x) }

// GlobalLpPool is the p-norm of x over its spatial dimensions.
func GlobalLpPool(x *Node, p int64) *Node {
	return Apply1(globalLpPoolDef, Attrs{"p": p}, x)
}
