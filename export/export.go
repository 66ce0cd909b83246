package export

import (
	"errors"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/onnxpb"
)

// IRVersion is the ONNX IR version odmn writes (onnx 1.12's, IR 8).
const IRVersion = 8

// DefaultOpset is the default-domain (ai.onnx) opset odmn declares, unless
// an op in the model needs a newer one.
const DefaultOpset = 17

// ProducerName is written to ModelProto.producer_name.
const ProducerName = "odmn"

// Options tune the export.
type Options struct {
	// BatchDim is the dim_param written for graph input dimensions of -1
	// (and graph output dimensions that provably equal them). Default "N".
	BatchDim string
	// ProducerVersion is written to ModelProto.producer_version when set.
	ProducerVersion string
}

// Model converts g to an ONNX ModelProto. Only what the graph outputs
// depend on is exported (an inference graph built next to its training ops
// exports cleanly); every graph input is kept.
func Model(g *graph.Graph, opts Options) (*onnxpb.ModelProto, error) {
	if opts.BatchDim == "" {
		opts.BatchDim = "N"
	}
	if len(g.Outputs()) == 0 {
		return nil, fmt.Errorf("export: graph %q has no outputs", g.Name)
	}
	e := &exporter{opts: opts, versions: map[string]int{"": DefaultOpset}, funcAttrs: map[*graph.Function]bool{}}
	main, err := e.scope(g, nil)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	gp := &onnxpb.GraphProto{Name: proto.String(g.Name), Node: main.nodes}
	if g.Name == "" {
		gp.Name = proto.String("odmn") // the checker wants a non-empty graph name
	}

	for _, in := range g.Inputs() {
		gp.Input = append(gp.Input, valueInfo(in.Name(), in.DType(), in.Shape(), func(int) string { return opts.BatchDim }))
	}
	for _, n := range g.Initializers() {
		if !main.needed[n] {
			continue
		}
		tp, err := TensorToProto(n.Name(), n.Tensor())
		if err != nil {
			return nil, fmt.Errorf("export: initializer: %w", err)
		}
		gp.Initializer = append(gp.Initializer, tp)
	}
	batch := batchDims(g, main.order, opts)
	for _, o := range g.Outputs() {
		n := o.Node
		gp.Output = append(gp.Output, valueInfo(o.Name, n.DType(), n.Shape(), func(i int) string {
			if b := batch[n]; b != nil && b[i] {
				return opts.BatchDim
			}
			return ""
		}))
	}

	m := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(IRVersion),
		ProducerName: proto.String(ProducerName),
		Graph:        gp,
	}
	if opts.ProducerVersion != "" {
		m.ProducerVersion = proto.String(opts.ProducerVersion)
	}
	if g.Doc != "" {
		m.DocString = proto.String(g.Doc)
	}
	keys := make([]string, 0, len(g.Metadata))
	for k := range g.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(g.Metadata[k])})
	}

	// Functions: callees before callers, only those the exported ops reach.
	// Their opset imports are set last: a later body may raise a version.
	var bodyDomains []map[string]bool
	for _, f := range g.Functions() {
		if !e.funcAttrs[f] {
			continue
		}
		fp, domains, err := e.function(f)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		m.Functions = append(m.Functions, fp)
		bodyDomains = append(bodyDomains, domains)
	}
	for i, fp := range m.Functions {
		fp.OpsetImport = e.opsets(bodyDomains[i])
	}
	m.OpsetImport = e.opsets(nil)
	// The nodes are written in their ops' Since form; where the model's
	// opset is past the version that moved an axes attribute to an input,
	// that form is no longer valid and is rewritten.
	if err := axesAsInputs(gp, e.versions[""]); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, fp := range m.Functions {
		if err := axesAsInputsFunc(fp, e.versions[""]); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	return m, nil
}

// Marshal exports g and encodes the model (deterministically: the same
// graph always gives the same bytes).
func Marshal(g *graph.Graph, opts Options) ([]byte, error) {
	m, err := Model(g, opts)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("export: marshal: %w", err)
	}
	return b, nil
}

// WriteFile exports g to path atomically: the model is written to a
// temporary file in the same directory, synced, and renamed over path, so a
// reader sees either the old file or the whole new one.
func WriteFile(path string, g *graph.Graph, opts Options) error {
	b, err := Marshal(g, opts)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFile(path, b); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exporter holds what is shared by the main graph and function bodies.
type exporter struct {
	opts      Options
	versions  map[string]int           // opset version per domain in use
	funcAttrs map[*graph.Function]bool // functions reached
}

// opsets lists the opset imports for the given domains (all in use when
// nil), the default domain first, then by name.
func (e *exporter) opsets(domains map[string]bool) []*onnxpb.OperatorSetIdProto {
	var names []string
	for d := range e.versions {
		if d != "" && (domains == nil || domains[d]) {
			names = append(names, d)
		}
	}
	sort.Strings(names)
	if domains == nil || domains[""] {
		names = append([]string{""}, names...)
	}
	out := make([]*onnxpb.OperatorSetIdProto, len(names))
	for i, d := range names {
		out[i] = &onnxpb.OperatorSetIdProto{Domain: proto.String(d), Version: proto.Int64(int64(e.versions[d]))}
	}
	return out
}

// scoped is one exported graph or function body.
type scoped struct {
	nodes   []*onnxpb.NodeProto
	needed  map[*graph.Node]bool
	order   []*graph.Op // the exported ops, in graph order
	names   map[*graph.Node]string
	outputs []string // value name of each graph output
	domains map[string]bool
}

// scope exports the ops of g that its outputs need. fn is the function g
// is the body of (nil for the main graph).
func (e *exporter) scope(g *graph.Graph, fn *graph.Function) (*scoped, error) {
	s := &scoped{needed: map[*graph.Node]bool{}, names: map[*graph.Node]string{}, domains: map[string]bool{}}
	where := fmt.Sprintf("graph %q", g.Name)
	if fn != nil {
		where = fmt.Sprintf("function %s.%s", fn.Domain, fn.Name)
	}

	// What the outputs depend on.
	var mark func(n *graph.Node)
	mark = func(n *graph.Node) {
		if n == nil || s.needed[n] {
			return
		}
		op := n.Op()
		for _, o := range op.Outputs {
			s.needed[o] = true
		}
		for _, in := range op.Inputs {
			mark(in)
		}
	}
	for _, o := range g.Outputs() {
		mark(o.Node)
	}

	// Value names: inputs, initializers and output names are fixed.
	used := map[string]bool{}
	outOf := map[string]*graph.Node{}
	for _, n := range g.Inputs() {
		if err := s.fix(n, used, where, "input"); err != nil {
			return nil, err
		}
	}
	for _, n := range g.Initializers() {
		if !s.needed[n] {
			continue
		}
		if err := s.fix(n, used, where, "initializer"); err != nil {
			return nil, err
		}
	}
	for _, o := range g.Outputs() {
		if o.Name == "" {
			return nil, fmt.Errorf("%s: an output has no name", where)
		}
		if _, dup := outOf[o.Name]; dup {
			return nil, fmt.Errorf("%s: two outputs are named %q", where, o.Name)
		}
		if used[o.Name] && s.names[o.Node] != o.Name {
			return nil, fmt.Errorf("%s: output %q has the name of another input or initializer", where, o.Name)
		}
		outOf[o.Name] = o.Node
		used[o.Name] = true
	}

	// Op output values, in graph order: a node's own name when free, else
	// the name of the first output it is (so no Identity is needed), else a
	// name made from its op type and id.
	for _, op := range g.Ops() {
		if len(op.Outputs) == 0 || !s.needed[op.Outputs[0]] {
			continue
		}
		if op.Outputs[0].IsInput() || op.Outputs[0].IsInitializer() {
			continue
		}
		s.order = append(s.order, op)
		for _, n := range op.Outputs {
			if nm := n.Name(); nm != "" {
				if outOf[nm] == n {
					s.names[n] = nm
					continue
				}
				if !used[nm] {
					used[nm] = true
					s.names[n] = nm
					continue
				}
			} else {
				for _, o := range g.Outputs() {
					if o.Node == n {
						s.names[n] = o.Name
						break
					}
				}
				if s.names[n] != "" {
					continue
				}
			}
			base := n.Name()
			if base == "" {
				base = fmt.Sprintf("%s_%d", exportType(op.Def), n.ID())
			}
			s.names[n] = unique(base, used)
		}
	}

	// Nodes.
	nodeNames := map[string]bool{}
	for _, op := range s.order {
		np, err := e.node(op, s, nodeNames, fn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		s.nodes = append(s.nodes, np)
	}
	// Outputs that are not their value's name go through an Identity.
	for _, o := range g.Outputs() {
		vn := s.names[o.Node]
		s.outputs = append(s.outputs, o.Name)
		if vn == o.Name {
			continue
		}
		nn := unique("Identity_"+o.Name, nodeNames)
		s.nodes = append(s.nodes, &onnxpb.NodeProto{
			Name: proto.String(nn), OpType: proto.String("Identity"), Domain: proto.String(""),
			Input: []string{vn}, Output: []string{o.Name},
		})
		s.domains[""] = true
	}
	return s, nil
}

// fix names a source node with its own (required, unique) name.
func (s *scoped) fix(n *graph.Node, used map[string]bool, where, what string) error {
	nm := n.Name()
	if nm == "" {
		return fmt.Errorf("%s: an %s has no name", where, what)
	}
	if used[nm] {
		return fmt.Errorf("%s: two inputs or initializers are named %q", where, nm)
	}
	used[nm] = true
	s.names[n] = nm
	return nil
}

// unique returns base if unused, else base_1, base_2, ...; it marks the
// result used.
func unique(base string, used map[string]bool) string {
	name := base
	for i := 1; used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	used[name] = true
	return name
}

func exportType(d *graph.OpDef) string {
	if d.ExportType != "" {
		return d.ExportType
	}
	return d.Type
}

// exportIdentity is the ONNX identity of an op: an op with ExportType is
// written as that op of the default domain.
func exportIdentity(d *graph.OpDef) (typ, domain string, since int) {
	if d.ExportType != "" {
		since = 1
		if ed, ok := graph.Lookup("", d.ExportType); ok {
			since = ed.Since
		}
		return d.ExportType, "", since
	}
	return d.Type, d.Domain, d.Since
}

func (e *exporter) node(op *graph.Op, s *scoped, nodeNames map[string]bool, fn *graph.Function) (*onnxpb.NodeProto, error) {
	d := op.Def
	if d.ExportCheck != nil {
		if err := d.ExportCheck(op); err != nil {
			return nil, fmt.Errorf("node %q: %w", op.Name, err)
		}
	}
	typ, domain, since := exportIdentity(d)
	if d.AxesInputSince > 0 && len(op.Inputs) > 1 && op.Inputs[1] != nil {
		since = max(since, d.AxesInputSince) // axes computed at run time
	}
	if d.ExportSince != nil {
		since = max(since, d.ExportSince(op))
	}
	name := op.Name
	if name == "" {
		name = fmt.Sprintf("%s_%d", typ, op.Outputs[0].ID())
	}
	name = unique(name, nodeNames)
	if d.Internal {
		return nil, fmt.Errorf("training-only op %s (node %s) cannot be exported", d.Type, name)
	}
	if domain == "ai.onnx" {
		domain = ""
	}
	if v := e.versions[domain]; since > v {
		e.versions[domain] = since
	} else if v == 0 {
		e.versions[domain] = 1
	}
	s.domains[domain] = true

	np := &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(typ), Domain: proto.String(domain)}
	for _, in := range op.Inputs {
		if in == nil {
			np.Input = append(np.Input, "")
			continue
		}
		np.Input = append(np.Input, s.names[in])
	}
	for len(np.Input) > 0 && np.Input[len(np.Input)-1] == "" {
		np.Input = np.Input[:len(np.Input)-1]
	}
	for _, o := range op.Outputs {
		np.Output = append(np.Output, s.names[o])
	}
	for _, k := range op.Attrs.Names() {
		a, err := attribute(d, k, op.Attrs[k], fn)
		if err != nil {
			return nil, fmt.Errorf("node %s (%s): %w", name, typ, err)
		}
		np.Attribute = append(np.Attribute, a)
	}
	if f := d.Function; f != nil {
		for _, a := range f.Attrs {
			if !op.Attrs.Has(a.Name) {
				return nil, fmt.Errorf("node %s calls function %s.%s without its attribute %q (IR %d has no attribute defaults, so every call must carry every attribute)",
					name, f.Domain, f.Name, a.Name, IRVersion)
			}
		}
		e.funcAttrs[f] = true
		// A function reached only from a body still has to be exported.
		e.reach(f)
	}
	return np, nil
}

// reach marks the functions called from f's body.
func (e *exporter) reach(f *graph.Function) {
	for _, op := range f.Body.Ops() {
		if g := op.Def.Function; g != nil && !e.funcAttrs[g] {
			e.funcAttrs[g] = true
			e.reach(g)
		}
	}
}

// attribute converts one attribute value. Inside a function body an
// AttrRef becomes ref_attr_name with the type the op declares.
func attribute(d *graph.OpDef, name string, v any, fn *graph.Function) (*onnxpb.AttributeProto, error) {
	a := &onnxpb.AttributeProto{Name: proto.String(name)}
	set := func(t onnxpb.AttributeProto_AttributeType) { a.Type = t.Enum() }
	switch v := v.(type) {
	case int64:
		set(onnxpb.AttributeProto_INT)
		a.I = proto.Int64(v)
	case float32:
		set(onnxpb.AttributeProto_FLOAT)
		a.F = proto.Float32(v)
	case string:
		set(onnxpb.AttributeProto_STRING)
		a.S = []byte(v)
	case []int64:
		set(onnxpb.AttributeProto_INTS)
		a.Ints = append([]int64{}, v...)
	case []float32:
		set(onnxpb.AttributeProto_FLOATS)
		a.Floats = append([]float32{}, v...)
	case []string:
		set(onnxpb.AttributeProto_STRINGS)
		for _, s := range v {
			a.Strings = append(a.Strings, []byte(s))
		}
	case *graph.Tensor:
		t, err := TensorToProto("", v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		set(onnxpb.AttributeProto_TENSOR)
		a.T = t
	case graph.AttrRef:
		if fn == nil {
			return nil, fmt.Errorf("attribute %s refers to caller attribute %q outside a function body", name, string(v))
		}
		declared := false
		for _, fa := range fn.Attrs {
			declared = declared || fa.Name == string(v)
		}
		if !declared {
			return nil, fmt.Errorf("attribute %s refers to %q, which function %s.%s does not declare", name, string(v), fn.Domain, fn.Name)
		}
		var spec *graph.AttrSpec
		for i := range d.Attrs {
			if d.Attrs[i].Name == name {
				spec = &d.Attrs[i]
			}
		}
		if spec == nil {
			return nil, fmt.Errorf("attribute %s is not declared by op %s", name, d.Type)
		}
		t, err := protoAttrType(spec.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		set(t)
		a.RefAttrName = proto.String(string(v))
	default:
		return nil, fmt.Errorf("attribute %s has unsupported value type %T", name, v)
	}
	return a, nil
}

// protoAttrType maps odmn's attribute types to ONNX's.
func protoAttrType(t graph.AttrType) (onnxpb.AttributeProto_AttributeType, error) {
	switch t {
	case graph.AttrInt:
		return onnxpb.AttributeProto_INT, nil
	case graph.AttrFloat:
		return onnxpb.AttributeProto_FLOAT, nil
	case graph.AttrString:
		return onnxpb.AttributeProto_STRING, nil
	case graph.AttrInts:
		return onnxpb.AttributeProto_INTS, nil
	case graph.AttrFloats:
		return onnxpb.AttributeProto_FLOATS, nil
	case graph.AttrTensor:
		return onnxpb.AttributeProto_TENSOR, nil
	case graph.AttrStrings:
		return onnxpb.AttributeProto_STRINGS, nil
	}
	return 0, fmt.Errorf("unknown attribute type %d", t)
}

// function exports a function body as a FunctionProto.
func (e *exporter) function(f *graph.Function) (*onnxpb.FunctionProto, map[string]bool, error) {
	s, err := e.scope(f.Body, f)
	if err != nil {
		return nil, nil, err
	}
	fp := &onnxpb.FunctionProto{
		Name:   proto.String(f.Name),
		Domain: proto.String(f.Domain),
		Node:   s.nodes,
		Output: s.outputs,
	}
	for _, in := range f.Body.Inputs() {
		fp.Input = append(fp.Input, in.Name())
	}
	for _, a := range f.Attrs {
		fp.Attribute = append(fp.Attribute, a.Name)
	}
	if len(s.nodes) == 0 {
		return nil, nil, errors.New("function " + f.Domain + "." + f.Name + ": empty body")
	}
	return fp, s.domains, nil
}

// valueInfo describes a tensor value; dim(i) gives the dim_param of a -1
// dimension ("" leaves the dimension unknown).
func valueInfo(name string, dt graph.DType, shape []int, dim func(int) string) *onnxpb.ValueInfoProto {
	sp := &onnxpb.TensorShapeProto{Dim: make([]*onnxpb.TensorShapeProto_Dimension, len(shape))}
	for i, d := range shape {
		dd := &onnxpb.TensorShapeProto_Dimension{}
		switch {
		case d >= 0:
			dd.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}
		case dim(i) != "":
			dd.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: dim(i)}
		}
		sp.Dim[i] = dd
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(dt.ONNX()),
			Shape:    sp,
		}}},
	}
}
