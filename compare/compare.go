package compare

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/report"
	"github.com/odmn/odmn/train"
	"github.com/odmn/odmn/train/twostage"
)

// Schema names the version of the [Result] JSON layout.
const Schema = "odmn.compare/v1"

// Model keys: the train variants plus Two-Stage.
const TwoStage = twostage.Kind

// MainModels are the models of every comparison, in table order.
var MainModels = []string{TwoStage, string(train.ZILN), string(train.MSE), string(train.ODMN)}

// AblationModels are added by Options.Ablations: the single-horizon
// ablations of Table 2 and the multi-horizon ones of Table 3 (ODMN itself
// is in MainModels).
var AblationModels = []string{string(train.NM), string(train.NMB), string(train.NMO), string(train.MDME),
	string(train.S), string(train.SM), string(train.SC)}

// Name is the display name of a model key.
func Name(key string) string {
	switch key {
	case TwoStage:
		return "Two-Stage"
	case string(train.MSE):
		return "MSE-MLP"
	case string(train.ZILN):
		return "ZILN"
	}
	return strings.ToUpper(key)
}

// Decode kinds.
const (
	KindMean  = "mean"  // an estimate of E[y | x]
	KindPoint = "point" // a decision, then a value (argmax, Two-Stage hard)
	// KindQM: the mean-type prediction quantile-matched onto the model's
	// own predicted population distribution (train.QMSketch), and ODMN's
	// frozen form of it.
	KindQM = "qm"
)

// Options configure a comparison. Zero values take the defaults noted.
type Options struct {
	// Data is the user table (.csv or .parquet); Spec its feature spec
	// (default: data.SpecPathFor(Data)).
	Data, Spec string
	// Seeds, one comparison each (default 1, 2, 3, 4, 5).
	Seeds []uint64
	// TestFrac is the share of rows held out for evaluation (0.2).
	TestFrac float64
	// Models are the model keys to train (default MainModels, plus
	// AblationModels with Ablations). Two-Stage and ZILN, ODMN and the
	// ablations may be given in any order; runs follow MainModels, then
	// AblationModels.
	Models []string
	// Ablations adds AblationModels to the default Models.
	Ablations bool
	// Config is the configuration of every neural model (default
	// train.DefaultConfig()); Variant and Seed are set per run.
	Config *train.Config
	// TwoStage is the Two-Stage configuration (its defaults); Seed is set
	// per run.
	TwoStage twostage.Config
	// LorenzPoints: segments of the Lorenz curves kept for the plots of the
	// first seed (report.DefaultLorenzPoints).
	LorenzPoints int
	// Progress, if not nil, receives an [Event] before and after every run
	// and after every training batch.
	Progress func(Event)
}

// Event reports progress.
type Event struct {
	// Run is the 1-based index of the run (a model and a seed) out of Runs.
	Run, Runs int
	Seed      uint64
	Model     string // display name
	// Batch is set during the training of a neural model.
	Batch *train.Progress
	// Done is set when the run has finished; Seconds is its wall time and
	// Detail a summary ("best epoch 4 of 6 (early stop ...)").
	Done    bool
	Seconds float64
	Detail  string
	// Stage names work outside the runs ("loading seed 2").
	Stage string
}

// Result is a comparison: its inputs, every run's evaluation and the
// aggregated tables.
type Result struct {
	Schema   string          `json:"schema"`
	Data     DataInfo        `json:"data"`
	Seeds    []uint64        `json:"seeds"`
	TestFrac float64         `json:"test_frac"`
	Models   []string        `json:"models"`
	Config   train.Config    `json:"config"`
	TwoStage twostage.Config `json:"twostage"`
	// Runs holds one entry per seed and model, seeds in order.
	Runs []ModelRun `json:"runs"`
	// Tables are the aggregated tables over seeds.
	Tables []Table `json:"tables"`
	// Paired compares ODMN's decodes with the baselines seed by seed.
	Paired []Paired `json:"paired"`
	// Extras are the interval and running-maximum summaries.
	Extras []Extra `json:"extras,omitempty"`
	// Timings are the wall-clock seconds of every run; the only part of a
	// Result that changes between identical runs.
	Timings []Timing `json:"timings"`

	// curves are the evaluations of the first seed with their Lorenz
	// curves, for the plots; model is the run's key.
	curves []curveEval
}

// DataInfo describes the table compared on.
type DataInfo struct {
	Path      string   `json:"path"`
	Rows      int      `json:"rows"`
	TrainRows int      `json:"train_rows"` // per seed (incl. validation)
	TestRows  int      `json:"test_rows"`
	Horizons  []int    `json:"horizons"`
	Labels    []string `json:"labels"`
	LabelKind string   `json:"label_kind,omitempty"`
	// ZeroShare and Mean are the share of zero labels and the label mean
	// per horizon, over all rows.
	ZeroShare []float64 `json:"zero_share"`
	Mean      []float64 `json:"mean"`
}

// ModelRun is one model trained and evaluated with one seed.
type ModelRun struct {
	Seed  uint64 `json:"seed"`
	Model string `json:"model"` // key
	// Training summary of a neural model.
	BestEpoch int      `json:"best_epoch,omitempty"`
	Epochs    int      `json:"epochs,omitempty"`
	Stopped   string   `json:"stopped,omitempty"`
	ValLoss   *float64 `json:"best_val_loss,omitempty"`
	// Rounds of a Two-Stage model per horizon: classifier and regressor.
	Rounds [][2]int `json:"rounds,omitempty"`
	Evals  []Eval   `json:"evals"`
}

// Eval is the evaluation of one prediction of a run on the held-out rows.
type Eval struct {
	Name   string              `json:"name"` // table row name, e.g. "ODMN EV"
	Kind   string              `json:"kind"` // KindMean, KindPoint or KindQM
	Report metrics.MultiReport `json:"report"`
	// Changed is the share of users whose values the running maximum
	// across horizons changed (the raw decode's violation rate).
	Changed *float64 `json:"changed_by_running_max,omitempty"`
	// Intervals evaluates the model's predictive quantiles, per horizon.
	Intervals []metrics.IntervalReport `json:"intervals,omitempty"`
}

// Table is one aggregated table.
type Table struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Note explains the rows.
	Note string          `json:"note,omitempty"`
	Rows []report.AggRow `json:"rows"`
	// Monotonicity of the multi-horizon rows, if any.
	Monotonicity []report.AggMono `json:"monotonicity,omitempty"`
}

// Timing is the wall time of one run.
type Timing struct {
	Seed    uint64  `json:"seed"`
	Model   string  `json:"model"`
	Seconds float64 `json:"seconds"`
}

// Validate checks o as Run does, without reading or writing any file, so
// that a caller can refuse bad options before it creates anything.
func (o Options) Validate() error { return o.defaults() }

func (o *Options) defaults() error {
	if o.Data == "" {
		return errors.New("compare: no data file")
	}
	if o.Spec == "" {
		o.Spec = data.SpecPathFor(o.Data)
	}
	if len(o.Seeds) == 0 {
		o.Seeds = []uint64{1, 2, 3, 4, 5}
	}
	seen := map[uint64]bool{}
	for _, s := range o.Seeds {
		if seen[s] {
			return fmt.Errorf("compare: seed %d given twice", s)
		}
		seen[s] = true
	}
	if o.TestFrac == 0 {
		o.TestFrac = 0.2
	}
	if !(o.TestFrac > 0 && o.TestFrac < 1) {
		return fmt.Errorf("compare: test share must be in (0, 1), got %v", o.TestFrac)
	}
	if o.Config == nil {
		c := train.DefaultConfig()
		o.Config = &c
	}
	if o.LorenzPoints <= 0 {
		o.LorenzPoints = report.DefaultLorenzPoints
	}
	all := append(append([]string{}, MainModels...), AblationModels...)
	if len(o.Models) == 0 {
		o.Models = append([]string{}, MainModels...)
		if o.Ablations {
			o.Models = append(o.Models, AblationModels...)
		}
	}
	want := map[string]bool{}
	for _, m := range o.Models {
		k := strings.ToLower(strings.TrimSpace(m))
		if k == "two-stage" || k == "xgboost" {
			k = TwoStage
		}
		if !slices.Contains(all, k) {
			return fmt.Errorf("compare: unknown model %q (one of %s)", m, strings.Join(all, ", "))
		}
		want[k] = true
	}
	o.Models = o.Models[:0:0]
	for _, k := range all {
		if want[k] {
			o.Models = append(o.Models, k)
		}
	}
	c := *o.Config
	c.Variant = train.ODMN
	if err := c.Validate(); err != nil {
		return err
	}
	o.TwoStage = o.TwoStage.WithDefaults()
	return o.TwoStage.Validate()
}

// Run trains and evaluates every model for every seed. On cancellation it
// returns ctx's error after the current batch.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	spec, err := data.LoadSpec(o.Spec)
	if err != nil {
		return nil, err
	}
	n, err := data.CountRows(o.Data)
	if err != nil {
		return nil, err
	}
	trainRows, testRows := data.Split(n, o.TestFrac, o.Seeds[0])
	if len(testRows) < 2 || len(trainRows) < 10 {
		return nil, fmt.Errorf("compare: %s has %d rows: too few to hold out %.0f%% for testing", o.Data, n, 100*o.TestFrac)
	}
	cfg := *o.Config
	cfg.Variant, cfg.Seed = train.ODMN, 0
	ts := o.TwoStage
	ts.Seed = 0
	res := &Result{Schema: Schema, Seeds: append([]uint64{}, o.Seeds...), TestFrac: o.TestFrac,
		Models: append([]string{}, o.Models...), Config: cfg, TwoStage: ts,
		Data: DataInfo{Path: o.Data, Rows: n, TrainRows: len(trainRows), TestRows: len(testRows)}}
	runs := len(o.Seeds) * len(o.Models)
	emit := func(e Event) {
		if o.Progress != nil {
			e.Runs = runs
			o.Progress(e)
		}
	}
	run := 0
	for si, seed := range o.Seeds {
		emit(Event{Run: run, Seed: seed, Stage: fmt.Sprintf("seed %d: fitting the encoder and loading %s", seed, o.Data)})
		trainDS, testDS, err := load(o.Data, spec, n, o.TestFrac, seed)
		if err != nil {
			return nil, err
		}
		if si == 0 {
			res.Data.fill(trainDS, testDS)
		}
		for _, key := range o.Models {
			run++
			name := Name(key)
			emit(Event{Run: run, Seed: seed, Model: name})
			t0 := time.Now()
			r, err := runModel(ctx, key, seed, trainDS, testDS, o, si == 0, func(p train.Progress) {
				emit(Event{Run: run, Seed: seed, Model: name, Batch: &p})
			})
			if err != nil {
				return nil, fmt.Errorf("seed %d, %s: %w", seed, name, err)
			}
			sec := time.Since(t0).Seconds()
			if si == 0 {
				for _, e := range r.Evals {
					mr := e.Report
					mr.Horizons = append([]metrics.Report(nil), mr.Horizons...) // stripCurves must not clear these
					res.curves = append(res.curves, curveEval{model: key, Eval: Eval{Name: e.Name, Kind: e.Kind, Report: mr}})
				}
				r.stripCurves()
			}
			res.Runs = append(res.Runs, r.ModelRun)
			res.Timings = append(res.Timings, Timing{Seed: seed, Model: key, Seconds: math.Round(sec*100) / 100})
			emit(Event{Run: run, Seed: seed, Model: name, Done: true, Seconds: sec, Detail: r.detail()})
		}
	}
	if err := res.aggregate(); err != nil {
		return nil, err
	}
	return res, nil
}

// load fits the encoder on the training rows of seed's split and returns
// the encoded training and test rows.
func load(path string, spec *data.Spec, n int, testFrac float64, seed uint64) (*data.Dataset, *data.Dataset, error) {
	trainRows, testRows := data.Split(n, testFrac, seed)
	enc, err := data.Fit(path, spec, data.FitOptions{Rows: trainRows, Seed: seed})
	if err != nil {
		return nil, nil, err
	}
	ds, err := data.Load(path, spec, enc)
	if err != nil {
		return nil, nil, err
	}
	if ds.N != n {
		return nil, nil, fmt.Errorf("compare: %s: %d rows counted, %d loaded", path, n, ds.N)
	}
	return ds.Subset(trainRows), ds.Subset(testRows), nil
}

func (d *DataInfo) fill(trainDS, testDS *data.Dataset) {
	d.Horizons = trainDS.Horizons()
	d.LabelKind = trainDS.LabelKind
	for _, l := range trainDS.Labels {
		d.Labels = append(d.Labels, l.Name)
	}
	for t := 0; t < trainDS.T; t++ {
		zeros, sum := 0, 0.0
		for _, ds := range []*data.Dataset{trainDS, testDS} {
			for i := 0; i < ds.N; i++ {
				y := float64(ds.Y[i*ds.T+t])
				sum += y
				if y == 0 {
					zeros++
				}
			}
		}
		rows := float64(trainDS.N + testDS.N)
		d.ZeroShare = append(d.ZeroShare, round6(float64(zeros)/rows))
		d.Mean = append(d.Mean, round6(sum/rows))
	}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// curveEval is an evaluation with its Lorenz curves and its model key.
type curveEval struct {
	Eval
	model string
}

// runResult is a ModelRun with what the summary line needs.
type runResult struct {
	ModelRun
}

func (r *runResult) stripCurves() {
	for i := range r.Evals {
		for h := range r.Evals[i].Report.Horizons {
			r.Evals[i].Report.Horizons[h].LorenzLabel = nil
			r.Evals[i].Report.Horizons[h].LorenzPred = nil
		}
	}
}

func (r *runResult) detail() string {
	var parts []string
	if r.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("best epoch %d of %d (%s)", r.BestEpoch, r.Epochs, r.Stopped))
	}
	if len(r.Rounds) > 0 {
		var s []string
		for _, rr := range r.Rounds {
			s = append(s, fmt.Sprintf("%d+%d", rr[0], rr[1]))
		}
		parts = append(parts, "boosting rounds "+strings.Join(s, ", "))
	}
	for _, e := range r.Evals {
		last := e.Report.Horizons[len(e.Report.Horizons)-1]
		if last.NormalizedGini != nil && last.NRMSE != nil {
			parts = append(parts, fmt.Sprintf("%s at %s: NRMSE %.4f, norm. Gini %.4f", e.Name, last.Horizon, *last.NRMSE, *last.NormalizedGini))
		}
	}
	return strings.Join(parts, "; ")
}

// runModel trains one model with one seed and evaluates it on testDS.
func runModel(ctx context.Context, key string, seed uint64, trainDS, testDS *data.Dataset, o Options, curves bool, onBatch func(train.Progress)) (*runResult, error) {
	r := &runResult{ModelRun: ModelRun{Seed: seed, Model: key}}
	mopts := metrics.Options{}
	if curves {
		mopts.LorenzPoints = o.LorenzPoints
	}
	eval := func(name, kind string, horizons []int, labels, preds [][]float64) error {
		mopts.Horizons = horizonNames(horizons)
		mr, err := metrics.ComputeMultiReport(labels, preds, mopts)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.Evals = append(r.Evals, Eval{Name: name, Kind: kind, Report: mr})
		return nil
	}
	valFrac := o.Config.ValFrac
	if key == TwoStage {
		cfg := o.TwoStage
		cfg.Seed = seed
		var trIdx, vaIdx []int
		if valFrac > 0 {
			trIdx, vaIdx = data.Split(trainDS.N, valFrac, seed) // train.Fit's validation rows
		} else {
			trIdx = allRows(trainDS.N)
		}
		m, err := twostage.Fit(trainDS, trIdx, vaIdx, cfg)
		if err != nil {
			return nil, err
		}
		defer m.Close()
		for _, s := range m.Stages {
			r.Rounds = append(r.Rounds, [2]int{s.ClassifierRounds, s.RegressorRounds})
		}
		p, err := m.PredictDetail(testDS, nil)
		if err != nil {
			return nil, err
		}
		hard := make([][]float64, len(p.LTV))
		for i := range hard {
			hard[i] = make([]float64, len(p.LTV[i]))
			for t, pr := range p.Premium[i] {
				if pr > 0.5 {
					hard[i][t] = p.Value[i][t]
				}
			}
		}
		labels := labelsOf(testDS, allLabels(testDS.T))
		if cfg.Combine == twostage.CombineHard {
			return r, eval("Two-Stage hard", KindPoint, p.Horizons, labels, hard)
		}
		if err := eval("Two-Stage", KindMean, p.Horizons, labels, p.LTV); err != nil {
			return nil, err
		}
		if err := eval("Two-Stage hard", KindPoint, p.Horizons, labels, hard); err != nil {
			return nil, err
		}
		// Its predicted distribution: 0 with 1 - P(pay), E[y | pay] with P(pay).
		sk := make([]*train.QMSketch, len(p.Horizons))
		for t := range sk {
			sk[t] = train.NewQMSketch()
		}
		ev := make([][]float64, len(p.LTV))
		for i := range p.LTV {
			ev[i] = append([]float64{}, p.LTV[i]...)
			train.MonotoneRows(ev[i : i+1])
			for t := range sk {
				pp := p.Premium[i][t]
				sk[t].AddUser(ev[i][t], []float64{1 - pp, pp}, []float64{0, p.Value[i][t]})
			}
		}
		qm, err := train.ApplyQM(ev, sk)
		if err != nil {
			return nil, err
		}
		return r, eval("Two-Stage QM", KindQM, p.Horizons, labels, qm)
	}
	cfg := *o.Config
	cfg.Variant, cfg.Seed = train.Variant(key), seed
	m, h, err := train.Fit(ctx, trainDS, cfg, train.Hooks{OnBatch: onBatch})
	if err != nil {
		return nil, err
	}
	r.BestEpoch, r.Epochs, r.Stopped = h.BestEpoch, len(h.Epochs), h.Stopped
	for _, e := range h.Epochs {
		if e.Epoch == h.BestEpoch {
			v := e.ValLoss
			r.ValLoss = &v
		}
	}
	p, err := m.NewPredictor()
	if err != nil {
		return nil, err
	}
	pr, err := p.Predict(testDS, nil)
	if err != nil {
		return nil, err
	}
	evals, err := Evaluate(m, Name(key), m.LabelsOf(testDS, nil), pr, nil, mopts.LorenzPoints)
	if err != nil {
		return nil, err
	}
	r.Evals = append(r.Evals, evals...)
	return r, nil
}

func allRows(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func allLabels(t int) []int { return allRows(t) }

// labelsOf returns the label columns cols of every row ([n][len(cols)]).
func labelsOf(ds *data.Dataset, cols []int) [][]float64 {
	out := make([][]float64, ds.N)
	for i := range out {
		row := make([]float64, len(cols))
		for k, c := range cols {
			row[k] = float64(ds.Y[i*ds.T+c])
		}
		out[i] = row
	}
	return out
}

func horizonNames(hs []int) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = fmt.Sprintf("%dd", h)
	}
	return out
}
