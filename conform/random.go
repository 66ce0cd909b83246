package conform

import (
	"fmt"
	"math/rand/v2"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// maxRandomElements bounds one random input (dims from --dim).
const maxRandomElements = 1 << 26

// RandomOptions tune RandomInputs.
type RandomOptions struct {
	// Dims gives symbolic (dim_param) dimensions their size; unknown and
	// unlisted ones are 1.
	Dims map[string]int
	// IntLo and IntHi bound integer inputs, [IntLo, IntHi), unless the
	// graph says which values an input accepts (an index into a gathered
	// dimension, a one-hot depth, a LabelEncoder's keys). Both 0: [0, 10).
	IntLo, IntHi int64
}

// InputSpec is a graph input to draw: its element type, shape (dims
// resolved), and for integers and strings the values it accepts.
type InputSpec struct {
	Name  string
	DType graph.DType
	Shape []int
	// Lo, Hi bound integer values, [Lo, Hi); Why says where the bound
	// comes from ("gathered dimension of node X", "--int-range", ...).
	Lo, Hi int64
	Why    string
	// Ints and Strings, when set, are the only values accepted (keys of a
	// LabelEncoder).
	Ints    []int64
	Strings []string
}

// InputSpecs works out how to draw each non-initializer graph input of m.
func InputSpecs(m *onnxpb.ModelProto, opts RandomOptions) ([]InputSpec, error) {
	if opts.IntLo == 0 && opts.IntHi == 0 {
		opts.IntHi = 10
	}
	if opts.IntHi <= opts.IntLo {
		return nil, fmt.Errorf("integer range [%d, %d) is empty", opts.IntLo, opts.IntHi)
	}
	g := m.GetGraph()
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	fl := newFlow(g)
	var specs []InputSpec
	for _, vi := range g.GetInput() {
		if inits[vi.GetName()] {
			continue
		}
		tt := vi.GetType().GetTensorType()
		if tt == nil {
			return nil, fmt.Errorf("graph input %q is not a tensor: random inputs need tensors (give --inputs)", vi.GetName())
		}
		dt, ok := graph.ValueTypeFromONNX(tt.GetElemType())
		if !ok {
			return nil, fmt.Errorf("graph input %q: element type %s cannot be drawn", vi.GetName(), export.DTypeName(tt.GetElemType()))
		}
		if tt.Shape == nil {
			return nil, fmt.Errorf("graph input %q has no shape: random inputs need its rank (give --inputs)", vi.GetName())
		}
		s := InputSpec{Name: vi.GetName(), DType: dt, Shape: []int{}, Lo: opts.IntLo, Hi: opts.IntHi, Why: "--int-range"}
		n := 1
		for _, d := range tt.Shape.Dim {
			size := 1
			switch x := d.GetValue().(type) {
			case *onnxpb.TensorShapeProto_Dimension_DimValue:
				size = int(x.DimValue)
			case *onnxpb.TensorShapeProto_Dimension_DimParam:
				if v, ok := opts.Dims[x.DimParam]; ok {
					size = v
				}
			}
			if size < 0 || (size > 0 && n > maxRandomElements/size) {
				return nil, fmt.Errorf("graph input %q: shape too large to draw (more than %d elements)", vi.GetName(), maxRandomElements)
			}
			n *= size
			s.Shape = append(s.Shape, size)
		}
		if b, ok := fl.bound(vi.GetName()); ok {
			s.Lo, s.Hi, s.Why, s.Ints, s.Strings = b.lo, b.hi, b.why, b.ints, b.strs
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// Draw makes one random input per spec: floats standard normal, integers
// uniform in the spec's range (or from its values), bools fair coins.
func Draw(specs []InputSpec, r *rand.Rand) map[string]*graph.Tensor {
	feed := map[string]*graph.Tensor{}
	for _, s := range specs {
		t := graph.NewTensor(s.DType, s.Shape)
		n := t.Len()
		switch {
		case s.DType == graph.Float32:
			for i := range t.F {
				t.F[i] = float32(r.NormFloat64())
			}
		case s.DType == graph.Int64:
			for i := range t.I {
				t.I[i] = s.int(r)
			}
		case s.DType == graph.Bool:
			for i := range t.B {
				t.B[i] = r.IntN(2) == 1
			}
		case s.DType == graph.String:
			for i := range t.S {
				if len(s.Strings) > 0 {
					t.S[i] = s.Strings[r.IntN(len(s.Strings))]
				} else {
					t.S[i] = fmt.Sprintf("s%d", r.IntN(10))
				}
			}
		case s.DType.IsFloat():
			v := make([]float64, n)
			for i := range v {
				v[i] = r.NormFloat64()
			}
			t = convert(v, s.DType, s.Shape)
		default:
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(s.int(r))
			}
			t = convert(v, s.DType, s.Shape)
		}
		feed[s.Name] = t
	}
	return feed
}

func (s InputSpec) int(r *rand.Rand) int64 {
	if len(s.Ints) > 0 {
		return s.Ints[r.IntN(len(s.Ints))]
	}
	return s.Lo + r.Int64N(s.Hi-s.Lo)
}

// convert builds a tensor of dt from float64 values.
func convert(v []float64, dt graph.DType, shape []int) *graph.Tensor {
	switch dt {
	case graph.Float64:
		return graph.FromSlice(shape, v)
	case graph.Float16:
		return fill(v, shape, func(x float64) graph.Half { return graph.F16(float32(x)) })
	case graph.Int32:
		return fill(v, shape, func(x float64) int32 { return int32(x) })
	case graph.Int16:
		return fill(v, shape, func(x float64) int16 { return int16(x) })
	case graph.Int8:
		return fill(v, shape, func(x float64) int8 { return int8(x) })
	case graph.Uint8:
		return fill(v, shape, func(x float64) uint8 { return uint8(x) })
	case graph.Uint16:
		return fill(v, shape, func(x float64) uint16 { return uint16(x) })
	case graph.Uint32:
		return fill(v, shape, func(x float64) uint32 { return uint32(x) })
	case graph.Uint64:
		return fill(v, shape, func(x float64) uint64 { return uint64(x) })
	}
	return graph.NewTensor(dt, shape)
}

func fill[T graph.Elem](v []float64, shape []int, f func(float64) T) *graph.Tensor {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return graph.FromSlice(shape, out)
}

// flow follows values through a graph to find the values an input
// accepts.
type flow struct {
	uses   map[string][]use
	shapes map[string][]int64 // static shapes: initializers, Constants, declared values
	consts map[string]*onnxpb.TensorProto
}

type use struct {
	node *onnxpb.NodeProto
	in   int
}

type bound struct {
	lo, hi int64
	why    string
	ints   []int64
	strs   []string
}

func newFlow(g *onnxpb.GraphProto) *flow {
	f := &flow{uses: map[string][]use{}, shapes: map[string][]int64{}, consts: map[string]*onnxpb.TensorProto{}}
	for _, t := range g.GetInitializer() {
		f.shapes[t.GetName()] = t.GetDims()
		f.consts[t.GetName()] = t
	}
	declared := append(append(append([]*onnxpb.ValueInfoProto{}, g.GetInput()...), g.GetValueInfo()...), g.GetOutput()...)
	for _, vi := range declared {
		if _, ok := f.shapes[vi.GetName()]; ok {
			continue
		}
		tt := vi.GetType().GetTensorType()
		if tt == nil || tt.Shape == nil {
			continue
		}
		var dims []int64
		for _, d := range tt.Shape.Dim {
			v, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue)
			if !ok {
				dims = nil
				break
			}
			dims = append(dims, v.DimValue)
		}
		if dims != nil || len(tt.Shape.Dim) == 0 {
			f.shapes[vi.GetName()] = dims
		}
	}
	for _, n := range g.GetNode() {
		for i, in := range n.GetInput() {
			if in != "" {
				f.uses[in] = append(f.uses[in], use{n, i})
			}
		}
		if n.GetOpType() == "Constant" && normDomain(n.GetDomain()) == "" && len(n.GetOutput()) == 1 {
			for _, a := range n.GetAttribute() {
				if a.GetName() == "value" && a.GetT() != nil {
					f.shapes[n.GetOutput()[0]] = a.GetT().GetDims()
					f.consts[n.GetOutput()[0]] = a.GetT()
				}
			}
		}
	}
	return f
}

func normDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

// passThrough ops carry an input's values (some of them) to output 0.
var passThrough = map[string]bool{
	"Cast": true, "Identity": true, "Reshape": true, "Squeeze": true, "Unsqueeze": true, "Flatten": true,
	"Expand": true, "Transpose": true, "Slice": true, "Concat": true, "Tile": true, "CastLike": true,
}

// bound follows name through pass-through ops to the uses that limit its
// values, and intersects them.
func (f *flow) bound(name string) (bound, bool) {
	var b bound
	found := false
	seen := map[string]bool{}
	var walk func(v string, depth int)
	walk = func(v string, depth int) {
		if seen[v] || depth > 16 {
			return
		}
		seen[v] = true
		for _, u := range f.uses[v] {
			n := u.node
			typ, dom := n.GetOpType(), normDomain(n.GetDomain())
			label := n.GetName()
			if label == "" {
				label = typ
			}
			var nb bound
			ok := false
			switch {
			case dom == "" && passThrough[typ] && (u.in == 0 || typ == "Concat"):
				if len(n.GetOutput()) > 0 {
					walk(n.GetOutput()[0], depth+1)
				}
			case dom == "" && (typ == "Gather" || typ == "GatherElements") && u.in == 1:
				axis := intAttr(n, "axis", 0)
				if d, ok2 := f.dim(n.GetInput()[0], axis); ok2 {
					nb, ok = bound{lo: 0, hi: d, why: fmt.Sprintf("index into dimension %d (size %d) of %s's data", axis, d, label)}, true
				}
			case dom == "" && typ == "GatherND" && u.in == 1:
				if s, ok2 := f.shapes[n.GetInput()[0]]; ok2 && len(s) > 0 {
					d := s[0]
					for _, x := range s {
						d = min(d, x)
					}
					nb, ok = bound{lo: 0, hi: d, why: fmt.Sprintf("index into %s's data (smallest dimension %d)", label, d)}, true
				}
			case dom == "" && typ == "OneHot" && u.in == 0 && len(n.GetInput()) > 1:
				if t := f.consts[n.GetInput()[1]]; t != nil {
					if d, err := export.TensorFromProto(t); err == nil && d.Len() == 1 {
						depth := int64(d.Float(0))
						nb, ok = bound{lo: 0, hi: depth, why: fmt.Sprintf("one-hot depth %d of %s", depth, label)}, true
					}
				}
			case dom == "ai.onnx.ml" && typ == "LabelEncoder" && u.in == 0:
				for _, a := range n.GetAttribute() {
					switch a.GetName() {
					case "keys_int64s":
						nb, ok = bound{ints: a.GetInts(), why: "keys of " + label}, len(a.GetInts()) > 0
					case "keys_strings":
						var s []string
						for _, x := range a.GetStrings() {
							s = append(s, string(x))
						}
						nb, ok = bound{strs: s, why: "keys of " + label}, len(s) > 0
					}
				}
			}
			if !ok || (nb.hi <= nb.lo && nb.ints == nil && nb.strs == nil) {
				continue
			}
			if !found || (nb.ints == nil && nb.strs == nil && b.ints == nil && b.strs == nil && nb.hi-nb.lo < b.hi-b.lo) {
				b = nb
			}
			found = true
		}
	}
	walk(name, 0)
	return b, found
}

func (f *flow) dim(name string, axis int64) (int64, bool) {
	s, ok := f.shapes[name]
	if !ok || s == nil {
		return 0, false
	}
	if axis < 0 {
		axis += int64(len(s))
	}
	if axis < 0 || axis >= int64(len(s)) || s[axis] <= 0 {
		return 0, false
	}
	return s[axis], true
}

func intAttr(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}
