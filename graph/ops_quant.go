package graph

import (
	"fmt"
	"math"
)

// This file holds ONNX's linear quantization ops: QuantizeLinear,
// DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul, QLinearConv and
// ConvInteger (MatMulInteger is in ops_matmul.go). Quantized values are
// int8, uint8, int16 or uint16; odmn has no float8, int4 or bfloat16, so
// the forms using those are refused as unsupported. Rounding is half to
// even and results saturate to the output type's range, as ONNX says.
// Integer products accumulate in int32 (wrapping, as ONNX allows), and a
// requantized accumulator is scaled in float32 by one multiplier
// (scale_a·scale_b/scale_y), as ONNX Runtime's kernels do.

// qRange is the saturation range of a quantized integer dtype.
func qRange(dt DType) (lo, hi float64, ok bool) {
	switch dt {
	case Int8:
		return -128, 127, true
	case Uint8:
		return 0, 255, true
	case Int16:
		return -32768, 32767, true
	case Uint16:
		return 0, 65535, true
	}
	return 0, 0, false
}

// quantOne is saturate(round(v) + zp) with rounding half to even. A NaN
// quotient gives lo, as ONNX Runtime's kernels do (ONNX leaves it open).
func quantOne(v, zp, lo, hi float64) float64 {
	if v != v {
		return lo
	}
	return min(max(math.RoundToEven(v)+zp, lo), hi)
}

// intSetter returns a function storing an integral value (already within
// range) into element i of an int8, uint8, int16 or uint16 tensor.
func intSetter(t *Tensor) func(i int, v float64) {
	switch t.DType {
	case Int8:
		o := Data[int8](t)
		return func(i int, v float64) { o[i] = int8(v) }
	case Uint8:
		o := Data[uint8](t)
		return func(i int, v float64) { o[i] = uint8(v) }
	case Int16:
		o := Data[int16](t)
		return func(i int, v float64) { o[i] = int16(v) }
	case Uint16:
		o := Data[uint16](t)
		return func(i int, v float64) { o[i] = uint16(v) }
	}
	return nil
}

// floatsOf reads a small float or integer tensor as float64 (exactly for
// every dtype used here).
func floatsOf(t *Tensor) []float64 {
	v := make([]float64, t.Len())
	for i := range v {
		v[i] = t.Float(i)
	}
	return v
}

// int32sOf widens an int8 or uint8 tensor to int32 minus the zero point
// zp[i/per] (zp nil: none; per: elements sharing one zero point, the
// whole tensor for a per-tensor one).
func int32sOf(t, zp *Tensor, per int) []int32 {
	out := make([]int32, t.Len())
	switch t.DType {
	case Int8:
		for i, v := range Data[int8](t) {
			out[i] = int32(v)
		}
	case Uint8:
		for i, v := range Data[uint8](t) {
			out[i] = int32(v)
		}
	}
	if zp != nil && zp.Len() > 0 && per > 0 {
		for i := range out {
			out[i] -= int32(zp.Int(min(i/per, zp.Len()-1)))
		}
	}
	return out
}

// isOne reports a shape with exactly one element (a scalar or all 1s).
func isOne(s []int) bool {
	for _, d := range s {
		if d != 1 {
			return false
		}
	}
	return true
}

// sameParamShape reports whether a zero point's shape may go with its
// scale's: equal (unknown dimensions match anything), or both one value.
func sameParamShape(z, s []int) bool {
	if isOne(z) && isOne(s) {
		return true
	}
	if len(z) != len(s) {
		return false
	}
	for i := range z {
		if z[i] >= 0 && s[i] >= 0 && z[i] != s[i] {
			return false
		}
	}
	return true
}

// qLayout says which scale and zero point apply to each element of x:
// one for all (per-tensor), one per index along axis (per-axis), or one
// per block of `block` consecutive indices along axis, the scale having
// x's shape with ceil(D/block) along axis (blocked).
type qLayout struct {
	mode              int // qPerTensor, qPerAxis or qBlocked
	outer, dim, inner int // x as (outer, dim, inner) around axis
	block, blocks     int
}

const (
	qPerTensor = iota
	qPerAxis
	qBlocked
)

// quantLayout checks the shape ss of a scale against x's shape xs, axis
// and block_size (0: not blocked) and returns the layout. Unknown
// dimensions (-1) pass; the dims of the layout are set only when every
// shape is known.
func quantLayout(xs, ss []int, axis, block int64) (qLayout, error) {
	var l qLayout
	if block < 0 {
		return l, fmt.Errorf("block_size %d must not be negative", block)
	}
	static := Meta{Shape: xs}.Static()
	if isOne(ss) {
		// One value (any rank) is per-tensor, blocked or not, as in
		// ONNX's reference implementation.
		l.mode, l.outer, l.dim, l.inner = qPerTensor, 1, 1, Size(xs)
		return l, nil
	}
	ax := 0
	if block == 0 {
		if len(ss) != 1 {
			return l, fmt.Errorf("scale must be a scalar or 1-D (per-axis) without block_size, got shape %v", ss)
		}
		var err error
		if ax, err = normAxis(axis, len(xs)); err != nil {
			return l, err
		}
		if xs[ax] >= 0 && ss[0] >= 0 && xs[ax] != ss[0] {
			return l, fmt.Errorf("scale has %d values, x has %d along axis %d", ss[0], xs[ax], ax)
		}
		l.mode = qPerAxis
	} else {
		if len(ss) != len(xs) {
			return l, fmt.Errorf("with block_size, scale must have x's rank %d, got shape %v", len(xs), ss)
		}
		var err error
		if ax, err = normAxis(axis, len(xs)); err != nil {
			return l, err
		}
		for j := range xs {
			if j != ax && xs[j] >= 0 && ss[j] >= 0 && xs[j] != ss[j] {
				return l, fmt.Errorf("scale shape %v must equal x's %v except along axis %d", ss, xs, ax)
			}
		}
		if d := int64(xs[ax]); d >= 0 && ss[ax] >= 0 {
			want := d / block
			if d%block != 0 {
				want++
			}
			if int64(ss[ax]) != want {
				return l, fmt.Errorf("scale has %d blocks along axis %d, but %d values in blocks of %d make %d", ss[ax], ax, d, block, want)
			}
		}
		l.mode = qBlocked
		if block > int64(maxInt32) {
			block = maxInt32 // one block along any axis a tensor can have
		}
		l.block = int(block)
		if ax < len(ss) {
			l.blocks = ss[ax]
		}
	}
	if static {
		l.outer, l.dim, l.inner = Size(xs[:ax]), xs[ax], Size(xs[ax+1:])
	}
	return l, nil
}

const maxInt32 = 1<<31 - 1

// each calls f(i, p, stride, n) over runs covering x in order: the n
// consecutive elements of x from flat index i take the parameters at p,
// p+stride, ... (stride 0: all the one at p).
func (l qLayout) each(f func(i, p, stride, n int)) {
	switch l.mode {
	case qPerTensor:
		f(0, 0, 0, l.inner)
	case qPerAxis:
		for o := 0; o < l.outer; o++ {
			for d := 0; d < l.dim; d++ {
				f((o*l.dim+d)*l.inner, d, 0, l.inner)
			}
		}
	case qBlocked:
		for o := 0; o < l.outer; o++ {
			for d := 0; d < l.dim; d++ {
				f((o*l.dim+d)*l.inner, (o*l.blocks+d/l.block)*l.inner, 1, l.inner)
			}
		}
	}
}

// quantFloatIn reports the dtypes QuantizeLinear's x and y_scale may have.
func quantFloatIn(dt DType) bool { return dt == Float32 || dt == Float16 || dt == Int32 }

// onnxDTypeAttr maps an output_dtype (or precision) attribute to a dtype,
// with an *UnsupportedError for the types odmn lacks (bfloat16, float8,
// int4, ...).
func onnxDTypeAttr(op, name string, code int64) (DType, error) {
	if code < 0 || code > math.MaxInt32 {
		return Invalid, fmt.Errorf("%s %d is not a data type", name, code)
	}
	dt, ok := DTypeFromONNX(int32(code))
	if !ok {
		if code == 0 || code == 8 || code > 26 {
			return Invalid, fmt.Errorf("%s %d is not a data type", name, code)
		}
		n, ok := narrowTypeNames[code]
		if !ok {
			n = onnxTypeName(code)
		}
		return Invalid, unsupported(op, "%s %s", name, n)
	}
	return dt, nil
}

// narrowTypeNames names the TensorProto.DataType codes after bfloat16.
var narrowTypeNames = map[int64]string{
	17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
	21: "uint4", 22: "int4", 23: "float4e2m1", 24: "float8e8m0", 25: "uint2", 26: "int2",
}

// ---------- QuantizeLinear ----------

var quantizeLinearDef *OpDef

func init() {
	quantizeLinearDef = Register(&OpDef{
		Type: "QuantizeLinear", Since: 23,
		// 10 (per-tensor), 13 (per-axis), 19 (float16 x and scale;
		// saturate, which applies only to float8) and 21 (blocked,
		// int16/uint16, output_dtype) are subsets of 23, which lets x and
		// y_scale differ in type and adds precision; 24 and 25 only add
		// float8e8m0 scales and 2-bit outputs.
		Compat:    []int{10, 13, 19, 21, 24, 25},
		MinInputs: 2, MaxInputs: 3,
		Types: []DType{Float32, Float16, Int32, Int8, Uint8, Int16, Uint16},
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(1)},
			{Name: "block_size", Type: AttrInt, Default: int64(0)},
			{Name: "output_dtype", Type: AttrInt, Default: int64(0)},
			{Name: "precision", Type: AttrInt, Default: int64(0)},
			{Name: "saturate", Type: AttrInt, Default: int64(1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, s := in[0], in[1]
			if err := checkData(x, "x"); err != nil {
				return nil, err
			}
			if err := checkData(s, "y_scale"); err != nil {
				return nil, err
			}
			if !quantFloatIn(x.DType) {
				return nil, &DTypeError{Input: 0, DType: x.DType}
			}
			if !quantFloatIn(s.DType) {
				return nil, &DTypeError{Input: 1, DType: s.DType}
			}
			out, err := quantOutType(in, a)
			if err != nil {
				return nil, err
			}
			if _, err := quantPrecision(a, s.DType); err != nil {
				return nil, err
			}
			if _, err := quantLayout(x.Shape, s.Shape, a.Int("axis"), a.Int("block_size")); err != nil {
				return nil, err
			}
			if z, ok := optIn(in, 2); ok && !sameParamShape(z.Shape, s.Shape) {
				return nil, fmt.Errorf("y_zero_point has shape %v, y_scale %v (they must agree)", z.Shape, s.Shape)
			}
			return []Meta{{DType: out, Shape: x.Shape}}, nil
		},
		Kernel: quantizeKernel,
	})
}

// quantOutType is QuantizeLinear's output dtype: output_dtype, else
// y_zero_point's dtype, else uint8.
func quantOutType(in []Meta, a Attrs) (DType, error) {
	out := Uint8
	z, hasZ := optIn(in, 2)
	if hasZ {
		if _, _, ok := qRange(z.DType); !ok {
			return Invalid, &DTypeError{Input: 2, DType: z.DType}
		}
		out = z.DType
	}
	if code := a.Int("output_dtype"); code != 0 {
		dt, err := onnxDTypeAttr("QuantizeLinear", "output_dtype", code)
		if err != nil {
			return Invalid, err
		}
		if _, _, ok := qRange(dt); !ok {
			return Invalid, fmt.Errorf("output_dtype %s is not a quantized type (int8, uint8, int16, uint16)", dt)
		}
		if hasZ && dt != z.DType {
			return Invalid, fmt.Errorf("output_dtype %s differs from y_zero_point's type %s", dt, z.DType)
		}
		out = dt
	}
	return out, nil
}

// quantPrecision is the dtype QuantizeLinear divides in: the precision
// attribute, else y_scale's dtype (float64 for an int32 scale, whose
// quotient ONNX's reference computes in float64).
func quantPrecision(a Attrs, scale DType) (DType, error) {
	p := a.Int("precision")
	if p == 0 {
		if scale == Int32 {
			return Float64, nil
		}
		return scale, nil
	}
	dt, err := onnxDTypeAttr("QuantizeLinear", "precision", p)
	if err != nil {
		return Invalid, err
	}
	if !dt.IsFloat() {
		return Invalid, fmt.Errorf("precision %s is not a floating-point type", dt)
	}
	return dt, nil
}

// quotient returns the division x/s in precision dt.
func quotient(dt DType) func(x, s float64) float64 {
	switch dt {
	case Float16:
		return func(x, s float64) float64 {
			return float64(F16(F16(float32(x)).Float32() / F16(float32(s)).Float32()).Float32())
		}
	case Float64:
		return func(x, s float64) float64 { return x / s }
	}
	return func(x, s float64) float64 { return float64(float32(x) / float32(s)) }
}

// floatReader reads element i of a float32, float16 or int32 tensor.
func floatReader(t *Tensor) func(i int) float64 {
	switch t.DType {
	case Float32:
		return func(i int) float64 { return float64(t.F[i]) }
	case Float16:
		h := Data[Half](t)
		return func(i int) float64 { return float64(h[i].Float32()) }
	case Int32:
		v := Data[int32](t)
		return func(i int) float64 { return float64(v[i]) }
	}
	return t.Float
}

func quantizeKernel(in []*Tensor, a Attrs, out []*Tensor) error {
	x, s, y := in[0], in[1], out[0]
	l, err := quantLayout(x.Shape, s.Shape, a.Int("axis"), a.Int("block_size"))
	if err != nil {
		return err
	}
	prec, err := quantPrecision(a, s.DType)
	if err != nil {
		return err
	}
	lo, hi, ok := qRange(y.DType)
	if !ok {
		return &DTypeError{Input: -1, DType: y.DType}
	}
	sv := floatsOf(s)
	var zv []float64
	if z := optT(in, 2); z != nil {
		if z.Len() != s.Len() {
			return fmt.Errorf("y_zero_point has %d values, y_scale %d", z.Len(), s.Len())
		}
		zv = floatsOf(z)
	}
	div, rx, set := quotient(prec), floatReader(x), intSetter(y)
	l.each(func(i, p, stride, n int) {
		for j := 0; j < n; j++ {
			q := p + j*stride
			zp := 0.0
			if zv != nil {
				zp = zv[q]
			}
			set(i+j, quantOne(div(rx(i+j), sv[q]), zp, lo, hi))
		}
	})
	return nil
}

// QuantizeLinear quantizes x: saturate(round(x / scale) + zp), the output
// type being zp's (nil zp: uint8 unless attrs sets output_dtype). attrs
// holds axis, block_size, output_dtype and precision (nil: defaults); the
// shape of scale picks per-tensor, per-axis or blocked quantization.
func QuantizeLinear(x, scale, zp *Node, attrs Attrs) *Node {
	if zp == nil {
		return Apply1(quantizeLinearDef, attrs, x, scale)
	}
	return Apply1(quantizeLinearDef, attrs, x, scale, zp)
}

// ---------- DequantizeLinear ----------

var dequantizeLinearDef *OpDef

func init() {
	dequantizeLinearDef = Register(&OpDef{
		Type: "DequantizeLinear", Since: 23,
		// 10 (per-tensor), 13 (per-axis), 19 (float16 scales) and 21
		// (blocked, int16/uint16) are subsets of 23, which adds
		// output_dtype; 24 and 25 only add float8e8m0 scales and 2-bit
		// inputs.
		Compat:    []int{10, 13, 19, 21, 24, 25},
		MinInputs: 2, MaxInputs: 3,
		Types: []DType{Int8, Uint8, Int16, Uint16, Int32, Float32, Float16},
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(1)},
			{Name: "block_size", Type: AttrInt, Default: int64(0)},
			{Name: "output_dtype", Type: AttrInt, Default: int64(0)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, s := in[0], in[1]
			if err := checkData(x, "x"); err != nil {
				return nil, err
			}
			if err := checkData(s, "x_scale"); err != nil {
				return nil, err
			}
			if _, _, ok := qRange(x.DType); !ok && x.DType != Int32 {
				return nil, &DTypeError{Input: 0, DType: x.DType}
			}
			if s.DType != Float32 && s.DType != Float16 {
				return nil, &DTypeError{Input: 1, DType: s.DType}
			}
			if z, ok := optIn(in, 2); ok {
				if z.DType != x.DType {
					return nil, fmt.Errorf("x_zero_point is %s, x %s (they must agree)", z.DType, x.DType)
				}
				if !sameParamShape(z.Shape, s.Shape) {
					return nil, fmt.Errorf("x_zero_point has shape %v, x_scale %v (they must agree)", z.Shape, s.Shape)
				}
			}
			out := s.DType
			if code := a.Int("output_dtype"); code != 0 {
				dt, err := onnxDTypeAttr("DequantizeLinear", "output_dtype", code)
				if err != nil {
					return nil, err
				}
				if dt != Float32 && dt != Float16 {
					return nil, fmt.Errorf("output_dtype %s is not float, float16 or bfloat16", dt)
				}
				out = dt
			}
			if _, err := quantLayout(x.Shape, s.Shape, a.Int("axis"), a.Int("block_size")); err != nil {
				return nil, err
			}
			return []Meta{{DType: out, Shape: x.Shape}}, nil
		},
		Kernel: dequantizeKernel,
	})
}

// dequantizeKernel computes (x - zp) · scale in float32 (x - zp exactly,
// then one rounding to float32 and one of the product), rounding to
// float16 last for a float16 output, as ONNX's reference and ONNX Runtime
// do.
func dequantizeKernel(in []*Tensor, a Attrs, out []*Tensor) error {
	x, s, y := in[0], in[1], out[0]
	l, err := quantLayout(x.Shape, s.Shape, a.Int("axis"), a.Int("block_size"))
	if err != nil {
		return err
	}
	sv := floatsOf(s)
	var zv []int64
	if z := optT(in, 2); z != nil {
		if z.Len() != s.Len() {
			return fmt.Errorf("x_zero_point has %d values, x_scale %d", z.Len(), s.Len())
		}
		zv = make([]int64, z.Len())
		for i := range zv {
			zv[i] = z.Int(i)
		}
	}
	xv := make([]int64, x.Len())
	for i := range xv {
		xv[i] = x.Int(i)
	}
	var set func(i int, v float32)
	if y.DType == Float16 {
		h := Data[Half](y)
		set = func(i int, v float32) { h[i] = F16(v) }
	} else {
		set = func(i int, v float32) { y.F[i] = v }
	}
	l.each(func(i, p, stride, n int) {
		for j := 0; j < n; j++ {
			q := p + j*stride
			d := xv[i+j]
			if zv != nil {
				d -= zv[q]
			}
			set(i+j, float32(d)*float32(sv[q]))
		}
	})
	return nil
}

// DequantizeLinear is (x - zp) · scale, of scale's type unless attrs sets
// output_dtype; zp nil means 0. attrs holds axis, block_size and
// output_dtype (nil: defaults).
func DequantizeLinear(x, scale, zp *Node, attrs Attrs) *Node {
	if zp == nil {
		return Apply1(dequantizeLinearDef, attrs, x, scale)
	}
	return Apply1(dequantizeLinearDef, attrs, x, scale, zp)
}

// ---------- DynamicQuantizeLinear ----------

var dynamicQuantizeLinearDef *OpDef

func init() {
	dynamicQuantizeLinearDef = Register(&OpDef{
		Type: "DynamicQuantizeLinear", Since: 11,
		MinInputs: 1, MaxInputs: 1, Outputs: 3,
		// Not folded: the native runtime binds folded values of
		// single-output ops only.
		NoFold: true,
		Types:  []DType{Float32},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if err := checkData(in[0], "x"); err != nil {
				return nil, err
			}
			return []Meta{{DType: Uint8, Shape: in[0].Shape}, {DType: Float32, Shape: []int{}}, {DType: Uint8, Shape: []int{}}}, nil
		},
		Kernel: dynamicQuantizeKernel,
	})
}

// dynamicQuantizeKernel follows ONNX's function body: the range of x
// widened to include 0 gives scale = range/255 and the zero point
// round(clip(-min/scale, 0, 255)); then y = QuantizeLinear(x, scale, zp).
// NaNs are left out of the range. A zero range (x all zeros) gives scale
// 0, zero point 0 and y 0 (the body would divide 0 by 0).
func dynamicQuantizeKernel(in []*Tensor, _ Attrs, out []*Tensor) error {
	xs := in[0].F
	var mn, mx float32
	for _, v := range xs {
		if v < mn {
			mn = v
		}
		if v > mx {
			mx = v
		}
	}
	scale := (mx - mn) / 255
	zp := 0.0
	if scale != 0 {
		zp = math.RoundToEven(min(max(float64(0-mn/scale), 0), 255))
	}
	out[1].F[0] = scale
	Data[uint8](out[2])[0] = uint8(zp)
	y := Data[uint8](out[0])
	for i, v := range xs {
		if scale == 0 {
			y[i] = uint8(zp)
			continue
		}
		y[i] = uint8(quantOne(float64(v/scale), zp, 0, 255))
	}
	return nil
}

// DynamicQuantizeLinear quantizes float32 x to uint8 with a scale and
// zero point computed from x's range; it returns y, the scale and the
// zero point.
func DynamicQuantizeLinear(x *Node) (y, scale, zp *Node) {
	o := MustApply(dynamicQuantizeLinearDef, nil, x)
	return o[0], o[1], o[2]
}

// ---------- QLinearMatMul ----------

var qLinearMatMulDef *OpDef

func init() {
	qLinearMatMulDef = Register(&OpDef{
		Type: "QLinearMatMul", Since: 21,
		// 21 adds float16 (and bfloat16) scales and float8 operands.
		Compat:    []int{10},
		MinInputs: 8, MaxInputs: 8,
		Types: []DType{Int8, Uint8, Float32, Float16},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			names := []string{"a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"}
			for i, m := range in {
				if err := checkData(m, names[i]); err != nil {
					return nil, err
				}
			}
			if err := qlinearTypes(in, names); err != nil {
				return nil, err
			}
			d, err := matmulDims(in[0].Shape, in[3].Shape)
			if err != nil {
				return nil, err
			}
			if _, err := qmmParam(in[1].Shape, in[2].Shape, in[0].Shape, true); err != nil {
				return nil, fmt.Errorf("a_scale, a_zero_point: %w", err)
			}
			if _, err := qmmParam(in[4].Shape, in[5].Shape, in[3].Shape, false); err != nil {
				return nil, fmt.Errorf("b_scale, b_zero_point: %w", err)
			}
			if !isOne(in[6].Shape) && in[6].Static() || !isOne(in[7].Shape) && in[7].Static() {
				return nil, unsupported("QLinearMatMul", "a y_scale or y_zero_point of more than one value (shapes %v, %v)", in[6].Shape, in[7].Shape)
			}
			return []Meta{{DType: in[7].DType, Shape: d.outShape()}}, nil
		},
		Kernel: qLinearMatMulKernel,
	})
}

// qlinearTypes checks the types of QLinearMatMul's and QLinearConv's
// inputs: the two quantized operands (at 0 and 3, each followed by its
// scale and zero point) int8 or uint8 with a zero point of the same type,
// y's zero point (7) int8 or uint8, and the scales (1, 4, 6) float32 or
// float16, all of one type.
func qlinearTypes(in []Meta, names []string) error {
	for _, i := range []int{0, 3} {
		x, z := in[i], in[i+2]
		if x.DType != Int8 && x.DType != Uint8 {
			return &DTypeError{Input: i, DType: x.DType}
		}
		if z.DType != x.DType {
			return fmt.Errorf("%s is %s, %s %s (they must agree)", names[i+2], z.DType, names[i], x.DType)
		}
	}
	if z := in[7]; z.DType != Int8 && z.DType != Uint8 {
		return &DTypeError{Input: 7, DType: z.DType}
	}
	sdt := in[1].DType
	for _, i := range []int{1, 4, 6} {
		s := in[i]
		if s.DType != Float32 && s.DType != Float16 {
			return &DTypeError{Input: i, DType: s.DType}
		}
		if s.DType != sdt {
			return fmt.Errorf("%s is %s, %s %s (the scales must agree)", names[i], s.DType, names[1], sdt)
		}
	}
	return nil
}

// qmmParam checks the scale (ss) and zero point (zs) shapes of QLinearMatMul
// operand a (isA: per row) or b (per column) of shape xs and returns the
// shape under which they broadcast over the output [batch..., M, N]: [] for
// one value; [M, 1] or [..., M, 1] per row of a; [N] or [..., 1, N] per
// column of b.
func qmmParam(ss, zs, xs []int, isA bool) ([]int, error) {
	if !sameParamShape(zs, ss) {
		return nil, fmt.Errorf("the zero point has shape %v, the scale %v (they must agree)", zs, ss)
	}
	if isOne(ss) {
		return []int{}, nil
	}
	r := len(xs)
	if r < 2 {
		return nil, fmt.Errorf("a 1-D operand takes one scale, got shape %v", ss)
	}
	// The axis a parameter varies along and the one it must be 1 in.
	vary, fixed := r-2, r-1
	if !isA {
		vary, fixed = r-1, r-2
	}
	if len(ss) == 1 {
		if ss[0] >= 0 && xs[vary] >= 0 && ss[0] != xs[vary] {
			return nil, fmt.Errorf("scale has %d values, the operand %v has %d along dimension %d", ss[0], xs, xs[vary], vary)
		}
		if isA {
			return []int{ss[0], 1}, nil
		}
		return []int{1, ss[0]}, nil
	}
	if len(ss) != r || ss[fixed] != 1 {
		return nil, fmt.Errorf("scale shape %v is neither one value nor per %s of the operand %v", ss, map[bool]string{true: "row", false: "column"}[isA], xs)
	}
	for j := range ss {
		if j != fixed && ss[j] != 1 && ss[j] >= 0 && xs[j] >= 0 && ss[j] != xs[j] {
			return nil, fmt.Errorf("scale shape %v does not match the operand %v", ss, xs)
		}
	}
	return ss, nil
}

// paramIndex maps every element of the output (full shape out) to the
// index of a parameter of shape ps broadcast over it; nil for one value.
func paramIndex(ps, out []int) []int {
	if len(ps) == 0 {
		return nil
	}
	return BroadcastIndex(ps, out)
}

func pick(m []int, i int) int {
	if m == nil {
		return 0
	}
	return m[i]
}

func qLinearMatMulKernel(in []*Tensor, _ Attrs, out []*Tensor) error {
	a, as, az, b, bs, bz, ys, yz := in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]
	d, err := matmulDims(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	pa, err := qmmParam(as.Shape, az.Shape, a.Shape, true)
	if err != nil {
		return err
	}
	pb, err := qmmParam(bs.Shape, bz.Shape, b.Shape, false)
	if err != nil {
		return err
	}
	if ys.Len() != 1 || yz.Len() != 1 {
		return fmt.Errorf("y_scale and y_zero_point must hold one value each")
	}
	// The operands minus their zero points, as int32.
	ai, bi := int32sOf(a, nil, 0), int32sOf(b, nil, 0)
	if m := paramIndex(pa, a.Shape); m != nil || az.Int(0) != 0 {
		for i := range ai {
			ai[i] -= int32(az.Int(pick(m, i)))
		}
	}
	if m := paramIndex(pb, b.Shape); m != nil || bz.Int(0) != 0 {
		for i := range bi {
			bi[i] -= int32(bz.Int(pick(m, i)))
		}
	}
	acc := NewTensor(Int32, out[0].Shape)
	if err := matMulKernel[int32]([]*Tensor{FromSlice(a.Shape, ai), FromSlice(b.Shape, bi)}, nil, []*Tensor{acc}); err != nil {
		return err
	}
	full := append(append([]int{}, d.batch...), d.m, d.n)
	ia, ib := paramIndex(pa, full), paramIndex(pb, full)
	sa, sb := floatsOf(as), floatsOf(bs)
	sy := float32(ys.Float(0))
	requant(Data[int32](acc), out[0], float64(yz.Int(0)), func(i int) float32 {
		return float32(sa[pick(ia, i)]) * float32(sb[pick(ib, i)]) / sy
	})
	return nil
}

// requant writes saturate(round(acc·mult(i)) + zp) to y (int8 or uint8),
// the product in float32 as ONNX Runtime computes it.
func requant(acc []int32, y *Tensor, zp float64, mult func(i int) float32) {
	lo, hi, _ := qRange(y.DType)
	set := intSetter(y)
	for i, v := range acc {
		set(i, quantOne(float64(float32(v)*mult(i)), zp, lo, hi))
	}
}

// QLinearMatMul multiplies quantized a and b (each with its scale and zero
// point) and quantizes the product with yScale and yZP.
func QLinearMatMul(a, aScale, aZP, b, bScale, bZP, yScale, yZP *Node) *Node {
	return Apply1(qLinearMatMulDef, nil, a, aScale, aZP, b, bScale, bZP, yScale, yZP)
}

// ---------- ConvInteger and QLinearConv ----------

// convIntInfer checks the integer convolution's x, w and zero points (one
// value for x's, one or one per output channel for w's) and returns the
// output shape.
func convIntInfer(x, xz, w, wz Meta, hasXZ, hasWZ bool, a Attrs) ([]int, error) {
	for i, m := range []Meta{x, w} {
		if m.DType != Int8 && m.DType != Uint8 {
			return nil, &DTypeError{Input: []int{0, 1}[i], DType: m.DType}
		}
	}
	if hasXZ {
		if xz.DType != x.DType {
			return nil, fmt.Errorf("x's zero point is %s, x %s (they must agree)", xz.DType, x.DType)
		}
		if !isOne(xz.Shape) && xz.Static() {
			return nil, fmt.Errorf("x's zero point must be one value, got shape %v", xz.Shape)
		}
	}
	if hasWZ {
		if wz.DType != w.DType {
			return nil, fmt.Errorf("w's zero point is %s, w %s (they must agree)", wz.DType, w.DType)
		}
		if err := perChannel(wz.Shape, w.Shape, "w's zero point"); err != nil {
			return nil, err
		}
	}
	g, err := convGeom(x.Shape, w.Shape, a)
	if err != nil {
		return nil, err
	}
	return append([]int{x.Shape[0], w.Shape[0]}, g.out...), nil
}

// perChannel checks a parameter that is one value or one per output
// channel of w.
func perChannel(ps, ws []int, what string) error {
	if isOne(ps) {
		return nil
	}
	if len(ps) != 1 || ps[0] >= 0 && len(ws) > 0 && ws[0] >= 0 && ps[0] != ws[0] {
		return fmt.Errorf("%s must be one value or one per output channel (%d), got shape %v", what, ws[0], ps)
	}
	return nil
}

// convIntAcc computes the int32 convolution of x - xz with w - wz (wz one
// value or one per output channel) into y, through Conv's im2col and
// GEMM.
func convIntAcc(x, xz, w, wz *Tensor, a Attrs, y []int32) error {
	g, err := convGeom(x.Shape, w.Shape, a)
	if err != nil {
		return err
	}
	m := w.Shape[0]
	if xz != nil && xz.Len() != 1 {
		return fmt.Errorf("x's zero point has %d values, want 1", xz.Len())
	}
	if wz != nil && wz.Len() != 1 && wz.Len() != m {
		return fmt.Errorf("w's zero point has %d values, want 1 or %d", wz.Len(), m)
	}
	xi := int32sOf(x, xz, x.Len())
	per := w.Len()
	if wz != nil && wz.Len() == m {
		per = w.Len() / max(1, m)
	}
	wi := int32sOf(w, wz, per)
	convInto(xi, wi, y, x.Shape, m, g, int(a.Int("group")), gemmT[int32])
	return nil
}

var convIntegerDef *OpDef

func init() {
	convIntegerDef = Register(&OpDef{
		Type: "ConvInteger", Since: 10,
		MinInputs: 2, MaxInputs: 4,
		Attrs: winAttrSpecs(AttrSpec{Name: "group", Type: AttrInt, Default: int64(1)}),
		Types: []DType{Int8, Uint8},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			xz, hasXZ := optIn(in, 2)
			wz, hasWZ := optIn(in, 3)
			shape, err := convIntInfer(in[0], xz, in[1], wz, hasXZ, hasWZ, a)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: Int32, Shape: shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			return convIntAcc(in[0], optT(in, 2), in[1], optT(in, 3), a, Data[int32](out[0]))
		},
	})
}

// ConvInteger convolves int8/uint8 x with w, each minus its zero point
// (nil: 0), accumulating in int32; attrs holds Conv's attributes.
func ConvInteger(x, w, xZP, wZP *Node, attrs Attrs) *Node {
	switch {
	case wZP != nil:
		return Apply1(convIntegerDef, attrs, x, w, xZP, wZP)
	case xZP != nil:
		return Apply1(convIntegerDef, attrs, x, w, xZP)
	}
	return Apply1(convIntegerDef, attrs, x, w)
}

var qLinearConvDef *OpDef

func init() {
	qLinearConvDef = Register(&OpDef{
		Type: "QLinearConv", Since: 10,
		MinInputs: 8, MaxInputs: 9,
		Attrs: winAttrSpecs(AttrSpec{Name: "group", Type: AttrInt, Default: int64(1)}),
		Types: []DType{Int8, Uint8, Float32, Int32},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			names := []string{"x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale", "y_zero_point", "B"}
			for i := 0; i < 8; i++ {
				if err := checkData(in[i], names[i]); err != nil {
					return nil, err
				}
			}
			if err := qlinearTypes(in, names); err != nil {
				return nil, err
			}
			if in[1].DType != Float32 {
				return nil, &DTypeError{Input: 1, DType: in[1].DType}
			}
			shape, err := convIntInfer(in[0], in[2], in[3], in[5], true, true, a)
			if err != nil {
				return nil, err
			}
			for _, i := range []int{1, 6, 7} {
				if !isOne(in[i].Shape) && in[i].Static() {
					return nil, fmt.Errorf("%s must be one value, got shape %v", names[i], in[i].Shape)
				}
			}
			if err := perChannel(in[4].Shape, in[3].Shape, "w_scale"); err != nil {
				return nil, err
			}
			if b, ok := optIn(in, 8); ok {
				if b.DType != Int32 {
					return nil, &DTypeError{Input: 8, DType: b.DType}
				}
				if m := in[3].Shape[0]; len(b.Shape) != 1 || b.Shape[0] >= 0 && m >= 0 && b.Shape[0] != m {
					return nil, fmt.Errorf("B must have shape [%d], got %v", m, b.Shape)
				}
			}
			return []Meta{{DType: in[7].DType, Shape: shape}}, nil
		},
		Kernel: qLinearConvKernel,
	})
}

func qLinearConvKernel(in []*Tensor, a Attrs, out []*Tensor) error {
	x, xs, xz, w, ws, wz, ys, yz := in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]
	y := out[0]
	m := w.Shape[0]
	if xs.Len() != 1 || ys.Len() != 1 || yz.Len() != 1 {
		return fmt.Errorf("x_scale, y_scale and y_zero_point must hold one value each")
	}
	if ws.Len() != 1 && ws.Len() != m {
		return fmt.Errorf("w_scale has %d values, want 1 or %d", ws.Len(), m)
	}
	acc := make([]int32, y.Len())
	if err := convIntAcc(x, xz, w, wz, a, acc); err != nil {
		return err
	}
	p := y.Len() / max(1, y.Shape[0]*m) // output positions per channel
	if b := optT(in, 8); b != nil {
		if b.Len() != m {
			return fmt.Errorf("B has %d values, want %d", b.Len(), m)
		}
		bv := Data[int32](b)
		for i := range acc {
			acc[i] += bv[(i/p)%m]
		}
	}
	// One multiplier per output channel, x_scale·w_scale/y_scale in
	// float32.
	sx, sy := float32(xs.Float(0)), float32(ys.Float(0))
	mult := make([]float32, m)
	for o := range mult {
		mult[o] = sx * float32(ws.Float(min(o, ws.Len()-1))) / sy
	}
	requant(acc, y, float64(yz.Int(0)), func(i int) float32 { return mult[(i/p)%m] })
	return nil
}

// QLinearConv convolves quantized x with quantized w (each with its scale
// and zero point; w's may be per output channel), adds the int32 bias b
// (nil: none) and quantizes the result with yScale and yZP; attrs holds
// Conv's attributes.
func QLinearConv(x, xScale, xZP, w, wScale, wZP, yScale, yZP, b *Node, attrs Attrs) *Node {
	if b == nil {
		return Apply1(qLinearConvDef, attrs, x, xScale, xZP, w, wScale, wZP, yScale, yZP)
	}
	return Apply1(qLinearConvDef, attrs, x, xScale, xZP, w, wScale, wZP, yScale, yZP, b)
}
