package conform_test

import (
	"fmt"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/graph"
)

// Compare a runtime's output with a reference: the last element is beyond
// 1e-3 + 1e-3*|want|.
func ExampleCompare() {
	want := graph.F32([]int{3}, []float32{1, 2, 100})
	got := graph.F32([]int{3}, []float32{1.0005, 2, 100.5})
	d := conform.Compare("y", got, want, conform.Tolerance{Atol: 1e-3, Rtol: 1e-3})
	fmt.Println(d.OK())
	fmt.Println(d)
	// Output:
	// false
	// y float32[3]: max abs 0.5, max rel 0.005, 1 of 3 beyond tolerance; first at 2: got 100.5, want 100
}
