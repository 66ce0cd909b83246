package twostage

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// auc is the probability that a random positive scores above a random
// negative (ties count half).
func auc(score []float64, pos []bool) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var rankSum, np, nn float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if pos[idx[k]] {
				rankSum += mid
				np++
			}
		}
		i = j
	}
	nn = float64(len(idx)) - np
	return (rankSum - np*(np+1)/2) / (np * nn)
}

func pearson(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func TestFitPredictSaveLoad(t *testing.T) {
	ds := synthetic(4000, 1)
	train, val, test := seq(0, 2800), seq(2800, 3400), seq(3400, 4000)
	m, err := Fit(ds, train, val, Config{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Horizons(); len(got) != 2 || got[0] != 7 || got[1] != 30 {
		t.Fatalf("horizons %v", got)
	}
	for _, s := range m.Stages {
		t.Logf("h%d: premium rate %.3f, classifier %d rounds (val logloss %.4f), regressor %d rounds (val rmse %.4f), smearing %.4f",
			s.Horizon, s.PremiumRate, s.ClassifierRounds, s.ClassifierLoss, s.RegressorRounds, s.RegressorRMSE, s.Smearing)
		if s.ClassifierRounds < 2 || s.RegressorRounds < 2 || s.ClassifierRounds >= m.Config.MaxRounds {
			t.Errorf("h%d: rounds %d and %d: early stopping did not work", s.Horizon, s.ClassifierRounds, s.RegressorRounds)
		}
		if !(s.Smearing > 1 && s.Smearing < 2) {
			t.Errorf("h%d: smearing factor %v, want in (1, 2) for log-normal noise of sigma 0.6", s.Horizon, s.Smearing)
		}
	}

	p, err := m.PredictDetail(ds, test)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 2; k++ {
		var prem, ltv, y []float64
		var pos []bool
		var sumPred, sumY float64
		for i, r := range test {
			yy := float64(ds.Label(r)[k])
			prem = append(prem, p.Premium[i][k])
			ltv = append(ltv, p.LTV[i][k])
			y = append(y, yy)
			pos = append(pos, yy > 0)
			sumPred += p.LTV[i][k]
			sumY += yy
			if v := p.LTV[i][k]; !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("row %d horizon %d: ltv %v", r, k, v)
			}
			if d := p.LTV[i][k] - p.Premium[i][k]*p.Value[i][k]; math.Abs(d) > 1e-5*math.Max(1, p.LTV[i][k]) {
				t.Fatalf("ltv %v != p %v * value %v", p.LTV[i][k], p.Premium[i][k], p.Value[i][k])
			}
		}
		a, c := auc(prem, pos), pearson(ltv, y)
		t.Logf("horizon %d: test AUC %.3f, Pearson(ltv, y) %.3f, mean prediction %.3f vs mean label %.3f", p.Horizons[k], a, c, sumPred/float64(len(test)), sumY/float64(len(test)))
		if a < 0.7 || c < 0.3 {
			t.Errorf("horizon %d: the model learned little (AUC %.3f, Pearson %.3f)", p.Horizons[k], a, c)
		}
		if ratio := sumPred / sumY; ratio < 0.75 || ratio > 1.33 {
			t.Errorf("horizon %d: mean prediction / mean label = %.3f: the expected value is biased", p.Horizons[k], ratio)
		}
	}

	// Save and load give the same predictions, bit for bit.
	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil { // replacing an existing directory
		t.Fatal(err)
	}
	m2, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	p2, err := m2.PredictDetail(ds, test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range test {
		for k := 0; k < 2; k++ {
			if p.LTV[i][k] != p2.LTV[i][k] || p.Premium[i][k] != p2.Premium[i][k] {
				t.Fatalf("row %d horizon %d: %v/%v before save, %v/%v after load", i, k, p.LTV[i][k], p.Premium[i][k], p2.LTV[i][k], p2.Premium[i][k])
			}
		}
	}
	// A damaged directory is an error, not a silent constant stage.
	if err := os.Remove(filepath.Join(dir, "h30-regressor.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("Load without a booster file succeeded")
	}
}

func TestDeterministic(t *testing.T) {
	ds := synthetic(1500, 2)
	cfg := Config{Seed: 11, MaxRounds: 60, Threads: 2}
	var preds [3][][]float64
	for i := range preds {
		if i == 2 {
			cfg.Seed++ // another seed samples other rows and columns
		}
		m, err := Fit(ds, seq(0, 1200), nil, cfg) // validation held out by Fit
		if err != nil {
			t.Fatal(err)
		}
		if preds[i], err = m.Predict(ds, seq(1200, 1500)); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	differ := 0
	for i := range preds[0] {
		for k := range preds[0][i] {
			if preds[0][i][k] != preds[1][i][k] {
				t.Fatalf("row %d horizon %d: %v then %v with the same seed", i, k, preds[0][i][k], preds[1][i][k])
			}
			if preds[0][i][k] != preds[2][i][k] {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Error("another seed gives the same predictions: the seed is not used")
	}
}

func TestHardRuleAndConstantStages(t *testing.T) {
	ds := synthetic(800, 3)
	// Horizon 7 of the first 800 rows with all labels zeroed: a constant
	// (zero) stage; horizon 30 keeps its labels.
	for i := 0; i < ds.N; i++ {
		ds.Y[i*2] = 0
	}
	m, err := Fit(ds, seq(0, 600), seq(600, 800), Config{Seed: 1, Combine: CombineHard, MaxRounds: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Stages[0]
	if s.classifier != nil || s.regressor != nil || s.PremiumRate != 0 {
		t.Fatalf("all-zero horizon: classifier %v regressor %v rate %v", s.classifier != nil, s.regressor != nil, s.PremiumRate)
	}
	p, err := m.PredictDetail(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.LTV {
		if p.LTV[i][0] != 0 {
			t.Fatalf("row %d: ltv7 %v for an all-zero horizon", i, p.LTV[i][0])
		}
		want := 0.0
		if p.Premium[i][1] > 0.5 {
			want = p.Value[i][1]
		}
		if p.LTV[i][1] != want {
			t.Fatalf("row %d: hard rule gives %v, want %v (p %v, value %v)", i, p.LTV[i][1], want, p.Premium[i][1], p.Value[i][1])
		}
	}
}

func TestFitErrors(t *testing.T) {
	ds := synthetic(100, 4)
	if _, err := Fit(ds, []int{0, 1, 500}, nil, Config{}); err == nil {
		t.Error("row out of range accepted")
	}
	if _, err := Fit(ds, seq(0, 100), nil, Config{Combine: "median"}); err == nil {
		t.Error("unknown combine rule accepted")
	}
	if _, err := Fit(ds, seq(0, 100), nil, Config{PremiumThreshold: -1}); err == nil {
		t.Error("negative threshold accepted")
	}
	m, err := Fit(ds, seq(0, 80), seq(80, 100), Config{MaxRounds: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	short := synthetic(10, 5)
	short.F = 5
	if _, err := m.Predict(short, nil); err == nil {
		t.Error("predict on data with another feature count accepted")
	}
}
