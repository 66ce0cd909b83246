package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/daily"
	"github.com/odmn/odmn/internal/redistest"
	"github.com/odmn/odmn/internal/testenv"
)

// TestDailyCommand runs odmn daily on CDNOW: a day killed with SIGKILL
// during training and rerun, then a day stopped by --max-psi (exit 4) and
// rerun with the drifting calendar feature left out of the gate.
func TestDailyCommand(t *testing.T) {
	testenv.RequireLib(t)
	srv := redistest.Start(t, redistest.Options{})
	work := t.TempDir()
	args := func(asOf string, extra ...string) []string {
		return append([]string{"daily", "--transactions", filepath.Join("..", "..", "fixtures", "cdnow", "CDNOW_master.txt"),
			"--customer", "customer_id", "--time", "date", "--value", "dollar_value", "--count", "number_of_cds",
			"--horizons", "30,90", "--as-of", asOf, "--workdir", work, "--cache", srv.URL(), "--name", "cdnow",
			"--engine", "local", "--conform-rows", "500"}, extra...)
	}

	// Day 1, killed while training.
	c := startOdmn(t, args("1997-06-15", "--epochs", "200", "--patience", "0")...)
	c.waitUntil(t, "the features step's marker", func() bool {
		return exists(filepath.Join(work, "1997-06-15", "features.done"))
	})
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.exit(t)
	if exists(filepath.Join(work, "1997-06-15", "train.done")) {
		t.Fatal("training finished before the kill")
	}
	sum, code := runDaily(t, args("1997-06-15", "--epochs", "1", "--json")...)
	if code != 0 || sum.Status != "published" || sum.Steps[0].State != "already done" || sum.Steps[1].State != "done" {
		t.Fatalf("rerun of the killed day: exit %d, %+v", code, sum)
	}

	// Day 2: first_isoweek drifts (the newest cohorts' weeks are not in the
	// training table), so --max-psi stops it, as a process exit code.
	c = startOdmn(t, args("1997-06-16", "--epochs", "1", "--max-psi", "0.25")...)
	if code := c.exit(t); code != daily.ExitDrift {
		t.Fatalf("drifted day: exit %d, want %d:\n%s", code, daily.ExitDrift, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "first_isoweek") {
		t.Fatalf("the drift stop does not name the feature:\n%s", c.stderr.String())
	}
	if exists(filepath.Join(work, "1997-06-16", "load.done")) {
		t.Fatal("a stopped day was loaded")
	}
	sum, code = runDaily(t, args("1997-06-16", "--epochs", "1", "--max-psi", "0.25", "--psi-ignore", "first_isoweek", "--json")...)
	if code != 0 || sum.Status != "published" || !sum.Train.Warm || sum.Switch.Previous != "cdnow-19970615" {
		t.Fatalf("day 2 with first_isoweek ignored: exit %d, %+v", code, sum)
	}
	out, err := runOdmn(t, "cache", "get", "--cache", srv.URL(), "--name", "cdnow", "00001")
	if err != nil || !strings.Contains(out, `"version":"cdnow-19970616"`) {
		t.Fatalf("cache get after day 2: %v\n%s", err, out)
	}
}

// runDaily runs odmn daily in this process and returns its --json summary
// and exit code.
func runDaily(t *testing.T, args ...string) (*daily.Summary, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err := cmd.ExecuteContext(context.Background())
	var s daily.Summary
	if jerr := json.Unmarshal(out.Bytes(), &s); jerr != nil {
		t.Fatalf("odmn %s: %v; --json output: %v\n%s\n%s", strings.Join(args, " "), err, jerr, out.String(), errb.String())
	}
	if err != nil {
		t.Logf("odmn daily: %v\n%s", err, errb.String())
	}
	return &s, conform.ExitCodeOf(err)
}
