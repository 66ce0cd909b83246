package graph

import (
	"fmt"
	"slices"
)

// ---------- TopK ----------

var topKDef *OpDef

func init() {
	topKDef = Register(&OpDef{
		Type: "TopK", Since: 11,
		// 10 takes K as an input too and has no largest/sorted (their
		// defaults are its behaviour); 24 only adds element types.
		Compat:    []int{10, 24},
		MinInputs: 2, MaxInputs: 2, Outputs: 2,
		// Not folded: the native runtime binds folded values of
		// single-output ops only.
		NoFold: true,
		Types:  AllNumeric,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(-1)},
			{Name: "largest", Type: AttrInt, Default: int64(1)},
			{Name: "sorted", Type: AttrInt, Default: int64(1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x, km := in[0], in[1]
			if err := checkData(x, "X"); err != nil {
				return nil, err
			}
			if len(x.Shape) == 0 {
				return nil, fmt.Errorf("X must have rank at least 1, got a scalar")
			}
			ax, err := normAxis(a.Int("axis"), len(x.Shape))
			if err != nil {
				return nil, err
			}
			kl, err := intsInput(km, "K", true)
			if err != nil {
				return nil, err
			}
			if km.DType != Int64 {
				return nil, fmt.Errorf("K must be int64, got %s", km.DType)
			}
			if kl.n >= 0 && kl.n != 1 {
				return nil, fmt.Errorf("K must hold one value, got %d", kl.n)
			}
			out := append([]int{}, x.Shape...)
			out[ax] = -1
			if kl.known {
				k := kl.vals[0]
				if k < 0 || x.Shape[ax] >= 0 && k > int64(x.Shape[ax]) {
					return nil, fmt.Errorf("K = %d out of range for axis %d of size %d", k, ax, x.Shape[ax])
				}
				out[ax] = int(k)
			}
			return []Meta{{DType: x.DType, Shape: out}, {DType: Int64, Shape: out}}, nil
		},
		Kernel: Dispatch{
			Float32: topKK[float32], Float64: topKK[float64], Float16: viaFloat32(topKK[float32]),
			Int8: topKK[int8], Int16: topKK[int16], Int32: topKK[int32], Int64: topKK[int64],
			Uint8: topKK[uint8], Uint16: topKK[uint16], Uint32: topKK[uint32], Uint64: topKK[uint64],
		}.On(0),
	})
}

// topKK selects, in every slice along axis, the K largest (or smallest)
// elements in order; equal values keep the lower index first, as in ONNX
// Runtime. NaN counts as larger than every number. With sorted=0 the
// order is unspecified in ONNX; odmn returns the sorted order (ONNX
// Runtime returns its selection order, which differs).
func topKK[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	ax, err := normAxis(a.Int("axis"), len(x.Shape))
	if err != nil {
		return err
	}
	largest := a.Int("largest") != 0
	n := x.Shape[ax]
	k := out[0].Shape[ax]
	outer, inner := Size(x.Shape[:ax]), Size(x.Shape[ax+1:])
	xv, vals, idxs := Data[T](x), Data[T](out[0]), out[1].I
	order := make([]int, n)
	less := func(p, q T) bool { // p strictly before q
		pn, qn := p != p, q != q
		switch {
		case pn && qn:
			return false
		case pn:
			return largest
		case qn:
			return !largest
		}
		if largest {
			return p > q
		}
		return p < q
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			for j := range order {
				order[j] = j
			}
			slices.SortStableFunc(order, func(p, q int) int {
				vp, vq := xv[base+p*inner], xv[base+q*inner]
				switch {
				case less(vp, vq):
					return -1
				case less(vq, vp):
					return 1
				}
				return 0
			})
			ob := o*k*inner + i
			for j := 0; j < k; j++ {
				vals[ob+j*inner] = xv[base+order[j]*inner]
				idxs[ob+j*inner] = int64(order[j])
			}
		}
	}
	return nil
}

// TopK returns the k largest (largest true) or smallest elements of x
// along axis, sorted, and their int64 indices.
func TopK(x, k *Node, axis int64, largest bool) (values, indices *Node) {
	l := int64(0)
	if largest {
		l = 1
	}
	o := MustApply(topKDef, Attrs{"axis": axis, "largest": l}, x, k)
	return o[0], o[1]
}
