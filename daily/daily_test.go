package daily

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/redistest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// writeLog writes a synthetic transaction log: n customers arriving
// uniformly over days [from, from+span), each of one of three spending
// types (which the first week reveals), buying on later days with a
// type-dependent chance, until day0+end. scale multiplies the amounts.
func writeLog(t *testing.T, path string, seed uint64, n, from, span, end int, scale float64, prefix string) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString("customer,date,amount\n")
	for i := 0; i < n; i++ {
		first := from + r.IntN(span)
		typ := r.IntN(3)
		p := []float64{0.02, 0.1, 0.3}[typ]
		amt := []float64{5, 20, 60}[typ]
		id := fmt.Sprintf("%s%05d", prefix, i)
		fmt.Fprintf(&b, "%s,%s,%.2f\n", id, day0.AddDate(0, 0, first).Format("2006-01-02"), scale*amt*(0.5+r.Float64()))
		for d := first + 1; d < end; d++ {
			if r.Float64() < p {
				fmt.Fprintf(&b, "%s,%s,%.2f\n", id, day0.AddDate(0, 0, d).Format("2006-01-02"), scale*amt*(0.5+r.Float64()))
			}
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testOptions(logs []string, workdir, url string, asOf int) Options {
	cfg := train.DefaultConfig()
	cfg.EmbedDim, cfg.Bottom, cfg.Tower, cfg.MonoDim = 4, []int{16}, 8, 4
	cfg.Epochs, cfg.Patience, cfg.Batch, cfg.Threads = 3, 0, 128, 1
	return Options{
		Transactions: logs,
		Build:        data.BuildOptions{Customer: "customer", Time: "date", Value: "amount", Window: 3, Horizons: []int{5, 10}, Bins: 8},
		AsOf:         day0.AddDate(0, 0, asOf),
		Workdir:      workdir,
		Cache:        url,
		Name:         "ltv",
		Train:        cfg,
		Engine:       EngineLocal,
		ConformRows:  300,
		Log:          os.Stderr,
		Progress:     io.Discard,
	}
}

func states(s *Summary) string {
	var out []string
	for _, st := range s.Steps {
		out = append(out, st.Step+"="+st.State)
	}
	return strings.Join(out, " ")
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// TestTwoDays runs two consecutive days against a real redis-server: day 1
// cold, day 2 crashed after scoring, rerun (warm start, published, the
// cache serves day 2's model's scores), rerun again (nothing changes), and a
// drifted day 3 stopped by --max-psi before anything is published.
func TestTwoDays(t *testing.T) {
	testenv.RequireLib(t)
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	log := filepath.Join(dir, "log.csv")
	writeLog(t, log, 1, 1200, 0, 60, 60, 1, "c")
	work := filepath.Join(dir, "work")

	// Day 1: cold.
	s1, err := Run(ctx, testOptions([]string{log}, work, srv.URL(), 50))
	if err != nil {
		t.Fatalf("day 1: %v (%s)", err, states(s1))
	}
	if s1.Status != "published" || s1.Train.Warm || s1.Switch.Current != "ltv-20260220" {
		t.Fatalf("day 1: status %s, warm %v, switch %+v", s1.Status, s1.Train.Warm, s1.Switch)
	}
	if s1.Features.LogEnd != s1.Date || s1.Features.TrainRows == 0 || s1.Features.ScoreRows <= s1.Features.TrainRows {
		t.Fatalf("day 1 features: %+v", s1.Features)
	}
	if s1.Drift == nil || len(s1.Drift.Features) != 2+4+2*3 {
		t.Fatalf("day 1 drift: %+v", s1.Drift)
	}

	// Day 2, crashing after the score step: nothing published.
	o2 := testOptions([]string{log}, work, srv.URL(), 51)
	o2.AfterStep = func(step string) error {
		if step == "score" {
			return errors.New("simulated crash")
		}
		return nil
	}
	s2, err := Run(ctx, o2)
	if err == nil || ExitCode(err) != ExitFailed || s2.Status != "failed" {
		t.Fatalf("crashed day 2: err %v, status %s", err, s2.Status)
	}
	c, err := cache.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if cur, err := c.CurrentVersion(ctx, "ltv"); err != nil || cur != "ltv-20260220" {
		t.Fatalf("after the crash the pointer is %q (%v), want day 1's", cur, err)
	}
	if _, err := c.Version(ctx, "ltv", "ltv-20260221"); !errors.Is(err, cache.ErrNoVersion) {
		t.Fatalf("after a crash before load, day 2's version: %v", err)
	}

	// The rerun resumes at load.
	o2.AfterStep = nil
	s2, err = Run(ctx, o2)
	if err != nil {
		t.Fatalf("day 2 rerun: %v (%s)", err, states(s2))
	}
	want := "features=already done train=already done export=already done conform=already done drift=already done score=already done load=done switch=done"
	if got := states(s2); got != want {
		t.Fatalf("day 2 rerun steps:\n got %s\nwant %s", got, want)
	}
	if !s2.Train.Warm || s2.Train.InitFrom != filepath.Join(work, "2026-02-20", "train") || s2.Train.Reused == 0 {
		t.Fatalf("day 2 did not warm-start from day 1: %+v", s2.Train)
	}
	if s2.Switch.Previous != "ltv-20260220" || s2.Switch.Current != "ltv-20260221" {
		t.Fatalf("day 2 switch: %+v", s2.Switch)
	}

	// The cache serves day 2's model's scores of the day-2 scoring set.
	day2 := filepath.Join(work, "2026-02-21")
	m, err := score.Load(filepath.Join(day2, ModelONNX), train.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref.csv")
	if _, err := score.File(ctx, m, filepath.Join(day2, ScoreTable), ref, score.Options{}); err != nil {
		t.Fatal(err)
	}
	tab, err := data.ReadFile(ref, []data.ColumnRequest{{Name: "customer_id", Kind: data.String}, {Name: "ltv_5", Kind: data.Float}, {Name: "ltv_ev_10", Kind: data.Float}})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rows() != s2.Features.ScoreRows || int64(tab.Rows()) != s2.Load.Rows {
		t.Fatalf("%d scored rows, scoring set %d, loaded %d", tab.Rows(), s2.Features.ScoreRows, s2.Load.Rows)
	}
	v, err := c.Current(ctx, "ltv")
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := c.Get(ctx, v, tab.Str[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !found[i] || got[i].LTV[0] != float32(tab.Num[1][i]) || got[i].LTVEV[1] != float32(tab.Num[2][i]) {
			t.Fatalf("user %s: cache %+v (found %v), day 2's model: ltv_5 %g ltv_ev_10 %g", tab.Str[0][i], got[i], found[i], tab.Num[1][i], tab.Num[2][i])
		}
	}

	// Rerunning the finished day changes nothing.
	before := mtime(t, filepath.Join(day2, ModelDir))
	vers, _ := c.Versions(ctx, "ltv")
	s2b, err := Run(ctx, o2)
	if err != nil || s2b.Status != "already published" {
		t.Fatalf("rerun of a finished day: %v, status %s", err, s2b.Status)
	}
	for _, st := range s2b.Steps {
		if st.State != "already done" {
			t.Fatalf("rerun of a finished day ran %s", st.Step)
		}
	}
	vers2, _ := c.Versions(ctx, "ltv")
	cur, _ := c.CurrentVersion(ctx, "ltv")
	if len(vers2) != len(vers) || len(vers) != 2 || cur != "ltv-20260221" || !mtime(t, filepath.Join(day2, ModelDir)).Equal(before) {
		t.Fatalf("rerun changed something: versions %d -> %d, pointer %s", len(vers), len(vers2), cur)
	}
	// Day 1 rerun late: already published, no switch back.
	if s, err := Run(ctx, testOptions([]string{log}, work, srv.URL(), 50)); err != nil || s.Status != "already published" {
		t.Fatalf("late rerun of day 1: %v %s", err, s.Status)
	}
	if cur, _ := c.CurrentVersion(ctx, "ltv"); cur != "ltv-20260221" {
		t.Fatalf("late rerun of day 1 moved the pointer to %s", cur)
	}

	// Day 3 with a burst of big spenders: stopped by --max-psi.
	burst := filepath.Join(dir, "burst.csv")
	writeLog(t, burst, 2, 3000, 46, 6, 53, 100, "b")
	o3 := testOptions([]string{log, burst}, work, srv.URL(), 52)
	o3.MaxPSI = 0.25
	// The ISO week of the newest cohorts is unseen in training: it
	// drifts by construction, so the gate leaves it out.
	o3.PSIIgnore = []string{"first_isoweek"}
	for _, p := range s2.Drift.Features {
		if p.Feature != "first_isoweek" && p.PSI > o3.MaxPSI {
			t.Fatalf("day 2, with no burst, already drifts: %+v", p)
		}
	}
	s3, err := Run(ctx, o3)
	if ExitCode(err) != ExitDrift || s3.Status != "stopped" {
		t.Fatalf("drifted day: err %v, status %s (%s)", err, s3.Status, states(s3))
	}
	if strings.Contains(err.Error(), "first_isoweek") || !strings.Contains(err.Error(), "monetary") {
		t.Fatalf("drift error names an ignored feature or misses monetary: %v", err)
	}
	if cur, _ := c.CurrentVersion(ctx, "ltv"); cur != "ltv-20260221" {
		t.Fatalf("a drifted day moved the pointer to %s", cur)
	}
	if _, err := c.Version(ctx, "ltv", "ltv-20260222"); !errors.Is(err, cache.ErrNoVersion) {
		t.Fatalf("a drifted day wrote its version: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, "2026-02-22", "score")); !os.IsNotExist(err) {
		t.Fatalf("a drifted day scored: %v", err)
	}
	// Its rerun stops again at the recorded drift.
	if _, err := Run(ctx, o3); ExitCode(err) != ExitDrift {
		t.Fatalf("rerun of the drifted day: %v", err)
	}
}

// TestKilledDay kills -9 a child process running a day during training
// (this test binary, re-executed) and reruns the day, which finishes.
func TestKilledDay(t *testing.T) {
	if os.Getenv("ODMN_DAILY_CHILD") != "" {
		return
	}
	testenv.RequireLib(t)
	srv := redistest.Start(t, redistest.Options{})
	dir := t.TempDir()
	log := filepath.Join(dir, "log.csv")
	writeLog(t, log, 3, 3000, 0, 60, 60, 1, "c")
	work := filepath.Join(dir, "work")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDailyChild$")
	cmd.Env = append(os.Environ(), "ODMN_DAILY_CHILD="+log+"|"+work+"|"+srv.URL())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(work, "2026-02-20", "features.done")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(done); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child never finished its features step")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed by SIGKILL: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, "2026-02-20", "switch.done")); err == nil {
		t.Fatal("the child finished the day before it was killed")
	}
	s, err := Run(context.Background(), testOptions([]string{log}, work, srv.URL(), 50))
	if err != nil || s.Status != "published" {
		t.Fatalf("rerun after kill -9: %v (%s)", err, states(s))
	}
	if s.Steps[0].State != "already done" {
		t.Fatalf("the rerun redid the features: %s", states(s))
	}
	t.Logf("after kill -9: %s", states(s))
}

// TestDailyChild is the process TestKilledDay kills.
func TestDailyChild(t *testing.T) {
	env := os.Getenv("ODMN_DAILY_CHILD")
	if env == "" {
		return
	}
	p := strings.Split(env, "|")
	o := testOptions([]string{p[0]}, p[1], p[2], 50)
	o.Train.Epochs = 50 // long enough to be killed while training
	_, err := Run(context.Background(), o)
	t.Fatalf("the child was meant to be killed, it ended: %v", err)
}

// TestConformanceGateStops tampers with the exported file's discretization
// bounds (the reference keeps the model's own): the runtimes then disagree
// with the reference and the day stops, exit 3, before anything reaches the
// cache.
func TestConformanceGateStops(t *testing.T) {
	testenv.RequireLib(t)
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	log := filepath.Join(dir, "log.csv")
	writeLog(t, log, 4, 800, 0, 60, 60, 1, "c")
	o := testOptions([]string{log}, filepath.Join(dir, "work"), srv.URL(), 50)
	o.AfterStep = func(step string) error {
		if step == "export" {
			return errors.New("stop after export")
		}
		return nil
	}
	if _, err := Run(ctx, o); err == nil {
		t.Fatal("the hook did not stop the day")
	}
	path := filepath.Join(o.Workdir, "2026-02-20", ModelONNX)
	mp, err := compat.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tampered := false
	for _, tp := range mp.GetGraph().GetInitializer() {
		if tp.GetName() != "discretize.bounds" {
			continue
		}
		for i := range tp.FloatData {
			tp.FloatData[i] *= 3
		}
		for i := 0; i+4 <= len(tp.RawData); i += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(tp.RawData[i:]))
			binary.LittleEndian.PutUint32(tp.RawData[i:], math.Float32bits(3*v))
		}
		tampered = len(tp.FloatData)+len(tp.RawData) > 0
	}
	if !tampered {
		t.Fatal("no discretize.bounds initializer to tamper with")
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	o.AfterStep = nil
	s, err := Run(ctx, o)
	if ExitCode(err) != ExitConform || s.Status != "stopped" || s.Conform == nil || s.Conform.Pass || len(s.Conform.Disagree) == 0 && s.Conform.MaxAbs["native/ltv_ev"] == 0 {
		t.Fatalf("tampered model: err %v, status %s, conform %+v", err, s.Status, s.Conform)
	}
	c, err := cache.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if vers, err := c.Versions(ctx, "ltv"); err != nil || len(vers) != 0 {
		t.Fatalf("a day stopped by the gate left versions %v (%v)", vers, err)
	}
	if _, err := os.Stat(filepath.Join(o.Workdir, "2026-02-20", "conform.done")); !os.IsNotExist(err) {
		t.Fatalf("a failed gate was marked done: %v", err)
	}
}
