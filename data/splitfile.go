package data

import (
	"errors"
	"fmt"
	"io"
)

// SplitFile divides the rows of in into a training and a test file (each
// CSV or Parquet by extension, written atomically with the spec's columns),
// choosing the test rows with Split(n, testFrac, seed), so the same seed
// always holds out the same users. It returns the row counts.
func SplitFile(in string, spec *Spec, testFrac float64, seed uint64, trainOut, testOut string) (nTrain, nTest int, err error) {
	if !(testFrac > 0 && testFrac < 1) {
		return 0, 0, fmt.Errorf("split: test share must be in (0, 1), got %v", testFrac)
	}
	if err := checkColumns(in, spec); err != nil {
		return 0, 0, err
	}
	n, err := CountRows(in)
	if err != nil {
		return 0, 0, err
	}
	_, test := Split(n, testFrac, seed)
	isTest := make([]bool, n)
	for _, i := range test {
		isTest[i] = true
	}
	cols := specRequests(spec)
	names := make([]string, len(cols))
	kinds := make([]Kind, len(cols))
	for i, c := range cols {
		names[i], kinds[i] = c.Name, c.Kind
	}
	r, err := OpenReader(in, cols)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	wTrain, err := NewWriter(trainOut, names, kinds)
	if err != nil {
		return 0, 0, err
	}
	wTest, err := NewWriter(testOut, names, kinds)
	if err != nil {
		wTrain.Abort()
		return 0, 0, err
	}
	fail := func(err error) (int, int, error) {
		wTrain.Abort()
		wTest.Abort()
		return 0, 0, err
	}
	row := 0
	for {
		t, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		var trainRows, testRows []int
		for i := 0; i < t.Rows(); i++ {
			if row+i < n && isTest[row+i] {
				testRows = append(testRows, i)
			} else {
				trainRows = append(trainRows, i)
			}
		}
		row += t.Rows()
		if err := wTrain.Write(t.pick(trainRows)); err != nil {
			return fail(err)
		}
		if err := wTest.Write(t.pick(testRows)); err != nil {
			return fail(err)
		}
		nTrain += len(trainRows)
		nTest += len(testRows)
	}
	if row != n {
		return fail(fmt.Errorf("%s: %d rows counted, %d read", in, n, row))
	}
	if err := wTrain.Close(); err != nil {
		wTest.Abort()
		return 0, 0, err
	}
	if err := wTest.Close(); err != nil {
		return 0, 0, err
	}
	return nTrain, nTest, nil
}

// pick returns a table of the given rows of t.
func (t *Table) pick(rows []int) *Table {
	out := NewTable(t.Names, t.Kinds)
	for c, k := range t.Kinds {
		if k == Float {
			v := make([]float64, len(rows))
			for i, r := range rows {
				v[i] = t.Num[c][r]
			}
			out.Num[c] = v
		} else {
			v := make([]string, len(rows))
			for i, r := range rows {
				v[i] = t.Str[c][r]
			}
			out.Str[c] = v
		}
	}
	return out
}
