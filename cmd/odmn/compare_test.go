package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
)

// compareTable writes a small synthetic table and its spec for the compare
// tests.
func compareTable(t *testing.T, users int) string {
	t.Helper()
	tab, spec, err := synth.Generate(synth.Config{Users: users, Seed: 6})
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

// runCompareCmd runs `odmn compare args...` and returns its results.json
// without the timings, and its standard output.
func runCompareCmd(t *testing.T, args ...string) (map[string]any, string) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"compare"}, args...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("odmn compare %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	dir := ""
	for i, a := range args {
		if a == "--out" {
			dir = args[i+1]
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["timings"]; !ok {
		t.Fatal("results.json has no timings field")
	}
	delete(doc, "timings")
	for _, name := range []string{"results.md", "lorenz.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	return doc, out.String()
}

// odmn compare with a fixed seed on a small data set writes the same
// results.json twice (timings aside); the per-run lines and the tables go
// to standard output when it is not a terminal.
func TestCompareDeterministic(t *testing.T) {
	path := compareTable(t, 1500)
	args := func(out string) []string {
		return []string{"--data", path, "--seeds", "1", "--first-seed", "11", "--ablations",
			"--epochs", "2", "--bottom", "16", "--tower", "8", "--batch", "256", "--out", out}
	}
	a, out := runCompareCmd(t, args(filepath.Join(t.TempDir(), "a"))...)
	b, _ := runCompareCmd(t, args(filepath.Join(t.TempDir(), "b"))...)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("two runs of odmn compare with the same seed wrote different results.json")
	}
	for _, want := range []string{"[1/11] seed 11 Two-Stage:", "[11/11] seed 11 SC:", "Table 1: ODMN and the baselines", "Table 3b", "results.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCompareFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--out", t.TempDir()}, // no data
		{"--data", "x.csv", "--users", "10", "--out", t.TempDir()}, // both
		{"--data", "x.csv", "--seeds", "0", "--out", t.TempDir()},
	} {
		cmd := newRootCmd()
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs(append([]string{"compare"}, args...))
		if err := cmd.Execute(); err == nil {
			t.Errorf("odmn compare %v: no error", args)
		}
	}
}
