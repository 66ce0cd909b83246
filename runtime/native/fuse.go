package native

import (
	"fmt"
	"strings"

	"github.com/odmn/odmn/graph"
)

// Plan fusion: chains of steps whose intermediate values nobody else reads
// become one step that runs them without writing the intermediates out
// (Gemm then Relu applies the Relu in place on the product while it is in
// cache; Less, Cast and ReduceSum count without the [N, Q, K] booleans
// and integers). Chains are found by graph structure (op types and who
// reads which value), never by node names, and a fused step that meets an
// input its fast path does not cover runs the original kernels one after
// the other, so the result is always the unfused one.

// subStep is one step of a chain; args maps its inputs: k >= 0 is input k
// of the fused step, -1 the previous step's output.
type subStep struct {
	step
	args []int
}

// chain is a fused step's program.
type chain struct {
	subs []subStep
	// fast computes the whole chain directly; done is false when it does
	// not cover the inputs (the kernels then run one by one).
	fast func(c *chain, in []*graph.Tensor, out []*graph.Tensor) (done bool, err error)
	// fold is an embedding fold's tables, made on the first run (fold.go).
	fold foldCache
	// frozen[k]: input k is a constant nothing changes between runs (see
	// binding.frozen).
	frozen []bool
}

// pattern is a chain of op types (standard domain) to fuse, an input of
// each op after the first (the first, or the one at says) being the
// previous op's only output.
type pattern struct {
	ops []string
	at  []int // the chained input of ops[k+1] (nil: input 0)
	// ok checks further conditions (nil: none); isConst tells whether a
	// slot holds a value known when the plan is built.
	ok   func(subs []step, isConst func(slot int) bool) bool
	fast func(c *chain, in []*graph.Tensor, out []*graph.Tensor) (bool, error)
}

// patterns are tried in order at each step: longer chains first.
var patterns = append(embedPatterns(), []pattern{
	{ops: []string{"Gemm", "Relu"}, fast: gemmRelu},
	{ops: []string{"MatMul", "Relu"}, fast: gemmRelu},
	{ops: []string{"Less", "Cast", "ReduceSum"}, fast: countCompare},
	{ops: []string{"LessOrEqual", "Cast", "ReduceSum"}, fast: countCompare},
	{ops: []string{"Greater", "Cast", "ReduceSum"}, fast: countCompare},
	{ops: []string{"GreaterOrEqual", "Cast", "ReduceSum"}, fast: countCompare},
	{ops: []string{"Equal", "Cast", "ReduceSum"}, fast: countCompare},
	{ops: []string{"Add", "Gather"}, at: []int{1}, fast: addGather},
}...)

// fuse rewrites p.steps with the patterns. It runs after compile has
// set p.outs and before liveness.
func (p *plan) fuse() {
	readers := make([]int, p.nslots)
	reader := make([]int, p.nslots) // the (last) step reading a slot
	for i, sp := range p.steps {
		for _, sl := range sp.in {
			if sl >= 0 {
				readers[sl]++
				reader[sl] = i
			}
		}
	}
	for _, sl := range p.outs {
		readers[sl]++
		reader[sl] = -1
	}
	consts, frozen := map[int]bool{}, map[int]bool{}
	for _, b := range p.consts {
		consts[b.slot] = true
		frozen[b.slot] = b.frozen
	}
	isConst := func(sl int) bool { return sl >= 0 && consts[sl] }
	gone := make([]bool, len(p.steps))
	for i := range p.steps {
		if gone[i] {
			continue
		}
		for _, pat := range patterns {
			idx := p.match(i, pat, readers, reader, gone)
			if idx == nil {
				continue
			}
			subs := make([]step, len(idx))
			for k, j := range idx {
				subs[k] = p.steps[j]
			}
			if pat.ok != nil && !pat.ok(subs, isConst) {
				continue
			}
			last := idx[len(idx)-1]
			p.steps[last] = fusedStep(subs, pat.at, pat.fast)
			for _, sl := range p.steps[last].in {
				p.steps[last].chain.frozen = append(p.steps[last].chain.frozen, sl >= 0 && frozen[sl])
			}
			for _, j := range idx[:len(idx)-1] {
				gone[j] = true
			}
			break
		}
	}
	kept := p.steps[:0]
	for i, sp := range p.steps {
		if !gone[i] {
			kept = append(kept, sp)
		}
	}
	p.steps = kept
}

// match returns the steps of pattern pat starting at step i, or nil.
func (p *plan) match(i int, pat pattern, readers, reader []int, gone []bool) []int {
	idx := []int{i}
	for k, typ := range pat.ops {
		sp := &p.steps[idx[k]]
		if sp.def == moveDef || sp.def.Domain != "" || sp.def.Type != typ || sp.fused() {
			return nil
		}
		if k == len(pat.ops)-1 {
			break
		}
		if len(sp.out) != 1 {
			return nil
		}
		sl := sp.out[0]
		j := reader[sl]
		if readers[sl] != 1 || j < 0 || gone[j] {
			return nil
		}
		next := &p.steps[j]
		at := 0
		if pat.at != nil {
			at = pat.at[k]
		}
		if len(next.in) <= at || next.in[at] != sl {
			return nil
		}
		idx = append(idx, j)
	}
	return idx
}

// fused reports whether a step is already a chain.
func (sp *step) fused() bool { return sp.chain != nil }

// fusedStep makes the one step that runs subs.
func fusedStep(subs []step, at []int, fast func(*chain, []*graph.Tensor, []*graph.Tensor) (bool, error)) step {
	c := &chain{fast: fast}
	var in []int
	var types, names []string
	sfv := false
	for k, sp := range subs {
		ss := subStep{step: sp}
		chained := 0
		if k > 0 && at != nil {
			chained = at[k-1]
		}
		for j, sl := range sp.in {
			if k > 0 && j == chained {
				ss.args = append(ss.args, -1)
				continue
			}
			ss.args = append(ss.args, len(in))
			in = append(in, sl)
		}
		c.subs = append(c.subs, ss)
		types = append(types, sp.def.Type)
		names = append(names, sp.name)
		sfv = sfv || sp.def.ShapeFromValues
	}
	def := &graph.OpDef{Type: strings.Join(types, "+"), ShapeFromValues: sfv}
	return step{def: def, kernel: c.run, infer: c.infer, in: in, out: subs[len(subs)-1].out,
		name: strings.Join(names, "+"), chain: c}
}

// metas returns sub-step k's input metas from the fused inputs' and the
// previous step's output.
func (c *chain) metas(k int, in []graph.Meta, prev graph.Meta) []graph.Meta {
	ms := make([]graph.Meta, len(c.subs[k].args))
	for j, a := range c.subs[k].args {
		if a < 0 {
			ms[j] = prev
		} else {
			ms[j] = in[a]
		}
	}
	return ms
}

func (c *chain) infer(in []graph.Meta, _ graph.Attrs) ([]graph.Meta, error) {
	var prev graph.Meta
	for k, ss := range c.subs {
		om, err := ss.infer(c.metas(k, in, prev), ss.attrs)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", ss.name, ss.def.Type, err)
		}
		if k == len(c.subs)-1 {
			return om, nil
		}
		prev = graph.Meta{DType: om[0].DType, Shape: om[0].Shape}
	}
	return nil, nil
}

func (c *chain) run(in []*graph.Tensor, _ graph.Attrs, out []*graph.Tensor) error {
	if c.fast != nil {
		if done, err := c.fast(c, in, out); done || err != nil {
			return err
		}
	}
	return c.slow(in, out)
}

// slow runs the kernels one after the other, the intermediates in
// tensors of their own.
func (c *chain) slow(in []*graph.Tensor, out []*graph.Tensor) error {
	metas := make([]graph.Meta, len(in))
	for j, t := range in {
		if t != nil {
			metas[j] = graph.Meta{DType: t.DType, Shape: t.Shape, Value: t}
		}
	}
	var prev *graph.Tensor
	for k, ss := range c.subs {
		ins := make([]*graph.Tensor, len(ss.args))
		for j, a := range ss.args {
			if a < 0 {
				ins[j] = prev
			} else {
				ins[j] = in[a]
			}
		}
		if k == len(c.subs)-1 {
			return ss.kernel(ins, ss.attrs, out)
		}
		ms := make([]graph.Meta, len(ins))
		for j, t := range ins {
			if t != nil {
				ms[j] = graph.Meta{DType: t.DType, Shape: t.Shape, Value: t}
			}
		}
		om, err := ss.infer(ms, ss.attrs)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", ss.name, ss.def.Type, err)
		}
		o := graph.NewTensor(om[0].DType, om[0].Shape)
		if err := ss.kernel(ins, ss.attrs, []*graph.Tensor{o}); err != nil {
			return fmt.Errorf("%s (%s): %w", ss.name, ss.def.Type, err)
		}
		prev = o
	}
	return nil
}

// gemmRelu runs the product into the output and the Relu in place on it,
// while it is still in cache.
func gemmRelu(c *chain, in []*graph.Tensor, out []*graph.Tensor) (bool, error) {
	g, r := &c.subs[0], &c.subs[1]
	if g.def.Type == "Gemm" { // the clamp in the product's stores
		ok, err := graph.GemmRelu(in, g.attrs, out[0])
		if err != nil {
			return true, fmt.Errorf("%s (%s): %w", g.name, g.def.Type, err)
		}
		if ok {
			return true, nil
		}
	}
	if err := g.kernel(in, g.attrs, out); err != nil {
		return true, fmt.Errorf("%s (%s): %w", g.name, g.def.Type, err)
	}
	if err := r.kernel(out, r.attrs, out); err != nil {
		return true, fmt.Errorf("%s (%s): %w", r.name, r.def.Type, err)
	}
	return true, nil
}

// countCompare is ReduceSum(Cast(cmp(a, b)), axis) over one axis: for every
// output element, the count of the positions along the axis where the
// comparison holds, with a and b broadcast and nothing materialized.
// Covered: float32 or int64 operands of one dtype, one axis, an int64 or
// float32 result.
func countCompare(c *chain, in []*graph.Tensor, out []*graph.Tensor) (bool, error) {
	cmp, red := &c.subs[0], &c.subs[2]
	a, b := in[0], in[1]
	if a.DType != b.DType || a.DType != graph.Float32 && a.DType != graph.Int64 {
		return false, nil
	}
	o := out[0]
	if o.DType != graph.Int64 && o.DType != graph.Float32 {
		return false, nil
	}
	// ReduceSum's inputs: the data (chained) and, when present, the axes.
	if len(red.args) < 2 || red.args[1] < 0 || in[red.args[1]] == nil {
		return false, nil
	}
	axes := in[red.args[1]]
	if axes.DType != graph.Int64 || len(axes.I) != 1 || red.attrs.Int("noop_with_empty_axes") != 0 {
		return false, nil
	}
	shape, err := graph.BroadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return false, nil // the kernels say what is wrong
	}
	R := len(shape)
	ax := int(axes.I[0])
	if ax < 0 {
		ax += R
	}
	if ax < 0 || ax >= R {
		return false, nil
	}
	sa, sb := bstrides(a.Shape, R), bstrides(b.Shape, R)
	// Iterate the output positions (every dimension but ax, in order) with
	// an odometer, counting along ax.
	K, ka, kb := shape[ax], sa[ax], sb[ax]
	var dims, da, db []int
	for i, d := range shape {
		if i != ax {
			dims, da, db = append(dims, d), append(da, sa[i]), append(db, sb[i])
		}
	}
	n := 1
	for _, d := range dims {
		n *= d
	}
	if o.Len() != n {
		return false, nil
	}
	var count func(offA, offB int) int
	switch a.DType {
	case graph.Float32:
		count = countPairs(cmp.def.Type, a.F, b.F, K, ka, kb)
	case graph.Int64:
		count = countPairs(cmp.def.Type, a.I, b.I, K, ka, kb)
	}
	if count == nil {
		return false, nil
	}
	pos := make([]int, len(dims))
	offA, offB := 0, 0
	for e := 0; e < n; e++ {
		c := count(offA, offB)
		if o.DType == graph.Int64 {
			o.I[e] = int64(c)
		} else {
			o.F[e] = float32(c)
		}
		for d := len(dims) - 1; d >= 0; d-- {
			pos[d]++
			offA += da[d]
			offB += db[d]
			if pos[d] < dims[d] {
				break
			}
			offA -= da[d] * dims[d]
			offB -= db[d] * dims[d]
			pos[d] = 0
		}
	}
	return true, nil
}

// bstrides are the row-major strides of shape right-aligned to rank R,
// 0 along the dimensions it is broadcast over (missing or of size 1).
func bstrides(shape []int, R int) []int {
	s := make([]int, R)
	st := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 {
			s[R-len(shape)+i] = st
		}
		st *= shape[i]
	}
	return s
}

// countPairs returns the comparison count of one output element: how many of
// the K pairs a[oa+k*ka] op b[ob+k*kb] hold; nil for an unknown op.
func countPairs[T float32 | int64](op string, a, b []T, K, ka, kb int) func(int, int) int {
	var f func(x, y T) bool
	switch op {
	case "Less":
		f = func(x, y T) bool { return x < y }
	case "LessOrEqual":
		f = func(x, y T) bool { return x <= y }
	case "Greater":
		f = func(x, y T) bool { return x > y }
	case "GreaterOrEqual":
		f = func(x, y T) bool { return x >= y }
	case "Equal":
		f = func(x, y T) bool { return x == y }
	default:
		return nil
	}
	if op == "Less" && kb == 0 {
		// The common case (a row of knots against one value) without the
		// indirect call.
		return func(oa, ob int) int {
			y, c := b[ob], 0
			for k := 0; k < K; k++ {
				if a[oa+k*ka] < y {
					c++
				}
			}
			return c
		}
	}
	return func(oa, ob int) int {
		c := 0
		for k := 0; k < K; k++ {
			if f(a[oa+k*ka], b[ob+k*kb]) {
				c++
			}
		}
		return c
	}
}

// addGather is Gather(data, Add(a, b)) along axis 0: each row index is
// the sum of a and b (broadcast) taken when it is read, as the encoded
// feature ids plus each slot's offset into the embedding table are.
// Covered: int64 a and b, float32 data, axis 0, every index within
// [-rows, rows).
func addGather(c *chain, in []*graph.Tensor, out []*graph.Tensor) (bool, error) {
	ga := &c.subs[1]
	a, b, data, o := in[0], in[1], in[2], out[0]
	if a.DType != graph.Int64 || b.DType != graph.Int64 || data.DType != graph.Float32 || o.DType != graph.Float32 ||
		len(data.Shape) == 0 || ga.attrs.Int("axis") != 0 {
		return false, nil
	}
	shape, err := graph.BroadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return false, nil
	}
	rows, row := data.Shape[0], 1
	for _, d := range data.Shape[1:] {
		row *= d
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if o.Len() != n*row || len(o.Shape) != len(shape)+len(data.Shape)-1 {
		return false, nil
	}
	R := len(shape)
	sa, sb := bstrides(a.Shape, R), bstrides(b.Shape, R)
	pos := make([]int, R)
	oa, ob := 0, 0
	for e := 0; e < n; e++ {
		id := a.I[oa] + b.I[ob]
		if id < 0 {
			id += int64(rows)
		}
		if id < 0 || id >= int64(rows) {
			return false, nil // the kernels report the index
		}
		copy(o.F[e*row:(e+1)*row], data.F[int(id)*row:(int(id)+1)*row])
		for d := R - 1; d >= 0; d-- {
			pos[d]++
			oa += sa[d]
			ob += sb[d]
			if pos[d] < shape[d] {
				break
			}
			oa -= sa[d] * shape[d]
			ob -= sb[d] * shape[d]
			pos[d] = 0
		}
	}
	return true, nil
}
