package metrics_test

import (
	"encoding/json"
	"fmt"

	"github.com/odmn/odmn/metrics"
)

func ExampleMutualGini() {
	// The label curve (values 2, 1, 1) and the prediction curve (4, 4, 2)
	// cross inside the second segment; Mutual Gini is the area between them,
	// 7/180, larger than the difference of the two areas (1/60).
	labels := []float64{1, 2, 1}
	preds := []float64{4, 2, 4}
	mg, err := metrics.MutualGini(labels, preds)
	if err != nil {
		panic(err)
	}
	gy, _ := metrics.Gini(labels)
	gp, _ := metrics.Gini(preds)
	fmt.Printf("mutual gini %.6f, difference of areas %.6f\n", mg, (gy-gp)/2)
	// Output: mutual gini 0.038889, difference of areas 0.016667
}

func ExampleComputeMultiReport() {
	// Four users, two horizons (30 and 90 days); labels are cumulative.
	labels := [][]float64{{0, 0}, {1, 3}, {0, 2}, {5, 9}}
	preds := [][]float64{{0.2, 0.5}, {1.5, 2.5}, {0.5, 0.4}, {3, 8}}
	rep, err := metrics.ComputeMultiReport(labels, preds, metrics.Options{Horizons: []string{"30d", "90d"}})
	if err != nil {
		panic(err)
	}
	for _, h := range rep.Horizons {
		fmt.Printf("%s nmae=%.4f ambe=%.4f mutual_gini=%.4f normalized_gini=%.4f spearman=%.4f\n",
			h.Horizon, *h.NMAE, *h.AMBE, *h.MutualGini, *h.NormalizedGini, *h.Spearman)
	}
	fmt.Printf("monotonicity violations: %.2f\n", *rep.MonotonicityViolationRate)
	b, _ := json.Marshal(rep.Horizons[0].Deciles[0])
	fmt.Println(string(b))
	// Output:
	// 30d nmae=0.5333 ambe=0.2000 mutual_gini=0.1074 normalized_gini=1.0000 spearman=0.9487
	// 90d nmae=0.2571 ambe=0.6500 mutual_gini=0.0338 normalized_gini=0.9048 spearman=0.8000
	// monotonicity violations: 0.25
	// {"decile":1,"count":1,"mean_label":5,"mean_pred":3,"min_pred":3,"max_pred":3}
}
