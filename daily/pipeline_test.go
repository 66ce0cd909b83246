package daily

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/redistest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// TestPipelineEngine runs a day whose score step is the Beam pipeline
// (bin/odmn-pipeline on embedded prism, built by make pipeline, which
// make test runs first) and checks that the cache then serves exactly what
// scoring the day's model in process gives.
func TestPipelineEngine(t *testing.T) {
	testenv.RequireLib(t)
	bin := filepath.Join(testenv.ModuleRoot(), "bin", "odmn-pipeline")
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, "no "+bin, "build it with 'make pipeline'")
	}
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	log := filepath.Join(dir, "log.csv")
	writeLog(t, log, 3, 600, 0, 60, 60, 1, "p")
	o := testOptions([]string{log}, filepath.Join(dir, "work"), srv.URL(), 50)
	o.Engine, o.PipelineBin = EnginePipeline, bin
	s, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("day with the pipeline engine: %v (%s)", err, states(s))
	}
	if s.Status != "published" || s.Score == nil || s.Score.Engine != EnginePipeline {
		t.Fatalf("status %s, score step %+v", s.Status, s.Score)
	}

	// Every user the cache serves equals in-process scoring of the day's
	// scoring set by the day's model.
	day := filepath.Join(o.Workdir, "2026-02-20")
	m, err := score.Load(filepath.Join(day, ModelONNX), train.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref.parquet")
	if _, err := score.File(ctx, m, filepath.Join(day, ScoreTable), ref, score.Options{}); err != nil {
		t.Fatal(err)
	}
	want, served := filepath.Join(dir, "want.csv"), filepath.Join(dir, "served.csv")
	if err := dumpCache(ctx, srv.URL(), ref, want, served); err != nil {
		t.Fatal(err)
	}
	// A few float32 ulps: bin/odmn-pipeline is built with the OpenBLAS
	// kernels, this test also runs with the pure-Go ones (-tags
	// noopenblas), and the two sum the products in another order.
	r, err := score.DiffFiles([]string{want}, []string{served}, score.DiffOptions{Tol: conform.Tolerance{Atol: 1e-6, Rtol: 1e-5}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.RowsA != s.Features.ScoreRows {
		t.Fatalf("cache vs in-process scoring of %d users: %+v", s.Features.ScoreRows, r)
	}
}

// dumpCache writes ref's (a score output's) id, ltv_<h> and ltv_ev_<h>
// columns to want, and what the cache's current version of "ltv" serves
// for the same users to served, as float32 like the cache holds them.
func dumpCache(ctx context.Context, url, ref, want, served string) error {
	c, err := cache.Open(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := c.Current(ctx, "ltv")
	if err != nil {
		return err
	}
	req := []data.ColumnRequest{{Name: "customer_id", Kind: data.String}}
	for _, pfx := range []string{"ltv_", "ltv_ev_"} {
		for _, h := range v.Horizons {
			req = append(req, data.ColumnRequest{Name: fmt.Sprint(pfx, h), Kind: data.Float})
		}
	}
	w, err := data.ReadFile(ref, req)
	if err != nil {
		return err
	}
	got, found, err := c.Get(ctx, v, w.Str[0])
	if err != nil {
		return err
	}
	s := data.NewTable(nil, nil)
	s.AddString("customer_id", w.Str[0])
	nh := len(v.Horizons)
	for j := 1; j < len(req); j++ {
		col := make([]float64, len(got))
		for i, sc := range got {
			switch {
			case !found[i]:
				col[i] = math.NaN()
			case j <= nh:
				col[i] = float64(sc.LTV[j-1])
			default:
				col[i] = float64(sc.LTVEV[j-1-nh])
			}
			w.Num[j][i] = float64(float32(w.Num[j][i]))
		}
		s.AddFloat(req[j].Name, col)
	}
	if err := data.WriteFile(want, w); err != nil {
		return err
	}
	return data.WriteFile(served, s)
}
