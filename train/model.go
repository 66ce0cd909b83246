package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
)

// Param is one trainable tensor of a model.
type Param struct {
	Name      string
	T         *g.Tensor
	Embedding bool // trained with Config.EmbedLR
}

// Model is an ODMN (or one of its ablations): its configuration, the
// encoded features it reads, the fitted label layout of every task, and
// its parameters. Graphs for training, inference and export are built
// from it on demand; they all share the parameter tensors.
type Model struct {
	Cfg      Config         `json:"config"`
	Features []data.Feature `json:"features"`
	Horizons []int          `json:"horizons"`    // of the tasks, increasing
	Tasks    []TaskBuckets  `json:"tasks"`       // one per horizon
	Labels   []int          `json:"label_index"` // dataset label column of each task
	// LabelScale divides the calibration hinge so that alpha means the same
	// for active days and for money (the mean training label of the last task).
	LabelScale float64 `json:"label_scale"`
	// Scales are the training label means per task: the unit of the MSE
	// and ZILN heads.
	Scales []float64 `json:"scales,omitempty"`
	// Frozen are the frozen QM maps (EV -> value per task), fitted on the
	// validation rows at the end of training (FreezeQM); the fqm decode.
	Frozen []FrozenMap `json:"frozen_qm,omitempty"`

	params []*Param
	byName map[string]*Param
	rng    *rand.Rand
}

// NewModel lays out a model for features and fitted tasks; parameters are
// created, seeded from cfg.Seed, when a graph is first built.
func NewModel(cfg Config, features []data.Feature, horizons, labelIndex []int, tasks []TaskBuckets, labelScale float64) *Model {
	return &Model{Cfg: cfg, Features: features, Horizons: horizons, Tasks: tasks, Labels: labelIndex,
		LabelScale: labelScale, byName: map[string]*Param{}, rng: rand.New(rand.NewPCG(cfg.Seed, 0x0d3a))}
}

// Params returns the parameters in creation order.
func (m *Model) Params() []*Param { return m.params }

// Param returns a parameter by name.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// NumParams counts the scalar parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += len(p.T.F)
	}
	return n
}

type initKind int

const (
	initZero initKind = iota
	initGlorot
	initEmbed
	initMono
)

// param returns the named parameter, creating it on first use.
func (m *Model) param(name string, shape []int, kind initKind) *Param {
	if p, ok := m.byName[name]; ok {
		if !g.SameShape(p.T.Shape, shape) {
			panic(&g.BuildError{Err: fmt.Errorf("parameter %s has shape %v, want %v", name, p.T.Shape, shape)})
		}
		return p
	}
	t := g.NewTensor(g.Float32, shape)
	switch kind {
	case initGlorot:
		lim := math.Sqrt(6 / float64(shape[0]+shape[1]))
		for i := range t.F {
			t.F[i] = float32((2*m.rng.Float64() - 1) * lim)
		}
	case initEmbed:
		for i := range t.F {
			t.F[i] = float32(m.rng.NormFloat64() * 0.05)
		}
	case initMono:
		// softplus(-4) ~ 0.018: Mono Units start close to silent.
		for i := range t.F {
			t.F[i] = float32(-4 + 0.5*m.rng.NormFloat64())
		}
	}
	p := &Param{Name: name, T: t, Embedding: kind == initEmbed}
	m.params = append(m.params, p)
	m.byName[name] = p
	return p
}

// net builds one forward pass into a graph.
type net struct {
	m     *Model
	gr    *g.Graph
	nodes map[string]*g.Node
	// stop blocks gradients (g.StopGradient); tests replace it to freeze
	// the stopped values as inputs when checking gradients numerically.
	stop func(*g.Node) *g.Node
	// calls builds Mono Units and decodes as calls of the ai.odmn functions
	// (export graphs); otherwise their ops are built inline (training and
	// the training-time forward pass).
	calls bool
	// gathered is the embedding rows of the batch [N, F, D] (trunk).
	gathered *g.Node
	// norms lists the batch statistics of the norms input (loss), normsIn
	// is that input and normNodes its scalars.
	norms     []normSpec
	normsIn   *g.Node
	normNodes map[normSpec]*g.Node
}

func newNet(m *Model, name string) *net {
	return &net{m: m, gr: g.New(name), nodes: map[string]*g.Node{}, stop: g.StopGradient}
}

// p returns the graph node of a parameter (one node per name and graph).
func (n *net) p(name string, shape []int, kind initKind) *g.Node {
	if x, ok := n.nodes[name]; ok {
		return x
	}
	p := n.m.param(name, shape, kind)
	x := n.gr.Param(name, p.T)
	n.nodes[name] = x
	return x
}

func (n *net) dense(x *g.Node, name string, in, out int, relu bool) *g.Node {
	w := n.p(name+".w", []int{in, out}, initGlorot)
	b := n.p(name+".b", []int{out}, initZero)
	y := g.Gemm(x, w, b, 1, 1, false, false)
	if relu {
		y = g.Relu(y)
	}
	return y
}

// tower is a small MLP over the shared bottom: one hidden layer, then out logits.
func (n *net) tower(h *g.Node, name string, in, out int) *g.Node {
	return n.dense(n.dense(h, name+".h", in, n.m.Cfg.Tower, true), name+".o", n.m.Cfg.Tower, out, false)
}

// MonoUnit is the paper's Mono Unit (3.4): an MLP whose weights are
// softplus(V) >= 0 (a reparameterization, so they are non-negative at
// every step, not only after a projection) and whose activation (ReLU) is
// monotone, so raising any input never lowers any output.
func MonoUnit(x, v1, b1, v2, b2 *g.Node) *g.Node {
	h := g.Relu(g.Gemm(x, g.Softplus(v1), b1, 1, 1, false, false))
	return g.Gemm(h, g.Softplus(v2), b2, 1, 1, false, false)
}

func (n *net) mono(x *g.Node, name string, in, out int) *g.Node {
	k := n.m.Cfg.MonoDim
	v1 := n.p(name+".v1", []int{in, k}, initMono)
	b1 := n.p(name+".b1", []int{k}, initZero)
	v2 := n.p(name+".v2", []int{k, out}, initMono)
	b2 := n.p(name+".b2", []int{out}, initZero)
	if n.calls {
		_, mono, _ := Functions()
		return mono.Call(nil, x, v1, b1, v2, b2)[0]
	}
	return MonoUnit(x, v1, b1, v2, b2)
}

// taskOut is what one MDME module produces.
type taskOut struct {
	dct    *g.Node   // DCT logits [N, S] (Mono added)
	dot    *g.Node   // DOT logits [N, S-1] or nil
	bct    []*g.Node // per sub: BCT logits [N, m_s] (nil when m_s == 1)
	bot    []*g.Node // per sub: BOT logits [N, m_s-1] or nil
	bbt    []*g.Node // per sub: BBT sigmoid [N, r_s] or nil
	p      *g.Node   // softmax(dct)
	q      *g.Node   // concat of softmax(bct_s) [N, M]
	o      *g.Node   // normalized bucket distribution [N, M]
	values *g.Node   // decoded value of every bucket [N, M]
}

// forward builds embeddings, share-bottom and every task; ids is the
// int64 [N, F] matrix of encoded features.
func (n *net) forward(ids *g.Node) []taskOut {
	h, in := n.trunk(ids)
	return n.mdmeHeads(h, in)
}

// trunk is the shared embedding layer and the share-bottom MLP; every model
// kind (ODMN, the MSE MLP, ZILN) has the same one. It returns the bottom's
// output and width.
func (n *net) trunk(ids *g.Node) (*g.Node, int) {
	m := n.m
	cfg := m.Cfg
	F := len(m.Features)
	offsets := make([]int64, F)
	vocab := 0
	for i, f := range m.Features {
		offsets[i] = int64(vocab)
		vocab += f.Cardinality
	}
	table := n.p(embeddingParam, []int{vocab, cfg.EmbedDim}, initEmbed)
	idx := g.Add(ids, n.gr.Const(g.I64([]int{F}, offsets)))
	n.gathered = g.Gather(table, idx, 0)
	emb := g.ReshapeTo(n.gathered, 0, int64(F*cfg.EmbedDim))
	h := emb
	in := F * cfg.EmbedDim
	for i, w := range cfg.Bottom {
		h = n.dense(h, fmt.Sprintf("bottom%d", i), in, w, true)
		in = w
	}
	return h, in
}

// mdmeHeads builds one MDME module per task, chained by Mono Units.
func (n *net) mdmeHeads(h *g.Node, in int) []taskOut {
	m := n.m
	cfg := m.Cfg
	parts := cfg.Variant.Parts()
	outs := make([]taskOut, len(m.Tasks))
	var prevO *g.Node
	prevM := 0
	for t, tb := range m.Tasks {
		name := fmt.Sprintf("t%d", m.Horizons[t])
		S := len(tb.Subs)
		var to taskOut
		var monoIn *g.Node
		if parts.Mono && prevO != nil {
			monoIn = n.stop(prevO) // Eq. 2-3: no gradient into task t-1
		}
		to.dct = n.tower(h, name+".dct", in, S)
		if monoIn != nil {
			to.dct = g.Add(to.dct, n.mono(monoIn, name+".mono.dct", prevM, S))
		}
		to.p = g.Softmax(to.dct, 1)
		if parts.Ordinal && S > 1 {
			to.dot = n.tower(h, name+".dot", in, S-1)
		}
		var qs, os, biasCols []*g.Node
		to.bct = make([]*g.Node, S)
		to.bot = make([]*g.Node, S)
		to.bbt = make([]*g.Node, S)
		for s, sd := range tb.Subs {
			ms, rs := len(sd.Buckets), sd.Intervals()
			sn := fmt.Sprintf("%s.s%d", name, s)
			ps := g.Slice(to.p, []int64{int64(s)}, []int64{int64(s + 1)}, []int64{1}, nil)
			var q *g.Node
			if ms == 1 {
				// the one bucket has probability 1 (ps*0+1 keeps the batch shape)
				q = g.Add(g.Mul(ps, n.gr.Const(g.ScalarF32(0))), n.gr.Const(g.ScalarF32(1)))
			} else {
				to.bct[s] = n.tower(h, sn+".bct", in, ms)
				if monoIn != nil {
					to.bct[s] = g.Add(to.bct[s], n.mono(monoIn, sn+".mono", prevM, ms))
				}
				q = g.Softmax(to.bct[s], 1)
				if parts.Ordinal {
					to.bot[s] = n.tower(h, sn+".bot", in, ms-1)
				}
			}
			qs = append(qs, q)
			os = append(os, g.Mul(ps, q))
			if rs > 0 && parts.BBT {
				_, existed := n.m.byName[sn+".bbt.o.b"]
				z := n.tower(h, sn+".bbt", in, rs)
				if cfg.BBTInit && !existed && len(sd.MeanBias) == rs {
					b := n.m.byName[sn+".bbt.o.b"].T.F
					for k, c := range sd.MeanBias {
						c = math.Min(math.Max(c, 0.01), 0.99)
						b[k] = float32(math.Log(c / (1 - c)))
					}
				}
				to.bbt[s] = g.Sigmoid(z)
				biasCols = append(biasCols, to.bbt[s])
			}
		}
		to.q = concat(qs)
		to.o = concat(os)
		to.values = n.bucketValues(tb, biasCols, to.p, parts.BBT)
		outs[t] = to
		prevO, prevM = to.o, tb.NumBuckets()
	}
	return outs
}

func concat(xs []*g.Node) *g.Node {
	if len(xs) == 1 {
		return xs[0]
	}
	return g.Concat(1, xs...)
}

// bucketValues is left + bias * width for every bucket [N, M]: the BBT
// outputs are scattered into bucket columns by a constant 0/1 matrix;
// without BBT (NM, NMO) every interval bucket decodes to its midpoint.
func (n *net) bucketValues(tb TaskBuckets, biasCols []*g.Node, like *g.Node, bbt bool) *g.Node {
	var left, width []float32
	var intervals []int // global bucket index of each interval
	for _, sd := range tb.Subs {
		for _, b := range sd.Buckets {
			if !b.Point {
				intervals = append(intervals, len(left))
			}
			left = append(left, float32(b.Left))
			width = append(width, float32(b.Width()))
		}
	}
	M := len(left)
	L := n.gr.Const(g.F32([]int{M}, left))
	W := n.gr.Const(g.F32([]int{M}, width))
	if !bbt || len(biasCols) == 0 {
		mid := make([]float32, M)
		for i := range mid {
			mid[i] = left[i] + width[i]/2
		}
		// [N, M] through a broadcast with a zero column of the batch.
		zero := g.Mul(g.Slice(like, []int64{0}, []int64{1}, []int64{1}, nil), n.gr.Const(g.ScalarF32(0)))
		return g.Add(zero, n.gr.Const(g.F32([]int{M}, mid)))
	}
	scatter := g.NewTensor(g.Float32, []int{len(intervals), M})
	for r, col := range intervals {
		scatter.F[r*M+col] = 1
	}
	bias := g.MatMul(concat(biasCols), n.gr.Const(scatter))
	return g.Add(L, g.Mul(bias, W))
}
