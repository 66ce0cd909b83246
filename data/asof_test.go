package data

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCopyTransactions(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.csv")
	// Whitespace-separated with compact dates, and a CSV with other columns.
	if err := os.WriteFile(a, []byte("id  day  usd n\n1 19970101 10.50 1\n2 19970103 3 2\n1 19970104 1.25 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("n,usd,id,day\n4,7,3,19970102\n1,2,3,19970110\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := BuildOptions{Customer: "id", Time: "day", Value: "usd", Count: "n"}
	var buf bytes.Buffer
	st, err := CopyTransactions(&buf, o, []string{a, b}, time.Date(1997, 1, 3, 23, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := "id,day,usd,n\n1,1997-01-01,10.50,1\n2,1997-01-03,3,2\n3,1997-01-02,7,4\n"
	if buf.String() != want {
		t.Errorf("copy:\n%s\nwant:\n%s", buf.String(), want)
	}
	if st.Files != 2 || st.Rows != 5 || st.Kept != 3 || st.Later != 2 || st.LastDay.Format("2006-01-02") != "1997-01-03" {
		t.Errorf("stats %+v", st)
	}
	// The copy builds the same table as the log cut by hand.
	p := filepath.Join(dir, "copy.csv")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	o.In, o.Window, o.Horizons = p, 1, []int{1}
	tab, _, _, err := BuildFromTransactions(o)
	if err != nil || tab.Rows() != 2 {
		t.Fatalf("build from the copy: %v (%v rows)", err, tab)
	}

	// Nothing on or before the day, and a bad row, are errors.
	if _, err := CopyTransactions(&buf, o, []string{a}, time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil || !strings.Contains(err.Error(), "none dated on or before 1996-01-01") {
		t.Errorf("no rows: %v", err)
	}
	if err := os.WriteFile(b, []byte("n,usd,id,day\n4,-7,3,19970102\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.In = ""
	if _, err := CopyTransactions(&buf, o, []string{a, b}, time.Date(1997, 1, 3, 0, 0, 0, 0, time.UTC)); err == nil || !strings.Contains(err.Error(), "b.csv: line 2") {
		t.Errorf("bad row: %v", err)
	}
}
