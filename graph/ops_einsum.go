package graph

import (
	"fmt"
	"slices"
	"strings"
)

// Einsum (opset 12) evaluates an Einstein-summation equation over its
// operands. Each operand is first read as a strided view whose repeated
// labels (diagonals) share one axis with the sum of their strides. The
// operands are then contracted left to right, each pair as a batched
// matrix product: A is gathered as [batch, A-only, summed] and B as
// [batch, summed, B-only], and MatMul's GEMM code (Sgemm for float32,
// gemmT for the other types) multiplies them. Labels that only one
// operand has and nothing later needs are summed while gathering. When a
// pair's gathered operands or product would be much larger than the final
// output (outer products that a later operand reduces), the general
// fallback evaluates the whole equation directly, one output element at a
// time, summing over every other label: slower but with no intermediate
// (and refused when its work, the product of every label's size, passes
// 2^30).
//
// Ellipsis dimensions get internal labels (bytes below 'A'); every
// ellipsis stands for the same number of dimensions (as ONNX requires),
// which broadcast where one operand has size 1. Named labels must have the same size in every operand. Integer
// products wrap as in two's complement; float16 computes in float32.

// einsumEq is a parsed equation: per operand its labels (one per
// dimension, ellipsis dimensions as bytes 0..ell-1), and the output labels.
type einsumEq struct {
	in  [][]byte
	out []byte
	ell int // number of ellipsis dimensions (the largest over operands)
}

func isLabel(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// parseTerm splits a term into its letters around an optional ellipsis;
// it returns the letters before and after the ellipsis and whether there
// is one.
func parseTerm(t string) (pre, post []byte, hasEll bool, err error) {
	t = strings.ReplaceAll(t, " ", "")
	i := strings.Index(t, "...")
	if i >= 0 {
		hasEll = true
		pre, post = []byte(t[:i]), []byte(t[i+3:])
		if strings.Contains(string(post), ".") {
			return nil, nil, false, fmt.Errorf("term %q has more than one ellipsis", t)
		}
	} else {
		pre = []byte(t)
	}
	for _, c := range append(append([]byte{}, pre...), post...) {
		if !isLabel(c) {
			return nil, nil, false, fmt.Errorf("term %q has character %q (labels are letters)", t, c)
		}
	}
	return pre, post, hasEll, nil
}

// parseEinsum parses equation for operands of the given ranks (-1: rank
// unknown is not allowed; every operand's rank is known at build time).
func parseEinsum(eq string, ranks []int) (*einsumEq, error) {
	lhs, rhs, explicit := strings.Cut(eq, "->")
	if strings.Contains(rhs, "->") {
		return nil, fmt.Errorf("equation %q has more than one \"->\"", eq)
	}
	terms := strings.Split(lhs, ",")
	if len(terms) != len(ranks) {
		return nil, fmt.Errorf("equation %q has %d operand terms for %d inputs", eq, len(terms), len(ranks))
	}
	e := &einsumEq{in: make([][]byte, len(terms))}
	type split struct {
		pre, post []byte
		ell       bool
	}
	sp := make([]split, len(terms))
	for i, t := range terms {
		pre, post, ell, err := parseTerm(t)
		if err != nil {
			return nil, err
		}
		named := len(pre) + len(post)
		if ell {
			n := ranks[i] - named
			if n < 0 {
				return nil, fmt.Errorf("term %q names %d dimensions, input %d has rank %d", t, named, i, ranks[i])
			}
			e.ell = max(e.ell, n)
		} else if named != ranks[i] {
			return nil, fmt.Errorf("term %q names %d dimensions, input %d has rank %d", t, named, i, ranks[i])
		}
		sp[i] = split{pre, post, ell}
	}
	for i, s := range sp {
		l := append([]byte{}, s.pre...)
		if s.ell {
			n := ranks[i] - len(s.pre) - len(s.post)
			if n != e.ell {
				return nil, fmt.Errorf("the ellipsis of term %q stands for %d dimensions, another for %d (they must agree)", terms[i], n, e.ell)
			}
			for k := 0; k < n; k++ {
				l = append(l, byte(k))
			}
		}
		e.in[i] = append(l, s.post...)
	}
	if explicit {
		pre, post, ell, err := parseTerm(rhs)
		if err != nil {
			return nil, err
		}
		out := append([]byte{}, pre...)
		if ell {
			for k := 0; k < e.ell; k++ {
				out = append(out, byte(k))
			}
		}
		out = append(out, post...)
		seen := map[byte]bool{}
		for _, c := range append(pre, post...) {
			if seen[c] {
				return nil, fmt.Errorf("output term %q repeats label %q", rhs, c)
			}
			seen[c] = true
			found := false
			for _, l := range e.in {
				if slices.Contains(l, c) {
					found = true
				}
			}
			if !found {
				return nil, fmt.Errorf("output label %q is not in any input term", c)
			}
		}
		e.out = out
		return e, nil
	}
	// Implicit: ellipsis dimensions, then the letters seen exactly once, in
	// ASCII order.
	count := map[byte]int{}
	for _, l := range e.in {
		for _, c := range l {
			if isLabel(c) {
				count[c]++
			}
		}
	}
	for k := 0; k < e.ell; k++ {
		e.out = append(e.out, byte(k))
	}
	var once []byte
	for c, n := range count {
		if n == 1 {
			once = append(once, c)
		}
	}
	slices.Sort(once)
	e.out = append(e.out, once...)
	return e, nil
}

// labelSizes merges the sizes of every label over the operands (-1:
// unknown); ellipsis labels broadcast (size 1 against n), letters must agree.
func (e *einsumEq) labelSizes(shapes [][]int) (map[byte]int, error) {
	size := map[byte]int{}
	for i, l := range e.in {
		for j, c := range l {
			d := shapes[i][j]
			old, ok := size[c]
			switch {
			case !ok || old == d:
				size[c] = d
			case d < 0:
			case old < 0:
				size[c] = d
			case !isLabel(c) && old == 1:
				size[c] = d
			case !isLabel(c) && d == 1:
			default:
				return nil, fmt.Errorf("label %s has size %d in input %d but %d elsewhere", labelName(c), d, i, old)
			}
		}
	}
	return size, nil
}

func labelName(c byte) string {
	if isLabel(c) {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("ellipsis dimension %d", c)
}

var einsumDef *OpDef

var einsumTypes = AllNumeric

func init() {
	einsumDef = Register(&OpDef{
		Type: "Einsum", Since: 12,
		MinInputs: 1, MaxInputs: -1,
		Types: einsumTypes,
		Attrs: []AttrSpec{{Name: "equation", Type: AttrString, Required: true}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			shapes := make([][]int, len(in))
			ranks := make([]int, len(in))
			for i, m := range in {
				if err := checkData(m, fmt.Sprintf("input %d", i)); err != nil {
					return nil, err
				}
				if m.DType != in[0].DType {
					return nil, fmt.Errorf("input %d is %s, input 0 is %s (they must agree)", i, m.DType, in[0].DType)
				}
				shapes[i], ranks[i] = m.Shape, len(m.Shape)
			}
			e, err := parseEinsum(a.String("equation"), ranks)
			if err != nil {
				return nil, err
			}
			size, err := e.labelSizes(shapes)
			if err != nil {
				return nil, err
			}
			out := make([]int, len(e.out))
			for i, c := range e.out {
				d, ok := size[c]
				if !ok {
					d = 1 // an ellipsis dimension no input has (none)
				}
				out[i] = d
			}
			return []Meta{{DType: in[0].DType, Shape: out}}, nil
		},
		Kernel: Dispatch{
			Float32: einsumKernel[float32], Float64: einsumKernel[float64], Float16: viaFloat32(einsumKernel[float32]),
			Int8: einsumKernel[int8], Int16: einsumKernel[int16], Int32: einsumKernel[int32], Int64: einsumKernel[int64],
			Uint8: einsumKernel[uint8], Uint16: einsumKernel[uint16], Uint32: einsumKernel[uint32], Uint64: einsumKernel[uint64],
		}.On(0),
	})
}

// einView is an operand read through strides: one axis per distinct label
// (a repeated label's axes merged into one with the sum of their strides;
// a broadcast axis has stride 0).
type einView[T Number] struct {
	data    []T
	labels  []byte
	dims    []int
	strides []int
}

// newEinView makes the view of tensor data with labels l, broadcasting
// its size-1 axes to size where the merged size differs.
func newEinView[T Number](data []T, shape []int, l []byte, size map[byte]int) (einView[T], error) {
	st := stridesOf(shape)
	var v einView[T]
	v.data = data
	for j, c := range l {
		if k := slices.Index(v.labels, c); k >= 0 {
			if v.dims[k] != shape[j] {
				return v, fmt.Errorf("repeated label %s has sizes %d and %d", labelName(c), v.dims[k], shape[j])
			}
			v.strides[k] += st[j]
			continue
		}
		d, s := shape[j], st[j]
		if d == 1 && size[c] != 1 {
			d, s = size[c], 0
		}
		v.labels = append(v.labels, c)
		v.dims = append(v.dims, d)
		v.strides = append(v.strides, s)
	}
	return v, nil
}

// gatherSum materializes v as a contiguous tensor over labels target (all
// of which v has), summing over v's other labels.
func gatherSum[T Number](v einView[T], target []byte) ([]T, []int) {
	var oDims, oSt, rDims, rSt []int
	for _, c := range target {
		k := slices.Index(v.labels, c)
		oDims, oSt = append(oDims, v.dims[k]), append(oSt, v.strides[k])
	}
	for k, c := range v.labels {
		if !slices.Contains(target, c) {
			rDims, rSt = append(rDims, v.dims[k]), append(rSt, v.strides[k])
		}
	}
	out := make([]T, Size(oDims))
	nr := Size(rDims)
	oIdx := make([]int, len(oDims))
	rIdx := make([]int, len(rDims))
	base := 0
	for i := range out {
		var s T
		if nr > 0 {
			clear(rIdx)
			off := base
			for r := 0; r < nr; r++ {
				s += v.data[off]
				off = odometer(rIdx, rDims, rSt, off)
			}
		}
		out[i] = s
		base = odometer(oIdx, oDims, oSt, base)
	}
	return out, oDims
}

// odometer advances idx (over dims) by one and returns the offset moved
// by strides accordingly.
func odometer(idx, dims, strides []int, off int) int {
	for a := len(idx) - 1; a >= 0; a-- {
		idx[a]++
		off += strides[a]
		if idx[a] < dims[a] {
			return off
		}
		off -= idx[a] * strides[a]
		idx[a] = 0
	}
	return off
}

// einsumLimit bounds the elements of each intermediate the matrix-product
// path makes, to a multiple of the elements of the operands and the output
// (at least 2^16), beyond which the direct fallback is used instead: an
// intermediate larger than that is an outer product a later operand
// reduces, which the direct evaluation does without storing.
func einsumLimit(in []*Tensor, outLen int) int {
	n := outLen
	for _, t := range in {
		n += t.Len()
	}
	return max(1<<16, 4*n)
}

// einsumDirectLimit bounds the direct fallback's work (products summed);
// beyond it the kernel refuses rather than run for minutes.
const einsumDirectLimit = 1 << 30

func einsumKernel[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	ranks := make([]int, len(in))
	shapes := make([][]int, len(in))
	for i, t := range in {
		ranks[i], shapes[i] = len(t.Shape), t.Shape
	}
	e, err := parseEinsum(a.String("equation"), ranks)
	if err != nil {
		return err
	}
	size, err := e.labelSizes(shapes)
	if err != nil {
		return err
	}
	views := make([]einView[T], len(in))
	for i, t := range in {
		if views[i], err = newEinView(Data[T](t), t.Shape, e.in[i], size); err != nil {
			return err
		}
	}
	y := Data[T](out[0])
	limit := einsumLimit(in, len(y))
	if data, ok := einsumPairs(views, e.out, limit); ok {
		copy(y, data)
		return nil
	}
	// The fallback's work is the product of every label's size.
	dims := make([]int, 0, len(size))
	for _, d := range size {
		dims = append(dims, d)
	}
	if _, ok := SizeWithin(dims, einsumDirectLimit); !ok {
		return fmt.Errorf("equation %q: contracting the operands in order needs an intermediate beyond %d elements, and evaluating it directly %.3g multiply-adds (too large)",
			a.String("equation"), limit, SizeFloat(dims))
	}
	einsumDirect(views, e.out, size, y)
	return nil
}

// einsumPairs contracts the views left to right as batched matrix products
// and returns the output in e.out's order; ok is false when an
// intermediate would be too large (the caller falls back).
func einsumPairs[T Number](views []einView[T], outL []byte, limit int) ([]T, bool) {
	acc := views[0]
	for i := 1; i < len(views); i++ {
		b := views[i]
		// Labels needed after this pair: the output's and later operands'.
		keep := func(c byte) bool {
			if slices.Contains(outL, c) {
				return true
			}
			for _, v := range views[i+1:] {
				if slices.Contains(v.labels, c) {
					return true
				}
			}
			return false
		}
		var batch, aOnly, sum, bOnly []byte
		for _, c := range acc.labels {
			inB := slices.Contains(b.labels, c)
			switch {
			case inB && keep(c):
				batch = append(batch, c)
			case inB:
				sum = append(sum, c)
			case keep(c):
				aOnly = append(aOnly, c)
			}
		}
		for _, c := range b.labels {
			if !slices.Contains(acc.labels, c) && keep(c) {
				bOnly = append(bOnly, c)
			}
		}
		span := func(v einView[T], ls []byte) int {
			n := 1
			for _, c := range ls {
				d := v.dims[slices.Index(v.labels, c)]
				if d != 0 && n > limit/d {
					return limit + 1
				}
				n *= d
			}
			return n
		}
		nb, m, k, n := span(acc, batch), span(acc, aOnly), span(acc, sum), span(b, bOnly)
		if _, ok := SizeWithin([]int{nb, m, k}, limit); !ok {
			return nil, false
		}
		if _, ok := SizeWithin([]int{nb, k, n}, limit); !ok {
			return nil, false
		}
		if _, ok := SizeWithin([]int{nb, m, n}, limit); !ok {
			return nil, false
		}
		ad, aDims := gatherSum(acc, slices.Concat(batch, aOnly, sum))
		bd, bDims := gatherSum(b, slices.Concat(batch, sum, bOnly))
		c := make([]T, nb*m*n)
		if m*n > 0 {
			for t := 0; t < nb; t++ {
				matmulT(m, n, k, ad[t*m*k:], bd[t*k*n:], c[t*m*n:])
			}
		}
		labels := slices.Concat(batch, aOnly, bOnly)
		dims := slices.Concat(aDims[:len(batch)+len(aOnly)], bDims[len(batch)+len(sum):])
		acc = einView[T]{data: c, labels: labels, dims: dims, strides: stridesOf(dims)}
	}
	data, _ := gatherSum(acc, outL)
	return data, true
}

// matmulT is C = A·B for row-major contiguous A (m×k), B (k×n), C (m×n):
// Sgemm for float32, gemmT for the other types.
func matmulT[T Number](m, n, k int, a, b, c []T) {
	if af, ok := any(a).([]float32); ok {
		Sgemm(false, false, m, n, k, 1, af, k, any(b).([]float32), n, 0, any(c).([]float32), n)
		return
	}
	gemmT(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
}

// einsumDirect is the general fallback: every output element is the sum,
// over all assignments of the labels not in the output, of the product of
// the operands' elements.
func einsumDirect[T Number](views []einView[T], outL []byte, size map[byte]int, y []T) {
	var rest []byte
	for _, v := range views {
		for _, c := range v.labels {
			if !slices.Contains(outL, c) && !slices.Contains(rest, c) {
				rest = append(rest, c)
			}
		}
	}
	all := slices.Concat(outL, rest)
	dims := make([]int, len(all))
	for i, c := range all {
		dims[i] = size[c]
	}
	// st[v][i]: operand v's stride for label all[i] (0 when it lacks it).
	st := make([][]int, len(views))
	for vi, v := range views {
		st[vi] = make([]int, len(all))
		for i, c := range all {
			if k := slices.Index(v.labels, c); k >= 0 {
				st[vi][i] = v.strides[k]
			}
		}
	}
	no := len(outL)
	nr := Size(dims[no:])
	idx := make([]int, len(all))
	off := make([]int, len(views))
	for o := range y {
		var s T
		for r := 0; r < nr; r++ {
			p := T(1)
			for vi, v := range views {
				p *= v.data[off[vi]]
			}
			s += p
			// Advance the summed labels (the tail of idx).
			for a := len(all) - 1; a >= no; a-- {
				idx[a]++
				for vi := range views {
					off[vi] += st[vi][a]
				}
				if idx[a] < dims[a] || a == no {
					break
				}
				for vi := range views {
					off[vi] -= idx[a] * st[vi][a]
				}
				idx[a] = 0
			}
		}
		// Rewind the summed labels and advance the output labels.
		for a := no; a < len(all); a++ {
			for vi := range views {
				off[vi] -= idx[a] * st[vi][a]
			}
			idx[a] = 0
		}
		for a := no - 1; a >= 0; a-- {
			idx[a]++
			for vi := range views {
				off[vi] += st[vi][a]
			}
			if idx[a] < dims[a] {
				break
			}
			for vi := range views {
				off[vi] -= idx[a] * st[vi][a]
			}
			idx[a] = 0
		}
		y[o] = s
	}
}

// Einsum evaluates equation (numpy's einsum notation, with "..." and an
// optional "->output") over the operands.
func Einsum(equation string, operands ...*Node) *Node {
	return Apply1(einsumDef, Attrs{"equation": equation}, operands...)
}
