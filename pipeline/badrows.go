package pipeline

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/score"
)

// badRow is one row scoring skips.
type badRow struct {
	line   int64 // CSV line; Parquet: the 0-based row
	column string
	reason string
}

// checked is what checkShard found in one file for one shard.
type checked struct {
	rows    int64    // the shard's rows
	bad     []badRow // the shard's bad rows
	anyBad  bool     // some row of the file (any shard) is bad
	badRows map[int64]bool
	idCol   bool // the file has the model's id column
}

// checkShard reads every row of a table to score and reports the bad ones
// of shard (rows r with r mod shards == shard): a CSV row with the wrong
// number of fields or that does not parse, an empty id, a number column
// holding text, a negative number. Empty, NA and NaN are missing values,
// which the model takes; they are not bad.
func checkShard(path string, m *score.Model, shard, shards int) (*checked, error) {
	if shards < 1 {
		shards = 1
	}
	cols, err := data.FileColumns(path)
	if err != nil {
		return nil, err
	}
	c := &checked{badRows: map[int64]bool{}, idCol: m.IDColumn != "" && slices.Contains(cols, m.IDColumn)}
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return c, checkCSV(path, m, shard, shards, c)
	}
	return c, checkTable(path, m, shard, shards, c)
}

func (c *checked) add(r int64, mine bool, b badRow) {
	c.anyBad = true
	if mine {
		c.bad = append(c.bad, b)
		c.badRows[r] = true
	}
}

func checkCSV(path string, m *score.Model, shard, shards int, c *checked) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	pos := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := pos[h]; !dup {
			pos[h] = i
		}
	}
	type col struct {
		name string
		at   int
		num  bool
	}
	var want []col
	if c.idCol {
		want = append(want, col{m.IDColumn, pos[m.IDColumn], false})
	}
	for _, in := range m.Inputs {
		j, ok := pos[in.Name]
		if !ok {
			return fmt.Errorf("%s: no column %q (a model input)", path, in.Name)
		}
		want = append(want, col{in.Name, j, in.Type != "string"})
	}
	for r := int64(0); ; r++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := cr.FieldPos(0)
		mine := r%int64(shards) == int64(shard)
		if mine {
			c.rows++
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("%s: %w", path, err)
			}
			c.add(r, mine, badRow{line: int64(pe.StartLine), reason: pe.Err.Error()})
			continue
		}
		if len(rec) != len(header) {
			c.add(r, mine, badRow{line: int64(line), reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		for k, w := range want {
			s := strings.TrimSpace(rec[w.at])
			if k == 0 && c.idCol {
				if s == "" {
					c.add(r, mine, badRow{line: int64(line), column: w.name, reason: "empty id"})
					break
				}
				continue
			}
			if !w.num || s == "" || strings.EqualFold(s, "na") || strings.EqualFold(s, "nan") {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			var ne *strconv.NumError
			if err != nil && !(errors.As(err, &ne) && ne.Err == strconv.ErrRange) {
				c.add(r, mine, badRow{line: int64(line), column: w.name, reason: fmt.Sprintf("not a number: %q", s)})
				break
			}
			if v < 0 {
				c.add(r, mine, badRow{line: int64(line), column: w.name, reason: fmt.Sprintf("negative value %s", s)})
				break
			}
		}
	}
}

// checkTable checks a Parquet table: only negative numbers can be bad.
func checkTable(path string, m *score.Model, shard, shards int, c *checked) error {
	req := score.NewFeeder(m.Inputs).Columns()
	r, err := data.OpenReader(path, req, data.ChunkRows(score.DefaultBatch))
	if err != nil {
		return err
	}
	defer r.Close()
	var row int64
	for {
		t, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i := 0; i < t.Rows(); i, row = i+1, row+1 {
			mine := row%int64(shards) == int64(shard)
			if mine {
				c.rows++
			}
			for j, q := range req {
				if q.Kind == data.Float && t.Num[j][i] < 0 {
					c.add(row, mine, badRow{line: row, column: q.Name, reason: fmt.Sprintf("negative value %v", t.Num[j][i])})
					break
				}
			}
		}
	}
}

// goodRows writes the shard's good rows of path to a temporary file of the
// same format beside out and returns its name; the caller removes it.
func goodRows(path, out string, m *score.Model, shard, shards int, c *checked) (string, error) {
	if !c.idCol {
		return "", fmt.Errorf("%s: bad rows in a table without the model's id column %q: scores could not be joined back once they are skipped; fix or remove them (see the bad-row file)", path, m.IDColumn)
	}
	ext := filepath.Ext(path)
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".good-*"+ext)
	if err != nil {
		return "", err
	}
	name := tmp.Name()
	tmp.Close()
	if err := writeGood(path, name, m, shard, shards, c); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

func writeGood(path, tmp string, m *score.Model, shard, shards int, c *checked) error {
	keep := func(r int64) bool { return r%int64(shards) == int64(shard) && !c.badRows[r] }
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(tmp)
		if err != nil {
			return err
		}
		cr := csv.NewReader(in)
		cr.FieldsPerRecord = -1
		cw := csv.NewWriter(out)
		header, err := cr.Read()
		if err == nil {
			err = cw.Write(header)
		}
		for r := int64(0); err == nil; r++ {
			var rec []string
			rec, err = cr.Read()
			if err == io.EOF {
				err = nil
				break
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = nil // a bad row: not kept
				continue
			}
			if err == nil && keep(r) {
				err = cw.Write(rec)
			}
		}
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	}
	req := append([]data.ColumnRequest{{Name: m.IDColumn, Kind: data.String}}, score.NewFeeder(m.Inputs).Columns()...)
	r, err := data.OpenReader(path, req, data.ChunkRows(score.DefaultBatch))
	if err != nil {
		return err
	}
	defer r.Close()
	names := make([]string, len(req))
	kinds := make([]data.Kind, len(req))
	for i, q := range req {
		names[i], kinds[i] = q.Name, q.Kind
	}
	w, err := data.NewWriter(tmp, names, kinds)
	if err != nil {
		return err
	}
	var row int64
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.Abort()
			return err
		}
		var sel []int
		for i := 0; i < t.Rows(); i, row = i+1, row+1 {
			if keep(row) {
				sel = append(sel, i)
			}
		}
		if err := w.Write(subTable(t, sel)); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

func subTable(t *data.Table, rows []int) *data.Table {
	out := data.NewTable(nil, nil)
	for j, n := range t.Names {
		if t.Kinds[j] == data.String {
			col := make([]string, len(rows))
			for i, r := range rows {
				col[i] = t.Str[j][r]
			}
			out.AddString(n, col)
			continue
		}
		col := make([]float64, len(rows))
		for i, r := range rows {
			col[i] = t.Num[j][r]
		}
		out.AddFloat(n, col)
	}
	return out
}

// writeBad writes one element's bad rows (or removes a stale file).
func writeBad(path, file string, bad []badRow) error {
	b := newBadWriter(path)
	defer b.abort()
	for _, r := range bad {
		if err := b.add(file, r.line, r.column, r.reason); err != nil {
			return err
		}
	}
	return b.commit()
}

// countRows counts a table's data rows, malformed CSV rows included (each
// is one row, as checkShard counts them).
func countRows(path string) (int64, error) {
	if !strings.EqualFold(filepath.Ext(path), ".csv") {
		n, err := data.CountRows(path)
		return int64(n), err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return 0, fmt.Errorf("%s: header: %w", path, err)
	}
	var n int64
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return n, nil
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return n, fmt.Errorf("%s: %w", path, err)
		}
		n++
	}
}
