package graph

import "fmt"

// BroadcastShapes applies numpy (multidirectional) broadcasting to shapes
// that may hold -1 for dimensions unknown until run time.
func BroadcastShapes(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		if len(s) > rank {
			rank = len(s)
		}
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case d == 1:
			case o == 1:
				out[off+i] = d
			case d == -1 || o == -1:
				if o == -1 {
					out[off+i] = d
				}
			case d != o:
				return nil, fmt.Errorf("shapes %v do not broadcast (dimension %d: %d vs %d)", shapes, off+i, o, d)
			}
		}
	}
	return out, nil
}

// broadcastStrides returns, for a tensor of shape s broadcast to out, the
// element stride of each output dimension (0 where s is broadcast).
func broadcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	off := len(out) - len(s)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 1 {
			st[off+i] = acc
		}
		acc *= s[i]
	}
	return st
}

// Binary applies f elementwise with numpy broadcasting; out has the
// broadcast shape. It is the shared loop of every binary kernel.
func Binary[T, R any](a []T, as []int, b []T, bs []int, out []R, os []int, f func(x, y T) R) {
	n := len(out)
	if n == 0 {
		return
	}
	switch {
	case len(a) == n && len(b) == n:
		for i := range out {
			out[i] = f(a[i], b[i])
		}
		return
	case len(b) == 1 && len(a) == n:
		y := b[0]
		for i := range out {
			out[i] = f(a[i], y)
		}
		return
	case len(a) == 1 && len(b) == n:
		x := a[0]
		for i := range out {
			out[i] = f(x, b[i])
		}
		return
	}
	if bc, ok := newBcast(os, as, bs); ok {
		bc.runs(func(q, n int, p, s [3]int) {
			x, y := p[0], p[1]
			for j := 0; j < n; j++ {
				out[q+j] = f(a[x], b[y])
				x += s[0]
				y += s[1]
			}
		})
		return
	}
	sa, sb := broadcastStrides(as, os), broadcastStrides(bs, os)
	rank := len(os)
	inner := os[rank-1]
	ia, ib := sa[rank-1], sb[rank-1]
	idx := make([]int, rank)
	pa, pb := 0, 0
	for o := 0; o < n; o += inner {
		x, y := pa, pb
		for j := 0; j < inner; j++ {
			out[o+j] = f(a[x], b[y])
			x += ia
			y += ib
		}
		// advance the outer index (all but the last dimension)
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			pa += sa[d]
			pb += sb[d]
			if idx[d] < os[d] {
				break
			}
			pa -= sa[d] * os[d]
			pb -= sb[d] * os[d]
			idx[d] = 0
		}
	}
}

// BroadcastIndex maps every output element to the flat index of a tensor of
// shape s broadcast to out (used by ops with more than two operands).
func BroadcastIndex(s, out []int) []int {
	n := Size(out)
	res := make([]int, n)
	if n == 0 {
		return res
	}
	st := broadcastStrides(s, out)
	idx := make([]int, len(out))
	p := 0
	for i := 0; i < n; i++ {
		res[i] = p
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			p += st[d]
			if idx[d] < out[d] {
				break
			}
			p -= st[d] * out[d]
			idx[d] = 0
		}
	}
	return res
}
