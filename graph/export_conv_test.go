package graph

// SetColBudget shrinks the column-matrix budget of Conv and ConvTranspose
// so that tests exercise the slab loop; it returns a restore function.
func SetColBudget(n int) func() {
	old := colBudget
	colBudget = n
	return func() { colBudget = old }
}
