package score

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/data"
)

func writeScores(t *testing.T, path, key string, keys []string, rows []float64, v30, v90 []float64) {
	t.Helper()
	tb := data.NewTable(nil, nil)
	if keys != nil {
		tb.AddString(key, keys)
	} else {
		tb.AddFloat(key, rows)
	}
	tb.AddFloat("ltv_30", v30)
	if v90 != nil {
		tb.AddFloat("ltv_90", v90)
	}
	if err := data.WriteFile(path, tb); err != nil {
		t.Fatal(err)
	}
}

func TestDiffFilesShardsAnyOrder(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.parquet")
	writeScores(t, a, "row", nil, []float64{0, 1, 2, 3}, []float64{1, 2, 3, 4}, []float64{2, 3, 4, 5})
	// The same scores as two shards in another order, one off by 5e-7.
	writeScores(t, filepath.Join(dir, "b-00000-of-00002.parquet"), "row", nil, []float64{3, 1}, []float64{4, 2}, []float64{5, 3})
	writeScores(t, filepath.Join(dir, "b-00001-of-00002.csv"), "row", nil, []float64{2, 0}, []float64{3, 1}, []float64{4, 2 + 5e-7})
	b, err := data.ExpandGlobs([]string{filepath.Join(dir, "b-*")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := DiffFiles([]string{a}, b, DiffOptions{Tol: conform.Tolerance{Atol: 1e-6}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Key != "row" || r.RowsB != 4 || len(r.Columns) != 2 {
		t.Fatalf("want agreement on key row over 4 rows, 2 columns: %+v", r)
	}
	if got := r.Columns[1].MaxAbs; got < 4e-7 || got > 6e-7 {
		t.Errorf("ltv_90 max abs %g, want 5e-7", got)
	}
	r, err = DiffFiles([]string{a}, b, DiffOptions{Tol: conform.Tolerance{Atol: 1e-7}})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Columns[1].Beyond != 1 || r.FirstKeys[1] != "0" {
		t.Errorf("at atol 1e-7 want one value of row 0 beyond: %+v", r)
	}
}

func TestDiffFilesMismatches(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.csv")
	writeScores(t, a, "id", []string{"u1", "u2", "u3"}, nil, []float64{1, 2, 3}, []float64{1, 2, 3})
	fewer := filepath.Join(dir, "fewer.csv")
	writeScores(t, fewer, "id", []string{"u1", "u2", "u9"}, nil, []float64{1, 2, 3}, nil)
	r, err := DiffFiles([]string{a}, []string{fewer}, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.OnlyA != 1 || r.OnlyB != 1 || !strings.Contains(r.FirstOnly, "u3") {
		t.Errorf("want u3 only in A and u9 only in B: %+v", r)
	}
	if d := r.Columns[1]; d.Output != "ltv_90" || d.Problem == "" {
		t.Errorf("a column on one side only must be a problem: %+v", d)
	}

	dup := filepath.Join(dir, "dup.csv")
	writeScores(t, dup, "id", []string{"u1", "u2", "u1"}, nil, []float64{1, 2, 3}, []float64{1, 2, 3})
	if _, err := DiffFiles([]string{a}, []string{dup}, DiffOptions{}); err == nil || !strings.Contains(err.Error(), "dup.csv: row 3") {
		t.Errorf("duplicate key: want an error naming the file and row, got %v", err)
	}
	other := filepath.Join(dir, "other.csv")
	writeScores(t, other, "user", []string{"u1"}, nil, []float64{1}, nil)
	if _, err := DiffFiles([]string{a}, []string{other}, DiffOptions{}); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Errorf("no common key: want an error suggesting --key, got %v", err)
	}
	if _, err := data.ExpandGlobs([]string{filepath.Join(dir, "none-*")}); err == nil {
		t.Error("a glob matching nothing must be an error")
	}
}
