package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// csvReader streams a comma-separated file with a header line.
type csvReader struct {
	path  string
	f     *os.File
	r     *csv.Reader
	cols  []ColumnRequest
	idx   []int // field index in the file of each requested column
	chunk int
	width int // fields per record (header width)

	base  int64   // data rows returned before the last chunk
	next  int64   // data rows read so far
	lines []int64 // start line of each row of the last chunk

	peek     []string // first data record, read at open
	peekLine int64
	eof      bool
}

func newCSV(f io.Reader) *csv.Reader {
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	return r
}

// readHeader reads the header record of a CSV file.
func readHeader(path string, r *csv.Reader) ([]string, error) {
	rec, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file (no header line)", path)
	}
	if err != nil {
		return nil, csvError(path, 0, err)
	}
	h := make([]string, len(rec))
	for i, s := range rec {
		h[i] = strings.TrimSpace(s)
	}
	h[0] = strings.TrimPrefix(h[0], "\ufeff")
	return h, nil
}

func openCSV(path string, cols []ColumnRequest, cfg readerConfig) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	c := &csvReader{path: path, f: f, cols: cols, chunk: cfg.chunkRows}
	if err := c.open(); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

// rowsEstimate is the data rows the file holds in all, judged from its
// size and the bytes per row read so far (0 before the first row).
func (c *csvReader) rowsEstimate() int64 {
	fi, err := c.f.Stat()
	off := c.r.InputOffset()
	if err != nil || c.next == 0 || off <= 0 {
		return 0
	}
	return int64(float64(fi.Size()) * float64(c.next) / float64(off))
}

func (c *csvReader) open() error {
	c.r = newCSV(c.f)
	header, err := readHeader(c.path, c.r)
	if err != nil {
		return err
	}
	c.width = len(header)
	pos := map[string]int{}
	dup := map[string]bool{}
	for i, h := range header {
		if _, ok := pos[h]; ok {
			dup[h] = true
		}
		pos[h] = i
	}
	var missing []string
	c.idx = make([]int, len(c.cols))
	for i, col := range c.cols {
		j, ok := pos[col.Name]
		if !ok {
			missing = append(missing, col.Name)
			continue
		}
		if dup[col.Name] {
			return fmt.Errorf("%s: column %q appears more than once in the header", c.path, col.Name)
		}
		c.idx[i] = j
	}
	if len(missing) > 0 {
		return missingColumnsError(c.path, missing, header)
	}
	rec, err := c.r.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: no data rows (the file has only a header line)", c.path)
	}
	if err != nil {
		return csvError(c.path, 1, err)
	}
	c.peek = append([]string{}, rec...)
	l, _ := c.r.FieldPos(0)
	c.peekLine = int64(l)
	return nil
}

func (c *csvReader) Path() string { return c.path }

func (c *csvReader) Close() error { return c.f.Close() }

func (c *csvReader) Pos(i int) RowPos {
	p := RowPos{Row: c.base + int64(i) + 1}
	if i >= 0 && i < len(c.lines) {
		p.Line = c.lines[i]
	}
	return p
}

func (c *csvReader) Next() (*Table, error) {
	if c.eof {
		return nil, io.EOF
	}
	c.base = c.next
	c.lines = c.lines[:0]
	t := &Table{
		Names: make([]string, len(c.cols)),
		Kinds: make([]Kind, len(c.cols)),
		Num:   make([][]float64, len(c.cols)),
		Str:   make([][]string, len(c.cols)),
	}
	size := min(c.chunk, 4096)
	for i, col := range c.cols {
		t.Names[i], t.Kinds[i] = col.Name, col.Kind
		if col.Kind == Float {
			t.Num[i] = make([]float64, 0, size)
		} else {
			t.Str[i] = make([]string, 0, size)
		}
	}
	n := 0
	for n < c.chunk {
		var rec []string
		var line int64
		if c.peek != nil {
			rec, line, c.peek = c.peek, c.peekLine, nil
		} else {
			var err error
			rec, err = c.r.Read()
			if err == io.EOF {
				c.eof = true
				break
			}
			if err != nil {
				return nil, csvError(c.path, c.next+1, err)
			}
			l, _ := c.r.FieldPos(0)
			line = int64(l)
		}
		c.next++
		c.lines = append(c.lines, line)
		for i, col := range c.cols {
			s := rec[c.idx[i]]
			if col.Kind == String {
				t.Str[i] = append(t.Str[i], strings.Clone(s))
				continue
			}
			v, ok := parseFloatField(s)
			if !ok {
				return nil, &Error{File: c.path, Pos: RowPos{Row: c.next, Line: line}, Column: col.Name,
					Msg: fmt.Sprintf("not a number: %q (a float column; write missing values as empty, NA or NaN)", s)}
			}
			t.Num[i] = append(t.Num[i], v)
		}
		n++
	}
	if n == 0 {
		return nil, io.EOF
	}
	return t, nil
}

// parseFloatField parses one CSV field of a float column: empty, NA, NaN
// (any case, surrounding spaces ignored) are missing (NaN).
func parseFloatField(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "na") || strings.EqualFold(s, "nan") {
		return math.NaN(), true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, true // ±Inf or 0 on overflow/underflow
		}
		return 0, false
	}
	return v, true
}

// csvError turns an encoding/csv error into one naming the file, data row
// (when known, 1-based) and line.
func csvError(path string, row int64, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "wrong number of fields (the header has a different number)"
		}
		if row > 0 {
			return &Error{File: path, Pos: RowPos{Row: row, Line: int64(pe.StartLine)}, Msg: msg}
		}
		return fmt.Errorf("%s: line %d: %s", path, pe.StartLine, msg)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func csvHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readHeader(path, newCSV(f))
}

func csvCount(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := newCSV(f)
	if _, err := readHeader(path, r); err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, csvError(path, int64(n+1), err)
		}
		n++
	}
}

// csvSink writes CSV rows: floats in the shortest form that reads back
// exactly (strconv 'g', -1), NaN as an empty field.
type csvSink struct {
	bw  *bufio.Writer
	w   *csv.Writer
	rec []string
}

func newCSVSink(w io.Writer, names []string) (*csvSink, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	s := &csvSink{bw: bw, w: csv.NewWriter(bw), rec: make([]string, len(names))}
	if err := s.w.Write(names); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *csvSink) write(t *Table, order []int) error {
	n := t.Rows()
	for r := 0; r < n; r++ {
		for i, j := range order {
			if t.Kinds[j] == String {
				s.rec[i] = t.Str[j][r]
				continue
			}
			v := t.Num[j][r]
			if math.IsNaN(v) {
				s.rec[i] = ""
				continue
			}
			s.rec[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		if err := s.w.Write(s.rec); err != nil {
			return err
		}
	}
	return s.w.Error()
}

func (s *csvSink) close() error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return err
	}
	return s.bw.Flush()
}
