package data

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// sampleTable is a table with awkward floats and strings, n rows.
func sampleTable(n int) *Table {
	specials := []float64{0, math.Copysign(0, -1), 0.1, 1.0 / 3, -2.5, 1e300, 5e-324, math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.NaN(), 123456789.123456789, 1e21, 1e-7}
	strs := []string{"", "plain", "with,comma", `with "quotes"`, "line\nbreak", "ünïcödé", " spaced ", "NA", "3"}
	t := NewTable(nil, nil)
	a := make([]float64, n)
	b := make([]float64, n)
	s := make([]string, n)
	for i := 0; i < n; i++ {
		a[i] = specials[i%len(specials)]
		b[i] = float64(i)*1.25 - 7
		if i%7 == 3 {
			b[i] = math.NaN()
		}
		s[i] = strs[i%len(strs)]
		if i%11 == 5 {
			s[i] = fmt.Sprintf("id-%d", i)
		}
	}
	// Columns deliberately not in alphabetical order.
	t.AddFloat("zeta", a)
	t.AddString("name", s)
	t.AddFloat("alpha", b)
	return t
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

func requireSameTable(t *testing.T, want, got *Table) {
	t.Helper()
	if got.Rows() != want.Rows() {
		t.Fatalf("rows: got %d, want %d", got.Rows(), want.Rows())
	}
	for i, name := range want.Names {
		j := got.Col(name)
		if j < 0 {
			t.Fatalf("column %q missing", name)
		}
		for r := 0; r < want.Rows(); r++ {
			if want.Kinds[i] == Float {
				w, g := want.Num[i][r], got.Num[j][r]
				// CSV writes -0 as "-0", which reads back as -0: exact.
				if !sameFloat(w, g) {
					t.Fatalf("column %q row %d: got %v, want %v", name, r, g, w)
				}
			} else if want.Str[i][r] != got.Str[j][r] {
				t.Fatalf("column %q row %d: got %q, want %q", name, r, got.Str[j][r], want.Str[i][r])
			}
		}
	}
}

func allRequests(t *Table) []ColumnRequest { return Request(t.Names, t.Kinds) }

func TestRoundTrip(t *testing.T) {
	for _, ext := range []string{".csv", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "t"+ext)
			want := sampleTable(10007)
			// Write in several pieces through the streaming writer, small row groups.
			w, err := NewWriter(path, want.Names, want.Kinds, RowGroupRows(1000))
			if err != nil {
				t.Fatal(err)
			}
			for start := 0; start < want.Rows(); start += 3001 {
				end := min(start+3001, want.Rows())
				piece := NewTable(nil, nil)
				piece.AddFloat("zeta", want.Num[0][start:end])
				piece.AddString("name", want.Str[1][start:end])
				piece.AddFloat("alpha", want.Num[2][start:end])
				if err := w.Write(piece); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("target exists before Close: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("directory has %d entries after Close, want only the file", len(entries))
			}
			cols, err := FileColumns(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(cols, ",") != "zeta,name,alpha" {
				t.Fatalf("file columns %v, want table order", cols)
			}
			if n, err := CountRows(path); err != nil || n != want.Rows() {
				t.Fatalf("CountRows = %d, %v", n, err)
			}
			// Read in chunks that straddle row groups and writes.
			r, err := OpenReader(path, []ColumnRequest{{"alpha", Float}, {"name", String}, {"zeta", Float}}, ChunkRows(777))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := NewTable([]string{"alpha", "name", "zeta"}, []Kind{Float, String, Float})
			chunks := 0
			for {
				c, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if c.Rows() == 0 || c.Rows() > 777 {
					t.Fatalf("chunk of %d rows", c.Rows())
				}
				if strings.Join(c.Names, ",") != "alpha,name,zeta" {
					t.Fatalf("chunk columns %v, want request order", c.Names)
				}
				if p := r.Pos(0); p.Row != int64(chunks*777+1) {
					t.Fatalf("chunk %d starts at %v", chunks, p)
				}
				if chunks == 0 { // Load reserves its labels by this estimate
					est := r.(interface{ rowsEstimate() int64 }).rowsEstimate()
					if d := math.Abs(float64(est)/float64(want.Rows()) - 1); d > 0.1 {
						t.Fatalf("after one chunk the reader expects %d rows in all, the file has %d", est, want.Rows())
					}
				}
				chunks++
				got.Num[0] = append(got.Num[0], c.Num[0]...)
				got.Str[1] = append(got.Str[1], c.Str[1]...)
				got.Num[2] = append(got.Num[2], c.Num[2]...)
			}
			if want := (10007 + 776) / 777; chunks != want {
				t.Fatalf("%d chunks, want %d", chunks, want)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after the end: %v, want io.EOF", err)
			}
			requireSameTable(t, want, got)

			// WriteFile and ReadFile: the one-shot forms.
			path2 := filepath.Join(dir, "u"+ext)
			if err := WriteFile(path2, want); err != nil {
				t.Fatal(err)
			}
			back, err := ReadFile(path2, allRequests(want))
			if err != nil {
				t.Fatal(err)
			}
			requireSameTable(t, want, back)
		})
	}
}

func TestCSVFloatFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.csv")
	tb := NewTable(nil, nil)
	tb.AddFloat("x", []float64{0.1, 1e6, math.NaN(), 2.5, 1.0 / 3})
	if err := WriteFile(path, tb); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "x\n0.1\n1e+06\n\n2.5\n0.3333333333333333\n"; string(b) != want {
		t.Fatalf("CSV is %q, want %q", b, want)
	}
}

func TestCSVMissingSpellings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.csv")
	os.WriteFile(path, []byte("x,s\n1,a\n,b\nNA,c\nNaN,d\nnan,e\n na ,f\n-3.5e2,g\n"), 0o644)
	tb, err := ReadFile(path, []ColumnRequest{{"x", Float}, {"s", String}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), -350}
	for i, w := range want {
		if !sameFloat(tb.Num[0][i], w) {
			t.Fatalf("row %d: %v, want %v", i+1, tb.Num[0][i], w)
		}
	}
}

func TestCSVPositionsWithQuotedNewlines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.csv")
	// Row 2 spans lines 3-4; row 3 starts on line 5 and is bad.
	os.WriteFile(path, []byte("s,x\na,1\n\"two\nlines\",2\nc,oops\n"), 0o644)
	r, err := OpenReader(path, []ColumnRequest{{"s", String}, {"x", Float}}, ChunkRows(2))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if c.Str[0][1] != "two\nlines" || r.Pos(1) != (RowPos{Row: 2, Line: 3}) {
		t.Fatalf("row 2 = %q at %v", c.Str[0][1], r.Pos(1))
	}
	_, err = r.Next()
	var de *Error
	if !errors.As(err, &de) || de.Pos != (RowPos{Row: 3, Line: 5}) || de.Column != "x" {
		t.Fatalf("error %v, want a Error at row 3 (line 5) column x", err)
	}
}

// errContains fails unless err is non-nil and contains every part.
func errContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

func readAll(path string, cols []ColumnRequest) error {
	r, err := OpenReader(path, cols, ChunkRows(2))
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if _, err := r.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func TestCSVBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := []ColumnRequest{{"user_id", String}, {"spend", Float}}

	p := file("nonnum.csv", "user_id,spend\nu1,1.5\nu2,2\nu3,12,5\n")
	errContains(t, readAll(p, good), "nonnum.csv", "row 3 (line 4)", "wrong number of fields")

	p = file("bad.csv", "user_id,spend\nu1,1.5\nu2,2\nu3,abc\n")
	err := readAll(p, good)
	errContains(t, err, "bad.csv", "row 3 (line 4)", `column "spend"`, `not a number: "abc"`)
	var de *Error
	if !errors.As(err, &de) || de.Pos.Row != 3 || de.Pos.Line != 4 || de.Column != "spend" || de.File != p {
		t.Fatalf("Error fields wrong: %#v", de)
	}

	p = file("cols.csv", "user_id,spend_total,channel\nu1,1,a\n")
	err = readAll(p, []ColumnRequest{{"user_id", String}, {"spend", Float}, {"Channel", String}, {"zzz", Float}})
	errContains(t, err, "cols.csv", `"spend" (did you mean "spend_total"?)`, `"Channel" (did you mean "channel"?)`, `"zzz"`,
		`the file has 3 columns: "user_id", "spend_total", "channel"`)

	p = file("empty.csv", "")
	errContains(t, readAll(p, good), "empty.csv", "empty file")

	p = file("header.csv", "user_id,spend\n")
	errContains(t, readAll(p, good), "header.csv", "no data rows", "only a header")

	p = file("dup.csv", "user_id,spend,spend\nu1,1,2\n")
	errContains(t, readAll(p, good), `column "spend" appears more than once`)

	errContains(t, readAll(filepath.Join(dir, "x.json"), good), "unsupported file type", ".csv or .parquet")
	errContains(t, readAll(filepath.Join(dir, "absent.csv"), good), "absent.csv")
	errContains(t, readAll(p, nil), "no columns requested")
}

// A file written by parquet-go's own struct writer (dictionary-encoded
// strings, INT32, INT64, FLOAT, optional values, several row groups) reads
// with the documented kind rules.
type pqRecord struct {
	ID     string   `parquet:"id,dict"`
	Count  int32    `parquet:"count"`
	Big    int64    `parquet:"big"`
	Small  float32  `parquet:"small"`
	Maybe  *float64 `parquet:"maybe,optional"`
	Flag   bool     `parquet:"flag"`
	Amount int64    `parquet:"amount,decimal(2:18)"`
}

func TestParquetForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "foreign.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[pqRecord](f, parquet.MaxRowsPerRowGroup(3))
	var rows []pqRecord
	for i := 0; i < 10; i++ {
		r := pqRecord{ID: fmt.Sprintf("c%d", i%3), Count: int32(i), Big: int64(i) << 40, Small: float32(i) / 4, Flag: i%2 == 0, Amount: int64(i*100 + 5)}
		if i%4 != 1 {
			v := float64(i) + 0.5
			r.Maybe = &v
		}
		rows = append(rows, r)
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	tb, err := ReadFile(path, []ColumnRequest{{"id", String}, {"count", Float}, {"big", Float}, {"small", Float}, {"maybe", Float}, {"count_as_text", String}}[:5])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		maybe := math.NaN()
		if r.Maybe != nil {
			maybe = *r.Maybe
		}
		if tb.Str[0][i] != r.ID || tb.Num[1][i] != float64(r.Count) || tb.Num[2][i] != float64(r.Big) ||
			tb.Num[3][i] != float64(r.Small) || !sameFloat(tb.Num[4][i], maybe) {
			t.Fatalf("row %d: got %v %v %v %v %v, want %+v", i, tb.Str[0][i], tb.Num[1][i], tb.Num[2][i], tb.Num[3][i], tb.Num[4][i], r)
		}
	}
	// Integers read as categories; decimals are scaled.
	tb, err = ReadFile(path, []ColumnRequest{{"count", String}, {"amount", Float}})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Str[0][7] != "7" || tb.Num[1][7] != 7.05 {
		t.Fatalf("count as text %q, amount %v", tb.Str[0][7], tb.Num[1][7])
	}
	// Wrong kinds are errors naming the column.
	errContains(t, readAll(path, []ColumnRequest{{"id", Float}}), "foreign.parquet", `column "id"`, "BYTE_ARRAY", "cannot be read as a float column")
	errContains(t, readAll(path, []ColumnRequest{{"small", String}}), `column "small"`, "FLOAT", "cannot be read as a string column")
	errContains(t, readAll(path, []ColumnRequest{{"flag", Float}}), `column "flag"`, "BOOLEAN")
	errContains(t, readAll(path, []ColumnRequest{{"Count", Float}, {"ID", String}}),
		`"Count" (did you mean "count"`, `"ID" (did you mean "id"?)`)
}

func TestParquetBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.parquet")
	os.WriteFile(empty, nil, 0o644)
	errContains(t, readAll(empty, []ColumnRequest{{"x", Float}}), "empty.parquet", "empty file")

	junk := filepath.Join(dir, "junk.parquet")
	os.WriteFile(junk, []byte("user_id,spend\nu1,2\n"), 0o644)
	errContains(t, readAll(junk, []ColumnRequest{{"x", Float}}), "junk.parquet", "not a readable Parquet file")

	none := filepath.Join(dir, "none.parquet")
	w, err := NewWriter(none, []string{"x"}, []Kind{Float})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	errContains(t, readAll(none, []ColumnRequest{{"x", Float}}), "none.parquet", "no data rows")
}

func TestWriterAbortAndErrors(t *testing.T) {
	for _, ext := range []string{".csv", ".parquet"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "out"+ext)
		os.WriteFile(path, []byte("old"), 0o644)
		w, err := NewWriter(path, []string{"a", "b"}, []Kind{Float, String})
		if err != nil {
			t.Fatal(err)
		}
		tb := NewTable(nil, nil)
		tb.AddString("b", []string{"x"})
		tb.AddFloat("a", []float64{1})
		if err := w.Write(tb); err != nil {
			t.Fatalf("%s: columns in another order must be accepted: %v", ext, err)
		}
		bad := NewTable(nil, nil)
		bad.AddFloat("a", []float64{1})
		bad.AddFloat("b", []float64{2})
		errContains(t, w.Write(bad), `column "b" is float in the table, string in the writer`)
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != "old" {
			t.Fatalf("%s: Abort changed the target: %q", ext, b)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("%s: Abort left %d entries", ext, len(entries))
		}
		errContains(t, w.Write(tb), "write after close")
	}
	_, err := NewWriter(filepath.Join(t.TempDir(), "x.txt"), []string{"a"}, []Kind{Float})
	errContains(t, err, "unsupported file type")
	_, err = NewWriter(filepath.Join(t.TempDir(), "x.csv"), []string{"a", "a"}, []Kind{Float, Float})
	errContains(t, err, `column "a" given twice`)
}

func TestCloseMatches(t *testing.T) {
	have := []string{"customer_id", "date", "number_of_cds", "dollar_value"}
	cases := map[string]string{
		"customer":     "customer_id",
		"Customer_ID":  "customer_id",
		"dollar-value": "dollar_value",
		"dat":          "date",
	}
	for in, want := range cases {
		got := closeMatches(in, have)
		if len(got) == 0 || got[0] != want {
			t.Errorf("closeMatches(%q) = %v, want %q first", in, got, want)
		}
	}
	if got := closeMatches("zebra", have); len(got) != 0 {
		t.Errorf("closeMatches(zebra) = %v, want none", got)
	}
}
