package graph

import "math"

// AdamF32 applies one Adam update elementwise, in place on the weights w
// and the moments m and v, from the gradient g (all of g's length):
//
//	m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g g;  w -= step m / (sqrt(v) + eps)
//
// in float32, operations in that order, so that every build (C kernel or
// Go loop) gives the same bits. step and eps carry the bias corrections.
func AdamF32(w, g, m, v []float32, step, eps, b1, b2 float32) {
	n := len(g)
	w, m, v = w[:n], m[:n], v[:n]
	if n < adamCMin {
		adamGo(w, g, m, v, step, eps, b1, b2)
		return
	}
	adamF32(w, g, m, v, step, eps, b1, b2)
}

// adamCMin is the fewest elements worth a cgo call.
const adamCMin = 64

func adamGo(w, g, m, v []float32, step, eps, b1, b2 float32) {
	c1, c2 := 1-b1, 1-b2
	for j, gj := range g {
		mj := b1*m[j] + c1*gj
		vj := b2*v[j] + c2*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= step * mj / (float32(math.Sqrt(float64(vj))) + eps)
	}
}
