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
	if ds.N > math.MaxInt32 {
		return nil, nil, fmt.Errorf("train: %d rows, at most %d in one table", ds.N, math.MaxInt32)
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
	// The shuffled order, 4 bytes a row (the table's rows are counted in
	// int32 everywhere a row index is stored per row).
	order := make([]int32, len(trainIdx))
	for i, r := range trainIdx {
		order[i] = int32(r)
	}
	trainRows := len(trainIdx)
	trainIdx = nil
	tr, err := newTrainer(m)
	if err != nil {
		return nil, nil, err
	}
	h := &History{TrainRows: trainRows, ValRows: len(valIdx)}
	best := math.Inf(1)
	bestParams := snapshot(m)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xba7c4))
	batch := make([]int, 0, cfg.Batch)
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
			batch = batch[:0]
			for _, r := range order[b*cfg.Batch : min((b+1)*cfg.Batch, len(order))] {
				batch = append(batch, int(r))
			}
			rows := batch
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
	if cfg.ProbCal {
		if err := m.CalibrateProbs(ds, allRowsOf(ds.N)); err != nil {
			return nil, nil, err
		}
	}
	if cfg.BiasCal {
		if err := m.CalibrateBias(ds, allRowsOf(ds.N)); err != nil {
			return nil, nil, err
		}
	}
	if err := m.FreezeQM(ds, valIdx); err != nil {
		return nil, nil, err
	}
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
	mdme := cfg.Variant.Parts().Head == HeadMDME
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

// trainer holds the compiled training graph, its workers and the
// optimizer.
type trainer struct {
	m       *Model
	sess    *native.Session
	params  []*Param // dense-gradient parameters, in output order
	adam    *Adam
	team    *team // runs the parallel sections of a step
	layouts []targetLayout
	names   []string // loss, dense gradients, embedding rows
	norms   []normSpec
	// gradOff[i] is where params[i]'s gradient starts in a worker's grad.
	gradOff []int
	gradLen int
	// adamParams are params and then the embedding table, Adam's order.
	adamParams []*Param

	// the embedding table (sparse gradient): where each feature's rows
	// start (and, last, the table's end), the table's gradient and the
	// rows the last step touched, per feature
	emb     *Param
	offsets []int32
	embGrad *g.Tensor
	touched []touchedRows // per worker
	mark    []bool

	workers  []*worker
	nworkers int
	loss     float64
}

func newTrainer(m *Model) (*trainer, error) {
	return newTrainerOpts(m, native.Options{})
}

func newTrainerOpts(m *Model, opts native.Options) (*trainer, error) {
	if err := checkWorkers(m.Cfg.Threads); err != nil {
		return nil, err
	}
	gr, params, norms, err := m.trainGraphFor(nil, true)
	if err != nil {
		return nil, fmt.Errorf("train: building the graph: %w", err)
	}
	s, err := native.New(gr, opts)
	if err != nil {
		return nil, err
	}
	tr := &trainer{m: m, sess: s, params: params, adam: NewAdam(m.Cfg.LR, m.Cfg.EmbedLR), norms: norms}
	for _, tb := range m.Tasks {
		tr.layouts = append(tr.layouts, layoutFor(tb))
	}
	tr.names = []string{OutLoss}
	tr.gradOff = []int{0}
	for _, p := range params {
		tr.names = append(tr.names, gradPfx+p.Name)
		tr.gradOff = append(tr.gradOff, tr.gradOff[len(tr.gradOff)-1]+len(p.T.F))
	}
	tr.gradLen = tr.gradOff[len(params)]
	tr.emb = m.Param(embeddingParam)
	if tr.emb != nil {
		tr.names = append(tr.names, OutEmbedRows)
		off := int32(0)
		for _, f := range m.Features {
			tr.offsets = append(tr.offsets, off)
			off += int32(f.Cardinality)
		}
		tr.offsets = append(tr.offsets, off)
		tr.embGrad = g.NewTensor(g.Float32, tr.emb.T.Shape)
		tr.mark = make([]bool, tr.emb.T.Shape[0])
	}
	threads := m.Cfg.Threads
	if threads == 0 {
		threads = defaultWorkers()
	}
	tr.setWorkers(threads)
	tr.adam.Threads = threads
	return tr, nil
}

// feed fills the inputs for rows as one block (for tests and evaluation
// outside the workers).
func (tr *trainer) feed(ds *data.Dataset, rows []int) map[string]*g.Tensor {
	w := tr.workers[0]
	w.rows = rows
	tr.fill(ds, w)
	for k, s := range tr.norms {
		v := w.part[k]
		if s.task >= 0 {
			v = max(v, 1)
		}
		w.norms.F[k] = float32(v)
	}
	return w.feed
}

// step trains on one batch: the workers' forward and backward passes, the
// gradients reduced, one Adam update. In steady state it allocates only
// the goroutines of the workers.
func (tr *trainer) step(ds *data.Dataset, rows []int) (float64, error) {
	ws := tr.prepare(ds, rows)
	if err := tr.run(ws, tr.names, tr.keepGrads); err != nil {
		return 0, err
	}
	if tr.adamParams == nil {
		tr.adamParams = tr.params
		if tr.emb != nil {
			tr.adamParams = append(tr.params[:len(tr.params):len(tr.params)], tr.emb)
		}
	}
	// One parallel pass: each worker sums its share of the gradients and
	// applies Adam to it.
	tr.adam.Begin(tr.adamParams)
	tr.reduceWith(ws, tr.adam.Update)
	tr.loss = 0
	for _, w := range ws {
		tr.loss += w.outs[0]
	}
	return tr.loss, nil
}

// evalLoss is the mean loss and terms over rows, in batches split over
// the workers.
func (tr *trainer) evalLoss(ds *data.Dataset, rows []int) (float64, map[string]float64, error) {
	names := []string{OutLoss}
	for _, t := range append(termOrder, string(tr.m.Cfg.Variant)) {
		for _, o := range tr.sess.OutputNames() {
			if o == lossPfx+t {
				names = append(names, o)
			}
		}
	}
	sums := make([]float64, len(names))
	bs := tr.m.Cfg.Batch * 4
	keep := func(w *worker, outs []*g.Tensor) error {
		w.outs = w.outs[:0]
		for _, o := range outs {
			w.outs = append(w.outs, float64(o.F[0]))
		}
		return nil
	}
	for i := 0; i < len(rows); i += bs {
		batch := rows[i:min(i+bs, len(rows))]
		ws := tr.prepare(ds, batch)
		if err := tr.run(ws, names, keep); err != nil {
			return 0, nil, err
		}
		for k := range names {
			var v float64
			for _, w := range ws {
				v += w.outs[k]
			}
			sums[k] += v * float64(len(batch))
		}
	}
	n := float64(len(rows))
	terms := map[string]float64{}
	for k, name := range names {
		if strings.HasPrefix(name, lossPfx) {
			terms[name[len(lossPfx):]] = sums[k] / n
		}
	}
	return sums[0] / n, terms, nil
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

// SetThreads sets the number of workers a step's batch is split over
// (0: GOMAXPROCS).
func (s *Stepper) SetThreads(n int) {
	if n <= 0 {
		n = defaultWorkers()
	}
	s.tr.setWorkers(n)
	s.tr.adam.Threads = n
}

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
