package twostage

import (
	"math"
	"math/rand/v2"

	"github.com/odmn/odmn/data"
)

// synthetic makes a zero-inflated LTV data set: n users, six encoded
// feature slots (a categorical with 5 ids, two numeric features in 10 bins,
// a three-day sequence in 5 bins) and cumulative labels at 7 and 30 days.
// Whether a user pays depends on the category, the first numeric feature
// and the first sequence day; how much on the second numeric feature and
// the second sequence day, with log-normal noise.
func synthetic(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	feats := []data.Feature{
		{Column: "channel", Name: "channel", Type: "categorical", Cardinality: 5},
		{Column: "age", Name: "age", Type: "numeric", Cardinality: 10},
		{Column: "device", Name: "device", Type: "numeric", Cardinality: 10},
		{Column: "play_d1", Name: "play", Type: "sequence", Day: 1, Cardinality: 5},
		{Column: "play_d2", Name: "play", Type: "sequence", Day: 2, Cardinality: 5},
		{Column: "play_d3", Name: "play", Type: "sequence", Day: 3, Cardinality: 5},
	}
	ds := &data.Dataset{N: n, F: len(feats), T: 2, Features: feats,
		Labels: []data.Label{{Name: "ltv7", Horizon: 7}, {Name: "ltv30", Horizon: 30}}, LabelKind: "money"}
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	for i := 0; i < n; i++ {
		row := make([]int32, len(feats))
		for j, f := range feats {
			row[j] = int32(r.IntN(f.Cardinality))
		}
		ds.X = append(ds.X, row...)
		cat := 0.0
		if row[0] == 3 {
			cat = 1.2
		} else if row[0] == 1 {
			cat = -0.8
		}
		z := -2.2 + cat + 0.25*float64(row[1]) + 0.4*float64(row[3])
		amount := func() float64 {
			return math.Exp(1 + 0.15*float64(row[2]) + 0.3*float64(row[4]) + 0.6*r.NormFloat64())
		}
		var y7, y30 float64
		if r.Float64() < sig(z) {
			y7 = amount()
		}
		y30 = y7
		if r.Float64() < sig(z+0.8) {
			y30 += amount()
		}
		ds.Y = append(ds.Y, float32(y7), float32(y30))
	}
	return ds
}

func seq(a, b int) []int {
	out := make([]int, 0, b-a)
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}
