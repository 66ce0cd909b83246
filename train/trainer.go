package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// Progress is reported after every batch.
type Progress struct {
	Epoch, Epochs    int
	Batch, Batches   int
	Samples          int     // samples seen this epoch
	Loss             float64 // running mean training loss this epoch
	SamplesPerSecond float64
}

// EpochStats is one row of the training curve.
type EpochStats struct {
	Epoch     int                `json:"epoch"`
	TrainLoss float64            `json:"train_loss"`
	ValLoss   float64            `json:"val_loss"`
	ValTerms  map[string]float64 `json:"val_terms"`
	Seconds   float64            `json:"seconds"`
	Best      bool               `json:"best"`
}

// History is the training curve.
type History struct {
	Epochs    []EpochStats `json:"epochs"`
	BestEpoch int          `json:"best_epoch"`
	Stopped   string       `json:"stopped"` // why training ended
	TrainRows int          `json:"train_rows"`
	ValRows   int          `json:"val_rows"`
}

// Hooks let a caller watch training; any may be nil.
type Hooks struct {
	OnBatch func(Progress)
	// OnEpoch runs after each epoch with the model at its best epoch so far;
	// the CLI writes the checkpoint here. An error stops training.
	OnEpoch func(m *Model, h *History) error
	// Prepare, when set, builds the starting model instead of Prepare
	// (a warm start: Warm.Prepare).
	Prepare func(ds *data.Dataset, trainIdx []int, cfg Config) (*Model, error)
}

// Fit trains a model on ds. The validation split (cfg.ValFrac) drives early
// stopping; the returned model has the best validation loss's parameters.
// When ctx is cancelled, training stops after the current batch and the
// model of the last complete epoch is returned with ctx's error.
func Fit(ctx context.Context, ds *data.Dataset, cfg Config, hooks Hooks) (*Model, *History, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if ds.N < 2 {
		return nil, nil, fmt.Errorf("train: need at least 2 rows, got %d", ds.N)
	}
	trainIdx, valIdx := data.Split(ds.N, cfg.ValFrac, cfg.Seed)
	if len(valIdx) == 0 {
		valIdx = trainIdx // no validation split asked for: monitor the training loss
	}
	prepare := Prepare
	if hooks.Prepare != nil {
		prepare = hooks.Prepare
	}
	m, err := prepare(ds, trainIdx, cfg)
	if err != nil {
		return nil, nil, err
	}
	tr, err := newTrainer(m)
	if err != nil {
		return nil, nil, err
	}
	h := &History{TrainRows: len(trainIdx), ValRows: len(valIdx)}
	best := math.Inf(1)
	bestParams := snapshot(m)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xba7c4))
	order := append([]int{}, trainIdx...)
	stale := 0
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		batches := (len(order) + cfg.Batch - 1) / cfg.Batch
		var sum float64
		seen := 0
		for b := 0; b < batches; b++ {
			if err := ctx.Err(); err != nil {
				restore(m, bestParams)
				h.Stopped = "interrupted"
				return m, h, err
			}
			rows := order[b*cfg.Batch : min((b+1)*cfg.Batch, len(order))]
			loss, err := tr.step(ds, rows)
			if err != nil {
				return nil, nil, fmt.Errorf("epoch %d batch %d: %w", epoch, b+1, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, nil, fmt.Errorf("epoch %d batch %d: training diverged (loss %v); lower the learning rates", epoch, b+1, loss)
			}
			sum += loss * float64(len(rows))
			seen += len(rows)
			if hooks.OnBatch != nil {
				hooks.OnBatch(Progress{Epoch: epoch, Epochs: cfg.Epochs, Batch: b + 1, Batches: batches,
					Samples: seen, Loss: sum / float64(seen), SamplesPerSecond: float64(seen) / time.Since(start).Seconds()})
			}
		}
		vl, terms, err := tr.evalLoss(ds, valIdx)
		if err != nil {
			return nil, nil, err
		}
		st := EpochStats{Epoch: epoch, TrainLoss: sum / float64(seen), ValLoss: vl, ValTerms: terms, Seconds: time.Since(start).Seconds()}
		if vl < best {
			best, stale = vl, 0
			bestParams = snapshot(m)
			st.Best = true
			h.BestEpoch = epoch
		} else {
			stale++
		}
		h.Epochs = append(h.Epochs, st)
		if hooks.OnEpoch != nil {
			cur := snapshot(m)
			restore(m, bestParams)
			err := hooks.OnEpoch(m, h)
			restore(m, cur)
			if err != nil {
				return nil, nil, err
			}
		}
		if cfg.Patience > 0 && stale >= cfg.Patience {
			h.Stopped = fmt.Sprintf("early stop: no validation gain for %d epochs", stale)
			break
		}
	}
	if h.Stopped == "" {
		h.Stopped = "epochs done"
	}
	restore(m, bestParams)
	return m, h, nil
}

// Prepare fits the label layout on the training rows and lays out a model.
func Prepare(ds *data.Dataset, trainIdx []int, cfg Config) (*Model, error) {
	horizons := ds.Horizons()
	if len(horizons) == 0 {
		return nil, errors.New("train: data set has no labels")
	}
	var labelIdx []int
	if cfg.Variant.Parts().SingleHorizon {
		labelIdx = []int{len(horizons) - 1}
	} else {
		for i := range horizons {
			labelIdx = append(labelIdx, i)
		}
	}
	var hs []int
	var tasks []TaskBuckets
	var scales []float64
	ys := make([]float32, len(trainIdx))
	mdme := cfg.Variant.Parts().Head == "mdme"
	for _, li := range labelIdx {
		for i, r := range trainIdx {
			ys[i] = ds.Y[r*ds.T+li]
		}
		if mdme {
			tb, err := FitBuckets(horizons[li], ys, cfg.Buckets)
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, tb)
		}
		hs = append(hs, horizons[li])
		scale := 0.0
		for _, y := range ys {
			scale += float64(y)
		}
		scale /= float64(len(ys))
		if scale <= 0 {
			scale = 1
		}
		scales = append(scales, scale)
	}
	m := NewModel(cfg, ds.Features, hs, labelIdx, tasks, scales[len(scales)-1])
	m.Scales = scales
	return m, nil
}

// trainer holds the compiled training graph and reusable batch buffers.
type trainer struct {
	m       *Model
	sess    *native.Session
	params  []*Param
	adam    *Adam
	layouts []targetLayout
	names   []string // grad output names
	ids     *g.Tensor
	targets []*g.Tensor
	grads   []*g.Tensor
	// baseline is the MSE/ZILN target buffer.
	baseline *g.Tensor
	inputs   map[string]*g.Tensor // the feed, refilled for every batch
	lab      []float64
	loss     float64
}

func newTrainer(m *Model) (*trainer, error) {
	return newTrainerOpts(m, native.Options{})
}

func newTrainerOpts(m *Model, opts native.Options) (*trainer, error) {
	gr, params, err := m.TrainGraph()
	if err != nil {
		return nil, fmt.Errorf("train: building the graph: %w", err)
	}
	s, err := native.New(gr, opts)
	if err != nil {
		return nil, err
	}
	tr := &trainer{m: m, sess: s, params: params, adam: NewAdam(m.Cfg.LR, m.Cfg.EmbedLR),
		ids: &g.Tensor{}, grads: make([]*g.Tensor, len(params)), baseline: &g.Tensor{},
		inputs: map[string]*g.Tensor{}, lab: make([]float64, len(m.Horizons))}
	for _, tb := range m.Tasks {
		tr.layouts = append(tr.layouts, layoutFor(tb))
		tr.targets = append(tr.targets, &g.Tensor{})
	}
	tr.names = []string{OutLoss}
	for _, p := range params {
		tr.names = append(tr.names, gradPfx+p.Name)
	}
	return tr, nil
}

// feed fills the batch inputs for rows.
func (tr *trainer) feed(ds *data.Dataset, rows []int) map[string]*g.Tensor {
	m := tr.m
	F := ds.F
	tr.ids.Reset(g.Int64, []int{len(rows), F})
	for i, r := range rows {
		for j, v := range ds.X[r*F : (r+1)*F] {
			tr.ids.I[i*F+j] = int64(v)
		}
	}
	feed := tr.inputs
	feed[InputIDs] = tr.ids
	if len(m.Tasks) == 0 { // baseline heads
		T := len(m.Horizons)
		tt := tr.baseline
		tt.Reset(g.Float32, []int{len(rows), 3 * T})
		lab := tr.lab
		for i, r := range rows {
			for t, li := range m.Labels {
				lab[t] = float64(ds.Y[r*ds.T+li])
			}
			m.baselineTarget(tt.F[i*3*T:(i+1)*3*T], lab)
		}
		feed[BaselineTarget] = tt
		return feed
	}
	for t := range m.Tasks {
		l := &tr.layouts[t]
		tt := tr.targets[t]
		tt.Reset(g.Float32, []int{len(rows), l.width})
		li := m.Labels[t]
		for i, r := range rows {
			l.fill(tt.F[i*l.width:(i+1)*l.width], &m.Tasks[t], float64(ds.Y[r*ds.T+li]))
		}
		feed[m.TargetInput(t)] = tt
	}
	return feed
}

// step trains on one batch: forward, backward and the Adam update, with
// the gradients read in place from the session's buffers (no copy, no
// allocation in steady state).
func (tr *trainer) step(ds *data.Dataset, rows []int) (float64, error) {
	err := tr.sess.RunWith(tr.feed(ds, rows), tr.names, tr.update)
	return tr.loss, err
}

// update is step's callback: outs are the loss and then the gradients.
func (tr *trainer) update(outs []*g.Tensor) error {
	copy(tr.grads, outs[1:])
	tr.adam.Step(tr.params, tr.grads)
	clear(tr.grads)
	tr.loss = float64(outs[0].F[0])
	return nil
}

// evalLoss is the mean loss and terms over rows, in batches.
func (tr *trainer) evalLoss(ds *data.Dataset, rows []int) (float64, map[string]float64, error) {
	names := []string{OutLoss}
	for _, t := range append(termOrder, string(tr.m.Cfg.Variant)) {
		for _, o := range tr.sess.OutputNames() {
			if o == lossPfx+t {
				names = append(names, o)
			}
		}
	}
	sums := map[string]float64{}
	bs := tr.m.Cfg.Batch * 4
	for i := 0; i < len(rows); i += bs {
		batch := rows[i:min(i+bs, len(rows))]
		res, err := tr.sess.Run(tr.feed(ds, batch), names...)
		if err != nil {
			return 0, nil, err
		}
		for k, v := range res {
			sums[k] += float64(v.F[0]) * float64(len(batch))
		}
	}
	n := float64(len(rows))
	terms := map[string]float64{}
	for k, v := range sums {
		if strings.HasPrefix(k, lossPfx) {
			terms[k[len(lossPfx):]] = v / n
		}
	}
	return sums[OutLoss] / n, terms, nil
}

func snapshot(m *Model) [][]float32 {
	out := make([][]float32, len(m.params))
	for i, p := range m.params {
		out[i] = append([]float32{}, p.T.F...)
	}
	return out
}

func restore(m *Model, s [][]float32) {
	for i, p := range m.params {
		if i < len(s) {
			copy(p.T.F, s[i])
		}
	}
}

// Stepper runs single training steps of a model (forward, backward, Adam)
// outside Fit: for benchmarks and profiles.
type Stepper struct{ tr *trainer }

// NewStepper compiles m's training graph with the given session options.
func NewStepper(m *Model, opts native.Options) (*Stepper, error) {
	tr, err := newTrainerOpts(m, opts)
	if err != nil {
		return nil, err
	}
	return &Stepper{tr: tr}, nil
}

// Step trains on rows of ds and returns the batch loss.
func (s *Stepper) Step(ds *data.Dataset, rows []int) (float64, error) { return s.tr.step(ds, rows) }

// Session is the native session running the training graph.
func (s *Stepper) Session() *native.Session { return s.tr.sess }
