package report

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/train"
)

func tinyDoc() EvalDoc {
	mr := metrics.MultiReport{N: 2, T: 1, MonotonicityViolationRate: f(0), LabelMonotonicityViolationRate: f(0),
		Horizons: []metrics.Report{{Horizon: "30d", N: 2, LabelMean: f(0), PredMean: f(0.5), AMBE: f(0.5),
			Notes: []string{"nrmse, nmae: null because mean(y) = 0 is not positive (nothing to normalize by)"}}},
		Notes: []string{"monotonicity: a single horizon cannot violate monotonicity; rates are 0"}}
	return NewEvalDoc(ModelInfo{Name: "ODMN", Variant: "odmn", Horizons: []int{30}},
		DataInfo{Path: "test.csv", Split: "test", Rows: 2, Labels: []string{"ltv30"}},
		DecodeEval{Decode: "argmax", Report: mr})
}

func TestEvalDocGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, tinyDoc()); err != nil {
		t.Fatal(err)
	}
	want := `{
  "schema": "odmn.eval/v1",
  "model": {
    "name": "ODMN",
    "variant": "odmn",
    "horizons": [
      30
    ]
  },
  "data": {
    "path": "test.csv",
    "split": "test",
    "rows": 2,
    "labels": [
      "ltv30"
    ]
  },
  "decodes": [
    {
      "decode": "argmax",
      "report": {
        "n": 2,
        "t": 1,
        "horizons": [
          {
            "horizon": "30d",
            "n": 2,
            "label_mean": 0,
            "pred_mean": 0.5,
            "nrmse": null,
            "nmae": null,
            "ambe": 0.5,
            "gini_label": null,
            "gini_pred": null,
            "mutual_gini": null,
            "normalized_gini": null,
            "spearman": null,
            "deciles": null,
            "notes": [
              "nrmse, nmae: null because mean(y) = 0 is not positive (nothing to normalize by)"
            ]
          }
        ],
        "monotonicity_violation_rate": 0,
        "monotonicity_tol": 0,
        "label_monotonicity_violation_rate": 0,
        "notes": [
          "monotonicity: a single horizon cannot violate monotonicity; rates are 0"
        ]
      }
    }
  ]
}
`
	checkGolden(t, b.String(), want)
}

func TestEvalDocRoundTrip(t *testing.T) {
	m := &train.Model{Cfg: train.DefaultConfig(), Horizons: []int{30, 90}}
	info := ModelInfoOf(m, "ODMN", "model.odmn")
	m.Horizons[0] = 7 // the info holds a copy
	if info.Variant != "odmn" || info.Horizons[0] != 30 || info.Config == nil || info.Config.Batch != 512 {
		t.Fatalf("ModelInfoOf = %+v", info)
	}
	labels := [][]float64{{0, 1}, {2, 2}, {0, 5}, {1, 1}}
	preds := [][]float64{{0.5, 1}, {1, 3}, {0.2, 4}, {1, 0.5}}
	var decodes []DecodeEval
	for _, name := range []string{"argmax", "ev"} {
		mr, err := metrics.ComputeMultiReport(labels, preds, metrics.Options{Horizons: []string{"30d", "90d"}, LorenzPoints: 4})
		if err != nil {
			t.Fatal(err)
		}
		decodes = append(decodes, DecodeEval{Decode: name, Report: mr})
	}
	doc := NewEvalDoc(info, DataInfo{Rows: 4}, decodes...)
	var b bytes.Buffer
	if err := WriteJSON(&b, doc); err != nil {
		t.Fatal(err)
	}
	first := b.String()
	back, err := ReadEvalDoc(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, doc) {
		t.Errorf("round trip changed the document:\n got  %+v\n want %+v", back, doc)
	}
	// Stable: writing the decoded document gives the same bytes.
	var again bytes.Buffer
	if err := WriteJSON(&again, back); err != nil {
		t.Fatal(err)
	}
	if again.String() != first {
		t.Error("second encoding differs from the first")
	}
	evals := back.Evals()
	if len(evals) != 2 || evals[0].Model != "ODMN argmax" || evals[1].Model != "ODMN ev" {
		t.Errorf("Evals names: %+v", evals)
	}
	if rows := Rows(evals); len(rows) != 4 || rows[3].Horizon != "90d" {
		t.Errorf("Rows(Evals) = %d rows", len(rows))
	}
}

func TestEvalDocValidate(t *testing.T) {
	base := tinyDoc()
	mutate := map[string]func(d *EvalDoc){
		"schema":      func(d *EvalDoc) { d.Schema = "odmn.eval/v0" },
		"no decodes":  func(d *EvalDoc) { d.Decodes = nil },
		"empty name":  func(d *EvalDoc) { d.Decodes[0].Decode = " " },
		"duplicate":   func(d *EvalDoc) { d.Decodes = append(d.Decodes, d.Decodes[0]) },
		"horizon set": func(d *EvalDoc) { d.Decodes = append(d.Decodes, DecodeEval{Decode: "ev"}) },
	}
	for name, fn := range mutate {
		d := base
		d.Decodes = append([]DecodeEval(nil), base.Decodes...)
		fn(&d)
		var b bytes.Buffer
		if err := WriteJSON(&b, d); err == nil {
			t.Errorf("%s: WriteJSON accepted an invalid document", name)
		} else if b.Len() != 0 {
			t.Errorf("%s: invalid document partly written", name)
		}
	}
	_, err := ReadEvalDoc(strings.NewReader(`{"schema": "other/v9", "decodes": []}`))
	if !errors.Is(err, ErrSchema) {
		t.Errorf("other schema: err = %v, want ErrSchema", err)
	}
	// Unknown fields are ignored (forward compatible within a version).
	var b bytes.Buffer
	if err := WriteJSON(&b, base); err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(b.String(), `"schema": "odmn.eval/v1",`, `"schema": "odmn.eval/v1", "added_later": {"x": 1},`, 1)
	if _, err := ReadEvalDoc(strings.NewReader(s)); err != nil {
		t.Errorf("unknown field rejected: %v", err)
	}
	d := EvalDoc{Model: ModelInfo{Variant: "sm"}}
	if got := d.Evals(); len(got) != 0 {
		t.Errorf("Evals of no decodes = %v", got)
	}
	d.Decodes = []DecodeEval{{Decode: "ev"}}
	if got := d.Evals()[0].Model; got != "SM ev" {
		t.Errorf("name from variant = %q, want %q", got, "SM ev")
	}
}
