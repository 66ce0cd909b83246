package data

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
)

// Dataset is a table encoded for training, held compactly in memory.
//
// The feature ids form a matrix [N × F]: slot j of a row is described by
// Features[j] (slot order: categorical features, numeric features, then
// sequences day by day, each group in spec order; see Encoder). Load and
// Subset keep them in the narrowest integer type each slot's cardinality
// allows (a byte for up to 256 ids), in chunks, and leave X nil; X is the
// row-major int32 form, row i at X[i*F:(i+1)*F], for a Dataset built by
// hand. Row, RowInto and RowInt64 read either. Y holds the labels, row-major [N × T], in spec order
// (increasing horizon), in label units. The spec's id column, when it has
// one, is read with ID (HasIDs says whether there is one); Load and Subset
// keep it compactly and leave IDs nil, which a Dataset built by hand may
// set.
type Dataset struct {
	N, F, T  int
	X        []int32
	Y        []float32
	IDs      []string
	Features []Feature
	Labels   []Label
	// LabelKind is copied from the spec ("count", "money" or "").
	LabelKind string

	rows *compactRows // the feature ids when X is nil
	ids  *compactIDs  // the id column when IDs is nil
}

// HasIDs reports whether the table has an id column.
func (d *Dataset) HasIDs() bool { return d.IDs != nil || d.ids != nil }

// ID returns row i's id ("" without an id column). Load and Subset keep
// the ids end to end in chunks, not in IDs.
func (d *Dataset) ID(i int) string {
	switch {
	case d.ids != nil:
		return d.ids.at(i)
	case d.IDs != nil:
		return d.IDs[i]
	}
	return ""
}

// Row returns the feature ids of row i: a view into X when the Dataset
// has one, else a new slice (RowInto reuses a buffer).
func (d *Dataset) Row(i int) []int32 {
	if d.rows == nil {
		return d.X[i*d.F : (i+1)*d.F : (i+1)*d.F]
	}
	return d.RowInto(i, make([]int32, d.F))
}

// RowInto writes the feature ids of row i into dst[:F] and returns it.
func (d *Dataset) RowInto(i int, dst []int32) []int32 {
	dst = dst[:d.F]
	if d.rows == nil {
		copy(dst, d.X[i*d.F:(i+1)*d.F])
	} else {
		d.rows.int32s(i, dst)
	}
	return dst
}

// RowInt64 writes the feature ids of row i into dst (len F).
func (d *Dataset) RowInt64(i int, dst []int64) {
	if d.rows != nil {
		d.rows.int64s(i, dst[:d.F])
		return
	}
	for j, v := range d.X[i*d.F : (i+1)*d.F] {
		dst[j] = int64(v)
	}
}

// growLabels makes room for the labels of the next n rows before they are
// appended. Grown by append, the array would be copied at every quarter
// and the old copies left behind (a large table's labels held several
// times at the peak); instead it grows to the rows the reader expects in
// all (CSV: file size over bytes per row so far; Parquet: its metadata)
// and a tenth more, at least doubling and at most 16 times the rows read
// so far, so a wrong or forged estimate costs no more than that.
// Capacity never written is never resident.
func growLabels(d *Dataset, r Reader, n int) {
	rows := int64(d.N + n)
	if rows*int64(d.T) <= int64(cap(d.Y)) {
		return
	}
	e, ok := r.(interface{ rowsEstimate() int64 })
	if !ok {
		return // append grows it
	}
	est := min(max(e.rowsEstimate(), 0), 16*rows)
	target := min(max(est+est/10, 2*rows), 16*rows)
	d.Y = slices.Grow(d.Y, int(target)*d.T-len(d.Y))
}

// loadChunkRows is the chunk Load reads by default: a quarter of
// DefaultChunkRows, for a quarter of the garbage between collections.
const loadChunkRows = DefaultChunkRows / 4

// BytesPerRow is the memory one row's feature ids and labels take (ids
// aside).
func (d *Dataset) BytesPerRow() int {
	x := 4 * d.F
	if d.rows != nil {
		x = d.rows.bytesPerRow()
	}
	return x + 4*d.T
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
	s.rows = newCompactRows(d.Features)
	s.Y = make([]float32, 0, len(rows)*d.T)
	if d.HasIDs() {
		s.ids = &compactIDs{}
	}
	buf := make([]int32, d.F)
	for _, i := range rows {
		s.rows.add(d.RowInto(i, buf), d.F)
		s.Y = append(s.Y, d.Label(i)...)
		if s.ids != nil {
			s.ids.add([]string{d.ID(i)})
		}
	}
	s.rows.trim()
	if s.ids != nil {
		s.ids.trim()
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
//
// Each chunk's parsed columns (a few KB a row as strings and float64)
// become garbage as the table grows; under the default pacing (GOGC=100)
// the heap would reach about twice the table before a collection, and the
// freed chunks stay resident as the runtime's idle heap. So Load reads
// chunks of loadChunkRows rows (unless a ChunkRows option says otherwise)
// and collects after each: the peak stays near the table plus one small
// chunk, and the collections cost little because the table holds no
// pointers.
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
	r, err := OpenReader(path, reqs, append([]ReaderOption{ChunkRows(loadChunkRows)}, opts...)...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d := &Dataset{F: enc.NumFeatures(), T: len(spec.Labels), Features: enc.Features(),
		Labels: append([]Label{}, spec.Labels...), LabelKind: spec.LabelKind}
	d.rows = newCompactRows(d.Features)
	if spec.ID != "" {
		d.ids = &compactIDs{}
	}
	var ids []int32 // one chunk's ids, int32, before they are narrowed
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
		growLabels(d, r, n)
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
					return nil, &Error{File: path, Pos: r.Pos(i), Column: name, Msg: msg}
				}
				d.Y = append(d.Y, float32(y))
			}
		}
		if ids, err = enc.Encode(t, ids[:0]); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		d.rows.add(ids, d.F)
		if d.ids != nil {
			d.ids.add(t.Str[0])
		}
		d.N += n
		runtime.GC()
	}
	d.rows.trim()
	if d.ids != nil {
		d.ids.trim()
	}
	return d, nil
}
