package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// checkReportSound fails if the report does not marshal, contains NaN/Inf,
// or has a null metric without a note naming it.
func checkReportSound(t *testing.T, name string, r Report) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("%s: json: %v", name, err)
	}
	values := r
	values.Notes = nil // notes may quote "NaN" or "+Inf" in words
	vb, _ := json.Marshal(values)
	if s := string(vb); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
		t.Errorf("%s: JSON contains NaN/Inf: %s", name, s)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: json round trip: %v", name, err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("%s: JSON round trip changed the report", name)
	}
	v := reflect.ValueOf(r)
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type != reflect.TypeFor[*float64]() || !v.Field(i).IsNil() {
			continue
		}
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		found := false
		for _, n := range r.Notes {
			if strings.Contains(n, tag) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: %s is null without a note; notes: %q", name, tag, r.Notes)
		}
	}
}

func TestReportMatchesStandalone(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for trial := 0; trial < 20; trial++ {
		n := 1 + r.IntN(300)
		if trial == 0 {
			n = 10
		}
		y := randVec(r, n)
		p := make([]float64, n)
		for i := range p {
			p[i] = math.Round(y[i] + r.Float64()*3) // integer: ties
		}
		p[0] += 0.5 // not constant
		rep, err := ComputeReport(y, p, Options{LorenzPoints: 4})
		if err != nil {
			t.Fatal(err)
		}
		checkReportSound(t, "random", rep)
		for _, c := range []struct {
			name string
			got  *float64
			fn   func(y, yhat []float64) (float64, error)
		}{
			{"nrmse", rep.NRMSE, NRMSE}, {"nmae", rep.NMAE, NMAE}, {"ambe", rep.AMBE, AMBE},
			{"mutual_gini", rep.MutualGini, MutualGini}, {"normalized_gini", rep.NormalizedGini, NormalizedGini},
			{"spearman", rep.Spearman, Spearman},
		} {
			want, err := c.fn(y, p)
			if err != nil {
				if c.got != nil {
					t.Errorf("%s: report %v, function error %v", c.name, *c.got, err)
				}
				continue
			}
			nearPtr(t, c.name, c.got, want, 1e-12)
		}
		gy, _ := Gini(y)
		gp, _ := Gini(p)
		nearPtr(t, "gini_label", rep.GiniLabel, gy, 1e-12)
		nearPtr(t, "gini_pred", rep.GiniPred, gp, 1e-12)
		dec, _ := Deciles(y, p)
		if !reflect.DeepEqual(dec, rep.Deciles) {
			t.Errorf("deciles differ")
		}
		ly, _ := LorenzSampled(y, 4)
		if !reflect.DeepEqual(ly, rep.LorenzLabel) || len(rep.LorenzPred) != 5 {
			t.Errorf("Lorenz samples differ: %v vs %v", ly, rep.LorenzLabel)
		}
	}
}

func TestReportHand(t *testing.T) {
	// The Mutual Gini example: y = [1, 2, 1], yhat = [4, 2, 4].
	// e = [3, 0, 3]: AMBE = 2; NMAE = 2/(4/3) = 1.5; NRMSE = sqrt(18/3)/(4/3).
	rep, err := ComputeReport([]float64{1, 2, 1}, []float64{4, 2, 4}, Options{Horizons: []string{"30d"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Horizon != "30d" || rep.N != 3 {
		t.Errorf("horizon %q n %d", rep.Horizon, rep.N)
	}
	nearPtr(t, "label_mean", rep.LabelMean, 4.0/3, 1e-15)
	nearPtr(t, "pred_mean", rep.PredMean, 10.0/3, 1e-15)
	nearPtr(t, "ambe", rep.AMBE, 2, 1e-15)
	nearPtr(t, "nmae", rep.NMAE, 1.5, 1e-15)
	nearPtr(t, "nrmse", rep.NRMSE, math.Sqrt(6)*3/4, 1e-15)
	nearPtr(t, "gini_label", rep.GiniLabel, 1.0/6, 1e-15)
	nearPtr(t, "gini_pred", rep.GiniPred, 2.0/15, 1e-15)
	nearPtr(t, "mutual_gini", rep.MutualGini, 7.0/180, 1e-15)
	// Spearman: y ranks 1.5, 3, 1.5; yhat ranks 2.5, 1, 2.5; centred
	// (-0.5, 1, -0.5) and (0.5, -1, 0.5): sxy = -1.5, sxx = syy = 1.5 -> -1.
	nearPtr(t, "spearman", rep.Spearman, -1, 1e-15)
	// Normalized Gini: yhat 4, 4 ties users 0 and 2 (labels 1, 1), then user 1
	// (label 2): labels 1, 1, 2 total 4, G = 1/4, 1/2, 1, raw = 2*(7/4)/3 - 1 = 1/6;
	// truth 2, 1, 1: G = 1/2, 3/4, 1, raw = 2*(9/4)/3 - 1 = 1/2; ratio 1/3.
	nearPtr(t, "normalized_gini", rep.NormalizedGini, 1.0/3, 1e-15)
	checkReportSound(t, "hand", rep)
}

func TestReportDegenerate(t *testing.T) {
	type want struct {
		null    []string // json names that must be null
		notNull []string
		note    string // a substring some note must contain
	}
	cases := []struct {
		name string
		y, p []float64
		opts Options
		want want
	}{
		{"labels all zero", []float64{0, 0, 0}, []float64{1, 2, 3}, Options{},
			want{[]string{"nrmse", "nmae", "gini_label", "mutual_gini", "normalized_gini", "spearman"},
				[]string{"ambe", "gini_pred", "label_mean"}, "all zeros"}},
		{"preds all zero", []float64{1, 2, 3, 0}, []float64{0, 0, 0, 0}, Options{},
			want{[]string{"spearman"}, []string{"gini_pred", "mutual_gini", "normalized_gini", "nmae"}, "diagonal"}},
		{"preds all zero strict", []float64{1, 2, 3, 0}, []float64{0, 0, 0, 0}, Options{StrictZeroPredictions: true},
			want{[]string{"gini_pred", "mutual_gini", "spearman"}, []string{"gini_label", "normalized_gini"}, "all zeros"}},
		{"constant preds", []float64{1, 2, 3, 0}, []float64{5, 5, 5, 5}, Options{},
			want{[]string{"spearman"}, []string{"gini_pred", "mutual_gini", "normalized_gini"}, "1/(n*raw_truth)"}},
		{"negative preds", []float64{1, 2, 3}, []float64{-1, 2, 3}, Options{},
			want{[]string{"gini_pred", "mutual_gini"}, []string{"gini_label", "normalized_gini", "spearman", "nrmse"}, "negative"}},
		{"negative labels", []float64{-1, 2, 3}, []float64{1, 2, 3}, Options{},
			want{[]string{"gini_label", "mutual_gini", "normalized_gini"}, []string{"gini_pred", "nrmse", "spearman"}, "negative"}},
		{"n = 1", []float64{2}, []float64{3}, Options{},
			want{[]string{"spearman"}, []string{"gini_label", "gini_pred", "mutual_gini", "normalized_gini", "nrmse"}, "last 9 deciles are empty"}},
		{"overflow", []float64{1e308, 1e308}, []float64{1e308, 1e308}, Options{},
			want{[]string{"label_mean", "pred_mean"}, []string{"ambe"}, "overflow"}},
	}
	for _, c := range cases {
		rep, err := ComputeReport(c.y, c.p, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkReportSound(t, c.name, rep)
		fields := map[string]*float64{}
		v := reflect.ValueOf(rep)
		for i := 0; i < v.NumField(); i++ {
			if p, ok := v.Field(i).Interface().(*float64); ok {
				fields[strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0]] = p
			}
		}
		for _, f := range c.want.null {
			if fields[f] != nil {
				t.Errorf("%s: %s = %v, want null", c.name, f, *fields[f])
			}
		}
		for _, f := range c.want.notNull {
			if fields[f] == nil {
				t.Errorf("%s: %s is null; notes %q", c.name, f, rep.Notes)
			}
		}
		if !strings.Contains(strings.Join(rep.Notes, "\n"), c.want.note) {
			t.Errorf("%s: no note contains %q: %q", c.name, c.want.note, rep.Notes)
		}
	}
}

func TestReportZeroPredictionsSpec5b(t *testing.T) {
	// Spec 5b: a collapsed decode predicting 0 for everyone has NMAE exactly
	// 1, AMBE equal to the label mean, and Gini of predictions 0. With the
	// diagonal convention Mutual Gini is ∫(L_y - x) = gini_label/2.
	y := []float64{0, 0, 0, 0, 0, 3, 0, 1, 0, 6}
	rep, err := ComputeReport(y, make([]float64, len(y)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	nearPtr(t, "nmae", rep.NMAE, 1, 0)
	nearPtr(t, "ambe", rep.AMBE, 1, 1e-15)
	nearPtr(t, "gini_pred", rep.GiniPred, 0, 0)
	if rep.GiniLabel == nil {
		t.Fatal("gini_label null")
	}
	nearPtr(t, "mutual_gini", rep.MutualGini, *rep.GiniLabel/2, 1e-15)
	// Constant predictions: normalized Gini = 1/(n*raw_truth). Labels
	// descending 6, 3, 1, 0...: G = 0.6, 0.9, 1 (x8), sum 9.5,
	// raw_truth = 2*9.5/10 - 1 = 0.9; 1/(10*0.9) = 1/9.
	nearPtr(t, "normalized_gini", rep.NormalizedGini, 1.0/9, 1e-15)
}

func TestReportErrors(t *testing.T) {
	_, err := ComputeReport(nil, nil, Options{})
	wantErr(t, "empty", err, ErrEmpty)
	_, err = ComputeReport([]float64{1, 2}, []float64{1}, Options{})
	wantErr(t, "length", err, ErrLength)
	_, err = ComputeReport([]float64{1, math.NaN()}, []float64{1, 2}, Options{})
	wantErr(t, "NaN", err, ErrNonFinite)
	_, err = ComputeReport([]float64{1}, []float64{1}, Options{Horizons: []string{"a", "b"}})
	wantErr(t, "names", err, ErrShape)
	_, err = ComputeReport([]float64{1}, []float64{1}, Options{MonotonicityTol: -1})
	wantErr(t, "tol", err, ErrTolerance)
	_, err = ComputeReport([]float64{1}, []float64{1}, Options{LorenzPoints: -1})
	wantErr(t, "points", err, ErrTooLarge)
}

func TestMultiReport(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const n, T = 257, 3
	labels, preds := make([][]float64, n), make([][]float64, n)
	for i := range labels {
		labels[i], preds[i] = make([]float64, T), make([]float64, T)
		var cl, cp float64
		for t := range T {
			cl += math.Floor(math.Exp(r.NormFloat64())) // cumulative labels
			cp += r.Float64() * 2
			labels[i][t], preds[i][t] = cl, cp
		}
	}
	// Users 0-2 violate prediction monotonicity by 0.5; user 3 has a bad label.
	for i := 0; i < 3; i++ {
		preds[i][2] = preds[i][1] - 0.5
	}
	labels[3][0] = labels[3][2] + 1
	opts := Options{Horizons: []string{"30d", "90d", "180d"}}
	mr, err := ComputeMultiReport(labels, preds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if mr.N != n || mr.T != T || len(mr.Horizons) != T {
		t.Fatalf("shape %d %d %d", mr.N, mr.T, len(mr.Horizons))
	}
	nearPtr(t, "monotonicity", mr.MonotonicityViolationRate, 3.0/n, 0)
	nearPtr(t, "label monotonicity", mr.LabelMonotonicityViolationRate, 1.0/n, 0)
	if len(mr.Notes) == 0 || !strings.Contains(mr.Notes[0], "bad input") {
		t.Errorf("no note on bad labels: %q", mr.Notes)
	}
	for tt := range T {
		y, p := make([]float64, n), make([]float64, n)
		for i := range n {
			y[i], p[i] = labels[i][tt], preds[i][tt]
		}
		want, err := ComputeReport(y, p, Options{Horizons: opts.Horizons[tt : tt+1]})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(want, mr.Horizons[tt]) {
			t.Errorf("horizon %d differs from ComputeReport", tt)
		}
		checkReportSound(t, "multi", mr.Horizons[tt])
	}
	if _, err := json.Marshal(mr); err != nil {
		t.Fatal(err)
	}
	// A tolerance of 0.5 forgives the 0.5 drops.
	mr, _ = ComputeMultiReport(labels, preds, Options{MonotonicityTol: 0.5})
	nearPtr(t, "monotonicity tol", mr.MonotonicityViolationRate, 0, 0)
	if mr.Horizons[0].Horizon != "t1" {
		t.Errorf("default horizon name %q", mr.Horizons[0].Horizon)
	}
}

func TestMultiReportErrors(t *testing.T) {
	ok := [][]float64{{1, 2}, {0, 3}}
	_, err := ComputeMultiReport(nil, nil, Options{})
	wantErr(t, "empty", err, ErrEmpty)
	_, err = ComputeMultiReport(ok, ok[:1], Options{})
	wantErr(t, "rows", err, ErrLength)
	_, err = ComputeMultiReport(ok, [][]float64{{1, 2}, {1}}, Options{})
	wantErr(t, "ragged", err, ErrShape)
	_, err = ComputeMultiReport(ok, [][]float64{{1}, {1}}, Options{})
	wantErr(t, "T mismatch", err, ErrShape)
	_, err = ComputeMultiReport(ok, [][]float64{{1, math.Inf(1)}, {1, 2}}, Options{})
	wantErr(t, "Inf", err, ErrNonFinite)
	_, err = ComputeMultiReport(ok, ok, Options{Horizons: []string{"30d"}})
	wantErr(t, "names", err, ErrShape)
	_, err = ComputeMultiReport(ok, ok, Options{MonotonicityTol: math.NaN()})
	wantErr(t, "tol", err, ErrTolerance)
	mr, err := ComputeMultiReport([][]float64{{1}, {2}}, [][]float64{{1}, {3}}, Options{})
	if err != nil || *mr.MonotonicityViolationRate != 0 || len(mr.Notes) == 0 {
		t.Errorf("T=1: %+v, %v", mr, err)
	}
}
