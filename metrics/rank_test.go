package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNormalizedGiniHand(t *testing.T) {
	y := []float64{1, 0, 3}
	// Truth: labels descending 3, 1, 0, total 4: G = 3/4, 1, 1, sum 11/4,
	// raw = 2*(11/4)/3 - 1 = 5/6.
	// Model: yhat = [0.5, 0.1, 0.2] orders users 0, 2, 1 -> labels 1, 3, 0:
	// G = 1/4, 1, 1, sum 9/4, raw = 2*(9/4)/3 - 1 = 1/2; normalized = (1/2)/(5/6) = 0.6.
	g, err := NormalizedGini(y, []float64{0.5, 0.1, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "normalized Gini", g, 0.6, 1e-15)
	// Only the order of predictions matters; negative predictions are fine.
	g, err = NormalizedGini(y, []float64{-1, -3, -2})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "normalized Gini negative preds", g, 0.6, 1e-15)
}

func TestNormalizedGiniTies(t *testing.T) {
	// yhat = [0.5, 0.1, 0.1]: user 0 first, then users 1 and 2 tied with
	// labels 0 and 3, averaged to 1.5 each: labels 1, 1.5, 1.5, total 4:
	// G = 1/4, 5/8, 1, sum 15/8, raw = 2*(15/8)/3 - 1 = 1/4; normalized =
	// (1/4)/(5/6) = 0.3 — the mean of the two orders' values 0.6 and 0
	// (order 1,3,0 has raw 1/2; order 1,0,3 has G = 1/4, 1/4, 1, raw 0).
	y := []float64{1, 0, 3}
	g, err := NormalizedGini(y, []float64{0.5, 0.1, 0.1})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "normalized Gini ties", g, 0.3, 1e-15)
	// Swapping the tied users in the input does not change it.
	g2, _ := NormalizedGini([]float64{1, 3, 0}, []float64{0.5, 0.1, 0.1})
	if g2 != g {
		t.Errorf("tie result depends on input order: %v vs %v", g, g2)
	}
	// Constant predictions: every label becomes the mean, G_i = i/3,
	// raw = 2*(1/3+2/3+1)/3 - 1 = 1/3; normalized = (1/3)/(5/6) = 0.4.
	g, err = NormalizedGini(y, []float64{2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "normalized Gini constant", g, 0.4, 1e-15)
}

// googleRaw is lifetime_value's gini_from_gain for one gain chart computed
// from an explicit order: raw = 2*sum(G)/n - 1.
func googleRaw(labelsInOrder []float64) float64 {
	var c, sumC, total float64
	for _, v := range labelsInOrder {
		total += v
	}
	for _, v := range labelsInOrder {
		c += v
		sumC += c / total
	}
	return 2*sumC/float64(len(labelsInOrder)) - 1
}

func TestNormalizedGiniMatchesGoogleWithoutTies(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 50; trial++ {
		n := 1 + r.IntN(200)
		y := randVec(r, n)
		p := make([]float64, n)
		for i := range p {
			p[i] = y[i] + 3*r.NormFloat64() // distinct with probability 1
		}
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return -cmpF(p[a], p[b]) })
		model := make([]float64, n)
		for k, i := range idx {
			model[k] = y[i]
		}
		truth := slices.Clone(y)
		slices.Sort(truth)
		slices.Reverse(truth)
		want := googleRaw(model) / googleRaw(truth)
		got, err := NormalizedGini(y, p)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "normalized Gini vs google", got, want, 1e-12)
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// permutations calls f with every permutation of s (in place).
func permutations(s []float64, k int, f func()) {
	if k == len(s) {
		f()
		return
	}
	for i := k; i < len(s); i++ {
		s[k], s[i] = s[i], s[k]
		permutations(s, k+1, f)
		s[k], s[i] = s[i], s[k]
	}
}

func TestNormalizedGiniTiesAreOrderAverage(t *testing.T) {
	// Users sorted by yhat: one at 9, a tied block of 4 at 5, one at 1.
	// Averaging google's raw over all 4! orders of the block must equal the
	// tie-averaged value.
	y := []float64{2, 7, 0, 1, 4, 3}
	p := []float64{9, 5, 5, 5, 5, 1}
	block := slices.Clone(y[1:5])
	var sum float64
	count := 0
	permutations(block, 0, func() {
		order := append(append([]float64{y[0]}, block...), y[5])
		sum += googleRaw(order)
		count++
	})
	truth := slices.Clone(y)
	slices.Sort(truth)
	slices.Reverse(truth)
	want := sum / float64(count) / googleRaw(truth)
	got, err := NormalizedGini(y, p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "tie average", got, want, 1e-14)
}

func TestNormalizedGiniPerfectAndRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	y := make([]float64, 5000)
	for i := range y {
		y[i] = float64(r.IntN(20)) // many ties
	}
	g, err := NormalizedGini(y, y)
	if err != nil {
		t.Fatal(err)
	}
	if g != 1 {
		t.Errorf("perfect prediction: %v, want exactly 1", g)
	}
	// Any strictly increasing transform ranks perfectly too.
	p := make([]float64, len(y))
	for i, v := range y {
		p[i] = math.Sqrt(v) - 5
	}
	g, _ = NormalizedGini(y, p)
	if g != 1 {
		t.Errorf("monotone transform: %v, want exactly 1", g)
	}
	// Reversed ranking is negative.
	for i, v := range y {
		p[i] = -v
	}
	g, _ = NormalizedGini(y, p)
	if !(g < -0.5) {
		t.Errorf("reversed ranking: %v, want < -0.5", g)
	}
	// google's test: a random permutation of 1e5 distinct values gives ~0.
	big := make([]float64, 100000)
	for i := range big {
		big[i] = float64(len(big) - i)
	}
	rnd := slices.Clone(big)
	r.Shuffle(len(rnd), func(i, j int) { rnd[i], rnd[j] = rnd[j], rnd[i] })
	g, _ = NormalizedGini(big, rnd)
	near(t, "random ranking", g, 0, 0.02)
}

func TestNormalizedGiniDegenerate(t *testing.T) {
	_, err := NormalizedGini([]float64{0, 0}, []float64{1, 2})
	wantErr(t, "zero labels", err, ErrZeroTotal)
	_, err = NormalizedGini([]float64{1, -1}, []float64{1, 2})
	wantErr(t, "negative labels", err, ErrNegative)
	_, err = NormalizedGini(nil, nil)
	wantErr(t, "empty", err, ErrEmpty)
	_, err = NormalizedGini([]float64{1}, []float64{1, 2})
	wantErr(t, "length", err, ErrLength)
	_, err = NormalizedGini([]float64{1, 2}, []float64{math.NaN(), 2})
	wantErr(t, "NaN", err, ErrNonFinite)
	// n = 1: raw = 2*1/1 - 1 = 1 for both, normalized 1.
	g, err := NormalizedGini([]float64{5}, []float64{0})
	if err != nil || g != 1 {
		t.Errorf("n=1: %v, %v; want 1", g, err)
	}
}

func TestSpearmanHand(t *testing.T) {
	// x = [1, 2, 2, 3] -> ranks 1, 2.5, 2.5, 4; y = [1, 3, 2, 4] -> ranks 1, 3, 2, 4.
	// Centred (mean 2.5): x -1.5, 0, 0, 1.5; y -1.5, 0.5, -0.5, 1.5.
	// sxy = 2.25 + 0 + 0 + 2.25 = 4.5; sxx = 4.5; syy = 2.25+0.25+0.25+2.25 = 5.
	// rho = 4.5/sqrt(4.5*5) = sqrt(0.9).
	rho, err := Spearman([]float64{1, 2, 2, 3}, []float64{1, 3, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Spearman ties", rho, math.Sqrt(0.9), 1e-15)
	// No ties: rank differences 1,1,1,1,0 -> 1 - 6*4/(5*24) = 0.8.
	rho, _ = Spearman([]float64{1, 2, 3, 4, 5}, []float64{20, 10, 40, 30, 50})
	near(t, "Spearman no ties", rho, 0.8, 1e-15)
	// Ties on both sides, no association: x ranks 1.5,1.5,3.5,3.5; y ranks
	// 1.5,3.5,1.5,3.5; centred products 1 - 1 - 1 + 1 = 0.
	rho, _ = Spearman([]float64{1, 1, 2, 2}, []float64{1, 2, 1, 2})
	near(t, "Spearman zero", rho, 0, 1e-15)
	rho, _ = Spearman([]float64{1, 2, 3}, []float64{30, 20, 10})
	near(t, "Spearman reversed", rho, -1, 1e-15)
}

// naiveSpearman: O(n²) average ranks, then Pearson.
func naiveSpearman(x, y []float64) float64 {
	rank := func(v []float64) []float64 {
		r := make([]float64, len(v))
		for i := range v {
			less, eq := 0, 0
			for j := range v {
				if v[j] < v[i] {
					less++
				} else if v[j] == v[i] {
					eq++
				}
			}
			r[i] = float64(less) + float64(eq+1)/2
		}
		return r
	}
	rx, ry := rank(x), rank(y)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx /= float64(len(rx))
	my /= float64(len(ry))
	var sxy, sxx, syy float64
	for i := range rx {
		sxy += (rx[i] - mx) * (ry[i] - my)
		sxx += (rx[i] - mx) * (rx[i] - mx)
		syy += (ry[i] - my) * (ry[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestSpearmanMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 100; trial++ {
		n := 2 + r.IntN(60)
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(5))
			y[i] = x[i] + float64(r.IntN(4))
		}
		x[0], x[1] = 0, 1 // not constant
		y[0], y[1] = 0, 9
		got, err := Spearman(x, y)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "Spearman vs naive", got, naiveSpearman(x, y), 1e-12)
	}
}

func TestSpearmanDegenerate(t *testing.T) {
	_, err := Spearman([]float64{1, 1, 1}, []float64{1, 2, 3})
	wantErr(t, "constant x", err, ErrConstant)
	_, err = Spearman([]float64{1, 2, 3}, []float64{4, 4, 4})
	wantErr(t, "constant y", err, ErrConstant)
	_, err = Spearman([]float64{1}, []float64{2})
	wantErr(t, "n=1", err, ErrConstant)
	_, err = Spearman(nil, nil)
	wantErr(t, "empty", err, ErrEmpty)
	_, err = Spearman([]float64{1, 2}, []float64{1})
	wantErr(t, "length", err, ErrLength)
	_, err = Spearman([]float64{1, math.Inf(-1)}, []float64{1, 2})
	wantErr(t, "Inf", err, ErrNonFinite)
}

func TestDecilesNotDivisibleByTen(t *testing.T) {
	// n = 13 = 10*1 + 3: deciles 1-3 hold 2 users, deciles 4-10 hold 1.
	// y = yhat = 1..13 shuffled; sorted descending 13, 12, ..., 1:
	// d1 {13,12} mean 12.5, d2 {11,10} 10.5, d3 {9,8} 8.5, d4 {7}, ..., d10 {1}.
	v := []float64{5, 13, 1, 8, 2, 11, 7, 3, 12, 9, 4, 10, 6}
	rows, err := Deciles(v, v)
	if err != nil {
		t.Fatal(err)
	}
	wantCount := []int{2, 2, 2, 1, 1, 1, 1, 1, 1, 1}
	wantMean := []float64{12.5, 10.5, 8.5, 7, 6, 5, 4, 3, 2, 1}
	wantMin := []float64{12, 10, 8, 7, 6, 5, 4, 3, 2, 1}
	wantMax := []float64{13, 11, 9, 7, 6, 5, 4, 3, 2, 1}
	for d, row := range rows {
		if row.Decile != d+1 || row.Count != wantCount[d] {
			t.Errorf("decile %d: got decile %d count %d, want count %d", d+1, row.Decile, row.Count, wantCount[d])
		}
		nearPtr(t, "mean label", row.MeanLabel, wantMean[d], 1e-15)
		nearPtr(t, "mean pred", row.MeanPred, wantMean[d], 1e-15)
		nearPtr(t, "min pred", row.MinPred, wantMin[d], 0)
		nearPtr(t, "max pred", row.MaxPred, wantMax[d], 0)
	}
}

func TestDecileSizes(t *testing.T) {
	for n := 1; n <= 123; n++ {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)
		}
		rows, err := Deciles(v, v)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, sum := n, 0, 0
		for _, r := range rows {
			lo, hi, sum = min(lo, r.Count), max(hi, r.Count), sum+r.Count
			if (r.Count == 0) != (r.MeanLabel == nil) {
				t.Errorf("n=%d decile %d: count %d but mean %v", n, r.Decile, r.Count, r.MeanLabel)
			}
		}
		if sum != n || hi-lo > 1 {
			t.Errorf("n=%d: sizes sum %d, range %d..%d", n, sum, lo, hi)
		}
	}
}

func TestDecilesTiesStraddle(t *testing.T) {
	// n = 10, one user per decile. yhat: a tied block of 2 at the top
	// (labels 4 and 0, mean 2) spanning deciles 1-2, then a tied block of 8
	// (labels 8, 0, ..., 0, mean 1) spanning deciles 3-10. Ties averaged:
	// deciles 1-2 get mean label 2, deciles 3-10 get 1, in any input order.
	y := []float64{4, 0, 8, 0, 0, 0, 0, 0, 0, 0}
	p := []float64{2, 2, 1, 1, 1, 1, 1, 1, 1, 1}
	rows, err := Deciles(y, p)
	if err != nil {
		t.Fatal(err)
	}
	for d, row := range rows {
		want := 1.0
		if d < 2 {
			want = 2
		}
		nearPtr(t, "straddle mean label", row.MeanLabel, want, 1e-15)
	}
	// Reversed input order gives the same table.
	slices.Reverse(y)
	slices.Reverse(p)
	rows2, _ := Deciles(y, p)
	for d := range rows {
		if *rows[d].MeanLabel != *rows2[d].MeanLabel {
			t.Errorf("decile %d depends on input order: %v vs %v", d+1, *rows[d].MeanLabel, *rows2[d].MeanLabel)
		}
	}
	// n = 15 (deciles of 2,2,2,2,2,1,1,1,1,1), block of 3 tied at the top with
	// labels 3, 0, 0 (mean 1): decile 1 gets 2 of them -> mean 1; decile 2
	// gets 1 of them (1) plus the next user (label 5) -> (1+5)/2 = 3.
	y = []float64{3, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	p = []float64{9, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, -1, -2, -3}
	rows, _ = Deciles(y, p)
	nearPtr(t, "d1", rows[0].MeanLabel, 1, 1e-15)
	nearPtr(t, "d2", rows[1].MeanLabel, 3, 1e-15)
	// mean pred d2 = (9 + 8)/2
	nearPtr(t, "d2 pred", rows[1].MeanPred, 8.5, 1e-15)
}

func TestDecilesDegenerate(t *testing.T) {
	// Constant predictions: every decile's mean label is the overall mean (2).
	y := []float64{0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 20}
	p := make([]float64, len(y))
	rows, err := Deciles(y, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		nearPtr(t, "constant preds", r.MeanLabel, 2, 1e-15)
	}
	// n = 3: three deciles of 1, seven empty with null means.
	rows, _ = Deciles([]float64{1, 2, 3}, []float64{3, 2, 1})
	for d, r := range rows {
		if d < 3 && (r.Count != 1 || r.MeanLabel == nil || *r.MeanLabel != float64(d+1)) {
			t.Errorf("n=3 decile %d: %+v", d+1, r)
		}
		if d >= 3 && (r.Count != 0 || r.MeanLabel != nil || r.MeanPred != nil || r.MinPred != nil) {
			t.Errorf("n=3 decile %d should be empty: %+v", d+1, r)
		}
	}
	_, err = Deciles(nil, nil)
	wantErr(t, "empty", err, ErrEmpty)
	_, err = Deciles([]float64{1}, []float64{1, 2})
	wantErr(t, "length", err, ErrLength)
	_, err = Deciles([]float64{1, 2}, []float64{math.NaN(), 2})
	wantErr(t, "NaN", err, ErrNonFinite)
}
