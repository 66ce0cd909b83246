package score

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
	"github.com/odmn/odmn/train"
)

// Runtimes File and Session accept.
const (
	Native       = "native"        // the pure-Go runtime (fused ai.odmn kernels)
	NativeBodies = "native-bodies" // the pure-Go runtime running ai.odmn function bodies
	ORT          = "ort"           // ONNX Runtime
	Reference    = "reference"     // the Go training-time forward pass (Go encoder, inline graph)
)

// Model is a raw-feature model ready to score.
type Model struct {
	// Path is the ONNX file or model directory it was loaded from.
	Path string
	// Inputs is the input contract: one feature column per input.
	Inputs []train.InputSpec
	// IDColumn is the column scoring carries through ("" if none).
	IDColumn string
	// Horizons name the T columns of ltv and ltv_ev (nil when the file does
	// not say; columns are then numbered 1..T).
	Horizons []int
	// Outputs are the model's output names.
	Outputs []string
	// Meta holds the metadata_props.
	Meta map[string]string
	// Bundle is the Go model: loaded from the directory, or rebuilt from an
	// odmn export's metadata (nil for other files). The reference runtime
	// needs it.
	Bundle *train.Bundle

	graph *graph.Graph // what the native runtime runs
	raw   []byte       // the ONNX bytes ORT loads
	opts  train.InferOptions
}

// Load opens path: an ONNX file (any file that is not a directory) or a
// model directory from odmn train, which is exported in memory with the
// outputs opts asks for. ONNX files are imported through package compat,
// which refuses ops, types and features outside odmn's vocabulary, naming
// the node and op.
func Load(path string, opts train.InferOptions) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		b, err := train.LoadBundle(path)
		if err != nil {
			return nil, err
		}
		return FromBundle(b, path, opts)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return FromONNX(raw, path)
}

// FromBundle exports a trained model in memory.
func FromBundle(b *train.Bundle, path string, opts train.InferOptions) (*Model, error) {
	gr, err := b.ExportGraph(opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	raw, err := export.Marshal(gr, export.Options{ProducerVersion: train.Version})
	if err != nil {
		return nil, err
	}
	m := &Model{Path: path, Bundle: b, graph: gr, raw: raw, opts: opts, Meta: gr.Metadata}
	if err := m.describe(gr); err != nil {
		return nil, err
	}
	return m, nil
}

// FromONNX loads a serialized model (path is used in messages).
func FromONNX(raw []byte, path string) (*Model, error) {
	mp, err := compat.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	gr, err := compat.Import(mp)
	if err != nil {
		if na, ok := compat.IsNotApplicable(err); ok {
			return nil, fmt.Errorf("%s: odmn cannot run this model: %s", path, na.Msg)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := &Model{Path: path, graph: gr, raw: raw, Meta: gr.Metadata}
	if err := m.describe(gr); err != nil {
		return nil, err
	}
	if m.Meta[train.MetaModel] != "" {
		b, err := train.BundleFromONNX(mp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m.Bundle = b
	}
	m.opts = optionsFor(m.Outputs)
	return m, nil
}

// describe reads the contract from the graph's inputs, outputs and metadata.
func (m *Model) describe(gr *graph.Graph) error {
	kinds := map[string]string{}
	if s := m.Meta[train.MetaInputs]; s != "" {
		var ins []train.InputSpec
		if err := json.Unmarshal([]byte(s), &ins); err == nil {
			for _, in := range ins {
				kinds[in.Name] = in.Feature
			}
		}
	}
	for _, in := range gr.Inputs() {
		spec := train.InputSpec{Name: in.Name(), Feature: kinds[in.Name()]}
		switch in.DType() {
		case graph.String:
			spec.Type = "string"
		case graph.Float32:
			spec.Type = "float32"
		default:
			return fmt.Errorf("%s: input %q is %s%v; odmn scores raw-feature models, whose inputs are string or float32 [N] columns", m.Path, in.Name(), in.DType(), in.Shape())
		}
		if in.Rank() != 1 {
			return fmt.Errorf("%s: input %q has shape %v; raw-feature inputs are [N] columns", m.Path, in.Name(), in.Shape())
		}
		if spec.Feature == "" {
			spec.Feature = map[string]string{"string": "categorical", "float32": "numeric"}[spec.Type]
		}
		m.Inputs = append(m.Inputs, spec)
	}
	for _, o := range gr.Outputs() {
		m.Outputs = append(m.Outputs, o.Name)
	}
	if !m.HasOutput(train.OutLTV) {
		return fmt.Errorf("%s: the model has no %q output (outputs: %s)", m.Path, train.OutLTV, strings.Join(m.Outputs, ", "))
	}
	m.IDColumn = m.Meta[train.MetaIDColumn]
	if s := m.Meta[train.MetaHorizons]; s != "" {
		for _, f := range strings.Split(s, ",") {
			h, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("%s: metadata %s: %w", m.Path, train.MetaHorizons, err)
			}
			m.Horizons = append(m.Horizons, h)
		}
	}
	return nil
}

// optionsFor guesses the InferOptions that produce outputs.
func optionsFor(outputs []string) train.InferOptions {
	o := train.InferOptions{Quantiles: []float64{}}
	for _, n := range outputs {
		if q, ok := train.ParseQuantileOutput(n); ok {
			o.Quantiles = append(o.Quantiles, q)
		}
		switch {
		case n == train.OutSub || n == train.OutBucket || n == train.OutMarginSub || n == train.OutMarginBucket:
			o.Indices = true
		case n == train.OutIDs:
			o.IDs = true
		case strings.HasPrefix(n, "o_"):
			o.Distributions = true
		case strings.HasPrefix(n, "v_"):
			o.Values = true
		case n == train.OutLTVRaw:
			o.Raw = true
		case strings.HasPrefix(n, "dot_") || strings.HasPrefix(n, "bot_"):
			o.Ordinal = true
		}
	}
	if len(o.Quantiles) == 0 {
		o.Quantiles, o.NoQuantiles = nil, true
	}
	slices.Sort(o.Quantiles)
	return o
}

// HasOutput reports whether the model has the named output.
func (m *Model) HasOutput(name string) bool {
	for _, o := range m.Outputs {
		if o == name {
			return true
		}
	}
	return false
}

// ONNX returns the serialized model.
func (m *Model) ONNX() []byte { return m.raw }

// Proto decodes the serialized model.
func (m *Model) Proto() (*onnxpb.ModelProto, error) { return compat.Parse(m.raw) }

// Graph is the graph the native runtime runs (imported from the file, or
// built from the model directory).
func (m *Model) Graph() *graph.Graph { return m.graph }

// SessionOptions tune Session.
type SessionOptions struct {
	// Threads is ONNX Runtime's intra-op thread count (0: its default).
	Threads int
}

// Session opens the model on a runtime (Native, NativeBodies, ORT or
// Reference).
func (m *Model) Session(rt string, opts SessionOptions) (runtime.Session, error) {
	switch rt {
	case Native, "":
		return native.New(m.graph, native.Options{})
	case NativeBodies:
		return native.New(m.graph, native.Options{BodiesOnly: true})
	case ORT:
		s, err := ort.OpenBytes(m.raw, ort.Options{IntraOpThreads: opts.Threads})
		if err != nil {
			return nil, fmt.Errorf("%w (run `make ort` to fetch ONNX Runtime, or use --runtime native)", err)
		}
		return s, nil
	case Reference:
		if m.Bundle == nil {
			return nil, fmt.Errorf("%s: the reference runtime needs the Go model: a model directory, or an ONNX file exported by odmn (with %s metadata)", m.Path, train.MetaModel)
		}
		return m.Bundle.ReferenceSession(m.opts)
	}
	return nil, fmt.Errorf("unknown runtime %q (native, ort or reference)", rt)
}

// HorizonNames names the T prediction columns' suffixes: the horizons in
// days, or 1..T when the model does not say.
func (m *Model) HorizonNames(t int) []string {
	out := make([]string, t)
	for i := range out {
		if len(m.Horizons) == t {
			out[i] = strconv.Itoa(m.Horizons[i])
		} else {
			out[i] = strconv.Itoa(i + 1)
		}
	}
	return out
}

// IsModelDir reports whether path looks like a model directory.
func IsModelDir(path string) bool {
	_, err := os.Stat(filepath.Join(path, train.ModelFile))
	return err == nil
}
