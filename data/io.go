package data

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/odmn/odmn/internal/fsutil"
)

// Row and line numbering, used by every error this package reports:
//
//   - a data row is counted from 1: the first row after a CSV header (or the
//     first row of a Parquet file) is row 1;
//   - a CSV error also gives the line of the file where that row starts,
//     counted from 1 with the header on line 1, as an editor or `sed -n Np`
//     counts lines (line = row + 1 unless quoted fields span lines);
//   - a transaction log (BuildFromTransactions) is reported by line only.
//
// RowPos carries both numbers; its String form is "row 17 (line 18)", or
// "row 17" for Parquet.

// DefaultChunkRows is the number of rows a Reader yields per chunk unless
// ChunkRows says otherwise.
const DefaultChunkRows = 65536

// ColumnRequest names a column to read and the kind to read it as.
type ColumnRequest struct {
	Name string
	Kind Kind
}

// Request pairs names with kinds (which must have the same length).
func Request(names []string, kinds []Kind) []ColumnRequest {
	if len(names) != len(kinds) {
		panic(fmt.Sprintf("data.Request: %d names, %d kinds", len(names), len(kinds)))
	}
	r := make([]ColumnRequest, len(names))
	for i := range names {
		r[i] = ColumnRequest{names[i], kinds[i]}
	}
	return r
}

// Reader streams a table file in chunks holding only the requested columns,
// in the order they were requested.
type Reader interface {
	// Next returns the next chunk of at most the chunk size rows (never an
	// empty one), or io.EOF after the last. Each chunk is freshly allocated:
	// the caller may keep it.
	Next() (*Table, error)
	// Pos locates row i (0-based) of the chunk Next returned last.
	Pos(i int) RowPos
	// Path is the file being read.
	Path() string
	Close() error
}

// RowPos locates a data row in a file (see the numbering note above).
type RowPos struct {
	Row  int64 // 1-based data row
	Line int64 // 1-based line of the file where the row starts; 0 if not a text file
}

func (p RowPos) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("row %d (line %d)", p.Row, p.Line)
	}
	return fmt.Sprintf("row %d", p.Row)
}

// Error is a problem with one value of a file: it names the file, the
// row and the column.
type Error struct {
	File   string
	Pos    RowPos
	Column string
	Msg    string
}

func (e *Error) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s, column %q: %s", e.File, e.Pos, e.Column, e.Msg)
}

// ReaderOption adjusts OpenReader.
type ReaderOption func(*readerConfig)

type readerConfig struct {
	chunkRows int
}

// ChunkRows sets the number of rows per chunk (default DefaultChunkRows).
func ChunkRows(n int) ReaderOption {
	return func(c *readerConfig) {
		if n > 0 {
			c.chunkRows = n
		}
	}
}

// format of a table file, chosen by its extension.
type fileFormat int

const (
	formatCSV fileFormat = iota + 1
	formatParquet
)

func formatOf(path string) (fileFormat, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return formatCSV, nil
	case ".parquet":
		return formatParquet, nil
	}
	return 0, fmt.Errorf("%s: unsupported file type %q: want .csv or .parquet", path, filepath.Ext(path))
}

// OpenReader opens a .csv (comma-separated, with a header line) or .parquet
// file for streaming. cols must name at least one column; every one must be
// in the file, else the error names all missing columns with close matches
// and lists the file's columns. A file with no rows is an error.
//
// Float columns parse as float64: in CSV, an empty field, "NA", "NaN" or
// "nan" (any case) is missing and reads as NaN, and anything else that is
// not a number is a *Error. Parquet FLOAT, DOUBLE, INT32 and INT64
// columns read as Float (null is NaN); BYTE_ARRAY columns read as String
// (null is ""), and so do INT32/INT64 columns (integer-coded categories,
// written in decimal). Any other pairing is an error naming the column.
func OpenReader(path string, cols []ColumnRequest, opts ...ReaderOption) (Reader, error) {
	cfg := readerConfig{chunkRows: DefaultChunkRows}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%s: no columns requested", path)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if c.Kind != Float && c.Kind != String {
			return nil, fmt.Errorf("%s: column %q requested with invalid kind", path, c.Name)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%s: column %q requested twice", path, c.Name)
		}
		seen[c.Name] = true
	}
	ff, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	switch ff {
	case formatCSV:
		return openCSV(path, cols, cfg)
	default:
		return openParquet(path, cols, cfg)
	}
}

// ReadFile reads the requested columns of a whole file into one table.
func ReadFile(path string, cols []ColumnRequest) (*Table, error) {
	r, err := OpenReader(path, cols)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	names := make([]string, len(cols))
	kinds := make([]Kind, len(cols))
	for i, c := range cols {
		names[i], kinds[i] = c.Name, c.Kind
	}
	out := NewTable(names, kinds)
	for {
		t, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for i := range cols {
			if kinds[i] == Float {
				out.Num[i] = append(out.Num[i], t.Num[i]...)
			} else {
				out.Str[i] = append(out.Str[i], t.Str[i]...)
			}
		}
	}
}

// FileColumns lists a file's column names in file order (the CSV header, or
// the Parquet schema's top-level columns).
func FileColumns(path string) ([]string, error) {
	ff, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	if ff == formatCSV {
		return csvHeader(path)
	}
	return parquetColumns(path)
}

// CountRows counts a file's data rows (Parquet: from the footer; CSV: by
// reading it through, so quoted fields spanning lines count once).
func CountRows(path string) (int, error) {
	ff, err := formatOf(path)
	if err != nil {
		return 0, err
	}
	if ff == formatParquet {
		return parquetRows(path)
	}
	return csvCount(path)
}

// missingColumnsError reports every requested column absent from have.
func missingColumnsError(path string, missing []string, have []string) error {
	var parts []string
	for _, m := range missing {
		p := fmt.Sprintf("%q", m)
		if near := closeMatches(m, have); len(near) > 0 {
			p += " (did you mean " + quoteList(near, " or ") + "?)"
		}
		parts = append(parts, p)
	}
	what := "column"
	if len(missing) > 1 {
		what = "columns"
	}
	return fmt.Errorf("%s: no %s %s; the file has %d columns: %s", path, what,
		strings.Join(parts, ", "), len(have), quoteList(abbrev(have, 40), ", "))
}

func quoteList(xs []string, sep string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		if x == "..." {
			q[i] = x
			continue
		}
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, sep)
}

func abbrev(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	out := append([]string{}, xs[:n]...)
	return append(out, "...")
}

// closeMatches returns up to 3 names of have close to name: equal ignoring
// case, '-'/'_'/' ', or within a small edit distance, best first.
func closeMatches(name string, have []string) []string {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		return strings.NewReplacer("_", "", "-", "", " ", "", ".", "").Replace(s)
	}
	n := norm(name)
	type cand struct {
		s string
		d int
	}
	var cs []cand
	for _, h := range have {
		hn := norm(h)
		d := editDistance(n, hn)
		limit := 1 + len(n)/4
		if limit > 3 {
			limit = 3
		}
		switch {
		case hn == n:
			cs = append(cs, cand{h, 0})
		case d <= limit:
			cs = append(cs, cand{h, d})
		case len(n) >= 3 && len(hn) >= 3 && (strings.Contains(hn, n) || strings.Contains(n, hn)):
			cs = append(cs, cand{h, 4})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// writeFileAtomic writes b to path through a temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	return fsutil.WriteFile(path, b)
}

// Save writes the spec as indented JSON to path, atomically.
func (s *Spec) Save(path string) error {
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}
