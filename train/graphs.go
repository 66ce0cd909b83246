package train

import (
	"fmt"

	g "github.com/odmn/odmn/graph"
)

// Input and output names of the graphs a model builds.
const (
	InputIDs = "ids"    // int64 [N, F]: encoded features
	OutLTV   = "ltv"    // float32 [N, T]: argmax decode (Eq. 7-8)
	OutLTVEV = "ltv_ev" // float32 [N, T]: expected-value decode
	OutLoss  = "loss"
	// InputNorms is the training graph's float32 [K] input of batch
	// statistics the loss divides by (see TrainGraph).
	InputNorms = "norms"
	// OutEmbedRows is the gradient of the gathered embedding rows
	// [N, F, D] (sparse training graphs).
	OutEmbedRows = "grad_rows/embedding"
	// embeddingParam names the embedding table.
	embeddingParam = "embedding"
	lossPfx        = "loss/"
	gradPfx        = "grad/"
	targetPfx      = "y"
	// BaselineTarget is the target input of the MSE and ZILN heads [N, 3T].
	BaselineTarget = "y"
)

// TargetInput names task t's target input.
func (m *Model) TargetInput(t int) string { return fmt.Sprintf("%s%d", targetPfx, m.Horizons[t]) }

// TrainGraph builds the training graph: inputs ids and one target matrix
// per task; outputs the total loss, each loss term ("loss/dct", ...) and
// the gradient of the loss for every parameter ("grad/<name>"), in the
// order of the returned parameters.
//
// The batch statistics the loss divides by (the batch size, and the number
// of rows in each sub-distribution) are an input, InputNorms, rather than
// computed in the graph, so that a batch split over workers divides by the
// whole batch's: the trainer fills it.
func (m *Model) TrainGraph() (*g.Graph, []*Param, error) {
	gr, params, _, err := m.trainGraphFor(nil, false)
	return gr, params, err
}

func (m *Model) trainGraph(stop func(*net, *g.Node) *g.Node) (*g.Graph, []*Param, error) {
	gr, params, _, err := m.trainGraphFor(stop, false)
	return gr, params, err
}

// trainGraphFor builds the training graph and lists its norms. With
// sparseEmbed the embedding table gets no dense gradient: the graph outputs
// instead OutEmbedRows, the gradient of the gathered rows [N, F, D], which
// the trainer scatters into the rows the batch touched.
func (m *Model) trainGraphFor(stop func(*net, *g.Node) *g.Node, sparseEmbed bool) (*g.Graph, []*Param, []normSpec, error) {
	n := newNet(m, "odmn-train")
	if stop != nil {
		n.stop = func(x *g.Node) *g.Node { return stop(n, x) }
	}
	var params []*Param
	err := g.Catch(func() {
		ids := n.gr.Input(InputIDs, g.Int64, -1, len(m.Features))
		var l Losses
		if head := m.Cfg.Variant.Parts().Head; head != HeadMDME {
			h, in := n.trunk(ids)
			k := 1
			if head == HeadZILN {
				k = 3
			}
			y := n.gr.Input(BaselineTarget, g.Float32, -1, 3*len(m.Horizons))
			l = n.baselineLoss(n.scalarHeads(h, in, k, head), y)
		} else {
			outs := n.forward(ids)
			targets := make([]*g.Node, len(m.Tasks))
			for t, tb := range m.Tasks {
				targets[t] = n.gr.Input(m.TargetInput(t), g.Float32, -1, layoutFor(tb).width)
			}
			l = n.loss(outs, targets)
		}
		n.gr.SetOutput(OutLoss, l.Total)
		for _, name := range append(termOrder, string(m.Cfg.Variant)) {
			if x, ok := l.Terms[name]; ok {
				n.gr.SetOutput(lossPfx+name, x)
			}
		}
		var wrt []*g.Node
		for _, p := range m.params {
			if x, ok := n.nodes[p.Name]; ok && !(sparseEmbed && p.Name == embeddingParam) {
				wrt = append(wrt, x)
				params = append(params, p)
			}
		}
		if sparseEmbed {
			wrt = append(wrt, n.gathered)
		}
		grads, err := g.Gradients(l.Total, wrt...)
		if err != nil {
			panic(&g.BuildError{Err: err})
		}
		for i, gr := range grads[:len(params)] {
			n.gr.SetOutput(gradPfx+params[i].Name, gr)
		}
		if sparseEmbed {
			n.gr.SetOutput(OutEmbedRows, grads[len(params)])
		}
	})
	return n.gr, params, n.norms, err
}

// Names of the optional outputs of inference and export graphs.
const (
	OutSub          = "sub"           // int64 [N, T]: s*, the chosen sub-distribution
	OutBucket       = "bucket"        // int64 [N, T]: u*, the chosen bucket (index over all of the task's buckets)
	OutMarginSub    = "margin_sub"    // float32 [N, T]: top-2 margin of p
	OutMarginBucket = "margin_bucket" // float32 [N, T]: top-2 margin of q within s*
	OutIDs          = "ids"           // int64 [N, F]: the encoded features
)

// DistOutput names task h's distribution output o_<h> [N, M_t].
func DistOutput(h int) string { return fmt.Sprintf("o_%d", h) }

// InferOptions choose the extra outputs of an inference or export graph.
type InferOptions struct {
	// Distributions adds o_<h> [N, M_t] for every task: the normalized
	// bucket distribution o_t (buckets of sub-distribution 0 first).
	Distributions bool
	// Indices adds the decode's choices and their top-2 probability
	// margins, [N, T] each: sub and bucket (int64), margin_sub and
	// margin_bucket (float32; see DecodeMargins).
	Indices bool
	// Ordinal adds the training-only ordinal towers as probabilities
	// P(class > u): dot_<h> [N, S_t-1] and bot_<h> [N, sum over s of
	// (m_s - 1)], for the tasks that have them.
	Ordinal bool
	// IDs adds ids [N, F] int64, the encoded features the model embeds
	// (in an export graph: what the in-graph encoding computed).
	IDs bool
	// Quantiles are the interval outputs ltv_p<100q> [N, T] of ODMN models
	// (QuantileOutput): quantiles of each user's bucket distribution, point
	// buckets as points and interval buckets spread over their range. Nil
	// means DefaultQuantiles; NoQuantiles leaves them out.
	Quantiles   []float64
	NoQuantiles bool
	// Raw adds ltv_raw and ltv_ev_raw [N, T]: the decodes before the
	// running maximum across horizons.
	Raw bool
	// Values adds v_<h> [N, M_t]: the decoded value of every bucket
	// (left + bias × width), the atoms of the QM mixture.
	Values bool
	// ZILN adds ziln_p, ziln_mu and ziln_sigma [N, T] for ZILN models:
	// P(y > 0) and the lognormal's parameters (in units of Model.Scales).
	ZILN bool
}

// quantiles returns the interval quantiles opts asks for.
func (o InferOptions) quantiles() []float64 {
	if o.NoQuantiles {
		return nil
	}
	if o.Quantiles == nil {
		return DefaultQuantiles
	}
	return o.Quantiles
}

// InferGraph builds the scoring graph of the training-time forward pass:
// encoded ids in (int64 [N, F]); ltv and ltv_ev [N, T] out, plus the
// outputs opts asks for. Mono Units and decodes are built inline.
func (m *Model) InferGraph(opts InferOptions) (*g.Graph, error) {
	n := newNet(m, "odmn")
	err := g.Catch(func() {
		ids := n.gr.Input(InputIDs, g.Int64, -1, len(m.Features))
		n.inferOutputs(ids, opts)
	})
	return n.gr, err
}

// inferOutputs builds the model from ids to its outputs.
func (n *net) inferOutputs(ids *g.Node, opts InferOptions) {
	m := n.m
	fail := func(format string, a ...any) { panic(&g.BuildError{Err: fmt.Errorf(format, a...)}) }
	if head := m.Cfg.Variant.Parts().Head; head != HeadMDME {
		if opts.Distributions || opts.Indices || opts.Ordinal || opts.Values {
			fail("variant %s predicts one value per horizon: it has no bucket distributions, decode indices or ordinal towers", m.Cfg.Variant)
		}
		h, in := n.trunk(ids)
		k := 1
		if head == HeadZILN {
			k = 3
		}
		heads := n.scalarHeads(h, in, k, head)
		raw := n.baselinePredict(heads)
		p := concat(RunningMax(raw))
		n.gr.SetOutput(OutLTV, p)
		n.gr.SetOutput(OutLTVEV, g.Identity(p))
		if opts.Raw {
			r := concat(raw)
			n.gr.SetOutput(OutLTVRaw, r)
			n.gr.SetOutput(OutLTVEVRaw, g.Identity(r))
		}
		if opts.ZILN {
			if head != HeadZILN {
				fail("variant %s has no ZILN parameters", m.Cfg.Variant)
			}
			var ps, mus, sigs []*g.Node
			for _, z := range heads {
				logit, mu, sigma := zilnParts(z)
				ps, mus, sigs = append(ps, g.Sigmoid(logit)), append(mus, mu), append(sigs, sigma)
			}
			n.gr.SetOutput(OutZILNP, concat(ps))
			n.gr.SetOutput(OutZILNMu, concat(mus))
			n.gr.SetOutput(OutZILNSig, concat(sigs))
		}
		if opts.IDs {
			n.gr.SetOutput(OutIDs, ids)
		}
		return
	}
	if opts.Ordinal && !m.Cfg.Variant.Parts().Ordinal {
		fail("variant %s has no ordinal towers", m.Cfg.Variant)
	}
	if opts.ZILN {
		fail("variant %s has no ZILN parameters", m.Cfg.Variant)
	}
	qs := opts.quantiles()
	if err := CheckQuantiles(qs); err != nil {
		fail("%v", err)
	}
	outs := n.forward(ids)
	var ltv, ev, subs, buckets, msubs, mbuckets, quants []*g.Node
	var dists, ords []g.Output
	for t, to := range outs {
		subOf := n.gr.Const(g.I64([]int{m.Tasks[t].NumBuckets()}, subOfBuckets(m.Tasks[t])))
		var a, e, s, u *g.Node
		if n.calls {
			_, _, decode := Functions()
			r := decode.Call(nil, to.p, to.q, to.values, subOf)
			a, e, s, u = r[0], r[1], r[2], r[3]
		} else {
			a, e, s, u = Decode(to.p, to.q, to.values, subOf)
		}
		ltv, ev = append(ltv, a), append(ev, e)
		h := m.Horizons[t]
		if len(qs) > 0 {
			quants = append(quants, n.quantiles(to.o, m.Tasks[t], qs))
		}
		if opts.Values {
			dists = append(dists, g.Output{Name: ValuesOutput(h), Node: to.values})
		}
		if opts.Indices {
			ms, mb := DecodeMargins(to.p, to.q, subOf, s, u)
			subs, buckets = append(subs, s), append(buckets, u)
			msubs, mbuckets = append(msubs, ms), append(mbuckets, mb)
		}
		if opts.Distributions {
			dists = append(dists, g.Output{Name: DistOutput(h), Node: to.o})
		}
		if opts.Ordinal {
			if to.dot != nil {
				ords = append(ords, g.Output{Name: fmt.Sprintf("dot_%d", h), Node: g.Sigmoid(to.dot)})
			}
			var bots []*g.Node
			for _, b := range to.bot {
				if b != nil {
					bots = append(bots, g.Sigmoid(b))
				}
			}
			if len(bots) > 0 {
				ords = append(ords, g.Output{Name: fmt.Sprintf("bot_%d", h), Node: concat(bots)})
			}
		}
	}
	n.decodeOutputs(ltv, ev, quants, qs, opts)
	if opts.Indices {
		n.gr.SetOutput(OutSub, concat(subs))
		n.gr.SetOutput(OutBucket, concat(buckets))
		n.gr.SetOutput(OutMarginSub, concat(msubs))
		n.gr.SetOutput(OutMarginBucket, concat(mbuckets))
	}
	for _, o := range append(dists, ords...) {
		n.gr.SetOutput(o.Name, o.Node)
	}
	if opts.IDs {
		n.gr.SetOutput(OutIDs, ids)
	}
}
