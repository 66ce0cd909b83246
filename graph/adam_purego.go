//go:build !cgo || noopenblas

package graph

func adamF32(w, g, m, v []float32, step, eps, b1, b2 float32) { adamGo(w, g, m, v, step, eps, b1, b2) }
