package data

import (
	"path/filepath"
	"testing"
)

func TestSplitFile(t *testing.T) {
	dir := t.TempDir()
	spec := &Spec{ID: "id", Numeric: []Numeric{{Name: "x"}}, Labels: []Label{{Name: "y", Horizon: 30}}}
	tab := NewTable(nil, nil)
	var ids []string
	var xs, ys []float64
	for i := 0; i < 1000; i++ {
		ids = append(ids, string(rune('a'+i%26))+string(rune('0'+i%10)))
		xs = append(xs, float64(i))
		ys = append(ys, float64(i%7))
	}
	tab.AddString("id", ids)
	tab.AddFloat("x", xs)
	tab.AddFloat("y", ys)
	in := filepath.Join(dir, "all.csv")
	if err := WriteFile(in, tab); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "train.parquet"), filepath.Join(dir, "test.csv")
	nt, ns, err := SplitFile(in, spec, 0.2, 3, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if nt != 800 || ns != 200 {
		t.Fatalf("split %d/%d, want 800/200", nt, ns)
	}
	_, want := Split(1000, 0.2, 3)
	got, err := ReadFile(b, specRequests(spec))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range want {
		if got.Num[1][i] != float64(r) {
			t.Fatalf("test row %d is x=%v, want %d", i, got.Num[1][i], r)
		}
	}
	trainTab, err := ReadFile(a, specRequests(spec))
	if err != nil || trainTab.Rows() != 800 {
		t.Fatalf("train file: %v rows, %v", trainTab.Rows(), err)
	}
	if _, _, err := SplitFile(in, spec, 1.5, 3, a, b); err == nil {
		t.Fatal("test share 1.5 accepted")
	}
}
