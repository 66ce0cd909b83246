package daily_test

import (
	"fmt"

	"github.com/odmn/odmn/daily"
)

// The PSI of a feature whose top bin grew from 20% to 30% of the users.
func ExamplePSI() {
	training := []int64{500, 300, 200} // users per bin
	scoring := []int64{400, 300, 300}
	fmt.Printf("%.4f\n", daily.PSI(training, scoring))
	// Output: 0.0629
}
