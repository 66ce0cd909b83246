package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/export"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
)

// The raw-feature export.
//
// ExportGraph builds a model's whole inference path as one graph that
// ONNX Runtime and the native runtime both run: raw feature columns in,
// decoded predictions out.
//
// Input contract (also written to the file's metadata_props, "odmn.inputs",
// and its doc_string). One graph input per feature column of the spec,
// named as the column, in spec order (categorical columns, numeric columns,
// then every day of every sequence, name_d1 .. name_dL), each of shape [N]
// with a dynamic batch dimension N:
//
//   - categorical: string, the raw value. An ai.onnx.ml LabelEncoder maps
//     the training vocabulary to ids 1..V; anything else, including "" (the
//     missing value), maps to 0, the out-of-vocabulary id, exactly as
//     data.Encoder does. Integer-coded categories are passed as their
//     decimal text, as the data readers give them.
//   - numeric and sequence day: float32. NaN is the missing value and gets
//     bin 0; any other value x gets 1 + the number of fitted bounds b with
//     b <= x, compared in float32 (data.Bin, bit for bit): the ai.odmn
//     Discretize node. +Inf lands in the top bin, -Inf in the lowest.
//
// Why strings rather than caller-computed codes: the file is then the
// whole inference path (no hashing or vocabulary step outside it), the
// vocabulary lives in one place, and LabelEncoder is a standard op that
// ONNX Runtime implements. The cost was string tensors in odmn's graph,
// export/import and both runtimes, at the edge of the model only (graph
// refuses strings in every op but LabelEncoder).
//
// Outputs: ltv [N, T] (Eq. 7-8 argmax decode) and ltv_ev [N, T] (expected
// value), in label units, horizons in increasing order; InferOptions adds
// the decode's indices and margins, the distributions o_t, the
// training-only ordinal towers and the encoded ids.
//
// The model's metadata_props carry what a reader needs without odmn's
// model directory (see Metadata keys below), including the model itself
// (odmn.model), the spec and the encoder, so BundleFromONNX can rebuild the
// Go model from the file: that is how `odmn conform` runs the training-time
// forward pass on an ONNX file.

// Metadata keys written into exported models.
const (
	MetaVersion     = "odmn.version"          // odmn version that exported the model
	MetaVariant     = "odmn.variant"          // odmn, s, sm, ..., mse, ziln
	MetaHorizons    = "odmn.horizons"         // comma-separated, increasing, e.g. "30,90,180,365"
	MetaBuckets     = "odmn.buckets"          // JSON: per task, sub-distributions and buckets (left, right, point)
	MetaSpec        = "odmn.feature_spec"     // JSON data.Spec
	MetaEncoder     = "odmn.encoder"          // JSON data.Encoder (vocabularies, bin bounds)
	MetaModel       = "odmn.model"            // JSON Model (config, features, label layout)
	MetaFingerprint = "odmn.data_fingerprint" // sha256 of the encoded training data (Fingerprint)
	MetaInputs      = "odmn.inputs"           // JSON [{"name", "type", "feature"}]: the input contract
	MetaOutputs     = "odmn.outputs"          // comma-separated output names
	MetaMissing     = "odmn.missing_values"   // the missing-value rule, in words
	MetaIDColumn    = "odmn.id_column"        // the spec's id column ("" if none): scoring carries it through
)

// MissingRule is the text of MetaMissing.
const MissingRule = `categorical: "" or any value outside the training vocabulary -> id 0 (out of vocabulary); ` +
	`numeric and sequence days: NaN -> bin 0; otherwise bin = 1 + #{fitted bounds b : float32(b) <= float32(x)}`

// InputSpec describes one input of an exported model.
type InputSpec struct {
	Name    string `json:"name"`    // the feature column
	Type    string `json:"type"`    // "string" or "float32"
	Feature string `json:"feature"` // "categorical", "numeric" or "sequence"
}

// Inputs lists the input contract of b's exported models.
func (b *Bundle) Inputs() ([]InputSpec, error) {
	if b.Encoder == nil {
		return nil, errors.New("model has no encoder")
	}
	var out []InputSpec
	for _, f := range b.Encoder.Features() {
		typ := "float32"
		if f.Type == "categorical" {
			typ = "string"
		}
		out = append(out, InputSpec{Name: f.Column, Type: typ, Feature: f.Type})
	}
	return out, nil
}

// checkExportable verifies that the bundle has what an export needs and
// that its encoder is the one the model was trained with.
func (b *Bundle) checkExportable() error {
	if b.Model == nil || b.Spec == nil || b.Encoder == nil {
		return errors.New("export needs the model, its feature spec and its encoder (a model directory from odmn train)")
	}
	if err := b.Encoder.CheckSpec(b.Spec); err != nil {
		return err
	}
	fs := b.Encoder.Features()
	if len(fs) != len(b.Model.Features) {
		return fmt.Errorf("the encoder has %d feature slots, the model %d", len(fs), len(b.Model.Features))
	}
	for i, f := range fs {
		mf := b.Model.Features[i]
		if f.Column != mf.Column || f.Cardinality != mf.Cardinality {
			return fmt.Errorf("feature slot %d: encoder has %s (%d ids), model has %s (%d ids)", i, f.Column, f.Cardinality, mf.Column, mf.Cardinality)
		}
	}
	return nil
}

// ExportGraph builds the raw-feature inference graph of the bundle (see the
// comment at the top of this file): in-graph encoding (LabelEncoder,
// ai.odmn Discretize), then the same embeddings, share-bottom, towers and
// heads as training, with Mono Units and decodes as ai.odmn function calls.
// Training-only towers are left out unless opts.Ordinal asks for them.
func (b *Bundle) ExportGraph(opts InferOptions) (*g.Graph, error) {
	if err := b.checkExportable(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	m, enc := b.Model, b.Encoder
	ins, _ := b.Inputs()
	reserved := map[string]bool{InputIDs: true, OutLTV: true, OutLTVEV: true, OutSub: true, OutBucket: true,
		OutMarginSub: true, OutMarginBucket: true, boundsName: true}
	for _, h := range m.Horizons {
		for _, pfx := range []string{"o_", "dot_", "bot_"} {
			reserved[fmt.Sprintf("%s%d", pfx, h)] = true
		}
	}
	for _, p := range m.params {
		reserved[p.Name] = true
	}
	for _, in := range ins {
		if reserved[in.Name] {
			return nil, fmt.Errorf("export: feature column %q has the name of a model output or parameter; rename the column", in.Name)
		}
	}

	n := newNet(m, "odmn")
	n.calls = true
	discretize, _, _ := Functions()
	err := g.Catch(func() {
		var parts []*g.Node
		var catIDs, nums []*g.Node
		var bounds [][]float64
		for _, in := range ins {
			if in.Type == "string" {
				x := n.gr.Input(in.Name, g.String, -1)
				ce := enc.Categorical[len(catIDs)]
				vals := make([]int64, len(ce.Values))
				for i := range vals {
					vals[i] = int64(i + 1)
				}
				keys := append([]string{}, ce.Values...)
				if len(keys) == 0 { // LabelEncoder wants a table: map "" to 0 too
					keys, vals = []string{""}, []int64{0}
				}
				id := g.LabelEncoder(x, g.Attrs{"keys_strings": keys, "values_int64s": vals, "default_int64": int64(0)})
				catIDs = append(catIDs, g.Unsqueeze(id, 1))
				continue
			}
			x := n.gr.Input(in.Name, g.Float32, -1)
			nums = append(nums, g.Unsqueeze(x, 1))
		}
		for _, c := range enc.Numeric {
			bounds = append(bounds, c.Bounds)
		}
		for _, q := range enc.Sequences {
			for d := 0; d < q.Length; d++ {
				bounds = append(bounds, q.Bounds)
			}
		}
		if len(catIDs) > 0 {
			parts = append(parts, concat(catIDs))
		}
		if len(nums) > 0 {
			bt := boundsTensor(bounds)
			parts = append(parts, discretize.Call(nil, concat(nums), n.gr.Initializer(boundsName, bt))[0])
		}
		ids := concat(parts)
		n.inferOutputs(ids, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := b.setMetadata(n.gr, ins); err != nil {
		return nil, err
	}
	return n.gr, nil
}

// boundsName is the initializer holding the Discretize bounds.
const boundsName = "discretize.bounds"

// boundsTensor lays out per-column bounds as [K, B] float32, rows padded
// with NaN (B >= 1).
func boundsTensor(bounds [][]float64) *g.Tensor {
	width := 1
	for _, b := range bounds {
		width = max(width, len(b))
	}
	t := nanPad(len(bounds), width)
	for k, b := range bounds {
		for j, v := range b {
			t.F[k*width+j] = float32(v)
		}
	}
	return t
}

func (b *Bundle) setMetadata(gr *g.Graph, ins []InputSpec) error {
	m := b.Model
	js := func(v any) (string, error) {
		raw, err := json.Marshal(v)
		return string(raw), err
	}
	hs := make([]string, len(m.Horizons))
	for i, h := range m.Horizons {
		hs[i] = strconv.Itoa(h)
	}
	var outs []string
	for _, o := range gr.Outputs() {
		outs = append(outs, o.Name)
	}
	md := map[string]string{
		MetaVersion:     Version,
		MetaVariant:     string(m.Cfg.Variant),
		MetaHorizons:    strings.Join(hs, ","),
		MetaFingerprint: b.Fingerprint,
		MetaOutputs:     strings.Join(outs, ","),
		MetaMissing:     MissingRule,
		MetaIDColumn:    b.Spec.ID,
	}
	for k, v := range map[string]any{MetaBuckets: m.Tasks, MetaSpec: b.Spec, MetaEncoder: b.Encoder, MetaModel: m, MetaInputs: ins} {
		s, err := js(v)
		if err != nil {
			return fmt.Errorf("export: metadata %s: %w", k, err)
		}
		md[k] = s
	}
	for k, v := range md {
		gr.Metadata[k] = v
	}
	var doc strings.Builder
	fmt.Fprintf(&doc, "ODMN (%s variant) exported by odmn %s: multi-horizon LTV for horizons %s days.\n", m.Cfg.Variant, Version, strings.Join(hs, ", "))
	fmt.Fprintf(&doc, "Inputs: one [N] tensor per feature column, named as the column: string for categorical columns, float32 for numeric and sequence-day columns (%d inputs; see metadata odmn.inputs).\n", len(ins))
	fmt.Fprintf(&doc, "Missing values: %s.\n", MissingRule)
	fmt.Fprintf(&doc, "Outputs: %s. ltv is the argmax decode (Eq. 7-8), ltv_ev the expected value, both [N, T] in label units.", strings.Join(outs, ", "))
	gr.Doc = doc.String()
	return nil
}

// BundleFromONNX rebuilds the Go model, spec and encoder from a model
// that ExportGraph wrote (its metadata and initializers). Parameters the
// file leaves out (the training-only towers) are absent from the result;
// inference graphs do not read them.
func BundleFromONNX(mp *onnxpb.ModelProto) (*Bundle, error) {
	md := map[string]string{}
	for _, p := range mp.GetMetadataProps() {
		md[p.GetKey()] = p.GetValue()
	}
	for _, k := range []string{MetaModel, MetaSpec, MetaEncoder} {
		if md[k] == "" {
			return nil, fmt.Errorf("not an odmn raw-feature export: metadata %s is missing", k)
		}
	}
	m := &Model{}
	if err := json.Unmarshal([]byte(md[MetaModel]), m); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", MetaModel, err)
	}
	m.byName = map[string]*Param{}
	m.rng = rand.New(rand.NewPCG(m.Cfg.Seed, 0x0d3a))
	spec := &data.Spec{}
	if err := json.Unmarshal([]byte(md[MetaSpec]), spec); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", MetaSpec, err)
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", MetaSpec, err)
	}
	enc := &data.Encoder{}
	if err := json.Unmarshal([]byte(md[MetaEncoder]), enc); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", MetaEncoder, err)
	}
	for _, tp := range mp.GetGraph().GetInitializer() {
		if tp.GetDataType() != int32(onnxpb.TensorProto_FLOAT) || tp.GetName() == boundsName {
			continue
		}
		t, err := export.TensorFromProto(tp)
		if err != nil {
			return nil, err
		}
		p := &Param{Name: tp.GetName(), T: t, Embedding: tp.GetName() == "embedding"}
		m.params = append(m.params, p)
		m.byName[p.Name] = p
	}
	b := &Bundle{Model: m, Spec: spec, Encoder: enc, Fingerprint: md[MetaFingerprint]}
	if err := b.checkExportable(); err != nil {
		return nil, err
	}
	return b, nil
}

// ReferenceSession is the training-time forward pass behind the export
// graph's interface: the same raw inputs and output names, computed by the
// Go encoder (data.Encoder.Encode) and the inline inference graph
// (InferGraph) on the native runtime. Conformance compares the exported
// file against it.
type ReferenceSession struct {
	b       *Bundle
	ins     []InputSpec
	sess    *native.Session
	outputs []string
}

var _ runtime.Session = (*ReferenceSession)(nil)

// ReferenceSession compiles the training-time forward pass with the
// outputs opts asks for.
func (b *Bundle) ReferenceSession(opts InferOptions) (*ReferenceSession, error) {
	if err := b.checkExportable(); err != nil {
		return nil, err
	}
	gr, err := b.Model.InferGraph(opts)
	if err != nil {
		return nil, err
	}
	s, err := native.New(gr, native.Options{})
	if err != nil {
		return nil, err
	}
	ins, _ := b.Inputs()
	return &ReferenceSession{b: b, ins: ins, sess: s, outputs: s.OutputNames()}, nil
}

func (r *ReferenceSession) InputNames() []string {
	names := make([]string, len(r.ins))
	for i, in := range r.ins {
		names[i] = in.Name
	}
	return names
}

func (r *ReferenceSession) OutputNames() []string { return append([]string{}, r.outputs...) }
func (r *ReferenceSession) Close() error          { return r.sess.Close() }

// Run takes the export graph's inputs (string and float32 [N] tensors).
func (r *ReferenceSession) Run(inputs map[string]*g.Tensor, names ...string) (map[string]*g.Tensor, error) {
	t := data.NewTable(nil, nil)
	n := -1
	for _, in := range r.ins {
		x, ok := inputs[in.Name]
		if !ok || x == nil {
			return nil, fmt.Errorf("reference: missing input %q", in.Name)
		}
		if len(x.Shape) != 1 || (n >= 0 && x.Shape[0] != n) {
			return nil, fmt.Errorf("reference: input %q has shape %v, want [%d]", in.Name, x.Shape, n)
		}
		n = x.Shape[0]
		switch {
		case in.Type == "string" && x.DType == g.String:
			t.AddString(in.Name, x.S)
		case in.Type == "float32" && x.DType == g.Float32:
			v := make([]float64, n)
			for i, f := range x.F {
				v[i] = float64(f)
			}
			t.AddFloat(in.Name, v)
		default:
			return nil, fmt.Errorf("reference: input %q is %s, want %s", in.Name, x.DType, in.Type)
		}
	}
	if len(inputs) != len(r.ins) {
		for name := range inputs {
			if t.Col(name) < 0 {
				return nil, fmt.Errorf("reference: unknown input %q", name)
			}
		}
	}
	return r.RunTable(t, names...)
}

// RunTable scores the rows of t, a table holding the feature columns (as
// the data readers give them: float64 numbers), through the Go encoder.
func (r *ReferenceSession) RunTable(t *data.Table, names ...string) (map[string]*g.Tensor, error) {
	ids, err := r.b.Encoder.Encode(t, nil)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	f := len(r.b.Model.Features)
	x := g.NewTensor(g.Int64, []int{t.Rows(), f})
	for i, v := range ids {
		x.I[i] = int64(v)
	}
	return r.sess.Run(map[string]*g.Tensor{InputIDs: x}, names...)
}
