//go:build !cgo || noopenblas

package graph

// Without cgo (or with -tags noopenblas) the elementwise kernels are the
// Go loops of kern_go.go.

// SIMDLevel names the vector instructions the elementwise kernels use.
func SIMDLevel() string { return "none (Go loops)" }

func reluF32(o, x []float32)        { reluGo(o, x) }
func reluGradF32(o, g, x []float32) { reluGradGo(o, g, x) }
func arith2D(op int, o, a []float32, a0, a1 int, b []float32, b0, b1 int, rows, cols int) {
	arith2DGo(op, o, a, a0, a1, b, b0, b1, rows, cols)
}
func colSum(o, g []float32, rows, cols int) { colSumGo(o, g, rows, cols) }
func bucketize(o []int64, x []float32, n, k int, bounds []float32, kb, nb int) {
	bucketizeGo(o, x, n, k, bounds, kb, nb)
}
func embedSum(o, tab []float32, ent []int32, bias []float32, rows, cols, h int, relu bool) {
	embedSumGo(o, tab, ent, bias, rows, cols, h, relu)
}

// vexpFast says whether vmathF32 is vectorized (Softmax then takes one
// exp pass over the tensor).
const vexpFast = false

// Vector math functions of vmathF32.
const (
	mathExp = iota
	mathSigmoid
	mathSoftplus
)

// vmathF32 applies f (exp, sigmoid or softplus, computed in float64)
// elementwise.
func vmathF32(_ int, o, x []float32, f func(float32) float32) {
	for i, v := range x[:len(o)] {
		o[i] = f(v)
	}
}
