package graph

import "fmt"

// This file holds MatMul (numpy matmul semantics), Gemm and MatMulInteger.
// Every float32 product, forward and backward, goes through Sgemm
// (gemm.go) with transpose flags: no transposed copy is ever made. The
// other element types ONNX allows (float64, int32, int64, uint32, uint64)
// run one generic Go loop (gemmT); float16 computes through float32's
// Sgemm and rounds. Integer products wrap as in two's complement, and
// Gemm on integers with alpha or beta other than 1 computes alpha·AB and
// beta·C in float64 and truncates (the ONNX reference's float product
// cast back).
//
// MatMul's gradients are the internal ops MatMulGradA and MatMulGradB,
// which sum over broadcast batch dimensions inside the GEMM (a batch folded
// into one call where the layout allows), and handle 1-D operands. They
// are each other's adjoints, so second-order gradients work. Gemm's
// gradients are Gemm ops with the transpose flags set.

// mmDims is the layout of a MatMul after numpy's 1-D promotion.
type mmDims struct {
	batch, aBatch, bBatch []int // output and operand batch shapes
	m, k, n               int
	aVec, bVec            bool // A was [k], B was [k]
}

// matmulDims works on build-time shapes too (-1: unknown).
func matmulDims(as, bs []int) (mmDims, error) {
	var d mmDims
	if len(as) == 0 || len(bs) == 0 {
		return d, fmt.Errorf("MatMul needs operands of rank 1 or more, got shapes %v and %v", as, bs)
	}
	pa, pb := as, bs
	if len(as) == 1 {
		pa, d.aVec = []int{1, as[0]}, true
	}
	if len(bs) == 1 {
		pb, d.bVec = []int{bs[0], 1}, true
	}
	ra, rb := len(pa), len(pb)
	d.m, d.k = pa[ra-2], pa[ra-1]
	k2 := pb[rb-2]
	d.n = pb[rb-1]
	if d.k >= 0 && k2 >= 0 && d.k != k2 {
		return d, fmt.Errorf("inner dimensions differ: A is %v, B is %v (%d vs %d)", as, bs, d.k, k2)
	}
	if d.k < 0 {
		d.k = k2
	}
	d.aBatch, d.bBatch = pa[:ra-2], pb[:rb-2]
	batch, err := BroadcastShapes(d.aBatch, d.bBatch)
	if err != nil {
		return d, fmt.Errorf("batch dimensions of %v and %v do not broadcast", as, bs)
	}
	d.batch = batch
	return d, nil
}

// outShape is the MatMul output shape.
func (d mmDims) outShape() []int {
	s := append([]int{}, d.batch...)
	if !d.aVec {
		s = append(s, d.m)
	}
	if !d.bVec {
		s = append(s, d.n)
	}
	return s
}

// batchMaps maps each output batch index to the A and B batch indices;
// nil means the identity (that operand is not broadcast over the batch).
func (d mmDims) batchMaps() (ai, bi []int) {
	nb := Size(d.batch)
	if Size(d.aBatch) != nb {
		ai = BroadcastIndex(d.aBatch, d.batch)
	}
	if Size(d.bBatch) != nb {
		bi = BroadcastIndex(d.bBatch, d.batch)
	}
	return ai, bi
}

func mapIndex(m []int, t int) int {
	if m == nil {
		return t
	}
	return m[t]
}

// mmTypes are the element types of MatMul and Gemm.
var mmTypes = []DType{Float32, Float64, Float16, Int32, Int64, Uint32, Uint64}

// sameOperands checks that the first n inputs share input 0's dtype.
func sameOperands(in []Meta, n int) error {
	for i := 1; i < n; i++ {
		if in[i].DType != in[0].DType {
			return fmt.Errorf("input %d is %s, input 0 is %s (they must agree)", i, in[i].DType, in[0].DType)
		}
	}
	return nil
}

// gemmT is C = alpha·op(A)·op(B) + beta·C for any numeric T, row-major
// with leading dimensions, as Sgemm (beta == 0 overwrites C).
func gemmT[T Number](transA, transB bool, m, n, k int, alpha float32, a []T, lda int, b []T, ldb int, beta float32, c []T, ldc int) {
	exact := alpha == 1 && (beta == 0 || beta == 1)
	row := make([]T, n)
	for i := 0; i < m; i++ {
		clear(row)
		for p := 0; p < k; p++ {
			var av T
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			if av == 0 {
				continue
			}
			if transB {
				for j := range row {
					row[j] += av * b[j*ldb+p]
				}
			} else {
				br := b[p*ldb : p*ldb+n]
				for j, bv := range br {
					row[j] += av * bv
				}
			}
		}
		cr := c[i*ldc : i*ldc+n]
		for j, v := range row {
			switch {
			case exact && beta == 0:
				cr[j] = v
			case exact:
				cr[j] += v
			case beta == 0:
				cr[j] = T(float64(alpha) * float64(v))
			default:
				cr[j] = T(float64(alpha)*float64(v) + float64(beta)*float64(cr[j]))
			}
		}
	}
}

func floatOperands(in []Meta, n int) error {
	for i := 0; i < n; i++ {
		if in[i].DType != Float32 {
			return fmt.Errorf("type %s not supported (float32 only)", in[i].DType)
		}
	}
	return nil
}

// ---------- MatMul ----------

var matMulDef, matMulGradADef, matMulGradBDef *OpDef

func init() {
	matMulDef = Register(&OpDef{
		Type: "MatMul", Since: 13, Compat: []int{1, 9},
		MinInputs: 2, MaxInputs: 2,
		Types: mmTypes,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if err := sameOperands(in, 2); err != nil {
				return nil, err
			}
			d, err := matmulDims(in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: in[0].DType, Shape: d.outShape()}}, nil
		},
		Kernel: Dispatch{
			Float32: matMulF32, Float64: matMulKernel[float64], Float16: halfVia32(matMulF32),
			Int32: matMulKernel[int32], Int64: matMulKernel[int64], Uint32: matMulKernel[uint32], Uint64: matMulKernel[uint64],
		}.On(0),
		Grad: func(op *Op, g []*Node) []*Node {
			a, b := op.Inputs[0], op.Inputs[1]
			res := make([]*Node, 2)
			if a.Value() == nil {
				res[0] = matMulGradA(g[0], a, b)
			}
			if b.Value() == nil {
				res[1] = matMulGradB(g[0], a, b)
			}
			return res
		},
	})
	matMulGradDefs()
}

// matMulKernel is MatMul for a non-float32 dtype.
func matMulKernel[T Number](in []*Tensor, _ Attrs, out []*Tensor) error {
	a, b, y := in[0], in[1], out[0]
	d, err := matmulDims(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	m, k, n := d.m, d.k, d.n
	ai, bi := d.batchMaps()
	as, bs, ys := Data[T](a), Data[T](b), Data[T](y)
	for t := 0; t < Size(d.batch); t++ {
		pa, pb := mapIndex(ai, t)*m*k, mapIndex(bi, t)*k*n
		gemmT(false, false, m, n, k, 1, as[pa:], k, bs[pb:], n, 0, ys[t*m*n:], n)
	}
	return nil
}

// matMulF32 is MatMul's float32 kernel (Sgemm).
func matMulF32(in []*Tensor, _ Attrs, out []*Tensor) error {
	a, b, y := in[0], in[1], out[0]
	if len(a.Shape) == 2 && len(b.Shape) == 2 && a.Shape[1] == b.Shape[0] {
		m, k, n := a.Shape[0], a.Shape[1], b.Shape[1]
		Sgemm(false, false, m, n, k, 1, a.F, k, b.F, n, 0, y.F, n)
		return nil
	}
	d, err := matmulDims(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	m, k, n := d.m, d.k, d.n
	ai, bi := d.batchMaps()
	nbatch := Size(d.batch)
	if bi != nil && Size(d.bBatch) == 1 && ai == nil {
		// One B for every batch: fold A's batch into its rows.
		Sgemm(false, false, nbatch*m, n, k, 1, a.F, k, b.F, n, 0, y.F, n)
		return nil
	}
	for t := 0; t < nbatch; t++ {
		pa, pb := mapIndex(ai, t)*m*k, mapIndex(bi, t)*k*n
		Sgemm(false, false, m, n, k, 1, a.F[pa:], k, b.F[pb:], n, 0, y.F[t*m*n:], n)
	}
	return nil
}

func matMulGradDefs() {
	gradInfer := func(which int) func([]Meta, Attrs) ([]Meta, error) {
		return func(in []Meta, _ Attrs) ([]Meta, error) {
			if err := floatOperands(in, 3); err != nil {
				return nil, err
			}
			d, err := matmulDims(in[1].Shape, in[2].Shape)
			if err != nil {
				return nil, err
			}
			if want := d.outShape(); len(in[0].Shape) != len(want) {
				return nil, fmt.Errorf("gradient has shape %v, want %v", in[0].Shape, want)
			}
			return []Meta{{DType: Float32, Shape: in[1+which].Shape}}, nil
		}
	}
	// MatMulGradA(G, A, B) = G·Bᵀ summed over the batch dimensions along
	// which A was broadcast: the gradient of A in Y = A·B (A's shape).
	matMulGradADef = Register(&OpDef{
		Type: "MatMulGradA", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 3, MaxInputs: 3,
		Infer: gradInfer(0),
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			g, a, b, da := in[0], in[1], in[2], out[0]
			if m, k, n, ok := plain2D(g, a, b); ok {
				Sgemm(false, true, m, k, n, 1, g.F, n, b.F, n, 0, da.F, k)
				return nil
			}
			d, err := gradDims(g, a, b)
			if err != nil {
				return err
			}
			m, k, n := d.m, d.k, d.n
			ai, bi := d.batchMaps()
			nbatch := Size(d.batch)
			if bi != nil && Size(d.bBatch) == 1 && ai == nil {
				Sgemm(false, true, nbatch*m, k, n, 1, g.F, n, b.F, n, 0, da.F, k)
				return nil
			}
			beta := float32(0)
			if ai != nil {
				clear(da.F)
				beta = 1
			}
			for t := 0; t < nbatch; t++ {
				pa, pb := mapIndex(ai, t)*m*k, mapIndex(bi, t)*k*n
				Sgemm(false, true, m, k, n, 1, g.F[t*m*n:], n, b.F[pb:], n, beta, da.F[pa:], k)
			}
			return nil
		},
	})
	// MatMulGradB(G, A, B) = Aᵀ·G summed over the batch dimensions along
	// which B was broadcast: the gradient of B in Y = A·B (B's shape).
	matMulGradBDef = Register(&OpDef{
		Type: "MatMulGradB", Domain: "odmn.internal", Since: 1, Internal: true,
		MinInputs: 3, MaxInputs: 3,
		Infer: gradInfer(1),
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			g, a, b, db := in[0], in[1], in[2], out[0]
			if m, k, n, ok := plain2D(g, a, b); ok {
				Sgemm(true, false, k, n, m, 1, a.F, k, g.F, n, 0, db.F, n)
				return nil
			}
			d, err := gradDims(g, a, b)
			if err != nil {
				return err
			}
			m, k, n := d.m, d.k, d.n
			ai, bi := d.batchMaps()
			nbatch := Size(d.batch)
			if bi != nil && Size(d.bBatch) == 1 && ai == nil {
				// Sum over the batch by folding it into the inner dimension.
				Sgemm(true, false, k, n, nbatch*m, 1, a.F, k, g.F, n, 0, db.F, n)
				return nil
			}
			beta := float32(0)
			if bi != nil {
				clear(db.F)
				beta = 1
			}
			for t := 0; t < nbatch; t++ {
				pa, pb := mapIndex(ai, t)*m*k, mapIndex(bi, t)*k*n
				Sgemm(true, false, k, n, m, 1, a.F[pa:], k, g.F[t*m*n:], n, beta, db.F[pb:], n)
			}
			return nil
		},
	})
	// Each is linear in G and in its other operand; their adjoints are
	// MatMul and each other (H is the gradient arriving at the output):
	//   dA = G·Bᵀ: dG = H·B, dB = Hᵀ·G = MatMulGradB(G, H, B)
	//   dB = Aᵀ·G: dG = A·H, dA = G·Hᵀ = MatMulGradA(G, A, H)
	matMulGradADef.Grad = func(op *Op, h []*Node) []*Node {
		g, b := op.Inputs[0], op.Inputs[2]
		return []*Node{MatMul(h[0], b), nil, matMulGradB(g, h[0], b)}
	}
	matMulGradBDef.Grad = func(op *Op, h []*Node) []*Node {
		g, a := op.Inputs[0], op.Inputs[1]
		return []*Node{MatMul(a, h[0]), matMulGradA(g, a, h[0]), nil}
	}
}

// plain2D recognizes the common gradient case without allocating: A
// [m, k], B [k, n] and G [m, n].
func plain2D(g, a, b *Tensor) (m, k, n int, ok bool) {
	if len(a.Shape) != 2 || len(b.Shape) != 2 || len(g.Shape) != 2 {
		return 0, 0, 0, false
	}
	m, k, n = a.Shape[0], a.Shape[1], b.Shape[1]
	return m, k, n, b.Shape[0] == k && g.Shape[0] == m && g.Shape[1] == n
}

// gradDims checks a MatMul gradient's operands at run time.
func gradDims(g, a, b *Tensor) (mmDims, error) {
	d, err := matmulDims(a.Shape, b.Shape)
	if err != nil {
		return d, err
	}
	if want := d.outShape(); !SameShape(g.Shape, want) {
		return d, fmt.Errorf("gradient has shape %v, want %v", g.Shape, want)
	}
	return d, nil
}

func matMulGradA(g, a, b *Node) *Node { return Apply1(matMulGradADef, nil, g, a, b) }
func matMulGradB(g, a, b *Node) *Node { return Apply1(matMulGradBDef, nil, g, a, b) }

// MatMul is the matrix product with numpy.matmul semantics (float32): a 1-D
// A is a row vector and a 1-D B a column vector (the added dimension is
// removed from the result); leading batch dimensions broadcast.
func MatMul(a, b *Node) *Node { return Apply1(matMulDef, nil, a, b) }

// ---------- Gemm ----------

var gemmDef *OpDef

// gemmDims reads M, K, N from Gemm's operand shapes (-1 allowed).
func gemmDims(as, bs []int, ta, tb bool) (m, k, n int, err error) {
	if len(as) != 2 || len(bs) != 2 {
		return 0, 0, 0, fmt.Errorf("inputs A and B must be 2-D, got shapes %v and %v", as, bs)
	}
	m, k = as[0], as[1]
	if ta {
		m, k = k, m
	}
	k2, n := bs[0], bs[1]
	if tb {
		k2, n = n, k2
	}
	if k >= 0 && k2 >= 0 && k != k2 {
		return 0, 0, 0, fmt.Errorf("inner dimensions differ: op(A) is %dx%d, op(B) is %dx%d", m, k, k2, n)
	}
	return m, k, n, nil
}

func init() {
	gemmDef = Register(&OpDef{
		Type: "Gemm", Since: 13, Compat: []int{7, 9, 11},
		MinInputs: 2, MaxInputs: 3,
		Attrs: []AttrSpec{
			{Name: "alpha", Type: AttrFloat, Default: float32(1)},
			{Name: "beta", Type: AttrFloat, Default: float32(1)},
			{Name: "transA", Type: AttrInt, Default: int64(0)},
			{Name: "transB", Type: AttrInt, Default: int64(0)},
		},
		Types: mmTypes,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if err := sameOperands(in, len(in)); err != nil {
				return nil, err
			}
			m, _, n, err := gemmDims(in[0].Shape, in[1].Shape, a.Int("transA") != 0, a.Int("transB") != 0)
			if err != nil {
				return nil, err
			}
			if c, ok := optIn(in, 2); ok {
				if !unidirectional(c.Shape, []int{m, n}) {
					return nil, fmt.Errorf("input C of shape %v does not broadcast to [%d %d]", c.Shape, m, n)
				}
			}
			return []Meta{{DType: in[0].DType, Shape: []int{m, n}}}, nil
		},
		Kernel: Dispatch{
			Float32: gemmKernel[float32], Float64: gemmKernel[float64], Float16: halfVia32(gemmKernel[float32]),
			Int32: gemmKernel[int32], Int64: gemmKernel[int64], Uint32: gemmKernel[uint32], Uint64: gemmKernel[uint64],
		}.On(0),
		Grad: func(op *Op, g []*Node) []*Node {
			a, b, c := op.Inputs[0], op.Inputs[1], optionalInput(op, 2)
			r := op.Resolved
			alpha, beta := r.Float("alpha"), r.Float("beta")
			ta, tb := r.Int("transA") != 0, r.Int("transB") != 0
			res := make([]*Node, 3)
			if a.Value() == nil {
				if ta {
					res[0] = Gemm(b, g[0], nil, alpha, 1, tb, true) // (α·G·op(B)ᵀ)ᵀ = α·op(B)·Gᵀ
				} else {
					res[0] = Gemm(g[0], b, nil, alpha, 1, false, !tb) // α·G·op(B)ᵀ
				}
			}
			if b.Value() == nil {
				if tb {
					res[1] = Gemm(g[0], a, nil, alpha, 1, true, ta) // (α·op(A)ᵀ·G)ᵀ = α·Gᵀ·op(A)
				} else {
					res[1] = Gemm(a, g[0], nil, alpha, 1, !ta, false) // α·op(A)ᵀ·G
				}
			}
			if c != nil && c.Value() == nil {
				gc := g[0]
				if beta != 1 {
					gc = Mul(gc, ScalarLike(gc, float64(beta)))
				}
				res[2] = SumTo(gc, c)
			}
			return res
		},
	})
}

// gemmKernel is Gemm; float32 goes through Sgemm.
func gemmKernel[T Number](in []*Tensor, at Attrs, out []*Tensor) error {
	a, b, y := in[0], in[1], out[0]
	ta, tb := at.Int("transA") != 0, at.Int("transB") != 0
	m, k, n, err := gemmDims(a.Shape, b.Shape, ta, tb)
	if err != nil {
		return err
	}
	lda, ldb := gemmStrides(m, k, n, ta, tb)
	c := optT(in, 2)
	if c != nil && !unidirectional(c.Shape, []int{m, n}) {
		return fmt.Errorf("C of shape %v does not broadcast to [%d %d]", c.Shape, m, n)
	}
	beta, alpha := at.Float("beta"), at.Float("alpha")
	if y.DType == Float32 {
		if bias, ok := biasRow(c, beta, n); ok && epilogueFused() {
			SgemmBias(ta, tb, m, n, k, alpha, a.F, lda, b.F, ldb, bias, false, y.F, n)
			return nil
		}
		if c == nil || beta == 0 {
			beta = 0
		} else {
			fillBroadcastC(y.F, m, n, c, beta)
			beta = 1
		}
		Sgemm(ta, tb, m, n, k, alpha, a.F, lda, b.F, ldb, beta, y.F, n)
		return nil
	}
	ys := Data[T](y)
	if c == nil || beta == 0 {
		beta = 0
	} else {
		cs := Data[T](c)
		for i, j := range BroadcastIndex(c.Shape, []int{m, n}) {
			ys[i] = cs[j]
		}
	}
	gemmT(ta, tb, m, n, k, alpha, Data[T](a), lda, Data[T](b), ldb, beta, ys, n)
	return nil
}

// gemmStrides are the row strides of a Gemm's A and B as stored (dense):
// op(A) m×k and op(B) k×n, transposed or not.
func gemmStrides(m, k, n int, ta, tb bool) (lda, ldb int) {
	lda, ldb = k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	return lda, ldb
}

// biasRow says whether a Gemm's C term is nothing or a row added to every
// row of the product (beta 1, shape [n] or [1, n]), the form SgemmBias
// computes in one pass, and returns the row.
func biasRow(c *Tensor, beta float32, n int) ([]float32, bool) {
	if c == nil || beta == 0 {
		return nil, true
	}
	if beta != 1 || c.DType != Float32 {
		return nil, false
	}
	if len(c.Shape) == 1 && c.Shape[0] == n || len(c.Shape) == 2 && c.Shape[0] == 1 && c.Shape[1] == n {
		return c.F, true
	}
	return nil, false
}

// GemmRelu is Relu(Gemm(...)) for float32 with the clamp fused into the
// product's stores, when the GEMM can fuse it and C is nothing or a bias
// row; ok is false (nothing computed) otherwise. y has the Gemm's output
// shape.
func GemmRelu(in []*Tensor, at Attrs, y *Tensor) (ok bool, err error) {
	a, b := in[0], in[1]
	if !epilogueFused() || a.DType != Float32 || y.DType != Float32 {
		return false, nil
	}
	ta, tb := at.Int("transA") != 0, at.Int("transB") != 0
	m, k, n, err := gemmDims(a.Shape, b.Shape, ta, tb)
	if err != nil {
		return false, err
	}
	bias, ok := biasRow(optT(in, 2), at.Float("beta"), n)
	if !ok || len(y.F) != m*n {
		return false, nil
	}
	lda, ldb := gemmStrides(m, k, n, ta, tb)
	SgemmBias(ta, tb, m, n, k, at.Float("alpha"), a.F, lda, b.F, ldb, bias, true, y.F, n)
	return true, nil
}

// unidirectional reports whether shape s broadcasts to target without
// changing target (-1 dims are accepted as possibly matching).
func unidirectional(s, target []int) bool {
	if len(s) > len(target) {
		return false
	}
	off := len(target) - len(s)
	for i, d := range s {
		t := target[off+i]
		if d != 1 && d != t && d != -1 && t != -1 {
			return false
		}
	}
	return true
}

// fillBroadcastC sets y (m×n) to beta*C broadcast.
func fillBroadcastC(y []float32, m, n int, c *Tensor, beta float32) {
	cm, cn := 1, 1
	switch len(c.Shape) {
	case 1:
		cn = c.Shape[0]
	case 2:
		cm, cn = c.Shape[0], c.Shape[1]
	}
	for i := 0; i < m; i++ {
		row := y[i*n : i*n+n]
		ci := 0
		if cm != 1 {
			ci = i * cn
		}
		if cn == 1 {
			v := beta * c.F[ci]
			for j := range row {
				row[j] = v
			}
			continue
		}
		cr := c.F[ci : ci+n]
		if beta == 1 { // a bias: a copy, not a multiply, per row
			copy(row, cr)
			continue
		}
		for j := range row {
			row[j] = beta * cr[j]
		}
	}
}

// Gemm is Y = alpha·op(A)·op(B) + beta·C with op transposing when transA
// or transB is set; A and B are 2-D float32, C (nil: none) broadcasts
// unidirectionally to [M, N].
func Gemm(a, b, c *Node, alpha, beta float32, transA, transB bool) *Node {
	at := Attrs{}
	if alpha != 1 {
		at["alpha"] = alpha
	}
	if beta != 1 {
		at["beta"] = beta
	}
	if transA {
		at["transA"] = int64(1)
	}
	if transB {
		at["transB"] = int64(1)
	}
	if c == nil {
		return Apply1(gemmDef, at, a, b)
	}
	return Apply1(gemmDef, at, a, b, c)
}

// ---------- MatMulInteger ----------

func init() {
	Register(&OpDef{
		Type: "MatMulInteger", Since: 10,
		MinInputs: 2, MaxInputs: 4,
		Types: []DType{Int8, Uint8},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			for _, i := range []int{2, 3} {
				if z, ok := optIn(in, i); ok {
					if z.DType != in[i-2].DType {
						return nil, fmt.Errorf("zero point %d is %s, its operand %s", i, z.DType, in[i-2].DType)
					}
					if len(z.Shape) > 1 {
						return nil, unsupported("MatMulInteger", "a zero point of rank %d", len(z.Shape))
					}
				}
			}
			d, err := matmulDims(in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: Int32, Shape: d.outShape()}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			a, err := widenZP(in[0], optT(in, 2), true)
			if err != nil {
				return err
			}
			b, err := widenZP(in[1], optT(in, 3), false)
			if err != nil {
				return err
			}
			return matMulKernel[int32]([]*Tensor{a, b}, nil, out)
		},
	})
}

// widenZP converts an int8/uint8 operand to int32 minus its zero point: a
// scalar, or one per row of A (rowA) or per column of B.
func widenZP(x, zp *Tensor, rowA bool) (*Tensor, error) {
	v := make([]int32, x.Len())
	for i := range v {
		v[i] = int32(x.Int(i))
	}
	if zp == nil || zp.Len() == 0 {
		return FromSlice(x.Shape, v), nil
	}
	r := len(x.Shape)
	rows, cols := 1, x.Shape[r-1]
	if r >= 2 {
		rows = x.Shape[r-2]
	}
	want := 1
	if zp.Len() != 1 {
		want = cols
		if rowA {
			want = rows
		}
	}
	if zp.Len() != want {
		return nil, fmt.Errorf("zero point has %d values, want 1 or %d", zp.Len(), want)
	}
	for i := range v {
		k := 0
		switch {
		case want == 1:
		case rowA:
			k = (i / cols) % rows
		default:
			k = i % cols
		}
		v[i] -= int32(zp.Int(k))
	}
	return FromSlice(x.Shape, v), nil
}
