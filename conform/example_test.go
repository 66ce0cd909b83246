package conform_test

import (
	"fmt"
	"math"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/graph"
)

// Compare an output with its reference under the one tolerance rule,
// |got - want| <= Atol + Rtol·|want|: NaN matches only NaN.
func ExampleCompare() {
	want := graph.F32([]int{4}, []float32{1, 100, float32(math.NaN()), 0})
	got := graph.F32([]int{4}, []float32{1.000001, 100.0005, float32(math.NaN()), 0.1})
	d := conform.Compare("ltv", got, want, conform.Tolerance{Atol: 1e-5, Rtol: 1e-5})
	// 100.0005 is within 1e-5 + 1e-5·100 of 100; 0.1 is not within 1e-5 of 0.
	fmt.Printf("%d of %d beyond tolerance; first at %d: got %s, want %s\n", d.Beyond, d.N, d.First, d.Got, d.Want)
	// Output: 1 of 4 beyond tolerance; first at 3: got 0.10000000149011612, want 0
}
