package train

import (
	"fmt"
	"math"
	"sync"

	g "github.com/odmn/odmn/graph"
)

// Domain is the ONNX domain of odmn's custom nodes (opset version 1).
//
// Exported models call three model-local functions of this domain, each a
// FunctionProto built only from standard ops, so ONNX Runtime (or any ONNX
// runtime) runs the file without a custom-op library:
//
//	Discretize(x [N,K] float32, bounds [K,B] float32) -> ids [N,K] int64
//	    ids = 0 where x is NaN, else 1 + #{b in bounds[k] : x >= b}
//	    (NaN bounds pad short rows and never count): data.Bin in float32.
//	MonoUnit(x, v1, b1, v2, b2) -> y
//	    the paper's Mono Unit, y = relu(x·softplus(v1) + b1)·softplus(v2) + b2
//	    (the body is MonoUnit).
//	MDMEDecode(p [N,S], q [N,M], values [N,M], sub_of [M] int64)
//	    -> ltv [N,1], ev [N,1], sub [N,1] int64, bucket [N,1] int64
//	    Eq. 7-8 and the expected value (the body is Decode).
//
// The native runtime runs them through the fused Go kernels registered
// here (graph.RegisterFused; a file whose function of the same name has
// another body runs that body), or through their bodies with
// native.Options.BodiesOnly; the tests compare fused, body and ONNX
// Runtime. Training graphs never call them: autodiff through a call would
// inline a second copy of the body, so training builds the same ops inline.
const Domain = "ai.odmn"

// Function names in Domain.
const (
	FnDiscretize = "Discretize"
	FnMonoUnit   = "MonoUnit"
	FnDecode     = "MDMEDecode"
)

var (
	fnOnce                             sync.Once
	fnDiscretize, fnMonoUnit, fnDecode *g.Function
)

// Functions returns the ai.odmn functions (defined once).
func Functions() (discretize, monoUnit, decode *g.Function) {
	fnOnce.Do(defineFunctions)
	return fnDiscretize, fnMonoUnit, fnDecode
}

func defineFunctions() {
	var err error
	fnDiscretize, err = g.DefineFunction(Domain, FnDiscretize, nil, func(b *g.Graph) error {
		x := b.Input("x", g.Float32, -1, -1)
		bounds := b.Input("bounds", g.Float32, -1, -1)
		b.SetOutput("ids", Discretize(x, bounds))
		return nil
	})
	if err != nil {
		panic(err)
	}
	fnMonoUnit, err = g.DefineFunction(Domain, FnMonoUnit, nil, func(b *g.Graph) error {
		x := b.Input("x", g.Float32, -1, -1)
		v1 := b.Input("v1", g.Float32, -1, -1)
		b1 := b.Input("b1", g.Float32, -1)
		v2 := b.Input("v2", g.Float32, -1, -1)
		b2 := b.Input("b2", g.Float32, -1)
		b.SetOutput("y", MonoUnit(x, v1, b1, v2, b2))
		return nil
	})
	if err != nil {
		panic(err)
	}
	fnDecode, err = g.DefineFunction(Domain, FnDecode, nil, func(b *g.Graph) error {
		p := b.Input("p", g.Float32, -1, -1)
		q := b.Input("q", g.Float32, -1, -1)
		values := b.Input("values", g.Float32, -1, -1)
		subOf := b.Input("sub_of", g.Int64, -1)
		ltv, ev, sub, bucket := Decode(p, q, values, subOf)
		b.SetOutput("ltv", ltv)
		b.SetOutput("ev", ev)
		b.SetOutput("sub", sub)
		b.SetOutput("bucket", bucket)
		return nil
	})
	if err != nil {
		panic(err)
	}
}

func init() {
	discretize, monoUnit, decode := Functions()
	g.RegisterFused(discretize, discretizeKernel)
	g.RegisterFused(monoUnit, monoUnitKernel)
	g.RegisterFused(decode, decodeKernel)
}

// Discretize is the in-graph form of the encoder's numeric rule (data.Bin)
// with standard ops: x [N,K] float32, bounds [K,B] float32 (row k holds
// column k's bounds, padded with NaN) -> ids [N,K] int64: 0 where x is
// NaN, else 1 + the number of bounds <= x (comparisons in float32, NaN
// bounds never count).
func Discretize(x, bounds *g.Node) *g.Node {
	ge := g.GreaterOrEqual(g.Unsqueeze(x, 2), bounds)            // [N,K,B]
	count := g.ReduceSum(g.Cast(ge, g.Int64), []int64{2}, false) // [N,K]
	one := g.ScalarLike(count, 1)
	return g.Where(g.Equal(x, x), g.Add(count, one), g.ScalarLike(count, 0))
}

// ---------- fused kernels ----------

// discretizeKernel computes Discretize with graph.Bucketize: a vector
// compare and count of each column's bounds (any order, NaN padding never
// counting), equal to the body for any input.
func discretizeKernel(in []*g.Tensor, _ g.Attrs, out []*g.Tensor) error {
	x, bounds, o := in[0], in[1], out[0]
	if len(x.Shape) != 2 || len(bounds.Shape) != 2 {
		return fmt.Errorf("x %v and bounds %v must be 2-D", x.Shape, bounds.Shape)
	}
	n, k := x.Shape[0], x.Shape[1]
	kb, nb := bounds.Shape[0], bounds.Shape[1]
	if kb != k && kb != 1 && k != 1 {
		return fmt.Errorf("bounds %v do not broadcast with x %v", bounds.Shape, x.Shape)
	}
	cols := max(k, kb)
	if k == 0 || kb == 0 {
		cols = 0 // broadcasting with an empty dimension
	}
	if len(o.I) != n*cols {
		return fmt.Errorf("output holds %d values, want %d", len(o.I), n*cols)
	}
	if cols == 0 {
		return nil
	}
	return g.Bucketize(o.I, x.F, n, k, bounds.F, kb, nb)
}

var (
	softplusKernel = g.MustLookup("", "Softplus").Kernel
	gemmDef        = g.MustLookup("", "Gemm")
	gemmAttrs      = func() g.Attrs {
		a, err := gemmDef.Resolve(nil)
		if err != nil {
			panic(err)
		}
		return a
	}()
	monoScratch = sync.Pool{New: func() any { return &[3]g.Tensor{} }}
)

// monoUnitKernel runs the Mono Unit's ops back to back with the graph's
// own Softplus and Gemm kernels, so it gives the body's values exactly.
func monoUnitKernel(in []*g.Tensor, _ g.Attrs, out []*g.Tensor) error {
	x, v1, b1, v2, b2 := in[0], in[1], in[2], in[3], in[4]
	s := monoScratch.Get().(*[3]g.Tensor)
	defer monoScratch.Put(s)
	w1, w2, h := &s[0], &s[1], &s[2]
	w1.Reset(g.Float32, v1.Shape)
	w2.Reset(g.Float32, v2.Shape)
	if err := softplusKernel([]*g.Tensor{v1}, nil, []*g.Tensor{w1}); err != nil {
		return err
	}
	if err := softplusKernel([]*g.Tensor{v2}, nil, []*g.Tensor{w2}); err != nil {
		return err
	}
	if len(x.Shape) != 2 || len(v1.Shape) != 2 || len(v2.Shape) != 2 || x.Shape[1] != v1.Shape[0] || v1.Shape[1] != v2.Shape[0] {
		return fmt.Errorf("shapes x %v, v1 %v, v2 %v do not chain", x.Shape, v1.Shape, v2.Shape)
	}
	h.Reset(g.Float32, []int{x.Shape[0], v1.Shape[1]})
	// The Relu in the product's stores where the GEMM fuses it (the same
	// bits as the two kernels: the native runtime's Gemm+Relu fusion).
	ok, err := g.GemmRelu([]*g.Tensor{x, w1, b1}, gemmAttrs, h)
	if err != nil {
		return err
	}
	if !ok {
		if err := gemmDef.Kernel([]*g.Tensor{x, w1, b1}, gemmAttrs, []*g.Tensor{h}); err != nil {
			return err
		}
		for i, v := range h.F {
			if v < 0 {
				h.F[i] = 0
			}
		}
	}
	return gemmDef.Kernel([]*g.Tensor{h, w2, b2}, gemmAttrs, out[:1])
}

// decodeKernel is MDMEDecode in one pass per row, with the body's
// arithmetic (float32 products, a float64 sum like ReduceSum's) and its
// ArgMax rules (first index on ties; a NaN wins).
func decodeKernel(in []*g.Tensor, _ g.Attrs, out []*g.Tensor) error {
	p, q, values, subOf := in[0], in[1], in[2], in[3]
	ltv, ev, sub, bucket := out[0], out[1], out[2], out[3]
	if len(p.Shape) != 2 || len(q.Shape) != 2 || len(values.Shape) != 2 || len(subOf.Shape) != 1 {
		return fmt.Errorf("p %v, q %v, values %v must be 2-D and sub_of %v 1-D", p.Shape, q.Shape, values.Shape, subOf.Shape)
	}
	n, s, m := p.Shape[0], p.Shape[1], q.Shape[1]
	vn := values.Shape[0]
	if q.Shape[0] != n || values.Shape[1] != m || (vn != n && vn != 1) || subOf.Shape[0] != m {
		return fmt.Errorf("shapes p %v, q %v, values %v, sub_of %v do not match", p.Shape, q.Shape, values.Shape, subOf.Shape)
	}
	for _, k := range subOf.I {
		if k < -int64(s) || k >= int64(s) {
			return fmt.Errorf("sub_of holds %d, out of range for %d sub-distributions", k, s)
		}
	}
	so := make([]int, m)
	for j, k := range subOf.I {
		if k < 0 {
			k += int64(s)
		}
		so[j] = int(k)
	}
	for i := 0; i < n; i++ {
		pr := p.F[i*s : (i+1)*s]
		qr := q.F[i*m : (i+1)*m]
		vr := values.F[min(i, vn-1)*m : (min(i, vn-1)+1)*m]
		best, bs := pr[0], 0
		for j := 1; j < s && best == best; j++ {
			if v := pr[j]; v > best || v != v {
				best, bs = v, j
			}
		}
		mask := func(j int) float32 {
			if so[j] == bs {
				return qr[j]
			}
			return -1
		}
		bq, bu := mask(0), 0
		for j := 1; j < m && bq == bq; j++ {
			if v := mask(j); v > bq || v != v {
				bq, bu = v, j
			}
		}
		var acc float64
		for j := 0; j < m; j++ {
			o := float32(pr[so[j]] * qr[j])
			acc += float64(float32(o * vr[j]))
		}
		ltv.F[i] = vr[bu]
		ev.F[i] = float32(acc)
		sub.I[i] = int64(bs)
		bucket.I[i] = int64(bu)
	}
	return nil
}

// DecodeMargins are the top-2 probability margins of a decode: of p (the
// sub-distribution choice) and of q within the chosen sub-distribution
// (the bucket choice), [N,1] each. A margin below the float error of the
// runtimes (about 1e-6) means another runtime may break the tie the other
// way; with one candidate the margin is 2 (no second choice exists).
func DecodeMargins(p, q, subOf, sub, bucket *g.Node) (subMargin, bucketMargin *g.Node) {
	gr := p.Graph()
	S, M := p.Shape()[1], q.Shape()[1]
	minus1 := g.ScalarLike(p, -1)
	top2 := func(x, arg *g.Node, n int) *g.Node {
		iota := make([]int64, n)
		for i := range iota {
			iota[i] = int64(i)
		}
		first := g.ReduceMax(x, []int64{1}, true)
		rest := g.Where(g.Equal(gr.Const(g.I64([]int{n}, iota)), arg), minus1, x)
		return g.Sub(first, g.ReduceMax(rest, []int64{1}, true))
	}
	subMargin = top2(p, sub, S)
	inSub := g.Equal(g.Unsqueeze(subOf, 0), sub)
	bucketMargin = top2(g.Where(inSub, q, minus1), bucket, M)
	return subMargin, bucketMargin
}

// nanPad fills a [rows, width] float32 matrix with NaN.
func nanPad(rows, width int) *g.Tensor {
	t := g.NewTensor(g.Float32, []int{rows, width})
	for i := range t.F {
		t.F[i] = float32(math.NaN())
	}
	return t
}
