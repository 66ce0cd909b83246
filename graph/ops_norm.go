package graph

import (
	"fmt"
	"math"
)

// This file holds the normalization ops, for inference: BatchNormalization
// (training_mode 0), LayerNormalization, LpNormalization and
// InstanceNormalization, in float32 and float64 (float16 computes in
// float32 and rounds back). Statistics are computed in float64 whatever
// the element type, so float32 results are as close to the exact ones as
// float32 allows.
//
// Choices where ONNX leaves room:
//   - LpNormalization of an all-zero slice gives zeros (as ONNX Runtime),
//     not the 0/0 NaN of a literal reading.
//   - LayerNormalization's Mean and InvStdDev outputs are float32
//     (stash_type 1, the only stash type ONNX defines for them).

// halfVia32 runs a float32 kernel on float16 tensors: float16 inputs are
// widened to float32, float16 outputs computed in float32 and rounded.
func halfVia32(k Kernel) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		in32 := make([]*Tensor, len(in))
		for i, t := range in {
			in32[i] = t
			if t != nil && t.DType == Float16 {
				in32[i] = halfToF32(t)
			}
		}
		out32 := make([]*Tensor, len(out))
		for i, t := range out {
			out32[i] = t
			if t != nil && t.DType == Float16 {
				out32[i] = NewTensor(Float32, t.Shape)
			}
		}
		if err := k(in32, a, out32); err != nil {
			return err
		}
		for i, t := range out {
			if t != nil && t.DType == Float16 {
				f32ToHalf(out32[i], t)
			}
		}
		return nil
	}
}

// floatDispatch instantiates a generic float kernel for float32 and
// float64, and float16 through float32, dispatching on input i.
func floatDispatch(k32, k64 Kernel, i int) Kernel {
	return Dispatch{Float32: k32, Float64: k64, Float16: halfVia32(k32)}.On(i)
}

// sameFloat checks that the listed inputs (when present) have x's dtype.
func sameFloat(op string, in []Meta, idx ...int) error {
	for _, i := range idx {
		if m, ok := optIn(in, i); ok && m.DType != in[0].DType {
			return fmt.Errorf("input %d is %s, want %s like input 0", i, m.DType, in[0].DType)
		}
	}
	return nil
}

// vecOf reads a small parameter tensor of any float dtype as float64.
func vecOf(t *Tensor) []float64 {
	v := make([]float64, t.Len())
	for i := range v {
		v[i] = t.Float(i)
	}
	return v
}

// ---------- BatchNormalization ----------

var batchNormDef *OpDef

func init() {
	batchNormDef = Register(&OpDef{
		Type: "BatchNormalization", Since: 15, Compat: []int{9, 14},
		MinInputs: 5, MaxInputs: 5,
		Attrs: []AttrSpec{
			{Name: "epsilon", Type: AttrFloat, Default: float32(1e-5)},
			{Name: "momentum", Type: AttrFloat, Default: float32(0.9)},
			{Name: "training_mode", Type: AttrInt, Default: int64(0)},
		},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if a.Int("training_mode") != 0 {
				return nil, unsupported("BatchNormalization", "training_mode=1 (odmn runs inference only)")
			}
			x := in[0]
			if len(x.Shape) < 2 {
				return nil, fmt.Errorf("X must have rank 2 or more (N, C, ...), got shape %v", x.Shape)
			}
			c := x.Shape[1]
			for i, name := range []string{"", "scale", "B", "input_mean", "input_var"} {
				if i == 0 {
					continue
				}
				m := in[i]
				if len(m.Shape) != 1 || (c >= 0 && m.Shape[0] >= 0 && m.Shape[0] != c) {
					return nil, fmt.Errorf("%s must have shape [%d], got %v", name, c, m.Shape)
				}
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}}, nil
		},
		Kernel: floatDispatch(batchNormKernel[float32], batchNormKernel[float64], 0),
	})
}

func batchNormKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x, y := in[0], out[0]
	c := x.Shape[1]
	for i := 1; i < 5; i++ {
		if in[i].Len() != c {
			return fmt.Errorf("input %d has %d values, want %d (channels)", i, in[i].Len(), c)
		}
	}
	scale, bias, mean, vr := vecOf(in[1]), vecOf(in[2]), vecOf(in[3]), vecOf(in[4])
	eps := float64(a.Float("epsilon"))
	mul, add := make([]T, c), make([]T, c)
	for k := 0; k < c; k++ {
		s := scale[k] / math.Sqrt(vr[k]+eps)
		mul[k], add[k] = T(s), T(bias[k]-mean[k]*s)
	}
	n, inner := x.Shape[0], Size(x.Shape[2:])
	xs, ys := Data[T](x), Data[T](y)
	for b := 0; b < n; b++ {
		for k := 0; k < c; k++ {
			p := (b*c + k) * inner
			m, d := mul[k], add[k]
			for j, v := range xs[p : p+inner] {
				ys[p+j] = v*m + d
			}
		}
	}
	return nil
}

// BatchNormalization normalizes x (N, C, ...) per channel with fixed
// statistics: (x - mean) / sqrt(var + epsilon) * scale + bias.
func BatchNormalization(x, scale, bias, mean, variance *Node, epsilon float32) *Node {
	return Apply1(batchNormDef, Attrs{"epsilon": epsilon}, x, scale, bias, mean, variance)
}

// ---------- LayerNormalization ----------

var layerNormDef *OpDef

func init() {
	layerNormDef = Register(&OpDef{
		Type: "LayerNormalization", Since: 17,
		MinInputs: 2, MaxInputs: 3, Outputs: 3,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(-1)},
			{Name: "epsilon", Type: AttrFloat, Default: float32(1e-5)},
			{Name: "stash_type", Type: AttrInt, Default: int64(1)},
		},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if st := a.Int("stash_type"); st != 1 {
				return nil, unsupported("LayerNormalization", "stash_type %d", st)
			}
			if err := sameFloat("LayerNormalization", in, 1, 2); err != nil {
				return nil, err
			}
			x := in[0]
			ax, err := redAxis(a.Int("axis"), len(x.Shape))
			if err != nil {
				return nil, err
			}
			norm := x.Shape[ax:]
			for i, name := range []string{"Scale", "B"} {
				if m, ok := optIn(in, i+1); ok && !unidirectional(m.Shape, norm) {
					return nil, fmt.Errorf("%s of shape %v does not broadcast to the normalized shape %v", name, m.Shape, norm)
				}
			}
			stat := append([]int{}, x.Shape...)
			for i := ax; i < len(stat); i++ {
				stat[i] = 1
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}, {DType: Float32, Shape: stat}, {DType: Float32, Shape: stat}}, nil
		},
		Kernel: floatDispatch(layerNormKernel[float32], layerNormKernel[float64], 0),
	})
}

// bcastVec expands a parameter to the normalized shape (nil: absent).
func bcastVec(t *Tensor, norm []int) []float64 {
	if t == nil {
		return nil
	}
	v := vecOf(t)
	idx := BroadcastIndex(t.Shape, norm)
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

func layerNormKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	ax, err := redAxis(a.Int("axis"), len(x.Shape))
	if err != nil {
		return err
	}
	norm := x.Shape[ax:]
	if !unidirectional(in[1].Shape, norm) {
		return fmt.Errorf("Scale of shape %v does not broadcast to %v", in[1].Shape, norm)
	}
	if b := optT(in, 2); b != nil && !unidirectional(b.Shape, norm) {
		return fmt.Errorf("B of shape %v does not broadcast to %v", b.Shape, norm)
	}
	scale, bias := bcastVec(in[1], norm), bcastVec(optT(in, 2), norm)
	d := Size(norm)
	rows := Size(x.Shape[:ax])
	eps := float64(a.Float("epsilon"))
	xs, ys := Data[T](x), Data[T](out[0])
	mo, io := out[1].F, out[2].F
	for r := 0; r < rows; r++ {
		row, yr := xs[r*d:(r+1)*d], ys[r*d:(r+1)*d]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(d)
		var ss float64
		for _, v := range row {
			e := float64(v) - mean
			ss += e * e
		}
		inv := 1 / math.Sqrt(ss/float64(d)+eps)
		for j, v := range row {
			z := (float64(v) - mean) * inv * scale[j]
			if bias != nil {
				z += bias[j]
			}
			yr[j] = T(z)
		}
		mo[r], io[r] = float32(mean), float32(inv)
	}
	return nil
}

// LayerNormalization normalizes x over the axes from axis on, then scales
// and shifts (bias may be nil). It returns Y, Mean and InvStdDev.
func LayerNormalization(x, scale, bias *Node, axis int64, epsilon float32) (y, mean, invStdDev *Node) {
	in := []*Node{x, scale}
	if bias != nil {
		in = append(in, bias)
	}
	out := MustApply(layerNormDef, Attrs{"axis": axis, "epsilon": epsilon}, in...)
	return out[0], out[1], out[2]
}

// ---------- LpNormalization ----------

var lpNormDef *OpDef

func init() {
	lpNormDef = Register(&OpDef{
		Type: "LpNormalization", Since: 1, Compat: []int{22},
		MinInputs: 1, MaxInputs: 1,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(-1)},
			{Name: "p", Type: AttrInt, Default: int64(2)},
		},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if p := a.Int("p"); p != 1 && p != 2 {
				return nil, fmt.Errorf("p must be 1 or 2, got %d", p)
			}
			if _, err := redAxis(a.Int("axis"), len(in[0].Shape)); err != nil {
				return nil, err
			}
			return []Meta{{DType: in[0].DType, Shape: in[0].Shape}}, nil
		},
		Kernel: floatDispatch(lpNormKernel[float32], lpNormKernel[float64], 0),
	})
}

func lpNormKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	ax, err := redAxis(a.Int("axis"), len(x.Shape))
	if err != nil {
		return err
	}
	outer, n, inner := 1, x.Shape[ax], 1
	for i, d := range x.Shape {
		if i < ax {
			outer *= d
		} else if i > ax {
			inner *= d
		}
	}
	p2 := a.Int("p") == 2
	xs, ys := Data[T](x), Data[T](out[0])
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			var s float64
			for j := 0; j < n; j++ {
				v := float64(xs[base+j*inner])
				if p2 {
					s += v * v
				} else {
					s += math.Abs(v)
				}
			}
			if p2 {
				s = math.Sqrt(s)
			}
			for j := 0; j < n; j++ {
				k := base + j*inner
				if s == 0 {
					ys[k] = 0
					continue
				}
				ys[k] = T(float64(xs[k]) / s)
			}
		}
	}
	return nil
}

// LpNormalization divides x by its L1 (p=1) or L2 (p=2) norm along axis.
func LpNormalization(x *Node, axis, p int64) *Node {
	return Apply1(lpNormDef, Attrs{"axis": axis, "p": p}, x)
}

// ---------- InstanceNormalization ----------

var instanceNormDef *OpDef

func init() {
	instanceNormDef = Register(&OpDef{
		Type: "InstanceNormalization", Since: 6, Compat: []int{22},
		MinInputs: 3, MaxInputs: 3,
		Attrs: []AttrSpec{{Name: "epsilon", Type: AttrFloat, Default: float32(1e-5)}},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if err := sameFloat("InstanceNormalization", in, 1, 2); err != nil {
				return nil, err
			}
			x := in[0]
			if len(x.Shape) < 3 {
				return nil, fmt.Errorf("input must have rank 3 or more (N, C, D1, ...), got shape %v", x.Shape)
			}
			for i, name := range []string{"scale", "B"} {
				m := in[i+1]
				if len(m.Shape) != 1 || (x.Shape[1] >= 0 && m.Shape[0] >= 0 && m.Shape[0] != x.Shape[1]) {
					return nil, fmt.Errorf("%s must have shape [%d], got %v", name, x.Shape[1], m.Shape)
				}
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}}, nil
		},
		Kernel: floatDispatch(instanceNormKernel[float32], instanceNormKernel[float64], 0),
	})
}

func instanceNormKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	n, c, inner := x.Shape[0], x.Shape[1], Size(x.Shape[2:])
	if in[1].Len() != c || in[2].Len() != c {
		return fmt.Errorf("scale and B must have %d values (channels), got %d and %d", c, in[1].Len(), in[2].Len())
	}
	scale, bias := vecOf(in[1]), vecOf(in[2])
	eps := float64(a.Float("epsilon"))
	xs, ys := Data[T](x), Data[T](out[0])
	for b := 0; b < n; b++ {
		for k := 0; k < c; k++ {
			p := (b*c + k) * inner
			row, yr := xs[p:p+inner], ys[p:p+inner]
			var sum float64
			for _, v := range row {
				sum += float64(v)
			}
			mean := sum / float64(inner)
			var ss float64
			for _, v := range row {
				e := float64(v) - mean
				ss += e * e
			}
			s := scale[k] / math.Sqrt(ss/float64(inner)+eps)
			for j, v := range row {
				yr[j] = T((float64(v)-mean)*s + bias[k])
			}
		}
	}
	return nil
}

// InstanceNormalization normalizes each (sample, channel) slice of x (N,
// C, D1, ...) over its spatial dimensions, then scales and shifts per
// channel.
func InstanceNormalization(x, scale, bias *Node, epsilon float32) *Node {
	return Apply1(instanceNormDef, Attrs{"epsilon": epsilon}, x, scale, bias)
}
