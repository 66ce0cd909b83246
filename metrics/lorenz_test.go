package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestLorenzHand(t *testing.T) {
	// [1, 2, 1] sorted descending is [2, 1, 1], total 4:
	// L(1/3) = 2/4, L(2/3) = 3/4, L(1) = 4/4.
	got, err := Lorenz([]float64{1, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{0, 0}, {1.0 / 3, 0.5}, {2.0 / 3, 0.75}, {1, 1}}
	if len(got) != len(want) {
		t.Fatalf("len = %d, want %d", len(got), len(want))
	}
	for i := range want {
		near(t, "x", got[i].X, want[i].X, 1e-15)
		near(t, "y", got[i].Y, want[i].Y, 1e-15)
	}
	// Sampled at x = j/6, halfway points interpolate linearly:
	// x=1/6: 0.5*0.5 = 0.25; x=3/6: 0.5 + 0.5*0.25 = 0.625; x=5/6: 0.75 + 0.5*0.25 = 0.875.
	s, err := LorenzSampled([]float64{1, 2, 1}, 6)
	if err != nil {
		t.Fatal(err)
	}
	wantY := []float64{0, 0.25, 0.5, 0.625, 0.75, 0.875, 1}
	for j, w := range wantY {
		near(t, "sampled x", s[j].X, float64(j)/6, 1e-15)
		near(t, "sampled y", s[j].Y, w, 1e-15)
	}
}

func TestLorenzSampledMatchesBreakpoints(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		v := randVec(r, 1+r.IntN(30))
		full, err := Lorenz(v)
		if err != nil {
			t.Fatal(err)
		}
		s, err := LorenzSampled(v, len(v))
		if err != nil {
			t.Fatal(err)
		}
		for i := range full {
			near(t, "sampled vs breakpoints", s[i].Y, full[i].Y, 1e-12)
		}
		if full[len(v)].Y != 1 || s[len(v)].Y != 1 {
			t.Errorf("last point not exactly 1: %v %v", full[len(v)].Y, s[len(v)].Y)
		}
	}
}

func TestGiniHand(t *testing.T) {
	// [2, 1, 1]: L = 1/2, 3/4, 1; trapezoids: (1/3)(0.25 + 0.625 + 0.875) = 7/12;
	// Gini = 2*7/12 - 1 = 1/6.
	g, err := Gini([]float64{1, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Gini[1 2 1]", g, 1.0/6, 1e-15)
	// [3, 1]: L = 3/4, 1; ∫L = (1/2)(3/8) + (1/2)(7/8) = 5/8; Gini = 1/4.
	g, _ = Gini([]float64{1, 3})
	near(t, "Gini[1 3]", g, 0.25, 1e-15)
}

func TestGiniUniformAndOneHot(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10, 1000, 100001} {
		u := make([]float64, n)
		for i := range u {
			u[i] = 3.7
		}
		g, err := Gini(u)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "Gini uniform", g, 0, 1e-12)
		h := make([]float64, n)
		h[n/2] = 42
		g, err = Gini(h)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "Gini one-hot", g, float64(n-1)/float64(n), 1e-12)
	}
}

func TestGiniInvariances(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	v := randVec(r, 200)
	g0, _ := Gini(v)
	w := slices.Clone(v)
	r.Shuffle(len(w), func(i, j int) { w[i], w[j] = w[j], w[i] })
	for i := range w {
		w[i] *= 17
	}
	g1, _ := Gini(w)
	near(t, "Gini permuted and scaled", g1, g0, 1e-12)
}

func TestMutualGiniHandCrossing(t *testing.T) {
	// y = [1, 2, 1] -> sorted [2, 1, 1], L_y    = 0, 1/2, 3/4, 1
	// p = [4, 2, 4] -> sorted [4, 4, 2], L_p    = 0, 2/5, 4/5, 1
	// d = L_y - L_p at 0, 1/3, 2/3, 1         = 0, 0.1, -0.05, 0
	// segment 1: no crossing, (1/3)(0 + 0.1)/2            = 1/60
	// segment 2: crosses, (1/3)(0.01 + 0.0025)/(2*0.15)   = 1/72
	// segment 3: no crossing, (1/3)(0.05 + 0)/2           = 1/120
	// total = 6/360 + 5/360 + 3/360 = 7/180
	y := []float64{1, 2, 1}
	p := []float64{4, 2, 4}
	mg, err := MutualGini(y, p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "MutualGini", mg, 7.0/180, 1e-15)
	// The difference of areas would be |Gini_y - Gini_p|/2 = |1/6 - 2/15|/2 = 1/60.
	gy, _ := Gini(y)
	gp, _ := Gini(p)
	near(t, "Gini p", gp, 2.0/15, 1e-15)
	if math.Abs(mg-math.Abs(gy-gp)/2) < 0.02 {
		t.Errorf("MutualGini %v is the difference of areas %v", mg, math.Abs(gy-gp)/2)
	}
	// Symmetric.
	mg2, _ := MutualGini(p, y)
	near(t, "MutualGini symmetric", mg2, mg, 1e-15)
}

func TestMutualGiniSameDistribution(t *testing.T) {
	// Each curve is sorted by its own values: a permuted, rescaled copy has
	// the same curve, so Mutual Gini is 0 whoever gets which value.
	y := []float64{0, 5, 1, 0, 9, 2}
	p := []float64{90, 0, 20, 0, 50, 10}
	mg, err := MutualGini(y, p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "MutualGini same shape", mg, 0, 1e-15)
}

// bruteLorenz evaluates the descending Lorenz curve of v at x directly
// from the definition, independent of the package code.
func bruteLorenz(v []float64) func(x float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	slices.Reverse(s)
	cum := make([]float64, len(s)+1)
	for i, x := range s {
		cum[i+1] = cum[i] + x
	}
	n := float64(len(s))
	return func(x float64) float64 {
		pos := x * n
		i := int(math.Floor(pos))
		if i >= len(s) {
			return 1
		}
		return (cum[i] + (pos-float64(i))*s[i]) / cum[len(s)]
	}
}

func randVec(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch r.IntN(3) {
		case 0: // zero mass
		case 1:
			v[i] = r.Float64()
		default:
			v[i] = math.Exp(2 * r.NormFloat64()) // heavy tail
		}
	}
	v[r.IntN(n)] += 0.5 // never all zero
	return v
}

func TestMutualGiniBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const grid = 200000
	crossCases, areaDiffers := 0, 0
	for trial := 0; trial < 60; trial++ {
		n := 2 + r.IntN(25)
		y := randVec(r, n)
		p := randVec(r, n)
		if trial%2 == 0 {
			// Designed to cross: y is half zeros with a flat positive half
			// (L_y reaches 1 at x = 1/2); p has one whale and a flat rest
			// (L_p starts high, reaches 1 only at x = 1).
			for i := range y {
				y[i], p[i] = 0, 0.5+r.Float64()
				if i%2 == 0 {
					y[i] = 1 + r.Float64()
				}
			}
			p[r.IntN(n)] += float64(n) * (0.2 + r.Float64())
		}
		ly, lp := bruteLorenz(y), bruteLorenz(p)
		var brute float64
		sign, crossings := 0, 0
		for k := 0; k < grid; k++ {
			x := (float64(k) + 0.5) / grid
			d := ly(x) - lp(x)
			brute += math.Abs(d)
			s := 0
			if d > 1e-9 {
				s = 1
			} else if d < -1e-9 {
				s = -1
			}
			if s != 0 && sign != 0 && s != sign {
				crossings++
			}
			if s != 0 {
				sign = s
			}
		}
		brute /= grid
		if crossings > 0 {
			crossCases++
		}
		mg, err := MutualGini(y, p)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "MutualGini vs brute force", mg, brute, 1e-6)
		gy, _ := Gini(y)
		gp, _ := Gini(p)
		if math.Abs(mg-math.Abs(gy-gp)/2) > 1e-3 {
			areaDiffers++
		}
	}
	// Make sure the random cases exercised crossing curves, where the
	// difference of areas is wrong.
	if crossCases < 20 || areaDiffers < 20 {
		t.Errorf("test too weak: %d cases with crossing curves, %d where the difference of areas differs", crossCases, areaDiffers)
	}
	t.Logf("%d of 60 cases with crossing curves, %d differ from the difference of areas", crossCases, areaDiffers)
}

func TestLorenzDegenerate(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    []float64
		err  error
	}{
		{"empty", nil, ErrEmpty},
		{"negative", []float64{1, -0.5}, ErrNegative},
		{"all zero", []float64{0, 0, 0}, ErrZeroTotal},
		{"NaN", []float64{1, math.NaN()}, ErrNonFinite},
		{"Inf", []float64{math.Inf(1), 1}, ErrNonFinite},
	} {
		_, err := Lorenz(tc.v)
		wantErr(t, "Lorenz "+tc.name, err, tc.err)
		_, err = LorenzSampled(tc.v, 10)
		wantErr(t, "LorenzSampled "+tc.name, err, tc.err)
		_, err = Gini(tc.v)
		wantErr(t, "Gini "+tc.name, err, tc.err)
		if tc.v != nil {
			ok := make([]float64, len(tc.v))
			ok[0] = 1
			_, err = MutualGini(tc.v, ok)
			wantErr(t, "MutualGini y "+tc.name, err, tc.err)
			_, err = MutualGini(ok, tc.v)
			wantErr(t, "MutualGini yhat "+tc.name, err, tc.err)
		}
	}
	_, err := MutualGini([]float64{1, 2}, []float64{1})
	wantErr(t, "MutualGini length", err, ErrLength)
	_, err = LorenzSampled([]float64{1}, 0)
	wantErr(t, "LorenzSampled k=0", err, ErrTooLarge)
	// Single user: both curves are the segment (0,0)-(1,1).
	mg, err := MutualGini([]float64{3}, []float64{7})
	if err != nil || mg != 0 {
		t.Errorf("MutualGini n=1 = %v, %v; want 0", mg, err)
	}
	g, err := Gini([]float64{3})
	if err != nil || g != 0 {
		t.Errorf("Gini n=1 = %v, %v; want 0", g, err)
	}
}
