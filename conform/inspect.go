package conform

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/onnxpb"
)

// ValueInfo is a graph input or output as the file declares it.
type ValueInfo struct {
	Name string `json:"name"`
	// Type is the element type by ONNX's name (FLOAT, INT64, ...), or the
	// kind of value for non-tensors (sequence, map, optional).
	Type string `json:"type"`
	// Shape holds each dim: a number, a symbolic name, or "?"; nil when
	// the rank is unknown.
	Shape []string `json:"shape"`
	Doc   string   `json:"doc,omitempty"`
}

func (v ValueInfo) String() string {
	if v.Shape == nil {
		return fmt.Sprintf("%s %s (rank unknown)", v.Name, v.Type)
	}
	return fmt.Sprintf("%s %s[%s]", v.Name, v.Type, strings.Join(v.Shape, ", "))
}

// Opset is one opset import.
type Opset struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// Function is a model-local function.
type Function struct {
	Domain string `json:"domain"`
	Name   string `json:"name"`
	Nodes  int    `json:"nodes"`
}

// ExternalTensor is an initializer whose data lives in another file.
type ExternalTensor struct {
	Name     string `json:"name"`
	Location string `json:"location"`
}

// ModelInfo describes an ONNX file: what `odmn inspect` prints.
type ModelInfo struct {
	Path            string             `json:"path"`
	Producer        string             `json:"producer"`
	ProducerVersion string             `json:"producer_version,omitempty"`
	IRVersion       int64              `json:"ir_version"`
	Opsets          []Opset            `json:"opsets"`
	Graph           string             `json:"graph"`
	Inputs          []ValueInfo        `json:"inputs"`
	Outputs         []ValueInfo        `json:"outputs"`
	Initializers    int                `json:"initializers"`
	Nodes           int                `json:"nodes"`
	Ops             []compat.OpSupport `json:"ops"`
	Functions       []Function         `json:"functions,omitempty"`
	Metadata        map[string]string  `json:"metadata,omitempty"`
	ExternalData    []ExternalTensor   `json:"external_data,omitempty"`
	// Native says whether the native runtime runs the model: "yes", or
	// the importer's first reason why not.
	Native string `json:"native"`
	// Runs is true when the model imports.
	Runs bool `json:"runs"`
}

// Inspect describes the model read from path.
func Inspect(path string, m *onnxpb.ModelProto) *ModelInfo {
	info := &ModelInfo{
		Path:            path,
		Producer:        m.GetProducerName(),
		ProducerVersion: m.GetProducerVersion(),
		IRVersion:       m.GetIrVersion(),
		Graph:           m.GetGraph().GetName(),
		Nodes:           len(m.GetGraph().GetNode()),
		Ops:             compat.Support(m),
		Metadata:        map[string]string{},
	}
	for _, o := range m.GetOpsetImport() {
		d := o.GetDomain()
		if d == "" {
			d = "ai.onnx"
		}
		info.Opsets = append(info.Opsets, Opset{d, o.GetVersion()})
	}
	inits := map[string]bool{}
	for _, t := range m.GetGraph().GetInitializer() {
		inits[t.GetName()] = true
		if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			loc := ""
			for _, kv := range t.GetExternalData() {
				if kv.GetKey() == "location" {
					loc = kv.GetValue()
				}
			}
			info.ExternalData = append(info.ExternalData, ExternalTensor{t.GetName(), loc})
		}
	}
	info.Initializers = len(inits)
	for _, vi := range m.GetGraph().GetInput() {
		if !inits[vi.GetName()] {
			info.Inputs = append(info.Inputs, valueInfo(vi))
		}
	}
	for _, vi := range m.GetGraph().GetOutput() {
		info.Outputs = append(info.Outputs, valueInfo(vi))
	}
	for _, f := range m.GetFunctions() {
		info.Functions = append(info.Functions, Function{f.GetDomain(), f.GetName(), len(f.GetNode())})
	}
	for _, p := range m.GetMetadataProps() {
		info.Metadata[p.GetKey()] = p.GetValue()
	}
	if _, err := compat.Import(m); err != nil {
		info.Native = err.Error()
	} else {
		info.Native, info.Runs = "yes", true
	}
	return info
}

func valueInfo(vi *onnxpb.ValueInfoProto) ValueInfo {
	v := ValueInfo{Name: vi.GetName(), Doc: vi.GetDocString()}
	t := vi.GetType()
	tt := t.GetTensorType()
	switch {
	case tt != nil:
		v.Type = export.DTypeName(tt.GetElemType())
		if tt.Shape != nil {
			v.Shape = []string{}
			for _, d := range tt.Shape.Dim {
				switch x := d.GetValue().(type) {
				case *onnxpb.TensorShapeProto_Dimension_DimValue:
					v.Shape = append(v.Shape, fmt.Sprint(x.DimValue))
				case *onnxpb.TensorShapeProto_Dimension_DimParam:
					v.Shape = append(v.Shape, x.DimParam)
				default:
					v.Shape = append(v.Shape, "?")
				}
			}
		}
	case t.GetSequenceType() != nil:
		v.Type = "sequence"
	case t.GetMapType() != nil:
		v.Type = "map"
	case t.GetOptionalType() != nil:
		v.Type = "optional"
	case t.GetSparseTensorType() != nil:
		v.Type = "sparse tensor"
	default:
		v.Type = "unknown"
	}
	return v
}

// Print writes the description for people.
func (info *ModelInfo) Print(w io.Writer) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("%s\n", info.Path)
	p("  producer:   %s %s\n", info.Producer, info.ProducerVersion)
	p("  IR version: %d\n", info.IRVersion)
	var ops []string
	for _, o := range info.Opsets {
		ops = append(ops, fmt.Sprintf("%s %d", o.Domain, o.Version))
	}
	p("  opsets:     %s\n", strings.Join(ops, ", "))
	p("  graph:      %s (%d nodes, %d initializers)\n", info.Graph, info.Nodes, info.Initializers)
	p("inputs:\n")
	for _, v := range info.Inputs {
		p("  %s\n", v)
	}
	p("outputs:\n")
	for _, v := range info.Outputs {
		p("  %s\n", v)
	}
	p("ops (count, native runtime):\n")
	width := 0
	for _, o := range info.Ops {
		width = max(width, len(o.Name())+4)
	}
	for _, o := range info.Ops {
		name := o.Name()
		if o.Version > 0 {
			name = fmt.Sprintf("%s-%d", name, o.Version)
		}
		status := "runs"
		if !o.Supported {
			status = "no: " + o.Reason
		}
		p("  %-*s %5d  %s\n", width, name, o.Count, status)
	}
	if len(info.Functions) > 0 {
		p("functions:\n")
		for _, f := range info.Functions {
			p("  %s.%s (%d nodes)\n", f.Domain, f.Name, f.Nodes)
		}
	}
	if len(info.Metadata) > 0 {
		p("metadata:\n")
		keys := make([]string, 0, len(info.Metadata))
		for k := range info.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := info.Metadata[k]
			if len(v) > 80 {
				v = v[:77] + "..."
			}
			p("  %s: %s\n", k, v)
		}
	}
	if len(info.ExternalData) > 0 {
		p("external data:\n")
		for _, e := range info.ExternalData {
			p("  %s: %s\n", e.Name, e.Location)
		}
	}
	_, err := fmt.Fprintf(w, "native runtime: %s\n", info.Native)
	return err
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
