package daily

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/odmn/odmn/data"
)

// TestFeaturesAsOf checks the cut-offs of the training table and the
// scoring set on a log whose customers start around them.
func TestFeaturesAsOf(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log.csv")
	// Window 2 days, horizon 3 days, as of day 10: the training table holds
	// first days <= 10-2-3+1 = 6, the scoring set first days <= 10-2+1 = 9.
	rows := [][3]any{
		{"c5", 5, 1}, {"c5", 11, 100}, // a later transaction: left out
		{"c6", 6, 2}, {"c6", 8, 4}, {"c6", 10, 8}, {"c6", 11, 100},
		{"c7", 7, 1}, {"c9", 9, 3}, {"c9", 10, 5},
		{"c10", 10, 1}, {"c11", 11, 1},
	}
	var b strings.Builder
	b.WriteString("who,when,paid\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%s,%d\n", r[0], day0.AddDate(0, 0, r[1].(int)).Format("20060102"), r[2])
	}
	if err := os.WriteFile(log, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same log in two files, the second tab-separated with its columns
	// in another order: joined, it must give the same tables.
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	part1 := filepath.Join(dir, "part1.csv")
	part2 := filepath.Join(dir, "part2.tsv")
	var p2 strings.Builder
	p2.WriteString("paid\twhen\twho\n")
	for _, l := range lines[6:] {
		f := strings.Split(l, ",")
		fmt.Fprintf(&p2, "%s\t%s\t%s\n", f[2], f[1], f[0])
	}
	if err := os.WriteFile(part1, []byte(strings.Join(lines[:6], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part2, []byte(p2.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, logs := range [][]string{{log}, {part1, part2}} {
		t.Run(fmt.Sprint(len(logs)), func(t *testing.T) { checkFeaturesAsOf(t, logs) })
	}
}

func checkFeaturesAsOf(t *testing.T, logs []string) {
	dir := t.TempDir()
	o := Options{Transactions: logs, AsOf: day0.AddDate(0, 0, 10), Workdir: dir,
		Build: data.BuildOptions{Customer: "who", Time: "when", Value: "paid", Window: 2, Horizons: []int{3}}}
	s := &Summary{Date: "d", opts: &o, day: filepath.Join(dir, "day")}
	res, err := s.features()
	if err != nil {
		t.Fatal(err)
	}
	f := res.(*FeaturesDone)
	if f.Transactions != 8 || f.LogEnd != "2026-01-11" || f.TrainRows != 2 || f.ScoreRows != 4 || f.TrainCutoff != "2026-01-07" || f.ScoreCutoff != "2026-01-10" {
		t.Errorf("result %+v", f)
	}
	trainT, err := data.ReadFile(filepath.Join(s.day, TrainTable), []data.ColumnRequest{{Name: "customer_id", Kind: data.String}, {Name: "ltv_3", Kind: data.Float}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(trainT.Str[0], " "); got != "c5 c6" {
		t.Errorf("training table customers %s, want c5 c6", got)
	}
	if trainT.Num[1][0] != 0 || trainT.Num[1][1] != 12 {
		t.Errorf("labels %v, want [0 12] (c6: days 8..10)", trainT.Num[1])
	}
	cols, err := data.FileColumns(filepath.Join(s.day, ScoreTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		if strings.HasPrefix(c, "ltv_") {
			t.Errorf("the scoring set has a label column %s", c)
		}
	}
	scoreT, err := data.ReadFile(filepath.Join(s.day, ScoreTable), []data.ColumnRequest{{Name: "customer_id", Kind: data.String}, {Name: "value_d2", Kind: data.Float}})
	if err != nil {
		t.Fatal(err)
	}
	ids := append([]string{}, scoreT.Str[0]...)
	sort.Strings(ids)
	if got := strings.Join(ids, " "); got != "c5 c6 c7 c9" {
		t.Errorf("scoring set %s, want c5 c6 c7 c9", got)
	}
	for i, id := range scoreT.Str[0] {
		if id == "c9" && scoreT.Num[1][i] != 5 {
			t.Errorf("c9 value_d2 = %g, want 5 (day 10)", scoreT.Num[1][i])
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(s.day, "features")); len(ents) != 4 {
		t.Errorf("features/ holds %d files, want the two tables and their specs", len(ents))
	}
}
