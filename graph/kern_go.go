package graph

// The Go loops behind the elementwise kernels of kern_c.go (which calls
// them for small sizes) and kern_purego.go (every size).

func reluGo(o, x []float32) {
	x = x[:len(o)]
	for i, v := range x {
		if v < 0 {
			v = 0 // NaN stays NaN
		}
		o[i] = v
	}
}

func reluGradGo(o, g, x []float32) {
	g, x = g[:len(o)], x[:len(o)]
	for i := range o {
		v := g[i]
		if !(x[i] > 0) {
			v = 0
		}
		o[i] = v
	}
}

func arith2DGo(op int, o, a []float32, a0, a1 int, b []float32, b0, b1 int, rows, cols int) {
	for r := 0; r < rows; r++ {
		arithRun(op, o[r*cols:(r+1)*cols], a[r*a0:], a1, b[r*b0:], b1)
	}
}

func colSumGo(o, g []float32, rows, cols int) {
	o = o[:cols]
	clear(o)
	for r := 0; r < rows; r++ {
		for j, v := range g[r*cols : (r+1)*cols] {
			o[j] += v
		}
	}
}
