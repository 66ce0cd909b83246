package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/train"
)

// EvalSchema names the version of the [EvalDoc] layout. Within a version,
// fields are only ever added (consumers should ignore fields they do not
// know); a field is never renamed, removed or given another meaning without
// a new version.
const EvalSchema = "odmn.eval/v1"

// ErrSchema is returned by [ReadEvalDoc] for a document of another schema.
var ErrSchema = errors.New("report: unsupported evaluation document schema")

// EvalDoc is the JSON document of one evaluation run (`odmn eval --json`):
// which model, on which data, and for every decode its per-horizon reports.
// Field order is fixed by the struct, metrics that are undefined are null
// with a note (never NaN), so the same inputs give byte-identical output.
type EvalDoc struct {
	Schema string    `json:"schema"`
	Model  ModelInfo `json:"model"`
	Data   DataInfo  `json:"data"`
	// Decodes holds one evaluation per decode, in the order evaluated
	// (spec section 5b: report argmax and EV side by side).
	Decodes []DecodeEval `json:"decodes"`
}

// ModelInfo says which model was evaluated.
type ModelInfo struct {
	// Name is the display name used in tables (e.g. "ODMN", "MSE-MLP").
	Name string `json:"name"`
	// Path is the model bundle, if it was read from a file.
	Path string `json:"path,omitempty"`
	// Variant is the ablation variant (train.Variant), if any.
	Variant string `json:"variant,omitempty"`
	// Horizons are the horizons of the model's tasks, in days, increasing.
	Horizons []int `json:"horizons,omitempty"`
	// Config is the training configuration, if known.
	Config *train.Config `json:"config,omitempty"`
}

// DataInfo says what the model was evaluated on.
type DataInfo struct {
	// Path is the data set file, if any.
	Path string `json:"path,omitempty"`
	// Split names the rows used, e.g. "test", "val", "all".
	Split string `json:"split,omitempty"`
	// Rows is the number of users evaluated.
	Rows int `json:"rows"`
	// Labels are the label columns, one per horizon.
	Labels []string `json:"labels,omitempty"`
}

// DecodeEval is the evaluation of one decode of the model.
type DecodeEval struct {
	// Decode names the decode: "argmax" (Eq. 7-8), "ev" (expected value),
	// "qm" (quantile-matched EV), or a baseline's own prediction ("mean").
	Decode string `json:"decode"`
	// Report holds the per-horizon reports and the monotonicity rates.
	Report metrics.MultiReport `json:"report"`
}

// ModelInfoOf describes a trained model under a display name; path may be
// empty.
func ModelInfoOf(m *train.Model, name, path string) ModelInfo {
	cfg := m.Cfg
	return ModelInfo{
		Name:     name,
		Path:     path,
		Variant:  string(m.Cfg.Variant),
		Horizons: append([]int(nil), m.Horizons...),
		Config:   &cfg,
	}
}

// NewEvalDoc returns a document of the current schema.
func NewEvalDoc(model ModelInfo, data DataInfo, decodes ...DecodeEval) EvalDoc {
	return EvalDoc{Schema: EvalSchema, Model: model, Data: data, Decodes: decodes}
}

// Validate checks the schema, that there is at least one decode, that
// decode names are non-empty and distinct, and that every decode reports
// the same horizons.
func (d *EvalDoc) Validate() error {
	if d.Schema != EvalSchema {
		return fmt.Errorf("%w: %q (this build reads %q)", ErrSchema, d.Schema, EvalSchema)
	}
	if len(d.Decodes) == 0 {
		return fmt.Errorf("report: evaluation document has no decodes")
	}
	seen := map[string]bool{}
	var horizons []string
	for i, de := range d.Decodes {
		if strings.TrimSpace(de.Decode) == "" {
			return fmt.Errorf("report: decode %d has no name", i)
		}
		if seen[de.Decode] {
			return fmt.Errorf("report: decode %q appears twice", de.Decode)
		}
		seen[de.Decode] = true
		var hs []string
		for _, r := range de.Report.Horizons {
			hs = append(hs, r.Horizon)
		}
		if i == 0 {
			horizons = hs
		} else if strings.Join(hs, "\x00") != strings.Join(horizons, "\x00") {
			return fmt.Errorf("report: decode %q has horizons %v, decode %q has %v", de.Decode, hs, d.Decodes[0].Decode, horizons)
		}
	}
	return nil
}

// WriteJSON validates d and writes it as indented JSON with a final
// newline.
func WriteJSON(w io.Writer, d EvalDoc) error {
	if err := d.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encoding the evaluation: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadEvalDoc decodes and validates a document written by [WriteJSON].
// Unknown fields are ignored (later versions of the same schema may add
// fields); another schema fails with ErrSchema.
func ReadEvalDoc(r io.Reader) (EvalDoc, error) {
	var d EvalDoc
	if err := json.NewDecoder(r).Decode(&d); err != nil {
		return EvalDoc{}, fmt.Errorf("report: decoding the evaluation: %w", err)
	}
	if err := d.Validate(); err != nil {
		return EvalDoc{}, err
	}
	return d, nil
}

// Evals returns one [ModelEval] per decode, named "<model> <decode>" (e.g.
// "ODMN argmax", "ODMN ev"); the model name falls back to the upper-cased
// variant, then to "model".
func (d *EvalDoc) Evals() []ModelEval {
	name := d.Model.Name
	if name == "" {
		name = strings.ToUpper(d.Model.Variant)
	}
	if name == "" {
		name = "model"
	}
	out := make([]ModelEval, len(d.Decodes))
	for i, de := range d.Decodes {
		out[i] = ModelEval{Model: name + " " + de.Decode, Multi: de.Report}
	}
	return out
}
