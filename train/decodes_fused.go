package train

import (
	"fmt"
	"sync"

	g "github.com/odmn/odmn/graph"
)

// Fused kernels of the decode functions MixtureQuantiles and FrozenQM.
// Their bodies are a dozen small ops each (a search by counting, gathers,
// a clamped division) that write [N, Q, K] and [N, Q] intermediates; these
// kernels do the same float32 operations in the same order per value, one
// row at a time, so they give the bodies' bits (the tests compare them).

func init() {
	quantiles, frozenQM := DecodeFunctions()
	g.RegisterFused(quantiles, quantilesKernel)
	g.RegisterFused(frozenQM, frozenQMKernel)
}

var (
	matmulDef = g.MustLookup("", "MatMul")
	cdfPool   = sync.Pool{New: func() any { return new(g.Tensor) }}
)

// interp32 is Interp for one value x against the knots xs (K >= 2) and the
// values ys, with the body's float32 operations; sorted says that xs is
// non-decreasing without NaN, so the count of knots below x is a search.
// ok is false where the body's Gather of ys would be out of range (ys
// shorter than xs and x past its end).
func interp32(x float32, xs, ys []float32, sorted bool) (y float32, ok bool) {
	head := xs[:len(xs)-1]
	k := 0
	switch {
	case x != x: // no knot is below NaN
	case sorted: // the first knot >= x; every knot before it is below
		lo, hi := 0, len(head)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if head[m] < x {
				lo = m + 1
			} else {
				hi = m
			}
		}
		k = lo
	default:
		for _, v := range head {
			if v < x {
				k++
			}
		}
	}
	k1 := max(k, 1)
	k0 := k1 - 1
	x0, x1 := xs[k0], xs[k1]
	d := x1 - x0
	den := float32(1)
	if d > 0 {
		den = d
	}
	t := float32(x-x0) / den
	t = g.MinF32(g.MaxF32(t, 0), 1)
	if k1 >= len(ys) {
		return 0, false
	}
	return ys[k0] + float32(t*float32(ys[k1]-ys[k0])), true
}

// nondecreasing reports whether xs rises or stays level throughout,
// without NaN.
func nondecreasing(xs []float32) bool {
	for i := 1; i < len(xs); i++ {
		if !(xs[i-1] <= xs[i]) {
			return false
		}
	}
	return len(xs) == 0 || xs[0] == xs[0]
}

// quantilesKernel is MixtureQuantiles(o [N,M], cdf [M,K], knots, q [Q]):
// the CDF at the knots by the MatMul kernel, then Interp per quantile.
func quantilesKernel(in []*g.Tensor, _ g.Attrs, out []*g.Tensor) error {
	o, cdf, knots, q, y := in[0], in[1], in[2], in[3], out[0]
	if len(o.Shape) != 2 || len(cdf.Shape) != 2 || len(knots.Shape) != 1 || len(q.Shape) != 1 {
		return fmt.Errorf("o %v and cdf %v must be 2-D, knots %v and q %v 1-D", o.Shape, cdf.Shape, knots.Shape, q.Shape)
	}
	n, m, K, Q := o.Shape[0], o.Shape[1], cdf.Shape[1], q.Shape[0]
	if n == 0 && cdf.Shape[0] == m && len(y.F) == 0 {
		return nil // no rows: the body gathers nothing, whatever the knots
	}
	if m < 1 || cdf.Shape[0] != m || K < 2 || len(y.F) != n*Q {
		return fmt.Errorf("shapes o %v, cdf %v, knots %v, q %v do not match (at least 2 knots)", o.Shape, cdf.Shape, knots.Shape, q.Shape)
	}
	F := cdfPool.Get().(*g.Tensor)
	defer cdfPool.Put(F)
	F.Reset(g.Float32, []int{n, K})
	if err := matmulDef.Kernel([]*g.Tensor{o, cdf}, nil, []*g.Tensor{F}); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		zero := o.F[i*m] * 0 // the body's NaN and Inf propagation
		row := F.F[i*K : (i+1)*K]
		sorted := nondecreasing(row)
		for j, qv := range q.F {
			v, ok := interp32(zero+qv, row, knots.F, sorted)
			if !ok {
				return fmt.Errorf("row %d: quantile %v falls past the %d knot values", i, qv, len(knots.F))
			}
			y.F[i*Q+j] = v
		}
	}
	return nil
}

// frozenQMKernel is FrozenQM(ev [N,1], xs [K], ys [K]).
func frozenQMKernel(in []*g.Tensor, _ g.Attrs, out []*g.Tensor) error {
	ev, xs, ys, y := in[0], in[1], in[2], out[0]
	if len(ev.Shape) != 2 || ev.Shape[1] != 1 || len(xs.Shape) != 1 || len(ys.Shape) != 1 {
		return fmt.Errorf("ev %v must be [N,1], xs %v and ys %v 1-D", ev.Shape, xs.Shape, ys.Shape)
	}
	K := xs.Shape[0]
	if len(ev.F) == 0 && K > 0 && len(y.F) == 0 {
		return nil // no rows: the body gathers nothing
	}
	if K < 2 || len(y.F) != len(ev.F) {
		return fmt.Errorf("xs %v and ys %v: at least 2 knots, a value for each", xs.Shape, ys.Shape)
	}
	top := xs.F[0]
	for _, v := range xs.F[1:] {
		top = g.MaxF32(top, v) // ReduceMax: NaN wins
	}
	c1, c2 := float32(1-QMTieBreak), float32(QMTieBreak)
	row := make([]float32, K)
	for i, e := range ev.F {
		zero := e * 0
		for k, x := range xs.F {
			row[k] = zero + x
		}
		v, ok := interp32(e, row, ys.F, nondecreasing(row))
		if !ok {
			return fmt.Errorf("row %d: EV %v falls past the map's %d values", i, e, len(ys.F))
		}
		v += g.MaxF32(e-top, 0)
		y.F[i] = float32(v*c1) + float32(e*c2)
	}
	return nil
}
