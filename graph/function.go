package graph

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
)

// Function is a composite op: a named subgraph in a custom domain. It
// exports as an ONNX model-local FunctionProto plus calling nodes, so any
// ONNX runtime runs it from its body; the native runtime runs either the
// body or a fused Go kernel registered for (Domain, Name).
type Function struct {
	Domain string
	Name   string
	Attrs  []AttrSpec // attributes every calling node must supply (IR 8 has no defaults)
	Body   *Graph     // its Inputs and Outputs are the formal parameters
	def    *OpDef

	fpOnce sync.Once
	fp     [sha256.Size]byte // fingerprint of the body, see SameBody
}

// Def is the op definition that calling nodes use.
func (f *Function) Def() *OpDef { return f.def }

// DefineFunction builds a function: build declares the body's inputs
// (Body.Input, -1 for dimensions fixed by the caller), builds it, and sets
// its outputs. Body ops may take attribute values AttrRef("name") from the
// caller. Initializers are not allowed in a body (ONNX functions have none):
// use Constant.
func DefineFunction(domain, name string, attrs []AttrSpec, build func(body *Graph) error) (*Function, error) {
	f := &Function{Domain: domain, Name: name, Body: New(name)}
	for _, a := range attrs {
		a.Required, a.Default = true, nil
		f.Attrs = append(f.Attrs, a)
	}
	if err := Catch(func() {
		if err := build(f.Body); err != nil {
			panic(&BuildError{err})
		}
	}); err != nil {
		return nil, fmt.Errorf("function %s.%s: %w", domain, name, err)
	}
	if len(f.Body.inits) > 0 {
		return nil, fmt.Errorf("function %s.%s: body has initializer %q; use a Constant", domain, name, f.Body.inits[0].name)
	}
	if len(f.Body.outputs) == 0 {
		return nil, fmt.Errorf("function %s.%s: no outputs", domain, name)
	}
	n := len(f.Body.inputs)
	f.def = &OpDef{
		Type: name, Domain: domain, Since: 1,
		MinInputs: n, MaxInputs: n, Outputs: len(f.Body.outputs),
		Attrs:    f.Attrs,
		Function: f,
		NoFold:   true,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			return f.Instantiate(in, a, nil)
		},
	}
	return f, nil
}

// Call applies the function to inputs with the given attributes.
func (f *Function) Call(attrs Attrs, inputs ...*Node) []*Node {
	return MustApply(f.def, attrs, inputs...)
}

// Visit is called by Instantiate for every body op with its attributes
// resolved against the caller's, and the metas flowing in and out.
type Visit func(op *Op, attrs Attrs, in, out []Meta) error

// Instantiate infers the body for concrete caller inputs and attributes,
// calling visit (if not nil) for each body op in order. It returns the
// output metas. Runtimes use it to inline the body.
func (f *Function) Instantiate(in []Meta, callAttrs Attrs, visit Visit) ([]Meta, error) {
	body := f.Body
	if len(in) != len(body.inputs) {
		return nil, fmt.Errorf("function %s: %d inputs, want %d", f.Name, len(in), len(body.inputs))
	}
	metas := make(map[*Node]Meta, len(body.nodes))
	for i, n := range body.inputs {
		want := n.meta
		if in[i].DType != want.DType {
			return nil, fmt.Errorf("function %s: input %q is %s, want %s", f.Name, n.name, in[i].DType, want.DType)
		}
		metas[n] = in[i]
	}
	for _, op := range body.ops {
		if op.Def == inputDef {
			continue
		}
		attrs, err := SubstituteRefs(op.Def, op.Attrs, callAttrs)
		if err != nil {
			return nil, fmt.Errorf("function %s: node %s: %w", f.Name, op.Name, err)
		}
		im := make([]Meta, len(op.Inputs))
		for i, x := range op.Inputs {
			if x != nil {
				im[i] = metas[x]
			}
		}
		om, err := op.Def.Infer(im, attrs)
		if err != nil {
			return nil, fmt.Errorf("function %s: node %s (%s): %w", f.Name, op.Name, op.Def.Type, err)
		}
		Fold(op.Def, im, attrs, om)
		for i, o := range op.Outputs {
			metas[o] = om[i]
		}
		if visit != nil {
			if err := visit(op, attrs, im, om); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Meta, len(body.outputs))
	for i, o := range body.outputs {
		out[i] = metas[o.Node]
	}
	return out, nil
}

// SubstituteRefs resolves a body op's attributes, replacing AttrRef values
// with the caller's attribute of that name.
func SubstituteRefs(def *OpDef, attrs, callAttrs Attrs) (Attrs, error) {
	explicit := make(Attrs, len(attrs))
	for k, v := range attrs {
		if r, ok := v.(AttrRef); ok {
			cv, ok := callAttrs[string(r)]
			if !ok {
				return nil, fmt.Errorf("attribute %q refers to caller attribute %q, which the calling node does not supply", k, string(r))
			}
			v = cv
		}
		explicit[k] = v
	}
	return def.Resolve(explicit)
}

// Functions returns every function called from g, directly or from other
// function bodies, callees before callers (the order ONNX wants).
func (g *Graph) Functions() []*Function {
	var out []*Function
	seen := map[*Function]bool{}
	var walk func(*Graph)
	walk = func(h *Graph) {
		for _, op := range h.ops {
			if f := op.Def.Function; f != nil && !seen[f] {
				seen[f] = true
				walk(f.Body)
				out = append(out, f)
			}
		}
	}
	walk(g)
	return out
}

// Kernel is the signature of forward kernels.
type Kernel func(in []*Tensor, a Attrs, out []*Tensor) error

type fusedKernel struct {
	f *Function
	k Kernel
}

var fused = struct {
	sync.RWMutex
	m map[string]fusedKernel
}{m: map[string]fusedKernel{}}

// RegisterFused registers a Go kernel that computes function f in one
// step; the native runtime prefers it to the body (and tests compare the
// two). It replaces an earlier registration for f's domain and name.
func RegisterFused(f *Function, k Kernel) {
	fused.Lock()
	defer fused.Unlock()
	fused.m[key(f.Domain, f.Name)] = fusedKernel{f, k}
}

// FusedKernel returns the kernel registered for a function of f's domain
// and name, if f's body is the registered function's (SameBody): a file
// that defines a function of the same name with another body runs that
// body, never a kernel written for a different one.
func FusedKernel(f *Function) (Kernel, bool) {
	fused.RLock()
	r, ok := fused.m[key(f.Domain, f.Name)]
	fused.RUnlock()
	if !ok || !f.SameBody(r.f) {
		return nil, false
	}
	return r.k, true
}

// SameBody reports whether f and o compute the same thing by
// construction: the same attribute specs, input element types, and body
// ops in the same order with the same op definitions, resolved attributes
// (tensors by value, caller references by name) and wiring. Names and
// input shapes do not count, so a body exported to ONNX and imported
// again matches the one it came from.
func (f *Function) SameBody(o *Function) bool {
	if f == o {
		return true
	}
	return f.Domain == o.Domain && f.Name == o.Name && f.fingerprint() == o.fingerprint()
}

func (f *Function) fingerprint() [sha256.Size]byte {
	f.fpOnce.Do(func() {
		h := sha256.New()
		w := func(v ...any) { fmt.Fprintln(h, v...) }
		for _, a := range f.Attrs {
			w("attr", a.Name, a.Type)
		}
		id := map[*Node]int{}
		for i, n := range f.Body.inputs {
			id[n] = i
			w("input", i, n.meta.DType)
		}
		for _, op := range f.Body.ops {
			if op.Def == inputDef {
				continue
			}
			w("op", op.Def.Domain, op.Def.Type, len(op.Inputs), len(op.Outputs))
			if g := op.Def.Function; g != nil {
				w("calls", g.fingerprint())
			}
			attrs, err := op.Def.Resolve(op.Attrs)
			if err != nil {
				attrs = op.Attrs
			}
			keys := make([]string, 0, len(attrs))
			for k := range attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				w("attr", k)
				writeAttr(h, attrs[k])
			}
			for _, x := range op.Inputs {
				j, ok := id[x]
				if !ok {
					j = -1
				}
				w("in", j)
			}
			for _, o := range op.Outputs {
				id[o] = len(id)
			}
		}
		for _, o := range f.Body.outputs {
			w("output", id[o.Node])
		}
		h.Sum(f.fp[:0])
	})
	return f.fp
}

// writeAttr writes an attribute value with its type and exact bits.
func writeAttr(h io.Writer, v any) {
	switch v := v.(type) {
	case float32:
		fmt.Fprintln(h, "f", math.Float32bits(v))
	case []float32:
		fmt.Fprint(h, "fs", len(v))
		for _, x := range v {
			fmt.Fprint(h, " ", math.Float32bits(x))
		}
		fmt.Fprintln(h)
	case *Tensor:
		fmt.Fprintln(h, "t", v.DType, v.Shape)
		switch v.DType {
		case Float32:
			writeAttr(h, v.F)
		case String:
			fmt.Fprintf(h, "%q\n", v.S)
		default:
			n := v.Len()
			for i := 0; i < n; i++ {
				fmt.Fprint(h, " ", math.Float64bits(v.Float(i)), v.Int(i))
			}
			fmt.Fprintln(h)
		}
	case AttrRef:
		fmt.Fprintf(h, "ref %q\n", string(v))
	default:
		fmt.Fprintf(h, "%T %#v\n", v, v)
	}
}
