package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/internal/redistest"
	"github.com/odmn/odmn/pipeline"
)

// scoreChildEnv makes the test binary run one pipeline.Score (options in
// JSON) and exit: the process the kill -9 test kills.
const scoreChildEnv = "ODMN_TEST_SCORE_OPTIONS"

func runScoreChild() {
	var o pipeline.ScoreOptions
	if err := json.Unmarshal([]byte(os.Getenv(scoreChildEnv)), &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := pipeline.Score(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// bigInputs writes the golden inputs k times over, with distinct ids.
func bigInputs(t *testing.T, k int) string {
	t.Helper()
	b, err := os.ReadFile(goldenInputs)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var sb strings.Builder
	sb.WriteString(lines[0] + "\n")
	for i := 0; i < k; i++ {
		for _, l := range lines[1:] {
			id, rest, _ := strings.Cut(l, ",")
			fmt.Fprintf(&sb, "%s_%d,%s\n", id, i, rest)
		}
	}
	p := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loaded reports whether some users of name's version ver are in Redis.
func loaded(ctx context.Context, c *cache.Cache, name, ver string) bool {
	keys, _ := c.Client().Keys(ctx, cache.Prefix+":"+name+":"+ver+":*").Result()
	return len(keys) > 0
}

// oldVersion loads version d1 completely and switches to it.
func oldVersion(t *testing.T, ctx context.Context, url string, c *cache.Cache) *cache.Version {
	t.Helper()
	res, err := pipeline.Score(ctx, pipeline.ScoreOptions{Model: goldenModel, Data: []string{goldenInputs},
		Out: filepath.Join(t.TempDir(), "d1"), Cache: url, Name: "ltv", Version: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Switch(ctx, "ltv", "d1"); err != nil {
		t.Fatal(err)
	}
	return res.Cached
}

// checkOldServed: the pointer still names d1, d1 is complete and answers.
func checkOldServed(t *testing.T, ctx context.Context, c *cache.Cache, want *cache.Version) {
	t.Helper()
	cur, err := c.Current(ctx, "ltv")
	if err != nil {
		t.Fatal(err)
	}
	if cur.Version != "d1" || !cur.Complete() || cur.Written != want.Written {
		t.Fatalf("current %+v, want d1 complete with %d users", cur, want.Written)
	}
	_, found, err := c.Get(ctx, cur, []string{"u18"})
	if err != nil || !found[0] {
		t.Fatalf("d1 lookup: found %v, %v", found, err)
	}
}

func TestScoreKilledMidLoad(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t, redistest.Options{})
	c, err := cache.Open(ctx, rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d1 := oldVersion(t, ctx, rs.URL(), c)

	big := bigInputs(t, 100) // 30,000 users in 6 elements
	o := pipeline.ScoreOptions{Model: goldenModel, Data: []string{big}, Out: filepath.Join(t.TempDir(), "d2"),
		ShardsPerFile: 6, Cache: rs.URL(), Name: "ltv", Version: "d2"}
	js, _ := json.Marshal(o)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), scoreChildEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for t0 := time.Now(); !loaded(ctx, c, "ltv", "d2"); time.Sleep(2 * time.Millisecond) {
		if time.Since(t0) > 2*time.Minute {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the pipeline loaded nothing in 2 minutes")
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	werr := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("the pipeline was not killed mid-load (it ended with %v)", werr)
	}
	v2, err := c.Version(ctx, "ltv", "d2")
	if err != nil {
		t.Fatal(err)
	}
	if v2.Complete() {
		t.Fatalf("killed version complete: %+v", v2)
	}
	checkOldServed(t, ctx, c, d1)
	if _, err := c.Switch(ctx, "ltv", "d2"); err == nil {
		t.Fatal("switch accepted the killed, incomplete version")
	}
	checkOldServed(t, ctx, c, d1)

	// The rerun of the same version completes it.
	res, err := pipeline.Score(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached == nil || !res.Cached.Complete() || res.Cached.Written != 30000 || res.Cached.Expected != 30000 {
		t.Fatalf("rerun: %+v", res.Cached)
	}
	checkOldServed(t, ctx, c, d1) // the pipeline never switches
	if prev, err := c.Switch(ctx, "ltv", "d2"); err != nil || prev != "d1" {
		t.Fatalf("switch to the rerun version: previous %q, %v", prev, err)
	}
}

func TestScoreRedisDiesMidRun(t *testing.T) {
	ctx := context.Background()
	// Persistent, so that what was there before the crash is there after.
	rs := redistest.Start(t, redistest.Options{Args: []string{"--appendonly", "yes", "--appendfsync", "always"}})
	url := rs.URL() + "?dial_timeout=200ms&max_retries=1"
	c, err := cache.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d1 := oldVersion(t, ctx, url, c)

	big := bigInputs(t, 100)
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Score(ctx, pipeline.ScoreOptions{Model: goldenModel, Data: []string{big},
			Out: filepath.Join(t.TempDir(), "d2"), ShardsPerFile: 6, Cache: url, Name: "ltv", Version: "d2"})
		done <- err
	}()
	for t0 := time.Now(); !loaded(ctx, c, "ltv", "d2"); time.Sleep(2 * time.Millisecond) {
		if time.Since(t0) > 2*time.Minute {
			t.Fatal("the pipeline loaded nothing in 2 minutes")
		}
	}
	rs.Kill()
	var perr error
	select {
	case perr = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the pipeline did not end within 3 minutes of Redis dying")
	}
	if perr == nil {
		t.Fatal("no error with Redis killed mid-run")
	}
	if msg := perr.Error(); !strings.Contains(msg, "nothing is switched") || !strings.Contains(msg, "connection refused") {
		t.Fatalf("unclear error: %v", perr)
	}
	t.Logf("error with Redis down: %v", perr)
	rs.Restart()
	checkOldServed(t, ctx, c, d1)
	if v2, err := c.Version(ctx, "ltv", "d2"); err == nil && v2.Complete() {
		t.Fatalf("version of the failed run complete: %+v", v2)
	}
	if _, err := c.Switch(ctx, "ltv", "d2"); err == nil {
		t.Fatal("switch accepted the failed run's version")
	}
}
