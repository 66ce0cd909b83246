package score

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/graph"
)

// DiffOptions says how DiffFiles matches and compares two score outputs.
type DiffOptions struct {
	// Key is the column matching rows across the two sides; "" picks the
	// first column both sides have that is not a score (ltv...) column,
	// which is the id column or RowColumn in what File and the pipeline
	// write.
	Key string
	// Tol is the agreement of two values (conform's comparator).
	Tol conform.Tolerance
}

// DiffReport is what DiffFiles found.
type DiffReport struct {
	A, B         []string // the files of each side
	Key          string
	RowsA, RowsB int
	// OnlyA and OnlyB count keys present on one side only; FirstOnly
	// names one of them.
	OnlyA, OnlyB int
	FirstOnly    string
	// Columns has one Diff per score column of either side, in side A's
	// order then B's extras; a column missing on one side is a Problem.
	Columns []conform.Diff
	// FirstKeys[i] is the key of Columns[i].First's row ("" when none).
	FirstKeys []string
}

// OK reports whether both sides have the same keys and every column agrees.
func (r *DiffReport) OK() bool {
	if r.OnlyA != 0 || r.OnlyB != 0 || r.RowsA != r.RowsB {
		return false
	}
	for _, d := range r.Columns {
		if !d.OK() {
			return false
		}
	}
	return true
}

// diffSide is one side read into memory: the key of every row and the
// score columns.
type diffSide struct {
	files []string
	keys  []string
	names []string
	vals  [][]float64
}

// DiffFiles compares two score outputs row by row, matched by key, each
// side one or more files (Parquet or CSV shards of one output, as the
// pipeline writes them): two runtimes, two machines, or `odmn score`
// against `odmn pipeline score`. Row order does not matter; a key twice
// on one side is an error naming the file and row.
func DiffFiles(a, b []string, o DiffOptions) (*DiffReport, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, fmt.Errorf("score diff: both sides need at least one file")
	}
	key := o.Key
	if key == "" {
		var err error
		if key, err = commonKey(a[0], b[0]); err != nil {
			return nil, err
		}
	}
	sa, err := readDiffSide(a, key)
	if err != nil {
		return nil, err
	}
	sb, err := readDiffSide(b, key)
	if err != nil {
		return nil, err
	}
	r := &DiffReport{A: a, B: b, Key: key, RowsA: len(sa.keys), RowsB: len(sb.keys)}
	at := make(map[string]int, len(sb.keys))
	for i, k := range sb.keys {
		at[k] = i
	}
	// pairs[i] is the row of side B holding side A's row i's key, or -1.
	pairs := make([]int, len(sa.keys))
	matched := 0
	for i, k := range sa.keys {
		j, ok := at[k]
		if !ok {
			pairs[i] = -1
			r.OnlyA++
			if r.FirstOnly == "" {
				r.FirstOnly = fmt.Sprintf("%s %q only in %s", key, k, a[0])
			}
			continue
		}
		pairs[i] = j
		matched++
	}
	r.OnlyB = len(sb.keys) - matched
	if r.OnlyB > 0 && r.FirstOnly == "" {
		inA := make(map[string]bool, len(sa.keys))
		for _, k := range sa.keys {
			inA[k] = true
		}
		for _, k := range sb.keys {
			if !inA[k] {
				r.FirstOnly = fmt.Sprintf("%s %q only in %s", key, k, b[0])
				break
			}
		}
	}
	for ci, name := range sa.names {
		cj := slices.Index(sb.names, name)
		if cj < 0 {
			r.Columns = append(r.Columns, conform.Diff{Output: name, First: -1, Problem: "not in " + strings.Join(b, ",")})
			r.FirstKeys = append(r.FirstKeys, "")
			continue
		}
		got := make([]float64, 0, matched)
		want := make([]float64, 0, matched)
		rows := make([]int, 0, matched)
		for i, j := range pairs {
			if j >= 0 {
				want = append(want, sa.vals[ci][i])
				got = append(got, sb.vals[cj][j])
				rows = append(rows, i)
			}
		}
		d := conform.Compare(name, graph.FromSlice([]int{len(got)}, got), graph.FromSlice([]int{len(want)}, want), o.Tol)
		first := ""
		if d.First >= 0 && d.First < len(rows) {
			first = sa.keys[rows[d.First]]
		}
		r.Columns = append(r.Columns, d)
		r.FirstKeys = append(r.FirstKeys, first)
		continue
	}
	for _, name := range sb.names {
		if !slices.Contains(sa.names, name) {
			r.Columns = append(r.Columns, conform.Diff{Output: name, First: -1, Problem: "not in " + strings.Join(a, ",")})
			r.FirstKeys = append(r.FirstKeys, "")
		}
	}
	return r, nil
}

// scoreColumn reports whether a column holds scores rather than keys.
func scoreColumn(name string) bool { return strings.HasPrefix(name, "ltv") }

// commonKey is the first non-score column of a that b also has.
func commonKey(a, b string) (string, error) {
	ca, err := data.FileColumns(a)
	if err != nil {
		return "", err
	}
	cb, err := data.FileColumns(b)
	if err != nil {
		return "", err
	}
	for _, c := range ca {
		if !scoreColumn(c) && slices.Contains(cb, c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("score diff: %s and %s share no key column (an id or %q); name one with --key", a, b, RowColumn)
}

func readDiffSide(files []string, key string) (*diffSide, error) {
	s := &diffSide{files: files}
	seen := map[string]string{} // key -> file:row, to name duplicates
	for fi, f := range files {
		cols, err := data.FileColumns(f)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(cols, key) {
			return nil, fmt.Errorf("%s: no key column %q (columns: %s)", f, key, strings.Join(cols, ", "))
		}
		var names []string
		for _, c := range cols {
			if scoreColumn(c) {
				names = append(names, c)
			}
		}
		if fi == 0 {
			s.names = names
			s.vals = make([][]float64, len(names))
		} else if !slices.Equal(names, s.names) {
			return nil, fmt.Errorf("%s: score columns %v differ from %s's %v", f, names, files[0], s.names)
		}
		keys, err := readKeys(f, key)
		if err != nil {
			return nil, err
		}
		req := make([]data.ColumnRequest, len(names))
		for i, n := range names {
			req[i] = data.ColumnRequest{Name: n, Kind: data.Float}
		}
		if len(req) > 0 {
			t, err := data.ReadFile(f, req)
			if err != nil {
				return nil, err
			}
			for i := range names {
				s.vals[i] = append(s.vals[i], t.Num[i]...)
			}
		}
		for i, k := range keys {
			if prev, dup := seen[k]; dup {
				return nil, fmt.Errorf("%s: row %d: %s %q again (first at %s)", f, i+1, key, k, prev)
			}
			seen[k] = f + ":" + strconv.Itoa(i+1)
		}
		s.keys = append(s.keys, keys...)
	}
	return s, nil
}

// readKeys reads the key column as text whatever its type (a Parquet
// DOUBLE row number reads as Float, an id as String).
func readKeys(f, key string) ([]string, error) {
	t, err := data.ReadFile(f, []data.ColumnRequest{{Name: key, Kind: data.String}})
	if err == nil {
		return t.Str[0], nil
	}
	t, err2 := data.ReadFile(f, []data.ColumnRequest{{Name: key, Kind: data.Float}})
	if err2 != nil {
		return nil, err
	}
	keys := make([]string, len(t.Num[0]))
	for i, v := range t.Num[0] {
		keys[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return keys, nil
}
