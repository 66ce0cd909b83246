package train

import (
	"fmt"

	g "odmn/graph"
)

// Input and output names of the graphs a model builds.
const (
	InputIDs  = "ids"    // int64 [N, F]: encoded features
	OutLTV    = "ltv"    // float32 [N, T]: argmax decode (Eq. 7-8)
	OutLTVEV  = "ltv_ev" // float32 [N, T]: expected-value decode
	OutLoss   = "loss"
	lossPfx   = "loss/"
	gradPfx   = "grad/"
	targetPfx = "y"
	// BaselineTarget is the target input of the MSE and ZILN heads [N, 3T].
	BaselineTarget = "y"
)

// TargetInput names task t's target input.
func (m *Model) TargetInput(t int) string { return fmt.Sprintf("%s%d", targetPfx, m.Horizons[t]) }

// TrainGraph builds the training graph: inputs ids and one target matrix
// per task; outputs the total loss, each loss term ("loss/dct", ...) and
// the gradient of the loss for every parameter ("grad/<name>"), in the
// order of the returned parameters.
func (m *Model) TrainGraph() (*g.Graph, []*Param, error) {
	return m.trainGraph(nil)
}

func (m *Model) trainGraph(stop func(*net, *g.Node) *g.Node) (*g.Graph, []*Param, error) {
	n := newNet(m, "odmn-train")
	if stop != nil {
		n.stop = func(x *g.Node) *g.Node { return stop(n, x) }
	}
	var params []*Param
	err := g.Catch(func() {
		ids := n.gr.Input(InputIDs, g.Int64, -1, len(m.Features))
		var l Losses
		if head := m.Cfg.Variant.Parts().Head; head != "mdme" {
			h, in := n.trunk(ids)
			k := 1
			if head == "ziln" {
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
			if x, ok := n.nodes[p.Name]; ok {
				wrt = append(wrt, x)
				params = append(params, p)
			}
		}
		grads, err := g.Gradients(l.Total, wrt...)
		if err != nil {
			panic(&g.BuildError{Err: err})
		}
		for i, gr := range grads {
			n.gr.SetOutput(gradPfx+params[i].Name, gr)
		}
	})
	return n.gr, params, err
}

// InferOptions choose the extra outputs of an inference graph.
type InferOptions struct {
	// Distributions adds o_<h> [N, M_t] for every task.
	Distributions bool
	// Indices adds sub_<h> and bucket_<h> [N, 1] int64 (s* and global u*).
	Indices bool
}

// InferGraph builds the scoring graph: ids in; ltv and ltv_ev [N, T] out.
func (m *Model) InferGraph(opts InferOptions) (*g.Graph, error) {
	n := newNet(m, "odmn")
	err := g.Catch(func() {
		ids := n.gr.Input(InputIDs, g.Int64, -1, len(m.Features))
		if head := m.Cfg.Variant.Parts().Head; head != "mdme" {
			h, in := n.trunk(ids)
			k := 1
			if head == "ziln" {
				k = 3
			}
			p := concat(n.baselinePredict(n.scalarHeads(h, in, k, head)))
			n.gr.SetOutput(OutLTV, p)
			n.gr.SetOutput(OutLTVEV, g.Identity(p))
			return
		}
		outs := n.forward(ids)
		var ltv, ev []*g.Node
		var extra []g.Output
		for t, to := range outs {
			subOf := n.gr.Const(g.I64([]int{m.Tasks[t].NumBuckets()}, subOfBuckets(m.Tasks[t])))
			a, e, s, u := Decode(to.p, to.q, to.values, subOf)
			ltv = append(ltv, a)
			ev = append(ev, e)
			h := m.Horizons[t]
			if opts.Distributions {
				extra = append(extra, g.Output{Name: fmt.Sprintf("o_%d", h), Node: to.o})
			}
			if opts.Indices {
				extra = append(extra, g.Output{Name: fmt.Sprintf("sub_%d", h), Node: s},
					g.Output{Name: fmt.Sprintf("bucket_%d", h), Node: u})
			}
		}
		n.gr.SetOutput(OutLTV, concat(ltv))
		n.gr.SetOutput(OutLTVEV, concat(ev))
		for _, o := range extra {
			n.gr.SetOutput(o.Name, o.Node)
		}
	})
	return n.gr, err
}
