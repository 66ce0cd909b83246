package data

import (
	"fmt"
	"io"
	"math"
)

// Dataset is a table encoded for training, held compactly in memory.
//
// X is the feature matrix, row-major [N × F]: row i is X[i*F:(i+1)*F], and
// slot j of a row is described by Features[j] (slot order: categorical
// features, numeric features, then sequences day by day, each group in spec
// order; see Encoder). Y holds the labels, row-major [N × T], in spec order
// (increasing horizon), in label units. IDs holds the spec's id column, or
// is nil when the spec has none.
type Dataset struct {
	N, F, T  int
	X        []int32
	Y        []float32
	IDs      []string
	Features []Feature
	Labels   []Label
	// LabelKind is copied from the spec ("count", "money" or "").
	LabelKind string
}

// Row returns the feature ids of row i (a view into X).
func (d *Dataset) Row(i int) []int32 { return d.X[i*d.F : (i+1)*d.F : (i+1)*d.F] }

// RowInt64 writes the feature ids of row i into dst (len F).
func (d *Dataset) RowInt64(i int, dst []int64) {
	for j, v := range d.X[i*d.F : (i+1)*d.F] {
		dst[j] = int64(v)
	}
}

// Label returns the labels of row i (a view into Y).
func (d *Dataset) Label(i int) []float32 { return d.Y[i*d.T : (i+1)*d.T : (i+1)*d.T] }

// Cardinalities lists each slot's number of ids.
func (d *Dataset) Cardinalities() []int {
	c := make([]int, len(d.Features))
	for i, f := range d.Features {
		c[i] = f.Cardinality
	}
	return c
}

// Horizons lists the label horizons in days.
func (d *Dataset) Horizons() []int {
	h := make([]int, len(d.Labels))
	for i, l := range d.Labels {
		h[i] = l.Horizon
	}
	return h
}

// Subset copies the given rows (in the order given) into a new Dataset.
func (d *Dataset) Subset(rows []int) *Dataset {
	s := &Dataset{N: len(rows), F: d.F, T: d.T, Features: d.Features, Labels: d.Labels, LabelKind: d.LabelKind}
	s.X = make([]int32, 0, len(rows)*d.F)
	s.Y = make([]float32, 0, len(rows)*d.T)
	if d.IDs != nil {
		s.IDs = make([]string, 0, len(rows))
	}
	for _, i := range rows {
		s.X = append(s.X, d.Row(i)...)
		s.Y = append(s.Y, d.Label(i)...)
		if d.IDs != nil {
			s.IDs = append(s.IDs, d.IDs[i])
		}
	}
	return s
}

// Load reads the file at path (.csv or .parquet) in chunks and encodes it
// with enc, which must have been fitted for spec's features.
//
// Before reading any row it checks that the file has every column of the
// spec (the error names each missing one). While reading, a label that is
// missing (empty, NA, NaN), infinite or negative, or a row whose labels
// decrease from one horizon to the next (labels are cumulative), is an
// error naming the file, the row (see RowPos) and the column(s).
func Load(path string, spec *Spec, enc *Encoder, opts ...ReaderOption) (*Dataset, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := enc.CheckSpec(spec); err != nil {
		return nil, err
	}
	if err := checkColumns(path, spec); err != nil {
		return nil, err
	}
	reqs := specRequests(spec)
	r, err := OpenReader(path, reqs, opts...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d := &Dataset{F: enc.NumFeatures(), T: len(spec.Labels), Features: enc.Features(),
		Labels: append([]Label{}, spec.Labels...), LabelKind: spec.LabelKind}
	firstLabel := len(reqs) - d.T
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		n := t.Rows()
		for i := 0; i < n; i++ {
			for k := 0; k < d.T; k++ {
				y := t.Num[firstLabel+k][i]
				name := spec.Labels[k].Name
				var msg string
				switch {
				case math.IsNaN(y):
					msg = "missing label (empty, NA or NaN)"
				case math.IsInf(y, 0):
					msg = fmt.Sprintf("label is %v", y)
				case y < 0:
					msg = fmt.Sprintf("negative label %v", y)
				case k > 0 && t.Num[firstLabel+k-1][i] > y:
					prev := spec.Labels[k-1].Name
					msg = fmt.Sprintf("labels decrease across horizons: %s = %v > %s = %v (labels are cumulative: each horizon's value must be at least the previous one's)",
						prev, t.Num[firstLabel+k-1][i], name, y)
					name = prev
				}
				if msg != "" {
					return nil, &DataError{File: path, Pos: r.Pos(i), Column: name, Msg: msg}
				}
				d.Y = append(d.Y, float32(y))
			}
		}
		if d.X, err = enc.Encode(t, d.X); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if spec.ID != "" {
			d.IDs = append(d.IDs, t.Str[0]...)
		}
		d.N += n
	}
	return d, nil
}
