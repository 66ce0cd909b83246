package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
)

func TestSwishRMSNormRotaryAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(23, 24))
	x := graphtest.Rand(r, -4, 4, 2, 4, 6)
	for _, alpha := range []float32{1, 0.7} {
		agreeWithORT(t, fmt.Sprintf("Swish %g", alpha), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Swish(in[0], alpha)}
		}, x)
	}
	for _, c := range []struct {
		axis  int64
		scale []int
		eps   float32
	}{{-1, []int{6}, 1e-5}, {1, []int{4, 6}, 1e-2}, {1, []int{1, 6}, 1e-5}, {-2, []int{4, 1}, 0.5}, {0, []int{6}, 1e-5}} {
		agreeWithORT(t, fmt.Sprintf("RMSNormalization axis %d scale %v", c.axis, c.scale), func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.RMSNormalization(in[0], in[1], c.axis, c.eps)}
		}, x, graphtest.Rand(r, -2, 2, c.scale...))
	}
	const B, S, H, D = 2, 3, 2, 8
	for _, rank := range []int{3, 4} {
		for _, il := range []bool{false, true} {
			for _, rd := range []int64{0, 4} {
				for _, pos := range []bool{false, true} {
					half := int(rd) / 2
					if rd == 0 {
						half = D / 2
					}
					xs := graphtest.Rand(r, -1, 1, B, H, S, D)
					nh := int64(0)
					if rank == 3 {
						xs, nh = graphtest.Rand(r, -1, 1, B, S, H*D), H
					}
					cshape := []int{B, S, half}
					if pos {
						cshape = []int{10, half}
					}
					ang := graphtest.Rand(r, 0, 6, cshape...)
					cs, sn := graph.NewTensor(graph.Float32, cshape), graph.NewTensor(graph.Float32, cshape)
					for i, a := range ang.F {
						cs.F[i], sn.F[i] = float32(math.Cos(float64(a))), float32(math.Sin(float64(a)))
					}
					in := []*graph.Tensor{xs, cs, sn}
					if pos {
						p := make([]int64, B*S)
						for i := range p {
							p[i] = r.Int64N(10)
						}
						in = append(in, graph.I64([]int{B, S}, p))
					}
					agreeWithORT(t, fmt.Sprintf("RotaryEmbedding rank %d interleaved %v dim %d positions %v", rank, il, rd, pos),
						func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
							var p *graph.Node
							if pos {
								p = in[3]
							}
							return []*graph.Node{graph.RotaryEmbedding(in[0], in[1], in[2], p, il, nh, rd)}
						}, in...)
				}
			}
		}
	}
}

// attnCase is one Attention configuration: [B, heads, S, head] sizes.
type attnCase struct {
	name                   string
	b, hq, hkv, sq, skv, p int
	d, dv                  int
	rank3                  bool
	mask                   []int // attn_mask shape (-1: total sequence); nil: none
	boolMask               bool
	nonpad                 []int64
	o                      graph.AttentionOptions
	window                 [2]int64 // left, right (opset 25); 0,0 means none
}

func (c attnCase) inputs(r *rand.Rand) []*graph.Tensor {
	q := graphtest.Rand(r, -1, 1, c.b, c.hq, c.sq, c.d)
	k := graphtest.Rand(r, -1, 1, c.b, c.hkv, c.skv, c.d)
	v := graphtest.Rand(r, -1, 1, c.b, c.hkv, c.skv, c.dv)
	if c.rank3 {
		q = graphtest.Rand(r, -1, 1, c.b, c.sq, c.hq*c.d)
		k = graphtest.Rand(r, -1, 1, c.b, c.skv, c.hkv*c.d)
		v = graphtest.Rand(r, -1, 1, c.b, c.skv, c.hkv*c.dv)
	}
	in := []*graph.Tensor{q, k, v, nil, nil, nil, nil}
	if c.mask != nil {
		s := append([]int{}, c.mask...)
		for i, d := range s {
			if d < 0 {
				s[i] = c.p + c.skv
			}
		}
		if c.boolMask {
			m := graph.NewTensor(graph.Bool, s)
			for i := range m.B {
				m.B[i] = r.Float32() < 0.75
			}
			in[3] = m
		} else {
			in[3] = graphtest.Rand(r, -2, 2, s...)
		}
	}
	if c.p > 0 {
		in[4] = graphtest.Rand(r, -1, 1, c.b, c.hkv, c.p, c.d)
		in[5] = graphtest.Rand(r, -1, 1, c.b, c.hkv, c.p, c.dv)
	}
	if c.nonpad != nil {
		in[6] = graph.I64([]int{c.b}, c.nonpad)
	}
	return in
}

// build applies Attention to the present inputs (absent ones are nil).
func (c attnCase) build(g *graph.Graph, in []*graph.Node) []*graph.Node {
	o := c.o
	if c.rank3 {
		o.QNumHeads, o.KVNumHeads = int64(c.hq), int64(c.hkv)
	}
	if c.window != [2]int64{} {
		def, _ := graph.Lookup("", "Attention")
		a := graph.Attrs{"left_window_size": c.window[0], "right_window_size": c.window[1]}
		if o.IsCausal {
			a["is_causal"] = int64(1)
		}
		out, err := g.Apply(def, a, in...)
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		return out
	}
	return graph.Attention(in[0], in[1], in[2], in[3], in[4], in[5], in[6], o)
}

// present drops the absent inputs for agreeWithORT and rebuilds the
// positional list for build.
func presentInputs(in []*graph.Tensor) ([]*graph.Tensor, func([]*graph.Node) []*graph.Node) {
	var xs []*graph.Tensor
	var idx []int
	for i, t := range in {
		if t != nil {
			xs = append(xs, t)
			idx = append(idx, i)
		}
	}
	return xs, func(ns []*graph.Node) []*graph.Node {
		full := make([]*graph.Node, len(in))
		for j, i := range idx {
			full[i] = ns[j]
		}
		return full
	}
}

// ortAttention are the configurations on which ONNX Runtime 1.24.3
// follows the spec (see TestAttentionSpec for the others).
var ortAttention = []attnCase{
	{name: "gqa", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 8, dv: 6},
	{name: "mha", b: 2, hq: 3, hkv: 3, sq: 3, skv: 5, d: 8, dv: 6},
	{name: "mqa", b: 1, hq: 4, hkv: 1, sq: 4, skv: 2, d: 4, dv: 4},
	{name: "3d", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 8, dv: 6, rank3: true},
	{name: "scale", b: 2, hq: 2, hkv: 2, sq: 3, skv: 5, d: 8, dv: 6, o: graph.AttentionOptions{Scale: 0.3}},
	{name: "softcap", b: 2, hq: 2, hkv: 1, sq: 3, skv: 5, d: 8, dv: 6, o: graph.AttentionOptions{Softcap: 1.5}},
	{name: "causal", b: 2, hq: 2, hkv: 2, sq: 5, skv: 5, d: 4, dv: 4, o: graph.AttentionOptions{IsCausal: true}},
	{name: "causal rect", b: 2, hq: 2, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, o: graph.AttentionOptions{IsCausal: true}},
	{name: "past causal", b: 2, hq: 4, hkv: 2, sq: 3, skv: 3, p: 4, d: 4, dv: 6, o: graph.AttentionOptions{IsCausal: true}},
	{name: "past 3d", b: 2, hq: 4, hkv: 2, sq: 2, skv: 1, p: 5, d: 4, dv: 6, rank3: true},
	{name: "bool mask", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{3, -1}, boolMask: true},
	{name: "float mask", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{3, -1}},
	{name: "mask batch", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{2, 1, 3, -1}},
	{name: "mask heads", b: 2, hq: 3, hkv: 3, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{1, 3, 3, -1}, boolMask: true},
	{name: "mask full", b: 2, hq: 3, hkv: 3, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{2, 3, 3, -1}},
	{name: "mask past causal", b: 2, hq: 2, hkv: 2, sq: 3, skv: 3, p: 2, d: 4, dv: 4, mask: []int{3, -1}, o: graph.AttentionOptions{IsCausal: true}},
	{name: "mode 0 softcap", b: 1, hq: 2, hkv: 2, sq: 3, skv: 4, d: 4, dv: 4, o: graph.AttentionOptions{Softcap: 1, QKMatMulOutputMode: 0}},
	{name: "mode 2", b: 1, hq: 2, hkv: 2, sq: 3, skv: 4, d: 4, dv: 4, mask: []int{3, -1}, o: graph.AttentionOptions{QKMatMulOutputMode: 2}},
	{name: "mode 3", b: 1, hq: 2, hkv: 2, sq: 3, skv: 4, d: 4, dv: 4, mask: []int{3, -1}, o: graph.AttentionOptions{QKMatMulOutputMode: 3, IsCausal: true}},
	{name: "precision float", b: 1, hq: 2, hkv: 2, sq: 3, skv: 4, d: 4, dv: 4, o: graph.AttentionOptions{SoftmaxPrecision: 1}},
	{name: "precision double", b: 1, hq: 2, hkv: 2, sq: 3, skv: 4, d: 4, dv: 4, o: graph.AttentionOptions{SoftmaxPrecision: 11}},
}

func TestAttentionAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(1, 23))
	for _, c := range ortAttention {
		xs, full := presentInputs(c.inputs(r))
		agreeWithORT(t, "Attention "+c.name, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			out := c.build(g, full(in))
			if c.p == 0 {
				out = []*graph.Node{out[0], out[3]} // present = K, V: nothing to compare
			}
			return out
		}, xs...)
	}
}

// refAttention evaluates Attention from the spec's definition, one score
// at a time, for 4-D inputs (float64).
func refAttention(c attnCase, in []*graph.Tensor) (y, qk []float64) {
	t := c.p + c.skv
	key := func(b, h, j, e int) float64 {
		if j < c.p {
			return in[4].Float(((b*c.hkv+h)*c.p+j)*c.d + e)
		}
		return in[1].Float(((b*c.hkv+h)*c.skv+j-c.p)*c.d + e)
	}
	val := func(b, h, j, e int) float64 {
		if j < c.p {
			return in[5].Float(((b*c.hkv+h)*c.p+j)*c.dv + e)
		}
		return in[2].Float(((b*c.hkv+h)*c.skv+j-c.p)*c.dv + e)
	}
	scale := 1 / math.Sqrt(float64(c.d))
	if c.o.Scale != 0 {
		scale = float64(c.o.Scale)
	}
	ninf := math.Inf(-1)
	bias := func(b, h, i, j int) float64 {
		m := in[3]
		if m == nil {
			return 0
		}
		s := append(make([]int, 4-len(m.Shape)), m.Shape...)
		for k := range s[:4-len(m.Shape)] {
			s[k] = 1
		}
		if j >= s[3] && s[3] != 1 {
			return ninf // padded
		}
		pick := func(x, d int) int {
			if d == 1 {
				return 0
			}
			return x
		}
		o := ((pick(b, s[0])*s[1]+pick(h, s[1]))*s[2]+pick(i, s[2]))*s[3] + pick(j, s[3])
		if m.DType == graph.Bool {
			if m.B[o] {
				return 0
			}
			return ninf
		}
		return m.Float(o)
	}
	y = make([]float64, c.b*c.hq*c.sq*c.dv)
	qk = make([]float64, c.b*c.hq*c.sq*t)
	for b := 0; b < c.b; b++ {
		off := 0
		if c.p > 0 {
			off = c.p
		} else if c.nonpad != nil {
			off = int(c.nonpad[b]) - c.sq
		}
		for h := 0; h < c.hq; h++ {
			hk := h * c.hkv / c.hq
			for i := 0; i < c.sq; i++ {
				s := make([]float64, t)
				for j := 0; j < t; j++ {
					var dot float64
					for e := 0; e < c.d; e++ {
						dot += in[0].Float(((b*c.hq+h)*c.sq+i)*c.d+e) * key(b, hk, j, e)
					}
					x := dot * scale
					raw := x
					if c.o.Softcap > 0 {
						x = float64(c.o.Softcap) * math.Tanh(x/float64(c.o.Softcap))
					}
					capped := x
					x += bias(b, h, i, j)
					if c.o.IsCausal && j > i+off || c.nonpad != nil && j >= int(c.nonpad[b]) {
						x = ninf
					}
					if c.window != [2]int64{} {
						if l := int(c.window[0]); l >= 0 && j < i+off-l {
							x = ninf
						}
						if rr := int(c.window[1]); rr >= 0 && j > i+off+rr {
							x = ninf
						}
					}
					s[j] = x
					qk[((b*c.hq+h)*c.sq+i)*t+j] = [...]float64{raw, capped, x}[min(c.o.QKMatMulOutputMode, 2)]
				}
				mx := ninf
				for _, x := range s {
					mx = math.Max(mx, x)
				}
				var sum float64
				for j := range s {
					if mx == ninf {
						s[j] = 0
					} else {
						s[j] = math.Exp(s[j] - mx)
						sum += s[j]
					}
				}
				for j := range s {
					if sum > 0 {
						s[j] /= sum
					}
					if c.o.QKMatMulOutputMode == 3 {
						qk[((b*c.hq+h)*c.sq+i)*t+j] = s[j]
					}
				}
				for e := 0; e < c.dv; e++ {
					var acc float64
					for j := 0; j < t; j++ {
						acc += s[j] * val(b, hk, j, e)
					}
					y[((b*c.hq+h)*c.sq+i)*c.dv+e] = acc
				}
			}
		}
	}
	return y, qk
}

// specAttention are the configurations where ONNX Runtime 1.24.3 departs
// from the spec or refuses the node: nonpad_kv_seqlen (ignored by ONNX
// Runtime's CPU kernel), softcap with a mask (ONNX Runtime caps after
// adding the mask; the spec caps before), fully masked rows (the spec's
// errata makes them zero), masks of rank 1, broadcast over the query
// sequence, over query heads with grouped-query attention or shorter than
// the total sequence (refused by ONNX Runtime), qk_matmul_output mode 1
// (ONNX Runtime gives the scores with the mask, before the softcap) and
// mode 2 around the causal mask (−inf by the spec, not the lowest float),
// and the sliding window of opset 25.
var specAttention = []attnCase{
	{name: "nonpad", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, nonpad: []int64{3, 5}},
	{name: "nonpad causal", b: 2, hq: 2, hkv: 2, sq: 3, skv: 6, d: 4, dv: 4, nonpad: []int64{4, 6}, o: graph.AttentionOptions{IsCausal: true}},
	{name: "nonpad causal negative offset", b: 2, hq: 2, hkv: 1, sq: 4, skv: 6, d: 4, dv: 4, nonpad: []int64{2, 6}, o: graph.AttentionOptions{IsCausal: true, QKMatMulOutputMode: 3}},
	{name: "nonpad mask", b: 2, hq: 2, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, nonpad: []int64{0, 4}, mask: []int{3, -1}},
	{name: "softcap float mask", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{3, -1}, o: graph.AttentionOptions{Softcap: 1.5, QKMatMulOutputMode: 2}},
	{name: "softcap bool mask", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{3, -1}, boolMask: true, o: graph.AttentionOptions{Softcap: 1.5, QKMatMulOutputMode: 1}},
	{name: "fully masked rows", b: 2, hq: 2, hkv: 2, sq: 6, skv: 2, d: 4, dv: 4, mask: []int{6, -1}, boolMask: true, o: graph.AttentionOptions{QKMatMulOutputMode: 3}},
	{name: "mask rank 1", b: 2, hq: 2, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{-1}},
	{name: "mask over q heads gqa", b: 2, hq: 4, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{1, 4, 1, -1}, boolMask: true},
	{name: "mask short", b: 2, hq: 2, hkv: 2, sq: 3, skv: 5, p: 2, d: 4, dv: 4, mask: []int{2, 1, 3, 4}},
	{name: "mask short bool", b: 2, hq: 2, hkv: 2, sq: 3, skv: 5, d: 4, dv: 4, mask: []int{3, 3}, boolMask: true},
	{name: "mode 1", b: 1, hq: 2, hkv: 2, sq: 3, skv: 4, d: 4, dv: 4, o: graph.AttentionOptions{Softcap: 1, QKMatMulOutputMode: 1}},
	{name: "mode 1 causal", b: 1, hq: 2, hkv: 2, sq: 4, skv: 4, d: 4, dv: 4, o: graph.AttentionOptions{IsCausal: true, QKMatMulOutputMode: 1}},
	{name: "mode 2 causal", b: 1, hq: 2, hkv: 2, sq: 4, skv: 4, d: 4, dv: 4, o: graph.AttentionOptions{IsCausal: true, QKMatMulOutputMode: 2}},
	{name: "window", b: 2, hq: 2, hkv: 2, sq: 4, skv: 6, d: 4, dv: 4, window: [2]int64{2, 1}},
	{name: "window causal past", b: 2, hq: 2, hkv: 1, sq: 3, skv: 3, p: 3, d: 4, dv: 4, window: [2]int64{1, -1}, o: graph.AttentionOptions{IsCausal: true}},
	{name: "window right only", b: 1, hq: 2, hkv: 2, sq: 4, skv: 4, d: 4, dv: 4, window: [2]int64{-1, 0}},
}

func TestAttentionSpec(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 24))
	for _, c := range append(append([]attnCase{}, ortAttention...), specAttention...) {
		if c.rank3 {
			continue
		}
		in := c.inputs(r)
		xs, full := presentInputs(in)
		out := graphtest.MustEval(t, func(g *graph.Graph, ns []*graph.Node) []*graph.Node {
			return c.build(g, full(ns))
		}, xs...)
		y, qk := refAttention(c, in)
		for k, want := range [][]float64{y, qk} {
			got := out[3*k]
			if got.Len() != len(want) {
				t.Fatalf("%s output %d: %d values, want %d", c.name, 3*k, got.Len(), len(want))
			}
			for i, w := range want {
				g := got.Float(i)
				if !(g == w || math.Abs(g-w) <= 1e-5+1e-4*math.Abs(w)) {
					t.Errorf("%s output %d [%d]: got %v, want %v", c.name, 3*k, i, g, w)
					break
				}
			}
		}
	}
}

// TestAttentionNonpadIsTruncation checks nonpad_kv_seqlen without a
// causal mask against attention over the first nonpad_kv_seqlen keys
// only, batch by batch (ONNX Runtime computes the latter the spec's way).
func TestAttentionNonpadIsTruncation(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	c := attnCase{b: 3, hq: 4, hkv: 2, sq: 2, skv: 6, d: 4, dv: 3, nonpad: []int64{1, 6, 4}}
	in := c.inputs(r)
	xs, full := presentInputs(in)
	y := graphtest.MustEval(t, func(g *graph.Graph, ns []*graph.Node) []*graph.Node { return c.build(g, full(ns)) }, xs...)[0]
	for b, n := range c.nonpad {
		sub := func(x *graph.Tensor, keys int) *graph.Tensor {
			h, s, w := x.Shape[1], x.Shape[2], x.Shape[3]
			o := graph.NewTensor(graph.Float32, []int{1, h, keys, w})
			for hh := 0; hh < h; hh++ {
				copy(o.F[hh*keys*w:(hh+1)*keys*w], x.F[(b*h+hh)*s*w:])
			}
			return o
		}
		q := sub(in[0], c.sq)
		want := graphtest.MustEval(t, func(_ *graph.Graph, ns []*graph.Node) []*graph.Node {
			return graph.Attention(ns[0], ns[1], ns[2], nil, nil, nil, nil, graph.AttentionOptions{})[:1]
		}, q, sub(in[1], int(n)), sub(in[2], int(n)))[0]
		per := want.Len()
		for i := 0; i < per; i++ {
			if g, w := y.F[b*per+i], want.F[i]; math.Abs(float64(g-w)) > 1e-5 {
				t.Fatalf("batch %d [%d]: %v, truncated keys give %v", b, i, g, w)
			}
		}
	}
}

func TestTensorScatter(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, mode := range []string{"linear", "circular"} {
		for _, axis := range []int64{-2, 1, 2, 3} {
			for _, withIdx := range []bool{false, true} {
				shape := []int{2, 3, 5, 4}
				ax := int((axis + 4) % 4)
				us := append([]int{}, shape...)
				us[ax] = 2
				past, up := graphtest.Rand(r, -1, 1, shape...), graphtest.Rand(r, -1, 1, us...)
				idx := []int64{0, 0}
				xs := []*graph.Tensor{past, up}
				if withIdx {
					for b := range idx {
						if mode == "linear" {
							idx[b] = r.Int64N(int64(shape[ax] - 1))
						} else {
							idx[b] = r.Int64N(int64(3 * shape[ax]))
						}
					}
					xs = append(xs, graph.I64([]int{2}, idx))
				}
				got := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
					var w *graph.Node
					if withIdx {
						w = in[2]
					}
					return []*graph.Node{graph.TensorScatter(in[0], in[1], w, axis, mode)}
				}, xs...)[0]
				// The spec's pseudocode: present[prefix, (idx[b]+s) mod max, ...] = update[prefix, s, ...].
				want := append([]float32{}, past.F...)
				st, ust := strides(shape), strides(us)
				for u := 0; u < up.Len(); u++ {
					ci := make([]int, 4)
					rem := u
					for d := 0; d < 4; d++ {
						ci[d] = rem / ust[d]
						rem %= ust[d]
					}
					ci[ax] += int(idx[ci[0]])
					if mode == "circular" {
						ci[ax] %= shape[ax]
					}
					o := 0
					for d := 0; d < 4; d++ {
						o += ci[d] * st[d]
					}
					want[o] = up.F[u]
				}
				for i := range want {
					if got.F[i] != want[i] {
						t.Fatalf("%s axis %d indices %v [%d]: got %v, want %v", mode, axis, idx, i, got.F[i], want[i])
					}
				}
			}
		}
	}
	// Strings move too.
	past := graph.Strings([]int{1, 3, 1}, []string{"a", "b", "c"})
	up := graph.Strings([]int{1, 2, 1}, []string{"x", "y"})
	got := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.TensorScatter(in[0], in[1], in[2], 1, "circular")}
	}, past, up, graph.I64([]int{1}, []int64{2}))[0]
	if fmt.Sprint(got.S) != "[y b x]" {
		t.Errorf("strings: got %v, want [y b x]", got.S)
	}
}

func strides(s []int) []int {
	st := make([]int, len(s))
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= s[i]
	}
	return st
}

// TestTransformerOpErrors: bad shapes, attributes and values are errors.
func TestTransformerOpErrors(t *testing.T) {
	f := func(s ...int) *graph.Tensor { return graph.NewTensor(graph.Float32, s) }
	i64 := func(s []int, v ...int64) *graph.Tensor { return graph.I64(s, v) }
	type bad struct {
		name  string
		build func(in []*graph.Node) []*graph.Node
		xs    []*graph.Tensor
	}
	one := func(n *graph.Node) []*graph.Node { return []*graph.Node{n} }
	att := func(o graph.AttentionOptions, idx ...int) func(in []*graph.Node) []*graph.Node {
		return func(in []*graph.Node) []*graph.Node {
			full := make([]*graph.Node, 7)
			for j, i := range idx {
				full[i] = in[j]
			}
			return graph.Attention(full[0], full[1], full[2], full[3], full[4], full[5], full[6], o)
		}
	}
	cases := []bad{
		{"rms scale shape", func(in []*graph.Node) []*graph.Node { return one(graph.RMSNormalization(in[0], in[1], -1, 1e-5)) }, []*graph.Tensor{f(2, 3), f(4)}},
		{"rms axis", func(in []*graph.Node) []*graph.Node { return one(graph.RMSNormalization(in[0], in[1], 2, 1e-5)) }, []*graph.Tensor{f(2, 3), f(3)}},
		{"rope odd", func(in []*graph.Node) []*graph.Node {
			return one(graph.RotaryEmbedding(in[0], in[1], in[2], nil, false, 0, 3))
		}, []*graph.Tensor{f(1, 1, 2, 4), f(1, 2, 1), f(1, 2, 1)}},
		{"rope 3d no heads", func(in []*graph.Node) []*graph.Node {
			return one(graph.RotaryEmbedding(in[0], in[1], in[2], nil, false, 0, 0))
		}, []*graph.Tensor{f(1, 2, 8), f(1, 2, 4), f(1, 2, 4)}},
		{"rope cache width", func(in []*graph.Node) []*graph.Node {
			return one(graph.RotaryEmbedding(in[0], in[1], in[2], nil, false, 0, 0))
		}, []*graph.Tensor{f(1, 1, 2, 8), f(1, 2, 3), f(1, 2, 3)}},
		{"rope position range", func(in []*graph.Node) []*graph.Node {
			return one(graph.RotaryEmbedding(in[0], in[1], in[2], in[3], false, 0, 0))
		}, []*graph.Tensor{f(1, 1, 2, 4), f(3, 2), f(3, 2), i64([]int{1, 2}, 0, 3)}},
		{"scatter axis 0", func(in []*graph.Node) []*graph.Node { return one(graph.TensorScatter(in[0], in[1], nil, 0, "linear")) }, []*graph.Tensor{f(2, 3), f(2, 3)}},
		{"scatter mode", func(in []*graph.Node) []*graph.Node { return one(graph.TensorScatter(in[0], in[1], nil, 1, "ring")) }, []*graph.Tensor{f(2, 3), f(2, 3)}},
		{"scatter longer update", func(in []*graph.Node) []*graph.Node { return one(graph.TensorScatter(in[0], in[1], nil, 1, "linear")) }, []*graph.Tensor{f(2, 3), f(2, 4)}},
		{"scatter linear overflow", func(in []*graph.Node) []*graph.Node {
			return one(graph.TensorScatter(in[0], in[1], in[2], 1, "linear"))
		}, []*graph.Tensor{f(2, 3), f(2, 2), i64([]int{2}, 0, 2)}},
		{"scatter huge index", func(in []*graph.Node) []*graph.Node {
			return one(graph.TensorScatter(in[0], in[1], in[2], 1, "linear"))
		}, []*graph.Tensor{f(2, 3), f(2, 2), i64([]int{2}, 0, math.MaxInt64)}},
		{"scatter negative index", func(in []*graph.Node) []*graph.Node {
			return one(graph.TensorScatter(in[0], in[1], in[2], 1, "linear"))
		}, []*graph.Tensor{f(2, 3), f(2, 2), i64([]int{2}, -1, 0)}},
		{"attention ranks", att(graph.AttentionOptions{}, 0, 1, 2), []*graph.Tensor{f(1, 2, 3, 4), f(1, 2, 8), f(1, 2, 8)}},
		{"attention 3d no heads", att(graph.AttentionOptions{}, 0, 1, 2), []*graph.Tensor{f(1, 3, 8), f(1, 2, 8), f(1, 2, 8)}},
		{"attention heads", att(graph.AttentionOptions{}, 0, 1, 2), []*graph.Tensor{f(1, 3, 2, 4), f(1, 2, 2, 4), f(1, 2, 2, 4)}},
		{"attention head size", att(graph.AttentionOptions{}, 0, 1, 2), []*graph.Tensor{f(1, 2, 2, 4), f(1, 2, 2, 5), f(1, 2, 2, 4)}},
		{"attention mask shape", att(graph.AttentionOptions{}, 0, 1, 2, 3), []*graph.Tensor{f(1, 2, 2, 4), f(1, 2, 3, 4), f(1, 2, 3, 4), f(2, 4)}},
		{"attention mask type", att(graph.AttentionOptions{}, 0, 1, 2, 3), []*graph.Tensor{f(1, 2, 2, 4), f(1, 2, 3, 4), f(1, 2, 3, 4), i64([]int{2, 3}, 0, 0, 0, 0, 0, 0)}},
		{"attention past alone", att(graph.AttentionOptions{}, 0, 1, 2, 4), []*graph.Tensor{f(1, 2, 2, 4), f(1, 2, 3, 4), f(1, 2, 3, 4), f(1, 2, 1, 4)}},
		{"attention nonpad with past", att(graph.AttentionOptions{}, 0, 1, 2, 4, 5, 6), []*graph.Tensor{f(1, 2, 2, 4), f(1, 2, 3, 4), f(1, 2, 3, 4), f(1, 2, 1, 4), f(1, 2, 1, 4), i64([]int{1}, 1)}},
		{"attention mode", att(graph.AttentionOptions{QKMatMulOutputMode: 4}, 0, 1, 2), []*graph.Tensor{f(1, 2, 2, 4), f(1, 2, 3, 4), f(1, 2, 3, 4)}},
		{"attention precision", att(graph.AttentionOptions{SoftmaxPrecision: 7}, 0, 1, 2), []*graph.Tensor{f(1, 2, 2, 4), f(1, 2, 3, 4), f(1, 2, 3, 4)}},
	}
	for _, c := range cases {
		_, err := graphtest.Eval(func(_ *graph.Graph, in []*graph.Node) []*graph.Node { return c.build(in) }, c.xs...)
		if err == nil {
			t.Errorf("%s: no error", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}
