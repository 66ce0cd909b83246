package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
)

func runGen(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"gen"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

func TestGenWritesTableAndSpec(t *testing.T) {
	dir := t.TempDir()
	want, _, err := synth.Generate(synth.Config{Users: 3000, Seed: 9, Labels: synth.LabelsRevenue})
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".csv", ".parquet"} {
		path := filepath.Join(dir, "users"+ext)
		out, err := runGen(t, "--users", "3000", "--seed", "9", "--labels", "revenue", "--out", path)
		if err != nil {
			t.Fatalf("%s: %v\n%s", ext, err, out)
		}
		if !strings.Contains(out, "ltv_365") || !strings.Contains(out, "wrote 3000 users") {
			t.Errorf("%s: summary missing:\n%s", ext, out)
		}
		spec, err := data.LoadSpec(filepath.Join(dir, "users.spec.json"))
		if err != nil {
			t.Fatal(err)
		}
		if spec.LabelKind != "money" {
			t.Errorf("label_kind %q", spec.LabelKind)
		}
		names, kinds := synth.Schema()
		if !slices.Equal(spec.Columns(), names) {
			t.Errorf("spec columns %v", spec.Columns())
		}
		got, err := data.ReadFile(path, data.Request(names, kinds))
		if err != nil {
			t.Fatal(err)
		}
		if got.Rows() != want.Rows() {
			t.Fatalf("%s: read %d rows", ext, got.Rows())
		}
		for c := range names {
			for i := range want.Rows() {
				if kinds[c] == data.String {
					if got.Str[c][i] != want.Str[c][i] {
						t.Fatalf("%s: %s row %d: %q, want %q", ext, names[c], i, got.Str[c][i], want.Str[c][i])
					}
				} else if a, b := got.Num[c][i], want.Num[c][i]; a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
					t.Fatalf("%s: %s row %d: %v, want %v", ext, names[c], i, a, b)
				}
			}
		}
	}
	// no temporary files left behind
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s", e.Name())
		}
	}
}

func TestGenRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--users", "10", "--out", filepath.Join(dir, "x.txt")},
		{"--users", "0", "--out", filepath.Join(dir, "x.csv")},
		{"--users", "10", "--labels", "ltv", "--out", filepath.Join(dir, "x.csv")},
		{"--users", "10", "--start", "2021-13-01", "--out", filepath.Join(dir, "x.csv")},
		{"--users", "10"},
	} {
		if out, err := runGen(t, args...); err == nil {
			t.Errorf("%v accepted:\n%s", args, out)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("files left after failures: %v", entries)
	}
}
