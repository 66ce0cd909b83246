package native

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime"
)

// Options tune a native session.
type Options struct {
	// BodiesOnly runs composite ops from their bodies even when a fused
	// kernel is registered (conformance tests compare both ways).
	BodiesOnly bool
	// NoFusion keeps every step of the plan as the graph has it (tests
	// compare runs with and without the plan's fusions).
	NoFusion bool
	// Profile records the time spent in each op's kernels (Session.Profile).
	Profile bool
	// SplitRows says that the graph treats the rows of a batch (dimension
	// 0 of every input and output) independently, as scoring graphs do: a
	// run with Threads > 1 then cuts the batch into chunks of ChunkRows
	// rows that Threads workers run at once, each with single-threaded
	// kernels, and joins the outputs. A run whose inputs or outputs do not
	// share dimension 0 runs whole.
	SplitRows bool
	// ChunkRows is the rows of one chunk of a split run (0:
	// DefaultChunkRows()); a batch of fewer than two chunks runs whole.
	ChunkRows int
	// Threads, when positive, is the number of threads the kernels may use
	// (graph.SetThreads, set at the start of every Run). The setting is
	// process-wide: sessions with different Threads should not run at the
	// same time. Zero leaves graph.Threads as it is (by default every core
	// GOMAXPROCS allows).
	Threads int
	// MaxElements bounds the element count of every tensor a run makes
	// (0: DefaultMaxElements; negative: no limit). A node whose output
	// would be larger, or whose shape overflows, fails before anything is
	// allocated, with an error naming the node and the size.
	MaxElements int
	// MaxBytes bounds the memory a run's buffers hold (0: DefaultMaxBytes;
	// negative: no limit); buffers are kept for the next run, so this is
	// the session's working memory per concurrent run.
	MaxBytes int64
}

// Defaults of Options.MaxElements and Options.MaxBytes: 2^31 elements
// (8 GiB of float32, like export.MaxTensorElements) and 16 GiB.
const (
	DefaultMaxElements       = 1 << 31
	DefaultMaxBytes    int64 = 16 << 30
)

// limits resolves Options.MaxElements and Options.MaxBytes.
func (o Options) limits() (elems int, bytes int64) {
	elems, bytes = o.MaxElements, o.MaxBytes
	switch {
	case elems == 0:
		elems = DefaultMaxElements
	case elems < 0:
		elems = math.MaxInt
	}
	switch {
	case bytes == 0:
		bytes = DefaultMaxBytes
	case bytes < 0:
		bytes = math.MaxInt64
	}
	return elems, bytes
}

// SizeError is a run's refusal to make a tensor beyond Options.MaxElements
// or Options.MaxBytes (or whose shape overflows).
type SizeError struct {
	Node, Op string
	Output   int
	Shape    []int
	Bytes    int64 // the bytes asked for, when the byte budget is what ran out
	Held     int64 // the bytes the run's buffers already held
	Limit    int64 // the limit exceeded (elements, or bytes when Bytes > 0)
}

func (e *SizeError) Error() string {
	if e.Bytes > 0 {
		return fmt.Sprintf("node %q (%s): output %d of shape %v needs %d bytes; with %d bytes held, that exceeds the run's budget of %d bytes (native.Options.MaxBytes)",
			e.Node, e.Op, e.Output, e.Shape, e.Bytes, e.Held, e.Limit)
	}
	return fmt.Sprintf("node %q (%s): output %d of shape %v would hold %.4g elements, more than the limit of %d (native.Options.MaxElements)",
		e.Node, e.Op, e.Output, e.Shape, graph.SizeFloat(e.Shape), e.Limit)
}

// Session executes a graph.Graph in Go. Run is safe for concurrent use:
// each call takes its own run state (buffers and cached shapes) from a
// pool. Within a run, a buffer is handed to a later value once the last
// op reading it is done, and buffers and inferred shapes are kept for the
// next run, so at a fixed batch size a run allocates nothing beyond the
// outputs Run returns (RunWith allocates nothing at all).
type Session struct {
	g       *graph.Graph
	opts    Options
	inputs  []*graph.Node
	outputs []graph.Output
	mu      sync.Mutex
	plans   map[string]*plan
	prof    map[string]*OpTime // with Options.Profile, by op type
}

// OpTime is the kernel time of one op type (Options.Profile).
type OpTime struct {
	Op    string
	Calls int
	Time  time.Duration
}

func (s *Session) addProfile(p *plan, st *state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prof == nil {
		s.prof = map[string]*OpTime{}
	}
	for i, d := range st.prof {
		if p.steps[i].def == moveDef {
			continue
		}
		typ := p.steps[i].def.Type
		t := s.prof[typ]
		if t == nil {
			t = &OpTime{Op: typ}
			s.prof[typ] = t
		}
		t.Calls++
		t.Time += d
		st.prof[i] = 0
	}
}

// Profile returns the kernel time per op type since the last call, most
// time first, and restarts the count (Options.Profile).
func (s *Session) Profile() []OpTime {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []OpTime
	for _, t := range s.prof {
		out = append(out, *t)
	}
	s.prof = nil
	slices.SortFunc(out, func(a, b OpTime) int { return int(b.Time - a.Time) })
	return out
}

var _ runtime.Session = (*Session)(nil)

// New compiles g for execution. The session may keep values derived from
// g's initializers that are not trainable (weights packed for the GEMM,
// embedding tables folded into the layer after them), so those must not
// change while it is in use; trainable initializers (graph.Graph.Param),
// which a trainer updates in place, are read afresh on every run.
func New(g *graph.Graph, opts Options) (*Session, error) {
	s := &Session{g: g, opts: opts, inputs: g.Inputs(), outputs: g.Outputs(), plans: map[string]*plan{}}
	if len(s.outputs) == 0 {
		return nil, fmt.Errorf("native: graph %q has no outputs", g.Name)
	}
	if _, err := s.plan(nil); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Session) InputNames() []string {
	names := make([]string, len(s.inputs))
	for i, n := range s.inputs {
		names[i] = n.Name()
	}
	return names
}

func (s *Session) OutputNames() []string {
	names := make([]string, len(s.outputs))
	for i, o := range s.outputs {
		names[i] = o.Name
	}
	return names
}

func (s *Session) Close() error { return nil }

// step is one kernel call: slots index the run state's values.
type step struct {
	def    *graph.OpDef
	attrs  graph.Attrs
	kernel graph.Kernel
	infer  func([]graph.Meta, graph.Attrs) ([]graph.Meta, error)
	in     []int // -1: absent optional input
	out    []int
	name   string
	chain  *chain // a fused step's program (fuse.go)
	// alias marks an op whose output is its input's data under another
	// shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity): the run
	// makes a view instead of copying.
	alias bool
}

// aliasOps are the standard ops whose output is input 0's data as it is.
var aliasOps = map[string]bool{"Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true, "Identity": true}

type binding struct {
	slot int
	t    *graph.Tensor
	// frozen: nothing changes t between runs (not a trainable
	// initializer, which a trainer updates in place).
	frozen bool
}

type plan struct {
	steps  []step
	nslots int
	inputs []int     // slot of each graph input (-1 if unused)
	consts []binding // initializers and values known at build time
	outs   []int     // slot of each requested output
	names  []string  // requested output names
	// release[i] lists the slots whose buffers are free once step i is
	// done (their last reader, following aliases made by move steps).
	release [][]int
	pool    sync.Pool // *state
	profile bool
	// limits on what a run may allocate (Options.MaxElements, MaxBytes)
	maxElems int
	maxBytes int64
}

// state is one run's working memory, kept across runs.
type state struct {
	vals  []*graph.Tensor // current tensor of each slot
	own   []int32         // buffer index held by each slot (-1: none)
	bufs  []*graph.Tensor // buffers owned by the state
	busy  []bool          // bufs[i] holds a live value in this run
	hint  [][]int32       // per step and output: the buffer used last run
	cache []inferCache    // per step: the last inference and its key
	metas []graph.Meta
	ins   []*graph.Tensor
	outs  []*graph.Tensor
	key   []int64
	res   []*graph.Tensor
	prof  []time.Duration // per step, with Options.Profile
	held  int64           // bytes the buffers hold
	views []graph.Tensor  // per step: the output view of an alias step
}

// inferCache remembers a step's output metas for one input signature
// (see state.infer).
type inferCache struct {
	key  []int64
	outs []graph.Meta
	ok   bool
}

const valueKeyLimit = 64

func (s *Session) plan(names []string) (*plan, error) {
	k := strings.Join(names, "\x00")
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.plans[k]; ok {
		return p, nil
	}
	var targets []graph.Output
	if len(names) == 0 {
		targets = s.outputs
	} else {
		for _, name := range names {
			found := false
			for _, o := range s.outputs {
				if o.Name == name {
					targets = append(targets, o)
					found = true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("native: no output named %q (outputs: %s)", name, strings.Join(s.OutputNames(), ", "))
			}
		}
	}
	p, err := compile(s.g, targets, s.opts)
	if err != nil {
		return nil, err
	}
	p.profile = s.opts.Profile
	p.maxElems, p.maxBytes = s.opts.limits()
	s.plans[k] = p
	return p, nil
}

// folded reports whether building computed every output of op (the
// values are bound as constants; a multi-output op is folded whole or not
// at all).
func folded(op *graph.Op) bool {
	for _, o := range op.Outputs {
		if o.Value() == nil {
			return false
		}
	}
	return true
}

// compile orders the ops needed for targets, binds sources and folded
// values, and inlines composite ops that have no fused kernel.
func compile(g *graph.Graph, targets []graph.Output, opts Options) (*plan, error) {
	p := &plan{}
	slot := map[*graph.Node]int{}
	need := map[*graph.Node]bool{}
	var mark func(n *graph.Node)
	mark = func(n *graph.Node) {
		if n == nil || need[n] {
			return
		}
		need[n] = true
		if folded(n.Op()) || n.Op().Def.Kernel == nil && n.Op().Def.Function == nil {
			return
		}
		for _, in := range n.Op().Inputs {
			mark(in)
		}
	}
	for _, t := range targets {
		mark(t.Node)
	}
	newSlot := func() int { p.nslots++; return p.nslots - 1 }
	get := func(n *graph.Node) int {
		if sl, ok := slot[n]; ok {
			return sl
		}
		sl := newSlot()
		slot[n] = sl
		return sl
	}
	p.inputs = make([]int, len(g.Inputs()))
	for i, in := range g.Inputs() {
		p.inputs[i] = -1
		if need[in] {
			p.inputs[i] = get(in)
		}
	}
	for _, op := range g.Ops() {
		needed := false
		for _, o := range op.Outputs {
			needed = needed || need[o]
		}
		if !needed {
			continue
		}
		o0 := op.Outputs[0]
		switch {
		case o0.IsInput():
			continue
		case o0.IsInitializer():
			p.consts = append(p.consts, binding{get(o0), o0.Tensor(), !o0.Trainable()})
			continue
		case folded(op):
			for _, o := range op.Outputs {
				if need[o] {
					p.consts = append(p.consts, binding{get(o), o.Value(), true})
				}
			}
			continue
		}
		in := make([]int, len(op.Inputs))
		for i, x := range op.Inputs {
			in[i] = -1
			if x != nil {
				in[i] = get(x)
			}
		}
		out := make([]int, len(op.Outputs))
		for i, o := range op.Outputs {
			out[i] = get(o)
		}
		if err := p.add(op.Def, op.Resolved, op.Attrs, in, out, opName(op), opts); err != nil {
			return nil, err
		}
	}
	for _, t := range targets {
		p.outs = append(p.outs, get(t.Node))
		p.names = append(p.names, t.Name)
	}
	if !opts.NoFusion {
		p.fuse()
		p.prepack()
	}
	p.liveness()
	return p, nil
}

// liveness fills p.release: a slot's buffer is released after the last
// step that reads the slot or any slot that aliases it through move
// steps, unless it is a requested output.
func (p *plan) liveness() {
	root := make([]int, p.nslots)
	for i := range root {
		root[i] = i
	}
	last := make([]int, p.nslots)
	for i := range last {
		last[i] = -1
	}
	for i, sp := range p.steps {
		if sp.def == moveDef || sp.alias {
			root[sp.out[0]] = root[sp.in[0]]
		}
		for _, sl := range sp.in {
			if sl >= 0 {
				last[root[sl]] = i
			}
		}
	}
	keep := make([]bool, p.nslots)
	for _, sl := range p.outs {
		keep[root[sl]] = true
	}
	p.release = make([][]int, len(p.steps))
	for i, sp := range p.steps {
		if sp.def == moveDef || sp.alias {
			continue
		}
		for _, sl := range sp.out {
			// a value never read is released right after its step
			at := max(last[sl], i)
			if !keep[sl] {
				p.release[at] = append(p.release[at], sl)
			}
		}
	}
}

func opName(op *graph.Op) string {
	if op.Name != "" {
		return op.Name
	}
	if n := op.Outputs[0].Name(); n != "" {
		return n
	}
	return fmt.Sprintf("%s#%d", op.Def.Type, op.Outputs[0].ID())
}

// add appends the steps for one op; a composite op without a fused kernel
// becomes the steps of its body, each body value getting its own slot.
func (p *plan) add(def *graph.OpDef, resolved, explicit graph.Attrs, in, out []int, name string, opts Options) error {
	if f := def.Function; f != nil {
		if k, ok := graph.FusedKernel(f); ok && !opts.BodiesOnly {
			p.steps = append(p.steps, step{def: def, attrs: resolved, kernel: k, infer: def.Infer, in: in, out: out, name: name})
			return nil
		}
		body := f.Body
		local := map[*graph.Node]int{}
		for i, bi := range body.Inputs() {
			local[bi] = in[i]
		}
		for _, op := range body.Ops() {
			if op.Outputs[0].IsInput() {
				continue
			}
			attrs, err := graph.SubstituteRefs(op.Def, op.Attrs, resolved)
			if err != nil {
				return fmt.Errorf("node %q (%s.%s): %w", name, f.Domain, f.Name, err)
			}
			bin := make([]int, len(op.Inputs))
			for i, x := range op.Inputs {
				bin[i] = -1
				if x != nil {
					bin[i] = local[x]
				}
			}
			bout := make([]int, len(op.Outputs))
			for i, o := range op.Outputs {
				p.nslots++
				bout[i] = p.nslots - 1
				local[o] = bout[i]
			}
			if err := p.add(op.Def, attrs, nil, bin, bout, name+"/"+opName(op), opts); err != nil {
				return err
			}
		}
		// Route body outputs to the caller's slots with copies-free aliasing:
		// an Identity-like move step.
		for i, o := range body.Outputs() {
			p.steps = append(p.steps, step{def: moveDef, in: []int{local[o.Node]}, out: []int{out[i]}, name: name + "/output"})
		}
		return nil
	}
	if def.Kernel == nil {
		return fmt.Errorf("node %q: op %s has no kernel", name, def.Type)
	}
	alias := !opts.NoFusion && def.Domain == "" && aliasOps[def.Type] && len(out) == 1 && len(in) > 0 && in[0] >= 0
	p.steps = append(p.steps, step{def: def, attrs: resolved, kernel: def.Kernel, infer: def.Infer, in: in, out: out, name: name, alias: alias})
	return nil
}

// moveDef marks a step that makes a slot refer to another slot's tensor.
var moveDef = &graph.OpDef{Type: "move"}

// Run evaluates the requested outputs (all when names is empty). The
// returned tensors belong to the caller.
func (s *Session) Run(inputs map[string]*graph.Tensor, names ...string) (map[string]*graph.Tensor, error) {
	var res map[string]*graph.Tensor
	err := s.runWith(inputs, names, func(outs []*graph.Tensor, fresh bool) error {
		res = make(map[string]*graph.Tensor, len(outs))
		for i, t := range outs {
			if !fresh {
				t = t.Clone()
			}
			res[s.outName(names, i)] = t
		}
		return nil
	})
	return res, err
}

func (s *Session) outName(names []string, i int) string {
	if len(names) == 0 {
		return s.outputs[i].Name
	}
	return names[i]
}

// RunWith evaluates the requested outputs (all when names is empty) and
// calls fn with them, in the order asked for. The tensors belong to the
// session and are valid only until fn returns: fn copies what it keeps.
// In steady state (same input shapes as an earlier run) it allocates
// nothing.
func (s *Session) RunWith(inputs map[string]*graph.Tensor, names []string, fn func(outs []*graph.Tensor) error) error {
	return s.runWith(inputs, names, func(outs []*graph.Tensor, _ bool) error { return fn(outs) })
}

// runWith is RunWith telling fn whether the outputs are fresh tensors (a
// split run's joined rows), which the caller may keep as they are.
func (s *Session) runWith(inputs map[string]*graph.Tensor, names []string, fn func(outs []*graph.Tensor, fresh bool) error) error {
	p, err := s.plan(names)
	if err != nil {
		return err
	}
	if s.opts.Threads > 0 && graph.Threads() != s.opts.Threads {
		graph.SetThreads(s.opts.Threads)
	}
	if s.opts.SplitRows && graph.Threads() > 1 {
		if done, err := s.runSplit(p, inputs, fn); done {
			return err
		}
	}
	st, _ := p.pool.Get().(*state)
	if st == nil {
		st = p.newState()
	}
	defer p.pool.Put(st)
	defer st.reset()
	if err := s.bind(p, st, inputs); err != nil {
		return err
	}
	err = p.exec(st)
	if p.profile {
		s.addProfile(p, st)
	}
	if err != nil {
		return err
	}
	st.res = st.res[:0]
	for _, sl := range p.outs {
		st.res = append(st.res, st.vals[sl])
	}
	return fn(st.res, false)
}

// DefaultChunkRows is the default Options.ChunkRows: with odmn's AVX-512
// GEMM, which reads op(A) in place, 256 rows, so that a chunk's widest
// activations (256 x 336 float32, 344 KB in odmn's model) stay in one
// core's own cache instead of two cores streaming theirs through the
// shared cache at once; with OpenBLAS or gonum, which pack their operands
// and pay per call, 1024 (BenchmarkScoreChunkRows in internal/bench
// compares the two).
func DefaultChunkRows() int {
	if graph.SgemmImpl == "avx512" {
		return 256
	}
	return 1024
}

// runSplit runs the batch in row chunks on graph.Threads() workers at once
// (SplitRows), the caller being one of them; workers take the next chunk
// when they finish one, so a core slowed by other work (a shared machine,
// the runtime's own threads) does fewer rows instead of holding the others
// up. Each chunk's outputs are copied straight into the joined tensors.
// done is false when the batch cannot be split (too small, inputs without
// a common dimension 0, outputs not per row): the caller runs it whole.
func (s *Session) runSplit(p *plan, inputs map[string]*graph.Tensor, fn func([]*graph.Tensor, bool) error) (done bool, err error) {
	n := -1
	for _, t := range inputs {
		if t == nil || len(t.Shape) == 0 || n >= 0 && t.Shape[0] != n {
			return false, nil
		}
		n = t.Shape[0]
	}
	rows := s.opts.ChunkRows
	if rows <= 0 {
		rows = DefaultChunkRows()
	}
	nchunks := n / rows
	workers := min(graph.Threads(), nchunks)
	if workers < 2 {
		return false, nil
	}
	chunk := (n + nchunks - 1) / nchunks
	nchunks = (n + chunk - 1) / chunk
	prev := graph.SetThreads(1)
	defer graph.SetThreads(prev)

	var (
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		joined   []*graph.Tensor // made by the first chunk to finish
		notRows  bool
		errChunk = nchunks // the lowest failed chunk of those run
		firstErr error
	)
	fail := func(c int, e error) {
		mu.Lock()
		if c < errChunk {
			errChunk, firstErr = c, e
		}
		mu.Unlock()
		stop.Store(true)
	}
	work := func() {
		st, _ := p.pool.Get().(*state)
		if st == nil {
			st = p.newState()
		}
		defer p.pool.Put(st)
		// The chunk's views of the inputs, made once per worker.
		sub := make(map[string]*graph.Tensor, len(inputs))
		views := make([]graph.Tensor, len(inputs))
		k := 0
		for name, t := range inputs {
			views[k] = graph.Tensor{DType: t.DType, Shape: slices.Clone(t.Shape)}
			sub[name] = &views[k]
			k++
		}
		for !stop.Load() {
			c := int(next.Add(1)) - 1
			if c >= nchunks {
				return
			}
			lo, hi := c*chunk, min(n, (c+1)*chunk)
			for name, t := range inputs {
				rowsInto(sub[name], t, lo, hi)
			}
			err := s.bind(p, st, sub)
			if err == nil {
				err = p.exec(st)
			}
			if p.profile {
				s.addProfile(p, st)
			}
			if err != nil {
				st.reset()
				fail(c, err)
				return
			}
			ok := s.joinChunk(p, st, &mu, &joined, n, lo, hi)
			st.reset()
			if !ok {
				mu.Lock()
				notRows = true
				mu.Unlock()
				stop.Store(true)
				return
			}
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	if firstErr != nil {
		return true, firstErr
	}
	if notRows {
		return false, nil // not per row: run it whole
	}
	return true, fn(joined, true)
}

// joinChunk copies rows [lo, hi) of the outputs in st into the joined
// tensors of n rows, making them on the first call; it reports false when
// an output is not per row (dimension 0 is not the chunk's rows, or the
// other dimensions differ between chunks).
func (s *Session) joinChunk(p *plan, st *state, mu *sync.Mutex, joined *[]*graph.Tensor, n, lo, hi int) bool {
	outs := make([]*graph.Tensor, len(p.outs))
	for i, sl := range p.outs {
		t := st.vals[sl]
		if t == nil || len(t.Shape) == 0 || t.Shape[0] != hi-lo || !rowCopyable(t.DType) {
			return false
		}
		outs[i] = t
	}
	mu.Lock()
	if *joined == nil {
		js := make([]*graph.Tensor, len(outs))
		for i, t := range outs {
			js[i] = graph.NewTensor(t.DType, append([]int{n}, t.Shape[1:]...))
		}
		*joined = js
	}
	js := *joined
	mu.Unlock()
	for i, t := range outs {
		j := js[i]
		if j.DType != t.DType || !slices.Equal(j.Shape[1:], t.Shape[1:]) {
			return false
		}
		row := t.Len() / (hi - lo)
		a, b := lo*row, hi*row
		switch t.DType {
		case graph.Float32:
			copy(j.F[a:b], t.F)
		case graph.Int64:
			copy(j.I[a:b], t.I)
		case graph.Bool:
			copy(j.B[a:b], t.B)
		default:
			copy(j.S[a:b], t.S)
		}
	}
	return true
}

// rowCopyable: dtypes whose joined tensors joinChunk fills in place.
func rowCopyable(dt graph.DType) bool {
	return dt == graph.Float32 || dt == graph.Int64 || dt == graph.Bool || dt == graph.String
}

// rowsInto makes v a view of rows [lo, hi) of t (v's shape has t's rank).
func rowsInto(v, t *graph.Tensor, lo, hi int) {
	row := 1
	for _, d := range t.Shape[1:] {
		row *= d
	}
	e := t.Elems(lo*row, hi*row)
	v.F, v.I, v.B, v.S, v.X = e.F, e.I, e.B, e.S, e.X
	v.Shape[0] = hi - lo
}

func (p *plan) newState() *state {
	st := &state{vals: make([]*graph.Tensor, p.nslots), own: make([]int32, p.nslots),
		hint: make([][]int32, len(p.steps)), cache: make([]inferCache, len(p.steps)), views: make([]graph.Tensor, len(p.steps))}
	if p.profile {
		st.prof = make([]time.Duration, len(p.steps))
	}
	for i := range st.own {
		st.own[i] = -1
	}
	for i, sp := range p.steps {
		st.hint[i] = make([]int32, len(sp.out))
		for j := range st.hint[i] {
			st.hint[i][j] = -1
		}
	}
	return st
}

// reset drops references to caller tensors and frees every buffer.
func (st *state) reset() {
	for i := range st.vals {
		st.vals[i] = nil
		st.own[i] = -1
	}
	for i := range st.busy {
		st.busy[i] = false
	}
	for i := range st.res {
		st.res[i] = nil
	}
	for i := range st.ins {
		st.ins[i] = nil
	}
	for i := range st.metas {
		st.metas[i] = graph.Meta{}
	}
	for i := range st.views {
		v := &st.views[i]
		v.F, v.I, v.B, v.S = nil, nil, nil, nil
	}
}

func (s *Session) bind(p *plan, st *state, inputs map[string]*graph.Tensor) error {
	for name := range inputs {
		known := false
		for _, in := range s.inputs {
			known = known || in.Name() == name
		}
		if !known {
			return fmt.Errorf("native: unknown input %q (inputs: %s)", name, strings.Join(s.InputNames(), ", "))
		}
	}
	for i, in := range s.inputs {
		if p.inputs[i] < 0 {
			continue
		}
		t, ok := inputs[in.Name()]
		if !ok || t == nil {
			return fmt.Errorf("native: missing input %q", in.Name())
		}
		if err := CheckInput(in, t); err != nil {
			return err
		}
		if n, ok := graph.SizeWithin(t.Shape, p.maxElems); !ok || n != t.Len() {
			return fmt.Errorf("native: input %q has shape %v (%.4g elements), more than the limit of %d (native.Options.MaxElements)", in.Name(), t.Shape, graph.SizeFloat(t.Shape), p.maxElems)
		}
		st.vals[p.inputs[i]] = t
	}
	for _, c := range p.consts {
		st.vals[c.slot] = c.t
	}
	return nil
}

// CheckInput verifies a tensor against a declared graph input.
func CheckInput(in *graph.Node, t *graph.Tensor) error {
	if t.DType != in.DType() {
		return fmt.Errorf("native: input %q is %s, want %s", in.Name(), t.DType, in.DType())
	}
	want := in.Shape()
	if len(t.Shape) != len(want) {
		return fmt.Errorf("native: input %q has shape %v, want rank %d %v", in.Name(), t.Shape, len(want), want)
	}
	for i, d := range want {
		if d >= 0 && t.Shape[i] != d {
			return fmt.Errorf("native: input %q has shape %v, want %v (dimension %d)", in.Name(), t.Shape, want, i)
		}
	}
	if n, ok := graph.SizeWithin(t.Shape, math.MaxInt); !ok || t.Len() != n {
		return fmt.Errorf("native: input %q holds %d values for shape %v", in.Name(), t.Len(), t.Shape)
	}
	return nil
}

func (p *plan) exec(st *state) error {
	for i := range p.steps {
		sp := &p.steps[i]
		if sp.def == moveDef {
			st.vals[sp.out[0]] = st.vals[sp.in[0]]
			continue
		}
		st.metas = st.metas[:0]
		st.ins = st.ins[:0]
		for _, sl := range sp.in {
			if sl < 0 {
				st.metas = append(st.metas, graph.Meta{})
				st.ins = append(st.ins, nil)
				continue
			}
			t := st.vals[sl]
			st.metas = append(st.metas, graph.Meta{DType: t.DType, Shape: t.Shape, Value: t})
			st.ins = append(st.ins, t)
		}
		om, err := st.infer(i, sp)
		if err != nil {
			return fmt.Errorf("node %q (%s): %w", sp.name, sp.def.Type, err)
		}
		if sp.alias {
			if v := st.view(i, st.ins[0], om[0], p.maxElems); v != nil {
				st.vals[sp.out[0]] = v
				for _, sl := range p.release[i] {
					st.release(sl)
				}
				continue
			}
		}
		st.outs = st.outs[:0]
		for j, sl := range sp.out {
			for _, d := range om[j].Shape {
				if d < 0 {
					return fmt.Errorf("node %q (%s): output %d shape %v not concrete at run time", sp.name, sp.def.Type, j, om[j].Shape)
				}
			}
			n, ok := graph.SizeWithin(om[j].Shape, p.maxElems)
			if !ok {
				return &SizeError{Node: sp.name, Op: sp.def.Type, Output: j, Shape: om[j].Shape, Limit: int64(p.maxElems)}
			}
			dt := om[j].DType
			b := st.take(i, j, sl, dt, n)
			if b.Cap(dt) < n {
				need := int64(n) * int64(dt.ElemSize())
				if st.held+need > p.maxBytes {
					st.release(sl)
					return &SizeError{Node: sp.name, Op: sp.def.Type, Output: j, Shape: om[j].Shape, Bytes: need, Held: st.held, Limit: p.maxBytes}
				}
			}
			before := b.Bytes()
			b.Reset(dt, om[j].Shape)
			st.held += b.Bytes() - before
			st.vals[sl] = b
			st.outs = append(st.outs, b)
		}
		var t0 time.Time
		if p.profile {
			t0 = time.Now()
		}
		if err := sp.kernel(st.ins, sp.attrs, st.outs); err != nil {
			return fmt.Errorf("node %q (%s): %w", sp.name, sp.def.Type, err)
		}
		if p.profile {
			st.prof[i] += time.Since(t0)
		}
		for _, sl := range p.release[i] {
			st.release(sl)
		}
	}
	return nil
}

// infer returns step i's output metas, from the cache when the inputs'
// signature is the one seen last time. The signature is the inputs'
// dtypes and shapes, the values of int64 inputs of at most valueKeyLimit
// elements (the shapes, axes and repeats that shape inference reads) and,
// for an op marked graph.OpDef.ShapeFromValues, the values of every input
// (no caching when one is larger than valueKeyLimit or holds strings).
func (st *state) infer(i int, sp *step) ([]graph.Meta, error) {
	st.key = st.key[:0]
	cacheable := true
	for _, m := range st.metas {
		st.key = append(st.key, int64(m.DType), int64(len(m.Shape)))
		for _, d := range m.Shape {
			st.key = append(st.key, int64(d))
		}
		v := m.Value
		switch {
		case v == nil:
		case v.DType == graph.Int64 && v.Len() <= valueKeyLimit:
			st.key = append(st.key, v.I...)
		case sp.def.ShapeFromValues:
			n := v.Len()
			if n > valueKeyLimit || v.DType == graph.String {
				cacheable = false
				break
			}
			for j := 0; j < n; j++ {
				if v.DType.IsFloat() {
					st.key = append(st.key, int64(math.Float64bits(v.Float(j))))
				} else {
					st.key = append(st.key, v.Int(j))
				}
			}
		}
	}
	if !cacheable {
		return sp.infer(st.metas, sp.attrs)
	}
	c := &st.cache[i]
	if c.ok && slices.Equal(c.key, st.key) {
		return c.outs, nil
	}
	om, err := sp.infer(st.metas, sp.attrs)
	if err != nil {
		c.ok = false
		return nil, err
	}
	c.key = append(c.key[:0], st.key...)
	c.outs = c.outs[:0]
	for _, m := range om {
		// keep shapes only: a Value would pin a run's input
		c.outs = append(c.outs, graph.Meta{DType: m.DType, Shape: append([]int(nil), m.Shape...)})
	}
	c.ok = true
	return c.outs, nil
}

// view makes step i's output x's data under the shape m says (nil when
// x's dtype has no plain slice, or the shape is beyond the limit or holds
// another count: the copy path then runs, and refuses what it must).
func (st *state) view(i int, x *graph.Tensor, m graph.Meta, limit int) *graph.Tensor {
	if x == nil || m.DType != x.DType {
		return nil
	}
	for _, d := range m.Shape {
		if d < 0 {
			return nil
		}
	}
	if n, ok := graph.SizeWithin(m.Shape, limit); !ok || n != x.Len() {
		return nil // the copy path reports what is wrong
	}
	v := &st.views[i]
	v.DType = x.DType
	v.Shape = append(v.Shape[:0], m.Shape...)
	switch x.DType {
	case graph.Float32:
		v.F = x.F
	case graph.Int64:
		v.I = x.I
	case graph.Bool:
		v.B = x.B
	case graph.String:
		v.S = x.S
	default:
		return nil
	}
	return v
}

// release frees the buffer slot sl holds, if any.
func (st *state) release(sl int) {
	if b := st.own[sl]; b >= 0 {
		st.busy[b] = false
		st.own[sl] = -1
	}
}

// take hands slot sl (output j of step i) a free buffer able to hold n
// elements of dt: the one it had last run when that fits, else the
// smallest free one that fits, else a new one.
func (st *state) take(i, j, sl int, dt graph.DType, n int) *graph.Tensor {
	fits := func(b int32) bool { return st.bufs[b].Cap(dt) >= n }
	capOf := func(b int32) int64 { return st.bufs[b].Bytes() }
	b := st.hint[i][j]
	if b < 0 || st.busy[b] || !fits(b) {
		b = -1
		for k := range st.bufs {
			kb := int32(k)
			if !st.busy[k] && fits(kb) && (b < 0 || capOf(kb) < capOf(b)) {
				b = kb
			}
		}
		if b < 0 {
			b = int32(len(st.bufs))
			st.bufs = append(st.bufs, &graph.Tensor{})
			st.busy = append(st.busy, false)
		}
		st.hint[i][j] = b
	}
	st.busy[b] = true
	st.own[sl] = b
	return st.bufs[b]
}
