package graph

import (
	"fmt"
	"math"
)

// This file holds NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss
// (inference forms of the training losses), Hardmax, LRN,
// MeanVarianceNormalization, GroupNormalization and Det, in float32 and
// float64 (float16 computes in float32 and rounds back). Sums are taken
// in float64 whatever the element type.
//
// Choices where ONNX leaves room:
//   - A loss target outside [0, C) that is not ignore_index is a run-time
//     error (ONNX leaves it undefined; ONNX Runtime refuses it too).
//   - The mean reduction divides by the summed weights of the targets
//     that are not ignored (the count of them without weights), so a
//     batch in which every target is ignored gives 0/0 = NaN.
//   - Hardmax counts NaN as larger than every number (numpy's argmax).
//   - MeanVarianceNormalization divides by sqrt(variance) + 1e-9, the
//     epsilon of ONNX's function body, with the variance computed as the
//     mean squared deviation (equal to ONNX's E[x²] - E[x]², without its
//     cancellation).

// ---------- NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss ----------

var nllLossDef, sceLossDef *OpDef

func lossAttrs() []AttrSpec {
	return []AttrSpec{
		{Name: "ignore_index", Type: AttrInt},
		{Name: "reduction", Type: AttrString, Default: "mean"},
	}
}

// lossInfer checks input (N, C, d1, ...), target (N, d1, ...) and the
// optional weight (C); withLogProb adds SoftmaxCrossEntropyLoss's second
// output, of input's shape.
func lossInfer(withLogProb bool) func([]Meta, Attrs) ([]Meta, error) {
	return func(in []Meta, a Attrs) ([]Meta, error) {
		x, tgt := in[0], in[1]
		if err := checkData(x, "input"); err != nil {
			return nil, err
		}
		if err := checkData(tgt, "target"); err != nil {
			return nil, err
		}
		if !x.DType.IsFloat() {
			return nil, fmt.Errorf("input must be a float tensor, got %s", x.DType)
		}
		if !isIndexType(tgt.DType) {
			return nil, fmt.Errorf("target must be int32 or int64, got %s", tgt.DType)
		}
		switch r := a.String("reduction"); r {
		case "none", "sum", "mean":
		default:
			return nil, fmt.Errorf("reduction %q is not none, sum or mean", r)
		}
		if len(x.Shape) < 2 {
			return nil, fmt.Errorf("input must have rank 2 or more (N, C, d1, ...), got shape %v", x.Shape)
		}
		if len(tgt.Shape) != len(x.Shape)-1 {
			return nil, fmt.Errorf("target has shape %v, want rank %d for input of shape %v", tgt.Shape, len(x.Shape)-1, x.Shape)
		}
		per := make([]int, len(tgt.Shape))
		for i := range per {
			xd := x.Shape[i]
			if i > 0 {
				xd = x.Shape[i+1]
			}
			td := tgt.Shape[i]
			if xd >= 0 && td >= 0 && xd != td {
				return nil, fmt.Errorf("target has shape %v, input %v: want (N, d1, ...) of input's (N, C, d1, ...)", tgt.Shape, x.Shape)
			}
			per[i] = max(xd, td)
		}
		if w, ok := optIn(in, 2); ok {
			if w.DType != x.DType {
				return nil, fmt.Errorf("weight is %s, want %s like input", w.DType, x.DType)
			}
			if len(w.Shape) != 1 || (w.Shape[0] >= 0 && x.Shape[1] >= 0 && w.Shape[0] != x.Shape[1]) {
				return nil, fmt.Errorf("weight must have shape [%d] (one per class), got %v", x.Shape[1], w.Shape)
			}
		}
		out := []Meta{{DType: x.DType, Shape: []int{}}}
		if a.String("reduction") == "none" {
			out[0].Shape = per
		}
		if withLogProb {
			out = append(out, Meta{DType: x.DType, Shape: x.Shape})
		}
		return out, nil
	}
}

// lossReduce computes the loss from log-probabilities logp of shape (N,
// C, inner) into out: -logp[n, t, i] * weight[t] per target t, reduced.
func lossReduce[T Float](logp func(i int) float64, x *Tensor, tgt, w *Tensor, a Attrs, out []T) error {
	n, c := x.Shape[0], x.Shape[1]
	inner := Size(x.Shape[2:])
	tv := indexVals(tgt)
	if len(tv) != n*inner {
		return fmt.Errorf("target has %d values, want %d", len(tv), n*inner)
	}
	var wv []float64
	if w != nil {
		if w.Len() != c {
			return fmt.Errorf("weight has %d values, want %d (classes)", w.Len(), c)
		}
		wv = vecOf(w)
	}
	ignore, hasIgnore := int64(0), a.Has("ignore_index")
	if hasIgnore {
		ignore = a.Int("ignore_index")
	}
	red := a.String("reduction")
	var sum, wsum float64
	for b := 0; b < n; b++ {
		for j := 0; j < inner; j++ {
			k := b*inner + j
			t := tv[k]
			var l, wt float64
			switch {
			case hasIgnore && t == ignore:
			case t < 0 || t >= int64(c):
				return fmt.Errorf("target value %d out of range [0, %d) (and not ignore_index)", t, c)
			default:
				wt = 1
				if wv != nil {
					wt = wv[t]
				}
				l = -logp((b*c+int(t))*inner+j) * wt
			}
			if red == "none" {
				out[k] = T(l)
			}
			sum += l
			wsum += wt
		}
	}
	switch red {
	case "sum":
		out[0] = T(sum)
	case "mean":
		out[0] = T(sum / wsum)
	}
	return nil
}

func nllLossKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	xs := Data[T](in[0])
	return lossReduce(func(i int) float64 { return float64(xs[i]) }, in[0], in[1], optT(in, 2), a, Data[T](out[0]))
}

// sceLossKernel takes log-softmax over the class axis (max subtracted
// first), writes it to the log_prob output when asked, and reduces it as
// NegativeLogLikelihoodLoss does.
func sceLossKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	n, c := x.Shape[0], x.Shape[1]
	inner := Size(x.Shape[2:])
	xs := Data[T](x)
	lp := make([]float64, len(xs))
	for b := 0; b < n; b++ {
		for j := 0; j < inner; j++ {
			p := b*c*inner + j
			m := math.Inf(-1)
			for k := 0; k < c; k++ {
				m = math.Max(m, float64(xs[p+k*inner]))
			}
			var s float64
			for k := 0; k < c; k++ {
				s += math.Exp(float64(xs[p+k*inner]) - m)
			}
			ls := math.Log(s)
			for k := 0; k < c; k++ {
				lp[p+k*inner] = float64(xs[p+k*inner]) - m - ls
			}
		}
	}
	if len(out) > 1 && out[1] != nil {
		ys := Data[T](out[1])
		for i, v := range lp {
			ys[i] = T(v)
		}
	}
	return lossReduce(func(i int) float64 { return lp[i] }, x, in[1], optT(in, 2), a, Data[T](out[0]))
}

func init() {
	lossTypes := append(append([]DType{}, FloatTypes...), Int32, Int64)
	nllLossDef = Register(&OpDef{
		Type: "NegativeLogLikelihoodLoss", Since: 12,
		// 13 only marks differentiability; 22 adds bfloat16.
		Compat:    []int{13, 22},
		MinInputs: 2, MaxInputs: 3,
		Attrs:  lossAttrs(),
		Types:  lossTypes,
		Infer:  lossInfer(false),
		Kernel: floatDispatch(nllLossKernel[float32], nllLossKernel[float64], 0),
	})
	sceLossDef = Register(&OpDef{
		Type: "SoftmaxCrossEntropyLoss", Since: 12,
		Compat:    []int{13}, // 13 adds bfloat16
		MinInputs: 2, MaxInputs: 3, Outputs: 2,
		// Not folded: the native runtime binds folded values of
		// single-output ops only.
		NoFold: true,
		Attrs:  lossAttrs(),
		Types:  lossTypes,
		Infer:  lossInfer(true),
		Kernel: floatDispatch(sceLossKernel[float32], sceLossKernel[float64], 0),
	})
}

// lossInputs drops an absent weight.
func lossInputs(x, target, weight *Node) []*Node {
	if weight == nil {
		return []*Node{x, target}
	}
	return []*Node{x, target, weight}
}

// NegativeLogLikelihoodLoss is the loss -x[n, target, d...] * weight[target]
// of log-probabilities x (N, C, d1, ...) against int targets (N, d1, ...);
// weight may be nil. attrs holds reduction ("mean" by default, "sum",
// "none") and ignore_index.
func NegativeLogLikelihoodLoss(x, target, weight *Node, attrs Attrs) *Node {
	return Apply1(nllLossDef, attrs, lossInputs(x, target, weight)...)
}

// SoftmaxCrossEntropyLoss is NegativeLogLikelihoodLoss of
// LogSoftmax(scores) over the class axis 1; it also returns that
// log-softmax (ONNX's optional log_prob output).
func SoftmaxCrossEntropyLoss(scores, labels, weight *Node, attrs Attrs) (loss, logProb *Node) {
	o := MustApply(sceLossDef, attrs, lossInputs(scores, labels, weight)...)
	return o[0], o[1]
}

// ---------- Hardmax ----------

var hardmaxDef *OpDef

func hardmaxKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	ax, err := axisInRank(a.Int("axis"), len(x.Shape))
	if err != nil {
		return err
	}
	outer, n, inner := splitAxis(x.Shape, ax)
	xs, ys := Data[T](x), Data[T](out[0])
	clear(ys)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			p := o*n*inner + i
			best := 0
			for j := 1; j < n; j++ {
				bv, v := xs[p+best*inner], xs[p+j*inner]
				if bv == bv && (v != v || v > bv) {
					best = j
				}
			}
			if n > 0 {
				ys[p+best*inner] = 1
			}
		}
	}
	return nil
}

func init() {
	// Hardmax-1 and 11 (2-D coercion at axis) are rewritten by the
	// importer (compat's softmaxLegacy) onto this form.
	hardmaxDef = Register(&OpDef{
		Type: "Hardmax", Since: 13,
		MinInputs: 1, MaxInputs: 1,
		Attrs: []AttrSpec{{Name: "axis", Type: AttrInt, Default: int64(-1)}},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if _, err := axisInRank(a.Int("axis"), len(in[0].Shape)); err != nil {
				return nil, err
			}
			return sameAsInput(in, nil)
		},
		Kernel: floatDispatch(hardmaxKernel[float32], hardmaxKernel[float64], 0),
	})
}

// Hardmax is 1 at the first maximum of x along axis and 0 elsewhere.
func Hardmax(x *Node, axis int64) *Node { return Apply1(hardmaxDef, axisAttrs(axis), x) }

// ---------- LRN ----------

var lrnDef *OpDef

func lrnKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	size := int(a.Int("size"))
	n, c, inner := x.Shape[0], x.Shape[1], Size(x.Shape[2:])
	alpha, beta, bias := float64(a.Float("alpha")), float64(a.Float("beta")), float64(a.Float("bias"))
	lo, hi := (size-1)/2, size/2 // floor and ceil of (size-1)/2
	xs, ys := Data[T](x), Data[T](out[0])
	for b := 0; b < n; b++ {
		for k := 0; k < c; k++ {
			for j := 0; j < inner; j++ {
				var ss float64
				for i := max(0, k-lo); i <= min(c-1, k+hi); i++ {
					v := float64(xs[(b*c+i)*inner+j])
					ss += v * v
				}
				p := (b*c+k)*inner + j
				ys[p] = T(float64(xs[p]) / math.Pow(bias+alpha/float64(size)*ss, beta))
			}
		}
	}
	return nil
}

func init() {
	lrnDef = Register(&OpDef{
		Type: "LRN", Since: 1, Compat: []int{13}, // 13 adds bfloat16
		MinInputs: 1, MaxInputs: 1,
		Attrs: []AttrSpec{
			{Name: "alpha", Type: AttrFloat, Default: float32(1e-4)},
			{Name: "beta", Type: AttrFloat, Default: float32(0.75)},
			{Name: "bias", Type: AttrFloat, Default: float32(1)},
			{Name: "size", Type: AttrInt, Required: true},
		},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if s := a.Int("size"); s < 1 || s > 1<<30 {
				return nil, fmt.Errorf("size %d must be positive", s)
			}
			if len(in[0].Shape) < 2 {
				return nil, fmt.Errorf("X must have rank 2 or more (N, C, ...), got shape %v", in[0].Shape)
			}
			return sameAsInput(in, nil)
		},
		Kernel: floatDispatch(lrnKernel[float32], lrnKernel[float64], 0),
	})
}

// LRN is local response normalization across channels (AlexNet): x
// divided by (bias + alpha/size * the sum of squares over the size
// neighbouring channels)^beta.
func LRN(x *Node, size int64, alpha, beta, bias float32) *Node {
	return Apply1(lrnDef, Attrs{"size": size, "alpha": alpha, "beta": beta, "bias": bias}, x)
}

// ---------- MeanVarianceNormalization ----------

var mvnDef *OpDef

// mvnAxes returns which of rank axes the axes attribute reduces.
func mvnAxes(a Attrs, rank int) ([]bool, error) {
	red := make([]bool, rank)
	for _, v := range a.Ints("axes") {
		ax, err := normAxis(v, rank)
		if err != nil {
			return nil, fmt.Errorf("axes %v: %w", a.Ints("axes"), err)
		}
		if red[ax] {
			return nil, fmt.Errorf("axes %v repeats axis %d", a.Ints("axes"), ax)
		}
		red[ax] = true
	}
	return red, nil
}

// groupOf gives each element of a tensor of shape the flat index of its
// position over the axes not in red (the statistics it shares).
func groupOf(shape []int, red []bool) (groups []int, count int) {
	n := Size(shape)
	groups = make([]int, n)
	kst := make([]int, len(shape)) // strides over the kept axes
	count = 1
	for i := len(shape) - 1; i >= 0; i-- {
		if !red[i] {
			kst[i] = count
			count *= shape[i]
		}
	}
	idx := make([]int, len(shape))
	g := 0
	for f := 0; f < n; f++ {
		groups[f] = g
		for i := len(shape) - 1; i >= 0; i-- {
			idx[i]++
			g += kst[i]
			if idx[i] < shape[i] {
				break
			}
			g -= kst[i] * idx[i]
			idx[i] = 0
		}
	}
	return groups, count
}

func mvnKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	red, err := mvnAxes(a, len(x.Shape))
	if err != nil {
		return err
	}
	groups, ng := groupOf(x.Shape, red)
	xs, ys := Data[T](x), Data[T](out[0])
	sum, ss, cnt := make([]float64, ng), make([]float64, ng), make([]float64, ng)
	for f, v := range xs {
		sum[groups[f]] += float64(v)
		cnt[groups[f]]++
	}
	for g := range sum {
		sum[g] /= cnt[g]
	}
	for f, v := range xs {
		d := float64(v) - sum[groups[f]]
		ss[groups[f]] += d * d
	}
	for g := range ss {
		ss[g] = math.Sqrt(ss[g]/cnt[g]) + 1e-9
	}
	for f, v := range xs {
		g := groups[f]
		ys[f] = T((float64(v) - sum[g]) / ss[g])
	}
	return nil
}

func init() {
	mvnDef = Register(&OpDef{
		Type: "MeanVarianceNormalization", Since: 9, Compat: []int{13}, // 13 adds bfloat16
		MinInputs: 1, MaxInputs: 1,
		Attrs: []AttrSpec{{Name: "axes", Type: AttrInts, Default: []int64{0, 2, 3}}},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if _, err := mvnAxes(a, len(in[0].Shape)); err != nil {
				return nil, err
			}
			return sameAsInput(in, nil)
		},
		Kernel: floatDispatch(mvnKernel[float32], mvnKernel[float64], 0),
	})
}

// MeanVarianceNormalization is (x - mean) / std with the statistics taken
// over axes (nil: ONNX's default 0, 2, 3, per channel of an NCHW tensor).
func MeanVarianceNormalization(x *Node, axes []int64) *Node {
	var at Attrs
	if axes != nil {
		at = Attrs{"axes": axes}
	}
	return Apply1(mvnDef, at, x)
}

// ---------- GroupNormalization ----------

var groupNormDef *OpDef

// groupNormCheck checks X (N, C, ...) and num_groups; it returns C.
func groupNormCheck(xs []int, a Attrs) (int, error) {
	if len(xs) < 2 {
		return 0, fmt.Errorf("X must have rank 2 or more (N, C, ...), got shape %v", xs)
	}
	g := a.Int("num_groups")
	c := xs[1]
	if g < 1 || c >= 0 && (g > int64(c) || int64(c)%g != 0) {
		return 0, fmt.Errorf("num_groups %d must be positive and divide the %d channels", g, c)
	}
	if st := a.Int("stash_type"); st != 1 && st != 11 {
		return 0, unsupportedf("stash_type %d (odmn computes in float (1) or double (11))", st)
	}
	return c, nil
}

func groupNormKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	c, err := groupNormCheck(x.Shape, a)
	if err != nil {
		return err
	}
	if in[1].Len() != c || in[2].Len() != c {
		return fmt.Errorf("scale and bias must have %d values (channels), got %d and %d", c, in[1].Len(), in[2].Len())
	}
	scale, bias := vecOf(in[1]), vecOf(in[2])
	g := int(a.Int("num_groups"))
	stash32 := a.Int("stash_type") == 1
	// stage is stage one's precision: stash_type 1 is float32.
	stage := func(v float64) float64 {
		if stash32 {
			return float64(float32(v))
		}
		return v
	}
	n, inner := x.Shape[0], Size(x.Shape[2:])
	per := c / g * inner // one group's elements, contiguous
	xs, ys := Data[T](x), Data[T](out[0])
	eps := float64(a.Float("epsilon"))
	for b := 0; b < n*g; b++ {
		row, yr := xs[b*per:(b+1)*per], ys[b*per:(b+1)*per]
		var sum float64
		for _, v := range row {
			sum += stage(float64(v))
		}
		mean := sum / float64(per)
		var ss float64
		for _, v := range row {
			d := stage(float64(v)) - mean
			ss += d * d
		}
		sd := math.Sqrt(ss/float64(per) + eps)
		for j, v := range row {
			k := (b%g)*(c/g) + j/inner
			yr[j] = T(stage((stage(float64(v))-mean)/sd)*scale[k] + bias[k])
		}
	}
	return nil
}

func init() {
	groupNormDef = Register(&OpDef{
		// 21's scale and bias are per channel; 18's per group, which
		// the importer rewrites (compat's groupNormLegacy).
		Type: "GroupNormalization", Since: 21,
		MinInputs: 3, MaxInputs: 3,
		Attrs: []AttrSpec{
			{Name: "epsilon", Type: AttrFloat, Default: float32(1e-5)},
			{Name: "num_groups", Type: AttrInt, Required: true},
			{Name: "stash_type", Type: AttrInt, Default: int64(1)},
		},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if err := sameFloat("GroupNormalization", in, 1, 2); err != nil {
				return nil, err
			}
			c, err := groupNormCheck(in[0].Shape, a)
			if err != nil {
				return nil, err
			}
			for i, name := range []string{"scale", "bias"} {
				m := in[i+1]
				if len(m.Shape) != 1 || (c >= 0 && m.Shape[0] >= 0 && m.Shape[0] != c) {
					return nil, fmt.Errorf("%s must have shape [%d] (one per channel), got %v", name, c, m.Shape)
				}
			}
			return sameAsInput(in, nil)
		},
		Kernel: floatDispatch(groupNormKernel[float32], groupNormKernel[float64], 0),
	})
}

// GroupNormalization normalizes x (N, C, ...) over each group of
// C/numGroups channels of each sample, then scales and shifts per channel
// (scale and bias have shape [C]).
func GroupNormalization(x, scale, bias *Node, numGroups int64, epsilon float32) *Node {
	return Apply1(groupNormDef, Attrs{"num_groups": numGroups, "epsilon": epsilon}, x, scale, bias)
}

// ---------- Det ----------

var detDef *OpDef

// detLU is the determinant of the m×m matrix a (row-major, overwritten)
// by LU decomposition with partial pivoting.
func detLU(a []float64, m int) float64 {
	det := 1.0
	for k := 0; k < m; k++ {
		p := k
		for i := k + 1; i < m; i++ {
			if math.Abs(a[i*m+k]) > math.Abs(a[p*m+k]) {
				p = i
			}
		}
		piv := a[p*m+k]
		if piv == 0 {
			return 0
		}
		if p != k {
			for j := 0; j < m; j++ {
				a[k*m+j], a[p*m+j] = a[p*m+j], a[k*m+j]
			}
			det = -det
		}
		det *= piv
		for i := k + 1; i < m; i++ {
			f := a[i*m+k] / piv
			if f == 0 {
				continue
			}
			for j := k + 1; j < m; j++ {
				a[i*m+j] -= f * a[k*m+j]
			}
		}
	}
	return det
}

func detKernel[T Float](in []*Tensor, _ Attrs, out []*Tensor) error {
	x := in[0]
	r := len(x.Shape)
	m := x.Shape[r-1]
	xs, ys := Data[T](x), Data[T](out[0])
	buf := make([]float64, m*m)
	for b := range ys {
		for i, v := range xs[b*m*m : (b+1)*m*m] {
			buf[i] = float64(v)
		}
		ys[b] = T(detLU(buf, m))
	}
	return nil
}

func init() {
	detDef = Register(&OpDef{
		Type: "Det", Since: 11, Compat: []int{22}, // 22 adds bfloat16
		MinInputs: 1, MaxInputs: 1,
		Types: FloatTypes,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			s := in[0].Shape
			r := len(s)
			if r < 2 {
				return nil, fmt.Errorf("X must have rank 2 or more ([*, M, M]), got shape %v", s)
			}
			if s[r-1] >= 0 && s[r-2] >= 0 && s[r-1] != s[r-2] {
				return nil, fmt.Errorf("X must hold square matrices ([*, M, M]), got shape %v", s)
			}
			return []Meta{{DType: in[0].DType, Shape: append([]int{}, s[:r-2]...)}}, nil
		},
		Kernel: floatDispatch(detKernel[float32], detKernel[float64], 0),
	})
}

// Det is the determinant of each square matrix in the last two axes of x.
func Det(x *Node) *Node { return Apply1(detDef, nil, x) }
