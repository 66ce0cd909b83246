package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/report"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

func newEvalCmd() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval --model MODEL_DIR --data FILE [--decode argmax|ev|all] [--json] [--plot DIR]",
		Short: "Evaluate a trained model with the paper's metrics",
		Long: `eval scores a table with a trained model (the Go training-time forward pass)
and prints, per horizon, the columns of the paper's Table 1 (NRMSE, NMAE,
AMBE, Mutual Gini, Gini of the predictions) and the extra ones users compare
models on (Gini of the labels, normalized model Gini as ZILN defines it,
Spearman, mean prediction against mean label), plus the share of users whose
predictions decrease across horizons.

ODMN has two decodes, shown side by side by default (--decode all): argmax,
the paper's Eq. 7-8 (the most likely sub-distribution, its most likely
bucket, plus the bucket bias), and ev, the expected value over the bucket
distribution. When most labels are 0, the argmax decode predicts 0 for
everyone; the EV decode does not (see the spec note, section 5b). Compare
models on the same kind of decode.

--pred FILE evaluates predictions written by odmn score (with any runtime)
instead of scoring --data with the Go model; its rows are matched to --data
by the spec's id column, or by "row", or else by position. The model
directory still gives the spec and the label columns.

--plot DIR writes PNG plots: Lorenz curves of labels against predictions per
horizon, the decile chart, and the training curve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEval(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "model directory (from odmn train)")
	f.StringVar(&o.data, "data", "", "table to evaluate on (.csv or .parquet); its columns must match the model's spec")
	f.StringVar(&o.decode, "decode", "all", "argmax, ev or all")
	f.BoolVar(&o.json, "json", false, "print the evaluation as JSON instead of tables")
	f.StringVar(&o.plot, "plot", "", "directory for PNG plots")
	f.StringVar(&o.pred, "pred", "", "evaluate these predictions (odmn score output: id or row, ltv_<h>, ltv_ev_<h>) instead of scoring with the model")
	f.BoolVar(&o.markdown, "markdown", false, "print Markdown tables")
	f.BoolVar(&o.deciles, "deciles", false, "also print the decile table of each decode at the longest horizon")
	_ = cmd.MarkFlagRequired("model")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}

type evalOptions struct {
	model, data, decode, plot string
	pred                      string // predictions from odmn score instead of the Go model's
	json, markdown, deciles   bool
	name                      string // display name (default from the variant)
}

// displayName is the model's name in tables.
func displayName(v train.Variant) string {
	switch v {
	case train.MSE:
		return "MSE-MLP"
	case train.ZILN:
		return "ZILN"
	}
	return strings.ToUpper(string(v))
}

// evaluateBundle scores ds with the bundle's model and computes the
// metrics of each asked decode.
func evaluateBundle(b *train.Bundle, ds *data.Dataset, decode, name string, lorenz bool) ([]report.ModelEval, []report.DecodeEval, error) {
	p, err := b.Model.NewPredictor()
	if err != nil {
		return nil, nil, err
	}
	pr, err := p.Predict(ds, nil)
	if err != nil {
		return nil, nil, err
	}
	return evaluatePredictions(b, ds, pr, decode, name, lorenz)
}

// evaluatePredictions computes the metrics of each asked decode of pr,
// the predictions for the rows of ds.
func evaluatePredictions(b *train.Bundle, ds *data.Dataset, pr *train.Predictions, decode, name string, lorenz bool) ([]report.ModelEval, []report.DecodeEval, error) {
	y := b.Model.LabelsOf(ds, nil)
	opts := metrics.Options{Horizons: horizonNames(b.Model.Horizons)}
	if lorenz { // sampled curves for plots (they would bloat --json)
		opts.LorenzPoints = report.DefaultLorenzPoints
	}
	type dec struct {
		name string
		pred [][]float64
	}
	var decs []dec
	baseline := b.Model.Cfg.Variant.Parts().Head != train.HeadMDME
	switch {
	case baseline:
		decs = []dec{{"", pr.EV}}
	case decode == "argmax":
		decs = []dec{{"argmax", pr.ArgMax}}
	case decode == "ev":
		decs = []dec{{"ev", pr.EV}}
	case decode == "all":
		decs = []dec{{"argmax", pr.ArgMax}, {"ev", pr.EV}}
	default:
		return nil, nil, fmt.Errorf("--decode must be argmax, ev or all, got %q", decode)
	}
	var evals []report.ModelEval
	var docs []report.DecodeEval
	for _, d := range decs {
		mr, err := metrics.ComputeMultiReport(y, d.pred, opts)
		if err != nil {
			return nil, nil, err
		}
		label := name
		dn := d.name
		if dn != "" {
			label = name + " " + map[string]string{"argmax": "argmax", "ev": "EV"}[dn]
		} else {
			dn = "prediction"
		}
		evals = append(evals, report.ModelEval{Model: label, Multi: mr})
		docs = append(docs, report.DecodeEval{Decode: dn, Report: mr})
	}
	return evals, docs, nil
}

func horizonNames(hs []int) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = fmt.Sprintf("%dd", h)
	}
	return out
}

func runEval(o evalOptions, w io.Writer) error {
	b, err := train.LoadBundle(o.model)
	if err != nil {
		return err
	}
	if b.Spec == nil || b.Encoder == nil {
		return fmt.Errorf("%s: model directory has no spec or encoder", o.model)
	}
	ds, err := data.Load(o.data, b.Spec, b.Encoder)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = displayName(b.Model.Cfg.Variant)
	}
	var evals []report.ModelEval
	var docs []report.DecodeEval
	if o.pred != "" {
		pr, err := readPredictions(o.pred, b, ds)
		if err != nil {
			return err
		}
		evals, docs, err = evaluatePredictions(b, ds, pr, o.decode, name, o.plot != "")
		if err != nil {
			return err
		}
	} else {
		evals, docs, err = evaluateBundle(b, ds, o.decode, name, o.plot != "")
		if err != nil {
			return err
		}
	}
	if o.json {
		var labels []string
		for _, li := range b.Model.Labels {
			labels = append(labels, b.Spec.Labels[li].Name)
		}
		doc := report.NewEvalDoc(report.ModelInfoOf(b.Model, name, o.model),
			report.DataInfo{Path: o.data, Split: "all", Rows: ds.N, Labels: labels}, docs...)
		if err := report.WriteJSON(w, doc); err != nil {
			return err
		}
	} else {
		format := report.Text
		if o.markdown {
			format = report.Markdown
		}
		fmt.Fprintf(w, "%s on %s (%d users)\n\n", name, o.data, ds.N)
		if err := report.EvalTable(w, report.Rows(evals), format, report.MarkBest()); err != nil {
			return err
		}
		fmt.Fprintln(w)
		if err := report.MonotonicityLines(w, evals, format); err != nil {
			return err
		}
		if o.deciles {
			for _, e := range evals {
				hs := e.Multi.Horizons
				fmt.Fprintf(w, "\n%s, deciles at %s:\n", e.Model, hs[len(hs)-1].Horizon)
				if err := report.DecileTable(w, report.EvalRow{Model: e.Model, Horizon: hs[len(hs)-1].Horizon, Report: hs[len(hs)-1]}, format); err != nil {
					return err
				}
			}
		}
	}
	if o.plot != "" {
		paths, err := writePlots(o.plot, name, evals, b.History)
		if err != nil {
			return err
		}
		if !o.json {
			fmt.Fprintf(w, "\nplots: %s\n", strings.Join(paths, ", "))
		}
	}
	return nil
}

// writePlots writes the Lorenz, decile and training-curve PNGs of evals.
func writePlots(dir, name string, evals []report.ModelEval, h *train.History) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var curves []report.Curve
	for i, e := range evals {
		for _, r := range e.Multi.Horizons {
			cs := report.CurvesFromReport(e.Model, r)
			if i > 0 { // the labels' curve once per panel
				var keep []report.Curve
				for _, c := range cs {
					if !c.Label {
						keep = append(keep, c)
					}
				}
				cs = keep
			}
			curves = append(curves, cs...)
		}
	}
	var paths []string
	lorenz := filepath.Join(dir, "lorenz.png")
	if err := report.LorenzPlot(lorenz, "Lorenz curves: labels and "+name, curves); err != nil {
		return nil, err
	}
	paths = append(paths, lorenz)
	deciles := filepath.Join(dir, "deciles.png")
	if err := report.DecilePlot(deciles, "Mean label and prediction by prediction decile", report.Rows(evals)); err != nil {
		return nil, err
	}
	paths = append(paths, deciles)
	if h != nil && len(h.Epochs) > 0 {
		curve := filepath.Join(dir, "training.png")
		if err := report.CurvePlot(curve, h); err != nil {
			return nil, err
		}
		paths = append(paths, curve)
	}
	return paths, nil
}

// readPredictions reads odmn score's output for the rows of ds: matched by
// the spec's id column when both have it, else by the "row" column, else
// by position (the counts must agree).
func readPredictions(path string, b *train.Bundle, ds *data.Dataset) (*train.Predictions, error) {
	have, err := data.FileColumns(path)
	if err != nil {
		return nil, err
	}
	hs := b.Model.Horizons
	var cols []data.ColumnRequest
	key := ""
	switch {
	case b.Spec.ID != "" && slices.Contains(have, b.Spec.ID) && ds.HasIDs():
		key = b.Spec.ID
		cols = append(cols, data.ColumnRequest{Name: key, Kind: data.String})
	case slices.Contains(have, score.RowColumn):
		key = score.RowColumn
		cols = append(cols, data.ColumnRequest{Name: key, Kind: data.Float})
	}
	for _, pfx := range []string{"ltv_", "ltv_ev_"} {
		for _, h := range hs {
			cols = append(cols, data.ColumnRequest{Name: fmt.Sprintf("%s%d", pfx, h), Kind: data.Float})
		}
	}
	t, err := data.ReadFile(path, cols)
	if err != nil {
		return nil, err
	}
	n := t.Rows()
	idx := make([]int, ds.N) // dataset row -> prediction row
	for i := range idx {
		idx[i] = -1
	}
	switch key {
	case "":
		if n != ds.N {
			return nil, fmt.Errorf("%s: %d predictions for %d rows, and no id or row column to match them by", path, n, ds.N)
		}
		for i := range idx {
			idx[i] = i
		}
	case score.RowColumn:
		for k, v := range t.Num[0] {
			r := int(v)
			if float64(r) != v || r < 0 || r >= ds.N {
				return nil, fmt.Errorf("%s: row %d: %q is %v, not a row of %d", path, k+1, key, v, ds.N)
			}
			idx[r] = k
		}
	default:
		byID := make(map[string]int, n)
		for k, id := range t.Str[0] {
			if _, dup := byID[id]; dup {
				return nil, fmt.Errorf("%s: id %q appears twice", path, id)
			}
			byID[id] = k
		}
		for i := range ds.N {
			if k, ok := byID[ds.ID(i)]; ok {
				idx[i] = k
			}
		}
	}
	T := len(hs)
	off := len(cols) - 2*T
	pr := &train.Predictions{Horizons: hs, ArgMax: make([][]float64, ds.N), EV: make([][]float64, ds.N)}
	for i, k := range idx {
		if k < 0 {
			return nil, fmt.Errorf("%s: no prediction for row %d of the data", path, i+1)
		}
		a, e := make([]float64, T), make([]float64, T)
		// Scores are float32 written in their shortest decimal form: back
		// to the float32 exactly, as the Go model's predictions are.
		for j := 0; j < T; j++ {
			a[j] = float64(float32(t.Num[off+j][k]))
			e[j] = float64(float32(t.Num[off+T+j][k]))
		}
		pr.ArgMax[i], pr.EV[i] = a, e
	}
	return pr, nil
}
