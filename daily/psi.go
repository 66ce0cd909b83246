package daily

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/odmn/odmn/data"
)

// PSIEpsilon replaces the share of a bin that holds no row on one side, so
// that PSI stays finite: a bin empty in training but holding 1% of the
// scoring set adds (0.01 - 1e-4) * ln(0.01/1e-4) = 0.046.
const PSIEpsilon = 1e-4

// PSI is the population stability index of actual against expected, two
// histograms over the same bins:
//
//	PSI = sum_i (a_i - e_i) * ln(a_i / e_i)
//
// where e_i and a_i are the shares of bin i (count / total); a share of 0
// is replaced by PSIEpsilon. 0 means identical distributions; a common
// reading is < 0.1 stable, 0.1 to 0.25 some shift, > 0.25 a large shift.
// It returns NaN when either histogram is empty or they differ in length.
func PSI(expected, actual []int64) float64 {
	if len(expected) != len(actual) {
		return math.NaN()
	}
	var ne, na int64
	for i := range expected {
		ne += expected[i]
		na += actual[i]
	}
	if ne == 0 || na == 0 {
		return math.NaN()
	}
	s := 0.0
	for i := range expected {
		if expected[i] == 0 && actual[i] == 0 {
			continue
		}
		e := float64(expected[i]) / float64(ne)
		a := float64(actual[i]) / float64(na)
		if e == 0 {
			e = PSIEpsilon
		}
		if a == 0 {
			a = PSIEpsilon
		}
		s += (a - e) * math.Log(a/e)
	}
	return s
}

// FeaturePSI is the drift of one input feature (a model input column).
type FeaturePSI struct {
	Feature string  `json:"feature"`
	Type    string  `json:"type"` // categorical, numeric or sequence
	Bins    int     `json:"bins"` // ids of the slot, 0 (missing/unknown) included
	PSI     float64 `json:"psi"`
}

// slotBinner maps one column of a chunk to the model's ids.
type slotBinner struct {
	col    string
	typ    string
	bins   int
	vocab  map[string]int
	bounds []float64
}

func (b *slotBinner) id(t *data.Table, k, row int) int {
	if b.vocab != nil {
		return b.vocab[t.Str[k][row]] // unknown and "" are 0
	}
	return int(data.Bin(b.bounds, t.Num[k][row]))
}

func binners(enc *data.Encoder) []*slotBinner {
	var out []*slotBinner
	for _, c := range enc.Categorical {
		v := make(map[string]int, len(c.Values))
		for i, s := range c.Values {
			v[s] = i + 1
		}
		out = append(out, &slotBinner{col: c.Name, typ: "categorical", bins: len(c.Values) + 1, vocab: v})
	}
	for _, c := range enc.Numeric {
		out = append(out, &slotBinner{col: c.Name, typ: "numeric", bins: len(c.Bounds) + 2, bounds: c.Bounds})
	}
	for _, q := range enc.Sequences {
		for d := 1; d <= q.Length; d++ {
			out = append(out, &slotBinner{col: data.SeqColumn(q.Name, d), typ: "sequence", bins: len(q.Bounds) + 2, bounds: q.Bounds})
		}
	}
	return out
}

// Histograms counts the rows of the table at path in each of the model's
// bins, per input feature: the encoder's vocabulary ids for categorical
// features (0: missing or unknown) and its discretization bins for numeric
// and sequence features (0: missing). It streams the file.
func Histograms(enc *data.Encoder, path string) ([][]int64, error) {
	bs := binners(enc)
	req := make([]data.ColumnRequest, len(bs))
	h := make([][]int64, len(bs))
	for k, b := range bs {
		kind := data.Float
		if b.vocab != nil {
			kind = data.String
		}
		req[k] = data.ColumnRequest{Name: b.col, Kind: kind}
		h[k] = make([]int64, b.bins)
	}
	r, err := data.OpenReader(path, req)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		n := t.Rows()
		for k, b := range bs {
			for i := 0; i < n; i++ {
				h[k][b.id(t, k, i)]++
			}
		}
	}
	return h, nil
}

// Drift computes the PSI of every input feature of the model whose
// encoder is enc, between the table it was trained on (trainPath, the
// expected population) and the table to score (scorePath), both put
// through the model's own bins and vocabularies. The result is sorted by
// decreasing PSI.
func Drift(enc *data.Encoder, trainPath, scorePath string) ([]FeaturePSI, error) {
	he, err := Histograms(enc, trainPath)
	if err != nil {
		return nil, err
	}
	ha, err := Histograms(enc, scorePath)
	if err != nil {
		return nil, err
	}
	bs := binners(enc)
	out := make([]FeaturePSI, len(bs))
	for k, b := range bs {
		p := PSI(he[k], ha[k])
		if math.IsNaN(p) {
			return nil, fmt.Errorf("drift: feature %q: an empty table (%s or %s)", b.col, trainPath, scorePath)
		}
		out[k] = FeaturePSI{Feature: b.col, Type: b.typ, Bins: b.bins, PSI: p}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PSI > out[j].PSI })
	return out, nil
}
