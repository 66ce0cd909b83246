package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sameAsEncodingCSV reads text with recordReader and with encoding/csv
// (defaults, ReuseRecord) and reports the first difference in records,
// start lines, offsets after a record, or errors, up to the first error.
func sameAsEncodingCSV(text string) error {
	want := csv.NewReader(strings.NewReader(text))
	want.ReuseRecord = true
	got := newRecordReader(strings.NewReader(text))
	for n := 1; ; n++ {
		wr, werr := want.Read()
		gr, gerr := got.Read()
		if (werr == nil) != (gerr == nil) || werr != nil && !sameCSVError(werr, gerr) {
			return fmt.Errorf("record %d: error %v, encoding/csv %v", n, gerr, werr)
		}
		if !slices.Equal(wr, gr) {
			return fmt.Errorf("record %d: %q, encoding/csv %q", n, gr, wr)
		}
		if werr != nil {
			return nil
		}
		wl, _ := want.FieldPos(0)
		if gl, _ := got.FieldPos(0); gl != wl {
			return fmt.Errorf("record %d: starts on line %d, encoding/csv %d", n, gl, wl)
		}
		if got.InputOffset() != want.InputOffset() {
			return fmt.Errorf("record %d: offset %d, encoding/csv %d", n, got.InputOffset(), want.InputOffset())
		}
	}
}

func sameCSVError(a, b error) bool {
	if errors.Is(a, io.EOF) || errors.Is(b, io.EOF) {
		return errors.Is(a, io.EOF) && errors.Is(b, io.EOF)
	}
	var pa, pb *csv.ParseError
	if !errors.As(a, &pa) || !errors.As(b, &pb) {
		return a.Error() == b.Error()
	}
	return pa.StartLine == pb.StartLine && pa.Line == pb.Line && pa.Column == pb.Column && errors.Is(pb.Err, pa.Err)
}

// recordReader gives encoding/csv's records, positions and errors on
// plain lines, quoted fields across lines, \r\n, empty lines, a last line
// without a newline, bare and unclosed quotes and wrong field counts.
func TestRecordReaderMatchesEncodingCSV(t *testing.T) {
	cases := []string{
		"", "\n", "a,b\n1,2\n", "a,b\n1,2", "a,b\r\n1,2\r\n", "a,b\n1,2\r", "a,b\n\n\n1,2\n\r\n3,4\n",
		"a,b\n\"x,y\",2\n", "a,b\n\"x\ny\",2\n3,4\n", "a,b\n\"x\"\"y\",2\n", "a,b\nx\"y,2\n3,4\n",
		"a,b\n\"x,2\n3,4\n", "a,b\n\"x\"y,2\n", "a,b\n1,2,3\n", "a,b\n1\n", "a\n\n", ",\n,\n", "a,b\n\"\",\"\"\n",
		"a,b\n\"x\r\ny\",2\r\n", " a , b \n 1 ,2\n", "a,b\n1,2\n\"\n", "\"a\nb\"\n\"c\nd\"\n",
	}
	r := rand.New(rand.NewPCG(5, 6))
	atoms := []string{"a", "1", "2.5", ",", "\n", "\r\n", "\"", "\"\"", " ", "", "x y", "\r"}
	for range 3000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(atoms[r.IntN(len(atoms))])
		}
		cases = append(cases, b.String())
	}
	for _, c := range cases {
		if err := sameAsEncodingCSV(c); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
	}
}

// Lines longer than the read buffer are read whole.
func TestRecordReaderLongLine(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	for _, c := range []string{"a,b\n" + long + ",1\n2,3\n", "a\n\"" + long + "\n" + long + "\"\n"} {
		if err := sameAsEncodingCSV(c); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzRecordReader(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a,b\n\"x\ny\",2\n", "a\nx\"y\n", "a,b\r\n\"\"\"\",\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := sameAsEncodingCSV(string(b)); err != nil {
			t.Fatal(err)
		}
	})
}

// The sink writes what encoding/csv's Writer writes, quoting included.
func TestCSVSinkMatchesEncodingCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	atoms := []string{"a", ",", "\"", "\r", "\n", " ", "\t", "\u00a0", "\u2003", `\.`, "é", "", "1"}
	var strs []string
	for range 2000 {
		var b strings.Builder
		for range r.IntN(5) {
			b.WriteString(atoms[r.IntN(len(atoms))])
		}
		strs = append(strs, b.String())
	}
	strs = append(strs, `\.`, " x", "\u00a0x", "x ", "")
	tb := NewTable(nil, nil)
	tb.AddString("s,\"name\"", strs)
	nums := make([]float64, len(strs))
	for i := range nums {
		nums[i] = r.NormFloat64() * 1e3
	}
	tb.AddFloat(" x", nums)
	var got bytes.Buffer
	s, err := newCSVSink(&got, tb.Names, []bool{false, false})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.write(tb, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	w := csv.NewWriter(&want)
	w.Write(tb.Names)
	for i := range strs {
		w.Write([]string{strs[i], strconv.FormatFloat(nums[i], 'g', -1, 64)})
	}
	w.Flush()
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		g, wl := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(g), len(wl)) {
			if g[i] != wl[i] {
				t.Fatalf("line %d: %q, encoding/csv %q", i+1, g[i], wl[i])
			}
		}
		t.Fatalf("%d lines, encoding/csv %d", len(g), len(wl))
	}
}
