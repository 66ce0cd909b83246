package compat

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// ReadFile reads and decodes an ONNX model file.
func ReadFile(path string) (*onnxpb.ModelProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse decodes an ONNX model. It fails on bytes that are not a protobuf
// ModelProto and on a model without a graph.
func Parse(b []byte) (*onnxpb.ModelProto, error) {
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("not an ONNX model (%d bytes): %w", len(b), err)
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("not an ONNX model (%d bytes): no graph", len(b))
	}
	return m, nil
}

// Import builds a graph from a model whose ops, element types and op
// versions are inside odmn's vocabulary (the ops registered in package
// graph), model-local functions included. Initializers become fixed (not
// trainable) initializers with the file's names; value names and node
// names are kept, so that exporting the result gives the same model back
// for models odmn exported.
//
// Errors name the node, op, attribute or tensor. A model outside the
// vocabulary gives a *NotApplicableError (see IsNotApplicable); anything
// else is a malformed model or a bug. Import never panics: a panic inside
// an op's inference is returned as a *PanicError.
func Import(m *onnxpb.ModelProto) (g *graph.Graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, &PanicError{Where: "import", Value: r}
		}
	}()
	if m == nil || m.Graph == nil {
		return nil, errors.New("import: model has no graph")
	}
	im := &importer{
		m:      m,
		opsets: map[string]int64{},
		funcs:  map[string]*onnxpb.FunctionProto{},
		done:   map[string]*graph.Function{},
		busy:   map[string]bool{},
	}
	for _, o := range m.OpsetImport {
		d := normDomain(o.GetDomain())
		if _, dup := im.opsets[d]; dup {
			return nil, fmt.Errorf("import: opset of domain %s imported twice", domainName(d))
		}
		im.opsets[d] = o.GetVersion()
	}
	for _, fp := range m.Functions {
		k := fkey(normDomain(fp.GetDomain()), fp.GetName())
		if _, dup := im.funcs[k]; dup {
			return nil, fmt.Errorf("import: function %s.%s defined twice", fp.GetDomain(), fp.GetName())
		}
		if _, ok := im.opsets[normDomain(fp.GetDomain())]; !ok {
			return nil, fmt.Errorf("import: function %s.%s: its domain is not in the model's opset_import", fp.GetDomain(), fp.GetName())
		}
		im.funcs[k] = fp
	}
	return im.graph()
}

type importer struct {
	m      *onnxpb.ModelProto
	opsets map[string]int64
	funcs  map[string]*onnxpb.FunctionProto
	done   map[string]*graph.Function
	busy   map[string]bool
}

// scope is the main graph or a function body being built.
type scope struct {
	g      *graph.Graph
	values map[string]*graph.Node
	opsets map[string]int64
	fn     *onnxpb.FunctionProto // nil for the main graph
	where  string                // prefix of error messages inside functions
}

func normDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

func domainName(d string) string {
	if d == "" {
		return "ai.onnx"
	}
	return d
}

func fkey(domain, name string) string { return domain + "::" + name }

func (im *importer) graph() (*graph.Graph, error) {
	gp := im.m.Graph
	g := graph.New(gp.GetName())
	g.Doc = im.m.GetDocString()
	for _, p := range im.m.MetadataProps {
		g.Metadata[p.GetKey()] = p.GetValue()
	}
	sc := &scope{g: g, values: map[string]*graph.Node{}, opsets: im.opsets}
	if len(gp.SparseInitializer) > 0 {
		return nil, notApplicable(KindFeature, "sparse initializer %q: sparse tensors are not supported", gp.SparseInitializer[0].GetValues().GetName())
	}
	for _, tp := range gp.Initializer {
		name := tp.GetName()
		if name == "" {
			return nil, errors.New("an initializer has no name")
		}
		if _, dup := sc.values[name]; dup {
			return nil, fmt.Errorf("initializer %q is defined twice", name)
		}
		t, err := export.TensorFromProto(tp)
		if err != nil {
			var dt *export.UnsupportedDTypeError
			if errors.As(err, &dt) {
				return nil, notApplicable(KindDType, "initializer %q: element type %s is not supported", name, export.DTypeName(dt.Code))
			}
			return nil, fmt.Errorf("initializer: %w", err)
		}
		sc.values[name] = g.Initializer(name, t)
	}
	for _, vi := range gp.Input {
		name := vi.GetName()
		if name == "" {
			return nil, errors.New("a graph input has no name")
		}
		if n, ok := sc.values[name]; ok && n.IsInitializer() {
			continue // an initializer listed as input too (IR < 4 style): its default
		}
		if _, dup := sc.values[name]; dup {
			return nil, fmt.Errorf("graph input %q is declared twice", name)
		}
		dt, shape, err := tensorType(vi, "graph input")
		if err != nil {
			return nil, err
		}
		sc.values[name] = g.Input(name, dt, shape...)
	}
	// Outputs of other element types put the model outside the vocabulary
	// whatever its nodes are.
	for _, vi := range gp.Output {
		if tt := vi.GetType().GetTensorType(); tt != nil && tt.ElemType != nil {
			if _, ok := graph.ValueTypeFromONNX(tt.GetElemType()); !ok {
				return nil, notApplicable(KindDType, "graph output %q: element type %s is not supported", vi.GetName(), export.DTypeName(tt.GetElemType()))
			}
		} else if vi.GetType() != nil && vi.GetType().Value != nil {
			return nil, notApplicable(KindFeature, "graph output %q is not a tensor (sequences, maps, optionals and sparse tensors are not supported)", vi.GetName())
		}
	}
	for i, np := range gp.Node {
		if err := im.node(sc, np, i); err != nil {
			return nil, err
		}
	}
	if len(gp.Output) == 0 {
		return nil, errors.New("the graph has no outputs")
	}
	seen := map[string]bool{}
	for _, vi := range gp.Output {
		name := vi.GetName()
		if seen[name] {
			return nil, fmt.Errorf("graph output %q is declared twice", name)
		}
		seen[name] = true
		n, ok := sc.values[name]
		if !ok {
			return nil, fmt.Errorf("graph output %q is not produced by any node, input or initializer", name)
		}
		if tt := vi.GetType().GetTensorType(); tt != nil && tt.ElemType != nil {
			dt, ok := graph.ValueTypeFromONNX(tt.GetElemType())
			if !ok {
				return nil, notApplicable(KindDType, "graph output %q: element type %s is not supported", name, export.DTypeName(tt.GetElemType()))
			}
			if dt != n.DType() {
				return nil, fmt.Errorf("graph output %q: the model declares %s, odmn infers %s", name, dt, n.DType())
			}
		} else if vi.GetType() != nil && vi.GetType().Value != nil {
			return nil, notApplicable(KindFeature, "graph output %q is not a tensor", name)
		}
		g.SetOutput(name, n)
	}
	return g, nil
}

// tensorType reads a tensor value's element type and shape; unknown
// dimensions (dim_param or none) become -1.
func tensorType(vi *onnxpb.ValueInfoProto, what string) (graph.DType, []int, error) {
	name := vi.GetName()
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return 0, nil, notApplicable(KindFeature, "%s %q is not a tensor (sequences, maps, optionals and sparse tensors are not supported)", what, name)
	}
	// Strings are allowed at the edge of a model (raw categorical inputs);
	// node imports refuse them in every op but LabelEncoder.
	dt, ok := graph.ValueTypeFromONNX(tt.GetElemType())
	if !ok {
		return 0, nil, notApplicable(KindDType, "%s %q: element type %s is not supported", what, name, export.DTypeName(tt.GetElemType()))
	}
	if tt.Shape == nil {
		return 0, nil, notApplicable(KindFeature, "%s %q has no shape (unknown rank is not supported)", what, name)
	}
	shape := make([]int, len(tt.Shape.Dim))
	for i, d := range tt.Shape.Dim {
		shape[i] = -1
		if v, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok {
			if v.DimValue < 0 || v.DimValue > export.MaxTensorElements {
				return 0, nil, fmt.Errorf("%s %q: dimension %d is invalid (%d)", what, name, i, v.DimValue)
			}
			shape[i] = int(v.DimValue)
		}
	}
	return dt, shape, nil
}

// nodeLabel names a node in messages: its name, or its index.
func nodeLabel(np *onnxpb.NodeProto, index int) string {
	if n := np.GetName(); n != "" {
		return fmt.Sprintf("%q", n)
	}
	return fmt.Sprintf("#%d", index)
}

// node imports one node into sc.
func (im *importer) node(sc *scope, np *onnxpb.NodeProto, index int) error {
	typ, dom := np.GetOpType(), normDomain(np.GetDomain())
	label := sc.where + "node " + nodeLabel(np, index)
	full := fmt.Sprintf("%s (%s)", label, typ)

	ins := make([]*graph.Node, len(np.Input))
	for i, s := range np.Input {
		if s == "" {
			continue
		}
		n, ok := sc.values[s]
		if !ok {
			return fmt.Errorf("%s: input %q is not defined (no graph input, initializer or earlier node output has that name)", full, s)
		}
		ins[i] = n
	}
	for len(ins) > 0 && ins[len(ins)-1] == nil {
		ins = ins[:len(ins)-1]
	}
	if _, ok := sc.opsets[dom]; !ok {
		if _, ok := im.opsets[dom]; !ok {
			return fmt.Errorf("%s: domain %s is not in the opset_import", full, domainName(dom))
		}
	}
	fp, local := im.funcs[fkey(dom, typ)]
	def, known := graph.Lookup(dom, typ)
	if !local && (!known || def.Internal) {
		return notApplicable(KindOp, "%s: op type %s (domain %s) is not supported", label, typ, domainName(dom))
	}
	if !local && !def.StringInputs {
		for i, in := range ins {
			if in != nil && in.DType() == graph.String {
				return notApplicable(KindDType, "%s: input %d is a string tensor, which odmn's %s does not take", full, i, typ)
			}
		}
	}
	attrs, types, err := im.attrs(sc, np, full)
	if err != nil {
		return err
	}
	if local {
		f, err := im.function(fp, dom, ins, types, full)
		if err != nil {
			return err
		}
		def = f.Def()
	}

	c := &adaptCtx{g: sc.g, label: full, typ: typ, def: def, attrs: attrs, ins: ins, nout: len(np.Output)}
	var outs []*graph.Node
	if dom == "" && def.Function == nil {
		v := sc.opsets[""]
		since, err := effectiveSince(typ, v, def, full)
		if err != nil {
			return err
		}
		c.since, c.opset = since, v
		outs, err = c.convert()
		if err != nil {
			return err
		}
	} else {
		outs, err = c.apply(def, attrs, ins)
		if err != nil {
			return err
		}
	}

	if len(np.Output) > len(outs) {
		return fmt.Errorf("%s: %d outputs, but op %s has %d", full, len(np.Output), typ, len(outs))
	}
	if len(outs) > 0 && np.GetName() != "" {
		outs[0].Op().Name = np.GetName()
	}
	for i, on := range np.Output {
		if on == "" {
			continue
		}
		if _, dup := sc.values[on]; dup {
			return fmt.Errorf("%s: output %q is already defined (values must be assigned once)", full, on)
		}
		outs[i].SetName(on)
		sc.values[on] = outs[i]
	}
	return nil
}

func compatNote(d *graph.OpDef) string {
	if len(d.Compat) == 0 {
		return ""
	}
	s := make([]string, len(d.Compat))
	for i, v := range d.Compat {
		s[i] = fmt.Sprint(v)
	}
	return " (also accepts " + strings.Join(s, ", ") + ")"
}

// apply checks the attribute names against def (an unknown one is outside
// the vocabulary) and applies the op, turning a panic into an error.
func (c *adaptCtx) apply(def *graph.OpDef, attrs graph.Attrs, ins []*graph.Node) (outs []*graph.Node, err error) {
	for _, k := range attrs.Names() {
		known := false
		for _, s := range def.Attrs {
			known = known || s.Name == k
		}
		if !known {
			return nil, notApplicable(KindAttribute, "%s: attribute %s is not supported", c.label, k)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, &PanicError{Where: c.label, Value: r}
		}
	}()
	outs, err = c.g.Apply(def, attrs, ins...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.label, err)
	}
	return outs, nil
}

// attrs converts a node's attributes. types gives the ONNX type of each
// (function calls need it to declare the function's attributes).
func (im *importer) attrs(sc *scope, np *onnxpb.NodeProto, full string) (graph.Attrs, map[string]graph.AttrType, error) {
	attrs := graph.Attrs{}
	types := map[string]graph.AttrType{}
	for _, a := range np.Attribute {
		name := a.GetName()
		if name == "" {
			return nil, nil, fmt.Errorf("%s: an attribute has no name", full)
		}
		if attrs.Has(name) {
			return nil, nil, fmt.Errorf("%s: attribute %s is given twice", full, name)
		}
		t := attrType(a)
		if ref := a.GetRefAttrName(); ref != "" {
			if sc.fn == nil {
				return nil, nil, fmt.Errorf("%s: attribute %s refers to %q, but references are only allowed inside functions", full, name, ref)
			}
			if !slices.Contains(sc.fn.Attribute, ref) {
				return nil, nil, fmt.Errorf("%s: attribute %s refers to %q, which the function does not declare", full, name, ref)
			}
			gt, err := graphAttrType(t)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: attribute %s: %w", full, name, err)
			}
			attrs[name] = graph.AttrRef(ref)
			types[name] = gt
			continue
		}
		v, err := attrValue(a, t)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: attribute %s: %w", full, name, err)
		}
		// Attributes naming an element type (Cast's to, the dtype of
		// EyeLike and the random ops): one odmn does not hold, or one the
		// op does not take, puts the node outside the vocabulary.
		if code, ok := v.(int64); ok && (name == "to" || name == "dtype") && normDomain(np.GetDomain()) == "" {
			dt, ok := graph.ValueTypeFromONNX(int32(code))
			def, known := graph.Lookup("", np.GetOpType())
			if !ok || int64(int32(code)) != code || known && !def.Takes(dt) {
				return nil, nil, notApplicable(KindDType, "%s: attribute %s: element type %s is not supported", full, name, export.DTypeName(int32(code)))
			}
		}
		attrs[name] = v
		types[name], _ = graphAttrType(t)
	}
	return attrs, types, nil
}

// attrType is the attribute's declared type or, for files that leave it
// unset, the type of the value field in use.
func attrType(a *onnxpb.AttributeProto) onnxpb.AttributeProto_AttributeType {
	if t := a.GetType(); t != onnxpb.AttributeProto_UNDEFINED {
		return t
	}
	switch {
	case a.F != nil:
		return onnxpb.AttributeProto_FLOAT
	case a.I != nil:
		return onnxpb.AttributeProto_INT
	case a.S != nil:
		return onnxpb.AttributeProto_STRING
	case a.T != nil:
		return onnxpb.AttributeProto_TENSOR
	case a.G != nil:
		return onnxpb.AttributeProto_GRAPH
	case len(a.Floats) > 0:
		return onnxpb.AttributeProto_FLOATS
	case len(a.Ints) > 0:
		return onnxpb.AttributeProto_INTS
	case len(a.Strings) > 0:
		return onnxpb.AttributeProto_STRINGS
	case len(a.Tensors) > 0:
		return onnxpb.AttributeProto_TENSORS
	case len(a.Graphs) > 0:
		return onnxpb.AttributeProto_GRAPHS
	}
	return onnxpb.AttributeProto_UNDEFINED
}

func graphAttrType(t onnxpb.AttributeProto_AttributeType) (graph.AttrType, error) {
	switch t {
	case onnxpb.AttributeProto_INT:
		return graph.AttrInt, nil
	case onnxpb.AttributeProto_FLOAT:
		return graph.AttrFloat, nil
	case onnxpb.AttributeProto_STRING:
		return graph.AttrString, nil
	case onnxpb.AttributeProto_INTS:
		return graph.AttrInts, nil
	case onnxpb.AttributeProto_FLOATS:
		return graph.AttrFloats, nil
	case onnxpb.AttributeProto_STRINGS:
		return graph.AttrStrings, nil
	case onnxpb.AttributeProto_TENSOR:
		return graph.AttrTensor, nil
	case onnxpb.AttributeProto_UNDEFINED:
		return 0, errors.New("no type and no value")
	}
	return 0, notApplicable(KindFeature, "attributes of type %s are not supported", t)
}

func attrValue(a *onnxpb.AttributeProto, t onnxpb.AttributeProto_AttributeType) (any, error) {
	switch t {
	case onnxpb.AttributeProto_INT:
		return a.GetI(), nil
	case onnxpb.AttributeProto_FLOAT:
		return a.GetF(), nil
	case onnxpb.AttributeProto_STRING:
		return string(a.S), nil
	case onnxpb.AttributeProto_INTS:
		return append([]int64{}, a.Ints...), nil
	case onnxpb.AttributeProto_FLOATS:
		return append([]float32{}, a.Floats...), nil
	case onnxpb.AttributeProto_STRINGS:
		ss := make([]string, len(a.Strings))
		for i, b := range a.Strings {
			ss[i] = string(b)
		}
		return ss, nil
	case onnxpb.AttributeProto_TENSOR:
		if a.T == nil {
			return nil, errors.New("type TENSOR but no tensor")
		}
		v, err := export.TensorFromProto(a.T)
		if err != nil {
			var dt *export.UnsupportedDTypeError
			if errors.As(err, &dt) {
				return nil, notApplicable(KindDType, "tensor element type %s is not supported", export.DTypeName(dt.Code))
			}
			return nil, err
		}
		return v, nil
	case onnxpb.AttributeProto_GRAPH, onnxpb.AttributeProto_GRAPHS:
		return nil, notApplicable(KindFeature, "subgraph attributes are not supported")
	case onnxpb.AttributeProto_UNDEFINED:
		return nil, errors.New("no type and no value")
	}
	return nil, notApplicable(KindFeature, "attributes of type %s are not supported", t)
}

// function defines (once) the graph.Function of a model-local function.
// Its body's inputs take the element types and shapes of the first call
// (FunctionProto inputs are untyped), its attributes the types the call
// gives them, or the types of the references to them in the body.
func (im *importer) function(fp *onnxpb.FunctionProto, dom string, ins []*graph.Node, callTypes map[string]graph.AttrType, call string) (*graph.Function, error) {
	k := fkey(dom, fp.GetName())
	if f := im.done[k]; f != nil {
		return f, nil
	}
	fname := domainName(dom) + "." + fp.GetName()
	if im.busy[k] {
		return nil, fmt.Errorf("%s: function %s calls itself", call, fname)
	}
	im.busy[k] = true
	defer delete(im.busy, k)

	refTypes := map[string]graph.AttrType{}
	for _, np := range fp.Node {
		for _, a := range np.Attribute {
			if r := a.GetRefAttrName(); r != "" {
				if t, err := graphAttrType(a.GetType()); err == nil {
					refTypes[r] = t
				}
			}
		}
	}
	var specs []graph.AttrSpec
	seen := map[string]bool{}
	for _, an := range fp.Attribute {
		if an == "" || seen[an] {
			return nil, fmt.Errorf("function %s: attribute name %q is empty or repeated", fname, an)
		}
		seen[an] = true
		t, ok := callTypes[an]
		if !ok {
			t, ok = refTypes[an]
		}
		if !ok {
			t = graph.AttrInt
		}
		specs = append(specs, graph.AttrSpec{Name: an, Type: t})
	}
	if len(ins) > len(fp.Input) {
		return nil, fmt.Errorf("%s: %d inputs, but function %s has %d", call, len(ins), fname, len(fp.Input))
	}
	opsets := map[string]int64{}
	for _, o := range fp.OpsetImport {
		opsets[normDomain(o.GetDomain())] = o.GetVersion()
	}
	if _, ok := opsets[""]; !ok {
		opsets[""] = im.opsets[""]
	}
	var buildErr error
	f, err := graph.DefineFunction(dom, fp.GetName(), specs, func(body *graph.Graph) error {
		sc := &scope{g: body, values: map[string]*graph.Node{}, opsets: opsets, fn: fp, where: "function " + fname + ": "}
		for i, name := range fp.Input {
			if i >= len(ins) || ins[i] == nil {
				return fmt.Errorf("%s: input %d (%s) of function %s is missing", call, i, name, fname)
			}
			if _, dup := sc.values[name]; dup || name == "" {
				return fmt.Errorf("function %s: input name %q is empty or repeated", fname, name)
			}
			sc.values[name] = body.Input(name, ins[i].DType(), ins[i].Shape()...)
		}
		for i, np := range fp.Node {
			if err := im.node(sc, np, i); err != nil {
				buildErr = err
				return err
			}
		}
		if len(fp.Output) == 0 {
			return fmt.Errorf("function %s has no outputs", fname)
		}
		for _, name := range fp.Output {
			n, ok := sc.values[name]
			if !ok {
				return fmt.Errorf("function %s: output %q is not produced by any node or input", fname, name)
			}
			body.SetOutput(name, n)
		}
		return nil
	})
	if err != nil {
		if buildErr != nil {
			return nil, buildErr // keeps its type (not applicable, panic)
		}
		return nil, err
	}
	im.done[k] = f
	return f, nil
}

// Ops lists the op types a model uses in its main graph, sorted (the
// conformance report counts a test under each).
func Ops(m *onnxpb.ModelProto) []string {
	set := map[string]bool{}
	for _, np := range m.GetGraph().GetNode() {
		t := np.GetOpType()
		if d := normDomain(np.GetDomain()); d != "" {
			t = d + "." + t
		}
		set[t] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
