package train

import (
	"fmt"

	g "github.com/odmn/odmn/graph"
)

// targetLayout places one task's training targets in the columns of one
// float32 input [N, width], filled on the host from the label (Assign), so
// the loss graph only slices it.
type targetLayout struct {
	S     int
	subOH int // S columns: one-hot sub-distribution
	dot   int // S-1 columns: ordinal targets 1{u < s}
	subs  []subLayout
	width int
}

type subLayout struct {
	m, r     int
	in       int // 1 column: label in this sub-distribution
	bucketOH int // m columns: one-hot bucket (zero row outside the sub)
	bot      int // m-1 columns: ordinal bucket targets
	bbtT     int // r columns: bias target of the true interval bucket
	bbtM     int // r columns: one-hot mask of the true interval bucket
	interval []int
}

func layoutFor(tb TaskBuckets) targetLayout {
	l := targetLayout{S: len(tb.Subs)}
	col := 0
	take := func(n int) int { c := col; col += n; return c }
	l.subOH = take(l.S)
	l.dot = take(l.S - 1)
	for _, sd := range tb.Subs {
		sl := subLayout{m: len(sd.Buckets), r: sd.Intervals()}
		sl.in = take(1)
		sl.bucketOH = take(sl.m)
		sl.bot = take(sl.m - 1)
		sl.bbtT = take(sl.r)
		sl.bbtM = take(sl.r)
		sl.interval = make([]int, sl.m)
		k := 0
		for u, b := range sd.Buckets {
			sl.interval[u] = -1
			if !b.Point {
				sl.interval[u] = k
				k++
			}
		}
		l.subs = append(l.subs, sl)
	}
	l.width = col
	return l
}

// fill writes the targets of label y into row (len width, zeroed here).
func (l *targetLayout) fill(row []float32, tb *TaskBuckets, y float64) {
	for i := range row {
		row[i] = 0
	}
	s, u, c := tb.Assign(y)
	row[l.subOH+s] = 1
	for k := 0; k < s; k++ {
		row[l.dot+k] = 1
	}
	sl := l.subs[s]
	row[sl.in] = 1
	row[sl.bucketOH+u] = 1
	for k := 0; k < u; k++ {
		row[sl.bot+k] = 1
	}
	if ri := sl.interval[u]; ri >= 0 {
		row[sl.bbtT+ri] = float32(c)
		row[sl.bbtM+ri] = 1
	}
}

func cols(x *g.Node, from, n int) *g.Node {
	return g.Slice(x, []int64{int64(from)}, []int64{int64(from + n)}, []int64{1}, nil)
}

// Losses holds the named scalar terms of Eq. 9-14 (summed over tasks).
type Losses struct {
	Total *g.Node
	Terms map[string]*g.Node
}

// bceLogits is sum over columns of the binary cross-entropy of sigmoid(z)
// against t, from logits for stability: softplus(z) - t*z. Shape [N, 1].
func bceLogits(z, t *g.Node) *g.Node {
	return g.ReduceSum(g.Sub(g.Softplus(z), g.Mul(t, z)), []int64{1}, true)
}

// xent is -sum(target * log_softmax(logits)) per row, [N, 1].
func xent(target, logits *g.Node) *g.Node {
	return g.Neg(g.ReduceSum(g.Mul(target, g.LogSoftmax(logits, 1)), []int64{1}, true))
}

// ordinalTeacher turns K-1 ordinal logits into the soft label pi over K
// classes (spec 6): pi_0 = 1 - P^0, pi_k = P^(k-1) - P^k, pi_(K-1) = P^(K-2),
// clipped at 0, optionally sharpened, renormalized, gradient stopped.
func ordinalTeacher(z *g.Node, k int, temperature float64, stop func(*g.Node) *g.Node) *g.Node {
	P := g.Sigmoid(z)
	one := g.ScalarLike(z, 1)
	parts := []*g.Node{g.Sub(one, cols(P, 0, 1))}
	if k > 2 {
		parts = append(parts, g.Sub(cols(P, 0, k-2), cols(P, 1, k-2)))
	}
	parts = append(parts, cols(P, k-2, 1))
	pi := g.Relu(g.Concat(1, parts...))
	eps := g.ScalarLike(z, 1e-8)
	if temperature > 0 && temperature != 1 {
		pi = g.Exp(g.Div(g.Log(g.Add(pi, eps)), g.ScalarLike(z, temperature)))
	}
	pi = g.Div(pi, g.Add(g.ReduceSum(pi, []int64{1}, true), eps))
	return stop(pi)
}

// normSpec is one batch statistic of the norms input: the number of rows
// (task < 0), or max(1, the sum over the batch of columns [col, col+width)
// of task's target).
type normSpec struct{ task, col, width int }

// batchRows is the norm of a batch mean.
var batchRows = normSpec{task: -1}

// norm is the scalar of the norms input that s is.
func (n *net) norm(s normSpec) *g.Node {
	if x, ok := n.normNodes[s]; ok {
		return x
	}
	if n.normsIn == nil {
		n.normsIn = n.gr.Input(InputNorms, g.Float32, -1)
		n.normNodes = map[normSpec]*g.Node{}
	}
	k := int64(len(n.norms))
	n.norms = append(n.norms, s)
	x := g.ReduceSum(g.Slice(n.normsIn, []int64{k}, []int64{k + 1}, []int64{0}, nil), nil, false)
	n.normNodes[s] = x
	return x
}

// batchMean is the mean over the batch of a [N, 1] column: its sum over
// the rows here divided by the batch's row count (a norm).
func (n *net) batchMean(x *g.Node) *g.Node {
	return g.Div(g.ReduceSum(x, nil, false), n.norm(batchRows))
}

// maskedMean is sum(mask * x) / max(sum(mask), 1) for [N, 1] columns, the
// denominator being the norm s over the whole batch: sub-distribution
// losses average over the samples in that sub-distribution.
func (n *net) maskedMean(x, mask *g.Node, s normSpec) *g.Node {
	return g.Div(g.ReduceSum(g.Mul(x, mask), nil, false), n.norm(s))
}

// loss builds Eq. 13-14 over the task outputs; targets[t] is task t's
// target input.
func (n *net) loss(outs []taskOut, targets []*g.Node) Losses {
	m := n.m
	cfg := m.Cfg
	parts := cfg.Variant.Parts()
	terms := map[string]*g.Node{}
	add := func(name string, x *g.Node) {
		if prev, ok := terms[name]; ok {
			terms[name] = g.Add(prev, x)
		} else {
			terms[name] = x
		}
	}
	for t, to := range outs {
		tb := m.Tasks[t]
		l := layoutFor(tb)
		y := targets[t]
		subOH := cols(y, l.subOH, l.S)
		add("dct", n.batchMean(xent(subOH, to.dct)))
		if to.dot != nil {
			add("dot", n.batchMean(bceLogits(to.dot, cols(y, l.dot, l.S-1))))
			pi := ordinalTeacher(to.dot, l.S, cfg.Temperature, n.stop)
			add("dct_dis", g.Mul(g.ScalarLike(y, cfg.Beta), n.batchMean(xent(pi, to.dct))))
		}
		for s, sl := range l.subs {
			in := cols(y, sl.in, 1)
			inNorm := normSpec{t, sl.in, 1}
			if to.bct[s] != nil {
				add("bct", n.maskedMean(xent(cols(y, sl.bucketOH, sl.m), to.bct[s]), in, inNorm))
				if to.bot[s] != nil {
					add("bot", n.maskedMean(bceLogits(to.bot[s], cols(y, sl.bot, sl.m-1)), in, inNorm))
					pi := ordinalTeacher(to.bot[s], sl.m, cfg.Temperature, n.stop)
					add("bct_dis", g.Mul(g.ScalarLike(y, cfg.Gamma), n.maskedMean(xent(pi, to.bct[s]), in, inNorm)))
				}
			}
			if to.bbt[s] != nil {
				mask := cols(y, sl.bbtM, sl.r)
				d := g.Sub(to.bbt[s], cols(y, sl.bbtT, sl.r))
				sq := g.ReduceSum(g.Mul(g.Mul(d, d), mask), []int64{1}, true)
				add("bbt", n.maskedMean(sq, g.ReduceSum(mask, []int64{1}, true), normSpec{t, sl.bbtM, sl.r}))
			}
		}
	}
	if parts.Calibration && len(outs) > 1 {
		var hinge *g.Node
		for t := 0; t+1 < len(outs); t++ {
			_, evA, _, _ := softDecode(outs[t])
			_, evB, _, _ := softDecode(outs[t+1])
			h := g.Relu(g.Sub(evA, evB))
			if hinge == nil {
				hinge = h
			} else {
				hinge = g.Add(hinge, h)
			}
		}
		scale := m.LabelScale
		if scale <= 0 {
			scale = 1
		}
		w := cfg.Alpha / scale
		add("cali", g.Mul(g.ScalarLike(hinge, w), n.batchMean(hinge)))
	}
	var total *g.Node
	for _, name := range termOrder {
		if x, ok := terms[name]; ok {
			if total == nil {
				total = x
			} else {
				total = g.Add(total, x)
			}
		}
	}
	if total == nil {
		panic(&g.BuildError{Err: fmt.Errorf("model has no loss terms")})
	}
	return Losses{Total: total, Terms: terms}
}

// termOrder fixes the order of loss terms in logs and sums.
var termOrder = []string{"dct", "dot", "dct_dis", "bct", "bot", "bct_dis", "bbt", "cali"}

// softDecode is the differentiable expected value sum(o_t * values) [N, 1].
func softDecode(to taskOut) (o, ev, _, _ *g.Node) {
	ev = g.ReduceSum(g.Mul(to.o, to.values), []int64{1}, true)
	return to.o, ev, nil, nil
}
