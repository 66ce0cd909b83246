package pipeline_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/redistest"
	"github.com/odmn/odmn/pipeline"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

const (
	goldenModel  = "../fixtures/golden/golden.onnx"
	goldenInputs = "../fixtures/golden/inputs.csv"
)

// TestMain doubles as a standalone prism job server when asked (the
// universal-runner test starts this binary in that role).
func TestMain(m *testing.M) {
	if port := os.Getenv("ODMN_TEST_PRISM_PORT"); port != "" {
		var p int
		fmt.Sscan(port, &p)
		if _, err := prism.CreateJobServer(context.Background(), prism.Options{Port: p}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		select {}
	}
	if os.Getenv(scoreChildEnv) != "" {
		beam.Init()
		runScoreChild()
	}
	beam.Init()
	os.Exit(m.Run())
}

// want scores the golden inputs with odmn score.
func want(t *testing.T) map[string][]float64 {
	t.Helper()
	m, err := score.Load(goldenModel, train.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "want.parquet")
	if _, err := score.File(context.Background(), m, goldenInputs, out, score.Options{}); err != nil {
		t.Fatal(err)
	}
	return readScores(t, []string{out})
}

// scoreColumns are the score columns of the files readScores read last
// (every file has the same).
var scoreColumns []string

func readScores(t *testing.T, files []string) map[string][]float64 {
	t.Helper()
	got := map[string][]float64{}
	for _, f := range files {
		cols, err := data.FileColumns(f)
		if err != nil {
			t.Fatal(err)
		}
		scoreColumns = cols[1:]
		kinds := []data.Kind{data.String}
		for range cols[1:] {
			kinds = append(kinds, data.Float)
		}
		tab, err := data.ReadFile(f, data.Request(cols, kinds))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < tab.Rows(); i++ {
			id := tab.Str[0][i]
			if _, dup := got[id]; dup {
				t.Fatalf("user %s written twice", id)
			}
			for c := 1; c < len(cols); c++ {
				got[id] = append(got[id], tab.Num[c][i])
			}
		}
	}
	return got
}

func same(t *testing.T, got, want map[string][]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d users scored, want %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		for j := range w {
			// Shards batch other rows together than odmn score does, and
			// float32 GEMM sums in another order: allow a few float32 ulps.
			// The frozen-QM map and the interval quantiles amplify that
			// rounding where the map or the CDF is steep (score's
			// conformance widens them the same way), so they get 1e-4.
			rel := 1e-6
			if name := scoreColumns[j]; strings.HasPrefix(name, "ltv_fqm_") || strings.HasPrefix(name, "ltv_p") {
				rel = 1e-4
			}
			if math.Abs(g[j]-w[j]) > rel*math.Max(1, math.Abs(w[j])) && !(math.IsNaN(g[j]) && math.IsNaN(w[j])) {
				t.Fatalf("user %s column %d: %v, odmn score %v", id, j, g[j], w[j])
			}
		}
	}
}

func TestScorePrism(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	out := filepath.Join(t.TempDir(), "scores")
	res, err := pipeline.Score(context.Background(), pipeline.ScoreOptions{
		Model: goldenModel, Data: []string{goldenInputs}, Out: out, ShardsPerFile: 3,
		Cache: rs.URL(), Name: "ltv", Version: "d1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shards) != 3 || res.Written != res.Rows || res.Bad != 0 || res.Counters["rows_written"] > res.Rows || res.Counters["rows_cached"] > res.Rows {
		t.Fatalf("result %+v", res)
	}
	same(t, readScores(t, res.Shards), want(t))
	if res.Cached == nil || !res.Cached.Complete() {
		t.Fatalf("cache version %+v", res.Cached)
	}
	c, err := cache.Open(context.Background(), rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CurrentVersion(context.Background(), "ltv"); err == nil {
		t.Fatal("the pipeline switched the cache")
	}
}

func TestScoreUniversalJobServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("ODMN_TEST_PRISM_PORT=%d", port))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	endpoint := fmt.Sprintf("localhost:%d", port)
	for t0 := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", endpoint); err == nil {
			c.Close()
			break
		}
		if time.Since(t0) > 20*time.Second {
			t.Fatal("the job server did not listen within 20s")
		}
	}
	out := filepath.Join(t.TempDir(), "scores")
	res, err := pipeline.Score(context.Background(), pipeline.ScoreOptions{
		Model: goldenModel, Data: []string{goldenInputs}, Out: out, ShardsPerFile: 2,
		Runner: "universal", Endpoint: endpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	same(t, readScores(t, res.Shards), want(t))
}

func TestScoreRedisDown(t *testing.T) {
	port, _ := redistest.FreePort()
	_, err := pipeline.Score(context.Background(), pipeline.ScoreOptions{
		Model: goldenModel, Data: []string{goldenInputs}, Out: filepath.Join(t.TempDir(), "s"),
		Cache: fmt.Sprintf("redis://127.0.0.1:%d?dial_timeout=200ms", port), Name: "ltv", Version: "d1",
	})
	if err == nil {
		t.Fatal("no error with redis down")
	}
}

// wantFile scores a file with odmn score.
func wantFile(t *testing.T, in string) map[string][]float64 {
	t.Helper()
	m, err := score.Load(goldenModel, train.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "want.parquet")
	if _, err := score.File(context.Background(), m, in, out, score.Options{}); err != nil {
		t.Fatal(err)
	}
	return readScores(t, []string{out})
}

func TestScoreBadRows(t *testing.T) {
	b, err := os.ReadFile(goldenInputs)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	header := strings.Split(lines[0], ",")
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	set := func(line int, name, v string) {
		f := strings.Split(lines[line], ",")
		f[col(name)] = v
		lines[line] = strings.Join(f, ",")
	}
	good := append([]string{}, lines...)
	// Lines (1-based in the file) 5, 10 and 21 go bad.
	set(4, "spend_7d", "-3")
	set(9, "active_days_7d", "many")
	lines[20] = lines[20][:strings.LastIndexByte(lines[20], ',')]
	good = append(append(append(good[:4:4], good[5:9]...), good[10:20]...), good[21:]...)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	goodIn := filepath.Join(dir, "good.csv")
	os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	os.WriteFile(goodIn, []byte(strings.Join(good, "\n")+"\n"), 0o644)

	rs := redistest.Start(t, redistest.Options{})
	out := filepath.Join(dir, "scores")
	o := pipeline.ScoreOptions{Model: goldenModel, Data: []string{in}, Out: out, ShardsPerFile: 2,
		Cache: rs.URL(), Name: "ltv", Version: "d1"}
	// The default --max-bad (0.1%): 3 of 300 fails, nothing left to switch to.
	res, err := pipeline.Score(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "3 bad rows of 300") {
		t.Fatalf("error %v, want 3 bad rows of 300 past --max-bad", err)
	}
	for _, s := range res.Shards {
		if _, err := os.Stat(s); err == nil {
			t.Fatalf("%s left by a failed run", s)
		}
	}
	c, err := cache.Open(context.Background(), rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Switch(context.Background(), "ltv", "d1"); err == nil {
		t.Fatal("switched to the version of a failed run")
	}

	o.MaxBad, o.Version = 0.02, "d2"
	res, err = pipeline.Score(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	cn := res.Counters
	if res.Rows != 300 || res.Bad != 3 || res.Written != 297 || cn["rows_read"] > 300 || cn["bad"] > 3 || res.Cached == nil || res.Cached.Written != 297 {
		t.Fatalf("rows %d written %d bad %d, counters %v, cached %+v", res.Rows, res.Written, res.Bad, cn, res.Cached)
	}
	same(t, readScores(t, res.Shards), wantFile(t, goodIn))
	var reasons []string
	for _, f := range res.BadFiles {
		tab, err := data.ReadFile(f, data.Request([]string{"file", "line", "column", "reason"}, []data.Kind{data.String, data.String, data.String, data.String}))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < tab.Rows(); i++ {
			reasons = append(reasons, filepath.Base(tab.Str[0][i])+":"+tab.Str[1][i]+":"+tab.Str[2][i]+":"+tab.Str[3][i])
		}
	}
	sort.Strings(reasons)
	want := []string{
		`in.csv:10:active_days_7d:not a number: "many"`,
		"in.csv:21::has 42 fields, the header has 43",
		"in.csv:5:spend_7d:negative value -3",
	}
	if !reflect.DeepEqual(reasons, want) {
		t.Fatalf("bad rows %q, want %q", reasons, want)
	}
}
