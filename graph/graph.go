package graph

import (
	"errors"
	"fmt"
)

// Graph is a computation graph. Ops are kept in the order they were added,
// which is a topological order because an op can only use nodes that exist.
type Graph struct {
	Name     string
	Doc      string
	Metadata map[string]string // exported as ONNX metadata_props

	ops     []*Op
	nodes   []*Node
	inputs  []*Node
	inits   []*Node
	outputs []Output
}

// Output is a named graph output.
type Output struct {
	Name string
	Node *Node
}

// Op is one application of an OpDef to input nodes.
type Op struct {
	Def      *OpDef
	Inputs   []*Node // nil entries are absent optional inputs
	Attrs    Attrs   // as given (what the exporter writes)
	Resolved Attrs   // with defaults (what kernels read)
	Outputs  []*Node
	Name     string
}

// Node is one value in a graph: a graph input, an initializer or an output
// of an op. Op builders take and return nodes.
type Node struct {
	g         *Graph
	id        int
	op        *Op
	index     int
	meta      Meta
	name      string
	trainable bool
	init      *Tensor // an initializer's tensor (trainable ones are not in meta.Value)
}

// New returns an empty graph.
func New(name string) *Graph { return &Graph{Name: name, Metadata: map[string]string{}} }

func (n *Node) Graph() *Graph   { return n.g }
func (n *Node) ID() int         { return n.id }
func (n *Node) Op() *Op         { return n.op }
func (n *Node) Index() int      { return n.index }
func (n *Node) Meta() Meta      { return n.meta }
func (n *Node) DType() DType    { return n.meta.DType }
func (n *Node) Shape() []int    { return n.meta.Shape }
func (n *Node) Rank() int       { return len(n.meta.Shape) }
func (n *Node) Value() *Tensor  { return n.meta.Value }
func (n *Node) Name() string    { return n.name }
func (n *Node) Trainable() bool { return n.trainable }

// Tensor returns an initializer's tensor (nil for other nodes).
func (n *Node) Tensor() *Tensor { return n.init }

// SetName names the value (the ONNX value name on export) and returns n.
func (n *Node) SetName(name string) *Node { n.name = name; return n }

// IsInput and IsInitializer tell source nodes apart.
func (n *Node) IsInput() bool       { return n.op.Def == inputDef }
func (n *Node) IsInitializer() bool { return n.op.Def == initDef }

func (n *Node) String() string {
	name := n.name
	if name == "" {
		name = fmt.Sprintf("#%d", n.id)
	}
	return fmt.Sprintf("%s(%s %s)", name, n.op.Def.Type, n.meta)
}

// Ops returns the graph's ops in topological order (sources included).
func (g *Graph) Ops() []*Op { return g.ops }

// Nodes returns every value in creation order.
func (g *Graph) Nodes() []*Node { return g.nodes }

// Inputs returns the graph inputs in declaration order.
func (g *Graph) Inputs() []*Node { return g.inputs }

// Initializers returns the initializers (trainable parameters and fixed
// tensors) in declaration order.
func (g *Graph) Initializers() []*Node { return g.inits }

// Params returns the trainable initializers.
func (g *Graph) Params() []*Node {
	var ps []*Node
	for _, n := range g.inits {
		if n.trainable {
			ps = append(ps, n)
		}
	}
	return ps
}

// Outputs returns the named graph outputs.
func (g *Graph) Outputs() []Output { return g.outputs }

// Source ops: graph inputs and initializers have no kernel; a runtime binds them.
var (
	inputDef = &OpDef{Type: "Input", Domain: "odmn.source", Internal: true, Outputs: 1}
	initDef  = &OpDef{Type: "Initializer", Domain: "odmn.source", Internal: true, Outputs: 1}
)

func (g *Graph) source(def *OpDef, name string, m Meta) *Node {
	op := &Op{Def: def, Name: name}
	n := &Node{g: g, id: len(g.nodes), op: op, meta: m, name: name}
	op.Outputs = []*Node{n}
	g.ops = append(g.ops, op)
	g.nodes = append(g.nodes, n)
	return n
}

// Input declares a graph input. A dimension of -1 is dynamic (the batch).
func (g *Graph) Input(name string, dt DType, shape ...int) *Node {
	if shape == nil {
		shape = []int{}
	}
	n := g.source(inputDef, name, Meta{DType: dt, Shape: append([]int{}, shape...)})
	g.inputs = append(g.inputs, n)
	return n
}

// Param declares a trainable initializer holding t (t is used, not copied:
// training updates it in place, so nothing is ever folded from it).
func (g *Graph) Param(name string, t *Tensor) *Node {
	n := g.Initializer(name, t)
	n.trainable = true
	n.meta.Value = nil
	return n
}

// Initializer declares a fixed named tensor (an ONNX initializer).
func (g *Graph) Initializer(name string, t *Tensor) *Node {
	n := g.source(initDef, name, Meta{DType: t.DType, Shape: append([]int{}, t.Shape...)})
	n.meta.Value = t
	n.init = t
	g.inits = append(g.inits, n)
	return n
}

// SetOutput adds a named graph output.
func (g *Graph) SetOutput(name string, n *Node) {
	if n.g != g {
		panic("graph: output from another graph")
	}
	g.outputs = append(g.outputs, Output{Name: name, Node: n})
}

// foldLimit bounds the size of values computed while building: enough for
// shape arithmetic, small enough never to copy real data.
const foldLimit = 4096

// Apply adds an op to the graph. It checks arity and attributes, infers the
// output metas, and folds the op when every input value is known and small.
// Errors name the op; the importer reports them with the ONNX node name.
func (g *Graph) Apply(def *OpDef, attrs Attrs, inputs ...*Node) ([]*Node, error) {
	if len(inputs) < def.MinInputs || (def.MaxInputs >= 0 && len(inputs) > def.MaxInputs) {
		return nil, fmt.Errorf("op %s: %d inputs, want %s", def.Type, len(inputs), arity(def))
	}
	for i, in := range inputs[:def.MinInputs] {
		if in == nil { // an ONNX input named "" where the op needs a value
			return nil, fmt.Errorf("op %s: input %d is required, got none", def.Type, i)
		}
	}
	for i, in := range inputs {
		if in != nil && in.g != g {
			return nil, fmt.Errorf("op %s: input %d belongs to another graph", def.Type, i)
		}
		if in != nil && in.meta.DType == String && !def.StringInputs {
			return nil, &StringInputError{Op: def.Type, Input: i}
		}
		if in != nil && in.meta.DType != String && in.meta.DType != Invalid && !def.Takes(in.meta.DType) {
			return nil, &DTypeError{Op: def.Type, Input: i, DType: in.meta.DType}
		}
	}
	resolved, err := def.Resolve(attrs)
	if err != nil {
		return nil, err
	}
	metas := make([]Meta, len(inputs))
	for i, in := range inputs {
		if in != nil {
			metas[i] = in.meta
		}
	}
	var outMeta []Meta
	if !hasRef(resolved) {
		outMeta, err = def.Infer(metas, resolved)
		if err != nil {
			return nil, fmt.Errorf("op %s: %w", def.Type, err)
		}
		if def.Outputs >= 0 && len(outMeta) != def.Outputs || len(outMeta) == 0 {
			return nil, fmt.Errorf("op %s: inference gave %d outputs, want %d", def.Type, len(outMeta), def.Outputs)
		}
		Fold(def, metas, resolved, outMeta)
	} else {
		// Inside a function body an attribute may come from the caller, so
		// the outputs are only guessed here; Function.Instantiate infers
		// them for real for each call.
		outMeta = guessWithRefs(def, metas, resolved)
	}
	if attrs == nil {
		attrs = Attrs{}
	}
	op := &Op{Def: def, Inputs: append([]*Node{}, inputs...), Attrs: attrs, Resolved: resolved}
	for i, m := range outMeta {
		n := &Node{g: g, id: len(g.nodes), op: op, index: i, meta: m}
		op.Outputs = append(op.Outputs, n)
		g.nodes = append(g.nodes, n)
	}
	g.ops = append(g.ops, op)
	return op.Outputs, nil
}

// StringInputError is Apply's error for a string tensor given to an op
// that does not take strings (only ops with OpDef.StringInputs do).
type StringInputError struct {
	Op    string
	Input int
}

func (e *StringInputError) Error() string {
	return fmt.Sprintf("op %s: input %d is a string tensor, which it does not take", e.Op, e.Input)
}

// guessWithRefs infers outputs with each referenced attribute replaced by
// its default or, for Constant, by a placeholder of the right kind.
func guessWithRefs(def *OpDef, in []Meta, a Attrs) []Meta {
	sub := Attrs{}
	for k, v := range a {
		if _, ok := v.(AttrRef); !ok {
			sub[k] = v
			continue
		}
		switch k {
		case "value_float":
			sub[k] = float32(0)
		case "value_floats":
			sub[k] = []float32{0}
		case "value_int":
			sub[k] = int64(0)
		case "value_ints":
			sub[k] = []int64{0}
		default:
			if s := def.spec(k); s != nil && s.Default != nil {
				sub[k] = s.Default
			}
		}
	}
	if out, err := def.Infer(in, sub); err == nil && (len(out) == def.Outputs || def.Outputs < 0 && len(out) > 0) {
		for i := range out {
			out[i].Value = nil
			if def == constantDef && len(out[i].Shape) == 1 {
				out[i].Shape = []int{-1}
			}
		}
		return out
	}
	out := make([]Meta, max(def.Outputs, 1))
	for i := range out {
		out[i] = Meta{DType: Float32, Shape: []int{}}
		if len(in) > 0 {
			out[i] = Meta{DType: in[0].DType, Shape: in[0].Shape}
		}
	}
	return out
}

func hasRef(a Attrs) bool {
	for _, v := range a {
		if _, ok := v.(AttrRef); ok {
			return true
		}
	}
	return false
}

func arity(d *OpDef) string {
	if d.MaxInputs < 0 {
		return fmt.Sprintf("at least %d", d.MinInputs)
	}
	if d.MinInputs == d.MaxInputs {
		return fmt.Sprint(d.MinInputs)
	}
	return fmt.Sprintf("%d to %d", d.MinInputs, d.MaxInputs)
}

// Fold evaluates an op at build time when all its inputs are known and
// small, setting the Value of its output metas (what Apply does; shape
// re-inference elsewhere uses it to follow shape arithmetic).
func Fold(def *OpDef, in []Meta, a Attrs, out []Meta) {
	if def.Kernel == nil || def.NoFold {
		return
	}
	ts := make([]*Tensor, len(in))
	total := 0
	for i, m := range in {
		if m.DType == Invalid {
			continue
		}
		if m.Value == nil {
			return
		}
		ts[i] = m.Value
		total += m.Value.Len()
	}
	for _, m := range out {
		n, ok := SizeWithin(m.Shape, foldLimit)
		if !m.Static() || !ok {
			return // unknown or too large (possibly overflowing): leave it to the runtime
		}
		total += n
	}
	if total > foldLimit {
		return
	}
	outs := make([]*Tensor, len(out))
	for i, m := range out {
		outs[i] = NewTensor(m.DType, m.Shape)
	}
	if err := def.Kernel(ts, a, outs); err != nil {
		return // the runtime will report it with context
	}
	for i := range out {
		out[i].Value = outs[i]
	}
}

// BuildError is the panic value of op builders (Add, MatMul, ...), which
// panic on misuse so that model code reads as math. Catch recovers it.
type BuildError struct{ Err error }

func (e *BuildError) Error() string { return e.Err.Error() }
func (e *BuildError) Unwrap() error { return e.Err }

// Catch runs build and turns a builder panic into an error.
func Catch(build func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			be, ok := r.(*BuildError)
			if !ok {
				panic(r)
			}
			err = be.Err
		}
	}()
	build()
	return nil
}

// MustApply is Apply for builders: it panics with a *BuildError.
func MustApply(def *OpDef, attrs Attrs, inputs ...*Node) []*Node {
	var g *Graph
	for _, in := range inputs {
		if in != nil {
			g = in.g
			break
		}
	}
	if g == nil {
		panic(&BuildError{errors.New("op " + def.Type + ": no input to take the graph from")})
	}
	out, err := g.Apply(def, attrs, inputs...)
	if err != nil {
		panic(&BuildError{err})
	}
	return out
}

// Apply1 is MustApply for single-output ops.
func Apply1(def *OpDef, attrs Attrs, inputs ...*Node) *Node {
	return MustApply(def, attrs, inputs...)[0]
}

// Const adds a Constant op holding t to the graph of like... it is the
// builder for ONNX Constant; see Constant for the form taking a graph.
func (g *Graph) Const(t *Tensor) *Node {
	out, err := g.Apply(constantDef, Attrs{"value": t})
	if err != nil {
		panic(&BuildError{err})
	}
	return out[0]
}

// ScalarLike returns a float32 or int64 scalar constant of x's dtype.
func ScalarLike(x *Node, v float64) *Node {
	switch x.DType() {
	case Int64:
		return x.g.Const(ScalarI64(int64(v)))
	default:
		return x.g.Const(ScalarF32(float32(v)))
	}
}
