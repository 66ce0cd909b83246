package graph

import "fmt"

// This file holds the pools: MaxPool (ceil_mode, dilations, storage_order,
// the optional Indices output), AveragePool (count_include_pad, ceil_mode,
// dilations), GlobalAveragePool and GlobalMaxPool, over any number of
// spatial dimensions. The window geometry is Conv's (ops_conv.go).
//
// Choices where ONNX leaves room:
//   - A MaxPool window that lies wholly in the padding gives the lowest
//     value of the type (-Inf for floats) and index -1.
//   - AveragePool with count_include_pad counts the window positions
//     inside the input or its explicit pads (not those beyond the pads
//     that ceil_mode adds), as ONNX Runtime and PyTorch do.
//   - Indices (MaxPool's second output) are flat indices into X, the
//     spatial part row-major (storage_order 0) or column-major (1); ties go
//     to the first position in window order.

// poolAttrs is the attribute set of MaxPool (with storage_order) and
// AveragePool (with count_include_pad).
func poolAttrs(extra AttrSpec) []AttrSpec {
	return winAttrSpecs(AttrSpec{Name: "ceil_mode", Type: AttrInt, Default: int64(0)}, extra)
}

// poolGeom checks a pool's input shape and attributes.
func poolGeom(op string, xs []int, a Attrs) (*winGeom, error) {
	if len(xs) < 3 {
		return nil, fmt.Errorf("X must have rank 3 or more (N, C, D1, ...), got shape %v", xs)
	}
	if !a.Has("kernel_shape") {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	ks := a.Ints("kernel_shape")
	if len(ks) != len(xs)-2 {
		return nil, fmt.Errorf("kernel_shape %v has %d values, X has %d spatial dimensions", ks, len(ks), len(xs)-2)
	}
	k := make([]int, len(ks))
	for i, v := range ks {
		if v < 1 || v > 1<<30 {
			return nil, fmt.Errorf("kernel_shape %v must be positive", ks)
		}
		k[i] = int(v)
	}
	return newWinGeom(op, xs[2:], k, a, a.Int("ceil_mode") != 0)
}

func poolInfer(op string, outputs int) func([]Meta, Attrs) ([]Meta, error) {
	return func(in []Meta, a Attrs) ([]Meta, error) {
		x := in[0]
		g, err := poolGeom(op, x.Shape, a)
		if err != nil {
			return nil, err
		}
		if a.Has("storage_order") {
			if so := a.Int("storage_order"); so != 0 && so != 1 {
				return nil, fmt.Errorf("storage_order %d must be 0 or 1", so)
			}
		}
		shape := append([]int{x.Shape[0], x.Shape[1]}, g.out...)
		res := []Meta{{DType: x.DType, Shape: shape}}
		if outputs == 2 {
			res = append(res, Meta{DType: Int64, Shape: shape})
		}
		return res, nil
	}
}

// poolRun visits every output position of every (n, c) plane and, within
// it, every window position: fn(plane, q, coords) gets the flat output
// index and the input coordinates of each window position (-1 in a dim:
// outside the input), once per window position, then done(plane, q, n)
// with n the count of positions inside the input or its explicit pads.
func poolRun(g *winGeom, planes int, fn func(q, flat int, inside bool), done func(q, padded int)) {
	nd := len(g.in)
	p := Size(g.out)
	kk := Size(g.k)
	inStr := rowStrides(g.in)
	oidx := make([]int, nd)
	kidx := make([]int, nd)
	for pl := 0; pl < planes; pl++ {
		clear(oidx)
		for q := 0; q < p; q++ {
			clear(kidx)
			padded := 0
			for r := 0; r < kk; r++ {
				flat, inside, inPad := 0, true, true
				for i := 0; i < nd; i++ {
					c := oidx[i]*g.s[i] - g.pb[i] + kidx[i]*g.d[i]
					if c >= g.in[i]+g.pe[i] {
						inPad = false
					}
					if c < 0 || c >= g.in[i] {
						inside = false
					}
					flat += c * inStr[i]
				}
				if inPad {
					padded++
				}
				fn(pl*p+q, flat, inside)
				for i := nd - 1; i >= 0; i-- {
					kidx[i]++
					if kidx[i] < g.k[i] {
						break
					}
					kidx[i] = 0
				}
			}
			done(pl*p+q, padded)
			for i := nd - 1; i >= 0; i-- {
				oidx[i]++
				if oidx[i] < g.out[i] {
					break
				}
				oidx[i] = 0
			}
		}
	}
}

// ---------- MaxPool ----------

var maxPoolDef, avgPoolDef, globalAvgPoolDef, globalMaxPoolDef *OpDef

func maxPoolKernel[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	g, err := poolGeom("MaxPool", x.Shape, a)
	if err != nil {
		return err
	}
	planes, sp := x.Shape[0]*x.Shape[1], Size(g.in)
	colMajor := a.Int("storage_order") == 1
	var colStr []int
	if colMajor {
		colStr = make([]int, len(g.in))
		acc := 1
		for i := range g.in {
			colStr[i] = acc
			acc *= g.in[i]
		}
	}
	inStr := rowStrides(g.in)
	xs, ys := Data[T](x), Data[T](out[0])
	var idx []int64
	if len(out) > 1 && out[1] != nil {
		idx = out[1].I
	}
	lo, _ := extremes[T]()
	p := Size(g.out)
	best, bi, found := lo, -1, false
	poolRun(g, planes, func(q, flat int, inside bool) {
		if !inside {
			return
		}
		v := xs[(q/p)*sp+flat]
		if !found || v > best {
			best, bi, found = v, flat, true
		}
	}, func(q, _ int) {
		ys[q] = best
		if idx != nil {
			switch {
			case bi < 0:
				idx[q] = -1
			case colMajor:
				// Re-express the row-major flat index column-major.
				f, rem := 0, bi
				for i := range g.in {
					f += rem / inStr[i] * colStr[i]
					rem %= inStr[i]
				}
				idx[q] = int64((q/p)*sp + f)
			default:
				idx[q] = int64((q/p)*sp + bi)
			}
		}
		best, bi, found = lo, -1, false
	})
	return nil
}

func init() {
	maxPoolDef = Register(&OpDef{
		Type: "MaxPool", Since: 12, Compat: []int{1, 8, 10, 11, 22},
		MinInputs: 1, MaxInputs: 1, Outputs: 2,
		Attrs: poolAttrs(AttrSpec{Name: "storage_order", Type: AttrInt, Default: int64(0)}),
		Types: []DType{Float32, Float64, Float16, Int8, Uint8},
		Infer: poolInfer("MaxPool", 2),
		Kernel: Dispatch{
			Float32: maxPoolKernel[float32], Float64: maxPoolKernel[float64], Float16: halfVia32(maxPoolKernel[float32]),
			Int8: maxPoolKernel[int8], Uint8: maxPoolKernel[uint8],
		}.On(0),
	})
}

// MaxPool takes the maximum over windows of x (N, C, D1, ...); attrs
// holds the ONNX attributes (kernel_shape is required). It returns the
// pooled values and their flat indices into x.
func MaxPool(x *Node, attrs Attrs) (y, indices *Node) {
	out := MustApply(maxPoolDef, attrs, x)
	return out[0], out[1]
}

// ---------- AveragePool ----------

func avgPoolKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	g, err := poolGeom("AveragePool", x.Shape, a)
	if err != nil {
		return err
	}
	planes, sp, p := x.Shape[0]*x.Shape[1], Size(g.in), Size(g.out)
	includePad := a.Int("count_include_pad") != 0
	xs, ys := Data[T](x), Data[T](out[0])
	var sum float64
	n := 0
	poolRun(g, planes, func(q, flat int, inside bool) {
		if inside {
			sum += float64(xs[(q/p)*sp+flat])
			n++
		}
	}, func(q, padded int) {
		if includePad {
			n = padded
		}
		ys[q] = T(sum / float64(n)) // a window wholly in the padding: 0/0
		sum, n = 0, 0
	})
	return nil
}

func init() {
	avgPoolDef = Register(&OpDef{
		Type: "AveragePool", Since: 19, Compat: []int{1, 7, 10, 11, 22},
		MinInputs: 1, MaxInputs: 1,
		Attrs:  poolAttrs(AttrSpec{Name: "count_include_pad", Type: AttrInt, Default: int64(0)}),
		Types:  FloatTypes,
		Infer:  poolInfer("AveragePool", 1),
		Kernel: floatDispatch(avgPoolKernel[float32], avgPoolKernel[float64], 0),
	})
}

// AveragePool averages over windows of x (N, C, D1, ...); attrs holds the
// ONNX attributes (kernel_shape is required).
func AveragePool(x *Node, attrs Attrs) *Node { return Apply1(avgPoolDef, attrs, x) }

// ---------- GlobalAveragePool and GlobalMaxPool ----------

func globalInfer(in []Meta, _ Attrs) ([]Meta, error) {
	x := in[0]
	if len(x.Shape) < 3 {
		return nil, fmt.Errorf("X must have rank 3 or more (N, C, D1, ...), got shape %v", x.Shape)
	}
	s := append([]int{}, x.Shape...)
	for i := 2; i < len(s); i++ {
		s[i] = 1
	}
	return []Meta{{DType: x.DType, Shape: s}}, nil
}

func globalKernel[T Float](k redKind) Kernel {
	return func(in []*Tensor, _ Attrs, out []*Tensor) error {
		x := in[0]
		red := make([]bool, len(x.Shape))
		for i := 2; i < len(red); i++ {
			red[i] = true
		}
		if x.DType == Float32 {
			reduceF32(x, red, out[0], k)
		} else {
			reduceT[T, float64](x, red, out[0], k)
		}
		return nil
	}
}

func init() {
	globalAvgPoolDef = Register(&OpDef{
		Type: "GlobalAveragePool", Since: 1, Compat: []int{22},
		MinInputs: 1, MaxInputs: 1, Types: FloatTypes,
		Infer:  globalInfer,
		Kernel: floatDispatch(globalKernel[float32](redMean), globalKernel[float64](redMean), 0),
	})
	globalMaxPoolDef = Register(&OpDef{
		Type: "GlobalMaxPool", Since: 1, Compat: []int{22},
		MinInputs: 1, MaxInputs: 1, Types: FloatTypes,
		Infer:  globalInfer,
		Kernel: floatDispatch(globalKernel[float32](redMax), globalKernel[float64](redMax), 0),
	})
}

// GlobalAveragePool averages x (N, C, D1, ...) over its spatial dimensions.
func GlobalAveragePool(x *Node) *Node { return Apply1(globalAvgPoolDef, nil, x) }

// GlobalMaxPool takes the maximum of x over its spatial dimensions.
func GlobalMaxPool(x *Node) *Node { return Apply1(globalMaxPoolDef, nil, x) }
