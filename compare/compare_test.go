package compare

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/report"
	"github.com/odmn/odmn/train"
)

// smallTable writes a small synthetic table and its spec.
func smallTable(t *testing.T, users int) string {
	t.Helper()
	tab, spec, err := synth.Generate(synth.Config{Users: users, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := data.WriteFile(path, tab); err != nil {
		t.Fatal(err)
	}
	if err := spec.Save(data.SpecPathFor(path)); err != nil {
		t.Fatal(err)
	}
	return path
}

func tinyOptions(path string) Options {
	cfg := train.DefaultConfig()
	cfg.Bottom, cfg.Tower, cfg.MonoDim, cfg.Epochs, cfg.Batch = []int{16}, 8, 4, 2, 256
	return Options{Data: path, Seeds: []uint64{3, 4}, Config: &cfg, LorenzPoints: 20}
}

func jsonWithoutTimings(t *testing.T, r *Result) []byte {
	t.Helper()
	c := *r
	c.Timings = nil
	var b bytes.Buffer
	if err := c.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Every model with ablations, two seeds: the runs, the tables and their
// rows are all there, and the files are written.
func TestRunAllModels(t *testing.T) {
	path := smallTable(t, 1500)
	o := tinyOptions(path)
	o.Ablations = true
	var events []Event
	o.Progress = func(e Event) {
		if e.Batch == nil {
			events = append(events, e)
		}
	}
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]string{}, MainModels...), AblationModels...)
	if len(r.Runs) != 2*len(all) || len(r.Timings) != len(r.Runs) {
		t.Fatalf("%d runs, %d timings; want %d", len(r.Runs), len(r.Timings), 2*len(all))
	}
	done := 0
	for _, e := range events {
		if e.Done {
			done++
			if e.Runs != 2*len(all) || e.Run != done {
				t.Errorf("event %+v: want run %d of %d", e, done, 2*len(all))
			}
		}
	}
	if done != len(r.Runs) {
		t.Errorf("%d done events for %d runs", done, len(r.Runs))
	}
	wantRows := map[string][]string{
		"main-mean":              {"Two-Stage", "ZILN", "MSE-MLP", "ODMN EV"},
		"main-point":             {"Two-Stage hard", "ODMN argmax"},
		"main-qm":                {"Two-Stage QM", "ZILN QM", "MSE-MLP QM", "ODMN QM", "ODMN fqm"},
		"ablation-single-argmax": {"NM argmax", "NMB argmax", "NMO argmax", "MDME argmax"},
		"ablation-single-ev":     {"NM EV", "NMB EV", "NMO EV", "MDME EV"},
		"ablation-multi-argmax":  {"S argmax", "SM argmax", "SC argmax", "ODMN argmax"},
		"ablation-multi-ev":      {"S EV", "SM EV", "SC EV", "ODMN EV"},
	}
	if len(r.Tables) != len(wantRows) {
		t.Fatalf("%d tables, want %d", len(r.Tables), len(wantRows))
	}
	for id, models := range wantRows {
		tb := r.Table(id)
		if tb == nil {
			t.Fatalf("no table %s", id)
		}
		horizons := 4
		if strings.HasPrefix(id, "ablation-single") {
			horizons = 1
			if tb.Rows[0].Horizon != "365d" || len(tb.Monotonicity) != 0 {
				t.Errorf("%s: horizon %s, %d monotonicity rows", id, tb.Rows[0].Horizon, len(tb.Monotonicity))
			}
		} else if len(tb.Monotonicity) != len(models) {
			t.Errorf("%s: %d monotonicity rows, want %d", id, len(tb.Monotonicity), len(models))
		}
		if len(tb.Rows) != horizons*len(models) {
			t.Fatalf("%s: %d rows, want %d", id, len(tb.Rows), horizons*len(models))
		}
		for i, row := range tb.Rows {
			if row.Model != models[i/horizons] || row.Seeds != 2 || row.NRMSE.N != 2 || row.NRMSE.Std == nil {
				t.Errorf("%s row %d: %s with %d seeds (NRMSE n %d)", id, i, row.Model, row.Seeds, row.NRMSE.N)
			}
		}
	}
	// Two-Stage hard is the value where P(pay) > 0.5, else 0: never more
	// users with a positive prediction than the mean-type prediction.
	for _, run := range r.Runs {
		if run.Model == TwoStage && (len(run.Evals) != 3 || run.Evals[1].Kind != KindPoint || run.Evals[2].Kind != KindQM || len(run.Rounds) != 4) {
			t.Errorf("Two-Stage run %+v", run)
		}
	}
	// Paired: ODMN EV and QM against three baselines each, argmax against
	// Two-Stage hard, at 4 horizons, every metric over both seeds (but a
	// null).
	if len(r.Paired) != 28 {
		t.Fatalf("%d paired rows, want 28", len(r.Paired))
	}
	for _, p := range r.Paired {
		if len(p.Metrics) != 6 {
			t.Fatalf("paired %+v", p)
		}
		for _, m := range p.Metrics {
			// A collapsed argmax decode (constant) has no Spearman.
			n := 2
			if p.Model == "ODMN argmax" && m.Metric == "Spearman" {
				n = m.N
			}
			if m.N != n || m.N < 1 || m.MeanDiff == nil || m.Better < 0 || m.Better > m.N {
				t.Errorf("%s vs %s at %s, %s: %+v", p.Model, p.Against, p.Horizon, m.Metric, m)
			}
		}
	}
	// By hand for one cell: NRMSE of ODMN EV against ZILN at 365d.
	var better, diff float64
	for _, seed := range o.Seeds {
		var a, b float64
		for _, run := range r.Runs {
			for _, e := range run.Evals {
				if run.Seed == seed && e.Name == "ODMN EV" {
					a = *e.Report.Horizons[3].NRMSE
				}
				if run.Seed == seed && e.Name == "ZILN" {
					b = *e.Report.Horizons[3].NRMSE
				}
			}
		}
		if a < b {
			better++
		}
		diff += (a - b) / 2
	}
	for _, p := range r.Paired {
		if p.Against == "ZILN" && p.Horizon == "365d" {
			if m := p.Metrics[0]; m.Metric != "NRMSE" || float64(m.Better) != better || math.Abs(*m.MeanDiff-diff) > 1e-12 {
				t.Errorf("paired NRMSE %+v (%v), want %v better, diff %v", m, *m.MeanDiff, better, diff)
			}
		}
	}
	dir := t.TempDir()
	paths, err := r.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"results.md", "results.json", "lorenz.png", "lorenz-single.png", "lorenz-multi.png"} {
		if !slices.Contains(paths, filepath.Join(dir, name)) {
			t.Errorf("%s not written (%v)", name, paths)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Table 1: ODMN and the baselines", "## Table 3b: multi-horizon ablations, EV decode", "| 365d ", "**", "## Paired comparison", "| ODMN EV     | ZILN ", "## Timings"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	f, err := os.Open(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jsonWithoutTimings(t, back), jsonWithoutTimings(t, r)) {
		t.Error("results.json does not read back to the same result")
	}
	var txt bytes.Buffer
	if err := back.WriteTables(&txt, report.Text, ""); err != nil {
		t.Fatal(err)
	}
}

// The same data, options and seed give the same result, byte for byte
// (timings aside); another seed gives another one.
func TestRunDeterministic(t *testing.T) {
	path := smallTable(t, 1200)
	run := func(seed uint64) []byte {
		o := tinyOptions(path)
		o.Seeds = []uint64{seed}
		r, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return jsonWithoutTimings(t, r)
	}
	a, b := run(7), run(7)
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs with seed 7 differ:\n%s", firstDiff(a, b))
	}
	if bytes.Equal(a, run(8)) {
		t.Error("seeds 7 and 8 give the same result")
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + strings.TrimSpace(la[i]) + "\n vs  " + strings.TrimSpace(lb[i])
		}
	}
	return "lengths differ"
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{},
		{Data: "x.csv", Seeds: []uint64{1, 1}},
		{Data: "x.csv", TestFrac: 1},
		{Data: "x.csv", Models: []string{"gbdt"}},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("options %+v: no error", o)
		}
	}
	o := Options{Data: "x.csv", Models: []string{"ODMN", "two-stage", "sc"}}
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Models, []string{TwoStage, "odmn", "sc"}) {
		t.Errorf("models %v", o.Models)
	}
}
