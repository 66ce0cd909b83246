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
	"unicode"
	"unicode/utf8"
)

// csvReader streams a comma-separated file with a header line.
type csvReader struct {
	path  string
	f     *os.File
	r     *recordReader
	cols  []ColumnRequest
	idx   []int // field index in the file of each requested column
	chunk int
	last  int // rows in the last chunk returned
	width int // fields per record (header width)

	base  int64   // data rows returned before the last chunk
	next  int64   // data rows read so far
	lines []int64 // start line of each row of the last chunk

	peek     []string // first data record, read at open
	peekLine int64
	eof      bool

	// seen holds each string column's values read so far, up to
	// maxInterned, so that a category repeated on every row is one string
	// and not one allocation per row.
	seen []map[string]string
}

const maxInterned = 4096

// str returns field s as a string of its own, so that the table does not
// keep the record's whole line alive, shared between rows for repeated
// values.
func (c *csvReader) str(i int, s string) string {
	if c.seen == nil {
		c.seen = make([]map[string]string, len(c.cols))
	}
	m := c.seen[i]
	if v, ok := m[s]; ok {
		return v
	}
	v := strings.Clone(s)
	if m == nil {
		m = map[string]string{}
		c.seen[i] = m
	}
	if len(m) < maxInterned {
		m[v] = v
	}
	return v
}

func newCSV(f io.Reader) *recordReader { return newRecordReader(f) }

// readHeader reads the header record of a CSV file.
func readHeader(path string, r *recordReader) ([]string, error) {
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
	// Columns start at the size the last chunk reached (4,096 rows for
	// the first), so a full chunk is not grown by doubling every time and a
	// short file does not reserve a whole chunk.
	size := min(c.chunk, max(4096, c.last))
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
				t.Str[i] = append(t.Str[i], c.str(i, s))
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
	c.last = n
	return t, nil
}

// parseFloatField parses one CSV field of a float column: empty, NA, NaN
// (any case, surrounding spaces ignored) are missing (NaN).
func parseFloatField(s string) (float64, bool) {
	if v, ok := parseDecimal(s); ok {
		return v, true
	}
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

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal parses the common field ParseFloat would give the same
// value for without its general machinery: an optional sign, at most 15
// digits and an optional point, nothing else. The digits make an integer
// below 2^53 and the point a power of ten of at most 1e15, both exact in
// float64, so one division rounds as ParseFloat does (Clinger's fast
// path). ok is false for anything else.
func parseDecimal(s string) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	var mant uint64
	digits, frac, point := 0, 0, false
	for ; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			mant = mant*10 + uint64(ch-'0')
			digits++
			if point {
				frac++
			}
		case ch == '.' && !point:
			point = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
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
// exactly (strconv 'g', -1; float32's for the float32 columns), NaN as an
// empty field, strings quoted as encoding/csv's Writer quotes them. A row
// is made in one buffer: numbers never need quotes, so only strings are
// examined.
type csvSink struct {
	bw  *bufio.Writer
	f32 []bool // by writer column
	row []byte
}

func newCSVSink(w io.Writer, names []string, f32 []bool) (*csvSink, error) {
	s := &csvSink{bw: bufio.NewWriterSize(w, 1<<20), f32: f32}
	for i, n := range names {
		if i > 0 {
			s.row = append(s.row, ',')
		}
		s.row = appendCSVField(s.row, n)
	}
	s.row = append(s.row, '\n')
	if _, err := s.bw.Write(s.row); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *csvSink) write(t *Table, order []int) error {
	n := t.Rows()
	for r := 0; r < n; r++ {
		s.row = s.row[:0]
		for i, j := range order {
			if i > 0 {
				s.row = append(s.row, ',')
			}
			if t.Kinds[j] == String {
				s.row = appendCSVField(s.row, t.Str[j][r])
				continue
			}
			v := t.Num[j][r]
			switch {
			case math.IsNaN(v):
			case s.f32[i]:
				s.row = strconv.AppendFloat(s.row, v, 'g', -1, 32)
			default:
				s.row = strconv.AppendFloat(s.row, v, 'g', -1, 64)
			}
		}
		s.row = append(s.row, '\n')
		if _, err := s.bw.Write(s.row); err != nil {
			return err
		}
	}
	return nil
}

// appendCSVField appends field as encoding/csv's Writer writes it (comma
// separator, \n line ends): quoted, with quotes doubled, when it holds a
// comma, quote, \r or \n, begins with a space, or is \. alone.
func appendCSVField(b []byte, field string) []byte {
	if !needsQuotes(field) {
		return append(b, field...)
	}
	b = append(b, '"')
	for i := 0; i < len(field); i++ {
		if field[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, field[i])
	}
	return append(b, '"')
}

func needsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` {
		return true
	}
	for i := 0; i < len(field); i++ {
		if c := field[i]; c == '\n' || c == '\r' || c == '"' || c == ',' {
			return true
		}
	}
	r1, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r1)
}

func (s *csvSink) close() error { return s.bw.Flush() }
