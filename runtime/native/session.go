package native

import (
	"fmt"
	"strings"
	"sync"

	"odmn/graph"
	"odmn/runtime"
)

// Options tune a native session.
type Options struct {
	// BodiesOnly runs composite ops from their bodies even when a fused
	// kernel is registered (conformance tests compare both ways).
	BodiesOnly bool
}

// Session executes a graph.Graph in pure Go. Run is safe for concurrent
// use: each call takes its own buffer set from a pool, and buffers are
// reused by later runs (no allocation in steady state at a fixed batch size
// beyond the returned outputs).
type Session struct {
	g       *graph.Graph
	opts    Options
	inputs  []*graph.Node
	outputs []graph.Output
	mu      sync.Mutex
	plans   map[string]*plan
}

var _ runtime.Session = (*Session)(nil)

// New compiles g for execution.
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
}

type binding struct {
	slot int
	t    *graph.Tensor
}

type plan struct {
	steps  []step
	nslots int
	inputs []int     // slot of each graph input (-1 if unused)
	consts []binding // initializers and values known at build time
	outs   []int     // slot of each requested output
	names  []string  // requested output names
	pool   sync.Pool // *state
}

type state struct {
	vals  []*graph.Tensor // current tensor of each slot
	bufs  []*graph.Tensor // storage owned by the state, per slot
	metas []graph.Meta
	ins   []*graph.Tensor
	outs  []*graph.Tensor
}

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
	s.plans[k] = p
	return p, nil
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
		if n.Value() != nil || n.Op().Def.Kernel == nil && n.Op().Def.Function == nil {
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
			p.consts = append(p.consts, binding{get(o0), o0.Tensor()})
			continue
		case len(op.Outputs) == 1 && o0.Value() != nil:
			p.consts = append(p.consts, binding{get(o0), o0.Value()})
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
	return p, nil
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
		if k, ok := graph.Fused(f.Domain, f.Name); ok && !opts.BodiesOnly {
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
	p.steps = append(p.steps, step{def: def, attrs: resolved, kernel: def.Kernel, infer: def.Infer, in: in, out: out, name: name})
	return nil
}

// moveDef marks a step that makes a slot refer to another slot's tensor.
var moveDef = &graph.OpDef{Type: "move"}

// Run evaluates the requested outputs (all when names is empty).
func (s *Session) Run(inputs map[string]*graph.Tensor, names ...string) (map[string]*graph.Tensor, error) {
	p, err := s.plan(names)
	if err != nil {
		return nil, err
	}
	st, _ := p.pool.Get().(*state)
	if st == nil {
		st = &state{vals: make([]*graph.Tensor, p.nslots), bufs: make([]*graph.Tensor, p.nslots)}
	}
	defer p.pool.Put(st)
	if err := s.bind(p, st, inputs); err != nil {
		return nil, err
	}
	if err := p.exec(st); err != nil {
		return nil, err
	}
	res := make(map[string]*graph.Tensor, len(p.outs))
	for i, sl := range p.outs {
		res[p.names[i]] = st.vals[sl].Clone()
	}
	for i := range st.vals {
		st.vals[i] = nil // drop references to caller tensors
	}
	return res, nil
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
	if t.Len() != graph.Size(t.Shape) {
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
		om, err := sp.infer(st.metas, sp.attrs)
		if err != nil {
			return fmt.Errorf("node %q (%s): %w", sp.name, sp.def.Type, err)
		}
		st.outs = st.outs[:0]
		for j, sl := range sp.out {
			b := st.bufs[sl]
			if b == nil {
				b = &graph.Tensor{}
				st.bufs[sl] = b
			}
			for _, d := range om[j].Shape {
				if d < 0 {
					return fmt.Errorf("node %q (%s): output %d shape %v not concrete at run time", sp.name, sp.def.Type, j, om[j].Shape)
				}
			}
			b.Reset(om[j].DType, om[j].Shape)
			st.vals[sl] = b
			st.outs = append(st.outs, b)
		}
		if err := sp.kernel(st.ins, sp.attrs, st.outs); err != nil {
			return fmt.Errorf("node %q (%s): %w", sp.name, sp.def.Type, err)
		}
	}
	return nil
}
