package graph_test

import (
	"strconv"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
)

// iotaOf is 0, 1, ..., n-1 as dtype dt (strings: their decimal text).
func iotaOf(dt graph.DType, shape ...int) *graph.Tensor {
	n := graph.Size(shape)
	switch dt {
	case graph.Float32:
		return iotaF(shape...)
	case graph.Int64:
		return iotaI(shape...)
	case graph.Bool:
		v := make([]bool, n)
		for i := range v {
			v[i] = i%3 == 1
		}
		return graph.Bools(shape, v)
	case graph.String:
		v := make([]string, n)
		for i := range v {
			v[i] = strconv.Itoa(i)
		}
		return graph.Strings(shape, v)
	case graph.Float64:
		return iotaT[float64](shape)
	case graph.Int32:
		return iotaT[int32](shape)
	case graph.Int16:
		return iotaT[int16](shape)
	case graph.Int8:
		return iotaT[int8](shape)
	case graph.Uint8:
		return iotaT[uint8](shape)
	case graph.Uint16:
		return iotaT[uint16](shape)
	case graph.Uint32:
		return iotaT[uint32](shape)
	case graph.Uint64:
		return iotaT[uint64](shape)
	case graph.Float16:
		v := make([]graph.Half, n)
		for i := range v {
			v[i] = graph.F16(float32(i))
		}
		return graph.FromSlice(shape, v)
	}
	panic("iotaOf: " + dt.String())
}

func iotaT[T graph.Number](shape []int) *graph.Tensor {
	v := make([]T, graph.Size(shape))
	for i := range v {
		v[i] = T(i)
	}
	return graph.FromSlice(shape, v)
}

// elemText is element i of t as text, for comparing any two dtypes that
// hold the same small integers (bools as 0/1).
func elemText(t *graph.Tensor, i int) string {
	if t.DType == graph.String {
		return t.S[i]
	}
	return strconv.FormatFloat(t.Float(i), 'g', -1, 64)
}

// sameElems compares shapes and element texts of two tensors of any dtypes.
func sameElems(got, want *graph.Tensor) bool {
	if got == nil || !graph.SameShape(got.Shape, want.Shape) || got.Len() != want.Len() {
		return false
	}
	for i := 0; i < want.Len(); i++ {
		if elemText(got, i) != elemText(want, i) {
			return false
		}
	}
	return true
}

// TestMoveOpsEveryDType runs each element-moving op on iota data of every
// dtype and wants the elements the int64 run moves (the int64 path is the
// one the other tests check against hand-written results).
func TestMoveOpsEveryDType(t *testing.T) {
	idx32 := graph.FromSlice([]int{2}, []int32{2, -3})
	ops := map[string]func(g *graph.Graph, x nodeList) nodeList{
		"Reshape":   func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ReshapeTo(x[0], 3, -1, 2)} },
		"Flatten":   func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Flatten(x[0], 2)} },
		"Unsqueeze": func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Unsqueeze(x[0], 0, -1)} },
		"Squeeze": func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.Squeeze(graph.Unsqueeze(x[0], 1), 1)}
		},
		"Transpose": func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Transpose(x[0], 2, 0, 1)} },
		"Expand": func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.ExpandTo(graph.Slice(x[0], []int64{0}, []int64{1}, []int64{2}, nil), 2, 2, 3, 2)}
		},
		"Concat": func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.Concat(1, x[0], x[0])} },
		"Slice": func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.Slice(x[0], []int64{-1, 0}, []int64{-100, 4}, []int64{1, 2}, []int64{-2, 3})}
		},
		"Gather": func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.Gather(x[0], g.Const(idx32), 1)}
		},
		"GatherElements": func(g *graph.Graph, x nodeList) nodeList {
			idx := g.Const(graph.FromSlice([]int{2, 1, 4}, []int32{1, 0, -1, 2, 0, 0, 1, 1}))
			return nodeList{graph.GatherElements(x[0], idx, 1)}
		},
		"Shape": func(g *graph.Graph, x nodeList) nodeList { return nodeList{graph.ShapeOfRange(x[0], 1, 3)} },
	}
	for name, f := range ops {
		want := graphtest.MustEval(t, f, iotaOf(graph.Int64, 2, 3, 4))[0]
		for _, dt := range graph.DTypes() {
			if dt == graph.Int64 {
				continue
			}
			x := iotaOf(dt, 2, 3, 4)
			wantDT := want
			if dt == graph.Bool {
				wantDT = graphtest.MustEval(t, f, iotaOf(graph.Float32, 2, 3, 4))[0]
				wantDT = boolOf(wantDT, x)
			}
			got, err := graphtest.Eval(f, x)
			if err != nil {
				t.Errorf("%s on %s: %v", name, dt, err)
				continue
			}
			wantType := dt
			if name == "Shape" {
				wantType = graph.Int64
			}
			if got[0].DType != wantType || !sameElems(got[0], wantDT) {
				t.Errorf("%s on %s: got %v, want %v", name, dt, got[0], wantDT)
			}
		}
	}
}

// boolOf maps a float32 result of moving iota elements to the bools of x
// (element k of x is at index k of the iota).
func boolOf(moved, x *graph.Tensor) *graph.Tensor {
	if moved.DType == graph.Int64 {
		return moved // Shape
	}
	out := graph.NewTensor(graph.Bool, moved.Shape)
	for i, v := range moved.F {
		out.B[i] = x.B[int(v)]
	}
	return out
}

func TestConstantOfShapeAndRangeDTypes(t *testing.T) {
	for _, v := range []*graph.Tensor{
		graph.FromSlice([]int{1}, []int8{-3}), graph.FromSlice([]int{1}, []uint64{1 << 63}),
		graph.FromSlice([]int{1}, []graph.Half{graph.F16(1.5)}), graph.FromSlice([]int{1}, []float64{0.1}),
		graph.Bools([]int{1}, []bool{true}),
	} {
		out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.ConstantOfShape(x[0], v)}
		}, tensI(dims(2), 2, 3))[0]
		if out.DType != v.DType || !graph.SameShape(out.Shape, dims(2, 3)) {
			t.Fatalf("ConstantOfShape %s: got %v", v.DType, out)
		}
		for i := 0; i < 6; i++ {
			if elemText(out, i) != elemText(v, 0) {
				t.Errorf("ConstantOfShape %s: element %d is %s, want %s", v.DType, i, elemText(out, i), elemText(v, 0))
			}
		}
	}
	// Range on computed bounds, for each of its dtypes.
	for _, c := range []struct {
		start, limit, delta *graph.Tensor
		want                []float64
	}{
		{graph.FromSlice([]int{}, []int32{10}), graph.FromSlice([]int{}, []int32{4}), graph.FromSlice([]int{}, []int32{-3}), []float64{10, 7}},
		{graph.FromSlice([]int{}, []int16{0}), graph.FromSlice([]int{}, []int16{5}), graph.FromSlice([]int{}, []int16{2}), []float64{0, 2, 4}},
		{graph.FromSlice([]int{}, []float64{1}), graph.FromSlice([]int{}, []float64{2}), graph.FromSlice([]int{}, []float64{0.25}), []float64{1, 1.25, 1.5, 1.75}},
	} {
		out := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
			return nodeList{graph.Range(x[0], x[1], x[2])}
		}, c.start, c.limit, c.delta)[0]
		if out.DType != c.start.DType || out.Len() != len(c.want) {
			t.Fatalf("Range %s: got %v, want %v", c.start.DType, out, c.want)
		}
		for i, w := range c.want {
			if out.Float(i) != w {
				t.Errorf("Range %s: element %d is %v, want %v", c.start.DType, i, out.Float(i), w)
			}
		}
	}
}

// TestHostileShapes: sizes computed at run time whose element count
// overflows an int (or is merely huge) are refused by the native runtime
// with an error naming the op and the size, before allocating.
func TestHostileShapes(t *testing.T) {
	big := int64(1) << 32
	expectRunError(t, "ConstantOfShape 2^32 x 2^32", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ConstantOfShape(x[0], nil)}
	}, []*graph.Tensor{tensI(dims(2), big, big)}, "ConstantOfShape", "elements", "MaxElements")
	expectRunError(t, "Expand", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.Expand(x[0], x[1])}
	}, []*graph.Tensor{tensF(dims(1), 1), tensI(dims(3), big, big, 16)}, "Expand", "elements", "MaxElements")
	expectRunError(t, "ConstantOfShape negative", func(g *graph.Graph, x nodeList) nodeList {
		return nodeList{graph.ConstantOfShape(x[0], nil)}
	}, []*graph.Tensor{tensI(dims(2), 3, -2)}, "ConstantOfShape", "negative dimension")
}
