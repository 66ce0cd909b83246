package data

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/odmn/odmn/internal/fsutil"
)

// Writer streams a table to a .csv or .parquet file (by extension). It
// writes into a temporary file in the target's directory; Close renames it
// onto the target, so readers never see a half-written file, and Abort
// removes it. A Writer is not safe for concurrent use.
type Writer struct {
	path  string
	names []string
	kinds []Kind
	file  *fsutil.File
	sink  interface {
		write(t *Table, order []int) error
		close() error
	}
	order []int
	err   error // sticky: a failed Write makes Close fail
	done  bool
}

// WriterOption adjusts NewWriter.
type WriterOption func(*writerConfig)

type writerConfig struct {
	rowGroupRows int
	float32s     []string
}

// RowGroupRows sets the rows per Parquet row group (default
// DefaultRowGroupRows); CSV ignores it.
func RowGroupRows(n int) WriterOption {
	return func(c *writerConfig) {
		if n > 0 {
			c.rowGroupRows = n
		}
	}
}

// Float32Columns names Float columns whose values are float32 numbers
// widened exactly (float64(f), as models compute them): CSV writes each in
// float32's shortest form (12.34 rather than 12.340000152587891) and
// Parquet stores the float64 with that decimal form (Float32To64), so a
// caller does not convert every value through text first.
func Float32Columns(names ...string) WriterOption {
	return func(c *writerConfig) { c.float32s = append(c.float32s, names...) }
}

// NewWriter starts writing a table with the given columns to path.
// CSV: a header line, then one line per row; floats in the shortest form
// that reads back exactly (strconv 'g', -1), NaN as an empty field.
// Parquet: see parquetSink (NaN as null).
func NewWriter(path string, names []string, kinds []Kind, opts ...WriterOption) (*Writer, error) {
	cfg := writerConfig{rowGroupRows: DefaultRowGroupRows}
	for _, o := range opts {
		o(&cfg)
	}
	if len(names) == 0 || len(names) != len(kinds) {
		return nil, fmt.Errorf("%s: writer needs one kind per column (%d names, %d kinds)", path, len(names), len(kinds))
	}
	seen := map[string]bool{}
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%s: column %d has no name", path, i+1)
		}
		if seen[n] {
			return nil, fmt.Errorf("%s: column %q given twice", path, n)
		}
		seen[n] = true
		if kinds[i] != Float && kinds[i] != String {
			return nil, fmt.Errorf("%s: column %q has an invalid kind", path, n)
		}
	}
	f32 := make([]bool, len(names))
	for _, n := range cfg.float32s {
		i := slices.Index(names, n)
		if i < 0 || kinds[i] != Float {
			return nil, fmt.Errorf("%s: float32 column %q is not a float column of the writer", path, n)
		}
		f32[i] = true
	}
	ff, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	af, err := fsutil.Create(path)
	if err != nil {
		return nil, err
	}
	w := &Writer{path: path, names: append([]string{}, names...), kinds: append([]Kind{}, kinds...), file: af}
	if ff == formatCSV {
		w.sink, err = newCSVSink(af, names, f32)
	} else {
		w.sink, err = newParquetSink(af, names, kinds, f32, cfg.rowGroupRows)
	}
	if err != nil {
		af.Abort()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// Write appends the rows of t, which must have exactly the writer's
// columns with the same kinds (in any order).
func (w *Writer) Write(t *Table) error {
	if w.done {
		return fmt.Errorf("%s: write after close", w.path)
	}
	if w.err != nil {
		return w.err
	}
	if err := t.Check(); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	if len(t.Names) != len(w.names) {
		return fmt.Errorf("%s: table has %d columns, the writer %d", w.path, len(t.Names), len(w.names))
	}
	if w.order == nil || !sameOrder(w.order, t, w.names) {
		order := make([]int, len(w.names))
		for i, n := range w.names {
			j := t.Col(n)
			if j < 0 {
				return fmt.Errorf("%s: table has no column %q", w.path, n)
			}
			if t.Kinds[j] != w.kinds[i] {
				return fmt.Errorf("%s: column %q is %s in the table, %s in the writer", w.path, n, t.Kinds[j], w.kinds[i])
			}
			order[i] = j
		}
		w.order = order
	}
	if err := w.sink.write(t, w.order); err != nil {
		w.err = fmt.Errorf("%s: %w", w.path, err)
		return w.err
	}
	return nil
}

func sameOrder(order []int, t *Table, names []string) bool {
	for i, j := range order {
		if j >= len(t.Names) || t.Names[j] != names[i] {
			return false
		}
	}
	return true
}

// Close finishes the file and renames it onto the target path. After a
// failed Write, Close removes the temporary file and returns the error.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	w.done = true
	if err := w.sink.close(); err != nil {
		w.file.Abort()
		return fmt.Errorf("%s: %w", w.path, err)
	}
	return w.file.Commit()
}

// Abort discards what was written: the target path is left as it was.
func (w *Writer) Abort() error {
	w.done = true
	w.file.Abort()
	return nil
}

// WriteFile writes t to path (.csv or .parquet) atomically.
func WriteFile(path string, t *Table) error {
	if t == nil {
		return errors.New("data.WriteFile: nil table")
	}
	if err := t.Check(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	w, err := NewWriter(path, t.Names, t.Kinds)
	if err != nil {
		return err
	}
	if err := w.Write(t); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Float32To64 converts f to the float64 with the same shortest decimal
// form, so that a float64 file shows 12.34 rather than
// 12.340000152587891, and reading it back as float32 gives f exactly.
func Float32To64(f float32) float64 {
	if f != f || math.IsInf(float64(f), 0) {
		return float64(f)
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], float64(f), 'g', -1, 32)
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return float64(f)
	}
	return v
}
