package graph

import (
	"fmt"
	"math"
)

// This file holds the transformer building blocks of opsets 23 to 25:
// Attention, RMSNormalization, RotaryEmbedding, Swish and TensorScatter,
// for inference. Float16 computes in float32 and rounds back.

// ---------- Swish ----------

var swishDef *OpDef

func init() {
	// Swish(x) = x·sigmoid(alpha·x), computed in float64.
	swishDef = attrFloatDef("Swish", 24, nil, []AttrSpec{fattr("alpha", 1)}, func(a Attrs) func(float64) float64 {
		alpha := af(a, "alpha")
		return func(x float64) float64 { return x / (1 + math.Exp(-alpha*x)) }
	})
}

// Swish is x·sigmoid(alpha·x) (SiLU when alpha is 1).
func Swish(x *Node, alpha float32) *Node { return Apply1(swishDef, Attrs{"alpha": alpha}, x) }

// ---------- RMSNormalization ----------

var rmsNormDef *OpDef

func init() {
	rmsNormDef = Register(&OpDef{
		Type: "RMSNormalization", Since: 23,
		MinInputs: 2, MaxInputs: 2,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(-1)},
			{Name: "epsilon", Type: AttrFloat, Default: float32(1e-5)},
			{Name: "stash_type", Type: AttrInt, Default: int64(1)},
		},
		Types: FloatTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if st := a.Int("stash_type"); st != 1 {
				return nil, unsupported("RMSNormalization", "stash_type %d (only 1, float32)", st)
			}
			x, s := in[0], in[1]
			ax, err := redAxis(a.Int("axis"), len(x.Shape))
			if err != nil {
				return nil, err
			}
			if !unidirectionalMaybe(s.Shape, x.Shape[ax:]) {
				return nil, fmt.Errorf("scale of shape %v does not broadcast to the normalized shape %v", s.Shape, x.Shape[ax:])
			}
			// Y has scale's type (V), which may differ from X's (T).
			return []Meta{{DType: s.DType, Shape: x.Shape}}, nil
		},
		Kernel: rmsNormKernel,
	})
}

// unidirectionalMaybe is unidirectional for build-time shapes: unknown
// dimensions (-1) match anything.
func unidirectionalMaybe(s, target []int) bool {
	if len(s) > len(target) {
		return false
	}
	off := len(target) - len(s)
	for i, d := range s {
		t := target[off+i]
		if d != 1 && d >= 0 && t >= 0 && d != t {
			return false
		}
	}
	return true
}

// rmsNormKernel follows the function body with stash_type 1: X is read as
// float32, X/sqrt(mean(X²)+epsilon) is computed (in float64, then rounded
// to float32) and rounded to X's type, then multiplied by scale in
// scale's type.
func rmsNormKernel(in []*Tensor, a Attrs, out []*Tensor) error {
	x, s, y := in[0], in[1], out[0]
	ax, err := redAxis(a.Int("axis"), len(x.Shape))
	if err != nil {
		return err
	}
	norm := x.Shape[ax:]
	if !unidirectional(s.Shape, norm) {
		return fmt.Errorf("scale of shape %v does not broadcast to the normalized shape %v", s.Shape, norm)
	}
	scale := bcastVec(s, norm)
	d, rows := Size(norm), Size(x.Shape[:ax])
	eps := float64(a.Float("epsilon"))
	round := func(v float64) float64 { return float64(float32(v)) }
	if x.DType == Float16 {
		round = func(v float64) float64 { return float64(F16(float32(v)).Float32()) }
	}
	xs := make([]float64, d)
	for r := 0; r < rows; r++ {
		var ss float64
		for j := range xs {
			v := float64(float32(x.Float(r*d + j)))
			xs[j] = v
			ss += v * v
		}
		inv := 1 / float64(float32(math.Sqrt(float64(float32(ss/float64(d)+eps)))))
		for j, v := range xs {
			setFloat(y, r*d+j, round(v*inv)*scale[j])
		}
	}
	return nil
}

// setFloat stores v, rounded, at element i of a float tensor.
func setFloat(t *Tensor, i int, v float64) {
	switch t.DType {
	case Float32:
		t.F[i] = float32(v)
	case Float64:
		Data[float64](t)[i] = v
	case Float16:
		Data[Half](t)[i] = F16(float32(v))
	}
}

// RMSNormalization divides x by the root mean square over the axes from
// axis on (plus epsilon under the root) and multiplies by scale.
func RMSNormalization(x, scale *Node, axis int64, epsilon float32) *Node {
	return Apply1(rmsNormDef, Attrs{"axis": axis, "epsilon": epsilon}, x, scale)
}

// ---------- RotaryEmbedding ----------

var rotaryDef *OpDef

func init() {
	rotaryDef = Register(&OpDef{
		Type: "RotaryEmbedding", Since: 23,
		MinInputs: 3, MaxInputs: 4,
		Attrs: []AttrSpec{
			{Name: "interleaved", Type: AttrInt, Default: int64(0)},
			{Name: "num_heads", Type: AttrInt, Default: int64(0)},
			{Name: "rotary_embedding_dim", Type: AttrInt, Default: int64(0)},
		},
		// ONNX allows float32, float16 and bfloat16 (no float64).
		Types: []DType{Float32, Float16, Int64},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if _, err := rotaryLayout(in, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: in[0].DType, Shape: in[0].Shape}}, nil
		},
		Kernel: Dispatch{Float32: rotaryKernel, Float16: viaFloat32(rotaryKernel)}.On(0),
	})
}

// rotary is RotaryEmbedding's layout: X as [B, S, H, D] with strides (it
// is [B, H, S, D] in 4-D form), rd the rotated width.
type rotary struct {
	b, s, h, d, rd   int
	sb, ss, sh       int // strides of X's b, s, h axes
	pos, interleaved bool
	cosRows          int
}

// rotaryLayout checks RotaryEmbedding's inputs (dims of -1 pass).
func rotaryLayout(in []Meta, a Attrs) (rotary, error) {
	var r rotary
	x, cm, sm := in[0], in[1], in[2]
	if x.DType == Int64 {
		return r, fmt.Errorf("X must be float, got %s", x.DType)
	}
	if cm.DType != x.DType || sm.DType != x.DType {
		return r, fmt.Errorf("cos_cache (%s) and sin_cache (%s) must have X's type %s", cm.DType, sm.DType, x.DType)
	}
	nh := a.Int("num_heads")
	if nh < 0 || nh > maxElements {
		return r, fmt.Errorf("num_heads %d out of range", nh)
	}
	switch len(x.Shape) {
	case 4:
		r.b, r.h, r.s, r.d = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		if nh != 0 && r.h >= 0 && int(nh) != r.h {
			return r, fmt.Errorf("num_heads %d differs from X's head dimension %d", nh, r.h)
		}
		r.sh, r.ss = r.s*r.d, r.d
		r.sb = r.h * r.sh
	case 3:
		if nh == 0 {
			return r, fmt.Errorf("num_heads is required with a 3-D X")
		}
		r.b, r.s, r.h = x.Shape[0], x.Shape[1], int(nh)
		hid := x.Shape[2]
		r.d = -1
		if hid >= 0 {
			if hid%r.h != 0 {
				return r, fmt.Errorf("hidden size %d is not a multiple of num_heads %d", hid, nh)
			}
			r.d = hid / r.h
		}
		r.sh, r.ss = r.d, hid
		r.sb = r.s * hid
	default:
		return r, fmt.Errorf("X must be 3-D or 4-D, got shape %v", x.Shape)
	}
	r.rd = int(min(a.Int("rotary_embedding_dim"), maxElements))
	if r.rd < 0 {
		return r, fmt.Errorf("rotary_embedding_dim %d is negative", r.rd)
	}
	if r.rd == 0 {
		r.rd = r.d
	}
	if r.d >= 0 {
		if r.rd > r.d {
			return r, fmt.Errorf("rotary_embedding_dim %d exceeds the head size %d", r.rd, r.d)
		}
		if r.rd%2 != 0 {
			return r, fmt.Errorf("the rotated width %d must be even", r.rd)
		}
	}
	pm, hasPos := optIn(in, 3)
	r.pos = hasPos
	r.interleaved = a.Int("interleaved") != 0
	want := 3
	if hasPos {
		if pm.DType != Int64 {
			return r, fmt.Errorf("position_ids must be int64, got %s", pm.DType)
		}
		if len(pm.Shape) != 2 || !dimsAgree(pm.Shape, []int{r.b, r.s}) {
			return r, fmt.Errorf("position_ids must have shape [%d %d] (batch, sequence), got %v", r.b, r.s, pm.Shape)
		}
		want = 2
	}
	for _, c := range []Meta{cm, sm} {
		if len(c.Shape) != want {
			return r, fmt.Errorf("cos_cache and sin_cache must be %d-D here, got shape %v", want, c.Shape)
		}
		half := -1
		if r.rd >= 0 {
			half = r.rd / 2
		}
		if want == 3 && !dimsAgree(c.Shape, []int{r.b, r.s, half}) || want == 2 && !dimsAgree(c.Shape[1:], []int{half}) {
			return r, fmt.Errorf("cos_cache and sin_cache shape %v does not fit batch %d, sequence %d and half the rotated width %d", c.Shape, r.b, r.s, half)
		}
	}
	if !dimsAgree(cm.Shape, sm.Shape) {
		return r, fmt.Errorf("cos_cache %v and sin_cache %v differ in shape", cm.Shape, sm.Shape)
	}
	r.cosRows = cm.Shape[0]
	return r, nil
}

// dimsAgree compares shapes of equal rank where -1 matches anything.
func dimsAgree(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] >= 0 && b[i] >= 0 && a[i] != b[i] {
			return false
		}
	}
	return true
}

// rotaryKernel rotates the first rd values of every head: pairs (x1, x2)
// (halves, or even/odd elements when interleaved) become
// (cos·x1 − sin·x2, sin·x1 + cos·x2), in float32 as ONNX Runtime.
func rotaryKernel(in []*Tensor, a Attrs, out []*Tensor) error {
	r, err := rotaryLayout([]Meta{tMeta(in[0]), tMeta(in[1]), tMeta(in[2]), tMeta(optT(in, 3))}, a)
	if err != nil {
		return err
	}
	x, y, cs, sn := in[0].F, out[0].F, in[1].F, in[2].F
	copy(y, x)
	half := r.rd / 2
	var pos []int64
	if r.pos {
		pos = in[3].I
	}
	for b := 0; b < r.b; b++ {
		for s := 0; s < r.s; s++ {
			row := b*r.s + s // cos row without position_ids
			if pos != nil {
				p := pos[b*r.s+s]
				if p < 0 || p >= int64(r.cosRows) {
					return fmt.Errorf("position_ids value %d out of range [0, %d)", p, r.cosRows)
				}
				row = int(p)
			}
			c, sv := cs[row*half:(row+1)*half], sn[row*half:(row+1)*half]
			for h := 0; h < r.h; h++ {
				o := b*r.sb + s*r.ss + h*r.sh
				for k := 0; k < half; k++ {
					i1, i2 := o+k, o+k+half
					if r.interleaved {
						i1, i2 = o+2*k, o+2*k+1
					}
					x1, x2 := x[i1], x[i2]
					y[i1] = c[k]*x1 - sv[k]*x2
					y[i2] = sv[k]*x1 + c[k]*x2
				}
			}
		}
	}
	return nil
}

// RotaryEmbedding applies rotary position embeddings to x (3-D with
// num_heads, or 4-D [batch, heads, sequence, head]); positionIDs may be
// nil (the caches are then per batch and position).
func RotaryEmbedding(x, cosCache, sinCache, positionIDs *Node, interleaved bool, numHeads, rotaryDim int64) *Node {
	il := int64(0)
	if interleaved {
		il = 1
	}
	in := []*Node{x, cosCache, sinCache}
	if positionIDs != nil {
		in = append(in, positionIDs)
	}
	return Apply1(rotaryDef, Attrs{"interleaved": il, "num_heads": numHeads, "rotary_embedding_dim": rotaryDim}, in...)
}

// ---------- TensorScatter ----------

var tensorScatterDef *OpDef

func init() {
	tensorScatterDef = Register(&OpDef{
		Type: "TensorScatter", Since: 24,
		MinInputs: 2, MaxInputs: 3,
		Types: withStrings, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "axis", Type: AttrInt, Default: int64(-2)},
			{Name: "mode", Type: AttrString, Default: "linear"},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if _, err := scatterLayout(in, a); err != nil {
				return nil, err
			}
			return []Meta{{DType: in[0].DType, Shape: in[0].Shape}}, nil
		},
		Kernel: byWidth(0, tensorScatterK[uint8], tensorScatterK[uint16], tensorScatterK[uint32], tensorScatterK[uint64], tensorScatterK[string]),
	})
}

// scatterLayout checks TensorScatter's inputs and returns the axis.
func scatterLayout(in []Meta, a Attrs) (int, error) {
	past, up := in[0], in[1]
	if up.DType != past.DType {
		return 0, fmt.Errorf("update is %s, past_cache is %s (they must agree)", up.DType, past.DType)
	}
	if m := a.String("mode"); m != "linear" && m != "circular" {
		return 0, fmt.Errorf("mode must be linear or circular, got %q", m)
	}
	r := len(past.Shape)
	ax, err := normAxis(a.Int("axis"), r)
	if err != nil {
		return 0, err
	}
	if ax == 0 {
		return 0, fmt.Errorf("axis %d is the batch axis (it must not be 0)", a.Int("axis"))
	}
	if len(up.Shape) != r {
		return 0, fmt.Errorf("update has rank %d, past_cache %d (they must agree)", len(up.Shape), r)
	}
	for i := range up.Shape {
		p, u := past.Shape[i], up.Shape[i]
		if p < 0 || u < 0 {
			continue
		}
		if i == ax && u > p || i != ax && u != p {
			return 0, fmt.Errorf("update shape %v does not fit past_cache shape %v on axis %d", up.Shape, past.Shape, ax)
		}
	}
	if w, ok := optIn(in, 2); ok {
		if w.DType != Int64 {
			return 0, fmt.Errorf("write_indices must be int64, got %s", w.DType)
		}
		if len(w.Shape) != 1 || !dimsAgree(w.Shape, past.Shape[:1]) {
			return 0, fmt.Errorf("write_indices must have shape [%d] (batch), got %v", past.Shape[0], w.Shape)
		}
	}
	return ax, nil
}

// tensorScatterK copies past_cache and writes update's rows along axis at
// write_indices[batch] onwards (modulo the axis length when circular).
func tensorScatterK[T rawElem](in []*Tensor, a Attrs, out []*Tensor) error {
	past, up := in[0], in[1]
	ax, err := scatterLayout([]Meta{tMeta(past), tMeta(up), tMeta(optT(in, 2))}, a)
	if err != nil {
		return err
	}
	dst, src := raw[T](out[0]), raw[T](up)
	copy(dst, raw[T](past))
	maxSeq, seq := past.Shape[ax], up.Shape[ax]
	inner := Size(past.Shape[ax+1:])
	batch := past.Shape[0]
	perBatch := Size(past.Shape[1:ax]) // prefixes per batch element
	circular := a.String("mode") == "circular"
	var wi []int64
	if w := optT(in, 2); w != nil {
		wi = w.I
	}
	for b := 0; b < batch; b++ {
		start := int64(0)
		if wi != nil {
			start = wi[b]
		}
		if seq == 0 {
			continue
		}
		if circular {
			if maxSeq == 0 {
				return fmt.Errorf("circular write into an empty sequence axis")
			}
			start = ((start % int64(maxSeq)) + int64(maxSeq)) % int64(maxSeq)
		} else if start < 0 || start > int64(maxSeq-seq) {
			return fmt.Errorf("write_indices[%d] = %d with %d updates exceeds the cache length %d (linear mode)", b, start, seq, maxSeq)
		}
		for p := 0; p < perBatch; p++ {
			pre := b*perBatch + p
			for s := 0; s < seq; s++ {
				c := (int(start) + s) % maxSeq
				copy(dst[(pre*maxSeq+c)*inner:(pre*maxSeq+c+1)*inner], src[(pre*seq+s)*inner:(pre*seq+s+1)*inner])
			}
		}
	}
	return nil
}

// TensorScatter writes update into a copy of pastCache along axis, from
// writeIndices[batch] on (nil: 0); mode is "linear" or "circular".
func TensorScatter(pastCache, update, writeIndices *Node, axis int64, mode string) *Node {
	in := []*Node{pastCache, update}
	if writeIndices != nil {
		in = append(in, writeIndices)
	}
	return Apply1(tensorScatterDef, Attrs{"axis": axis, "mode": mode}, in...)
}

// ---------- Attention ----------

// Attention follows opset 24 (23's semantics plus nonpad_kv_seqlen and an
// attn_mask shorter than the total sequence) and accepts 23 and 25 nodes
// as is: 25 only adds left_window_size and right_window_size, whose
// defaults (-1) leave 24's behaviour. The exporter writes Attention-24,
// or 25 for a node with a window (ExportSince).
//
// Per batch and query head, the scores Q·Kᵀ·scale (one GEMM) are
// softcapped, the bias is added (attn_mask: boolean as 0/−inf or added
// as is, the causal frontier j ≤ i + offset, nonpad_kv_seqlen's padding,
// the sliding window), a softmax is taken per row in float64 (rounded to
// softmax_precision, or to the input's precision when absent) and the
// probabilities multiply V (a second GEMM). A row whose every key is
// masked gives zeros, as the opset 23 and 24 errata say. Query head h uses
// key/value head h/(q_num_heads/kv_num_heads) (grouped-query attention).
// The optional outputs are always computed: present_key and present_value
// (past and current keys and values concatenated, [B, kv_heads, total,
// head]) and qk_matmul_output (the scores at the stage
// qk_matmul_output_mode names).

var attentionDef *OpDef

func init() {
	attentionDef = Register(&OpDef{
		Type: "Attention", Since: 24, Compat: []int{23, 25},
		MinInputs: 3, MaxInputs: 7, Outputs: 4,
		NoFold: true,
		Types:  []DType{Float32, Float64, Float16, Bool, Int64},
		Attrs: []AttrSpec{
			{Name: "is_causal", Type: AttrInt, Default: int64(0)},
			{Name: "kv_num_heads", Type: AttrInt},
			{Name: "q_num_heads", Type: AttrInt},
			{Name: "qk_matmul_output_mode", Type: AttrInt, Default: int64(0)},
			{Name: "scale", Type: AttrFloat},
			{Name: "softcap", Type: AttrFloat, Default: float32(0)},
			{Name: "softmax_precision", Type: AttrInt},
			{Name: "left_window_size", Type: AttrInt, Default: int64(-1)},
			{Name: "right_window_size", Type: AttrInt, Default: int64(-1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			l, err := attnLayout(in, a)
			if err != nil {
				return nil, err
			}
			dt := in[0].DType
			y := []int{l.b, l.hq, l.sq, l.dv}
			if l.in3 {
				y = []int{l.b, l.sq, mulDims(l.hq, l.dv)}
			}
			return []Meta{
				{DType: dt, Shape: y},
				{DType: dt, Shape: []int{l.b, l.hkv, l.t, l.d}},
				{DType: dt, Shape: []int{l.b, l.hkv, l.t, l.dv}},
				{DType: dt, Shape: []int{l.b, l.hq, l.sq, l.t}},
			}, nil
		},
		Kernel: floatDispatch(attentionKernel[float32], attentionKernel[float64], 0),
		ExportSince: func(op *Op) int {
			for _, n := range []string{"left_window_size", "right_window_size"} {
				if v, ok := op.Resolved[n].(int64); ok && v >= 0 {
					return 25 // the window attributes are 25's
				}
			}
			return 24
		},
	})
}

// mulDims multiplies two dims (-1 when either is unknown).
func mulDims(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a * b
}

// attnLay is Attention's layout: every dimension after 3-D inputs are read
// as [B, heads, sequence, head] (-1: unknown while building).
type attnLay struct {
	b, hq, hkv, sq, skv, p, t, d, dv int
	in3                              bool
	mask                             []int // attn_mask's shape left-padded to rank 4; nil when absent
	boolMask, past, nonpad           bool
}

// attnLayout checks Attention's inputs and attributes.
func attnLayout(in []Meta, a Attrs) (attnLay, error) {
	var l attnLay
	q, k, v := in[0], in[1], in[2]
	dt := q.DType
	if !dt.IsFloat() {
		return l, fmt.Errorf("Q must be float, got %s", dt)
	}
	if k.DType != dt || v.DType != dt {
		return l, fmt.Errorf("Q (%s), K (%s) and V (%s) must have one type", dt, k.DType, v.DType)
	}
	if mode := a.Int("qk_matmul_output_mode"); mode < 0 || mode > 3 {
		return l, fmt.Errorf("qk_matmul_output_mode must be 0 to 3, got %d", mode)
	}
	if a.Has("softmax_precision") {
		switch p := a.Int("softmax_precision"); p {
		case 1, 10, 11, 16:
		default:
			return l, fmt.Errorf("softmax_precision must be 1, 10, 11 or 16 (an ONNX float type), got %d", p)
		}
	}
	heads := func(name string) (int, bool, error) {
		if !a.Has(name) {
			return 0, false, nil
		}
		h := a.Int(name)
		if h <= 0 || h > maxElements {
			return 0, false, fmt.Errorf("%s must be positive, got %d", name, h)
		}
		return int(h), true, nil
	}
	nq, hasQ, err := heads("q_num_heads")
	if err != nil {
		return l, err
	}
	nkv, hasKV, err := heads("kv_num_heads")
	if err != nil {
		return l, err
	}
	if len(k.Shape) != len(q.Shape) || len(v.Shape) != len(q.Shape) {
		return l, fmt.Errorf("Q %v, K %v and V %v must have one rank (3 or 4)", q.Shape, k.Shape, v.Shape)
	}
	switch len(q.Shape) {
	case 4:
		l.b, l.hq, l.sq, l.d = q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
		l.hkv, l.skv = k.Shape[1], k.Shape[2]
		l.dv = v.Shape[3]
		if !dimsAgree(k.Shape, []int{l.b, k.Shape[1], k.Shape[2], l.d}) || !dimsAgree(v.Shape, []int{l.b, l.hkv, l.skv, v.Shape[3]}) {
			return l, fmt.Errorf("K %v or V %v does not fit Q %v ([batch, heads, sequence, head])", k.Shape, v.Shape, q.Shape)
		}
		if hasQ && l.hq >= 0 && nq != l.hq || hasKV && l.hkv >= 0 && nkv != l.hkv {
			return l, fmt.Errorf("q_num_heads/kv_num_heads differ from the heads of 4-D Q %v and K %v", q.Shape, k.Shape)
		}
	case 3:
		if !hasQ || !hasKV {
			return l, fmt.Errorf("q_num_heads and kv_num_heads are required with 3-D Q, K and V")
		}
		l.in3 = true
		l.b, l.sq, l.hq, l.hkv, l.skv = q.Shape[0], q.Shape[1], nq, nkv, k.Shape[1]
		l.d, l.dv = -1, -1
		if hs := q.Shape[2]; hs >= 0 {
			if hs%nq != 0 {
				return l, fmt.Errorf("Q's hidden size %d is not a multiple of q_num_heads %d", hs, nq)
			}
			l.d = hs / nq
		}
		if hs := v.Shape[2]; hs >= 0 {
			if hs%nkv != 0 {
				return l, fmt.Errorf("V's hidden size %d is not a multiple of kv_num_heads %d", hs, nkv)
			}
			l.dv = hs / nkv
		}
		if !dimsAgree(k.Shape, []int{l.b, k.Shape[1], mulDims(nkv, l.d)}) || !dimsAgree(v.Shape, []int{l.b, l.skv, v.Shape[2]}) {
			return l, fmt.Errorf("K %v or V %v does not fit Q %v with %d query and %d key/value heads", k.Shape, v.Shape, q.Shape, nq, nkv)
		}
	default:
		return l, fmt.Errorf("Q must be 3-D or 4-D, got shape %v", q.Shape)
	}
	if l.hq >= 0 && l.hkv >= 0 && (l.hkv == 0 || l.hq%l.hkv != 0) {
		return l, fmt.Errorf("query heads %d are not a multiple of key/value heads %d", l.hq, l.hkv)
	}
	pk, hasPK := optIn(in, 4)
	pv, hasPV := optIn(in, 5)
	if hasPK != hasPV {
		return l, fmt.Errorf("past_key and past_value must be given together")
	}
	l.t = l.skv
	if hasPK {
		l.past = true
		if pk.DType != dt || pv.DType != dt {
			return l, fmt.Errorf("past_key (%s) and past_value (%s) must have Q's type %s", pk.DType, pv.DType, dt)
		}
		if len(pk.Shape) != 4 || len(pv.Shape) != 4 {
			return l, fmt.Errorf("past_key %v and past_value %v must be 4-D", pk.Shape, pv.Shape)
		}
		l.p = pk.Shape[2]
		if !dimsAgree(pk.Shape, []int{l.b, l.hkv, l.p, l.d}) || !dimsAgree(pv.Shape, []int{l.b, l.hkv, l.p, l.dv}) {
			return l, fmt.Errorf("past_key %v or past_value %v does not fit [batch %d, kv heads %d, past, head %d/%d]", pk.Shape, pv.Shape, l.b, l.hkv, l.d, l.dv)
		}
		l.t = -1
		if l.p >= 0 && l.skv >= 0 {
			l.t = l.p + l.skv
		}
	}
	if n, ok := optIn(in, 6); ok {
		if hasPK {
			return l, fmt.Errorf("nonpad_kv_seqlen cannot be used with past_key and past_value")
		}
		if n.DType != Int64 || len(n.Shape) != 1 || !dimsAgree(n.Shape, []int{l.b}) {
			return l, fmt.Errorf("nonpad_kv_seqlen must be int64 of shape [%d] (batch), got %s%v", l.b, n.DType, n.Shape)
		}
		l.nonpad = true
	}
	if m, ok := optIn(in, 3); ok {
		if m.DType != Bool && m.DType != dt {
			return l, fmt.Errorf("attn_mask must be bool or Q's type %s, got %s", dt, m.DType)
		}
		if len(m.Shape) > 4 || len(m.Shape) == 0 {
			return l, fmt.Errorf("attn_mask must have rank 1 to 4, got shape %v", m.Shape)
		}
		l.boolMask = m.DType == Bool
		l.mask = append(make([]int, 4-len(m.Shape)), m.Shape...)
		for i := 0; i < 4-len(m.Shape); i++ {
			l.mask[i] = 1
		}
		target := []int{l.b, l.hq, l.sq, l.t}
		for i, d := range l.mask {
			tg := target[i]
			if d < 0 || tg < 0 || d == 1 || d == tg || i == 3 && d < tg {
				continue
			}
			return l, fmt.Errorf("attn_mask of shape %v does not broadcast to [batch, q heads, q sequence, total sequence] = %v", m.Shape, target)
		}
	}
	return l, nil
}

// gemmAny is C = alpha·A·op(B) (row-major): Sgemm for float32, gemmT for
// float64.
func gemmAny[T Float](transB bool, m, n, k int, alpha float32, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	if af, ok := any(a).([]float32); ok {
		Sgemm(false, transB, m, n, k, alpha, af, lda, any(b).([]float32), ldb, 0, any(c).([]float32), ldc)
		return
	}
	gemmT(false, transB, m, n, k, alpha, a, lda, b, ldb, 0, c, ldc)
}

// roundTo rounds v to the precision of ONNX float type code p (0: none).
func roundTo(p int64, v float64) float64 {
	switch p {
	case 1:
		return float64(float32(v))
	case 10:
		return float64(F16(float32(v)).Float32())
	case 16:
		b := math.Float32bits(float32(v))
		if b&0x7fffffff > 0x7f800000 {
			return v // NaN
		}
		b += 0x7fff + (b>>16)&1 // round to nearest even
		return float64(math.Float32frombits(b &^ 0xffff))
	}
	return v
}

func attentionKernel[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	metas := make([]Meta, len(in))
	for i, t := range in {
		metas[i] = tMeta(t)
	}
	l, err := attnLayout(metas, a)
	if err != nil {
		return err
	}
	q, k, v := Data[T](in[0]), Data[T](in[1]), Data[T](in[2])
	y, pk, pv, qk := Data[T](out[0]), Data[T](out[1]), Data[T](out[2]), Data[T](out[3])
	// present_key/present_value: past rows, then K and V as [B, H, S, head].
	for b := 0; b < l.b; b++ {
		for h := 0; h < l.hkv; h++ {
			for _, kv := range []struct {
				dst, src []T
				past     *Tensor
				w        int
			}{{pk, k, optT(in, 4), l.d}, {pv, v, optT(in, 5), l.dv}} {
				base := (b*l.hkv + h) * l.t * kv.w
				if kv.past != nil {
					ps := Data[T](kv.past)
					n := l.p * kv.w
					copy(kv.dst[base:base+n], ps[(b*l.hkv+h)*n:])
				}
				for j := 0; j < l.skv; j++ {
					var src []T
					if l.in3 {
						o := (b*l.skv+j)*l.hkv*kv.w + h*kv.w
						src = kv.src[o : o+kv.w]
					} else {
						o := ((b*l.hkv+h)*l.skv + j) * kv.w
						src = kv.src[o : o+kv.w]
					}
					copy(kv.dst[base+(l.p+j)*kv.w:], src)
				}
			}
		}
	}
	scale := 1 / math.Sqrt(float64(l.d))
	if a.Has("scale") {
		scale = float64(a.Float("scale"))
	}
	softcap := float64(a.Float("softcap"))
	mode := a.Int("qk_matmul_output_mode")
	prec := int64(0)
	switch {
	case a.Has("softmax_precision"):
		prec = a.Int("softmax_precision")
	case in[0].DType == Float32:
		prec = 1
	}
	causal := a.Int("is_causal") != 0
	// Windows wider than every position are unbounded (clamped so that
	// pos ± window cannot overflow).
	wmax := int64(l.t + l.sq + 2)
	left, right := min(a.Int("left_window_size"), wmax), min(a.Int("right_window_size"), wmax)
	var nonpad []int64
	if l.nonpad {
		nonpad = in[6].I
	}
	// The mask, as float64 biases read through broadcast strides.
	var mval func(b, h, i, j int) float64
	if l.mask != nil {
		m := in[3]
		ms := stridesOf(l.mask)
		for i, d := range l.mask {
			if d == 1 {
				ms[i] = 0
			}
		}
		last := l.mask[3]
		mb := m.B
		mf := Data[T](m)
		bc := last == 1 // a last dimension of 1 broadcasts
		mval = func(b, h, i, j int) float64 {
			if !bc && j >= last {
				return math.Inf(-1) // attn_mask shorter than the total sequence
			}
			if bc {
				j = 0
			}
			o := b*ms[0] + h*ms[1] + i*ms[2] + j*ms[3]
			if mb != nil {
				if mb[o] {
					return 0
				}
				return math.Inf(-1)
			}
			return float64(mf[o])
		}
	}
	group := 1
	if l.hkv > 0 {
		group = l.hq / l.hkv
	}
	qb := make([]T, l.sq*l.d)
	sc := make([]T, l.sq*l.t)
	row := make([]float64, l.t)
	yb := make([]T, l.sq*l.dv)
	for b := 0; b < l.b; b++ {
		offset := int64(0)
		switch {
		case l.past:
			offset = int64(l.p)
		case nonpad != nil:
			n := min(max(nonpad[b], -1), int64(l.t+l.sq))
			offset = n - int64(l.sq)
		}
		for h := 0; h < l.hq; h++ {
			hk := h / group
			for i := 0; i < l.sq; i++ {
				var o int
				if l.in3 {
					o = (b*l.sq+i)*l.hq*l.d + h*l.d
				} else {
					o = ((b*l.hq+h)*l.sq + i) * l.d
				}
				copy(qb[i*l.d:(i+1)*l.d], q[o:o+l.d])
			}
			kh := pk[(b*l.hkv+hk)*l.t*l.d:]
			vh := pv[(b*l.hkv+hk)*l.t*l.dv:]
			gemmAny(true, l.sq, l.t, l.d, float32(scale), qb, l.d, kh, l.d, sc, l.t)
			qo := qk[(b*l.hq+h)*l.sq*l.t:]
			for i := 0; i < l.sq; i++ {
				pos := offset + int64(i)
				mx := math.Inf(-1)
				for j := 0; j < l.t; j++ {
					s := float64(sc[i*l.t+j])
					if mode == 0 {
						qo[i*l.t+j] = T(s)
					}
					if softcap > 0 {
						s = softcap * math.Tanh(s/softcap)
					}
					if mode == 1 {
						qo[i*l.t+j] = T(s)
					}
					jj := int64(j)
					switch {
					case causal && jj > pos,
						nonpad != nil && jj >= nonpad[b],
						left >= 0 && jj < pos-left,
						right >= 0 && jj > pos+right:
						s = math.Inf(-1)
					case mval != nil:
						s += mval(b, h, i, j)
					}
					if mode == 2 {
						qo[i*l.t+j] = T(s)
					}
					s = roundTo(prec, s)
					row[j] = s
					mx = max(mx, s)
				}
				pr := sc[i*l.t : (i+1)*l.t]
				if math.IsInf(mx, -1) {
					clear(pr) // every key masked: a zero row
				} else {
					var sum float64
					for j, s := range row {
						e := math.Exp(s - mx)
						row[j] = e
						sum += e
					}
					for j, e := range row {
						pr[j] = T(roundTo(prec, e/sum))
					}
				}
				if mode == 3 {
					copy(qo[i*l.t:(i+1)*l.t], pr)
				}
			}
			gemmAny(false, l.sq, l.dv, l.t, 1, sc, l.t, vh, l.dv, yb, l.dv)
			for i := 0; i < l.sq; i++ {
				var o int
				if l.in3 {
					o = (b*l.sq+i)*l.hq*l.dv + h*l.dv
				} else {
					o = ((b*l.hq+h)*l.sq + i) * l.dv
				}
				copy(y[o:o+l.dv], yb[i*l.dv:(i+1)*l.dv])
			}
		}
	}
	return nil
}

// AttentionOptions are Attention's attributes; zero values are the ONNX
// defaults (QNumHeads and KVNumHeads are needed with 3-D inputs only;
// Scale 0 means 1/sqrt(head size)).
type AttentionOptions struct {
	IsCausal              bool
	QNumHeads, KVNumHeads int64
	Scale, Softcap        float32
	QKMatMulOutputMode    int64
	SoftmaxPrecision      int64 // 0: the inputs' precision
}

// Attention is scaled dot-product attention over q, k and v; mask,
// pastKey/pastValue (together) and nonpadKVSeqLen may be nil. It returns
// Y, present_key, present_value and qk_matmul_output.
func Attention(q, k, v, mask, pastKey, pastValue, nonpadKVSeqLen *Node, o AttentionOptions) []*Node {
	a := Attrs{}
	if o.IsCausal {
		a["is_causal"] = int64(1)
	}
	if o.QNumHeads != 0 {
		a["q_num_heads"] = o.QNumHeads
	}
	if o.KVNumHeads != 0 {
		a["kv_num_heads"] = o.KVNumHeads
	}
	if o.Scale != 0 {
		a["scale"] = o.Scale
	}
	if o.Softcap != 0 {
		a["softcap"] = o.Softcap
	}
	if o.QKMatMulOutputMode != 0 {
		a["qk_matmul_output_mode"] = o.QKMatMulOutputMode
	}
	if o.SoftmaxPrecision != 0 {
		a["softmax_precision"] = o.SoftmaxPrecision
	}
	in := []*Node{q, k, v, mask, pastKey, pastValue, nonpadKVSeqLen}
	for len(in) > 3 && in[len(in)-1] == nil {
		in = in[:len(in)-1]
	}
	return MustApply(attentionDef, a, in...)
}
