package compare_test

import (
	"fmt"

	"github.com/odmn/odmn/compare"
)

// Options are checked before anything is read or written, so a command
// can refuse a bad request before it creates its output directory.
func ExampleOptions_Validate() {
	o := compare.Options{Data: "users.csv", Seeds: []uint64{1, 2}, Models: []string{"odmn", "two-stage", "gbdt"}}
	fmt.Println(o.Validate())
	o.Models = []string{"odmn", "two-stage"}
	fmt.Println(o.Validate())
	fmt.Println(compare.Name(compare.TwoStage), compare.Name("odmn"))
	// Output:
	// compare: unknown model "gbdt" (one of twostage, ziln, mse, odmn, nm, nmb, nmo, mdme, s, sm, sc)
	// <nil>
	// Two-Stage ODMN
}
