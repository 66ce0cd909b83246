package train

import (
	"fmt"
	"math"

	g "github.com/odmn/odmn/graph"
)

// Baseline heads share ODMN's embedding layer and share-bottom, so the
// comparison isolates the head and the loss. Both work in scaled label
// units (y / Scales[t], the training label mean of the task) for
// conditioning; predictions are scaled back.

// scalarHeads builds one tower per task over the bottom with k outputs.
func (n *net) scalarHeads(h *g.Node, in, k int, kind Head) []*g.Node {
	outs := make([]*g.Node, len(n.m.Horizons))
	for t, hz := range n.m.Horizons {
		outs[t] = n.tower(h, fmt.Sprintf("t%d.%s", hz, kind), in, k)
	}
	return outs
}

// zilnSigmaFloor is the smallest lognormal scale the ZILN loss uses:
// sqrt(1e-7), the sqrt(keras epsilon) floor of google/lifetime_value's
// zero_inflated_lognormal_loss. It keeps log(sigma) finite when softplus
// underflows in float32.
const zilnSigmaFloor = 3.1622776601683794e-4 // math.Sqrt(1e-7)

// zilnParts splits a ZILN head [N, 3] into the positive-class logit, the
// lognormal location mu and the scale sigma = softplus(raw), as
// google/lifetime_value's zero_inflated_lognormal does.
func zilnParts(z *g.Node) (logit, mu, sigma *g.Node) {
	return cols(z, 0, 1), cols(z, 1, 1), g.Softplus(cols(z, 2, 1))
}

// ZILNPredict is the ZILN expected value sigmoid(p) * exp(mu + sigma^2/2)
// with sigma = softplus(raw), unfloored, as zero_inflated_lognormal_pred.
func ZILNPredict(z *g.Node) *g.Node {
	logit, mu, sigma := zilnParts(z)
	half := g.ScalarLike(z, 0.5)
	return g.Mul(g.Sigmoid(logit), g.Exp(g.Add(mu, g.Mul(half, g.Mul(sigma, sigma)))))
}

// zilnRows are the two per-row terms of zero_inflated_lognormal_loss: for
// every row, BCE(y > 0) on the logit plus, for a positive label, the
// lognormal negative log-likelihood
//
//	log y + log sigma + log(2 pi)/2 + (log y - mu)^2 / (2 sigma^2)
//
// with sigma = max(softplus(raw), sqrt(1e-7)). The inputs are [N, 1]
// columns: log y (0 where y = 0) and the positive indicator. A zero row
// contributes softplus(p) only.
func zilnRows(z, logy, pos *g.Node) (bce, nll *g.Node) {
	logit, mu, sigma := zilnParts(z)
	sigma = g.Max(sigma, g.ScalarLike(z, zilnSigmaFloor))
	bce = g.Sub(g.Softplus(logit), g.Mul(pos, logit))
	d := g.Sub(logy, mu)
	half := g.ScalarLike(z, 0.5)
	c := g.ScalarLike(z, 0.5*math.Log(2*math.Pi))
	nll = g.Add(g.Add(logy, g.Log(sigma)), g.Add(c, g.Div(g.Mul(half, g.Mul(d, d)), g.Mul(sigma, sigma))))
	return bce, g.Mul(pos, nll)
}

// zilnLoss is zero_inflated_lognormal_loss averaged over the batch.
func zilnLoss(z, logy, pos *g.Node) *g.Node {
	bce, nll := zilnRows(z, logy, pos)
	return g.Add(g.ReduceMean(bce, nil, false), g.ReduceMean(nll, nil, false))
}

// zilnLoss is the ZILN loss averaged over the whole batch (a norm).
func (n *net) zilnLoss(z, logy, pos *g.Node) *g.Node {
	bce, nll := zilnRows(z, logy, pos)
	return g.Add(n.batchMean(bce), n.batchMean(nll))
}

// baselineTarget fills one row of the baseline target input [N, 3T]:
// scaled label, its log (0 for zero labels) and the positive indicator.
func (m *Model) baselineTarget(row []float32, labels []float64) {
	T := len(m.Horizons)
	for t, y := range labels {
		ys := y / m.Scales[t]
		row[t] = float32(ys)
		row[T+t], row[2*T+t] = 0, 0
		if y > 0 {
			row[T+t] = float32(math.Log(ys))
			row[2*T+t] = 1
		}
	}
}

// baselineLoss builds the MSE or ZILN loss over all tasks.
func (n *net) baselineLoss(heads []*g.Node, y *g.Node) Losses {
	T := len(heads)
	terms := map[string]*g.Node{}
	var total *g.Node
	for t, z := range heads {
		var l *g.Node
		switch n.m.Cfg.Variant.Parts().Head {
		case HeadMSE:
			d := g.Sub(z, cols(y, t, 1))
			l = n.batchMean(g.Mul(d, d))
		default:
			l = n.zilnLoss(z, cols(y, T+t, 1), cols(y, 2*T+t, 1))
		}
		if total == nil {
			total = l
		} else {
			total = g.Add(total, l)
		}
	}
	terms[string(n.m.Cfg.Variant)] = total
	return Losses{Total: total, Terms: terms}
}

// baselinePredict turns heads into predictions in label units [N, 1] each.
func (n *net) baselinePredict(heads []*g.Node) []*g.Node {
	out := make([]*g.Node, len(heads))
	for t, z := range heads {
		var p *g.Node
		if n.m.Cfg.Variant.Parts().Head == HeadZILN {
			p = ZILNPredict(z)
		} else {
			// LTV is never negative: the MSE head's prediction is clipped at 0.
			p = g.Relu(z)
		}
		out[t] = g.Mul(p, n.gr.Const(g.ScalarF32(float32(n.m.Scales[t]))))
	}
	return out
}
