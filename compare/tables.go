package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/odmn/odmn/report"
	"github.com/odmn/odmn/train"
)

// tableDef selects the evaluations of one table: those of the given models
// with the given decode kind.
type tableDef struct {
	id, title, note string
	models          []string
	kind            string
	mono            bool // add the monotonicity rates
	// ablation tables appear only when an ablation model (not ODMN) ran.
	ablation bool
}

func tableDefs(longest string) []tableDef {
	single := []string{string(train.NM), string(train.NMB), string(train.NMO), string(train.MDME)}
	multi := []string{string(train.S), string(train.SM), string(train.SC), string(train.ODMN)}
	return []tableDef{
		{id: "main-mean", title: "Table 1: ODMN and the baselines, mean-type predictions",
			note:   "Two-Stage: P(pay) × E[y | pay] (XGBoost classifier and regressor); ZILN: sigmoid(p) × exp(mu + sigma²/2); MSE-MLP: its output; ODMN EV: the expected value of its bucket distribution.",
			models: MainModels, kind: KindMean, mono: true},
		{id: "main-point", title: "Table 1b: point decodes",
			note:   "ODMN argmax: the paper's decode (Eq. 7-8: likeliest sub-distribution, its likeliest bucket, plus the bucket bias); Two-Stage hard: Drachen et al.'s rule, E[y | pay] if P(pay) > 0.5, else 0 (same Two-Stage models as Table 1).",
			models: MainModels, kind: KindPoint, mono: true},
		{id: "main-qm", title: "Table 1c: quantile-matched decodes (QM) of every model",
			note:   "Each model's mean-type prediction ranks the users; the user at rank quantile u gets the mean of the model's own predicted population distribution over its rank slice (ODMN: the mean of its bucket distributions, each bucket at its decoded value; ZILN: the mean of its zero-inflated lognormals; Two-Stage: 0 with 1 - P(pay), E[y | pay] with P(pay); MSE-MLP: its predictions, so its QM is its prediction). QM keeps the mean and the order of the prediction it maps. ODMN fqm: the frozen map, fitted on the validation users at training time, applied one user at a time.",
			models: MainModels, kind: KindQM, mono: true},
		{id: "ablation-single-argmax", title: "Table 2: single-horizon ablations at " + longest + ", argmax decode",
			note:   "NM: segments and buckets, bucket midpoints; NMB: + bucket bias towers; NMO: + ordinal towers and distillation; MDME: both.",
			models: single, kind: KindPoint, ablation: true},
		{id: "ablation-single-ev", title: "Table 2b: single-horizon ablations at " + longest + ", EV decode",
			models: single, kind: KindMean, ablation: true},
		{id: "ablation-multi-argmax", title: "Table 3: multi-horizon ablations, argmax decode",
			note:   "S: share-bottom and an MDME per horizon; SM: + Mono Units; SC: + calibration; ODMN: both.",
			models: multi, kind: KindPoint, mono: true, ablation: true},
		{id: "ablation-multi-ev", title: "Table 3b: multi-horizon ablations, EV decode",
			models: multi, kind: KindMean, mono: true, ablation: true},
	}
}

// aggregate builds the tables from the runs.
func (r *Result) aggregate() error {
	longest := "the longest horizon"
	if hs := r.Data.Horizons; len(hs) > 0 {
		longest = fmt.Sprintf("%dd", hs[len(hs)-1])
	}
	r.Tables = nil
	for _, def := range tableDefs(longest) {
		if def.ablation && !slices.ContainsFunc(def.models, func(m string) bool {
			return m != string(train.ODMN) && slices.Contains(r.Models, m)
		}) {
			continue
		}
		var rowsBySeed [][]report.EvalRow
		var evalsBySeed [][]report.ModelEval
		any := false
		for _, seed := range r.Seeds {
			var rows []report.EvalRow
			var evals []report.ModelEval
			for _, key := range def.models {
				for _, run := range r.Runs {
					if run.Seed != seed || run.Model != key {
						continue
					}
					for _, e := range run.Evals {
						if e.Kind != def.kind {
							continue
						}
						any = true
						for _, h := range e.Report.Horizons {
							rows = append(rows, report.EvalRow{Model: e.Name, Horizon: h.Horizon, Report: h})
						}
						if e.Report.T > 1 {
							evals = append(evals, report.ModelEval{Model: e.Name, Multi: e.Report})
						}
					}
				}
			}
			rowsBySeed = append(rowsBySeed, rows)
			evalsBySeed = append(evalsBySeed, evals)
		}
		if !any {
			continue
		}
		agg, err := report.Aggregate(rowsBySeed)
		if err != nil {
			return fmt.Errorf("%s: %w", def.id, err)
		}
		t := Table{ID: def.id, Title: def.title, Note: def.note, Rows: agg}
		if def.mono && slices.ContainsFunc(evalsBySeed, func(e []report.ModelEval) bool { return len(e) > 0 }) {
			if t.Monotonicity, err = report.AggregateMonotonicity(evalsBySeed); err != nil {
				return fmt.Errorf("%s: %w", def.id, err)
			}
		}
		r.Tables = append(r.Tables, t)
	}
	r.Paired = r.paired()
	r.Extras = r.extras()
	return nil
}

// Extra aggregates what the tables do not show, per evaluation and
// horizon over seeds: interval coverage and pinball loss, and the share of
// users the running maximum changed.
type Extra struct {
	Name     string      `json:"name"`
	Horizon  string      `json:"horizon"`
	Coverage report.Stat `json:"coverage"`
	PIT      report.Stat `json:"pit_coverage"`
	// Mass is the closed interval's mean predicted probability: the
	// Coverage a calibrated model has.
	Mass report.Stat `json:"closed_mass"`
	// PredZero and LabelZero: mean predicted P(y = 0), share of zero labels.
	PredZero  report.Stat `json:"pred_zero"`
	LabelZero report.Stat `json:"label_zero"`
	Pinball   report.Stat `json:"mean_pinball"`
	Changed   report.Stat `json:"changed_by_running_max"`
}

func (r *Result) extras() []Extra {
	type key struct{ name, horizon string }
	type acc struct{ cov, pit, mass, pz, lz, pin, chg []float64 }
	accs := map[key]*acc{}
	var order []key
	get := func(k key) *acc {
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
			order = append(order, k)
		}
		return a
	}
	for _, run := range r.Runs {
		for _, e := range run.Evals {
			for _, iv := range e.Intervals {
				// The intervals are the model's, not its EV decode's.
				a := get(key{strings.TrimSuffix(e.Name, " EV"), iv.Horizon})
				a.cov = append(a.cov, iv.Coverage)
				if iv.PITCoverage != nil {
					a.pit = append(a.pit, *iv.PITCoverage)
				}
				if iv.ClosedMass != nil {
					a.mass = append(a.mass, *iv.ClosedMass)
				}
				if iv.PredZero != nil && iv.LabelZero != nil {
					a.pz = append(a.pz, *iv.PredZero)
					a.lz = append(a.lz, *iv.LabelZero)
				}
				a.pin = append(a.pin, iv.MeanPinball)
			}
			if e.Changed != nil {
				a := get(key{e.Name, "all"})
				a.chg = append(a.chg, *e.Changed)
			}
		}
	}
	var out []Extra
	for _, k := range order {
		a := accs[k]
		out = append(out, Extra{Name: k.name, Horizon: k.horizon, Coverage: report.MeanStd(a.cov), PIT: report.MeanStd(a.pit), Mass: report.MeanStd(a.mass), PredZero: report.MeanStd(a.pz), LabelZero: report.MeanStd(a.lz), Pinball: report.MeanStd(a.pin), Changed: report.MeanStd(a.chg)})
	}
	return out
}

// writeExtras writes the interval and running-maximum tables.
func (r *Result) writeExtras(w io.Writer, format report.Format, heading string) {
	cell := func(s report.Stat, pct bool) string {
		if s.Mean == nil {
			return "n/a"
		}
		f := 1.0
		d := 4
		if pct {
			f, d = 100, 2
		}
		sd := "n/a"
		if s.Std != nil {
			sd = fmt.Sprintf("%.*f", d, f**s.Std)
		}
		return fmt.Sprintf("%.*f ± %s", d, f**s.Mean, sd)
	}
	title := func(t string) {
		if format == report.Markdown {
			fmt.Fprintf(w, "\n%s %s\n\n", heading, t)
		} else {
			fmt.Fprintf(w, "\n%s\n\n", t)
		}
	}
	var iv, ch []Extra
	for _, e := range r.Extras {
		if e.Horizon == "all" {
			ch = append(ch, e)
		} else if e.Coverage.Mean != nil {
			iv = append(iv, e)
		}
	}
	if len(iv) > 0 {
		title("Predictive intervals: coverage of the 80% interval [p10, p90] and pinball loss")
		fmt.Fprintln(w, "| Model | Horizon | 80% coverage (%) | Closed [p10, p90] holds the label (%) | Closed interval's predicted mass (%) | Pinball / label mean | Predicted P(y = 0) (%) | Labels = 0 (%) |")
		fmt.Fprintln(w, "| :---- | :------ | ---------------: | ------------------------------------: | -----------------------------------: | -------------------: | ---------------------: | -------------: |")
		for _, e := range iv {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", e.Name, e.Horizon, cell(e.PIT, true), cell(e.Coverage, true), cell(e.Mass, true), cell(e.Pinball, false), cell(e.PredZero, true), cell(e.LabelZero, true))
		}
		fmt.Fprintln(w, "\nODMN: quantiles of each user's bucket distribution (point buckets as points, interval buckets spread uniformly over their range); ZILN: quantiles of its zero-inflated lognormal. 80% coverage: the share of users whose randomized probability integral transform (uniform on [F(y-), F(y)]) lies in [0.1, 0.9], as an expectation; it is the coverage of the interval randomized at atoms, whose predicted probability is exactly 80%, and is 80% for a calibrated model, point masses included (Czado, Gneiting and Held 2009). The closed interval [p10, p90] holds a label on an atom at its end (a 0 inside [0, 0]) in full, so it holds more than 80% of the predicted probability wherever an end is an atom: the next column is that predicted probability, averaged over users, which is what a calibrated model's closed interval covers. Pinball: the mean over p10, p50 and p90 of the quantile loss, divided by the label mean. Predicted P(y = 0): the mean over users of the predicted zero mass, beside the share of zero labels (the zero mass's calibration in the large). Cells: mean ± sd over seeds.")
	}
	if len(ch) > 0 {
		title("Running maximum across horizons: share of users whose values it changed (%)")
		fmt.Fprintln(w, "| Decode | Changed (%) |")
		fmt.Fprintln(w, "| :----- | ----------: |")
		for _, e := range ch {
			fmt.Fprintf(w, "| %s | %s |\n", e.Name, cell(e.Changed, true))
		}
		fmt.Fprintln(w, "\nEvery decode is made non-decreasing across horizons by a running maximum; this is how often the raw decode needed it (mean ± sd over seeds).")
	}
}

// Table returns the table with the given id, or nil.
func (r *Result) Table(id string) *Table {
	for i := range r.Tables {
		if r.Tables[i].ID == id {
			return &r.Tables[i]
		}
	}
	return nil
}

// WriteJSON writes r as indented JSON with a final newline.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("compare: encoding the result: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadJSON decodes a result written by WriteJSON.
func ReadJSON(rd io.Reader) (*Result, error) {
	var r Result
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("compare: decoding the result: %w", err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("compare: result schema %q, this build reads %q", r.Schema, Schema)
	}
	return &r, nil
}

// WriteTables writes every table in format, each under its title (a
// Markdown heading of the given level, e.g. "###"), with the best value of
// each metric and horizon marked and the monotonicity rates below it.
func (r *Result) WriteTables(w io.Writer, format report.Format, heading string) error {
	for i, t := range r.Tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if format == report.Markdown {
			fmt.Fprintf(w, "%s %s\n\n", heading, t.Title)
			if t.Note != "" {
				fmt.Fprintf(w, "%s\n\n", t.Note)
			}
		} else {
			fmt.Fprintf(w, "%s\n", t.Title)
			if t.Note != "" {
				fmt.Fprintf(w, "%s\n", t.Note)
			}
			fmt.Fprintln(w)
		}
		if err := report.AggTable(w, t.Rows, format, report.MarkBest()); err != nil {
			return err
		}
		if len(t.Monotonicity) > 0 {
			fmt.Fprintln(w)
			if err := report.AggMonoTable(w, t.Monotonicity, format, report.MarkBest()); err != nil {
				return err
			}
		}
	}
	r.writeExtras(w, format, heading)
	if len(r.Paired) > 0 {
		title := "Paired comparison: ODMN against each baseline, seed by seed"
		if format == report.Markdown {
			fmt.Fprintf(w, "\n%s %s\n\n", heading, title)
		} else {
			fmt.Fprintf(w, "\n%s\n\n", title)
		}
		return r.WritePaired(w)
	}
	return nil
}

// Summary describes the data and the protocol in a few lines.
func (r *Result) Summary(format report.Format) string {
	var b strings.Builder
	d := r.Data
	var zs []string
	for i, h := range d.Horizons {
		zs = append(zs, fmt.Sprintf("%dd %.1f%% (mean %.4g)", h, 100*d.ZeroShare[i], d.Mean[i]))
	}
	seeds := make([]string, len(r.Seeds))
	for i, s := range r.Seeds {
		seeds[i] = fmt.Sprint(s)
	}
	var models []string
	for _, m := range r.Models {
		models = append(models, Name(m))
	}
	c := r.Config
	lines := []string{
		fmt.Sprintf("Data: %s, %d users; per seed %d train (%.0f%% of them for validation and early stopping) and %d held out for these tables.",
			d.Path, d.Rows, d.TrainRows, 100*c.ValFrac, d.TestRows),
		fmt.Sprintf("Zero labels: %s.", strings.Join(zs, ", ")),
		fmt.Sprintf("Seeds: %s (each: its own split, encoder, initialization and shuffling). Models: %s.", strings.Join(seeds, ", "), strings.Join(models, ", ")),
		fmt.Sprintf("Neural models: embedding %d, bottom %v, towers %d, Adam lr %g (embeddings %g), batch %d, up to %d epochs, patience %d; %s.",
			c.EmbedDim, c.Bottom, c.Tower, c.LR, c.EmbedLR, c.Batch, c.Epochs, c.Patience, bucketText(c.Buckets)),
		fmt.Sprintf("Two-Stage: XGBoost, eta %g, depth %d, up to %d rounds (early stopping %d), %s combination.",
			r.TwoStage.LearningRate, r.TwoStage.MaxDepth, r.TwoStage.MaxRounds, r.TwoStage.EarlyStoppingRounds, r.TwoStage.Combine),
	}
	for _, l := range lines {
		if format == report.Markdown {
			b.WriteString(l + "  \n")
		} else {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func bucketText(b train.BucketOptions) string {
	n, ps := "12 (default)", "0.05 (default)"
	if b.Buckets > 0 {
		n = fmt.Sprint(b.Buckets)
	}
	if b.PointShare > 0 {
		ps = fmt.Sprint(b.PointShare)
	}
	return fmt.Sprintf("at most %s buckets per sub-distribution, point-bucket share %s", n, ps)
}

// WriteMarkdown writes the summary, every table and the timings.
func (r *Result) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "# odmn compare\n\n%s\n", r.Summary(report.Markdown))
	if err := r.WriteTables(w, report.Markdown, "##"); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n## Timings\n\n| Seed | Model | Seconds |\n| ---: | :---- | ------: |\n")
	total := 0.0
	for _, t := range r.Timings {
		fmt.Fprintf(w, "| %d | %s | %.1f |\n", t.Seed, Name(t.Model), t.Seconds)
		total += t.Seconds
	}
	_, err := fmt.Fprintf(w, "\nTotal training and evaluation time: %.0f s.\n", total)
	return err
}

// WritePlots writes the Lorenz curves of the first seed into dir, per
// horizon the labels and one colour per model, point decodes dashed:
// lorenz.png (Two-Stage, ZILN, MSE-MLP, ODMN) and, when the ablations ran,
// lorenz-single.png (NM, NMB, NMO, MDME at the longest horizon) and
// lorenz-multi.png (S, SM, SC, ODMN). It returns the paths written.
func (r *Result) WritePlots(dir string) ([]string, error) {
	if len(r.curves) == 0 {
		return nil, fmt.Errorf("compare: no Lorenz curves (a result read from JSON has none)")
	}
	single := []string{string(train.NM), string(train.NMB), string(train.NMO), string(train.MDME)}
	multi := []string{string(train.S), string(train.SM), string(train.SC), string(train.ODMN)}
	groups := []struct {
		file, title string
		models      []string
	}{
		{"lorenz.png", "ODMN and the baselines", MainModels},
		{"lorenz-single.png", "single-horizon ablations (Table 2)", single},
		{"lorenz-multi.png", "multi-horizon ablations (Table 3)", multi},
	}
	var paths []string
	for _, gr := range groups {
		var curves []report.Curve
		labelsDone := map[string]bool{}
		others := false // a model other than ODMN, which every group has
		for _, e := range r.curves {
			if !slices.Contains(gr.models, e.model) {
				continue
			}
			others = others || e.model != string(train.ODMN)
			for _, h := range e.Report.Horizons {
				for _, c := range report.CurvesFromReport(e.Name, h) {
					if c.Label {
						if labelsDone[h.Horizon] {
							continue
						}
						labelsDone[h.Horizon] = true
					} else {
						c.Group, c.Dashed = Name(e.model), e.Kind == KindPoint
					}
					curves = append(curves, c)
				}
			}
		}
		if !others {
			continue
		}
		p := filepath.Join(dir, gr.file)
		title := fmt.Sprintf("Lorenz curves of the held-out users, seed %d: %s (dashed: point decodes)", r.Seeds[0], gr.title)
		if err := report.LorenzPlot(p, title, curves); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// WriteDir writes results.md, results.json and the plots into dir
// (created if needed), each file atomically. It returns the paths.
func (r *Result) WriteDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	md, js := filepath.Join(dir, "results.md"), filepath.Join(dir, "results.json")
	if err := report.WriteAtomic(md, r.WriteMarkdown); err != nil {
		return nil, err
	}
	if err := report.WriteAtomic(js, r.WriteJSON); err != nil {
		return nil, err
	}
	plots, err := r.WritePlots(dir)
	if err != nil {
		return nil, err
	}
	return append([]string{md, js}, plots...), nil
}
