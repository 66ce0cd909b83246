package daily

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// Files inside the day's step directories.
const (
	TrainTable = "features/train.parquet" // customers whose horizons are complete
	ScoreTable = "features/score.parquet" // customers whose window is complete
	ModelDir   = "train"                  // the model directory
	ModelONNX  = "export/model.onnx"
	SampleFile = "conform/sample.parquet"
	ScoresDir  = "score" // scores-*.parquet
)

// FeaturesDone is the features step's result.
type FeaturesDone struct {
	Transactions int64     `json:"transactions"` // rows read dated on or before the day
	LogEnd       string    `json:"log_end"`      // last transaction date on or before the day
	TrainRows    int       `json:"train_rows"`
	ScoreRows    int       `json:"score_rows"`
	TrainCutoff  string    `json:"train_cutoff"` // first day + window + longest horizon - 1 <= this
	ScoreCutoff  string    `json:"score_cutoff"` // first day + window - 1 <= this
	Horizons     []int     `json:"horizons"`
	Window       int       `json:"window"`
	Created      time.Time `json:"created"`
}

// features builds the day's training table and scoring set.
//
// Training table: customers whose window and every horizon ended on or
// before the day (first day + window + longest horizon - 1 <= as-of), with
// their labels; scoring set: customers whose window ended on or before
// the day (first day + window - 1 <= as-of), features only. Both come from
// data.BuildFromTransactions with AsOf set to the day; several logs are
// first joined into one.
func (s *Summary) features() (any, error) {
	o := s.opts
	b := o.Build
	if b.Window == 0 {
		b.Window = data.DefaultWindow
	}
	if b.Horizons == nil {
		b.Horizons = data.DefaultHorizons
	}
	dir, err := fsutil.MkdirTemp(s.stepDir("features"))
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir.Path)
		}
	}()
	b.In, b.AsOf = o.Transactions[0], o.AsOf
	joined := ""
	if len(o.Transactions) > 1 {
		joined = filepath.Join(dir.Path, "log.csv")
		if err := joinLogs(joined, b, o.Transactions, o.AsOf); err != nil {
			return nil, err
		}
		b.In, b.DateFormat = joined, "2006-01-02"
	}
	res := &FeaturesDone{Horizons: b.Horizons, Window: b.Window, Created: time.Now().UTC()}
	hmax := b.Horizons[len(b.Horizons)-1]
	res.TrainCutoff = o.AsOf.AddDate(0, 0, -(b.Window + hmax - 1)).Format("2006-01-02")
	res.ScoreCutoff = o.AsOf.AddDate(0, 0, -(b.Window - 1)).Format("2006-01-02")

	tb := b
	tb.Out = filepath.Join(dir.Path, filepath.Base(TrainTable))
	_, _, st, err := data.BuildFromTransactions(tb)
	if err != nil {
		return nil, fmt.Errorf("training table as of %s: %w", s.Date, err)
	}
	res.TrainRows, res.Transactions, res.LogEnd = st.Kept, st.Rows, st.LogEnd.Format("2006-01-02")
	sb := b
	sb.NoLabels, sb.Out = true, filepath.Join(dir.Path, filepath.Base(ScoreTable))
	if _, _, st, err = data.BuildFromTransactions(sb); err != nil {
		return nil, fmt.Errorf("scoring set as of %s: %w", s.Date, err)
	}
	res.ScoreRows = st.Kept
	if joined != "" {
		if err := os.Remove(joined); err != nil {
			return nil, err
		}
	}
	if err := dir.Commit(); err != nil {
		return nil, err
	}
	ok = true
	s.logf("%s: %d transactions up to %s; training table %d customers (first day + window + horizons complete by %s), scoring set %d customers",
		s.Date, res.Transactions, res.LogEnd, res.TrainRows, s.Date, res.ScoreRows)
	return res, nil
}

// joinLogs writes the transactions of logs dated on or before asOf into
// one comma-separated log at path, with the column names of b and ISO
// dates, for BuildFromTransactions, which reads one file.
func joinLogs(path string, b data.BuildOptions, logs []string, asOf time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(bufio.NewWriter(f))
	cols := []string{b.Customer, b.Time, b.Value}
	if b.Count != "" {
		cols = append(cols, b.Count)
	}
	err = w.Write(cols)
	y, m, d := asOf.Date()
	cut := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	rec := make([]string, len(cols))
	for _, in := range logs {
		if err != nil {
			break
		}
		var lr *data.LogReader
		if lr, err = data.OpenLog(in, data.LogOptions{Customer: b.Customer, Time: b.Time, Value: b.Value, Count: b.Count, DateFormat: b.DateFormat}); err != nil {
			break
		}
		for {
			var tx data.Transaction
			tx, _, err = lr.Next()
			if err != nil {
				break
			}
			if tx.Day > cut {
				continue
			}
			rec[0] = tx.Customer
			rec[1] = time.Unix(tx.Day*86400, 0).UTC().Format("2006-01-02")
			rec[2] = strconv.FormatFloat(tx.Value, 'f', -1, 64)
			if len(rec) > 3 {
				rec[3] = strconv.FormatFloat(tx.Count, 'f', -1, 64)
			}
			if err = w.Write(rec); err != nil {
				break
			}
		}
		lr.Close()
		if err == io.EOF {
			err = nil
		}
	}
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	return err
}

// TrainDone is the train step's result.
type TrainDone struct {
	Warm      bool    `json:"warm"`
	InitFrom  string  `json:"init_from,omitempty"`
	Reused    int     `json:"reused,omitempty"`  // parameters taken whole from the previous model
	Resized   int     `json:"resized,omitempty"` // grown by new categories
	Cold      int     `json:"cold,omitempty"`
	Added     int     `json:"added_categories,omitempty"`
	TrainRows int     `json:"train_rows"`
	ValRows   int     `json:"val_rows"`
	BestEpoch int     `json:"best_epoch"`
	Epochs    int     `json:"epochs"`
	ValLoss   float64 `json:"val_loss"`
	Stopped   string  `json:"stopped"`
}

// train fits the day's model, warm from the latest earlier day's model in
// the workdir when there is one.
func (s *Summary) train(ctx context.Context) (any, error) {
	o := s.opts
	path := filepath.Join(s.day, TrainTable)
	spec, err := data.LoadSpec(data.SpecPathFor(path))
	if err != nil {
		return nil, err
	}
	n, err := data.CountRows(path)
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, fmt.Errorf("%s: %d rows, need at least 2 to train", path, n)
	}
	cfg := o.Train
	trainRows, _ := data.Split(n, cfg.ValFrac, cfg.Seed)
	prev, err := previousModel(o.Workdir, o.AsOf)
	if err != nil {
		return nil, err
	}
	res := &TrainDone{}
	var warm *train.Warm
	var enc *data.Encoder
	if prev != "" {
		if warm, err = train.NewWarm(prev, path, spec, trainRows, cfg, false); err != nil {
			return nil, fmt.Errorf("warm start from %s: %w", prev, err)
		}
		enc, cfg = warm.Encoder, warm.Config
		res.Warm, res.InitFrom = true, prev
		s.logf("%s: warm start from %s", s.Date, prev)
	} else {
		s.logf("%s: no earlier model in %s: cold start", s.Date, o.Workdir)
		if enc, err = data.Fit(path, spec, data.FitOptions{Rows: trainRows, Seed: cfg.Seed}); err != nil {
			return nil, err
		}
	}
	ds, err := data.Load(path, spec, enc)
	if err != nil {
		return nil, err
	}
	var bar *progressbar.ProgressBar
	hooks := train.Hooks{OnEpoch: func(m *train.Model, h *train.History) error {
		if bar != nil {
			_ = bar.Finish()
			bar = nil
		}
		e := h.Epochs[len(h.Epochs)-1]
		s.logf("%s: epoch %d: train loss %.4f, validation loss %.4f", s.Date, e.Epoch, e.TrainLoss, e.ValLoss)
		return nil
	}}
	if o.Progress != nil {
		hooks.OnBatch = func(p train.Progress) {
			if bar == nil {
				bar = progressbar.NewOptions(p.Batches, progressbar.OptionSetWriter(o.Progress),
					progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", p.Epoch, p.Epochs, p.Loss))
			_ = bar.Set(p.Batch)
		}
	}
	if warm != nil {
		hooks.Prepare = warm.Prepare
	}
	m, h, err := train.Fit(ctx, ds, cfg, hooks)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return nil, err
	}
	b := &train.Bundle{Model: m, Spec: spec, Encoder: enc, History: h, Fingerprint: train.Fingerprint(ds)}
	if err := b.Save(s.stepDir("train")); err != nil {
		return nil, err
	}
	if warm != nil {
		res.Reused, res.Resized, res.Cold = warm.Reused, warm.Resized, warm.Cold
		for _, k := range warm.Added {
			res.Added += k
		}
	}
	res.TrainRows, res.ValRows, res.BestEpoch, res.Epochs, res.Stopped = h.TrainRows, h.ValRows, h.BestEpoch, len(h.Epochs), h.Stopped
	if h.BestEpoch >= 1 && h.BestEpoch <= len(h.Epochs) {
		res.ValLoss = h.Epochs[h.BestEpoch-1].ValLoss
	}
	return res, nil
}

// ExportDone is the export step's result.
type ExportDone struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

func (s *Summary) export() (any, error) {
	b, err := train.LoadBundle(s.stepDir("train"))
	if err != nil {
		return nil, err
	}
	// The decode indices and margins let the gate tell ties apart.
	gr, err := b.ExportGraph(train.InferOptions{Indices: true, Quantiles: train.DefaultQuantiles})
	if err != nil {
		return nil, err
	}
	out := filepath.Join(s.day, ModelONNX)
	if err := os.MkdirAll(filepath.Dir(out), fsutil.DirMode); err != nil {
		return nil, err
	}
	if err := export.WriteFile(out, gr, export.Options{ProducerVersion: train.Version}); err != nil {
		return nil, err
	}
	st, err := os.Stat(out)
	if err != nil {
		return nil, err
	}
	return &ExportDone{Path: out, Bytes: st.Size()}, nil
}

// ConformDone is the conformance gate's result.
type ConformDone struct {
	Rows     int                `json:"rows"`
	Runtimes []string           `json:"runtimes"`
	Pass     bool               `json:"pass"`
	MaxAbs   map[string]float64 `json:"max_abs"` // runtime/output -> max |x - reference|
	Ties     int                `json:"ties"`
	// Disagreements counts the decodes that differ outside ties; Disagree
	// lists the first few (the full report is conform/report.txt).
	Disagreements int                  `json:"disagreements"`
	Disagree      []score.Disagreement `json:"first_disagreements,omitempty"`
}

// conform runs the exported file on a seeded sample of the scoring set
// with the native runtime and with ONNX Runtime, each against the Go
// reference; any disagreement stops the day.
func (s *Summary) conform() (any, error) {
	o := s.opts
	sample := filepath.Join(s.day, SampleFile)
	if err := os.MkdirAll(filepath.Dir(sample), fsutil.DirMode); err != nil {
		return nil, err
	}
	spec, err := data.LoadSpec(data.SpecPathFor(filepath.Join(s.day, TrainTable)))
	if err != nil {
		return nil, err
	}
	n, err := writeSample(filepath.Join(s.day, ScoreTable), spec, sample, o.ConformRows, o.Train.Seed)
	if err != nil {
		return nil, err
	}
	m, err := score.Load(filepath.Join(s.day, ModelONNX), train.InferOptions{})
	if err != nil {
		return nil, err
	}
	rts := []string{score.Native, score.ORT}
	rep, err := score.Conform(m, sample, score.ConformOptions{Rows: -1, Runtimes: rts})
	if err != nil {
		return nil, fmt.Errorf("conformance gate (native and ONNX Runtime; ODMN_ORT_LIB names the library): %w", err)
	}
	res := &ConformDone{Rows: n, Runtimes: rts, Pass: rep.Pass(), MaxAbs: map[string]float64{}, Ties: len(rep.Ties)}
	for _, rr := range rep.Runtimes {
		for _, d := range rr.Outputs {
			res.MaxAbs[rr.Runtime+"/"+d.Output] = d.MaxAbs
		}
	}
	for _, d := range rep.Disagreements {
		if !d.Tie {
			res.Disagreements++
			if len(res.Disagree) < 10 {
				res.Disagree = append(res.Disagree, d)
			}
		}
	}
	if !res.Pass {
		var buf bytes.Buffer
		_ = rep.Print(&buf, false)
		full := filepath.Join(s.day, "conform", "report.txt")
		if err := fsutil.WriteFile(full, buf.Bytes()); err != nil {
			return res, err
		}
		lines := strings.SplitN(buf.String(), "\n", 21)
		s.logf("%s\n(full report: %s)", strings.Join(lines[:min(len(lines), 20)], "\n"), full)
		return res, &StopError{Code: ExitConform, Err: fmt.Errorf("conformance gate: %s disagrees with the Go reference on %d sampled rows of the scoring set (%d decodes differ; %s); nothing published", m.Path, n, res.Disagreements, full)}
	}
	s.logf("%s: conformance gate passed: native and ONNX Runtime agree with the reference on %d rows (%d ties)", s.Date, n, res.Ties)
	return res, nil
}

// writeSample writes a seeded uniform sample of at most k rows of in
// (kept in file order) to out; spec gives the column kinds.
func writeSample(in string, spec *data.Spec, out string, k int, seed uint64) (int, error) {
	cols, err := data.FileColumns(in)
	if err != nil {
		return 0, err
	}
	kinds := map[string]data.Kind{spec.ID: data.String}
	for _, c := range spec.Categorical {
		kinds[c.Name] = data.String
	}
	var req []data.ColumnRequest
	for _, c := range cols {
		k, ok := kinds[c]
		if !ok {
			k = data.Float
		}
		req = append(req, data.ColumnRequest{Name: c, Kind: k})
	}
	n, err := data.CountRows(in)
	if err != nil {
		return 0, err
	}
	keep := sampleRows(n, k, seed)
	r, err := data.OpenReader(in, req)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	outT := data.NewTable(nil, nil)
	for _, c := range req {
		if c.Kind == data.String {
			outT.AddString(c.Name, nil)
		} else {
			outT.AddFloat(c.Name, nil)
		}
	}
	base, j := 0, 0
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		for j < len(keep) && keep[j] < base+t.Rows() {
			i := keep[j] - base
			for c := range req {
				if req[c].Kind == data.String {
					outT.Str[c] = append(outT.Str[c], t.Str[c][i])
				} else {
					outT.Num[c] = append(outT.Num[c], t.Num[c][i])
				}
			}
			j++
		}
		base += t.Rows()
	}
	if err := data.WriteFile(out, outT); err != nil {
		return 0, err
	}
	return len(keep), nil
}

// sampleRows picks min(k, n) of 0..n-1, seeded, in increasing order.
func sampleRows(n, k int, seed uint64) []int {
	if k >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	_, val := data.Split(n, float64(k)/float64(n), seed) // sorted
	return val
}

// DriftDone is the drift check's result.
type DriftDone struct {
	Epsilon  float64      `json:"epsilon"`
	Features []FeaturePSI `json:"features"` // by decreasing PSI
	Max      FeaturePSI   `json:"max"`
	Limit    float64      `json:"limit,omitempty"`
	Ignored  []string     `json:"ignored,omitempty"` // left out of the gate
}

// drift computes the PSI of every input feature between the training table
// and the scoring set, through the model's bins and vocabularies.
func (s *Summary) drift() (any, error) {
	b, err := train.LoadBundle(s.stepDir("train"))
	if err != nil {
		return nil, err
	}
	ps, err := Drift(b.Encoder, filepath.Join(s.day, TrainTable), filepath.Join(s.day, ScoreTable))
	if err != nil {
		return nil, err
	}
	res := &DriftDone{Epsilon: PSIEpsilon, Features: ps, Max: ps[0]}
	s.Drift = res
	for i, p := range ps {
		if i < 5 || p.PSI > s.opts.MaxPSI && s.opts.MaxPSI > 0 {
			s.logf("%s: PSI %-16s %.4f", s.Date, p.Feature, p.PSI)
		}
	}
	// The values are recorded whatever the limit; the gate is applied on
	// every run, so a rerun with another --max-psi decides again.
	if err := writeJSON(s.donePath("drift"), res); err != nil {
		return nil, err
	}
	return res, s.driftGate()
}

func (s *Summary) driftGate() error {
	d := s.Drift
	d.Limit, d.Ignored = s.opts.MaxPSI, s.opts.PSIIgnore
	for _, f := range s.opts.PSIIgnore {
		if !slices.ContainsFunc(d.Features, func(p FeaturePSI) bool { return p.Feature == f }) {
			return fmt.Errorf("--psi-ignore %s: not an input feature of the model", f)
		}
	}
	if s.opts.MaxPSI <= 0 {
		return nil
	}
	var over []string
	for _, p := range d.Features {
		if p.PSI > s.opts.MaxPSI && !slices.Contains(s.opts.PSIIgnore, p.Feature) {
			over = append(over, fmt.Sprintf("%s %.4f", p.Feature, p.PSI))
		}
	}
	if len(over) > 0 {
		return &StopError{Code: ExitDrift, Err: fmt.Errorf("drift: PSI above --max-psi %g for %s (scoring set of %s against the training bins); nothing published", s.opts.MaxPSI, strings.Join(over, ", "), s.Date)}
	}
	return nil
}

// ScoreDone is the score step's result.
type ScoreDone struct {
	Engine string   `json:"engine"`
	Rows   int64    `json:"rows"`
	Files  []string `json:"files"`
}

// score scores the whole scoring set into DIR/DATE/score/.
func (s *Summary) score(ctx context.Context) (any, error) {
	o := s.opts
	engine := o.Engine
	if engine == EngineAuto {
		engine = EngineLocal
		if o.PipelineBin != "" {
			engine = EnginePipeline
		} else {
			s.notice("odmn-pipeline not found (make pipeline builds it): scoring in this process with the native runtime")
		}
	}
	dir, err := fsutil.MkdirTemp(s.stepDir("score"))
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir.Path)
		}
	}()
	model := filepath.Join(s.day, ModelONNX)
	in := filepath.Join(s.day, ScoreTable)
	res := &ScoreDone{Engine: engine}
	if engine == EnginePipeline {
		args := append([]string{"score", "--model", model, "--data", in, "--out", filepath.Join(dir.Path, "scores"), "--json"}, o.PipelineArgs...)
		cmd := exec.CommandContext(ctx, o.PipelineBin, args...)
		var out bytes.Buffer
		cmd.Stdout = &out
		if o.Log != nil {
			cmd.Stderr = o.Log
		}
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s %s: %w", o.PipelineBin, strings.Join(args, " "), err)
		}
		var pr struct {
			Rows int64 `json:"rows"`
		}
		if err := json.Unmarshal(out.Bytes(), &pr); err != nil {
			return nil, fmt.Errorf("%s: reading its --json result: %w", o.PipelineBin, err)
		}
		res.Rows = pr.Rows
	} else {
		m, err := score.Load(model, train.InferOptions{})
		if err != nil {
			return nil, err
		}
		st, err := score.File(ctx, m, in, filepath.Join(dir.Path, "scores-00000-of-00001.parquet"), score.Options{Runtime: score.Native, Progress: o.Progress})
		if err != nil {
			return nil, err
		}
		res.Rows = st.Scored
	}
	files, err := filepath.Glob(filepath.Join(dir.Path, "scores-*.parquet"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("score: no scores-*.parquet written in %s", dir.Path)
	}
	for _, f := range files {
		res.Files = append(res.Files, filepath.Join(s.stepDir("score"), filepath.Base(f)))
	}
	if want := int64(s.Features.ScoreRows); res.Rows != want {
		return nil, fmt.Errorf("score: %d rows scored, the scoring set has %d", res.Rows, want)
	}
	if err := dir.Commit(); err != nil {
		return nil, err
	}
	ok = true
	return res, nil
}

func (s *Summary) openCache(ctx context.Context) (*cache.Cache, error) {
	if s.cache != nil {
		return s.cache, nil
	}
	c, err := cache.Open(ctx, s.opts.Cache)
	if err != nil {
		return nil, err
	}
	s.cache = c
	return c, nil
}

// LoadDone is the load step's result.
type LoadDone struct {
	Version string `json:"version"`
	Rows    int64  `json:"rows"`
}

// load writes the scores into the day's cache version (not switched). A
// version left half-written by a killed run is reloaded from scratch; a
// complete one with the expected rows is taken as loaded.
func (s *Summary) load(ctx context.Context) (any, error) {
	c, err := s.openCache(ctx)
	if err != nil {
		return nil, err
	}
	st, err := cache.LoadFiles(ctx, c, s.Score.Files, cache.LoadOptions{Name: s.Name, Version: s.Version, Progress: s.opts.Progress,
		Source: "odmn daily " + s.Date + " " + filepath.Join(s.day, ModelONNX)})
	if errors.Is(err, cache.ErrComplete) {
		v, verr := c.Version(ctx, s.Name, s.Version)
		if verr != nil {
			return nil, verr
		}
		if v.Written != s.Score.Rows {
			return nil, fmt.Errorf("cache %s version %s is complete with %d users, this day scored %d: drop it (odmn cache gc) or use another --name", s.Name, s.Version, v.Written, s.Score.Rows)
		}
		return &LoadDone{Version: s.Version, Rows: v.Written}, nil
	}
	if err != nil {
		return nil, err
	}
	return &LoadDone{Version: s.Version, Rows: st.Rows}, nil
}

// SwitchDone is the switch step's result.
type SwitchDone struct {
	Previous string `json:"previous"`
	Current  string `json:"current"`
	Kept     bool   `json:"kept,omitempty"` // a later day was current: not switched back
}

// doSwitch points the name at the day's version, unless it already does
// or a later day's version is current (a late rerun does not roll back).
func (s *Summary) doSwitch(ctx context.Context) (any, error) {
	c, err := s.openCache(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := c.CurrentVersion(ctx, s.Name)
	if err != nil && !errors.Is(err, cache.ErrNoCurrent) {
		return nil, err
	}
	if cur == s.Version {
		return &SwitchDone{Previous: cur, Current: cur}, nil
	}
	if strings.HasPrefix(cur, s.Name+"-") && len(cur) == len(s.Version) && cur > s.Version {
		s.notice("cache %s already serves the later %s: not switched back to %s", s.Name, cur, s.Version)
		return &SwitchDone{Previous: cur, Current: cur, Kept: true}, nil
	}
	prev, err := c.Switch(ctx, s.Name, s.Version)
	if err != nil {
		return nil, err
	}
	s.logf("%s: cache %s switched from %q to %s", s.Date, s.Name, prev, s.Version)
	return &SwitchDone{Previous: prev, Current: s.Version}, nil
}
