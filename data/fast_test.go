package data

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The fast path gives ParseFloat's bits on the fields it takes and leaves
// the rest to ParseFloat.
func TestParseDecimal(t *testing.T) {
	cases := []string{"0", "-0", "+0", "12", "-12", "3.5", ".5", "5.", "-.25", "0.1", "123456789012345",
		"99999999999999.9", "0.00000000000001", "007", "2.675"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		d := r.IntN(15) + 1
		s := strconv.FormatUint(r.Uint64()%uint64(math.Pow10(d)), 10)
		if p := r.IntN(len(s) + 1); r.IntN(2) == 0 {
			s = s[:p] + "." + s[p:]
		}
		if r.IntN(3) == 0 {
			s = "-" + s
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		got, ok := parseDecimal(s)
		if s == "." || s == "-." {
			continue
		}
		want, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseDecimal(%q) = %v, %v; ParseFloat %v, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"", "-", "+", ".", "1e5", "1,5", " 1", "1 ", "NaN", "inf", "0x10", "1234567890123456", "1.000000000000001", "1..2", "1.2.3", "1_000"} {
		if v, ok := parseDecimal(s); ok {
			t.Errorf("parseDecimal(%q) = %v, want it left to ParseFloat", s, v)
		}
	}
}

// Float32 columns are written in float32's shortest form (CSV) and as the
// float64 with that form (Parquet); other float columns as before.
func TestFloat32Columns(t *testing.T) {
	f32 := []float32{0.1, 12.34, -2.5e-8, 3.4028235e38, float32(math.NaN()), float32(math.Inf(-1)), 16777217}
	for _, ext := range []string{".csv", ".parquet"} {
		path := filepath.Join(t.TempDir(), "f"+ext)
		w, err := NewWriter(path, []string{"p", "q", "s"}, []Kind{Float, Float, String}, Float32Columns("p"))
		if err != nil {
			t.Fatal(err)
		}
		tb := NewTable(nil, nil)
		p, q, s := make([]float64, len(f32)), make([]float64, len(f32)), make([]string, len(f32))
		for i, f := range f32 {
			p[i], q[i], s[i] = float64(f), float64(f), fmt.Sprint(i)
		}
		tb.AddFloat("p", p)
		tb.AddFloat("q", q)
		tb.AddString("s", s)
		if err := w.Write(tb); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		back, err := ReadFile(path, []ColumnRequest{{"p", Float}, {"q", Float}, {"s", String}})
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range f32 {
			if want := Float32To64(f); !sameFloat(back.Num[0][i], want) {
				t.Errorf("%s: float32 column row %d: %v, want %v", ext, i, back.Num[0][i], want)
			}
			if !sameFloat(back.Num[1][i], float64(f)) {
				t.Errorf("%s: float column row %d: %v, want %v", ext, i, back.Num[1][i], float64(f))
			}
		}
		if ext == ".csv" {
			b, _ := os.ReadFile(path)
			if want := "p,q,s\n0.1,0.10000000149011612,0\n"; !strings.HasPrefix(string(b), want) {
				t.Errorf("CSV starts %q, want %q", b[:min(len(b), 60)], want)
			}
		}
	}
	for _, bad := range []string{"s", "nope"} {
		if _, err := NewWriter(filepath.Join(t.TempDir(), "x.csv"), []string{"p", "s"}, []Kind{Float, String}, Float32Columns(bad)); err == nil {
			t.Errorf("Float32Columns(%q) accepted", bad)
		}
	}
}

// Repeated categories come back as the values read, across chunks and
// past the interning bound.
func TestCSVStringsInterned(t *testing.T) {
	var b strings.Builder
	b.WriteString("c,id\n")
	n := 3*maxInterned + 5
	for i := range n {
		fmt.Fprintf(&b, "cat%d,u%d\n", i%7, i)
	}
	path := filepath.Join(t.TempDir(), "s.csv")
	os.WriteFile(path, []byte(b.String()), 0o644)
	r, err := OpenReader(path, []ColumnRequest{{"c", String}, {"id", String}}, ChunkRows(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	row := 0
	for {
		tb, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range tb.Rows() {
			if c, id := tb.Str[0][i], tb.Str[1][i]; c != fmt.Sprintf("cat%d", row%7) || id != fmt.Sprintf("u%d", row) {
				t.Fatalf("row %d: %q %q", row, c, id)
			}
			row++
		}
	}
	if row != n {
		t.Fatalf("read %d rows, want %d", row, n)
	}
}
