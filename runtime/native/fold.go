package native

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/odmn/odmn/graph"
)

// Embedding folds. A Gather from a constant table, reshaped to one row per
// user and multiplied by constant weights,
//
//	[Add →] Gather → Reshape|Flatten → Gemm|MatMul [→ Relu]
//
// (embeddings of categorical and bucketized features feeding a model's
// first dense layer, as odmn's and most recommender exports are) becomes
// C table-row sums per user (graph.FoldEmbedding, graph.EmbedSum): with
// embeddings of width D that is D times fewer operations than the product,
// and the gathered [N, C·D] matrix is never written. The tables are made
// on the first run, when their size (C·V·H floats) and the work of making
// them are within bounds. Results agree with the unfused kernels within float
// rounding (each folded row is rounded once, then C rows are summed), and
// do not depend on the batch or thread count.
//
// The table rows are folded when a run first meets them, not all at
// once: column c's ids usually index only c's own block of the table
// (odmn's exports offset each feature into one shared table), so of the
// C·V rows about V are ever read, and the rest are neither computed nor
// brought into memory.

// maxFoldFloats bounds one chain's folded tables (32 MiB), and
// maxFoldMACs the work of making them (about a quarter of a second), so
// that no file makes the first run slow or large.
const (
	maxFoldFloats = 1 << 23
	maxFoldMACs   = 1 << 28
)

// foldRuns counts the runs that took the folded path, foldedRows the
// table rows folded (for tests).
var foldRuns, foldedRows atomic.Int64

func embedPatterns() []pattern {
	var ps []pattern
	for _, pre := range [][]string{{"Add", "Gather"}, {"Gather"}} {
		for _, shaper := range []string{"Reshape", "Flatten"} {
			for _, lin := range []string{"Gemm", "MatMul"} {
				for _, relu := range []bool{true, false} {
					ops := append(slices.Clone(pre), shaper, lin)
					if relu {
						ops = append(ops, "Relu")
					}
					var at []int
					if len(pre) == 2 {
						at = make([]int, len(ops)-1)
						at[0] = 1 // Gather's indices are the Add
					}
					ps = append(ps, pattern{ops: ops, at: at, ok: foldable, fast: embedLinear})
				}
			}
		}
	}
	return ps
}

// foldable: the table, the weights and the bias are known when the plan
// is built.
func foldable(subs []step, isConst func(int) bool) bool {
	for _, sp := range subs {
		switch sp.def.Type {
		case "Gather":
			if !isConst(sp.in[0]) {
				return false
			}
		case "Gemm", "MatMul":
			for j := 1; j < len(sp.in); j++ {
				if sp.in[j] >= 0 && !isConst(sp.in[j]) {
					return false
				}
			}
		}
	}
	return true
}

// foldCache holds a chain's folded tables. They are made on the first
// run and checked on every run against copies of the tensors they come
// from, since a caller may change weights in place between runs (a
// trainer does); comparing the bytes costs a few microseconds where the
// fold saves milliseconds.
type foldCache struct {
	mu  sync.Mutex
	cur atomic.Pointer[foldTables]
}

type foldTables struct {
	src         [3][]byte // the table, the weights and the bias as folded
	frozen      bool      // made from frozen tensors: data, b and c
	data, b, c  *graph.Tensor
	alpha, beta float32
	transB      bool
	cols, h     int
	v, d        int // the table's rows and width as folded
	tab, bias   []float32
	ents        sync.Pool // *[]int32, a run's table entries
	// ready[e] is set once entry e's row of tab is folded (under mu).
	ready []atomic.Bool
	mu    sync.Mutex
}

// fill folds the rows of the entries in ent not folded yet, from the
// copies of the table and weights the tables were made for.
func (ft *foldTables) fill(ent []int32) error {
	var todo []int32
	for _, e := range ent {
		if !ft.ready[e].Load() {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	slices.Sort(todo)
	todo = slices.Compact(todo)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	todo = slices.DeleteFunc(todo, func(e int32) bool { return ft.ready[e].Load() })
	if err := graph.FoldEmbeddingRows(ft.tab, todo, bytesF32(ft.src[0]), ft.v, ft.d, bytesF32(ft.src[1]), ft.transB, ft.cols, ft.h, ft.alpha); err != nil {
		return err
	}
	for _, e := range todo { // readers check without the lock: rows first
		ft.ready[e].Store(true)
	}
	foldedRows.Add(int64(len(todo)))
	return nil
}

func bytesF32(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

func f32bytes(t *graph.Tensor) []byte {
	if t == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.F))), 4*len(t.F))
}

func (ft *foldTables) same(src [3][]byte, alpha, beta float32, transB bool, cols, h int) bool {
	return ft.alpha == alpha && ft.beta == beta && ft.transB == transB && ft.cols == cols && ft.h == h &&
		bytes.Equal(ft.src[0], src[0]) && bytes.Equal(ft.src[1], src[1]) && bytes.Equal(ft.src[2], src[2])
}

func (fc *foldCache) get(data, b, c *graph.Tensor, alpha, beta float32, transB bool, cols, h int, frozen bool) *foldTables {
	if ft := fc.cur.Load(); ft != nil && frozen && ft.frozen && ft.data == data && ft.b == b && ft.c == c &&
		ft.alpha == alpha && ft.beta == beta && ft.transB == transB && ft.cols == cols && ft.h == h {
		return ft // tensors nothing changes: no need to compare their bytes
	}
	src := [3][]byte{f32bytes(data), f32bytes(b), f32bytes(c)}
	if ft := fc.cur.Load(); ft != nil && ft.same(src, alpha, beta, transB, cols, h) {
		return ft
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if ft := fc.cur.Load(); ft != nil && ft.same(src, alpha, beta, transB, cols, h) {
		return ft
	}
	v, d := data.Shape[0], data.Shape[1]
	ft := &foldTables{alpha: alpha, beta: beta, transB: transB, cols: cols, h: h, v: v, d: d, frozen: frozen, data: data, b: b, c: c,
		tab: make([]float32, cols*v*h), ready: make([]atomic.Bool, cols*v)}
	for i, s := range src {
		ft.src[i] = bytes.Clone(s)
	}
	if c != nil && beta != 0 {
		ft.bias = make([]float32, h)
		for j := range ft.bias {
			x := c.F[0]
			if c.Len() != 1 {
				x = c.F[j]
			}
			ft.bias[j] = beta * x
		}
	}
	fc.cur.Store(ft)
	return ft
}

// embedLinear runs a folded chain; it declines (the kernels then run one
// by one) when an input is outside what the fold covers: float32 table
// [V, D] gathered on axis 0 with D >= 2, int64 indices [N, C] all within
// [-V, V), a reshape to [N, C·D], a product with op(A) = A, a 2-D float32
// weight and a bias that is nothing, one value or one row.
func embedLinear(c *chain, in, out []*graph.Tensor) (bool, error) {
	var add, ga, sh, lin *subStep
	relu := false
	for k := range c.subs {
		ss := &c.subs[k]
		switch ss.def.Type {
		case "Add":
			add = ss
		case "Gather":
			ga = ss
		case "Reshape", "Flatten":
			sh = ss
		case "Gemm", "MatMul":
			lin = ss
		case "Relu":
			relu = true
		}
	}
	arg := func(ss *subStep, j int) *graph.Tensor {
		if j >= len(ss.args) || ss.args[j] < 0 {
			return nil
		}
		return in[ss.args[j]]
	}
	data := arg(ga, 0)
	if data == nil || data.DType != graph.Float32 || len(data.Shape) != 2 {
		return false, nil
	}
	if ax := ga.attrs.Int("axis"); ax != 0 && ax != -2 {
		return false, nil
	}
	V, D := data.Shape[0], data.Shape[1]
	if D < 2 {
		return false, nil // no fewer operations than the product
	}
	ia, ib := arg(ga, 1), (*graph.Tensor)(nil)
	ishape := []int(nil)
	if add != nil {
		ia, ib = arg(add, 0), arg(add, 1)
		if ia == nil || ib == nil || ib.DType != graph.Int64 {
			return false, nil
		}
		s, err := graph.BroadcastShapes(ia.Shape, ib.Shape)
		if err != nil {
			return false, nil
		}
		ishape = s
	} else if ia != nil {
		ishape = ia.Shape
	}
	if ia == nil || ia.DType != graph.Int64 || len(ishape) != 2 {
		return false, nil
	}
	N, C := ishape[0], ishape[1]
	if C < 1 || int64(C)*int64(V) >= 1<<31 {
		return false, nil
	}
	// The reshape must make one row of C·D per user.
	ms := make([]graph.Meta, len(sh.args))
	for j, a := range sh.args {
		if a < 0 {
			ms[j] = graph.Meta{DType: graph.Float32, Shape: []int{N, C, D}}
		} else if t := in[a]; t != nil {
			ms[j] = graph.Meta{DType: t.DType, Shape: t.Shape, Value: t}
		}
	}
	om, err := sh.infer(ms, sh.attrs)
	if err != nil || len(om) != 1 || !slices.Equal(om[0].Shape, []int{N, C * D}) {
		return false, nil
	}
	// The product: y = alpha·A·op(B) + beta·C.
	b, ct := arg(lin, 1), (*graph.Tensor)(nil)
	alpha, beta, transB := float32(1), float32(0), false
	if lin.def.Type == "Gemm" {
		if lin.attrs.Int("transA") != 0 {
			return false, nil
		}
		alpha, beta, transB = lin.attrs.Float("alpha"), lin.attrs.Float("beta"), lin.attrs.Int("transB") != 0
		ct = arg(lin, 2)
	}
	if b == nil || b.DType != graph.Float32 || len(b.Shape) != 2 || alpha == 0 {
		return false, nil // alpha 0: the kernels skip the product (NaN does not leak)
	}
	K, H := b.Shape[0], b.Shape[1]
	if transB {
		K, H = H, K
	}
	if K != C*D || int64(C)*int64(V)*int64(H) > maxFoldFloats || int64(C)*int64(V)*int64(H)*int64(D) > maxFoldMACs {
		return false, nil
	}
	if ct != nil && (ct.DType != graph.Float32 || !(ct.Len() == 1 && len(ct.Shape) <= 2 ||
		len(ct.Shape) == 1 && ct.Shape[0] == H || len(ct.Shape) == 2 && ct.Shape[0] == 1 && ct.Shape[1] == H)) {
		return false, nil
	}
	o := out[0]
	if o.DType != graph.Float32 || len(o.F) != N*H {
		return false, nil
	}
	frozen := c.frozenArg(ga, 0) && c.frozenArg(lin, 1) && (ct == nil || c.frozenArg(lin, 2))
	ft := c.fold.get(data, b, ct, alpha, beta, transB, C, H, frozen)
	if ft == nil {
		return false, nil
	}
	ep, _ := ft.ents.Get().(*[]int32)
	if ep == nil {
		ep = new([]int32)
	}
	defer ft.ents.Put(ep)
	if cap(*ep) < N*C {
		*ep = make([]int32, N*C)
	}
	ent := (*ep)[:N*C]
	if !tableEntries(ent, ia, ib, N, C, V) {
		return false, nil // the kernels report the index
	}
	if ft.fill(ent) != nil {
		return false, nil // the kernels run instead
	}
	foldRuns.Add(1)
	return true, graph.EmbedSum(o.F, ft.tab, ent, ft.bias, N, C, H, relu)
}

// tableEntries sets ent[n·C+c] to the folded table row of user n's column
// c: c·V plus its index (a[n, c] + b[n, c], broadcast, when b is not
// nil; negative indices count from the end). It reports false when an
// index is outside [-V, V).
func tableEntries(ent []int32, a, b *graph.Tensor, N, C, V int) bool {
	sa := bstrides(a.Shape, 2)
	var sb []int
	if b != nil {
		sb = bstrides(b.Shape, 2)
	}
	v := int64(V)
	for n := range N {
		for c := range C {
			id := a.I[n*sa[0]+c*sa[1]]
			if b != nil {
				id += b.I[n*sb[0]+c*sb[1]]
			}
			if id < 0 {
				id += v
			}
			if id < 0 || id >= v {
				return false
			}
			ent[n*C+c] = int32(c*V) + int32(id)
		}
	}
	return true
}

// frozenArg reports whether input j of sub-step ss is a frozen constant.
func (c *chain) frozenArg(ss *subStep, j int) bool {
	return j < len(ss.args) && ss.args[j] >= 0 && ss.args[j] < len(c.frozen) && c.frozen[ss.args[j]]
}
