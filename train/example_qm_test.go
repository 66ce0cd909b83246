package train_test

import (
	"fmt"

	"github.com/odmn/odmn/train"
)

// Quantile matching in one pass: four users with EVs 1 to 4, each
// predicting 0 or twice its EV with equal odds. The users ranked by EV
// share the population's mixture (half zeros, then 2, 4, 6, 8) slice by
// slice, and the mean stays the mean EV, 2.5.
func ExampleQMSketch() {
	sk := train.NewQMSketch()
	for ev := 1.0; ev <= 4; ev++ {
		sk.AddUser(ev, []float64{0.5, 0.5}, []float64{0, 2 * ev})
	}
	mp, err := sk.Map()
	if err != nil {
		panic(err)
	}
	sum := 0.0
	for ev := 1.0; ev <= 4; ev++ {
		v := mp.Apply(ev)
		sum += v
		fmt.Printf("EV %.0f -> QM %.4f\n", ev, v)
	}
	fmt.Printf("mean %.4f\n", sum/4)
	// Output:
	// EV 1 -> QM 0.0000
	// EV 2 -> QM 0.0000
	// EV 3 -> QM 3.0000
	// EV 4 -> QM 7.0000
	// mean 2.5000
}
