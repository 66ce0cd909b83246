package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/compare"
	"github.com/odmn/odmn/data"
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
	f.StringVar(&o.decode, "decode", "all", "argmax, ev, qm, fqm or all")
	f.BoolVar(&o.json, "json", false, "print the evaluation as JSON instead of tables")
	f.StringVar(&o.plot, "plot", "", "directory for PNG plots")
	f.StringVar(&o.pred, "pred", "", "evaluate these predictions (odmn score output: id or row, ltv_<h>, ltv_ev_<h>, and the qm, fqm and interval columns it has) instead of scoring with the model")
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

// evaluateBundle scores ds with the bundle's model (or reads pred, odmn
// score's output) and computes the metrics of each asked decode.
func evaluateBundle(b *train.Bundle, ds *data.Dataset, pred, decode, name string, lorenz bool) ([]compare.Eval, error) {
	var decs []train.DecodeName
	if decode != "all" {
		d, err := train.ParseDecode(decode)
		if err != nil {
			return nil, fmt.Errorf("--decode: %w (or all)", err)
		}
		decs = []train.DecodeName{d}
	}
	var pr *train.Predictions
	var err error
	if pred != "" {
		pr, err = score.ReadPredictions(pred, b, ds)
	} else {
		var p *train.Predictor
		if p, err = b.Model.NewPredictor(); err == nil {
			pr, err = p.Predict(ds, nil)
		}
	}
	if err != nil {
		return nil, err
	}
	points := 0
	if lorenz { // sampled curves for plots (they would bloat --json)
		points = report.DefaultLorenzPoints
	}
	return compare.Evaluate(b.Model, name, b.Model.LabelsOf(ds, nil), pr, decs, points)
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
	ces, err := evaluateBundle(b, ds, o.pred, o.decode, name, o.plot != "")
	if err != nil {
		return err
	}
	evals := modelEvals(ces)
	var docs []report.DecodeEval
	for _, e := range ces {
		docs = append(docs, report.DecodeEval{Decode: e.Name, Report: e.Report})
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
		writeEvalExtras(w, ces)
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

// writeEvalExtras prints the running maximum's change rates and the
// interval evaluation.
func writeEvalExtras(w io.Writer, evals []compare.Eval) {
	for _, e := range evals {
		if e.Changed != nil {
			fmt.Fprintf(w, "%s: the running maximum across horizons changed %.3f%% of the users\n", e.Name, 100**e.Changed)
		}
	}
	for _, e := range evals {
		for _, iv := range e.Intervals {
			pit := "n/a"
			if iv.PITCoverage != nil {
				pit = fmt.Sprintf("%.1f%%", 100**iv.PITCoverage)
			}
			mass := "n/a"
			if iv.ClosedMass != nil {
				mass = fmt.Sprintf("%.1f%%", 100**iv.ClosedMass)
			}
			zero := ""
			if iv.PredZero != nil && iv.LabelZero != nil {
				zero = fmt.Sprintf("; predicted P(y = 0) %.2f%%, labels 0: %.2f%%", 100**iv.PredZero, 100**iv.LabelZero)
			}
			fmt.Fprintf(w, "%s %s: %g%% coverage (randomized PIT in [%g, %g]) %s; the closed [p%g, p%g] holds %.1f%% of the labels and %s of the predicted probability; mean pinball loss / label mean %.4f%s\n",
				e.Name, iv.Horizon, 100*(iv.Levels[len(iv.Levels)-1]-iv.Levels[0]), iv.Levels[0], iv.Levels[len(iv.Levels)-1], pit,
				100*iv.Levels[0], 100*iv.Levels[len(iv.Levels)-1], 100*iv.Coverage, mass, iv.MeanPinball, zero)
		}
	}
}

// modelEvals are the evaluations as report rows.
func modelEvals(evals []compare.Eval) []report.ModelEval {
	out := make([]report.ModelEval, len(evals))
	for i, e := range evals {
		out[i] = report.ModelEval{Model: e.Name, Multi: e.Report}
	}
	return out
}
