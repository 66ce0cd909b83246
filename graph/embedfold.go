package graph

import "fmt"

// An embedding lookup followed by a linear layer,
//
//	y = alpha · reshape(E[idx], [N, C·D]) · B + bias,
//
// is a sum of C rows of per-column tables: row c of a user's input only
// meets rows c·D..c·D+D-1 of B, so E[v]·B[c·D:(c+1)·D] can be computed
// once per (column, table row) and the product becomes C vector adds of
// H floats per user instead of C·D·H multiply-adds. The tables cost
// C·V·H floats; callers fold only when that is small.

// FoldEmbedding returns the folded tables of an embedding e (v rows of d
// floats) and the weight b of the layer after it (cols·d × h, or h ×
// cols·d when transB), scaled by alpha: entry (c·v + r) holds the h
// floats alpha · e[r] · b[c·d:(c+1)·d], each summed in float64 and
// rounded once.
func FoldEmbedding(e []float32, v, d int, b []float32, transB bool, cols, h int, alpha float32) ([]float32, error) {
	if err := checkFold(e, v, d, b, cols, h); err != nil {
		return nil, err
	}
	t := make([]float32, cols*v*h)
	acc := make([]float64, h)
	for ent := range cols * v {
		foldRow(t[ent*h:ent*h+h], acc, e, v, d, b, transB, cols, h, alpha, ent)
	}
	return t, nil
}

// FoldEmbeddingRows computes only the entries ents of FoldEmbedding's
// tables into t (cols·v·h floats), with the same bits: a caller that
// meets few of the cols·v entries (a column's ids index its own block of
// the table) folds those alone.
func FoldEmbeddingRows(t []float32, ents []int32, e []float32, v, d int, b []float32, transB bool, cols, h int, alpha float32) error {
	if err := checkFold(e, v, d, b, cols, h); err != nil {
		return err
	}
	if len(t) != cols*v*h {
		return fmt.Errorf("FoldEmbeddingRows: %d table values for %dx%dx%d", len(t), cols, v, h)
	}
	acc := make([]float64, h)
	for _, ent := range ents {
		if ent < 0 || int(ent) >= cols*v {
			return fmt.Errorf("FoldEmbeddingRows: entry %d outside [0, %d)", ent, cols*v)
		}
		foldRow(t[int(ent)*h:int(ent)*h+h], acc, e, v, d, b, transB, cols, h, alpha, int(ent))
	}
	return nil
}

func checkFold(e []float32, v, d int, b []float32, cols, h int) error {
	k := cols * d
	if v < 1 || d < 1 || cols < 1 || h < 1 || len(e) != v*d || len(b) != k*h {
		return fmt.Errorf("FoldEmbedding: embedding %d values for %dx%d, weight %d values for %dx%d", len(e), v, d, len(b), k, h)
	}
	return nil
}

// foldRow sets row (entry ent = c·v + r) to alpha · e[r] · b[c·d:(c+1)·d],
// summed in float64 (acc: h scratch values) and rounded once.
func foldRow(row []float32, acc []float64, e []float32, v, d int, b []float32, transB bool, cols, h int, alpha float32, ent int) {
	k := cols * d
	c, r := ent/v, ent%v
	clear(acc)
	for dd := range d {
		x := float64(e[r*d+dd])
		kk := c*d + dd
		if transB {
			for j := range acc {
				acc[j] += x * float64(b[j*k+kk])
			}
		} else {
			for j, w := range b[kk*h : kk*h+h] {
				acc[j] += x * float64(w)
			}
		}
	}
	for j, s := range acc {
		row[j] = float32(float64(alpha) * s)
	}
}

// EmbedSum sets row r of o (h floats) to the sum of the table rows
// ent[r·cols : (r+1)·cols] of tab (in that order), plus bias when it is
// not nil, clamped at zero when relu: the folded product of
// FoldEmbedding. Every entry must index a row of tab.
func EmbedSum(o, tab []float32, ent []int32, bias []float32, rows, cols, h int, relu bool) error {
	if rows < 0 || cols < 1 || h < 1 || len(o) != rows*h || len(ent) != rows*cols || len(tab)%h != 0 || bias != nil && len(bias) != h {
		return fmt.Errorf("EmbedSum: %d outputs, %d entries, %d table values, %d bias values for %d rows x %d columns x %d", len(o), len(ent), len(tab), len(bias), rows, cols, h)
	}
	n := int32(len(tab) / h)
	for i, x := range ent {
		if x < 0 || x >= n {
			return fmt.Errorf("EmbedSum: entry %d is %d, outside [0, %d)", i, x, n)
		}
	}
	if rows > 0 {
		embedSum(o, tab, ent, bias, rows, cols, h, relu)
	}
	return nil
}
