package data

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
)

// Feature slots. The encoded feature matrix has one column ("slot") per
// categorical feature, per numeric feature and per day of every sequence,
// in this order:
//
//	spec.Categorical in spec order, then spec.Numeric in spec order, then
//	spec.Sequences in spec order, each one day by day (name_d1 .. name_dL).
//
// Every slot holds small non-negative ids below its cardinality:
//   - categorical: 0 = missing ("") or out of vocabulary (unseen in training,
//     or seen fewer than MinCount times); 1.. = vocabulary values by
//     descending training frequency, ties by ascending value. Cardinality =
//     vocabulary size + 1.
//   - numeric and sequence days: 0 = NaN (missing); 1..B = equal-frequency
//     bins, where bin b+1 holds values x with Bounds[b-1] <= x < Bounds[b]
//     (so B = len(Bounds) + 1 and cardinality = B + 1), compared in
//     float32, the precision of served models' inputs (see Bin). All days
//     of one sequence share one set of bounds.

// DefaultSampleSize is the per-feature reservoir size Fit uses unless
// FitOptions.SampleSize says otherwise.
const DefaultSampleSize = 1 << 20

// EncoderVersion is the JSON format version of a fitted Encoder.
const EncoderVersion = 1

// Encoder turns the feature columns of a table into the ids the models
// embed. It is fitted on training data by Fit, serialized as JSON (Save,
// LoadEncoder, or encoding/json) and stored with a model.
type Encoder struct {
	Version     int                   `json:"version"`
	Fit         FitInfo               `json:"fit"`
	Categorical []CategoricalEncoding `json:"categorical,omitempty"`
	Numeric     []NumericEncoding     `json:"numeric,omitempty"`
	Sequences   []SequenceEncoding    `json:"sequences,omitempty"`

	index []map[string]int32 // per categorical: value -> id
}

// FitInfo records how an encoder was fitted.
type FitInfo struct {
	Rows       int64  `json:"rows"`   // training rows read
	Method     string `json:"method"` // "reservoir": see Fit
	SampleSize int    `json:"sample_size"`
	Seed       uint64 `json:"seed"`
}

// CategoricalEncoding is a fitted vocabulary: Values[i] has id i+1.
type CategoricalEncoding struct {
	Name     string   `json:"name"`
	MinCount int      `json:"min_count,omitempty"`
	Values   []string `json:"values"`
	Counts   []int64  `json:"counts"` // training count of each value
}

// NumericEncoding holds the fitted bin bounds of a numeric feature.
type NumericEncoding struct {
	Name   string    `json:"name"`
	Bins   int       `json:"bins"`   // bins asked for
	Bounds []float64 `json:"bounds"` // inner cut points, strictly increasing
}

// SequenceEncoding holds the bounds shared by all days of a sequence.
type SequenceEncoding struct {
	Name   string    `json:"name"`
	Length int       `json:"length"`
	Bins   int       `json:"bins"`
	Bounds []float64 `json:"bounds"`
}

// Feature describes one slot of the encoded feature matrix.
type Feature struct {
	Column      string `json:"column"` // table column
	Name        string `json:"name"`   // spec feature (the sequence's name for a day)
	Type        string `json:"type"`   // "categorical", "numeric" or "sequence"
	Day         int    `json:"day"`    // 1-based day of a sequence, else 0
	Cardinality int    `json:"cardinality"`
}

// FitOptions control Fit.
type FitOptions struct {
	// SampleSize bounds the values kept per numeric feature and per
	// sequence (all days pooled); default DefaultSampleSize.
	SampleSize int
	// Seed of the reservoir sampler.
	Seed uint64
	// Rows, when non-nil, restricts fitting to these 0-based data rows
	// (for example the train half of Split); other rows are read past. An
	// index past the end of the file is an error.
	Rows []int
	// ChunkRows is the reader's chunk size (default DefaultChunkRows).
	ChunkRows int
}

// binsOf returns the bins a spec entry asks for.
func binsOf(b int) int {
	if b == 0 {
		return DefaultBins
	}
	return b
}

// featureRequests lists the feature columns of a spec, in slot order.
func featureRequests(s *Spec) []ColumnRequest {
	var r []ColumnRequest
	for _, c := range s.Categorical {
		r = append(r, ColumnRequest{c.Name, String})
	}
	for _, c := range s.Numeric {
		r = append(r, ColumnRequest{c.Name, Float})
	}
	for _, q := range s.Sequences {
		for d := 1; d <= q.Length; d++ {
			r = append(r, ColumnRequest{SeqColumn(q.Name, d), Float})
		}
	}
	return r
}

// specRequests lists every column of a spec (Spec.Columns order) with the
// kind it is read as.
func specRequests(s *Spec) []ColumnRequest {
	var r []ColumnRequest
	if s.ID != "" {
		r = append(r, ColumnRequest{s.ID, String})
	}
	r = append(r, featureRequests(s)...)
	for _, l := range s.Labels {
		r = append(r, ColumnRequest{l.Name, Float})
	}
	return r
}

// checkColumns fails, naming every absent column, unless the file has all
// columns of the spec. It reads only the header or footer.
func checkColumns(path string, s *Spec) error {
	have, err := FileColumns(path)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	var missing []string
	for _, c := range s.Columns() {
		if !set[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the spec does not match the data: %w", missingColumnsError(path, missing, have))
	}
	return nil
}

// reservoir is a uniform sample (Vitter's algorithm R) of the non-NaN
// values offered to it.
type reservoir struct {
	vals []float64
	seen int64
	size int
	r    *rng
}

func (s *reservoir) add(x float64) {
	if math.IsNaN(x) {
		return
	}
	s.seen++
	if len(s.vals) < s.size {
		if len(s.vals) == cap(s.vals) {
			// Double (append grows large slices by a quarter, which
			// copies a full sample about five times over).
			nv := make([]float64, len(s.vals), min(s.size, max(1024, 2*cap(s.vals))))
			copy(nv, s.vals)
			s.vals = nv
		}
		s.vals = append(s.vals, x)
		return
	}
	if j := s.r.below(uint64(s.seen)); j < uint64(s.size) {
		s.vals[j] = x
	}
}

// Fit fits an encoder for spec on the data file at path (.csv or .parquet),
// streaming it in chunks.
//
// Categorical vocabularies are exact (every value is counted). Numeric
// and sequence bounds are the equal-frequency cut points of a uniform
// reservoir sample of at most SampleSize non-NaN values per feature (a
// sequence pools all its days), deterministic for a given file, Rows and
// Seed; when the training data has no more values than SampleSize, as is
// the case up to a million rows, the sample is all of them and the cut
// points are exact quantiles.
//
// Cut points: with B bins and n sorted values s, the j-th cut (j = 1..B-1)
// targets position p = floor(j*n/B) and is placed at the edge of the run of
// values equal to s[p] that is nearer to p (before the run: cut = s[p];
// after it: cut = the next larger value), never at either end of the data.
// Repeated cuts are merged, so heavily repeated values (many zeros, small
// integers) give fewer, but never empty, bins. A cut at +Inf is dropped.
func Fit(path string, spec *Spec, opts FitOptions) (*Encoder, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := checkColumns(path, spec); err != nil {
		return nil, err
	}
	if opts.SampleSize <= 0 {
		opts.SampleSize = DefaultSampleSize
	}
	var mask []bool
	if opts.Rows != nil {
		mask = []bool{}
		for _, i := range opts.Rows {
			if i < 0 {
				return nil, fmt.Errorf("data.Fit: negative row index %d", i)
			}
			if i >= len(mask) {
				mask = append(mask, make([]bool, i+1-len(mask))...)
			}
			mask[i] = true
		}
	}
	reqs := featureRequests(spec)
	ropts := []ReaderOption{}
	if opts.ChunkRows > 0 {
		ropts = append(ropts, ChunkRows(opts.ChunkRows))
	}
	r, err := OpenReader(path, reqs, ropts...)
	if err != nil {
		return nil, err
	}
	defer r.Close()

	nc, nn := len(spec.Categorical), len(spec.Numeric)
	counts := make([]map[string]int64, nc)
	for i := range counts {
		counts[i] = map[string]int64{}
	}
	samples := make([]*reservoir, nn+len(spec.Sequences))
	for i := range samples {
		samples[i] = &reservoir{size: opts.SampleSize, r: newRNG(opts.Seed, uint64(i)+100)}
	}
	var row, used int64
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
			g := row + int64(i)
			if mask != nil && (g >= int64(len(mask)) || !mask[g]) {
				continue
			}
			used++
			c := 0
			for k := 0; k < nc; k++ {
				if v := t.Str[c][i]; v != "" {
					counts[k][v]++
				}
				c++
			}
			for k := 0; k < nn; k++ {
				samples[k].add(t.Num[c][i])
				c++
			}
			for k, q := range spec.Sequences {
				for d := 0; d < q.Length; d++ {
					samples[nn+k].add(t.Num[c][i])
					c++
				}
			}
		}
		row += int64(n)
	}
	if len(mask) > int(row) {
		return nil, fmt.Errorf("%s: FitOptions.Rows names row %d, but the file has %d rows (0-based indices)", path, len(mask)-1, row)
	}
	if used == 0 {
		return nil, fmt.Errorf("%s: no training rows to fit the encoder on", path)
	}
	e := &Encoder{
		Version: EncoderVersion,
		Fit:     FitInfo{Rows: used, Method: "reservoir", SampleSize: opts.SampleSize, Seed: opts.Seed},
	}
	for k, c := range spec.Categorical {
		e.Categorical = append(e.Categorical, vocabulary(c, counts[k]))
	}
	for k, c := range spec.Numeric {
		b := binsOf(c.Bins)
		e.Numeric = append(e.Numeric, NumericEncoding{Name: c.Name, Bins: b, Bounds: cutPoints(samples[k].vals, b)})
	}
	for k, q := range spec.Sequences {
		b := binsOf(q.Bins)
		e.Sequences = append(e.Sequences, SequenceEncoding{Name: q.Name, Length: q.Length, Bins: b, Bounds: cutPoints(samples[nn+k].vals, b)})
	}
	e.buildIndex()
	return e, nil
}

func vocabulary(c Categorical, counts map[string]int64) CategoricalEncoding {
	minCount := int64(max(c.MinCount, 1))
	ce := CategoricalEncoding{Name: c.Name, MinCount: c.MinCount, Values: []string{}, Counts: []int64{}}
	for v, n := range counts {
		if n >= minCount {
			ce.Values = append(ce.Values, v)
		}
	}
	sort.Slice(ce.Values, func(i, j int) bool {
		a, b := ce.Values[i], ce.Values[j]
		if counts[a] != counts[b] {
			return counts[a] > counts[b]
		}
		return a < b
	})
	for _, v := range ce.Values {
		ce.Counts = append(ce.Counts, counts[v])
	}
	return ce
}

// cutPoints returns the equal-frequency inner cut points of vals (which it
// sorts) for the given number of bins; see Fit.
func cutPoints(vals []float64, bins int) []float64 {
	cuts := []float64{}
	n := len(vals)
	if n == 0 {
		return cuts
	}
	sort.Float64s(vals)
	for j := 1; j < bins; j++ {
		p := int(int64(j) * int64(n) / int64(bins))
		v := vals[p]
		lo := sort.SearchFloat64s(vals, v)
		hi := sort.Search(n, func(i int) bool { return vals[i] > v })
		at := -1
		switch {
		case lo > 0 && hi < n:
			if p-lo <= hi-p {
				at = lo
			} else {
				at = hi
			}
		case lo > 0:
			at = lo
		case hi < n:
			at = hi
		}
		if at < 0 || math.IsInf(vals[at], 1) {
			continue
		}
		if len(cuts) == 0 || vals[at] > cuts[len(cuts)-1] {
			cuts = append(cuts, vals[at])
		}
	}
	return cuts
}

// bin returns the id of x for the given bounds: 0 for NaN, else 1 + the
// number of bounds b with float32(b) <= float32(x).
//
// The comparison is in float32 on purpose: models are served with float32
// inputs (odmn's ONNX export takes numeric columns as float32 and counts
// bounds with GreaterOrEqual in float32), and a float64 rule could not be
// matched there for values within float32 rounding of a bound. Rounding is
// monotone, so the float32 bounds stay sorted (two bounds closer than
// float32 resolution become equal, leaving the bin between them empty).
// For values with fewer than 7 significant digits, such as counts and
// prices, the float32 and float64 rules give the same bins.
func bin(bounds []float64, x float64) int32 {
	if math.IsNaN(x) {
		return 0
	}
	x32 := float32(x)
	k := sort.Search(len(bounds), func(i int) bool { return float32(bounds[i]) > x32 })
	return int32(k + 1)
}

// Bin is the encoder's discretization rule for one value (see the package
// comment on slots): 0 for NaN, else 1 + the number of bounds b with
// float32(b) <= float32(x). Exported graphs reproduce it in float32.
func Bin(bounds []float64, x float64) int32 { return bin(bounds, x) }

func (e *Encoder) buildIndex() {
	e.index = make([]map[string]int32, len(e.Categorical))
	for k, c := range e.Categorical {
		m := make(map[string]int32, len(c.Values))
		for i, v := range c.Values {
			m[v] = int32(i + 1)
		}
		e.index[k] = m
	}
}

// UnmarshalJSON reads an encoder and prepares it for use.
func (e *Encoder) UnmarshalJSON(b []byte) error {
	type plain Encoder
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*e = Encoder(p)
	if e.Version != EncoderVersion {
		return fmt.Errorf("encoder: version %d, this odmn reads version %d", e.Version, EncoderVersion)
	}
	check := func(name string, bounds []float64) error {
		for i := 1; i < len(bounds); i++ {
			if !(bounds[i] > bounds[i-1]) {
				return fmt.Errorf("encoder: %q: bounds must increase strictly", name)
			}
		}
		return nil
	}
	for _, c := range e.Numeric {
		if err := check(c.Name, c.Bounds); err != nil {
			return err
		}
	}
	for _, q := range e.Sequences {
		if err := check(q.Name, q.Bounds); err != nil {
			return err
		}
	}
	e.buildIndex()
	return nil
}

// Save writes the encoder as indented JSON to path, atomically.
func (e *Encoder) Save(path string) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// LoadEncoder reads an encoder written by Save.
func LoadEncoder(path string) (*Encoder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e Encoder
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}

// NumFeatures is the number of slots F of the encoded feature matrix.
func (e *Encoder) NumFeatures() int {
	f := len(e.Categorical) + len(e.Numeric)
	for _, q := range e.Sequences {
		f += q.Length
	}
	return f
}

// Features describes every slot, in slot order.
func (e *Encoder) Features() []Feature {
	var fs []Feature
	for _, c := range e.Categorical {
		fs = append(fs, Feature{Column: c.Name, Name: c.Name, Type: "categorical", Cardinality: len(c.Values) + 1})
	}
	for _, c := range e.Numeric {
		fs = append(fs, Feature{Column: c.Name, Name: c.Name, Type: "numeric", Cardinality: len(c.Bounds) + 2})
	}
	for _, q := range e.Sequences {
		for d := 1; d <= q.Length; d++ {
			fs = append(fs, Feature{Column: SeqColumn(q.Name, d), Name: q.Name, Type: "sequence", Day: d, Cardinality: len(q.Bounds) + 2})
		}
	}
	return fs
}

// Cardinalities lists each slot's number of ids, in slot order.
func (e *Encoder) Cardinalities() []int {
	fs := e.Features()
	c := make([]int, len(fs))
	for i, f := range fs {
		c[i] = f.Cardinality
	}
	return c
}

// Columns lists the feature columns the encoder reads, in slot order, with
// the kind each is read as.
func (e *Encoder) Columns() []ColumnRequest {
	var r []ColumnRequest
	for _, f := range e.Features() {
		k := Float
		if f.Type == "categorical" {
			k = String
		}
		r = append(r, ColumnRequest{f.Column, k})
	}
	return r
}

// CheckSpec reports whether the encoder was fitted for the features of s
// (same names, kinds, order and sequence lengths).
func (e *Encoder) CheckSpec(s *Spec) error {
	mismatch := func(what string, a, b any) error {
		return fmt.Errorf("encoder does not match the spec: %s: encoder has %v, spec has %v", what, a, b)
	}
	if len(e.Categorical) != len(s.Categorical) {
		return mismatch("categorical features", len(e.Categorical), len(s.Categorical))
	}
	for i, c := range s.Categorical {
		if e.Categorical[i].Name != c.Name {
			return mismatch(fmt.Sprintf("categorical feature %d", i+1), e.Categorical[i].Name, c.Name)
		}
	}
	if len(e.Numeric) != len(s.Numeric) {
		return mismatch("numeric features", len(e.Numeric), len(s.Numeric))
	}
	for i, c := range s.Numeric {
		if e.Numeric[i].Name != c.Name {
			return mismatch(fmt.Sprintf("numeric feature %d", i+1), e.Numeric[i].Name, c.Name)
		}
	}
	if len(e.Sequences) != len(s.Sequences) {
		return mismatch("sequences", len(e.Sequences), len(s.Sequences))
	}
	for i, q := range s.Sequences {
		if e.Sequences[i].Name != q.Name || e.Sequences[i].Length != q.Length {
			return mismatch(fmt.Sprintf("sequence %d", i+1),
				fmt.Sprintf("%s (length %d)", e.Sequences[i].Name, e.Sequences[i].Length),
				fmt.Sprintf("%s (length %d)", q.Name, q.Length))
		}
	}
	return nil
}

// Encode appends the ids of every row of t (row-major, NumFeatures per
// row, slot order) to dst and returns it. t must hold the feature columns
// (Columns) with those kinds, in any order; other columns are ignored.
// An encoder from Fit, LoadEncoder or json.Unmarshal is safe for
// concurrent Encode calls.
func (e *Encoder) Encode(t *Table, dst []int32) ([]int32, error) {
	if e.index == nil {
		e.buildIndex()
	}
	reqs := e.Columns()
	idx := make([]int, len(reqs))
	for i, r := range reqs {
		j := t.Col(r.Name)
		if j < 0 {
			return dst, fmt.Errorf("encode: table has no column %q", r.Name)
		}
		if t.Kinds[j] != r.Kind {
			return dst, fmt.Errorf("encode: column %q is %s, want %s", r.Name, t.Kinds[j], r.Kind)
		}
		idx[i] = j
	}
	n := t.Rows()
	f := len(reqs)
	start := len(dst)
	dst = append(dst, make([]int32, n*f)...)
	out := dst[start:]
	s := 0
	for k := range e.Categorical {
		col, m := t.Str[idx[s]], e.index[k]
		for i := 0; i < n; i++ {
			out[i*f+s] = m[col[i]] // missing key (incl. "") gives 0
		}
		s++
	}
	for _, c := range e.Numeric {
		col := t.Num[idx[s]]
		for i := 0; i < n; i++ {
			out[i*f+s] = bin(c.Bounds, col[i])
		}
		s++
	}
	for _, q := range e.Sequences {
		for d := 0; d < q.Length; d++ {
			col := t.Num[idx[s]]
			for i := 0; i < n; i++ {
				out[i*f+s] = bin(q.Bounds, col[i])
			}
			s++
		}
	}
	return dst, nil
}
