package metrics

import (
	"math"
	"testing"
)

func TestPointMetricsHand(t *testing.T) {
	y := []float64{0, 2, 4, 2}    // mean(y) = 8/4 = 2
	yhat := []float64{1, 1, 5, 2} // e = yhat - y = [1, -1, 1, 0]
	// mean(e²) = 3/4, sqrt = 0.8660254037844386, / 2 = 0.4330127018922193
	got, err := NRMSE(y, yhat)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "NRMSE", got, math.Sqrt(0.75)/2, 1e-15)
	// mean(|e|) = 3/4, / 2 = 0.375
	got, err = NMAE(y, yhat)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "NMAE", got, 0.375, 1e-15)
	// |mean(e)| = |1/4| = 0.25
	got, err = AMBE(y, yhat)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AMBE", got, 0.25, 1e-15)
}

func TestAMBEInLabelUnits(t *testing.T) {
	// e = [2, 4], mean 3; not divided by mean(y) = 10.
	got, _ := AMBE([]float64{10, 10}, []float64{12, 14})
	near(t, "AMBE", got, 3, 0)
	// Over- and under-prediction cancel in AMBE but not in NMAE:
	// e = [+5, -5] -> AMBE 0, NMAE = 5/10 = 0.5.
	got, _ = AMBE([]float64{10, 10}, []float64{15, 5})
	near(t, "AMBE cancel", got, 0, 0)
	got, _ = NMAE([]float64{10, 10}, []float64{15, 5})
	near(t, "NMAE cancel", got, 0.5, 1e-15)
}

func TestPointMetricsDegenerate(t *testing.T) {
	nan := math.NaN()
	for _, f := range []struct {
		name string
		fn   func(y, yhat []float64) (float64, error)
	}{{"NRMSE", NRMSE}, {"NMAE", NMAE}, {"AMBE", AMBE}} {
		_, err := f.fn(nil, nil)
		wantErr(t, f.name+" empty", err, ErrEmpty)
		_, err = f.fn([]float64{1, 2}, []float64{1})
		wantErr(t, f.name+" length", err, ErrLength)
		_, err = f.fn([]float64{1, nan}, []float64{1, 2})
		wantErr(t, f.name+" NaN label", err, ErrNonFinite)
		_, err = f.fn([]float64{1, 2}, []float64{math.Inf(1), 2})
		wantErr(t, f.name+" Inf pred", err, ErrNonFinite)
	}
	// All labels zero: mean(y) = 0, NRMSE/NMAE undefined, AMBE = |(1+3)/2| = 2.
	_, err := NRMSE([]float64{0, 0}, []float64{1, 3})
	wantErr(t, "NRMSE zero labels", err, ErrNonPositiveMean)
	_, err = NMAE([]float64{0, 0}, []float64{1, 3})
	wantErr(t, "NMAE zero labels", err, ErrNonPositiveMean)
	_, err = NMAE([]float64{-3, 1}, []float64{1, 3})
	wantErr(t, "NMAE negative mean", err, ErrNonPositiveMean)
	got, err := AMBE([]float64{0, 0}, []float64{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AMBE zero labels", got, 2, 0)
	// Perfect prediction: all three are 0.
	y := []float64{1, 5, 0, 2}
	for _, fn := range []func(y, yhat []float64) (float64, error){NRMSE, NMAE, AMBE} {
		got, err := fn(y, y)
		if err != nil || got != 0 {
			t.Errorf("perfect prediction: %v, %v; want 0", got, err)
		}
	}
}
