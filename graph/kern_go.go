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

// embedSumGo: see EmbedSum. Each output is summed in the order of the
// C kernel (entries in column order, then the bias), so both give the
// same bits.
func embedSumGo(o, tab []float32, ent []int32, bias []float32, rows, cols, h int, relu bool) {
	for r := 0; r < rows; r++ {
		e := ent[r*cols : (r+1)*cols]
		or := o[r*h : (r+1)*h]
		copy(or, tab[int(e[0])*h:int(e[0])*h+h])
		for _, x := range e[1:] {
			t := tab[int(x)*h : int(x)*h+h]
			for j, v := range t {
				or[j] += v
			}
		}
		if bias != nil {
			for j, v := range bias[:h] {
				or[j] += v
			}
		}
		if relu {
			for j, v := range or {
				if v < 0 {
					or[j] = 0
				}
			}
		}
	}
}

// bucketizeGo: see Bucketize.
func bucketizeGo(o []int64, x []float32, n, k int, bounds []float32, kb, nb int) {
	cols := max(k, kb)
	for i := 0; i < n; i++ {
		for c := 0; c < cols; c++ {
			v := x[i*k+min(c, k-1)]
			if v != v {
				o[i*cols+c] = 0
				continue
			}
			cnt := int64(1)
			for _, b := range bounds[min(c, kb-1)*nb : (min(c, kb-1)+1)*nb] {
				if v >= b {
					cnt++
				}
			}
			o[i*cols+c] = cnt
		}
	}
}
