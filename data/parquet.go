package data

import (
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// parquetReader streams requested top-level columns of a Parquet file. Each
// column has its own cursor that walks the row groups and their pages in
// order, so only the pages in use are in memory, never the whole file.
type parquetReader struct {
	path  string
	f     *os.File
	pf    *parquet.File
	cols  []ColumnRequest
	curs  []*pqCursor
	chunk int
	total int64
	base  int64 // rows returned before the last chunk
	next  int64 // rows returned so far
	vals  []parquet.Value
}

// pqCursor reads the values of one column across row groups.
type pqCursor struct {
	name   string
	leaf   int // leaf column index in the file schema
	kind   parquet.Kind
	scale  float64 // 10^-scale for DECIMAL-annotated integers, else 1
	rg     int     // next row group to open
	groups []parquet.RowGroup
	pages  parquet.Pages
	page   parquet.Page
	values parquet.ValueReader
}

func openParquetFile(path string) (*os.File, *parquet.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if st.Size() == 0 {
		f.Close()
		return nil, nil, fmt.Errorf("%s: empty file", path)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
	}
	return f, pf, nil
}

// topColumns lists the top-level column names of a Parquet schema.
func topColumns(pf *parquet.File) []string {
	var names []string
	for _, c := range pf.Root().Columns() {
		names = append(names, c.Name())
	}
	return names
}

func parquetColumns(path string) ([]string, error) {
	f, pf, err := openParquetFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return topColumns(pf), nil
}

func parquetRows(path string) (int, error) {
	f, pf, err := openParquetFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return int(pf.NumRows()), nil
}

// rowsEstimate is the data rows the file holds: its metadata says.
func (r *parquetReader) rowsEstimate() int64 { return r.total }

func openParquet(path string, cols []ColumnRequest, cfg readerConfig) (Reader, error) {
	f, pf, err := openParquetFile(path)
	if err != nil {
		return nil, err
	}
	r := &parquetReader{path: path, f: f, pf: pf, cols: cols, chunk: cfg.chunkRows, total: pf.NumRows()}
	if err := r.open(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (r *parquetReader) open() error {
	have := topColumns(r.pf)
	var missing []string
	for _, col := range r.cols {
		leaf, ok := r.pf.Schema().Lookup(col.Name)
		if !ok {
			missing = append(missing, col.Name)
			continue
		}
		if !leaf.Node.Leaf() || leaf.MaxRepetitionLevel > 0 || strings.Contains(col.Name, ".") {
			return fmt.Errorf("%s: column %q is nested or repeated in the Parquet file; only flat columns can be read", r.path, col.Name)
		}
		typ := leaf.Node.Type()
		c := &pqCursor{name: col.Name, leaf: leaf.ColumnIndex, kind: typ.Kind(), scale: 1, groups: r.pf.RowGroups()}
		dec := decimalOf(typ)
		isDecimal := dec != nil
		if isDecimal {
			c.scale = math.Pow(10, -float64(dec.Scale))
		}
		ok = false
		switch col.Kind {
		case Float:
			switch c.kind {
			case parquet.Float, parquet.Double, parquet.Int32, parquet.Int64:
				ok = true
			}
		case String:
			switch c.kind {
			case parquet.ByteArray:
				ok = !isDecimal
			case parquet.Int32, parquet.Int64:
				ok = !isDecimal
			}
		}
		if !ok {
			return fmt.Errorf("%s: column %q is %s in the Parquet file, which cannot be read as a %s column (want %s)",
				r.path, col.Name, pqTypeName(typ), col.Kind, wantTypes(col.Kind))
		}
		r.curs = append(r.curs, c)
	}
	if len(missing) > 0 {
		return missingColumnsError(r.path, missing, have)
	}
	if r.total == 0 {
		return fmt.Errorf("%s: no data rows (the Parquet file has 0 rows)", r.path)
	}
	return nil
}

func pqTypeName(t parquet.Type) string {
	s := t.Kind().String()
	if lt := t.LogicalType(); lt != nil && lt.Value != nil {
		s += " (" + lt.String() + ")"
	}
	return s
}

func decimalOf(t parquet.Type) *format.DecimalType {
	if lt := t.LogicalType(); lt != nil {
		if d, ok := lt.Value.(*format.DecimalType); ok {
			return d
		}
	}
	return nil
}

func wantTypes(k Kind) string {
	if k == Float {
		return "FLOAT, DOUBLE, INT32 or INT64"
	}
	return "BYTE_ARRAY/STRING, INT32 or INT64"
}

func (r *parquetReader) Path() string { return r.path }

func (r *parquetReader) Pos(i int) RowPos { return RowPos{Row: r.base + int64(i) + 1} }

func (r *parquetReader) Close() error {
	for _, c := range r.curs {
		c.closePages()
	}
	return r.f.Close()
}

func (r *parquetReader) Next() (*Table, error) {
	if r.next >= r.total {
		return nil, io.EOF
	}
	n := int(min(int64(r.chunk), r.total-r.next))
	r.base = r.next
	t := &Table{
		Names: make([]string, len(r.cols)),
		Kinds: make([]Kind, len(r.cols)),
		Num:   make([][]float64, len(r.cols)),
		Str:   make([][]string, len(r.cols)),
	}
	if cap(r.vals) < min(n, 4096) {
		r.vals = make([]parquet.Value, min(n, 4096))
	}
	for i, col := range r.cols {
		t.Names[i], t.Kinds[i] = col.Name, col.Kind
		if col.Kind == Float {
			t.Num[i] = make([]float64, 0, n)
		} else {
			t.Str[i] = make([]string, 0, n)
		}
		c := r.curs[i]
		for got := 0; got < n; {
			k, err := c.read(r.vals[:min(n-got, len(r.vals))])
			if err == io.EOF && k == 0 {
				return nil, fmt.Errorf("%s: column %q ends after %d rows, the file says %d", r.path, col.Name, r.next+int64(got), r.total)
			}
			if err != nil && err != io.EOF {
				return nil, fmt.Errorf("%s: column %q near row %d: %w", r.path, col.Name, r.next+int64(got)+1, err)
			}
			for _, v := range r.vals[:k] {
				if col.Kind == Float {
					t.Num[i] = append(t.Num[i], c.float(v))
				} else {
					t.Str[i] = append(t.Str[i], c.str(v))
				}
			}
			got += k
		}
	}
	r.next += int64(n)
	return t, nil
}

func (c *pqCursor) float(v parquet.Value) float64 {
	if v.IsNull() {
		return math.NaN()
	}
	switch c.kind {
	case parquet.Double:
		return v.Double()
	case parquet.Float:
		return float64(v.Float())
	case parquet.Int32:
		return float64(v.Int32()) * c.scale
	default:
		return float64(v.Int64()) * c.scale
	}
}

func (c *pqCursor) str(v parquet.Value) string {
	if v.IsNull() {
		return ""
	}
	switch c.kind {
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	default:
		return string(v.ByteArray())
	}
}

// read fills buf with the column's next values (at most len(buf)), moving
// to the next page and row group as needed; io.EOF after the last. The
// values may point into the current page, so a page is released only on
// the read after the one that drained it, once the caller has copied them.
func (c *pqCursor) read(buf []parquet.Value) (int, error) {
	for {
		if c.values == nil {
			if c.page != nil {
				parquet.Release(c.page)
				c.page = nil
			}
			if err := c.nextPage(); err != nil {
				return 0, err
			}
		}
		n, err := c.values.ReadValues(buf)
		if err == io.EOF {
			c.values = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (c *pqCursor) nextPage() error {
	for {
		if c.pages == nil {
			if c.rg >= len(c.groups) {
				return io.EOF
			}
			c.pages = c.groups[c.rg].ColumnChunks()[c.leaf].Pages()
			c.rg++
		}
		p, err := c.pages.ReadPage()
		if err == io.EOF {
			c.pages.Close()
			c.pages = nil
			continue
		}
		if err != nil {
			return err
		}
		c.page = p
		c.values = p.Values()
		return nil
	}
}

func (c *pqCursor) closePages() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
	c.values = nil
}

// orderedGroup is a Parquet group node whose fields keep the order given
// (parquet.Group is a map and sorts its fields by name), so a written file
// lists its columns in table order.
type orderedGroup []parquet.Field

type orderedField struct {
	parquet.Node
	name string
}

func (f *orderedField) Name() string                           { return f.name }
func (f *orderedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return g.group().String() }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return g.group().GoType() }
func (g orderedGroup) group() parquet.Group {
	m := parquet.Group{}
	for _, f := range g {
		m[f.Name()] = f
	}
	return m
}

// DefaultRowGroupRows is the number of rows per Parquet row group a Writer
// writes unless RowGroupRows says otherwise.
const DefaultRowGroupRows = 131072

// parquetSink writes a Parquet file: Float columns as optional DOUBLE (NaN
// written as null), String columns as optional STRING ("" written as an
// empty string, not null), Snappy-compressed, one row group per
// rowGroupRows rows.
type parquetSink struct {
	w       *parquet.GenericWriter[any]
	kinds   []Kind
	f32     []bool // by writer column
	perRG   int
	inRG    int
	rows    []parquet.Row
	scratch []parquet.Value
}

func newParquetSink(w io.Writer, names []string, kinds []Kind, f32 []bool, rowGroupRows int) (*parquetSink, error) {
	g := make(orderedGroup, len(names))
	for i, n := range names {
		var node parquet.Node
		if kinds[i] == Float {
			node = parquet.Optional(parquet.Leaf(parquet.DoubleType))
		} else {
			node = parquet.Optional(parquet.String())
		}
		g[i] = &orderedField{Node: parquet.Compressed(node, &parquet.Snappy), name: n}
	}
	schema := parquet.NewSchema("odmn", g)
	cfg, err := parquet.NewWriterConfig(schema, parquet.CreatedBy("odmn", "", ""))
	if err != nil {
		return nil, err
	}
	return &parquetSink{w: parquet.NewGenericWriter[any](w, cfg), kinds: kinds, f32: f32, perRG: rowGroupRows}, nil
}

func (s *parquetSink) write(t *Table, order []int) error {
	const batch = 1024
	n := t.Rows()
	nc := len(order)
	for start := 0; start < n; {
		end := min(n, start+batch, start+s.perRG-s.inRG)
		m := end - start
		if cap(s.scratch) < m*nc {
			s.scratch = make([]parquet.Value, m*nc)
		}
		s.rows = s.rows[:0]
		for r := start; r < end; r++ {
			row := s.scratch[(r-start)*nc : (r-start+1)*nc : (r-start+1)*nc]
			for i, j := range order {
				if t.Kinds[j] == Float {
					v := t.Num[j][r]
					if math.IsNaN(v) {
						row[i] = parquet.NullValue().Level(0, 0, i)
					} else {
						if s.f32[i] {
							v = Float32To64(float32(v))
						}
						row[i] = parquet.DoubleValue(v).Level(0, 1, i)
					}
				} else {
					row[i] = parquet.ByteArrayValue([]byte(t.Str[j][r])).Level(0, 1, i)
				}
			}
			s.rows = append(s.rows, row)
		}
		if _, err := s.w.WriteRows(s.rows); err != nil {
			return err
		}
		s.inRG += m
		if s.inRG >= s.perRG {
			if err := s.w.Flush(); err != nil {
				return err
			}
			s.inRG = 0
		}
		start = end
	}
	return nil
}

func (s *parquetSink) close() error { return s.w.Close() }
