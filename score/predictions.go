package score

import (
	"fmt"
	"slices"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/train"
)

// ReadPredictions reads File's output for the rows of ds: matched by
// the spec's id column when both have it, else by the "row" column, else
// by position (the counts must agree). It reads ltv_<h> and ltv_ev_<h>,
// and ltv_qm_<h>, ltv_fqm_<h> and the interval quantiles ltv_p<q>_<h>
// when the file has them for every horizon. Values come back as the
// float32 the model gave (File writes their shortest decimal form).
func ReadPredictions(path string, b *train.Bundle, ds *data.Dataset) (*train.Predictions, error) {
	have, err := data.FileColumns(path)
	if err != nil {
		return nil, err
	}
	hs := b.Model.Horizons
	var cols []data.ColumnRequest
	key := ""
	switch {
	case b.Spec != nil && b.Spec.ID != "" && slices.Contains(have, b.Spec.ID) && ds.HasIDs():
		key = b.Spec.ID
		cols = append(cols, data.ColumnRequest{Name: key, Kind: data.String})
	case slices.Contains(have, RowColumn):
		key = RowColumn
		cols = append(cols, data.ColumnRequest{Name: key, Kind: data.Float})
	}
	// Column groups: every horizon of a prefix, or none.
	prefixes := []string{"ltv_", "ltv_ev_", "ltv_qm_", "ltv_fqm_"}
	var levels []float64
	for _, c := range have {
		if len(hs) == 0 {
			break
		}
		name := c[:max(0, len(c)-len(fmt.Sprint(hs[0]))-1)]
		if q, ok := train.ParseQuantileOutput(name); ok && c == fmt.Sprintf("%s_%d", name, hs[0]) {
			levels = append(levels, q)
			prefixes = append(prefixes, name+"_")
		}
	}
	var got []string
	for i, pfx := range prefixes {
		all := true
		for _, h := range hs {
			all = all && slices.Contains(have, fmt.Sprintf("%s%d", pfx, h))
		}
		if !all {
			if i < 2 {
				return nil, fmt.Errorf("%s: no %s<h> column for every horizon %v", path, pfx, hs)
			}
			continue
		}
		got = append(got, pfx)
		for _, h := range hs {
			cols = append(cols, data.ColumnRequest{Name: fmt.Sprintf("%s%d", pfx, h), Kind: data.Float})
		}
	}
	t, err := data.ReadFile(path, cols)
	if err != nil {
		return nil, err
	}
	n := t.Rows()
	idx := make([]int, ds.N) // dataset row -> prediction row
	for i := range idx {
		idx[i] = -1
	}
	switch key {
	case "":
		if n != ds.N {
			return nil, fmt.Errorf("%s: %d predictions for %d rows, and no id or row column to match them by", path, n, ds.N)
		}
		for i := range idx {
			idx[i] = i
		}
	case RowColumn:
		for k, v := range t.Num[t.Col(key)] {
			r := int(v)
			if float64(r) != v || r < 0 || r >= ds.N {
				return nil, fmt.Errorf("%s: row %d: %q is %v, not a row of %d", path, k+1, key, v, ds.N)
			}
			idx[r] = k
		}
	default:
		byID := make(map[string]int, n)
		for k, id := range t.Str[t.Col(key)] {
			if _, dup := byID[id]; dup {
				return nil, fmt.Errorf("%s: id %q appears twice", path, id)
			}
			byID[id] = k
		}
		for i := range ds.N {
			if k, ok := byID[ds.ID(i)]; ok {
				idx[i] = k
			}
		}
	}
	for i, k := range idx {
		if k < 0 {
			return nil, fmt.Errorf("%s: no prediction for row %d of the data", path, i+1)
		}
	}
	T := len(hs)
	read := func(pfx string) [][]float64 {
		out := make([][]float64, ds.N)
		cs := make([]int, T)
		for j, h := range hs {
			cs[j] = t.Col(fmt.Sprintf("%s%d", pfx, h))
		}
		for i, k := range idx {
			row := make([]float64, T)
			for j, c := range cs {
				row[j] = float64(float32(t.Num[c][k]))
			}
			out[i] = row
		}
		return out
	}
	pr := &train.Predictions{Horizons: hs, ArgMax: read("ltv_"), EV: read("ltv_ev_")}
	for _, pfx := range got[2:] {
		switch pfx {
		case "ltv_qm_":
			pr.QM = read(pfx)
		case "ltv_fqm_":
			pr.FQM = read(pfx)
		}
	}
	for j, q := range levels {
		if slices.Contains(got, prefixes[4+j]) {
			pr.Quantiles = append(pr.Quantiles, q)
			pr.Q = append(pr.Q, read(prefixes[4+j]))
		}
	}
	if len(pr.Quantiles) < 2 {
		pr.Quantiles, pr.Q = nil, nil
	}
	return pr, nil
}
