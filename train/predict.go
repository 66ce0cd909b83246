package train

import (
	"fmt"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// Predictions are per-row, per-task decodes.
type Predictions struct {
	Horizons []int
	ArgMax   [][]float64 // [n][T], Eq. 7-8
	EV       [][]float64 // [n][T], expected value
}

// Predictor scores encoded rows with the model's inference graph on the
// native runtime (the training-time forward pass).
type Predictor struct {
	m    *Model
	sess *native.Session
}

// NewPredictor compiles the inference graph.
func (m *Model) NewPredictor() (*Predictor, error) {
	gr, err := m.InferGraph(InferOptions{})
	if err != nil {
		return nil, err
	}
	s, err := native.New(gr, native.Options{})
	if err != nil {
		return nil, err
	}
	return &Predictor{m: m, sess: s}, nil
}

// Predict scores rows of ds (all rows when rows is nil) in batches.
func (p *Predictor) Predict(ds *data.Dataset, rows []int) (*Predictions, error) {
	if ds.F != len(p.m.Features) {
		return nil, fmt.Errorf("predict: data has %d feature slots, model expects %d", ds.F, len(p.m.Features))
	}
	if rows == nil {
		rows = make([]int, ds.N)
		for i := range rows {
			rows[i] = i
		}
	}
	T := len(p.m.Horizons)
	out := &Predictions{Horizons: p.m.Horizons, ArgMax: make([][]float64, len(rows)), EV: make([][]float64, len(rows))}
	const bs = 4096
	ids := &g.Tensor{}
	for i := 0; i < len(rows); i += bs {
		batch := rows[i:min(i+bs, len(rows))]
		ids.Reset(g.Int64, []int{len(batch), ds.F})
		for k, r := range batch {
			ds.RowInt64(r, ids.I[k*ds.F:(k+1)*ds.F])
		}
		res, err := p.sess.Run(map[string]*g.Tensor{InputIDs: ids})
		if err != nil {
			return nil, err
		}
		a, e := res[OutLTV], res[OutLTVEV]
		for k := range batch {
			ra, re := make([]float64, T), make([]float64, T)
			for t := 0; t < T; t++ {
				ra[t] = float64(a.F[k*T+t])
				re[t] = float64(e.F[k*T+t])
			}
			out.ArgMax[i+k], out.EV[i+k] = ra, re
		}
	}
	return out, nil
}

// Labels returns the model's task labels for rows of ds ([n][T]).
func (m *Model) LabelsOf(ds *data.Dataset, rows []int) [][]float64 {
	if rows == nil {
		rows = make([]int, ds.N)
		for i := range rows {
			rows[i] = i
		}
	}
	out := make([][]float64, len(rows))
	for k, r := range rows {
		row := make([]float64, len(m.Labels))
		for t, li := range m.Labels {
			row[t] = float64(ds.Y[r*ds.T+li])
		}
		out[k] = row
	}
	return out
}
