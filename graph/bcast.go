package graph

// Allocation-free broadcasting loops for the elementwise kernels.
//
// A bcast describes up to three operands broadcast to an output shape,
// with dimensions of size 1 dropped and adjacent dimensions merged where
// every operand is laid out contiguously across them, so that the common
// cases (equal shapes, a scalar, a row [k] against [n, k], a column [n, 1]
// against [n, k]) become one or two loops with unit or zero inner strides.

const maxBcastRank = 8

type bcast struct {
	rank int                  // coalesced rank (0: one element)
	dims [maxBcastRank]int    // coalesced output dimensions
	st   [3][maxBcastRank]int // per operand, element stride of each dimension (0: broadcast)
	n    int                  // operands described
}

// newBcast coalesces out and the operand shapes; ok is false when the
// rank is beyond maxBcastRank (callers then take their general path).
func newBcast(out []int, ins ...[]int) (b bcast, ok bool) {
	if len(out) > maxBcastRank || len(ins) > 3 {
		return b, false
	}
	b.n = len(ins)
	// strides of each operand against out, before coalescing
	var raw [3][maxBcastRank]int
	for k, s := range ins {
		if len(s) > len(out) {
			return b, false
		}
		off := len(out) - len(s)
		acc := 1
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] != 1 {
				raw[k][off+i] = acc
			}
			acc *= s[i]
		}
	}
	for i, d := range out {
		if d == 1 {
			continue
		}
		if r := b.rank; r > 0 {
			merge := true
			for k := 0; k < b.n; k++ {
				// dimension r-1 (outer) and i (inner) merge when the outer
				// stride is the inner stride times the inner size (both
				// broadcast: 0 == 0*d).
				if b.st[k][r-1] != raw[k][i]*d {
					merge = false
					break
				}
			}
			if merge {
				b.dims[r-1] *= d
				for k := 0; k < b.n; k++ {
					b.st[k][r-1] = raw[k][i]
				}
				continue
			}
		}
		b.dims[b.rank] = d
		for k := 0; k < b.n; k++ {
			b.st[k][b.rank] = raw[k][i]
		}
		b.rank++
	}
	return b, true
}

// runs calls fn for each run of the innermost coalesced dimension: n
// output elements from o, operand k starting at p[k] with stride s[k].
func (b *bcast) runs(fn func(o, n int, p, s [3]int)) {
	if b.rank == 0 {
		fn(0, 1, [3]int{}, [3]int{})
		return
	}
	r := b.rank
	inner := b.dims[r-1]
	var s [3]int
	for k := 0; k < b.n; k++ {
		s[k] = b.st[k][r-1]
	}
	total := 1
	for i := 0; i < r; i++ {
		total *= b.dims[i]
	}
	if total == 0 {
		return
	}
	var idx [maxBcastRank]int
	var p [3]int
	for o := 0; o < total; o += inner {
		fn(o, inner, p, s)
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			for k := 0; k < b.n; k++ {
				p[k] += b.st[k][d]
			}
			if idx[d] < b.dims[d] {
				break
			}
			for k := 0; k < b.n; k++ {
				p[k] -= b.st[k][d] * b.dims[d]
			}
			idx[d] = 0
		}
	}
}

// Float32 arithmetic with the operator outside the loops.
const (
	opAdd = iota
	opSub
	opMul
	opDiv
)

// binaryF32 is Binary for the four arithmetic ops on float32, without an
// indirect call per element.
func binaryF32(op int, a []float32, as []int, b []float32, bs []int, o []float32, os []int) {
	bc, ok := newBcast(os, as, bs)
	if !ok {
		f := [...]func(x, y float32) float32{
			func(x, y float32) float32 { return x + y },
			func(x, y float32) float32 { return x - y },
			func(x, y float32) float32 { return x * y },
			func(x, y float32) float32 { return x / y },
		}[op]
		Binary(a, as, b, bs, o, os, f)
		return
	}
	switch bc.rank {
	case 0:
		arithRun(op, o[:1], a, 0, b, 0)
		return
	case 1:
		arith2D(op, o, a, 0, bc.st[0][0], b, 0, bc.st[1][0], 1, bc.dims[0])
		return
	case 2:
		arith2D(op, o, a, bc.st[0][0], bc.st[0][1], b, bc.st[1][0], bc.st[1][1], bc.dims[0], bc.dims[1])
		return
	}
	bc.runs(func(q, n int, p, s [3]int) {
		arithRun(op, o[q:q+n], a[p[0]:], s[0], b[p[1]:], s[1])
	})
}

// arithRun computes o[i] = a[i*sa] op b[i*sb]; sa and sb are 0 or 1
// after coalescing, or a general stride.
func arithRun(op int, o, a []float32, sa int, b []float32, sb int) {
	n := len(o)
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = a[i] + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / b[i]
			}
		}
	case sa == 1 && sb == 0:
		a = a[:n]
		y := b[0]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = a[i] + y
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - y
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * y
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / y
			}
		}
	case sa == 0 && sb == 1:
		b = b[:n]
		x := a[0]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = x + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = x - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = x * b[i]
			}
		case opDiv:
			for i := range o {
				o[i] = x / b[i]
			}
		}
	default:
		for i := range o {
			x, y := a[i*sa], b[i*sb]
			switch op {
			case opAdd:
				o[i] = x + y
			case opSub:
				o[i] = x - y
			case opMul:
				o[i] = x * y
			case opDiv:
				o[i] = x / y
			}
		}
	}
}

// broadcastRuns copies src (shape ss) broadcast into dst (shape ds) without
// allocating; it reports false when the rank is too large.
func broadcastRuns[T any](dst []T, ds []int, src []T, ss []int) bool {
	bc, ok := newBcast(ds, ss)
	if !ok {
		return false
	}
	bc.runs(func(q, n int, p, s [3]int) {
		d := dst[q : q+n]
		switch s[0] {
		case 1:
			copy(d, src[p[0]:p[0]+n])
		case 0:
			v := src[p[0]]
			for i := range d {
				d[i] = v
			}
		default:
			for i := range d {
				d[i] = src[p[0]+i*s[0]]
			}
		}
	})
	return true
}

// sumToF32 sums g (shape gs) into o (shape os, which broadcasts to gs)
// without allocating; it reports false when the rank is too large.
func sumToF32(g []float32, gs []int, o []float32, os []int) bool {
	bc, ok := newBcast(gs, os)
	if !ok {
		return false
	}
	if bc.rank == 2 && bc.st[0][0] == 0 && bc.st[0][1] == 1 {
		colSum(o, g, bc.dims[0], bc.dims[1]) // [r, c] -> [c]: bias gradients
		return true
	}
	clear(o)
	bc.runs(func(q, n int, p, s [3]int) {
		src := g[q : q+n]
		switch s[0] {
		case 0:
			var acc float32
			for _, v := range src {
				acc += v
			}
			o[p[0]] += acc
		case 1:
			dst := o[p[0] : p[0]+n]
			for i, v := range src {
				dst[i] += v
			}
		default:
			for i, v := range src {
				o[p[0]+i*s[0]] += v
			}
		}
	})
	return true
}
