package graph

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// AttrType is the ONNX attribute type of an op attribute.
type AttrType uint8

const (
	AttrInt AttrType = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrTensor
	AttrStrings // ONNX STRINGS (the ai.onnx.ml tree ensembles' nodes_modes)
)

func (t AttrType) String() string {
	return [...]string{"?", "int", "float", "string", "ints", "floats", "tensor", "strings"}[t]
}

// AttrSpec declares one attribute of an op. Default is nil for a required
// attribute or for an optional one whose absence has its own meaning (the
// op's kernel then checks Attrs.Has).
type AttrSpec struct {
	Name     string
	Type     AttrType
	Default  any
	Required bool
}

// AttrRef is an attribute value inside a function body that refers to an
// attribute of the calling node (ONNX ref_attr_name).
type AttrRef string

// Attrs holds attribute values: int64, float32, string, []int64, []float32,
// *Tensor, []string, or AttrRef inside function bodies.
type Attrs map[string]any

// Has reports whether name is set.
func (a Attrs) Has(name string) bool { _, ok := a[name]; return ok }

// Int returns an int attribute; it panics when absent, because resolved
// attributes always carry the declared default (a missing one is a bug in the op).
func (a Attrs) Int(name string) int64 { return a.must(name).(int64) }

// Float returns a float attribute.
func (a Attrs) Float(name string) float32 { return a.must(name).(float32) }

// String returns a string attribute.
func (a Attrs) String(name string) string { return a.must(name).(string) }

// Ints returns an ints attribute.
func (a Attrs) Ints(name string) []int64 { return a.must(name).([]int64) }

// Floats returns a floats attribute.
func (a Attrs) Floats(name string) []float32 { return a.must(name).([]float32) }

// Tensor returns a tensor attribute.
func (a Attrs) Tensor(name string) *Tensor { return a.must(name).(*Tensor) }

// Strings returns a strings attribute.
func (a Attrs) Strings(name string) []string { return a.must(name).([]string) }

func (a Attrs) must(name string) any {
	v, ok := a[name]
	if !ok {
		panic(fmt.Sprintf("graph: attribute %q not set and has no default", name))
	}
	return v
}

// Names returns the attribute names in sorted order (the export order).
func (a Attrs) Names() []string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Meta is what shape inference knows of a value: its dtype, its shape (a
// dimension of -1 is not known before run time) and, when it is known while
// building (constants and what folds from them), its value.
type Meta struct {
	DType DType
	Shape []int
	Value *Tensor
}

// Static reports whether every dimension is known.
func (m Meta) Static() bool {
	for _, d := range m.Shape {
		if d < 0 {
			return false
		}
	}
	return true
}

func (m Meta) String() string { return fmt.Sprintf("%s%v", m.DType, m.Shape) }

// OpDef is the one definition of an op: its ONNX identity, attribute schema,
// shape inference, forward kernel, gradient and ONNX lowering. The builder,
// the native runtime, autodiff, the exporter and the importer all read it.
type OpDef struct {
	Type   string // ONNX op_type
	Domain string // ONNX domain; "" is the default domain ai.onnx
	// Since is the opset version of Domain whose semantics this definition
	// implements; the exporter declares at least this opset.
	Since int
	// Compat lists other since-versions of the op whose semantics are the
	// same as Since's for odmn's dtypes; the importer accepts those as is.
	Compat []int

	MinInputs, MaxInputs int // MaxInputs -1: variadic
	// Outputs is the number of outputs; -1 lets Infer decide (Split).
	Outputs int
	Attrs   []AttrSpec

	// Infer computes output metas from input metas and resolved attributes.
	// At build time shapes may hold -1 and values may be nil; at run time
	// every shape is concrete and every Value is the input tensor itself.
	Infer func(in []Meta, a Attrs) ([]Meta, error)
	// Kernel computes the outputs, which the caller has allocated with the
	// dtypes and shapes Infer returned. Nil for sources and pure functions.
	Kernel Kernel
	// Grad returns the gradient with respect to each input (nil where none
	// flows) given the gradients of the outputs (nil where none arrives).
	// Nil means the op is not differentiable.
	Grad func(op *Op, gout []*Node) []*Node

	// ExportCheck, when set, refuses a node that the op's declared ONNX
	// version cannot express (a form only a later version has), so the
	// exporter never writes an invalid file.
	ExportCheck func(op *Op) error
	// ExportSince, when set, is the opset a node needs when its form is
	// newer than Since's (Equal on strings: 19); the exporter declares at
	// least that opset. The form must be valid from that version on.
	ExportSince func(op *Op) int
	// ExportType, when set, is the op_type written to ONNX instead of Type
	// (StopGradient exports as Identity).
	ExportType string
	// Internal ops exist for gradients and have no ONNX form.
	Internal bool
	// Function is set for composite ops: calls run the body (or a fused
	// kernel) and autodiff differentiates through the body.
	Function *Function
	// NoFold keeps the op from being evaluated at build time even when its
	// inputs are known.
	NoFold bool
	// Types lists the element types the op's inputs may have (finer,
	// per-input constraints are Infer's); nil means Core (float32, int64,
	// bool). Apply refuses any other with a *DTypeError, so a kernel never
	// sees a dtype it was not written for.
	Types []DType
	// ShapeFromValues marks an op whose output shapes depend on the values
	// of inputs other than small int64 tensors (Range's float or int32
	// bounds, NonZero's data). Runtimes that cache shape inference key the
	// cache on the values of every input of such an op, or re-infer when an
	// input is large; small int64 inputs (shapes, axes, repeats) are always
	// part of the key.
	ShapeFromValues bool
	// AxesInputSince is the opset from which ONNX takes the op's axes
	// attribute as an input instead (13 for Squeeze, Unsqueeze and
	// ReduceSum, 18 for the other Reduce ops). The importer rewrites older
	// nodes' attribute into an input (or the reverse) by it; the exporter
	// writes the input form when the model's opset reaches it (an op of the
	// model may need a newer opset than this one's Since), and a node whose
	// axes are computed at run time needs that opset.
	AxesInputSince int
	// StringInputs marks an op that takes string tensors (LabelEncoder).
	// Apply refuses a string input to any other op, so kernels written for
	// float32, int64 and bool never see one.
	StringInputs bool
}

// ErrLegacyForm is wrapped by ExportCheck errors for forms that exist only
// in opsets older than any odmn writes (Upsample, Resize-10's rounding):
// such nodes import and run but cannot be written again.
var ErrLegacyForm = errors.New("a form only opsets older than odmn's exports have")

// Takes reports whether the op's inputs may have dtype dt.
func (d *OpDef) Takes(dt DType) bool {
	if dt == String {
		return d.StringInputs
	}
	types := d.Types
	if types == nil {
		types = Core
	}
	for _, t := range types {
		if t == dt {
			return true
		}
	}
	return false
}

func (d *OpDef) spec(name string) *AttrSpec {
	for i := range d.Attrs {
		if d.Attrs[i].Name == name {
			return &d.Attrs[i]
		}
	}
	return nil
}

// Resolve checks explicit attributes against the schema and returns them
// with the defaults filled in. Unknown names and wrong types are errors.
func (d *OpDef) Resolve(explicit Attrs) (Attrs, error) {
	r := make(Attrs, len(d.Attrs))
	for _, s := range d.Attrs {
		if s.Default != nil {
			r[s.Name] = s.Default
		}
	}
	for k, v := range explicit {
		s := d.spec(k)
		if s == nil {
			return nil, fmt.Errorf("op %s: attribute %q is not supported", d.Type, k)
		}
		if _, ref := v.(AttrRef); !ref && !attrTypeOK(s.Type, v) {
			return nil, fmt.Errorf("op %s: attribute %q must be %s, got %T", d.Type, k, s.Type, v)
		}
		r[k] = v
	}
	for _, s := range d.Attrs {
		if s.Required && !r.Has(s.Name) {
			return nil, fmt.Errorf("op %s: required attribute %q is missing", d.Type, s.Name)
		}
	}
	return r, nil
}

func attrTypeOK(t AttrType, v any) bool {
	switch v.(type) {
	case int64:
		return t == AttrInt
	case float32:
		return t == AttrFloat
	case string:
		return t == AttrString
	case []int64:
		return t == AttrInts
	case []float32:
		return t == AttrFloats
	case *Tensor:
		return t == AttrTensor
	case []string:
		return t == AttrStrings
	}
	return false
}

var registry = struct {
	sync.RWMutex
	defs map[string]*OpDef
}{defs: map[string]*OpDef{}}

func key(domain, typ string) string {
	if domain == "ai.onnx" {
		domain = ""
	}
	return domain + "::" + typ
}

// Register adds an op definition; it panics on a duplicate (a programming error).
func Register(d *OpDef) *OpDef {
	registry.Lock()
	defer registry.Unlock()
	k := key(d.Domain, d.Type)
	if _, dup := registry.defs[k]; dup {
		panic("graph: op registered twice: " + k)
	}
	if d.Outputs == 0 {
		d.Outputs = 1
	}
	registry.defs[k] = d
	return d
}

// Lookup finds a registered op by domain and type.
func Lookup(domain, typ string) (*OpDef, bool) {
	registry.RLock()
	defer registry.RUnlock()
	d, ok := registry.defs[key(domain, typ)]
	return d, ok
}

// Defs lists every registered op, sorted by domain and type.
func Defs() []*OpDef {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]*OpDef, 0, len(registry.defs))
	for _, d := range registry.defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		return key(out[i].Domain, out[i].Type) < key(out[j].Domain, out[j].Type)
	})
	return out
}

// MustLookup is Lookup for ops known to exist (it panics otherwise).
func MustLookup(domain, typ string) *OpDef {
	d, ok := Lookup(domain, typ)
	if !ok {
		panic("graph: no op " + key(domain, typ))
	}
	return d
}
