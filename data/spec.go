package data

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Spec describes the columns of a user table: which are features of which
// kind and which are the per-horizon labels. It is JSON, written beside
// every generated or built data set and stored in every model directory.
//
//	{
//	  "id": "user_id",
//	  "categorical": [{"name": "channel"}],
//	  "numeric": [{"name": "first_value", "bins": 16}],
//	  "sequences": [{"name": "spend", "length": 7, "bins": 8}],
//	  "labels": [{"name": "ltv_30", "horizon": 30}, {"name": "ltv_90", "horizon": 90}],
//	  "label_kind": "money"
//	}
//
// A sequence named "spend" of length 7 reads the columns spend_d1 ...
// spend_d7 (one value per day; SeqColumn names them).
type Spec struct {
	ID          string        `json:"id,omitempty"`
	Categorical []Categorical `json:"categorical,omitempty"`
	Numeric     []Numeric     `json:"numeric,omitempty"`
	Sequences   []Sequence    `json:"sequences,omitempty"`
	Labels      []Label       `json:"labels"`
	// LabelKind is "count" (integer labels such as active days) or "money".
	LabelKind string `json:"label_kind,omitempty"`
}

// Categorical is a text or integer-coded column; its vocabulary is fitted
// on training data and unseen values map to an out-of-vocabulary id.
type Categorical struct {
	Name string `json:"name"`
	// MinCount drops values seen fewer times than this into the OOV id.
	MinCount int `json:"min_count,omitempty"`
}

// Numeric is a number column discretized at equal frequency into Bins
// bins fitted on training data; NaN or missing gets a bin of its own.
type Numeric struct {
	Name string `json:"name"`
	Bins int    `json:"bins,omitempty"`
}

// Sequence is a day-level sequence stored as Length columns.
type Sequence struct {
	Name   string `json:"name"`
	Length int    `json:"length"`
	Bins   int    `json:"bins,omitempty"`
}

// Label is one horizon's cumulative label column.
type Label struct {
	Name    string `json:"name"`
	Horizon int    `json:"horizon"`
}

// SeqColumn names day d (1-based) of a sequence.
func SeqColumn(name string, d int) string { return fmt.Sprintf("%s_d%d", name, d) }

// DefaultBins is used when a numeric or sequence feature leaves Bins at 0.
const DefaultBins = 16

// Validate checks the spec on its own: names present and unique, labels
// given with strictly increasing horizons.
func (s *Spec) Validate() error {
	seen := map[string]string{}
	use := func(name, what string) error {
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("spec: a %s has no name", what)
		}
		if prev, ok := seen[name]; ok {
			return fmt.Errorf("spec: column %q is used as %s and as %s", name, prev, what)
		}
		seen[name] = what
		return nil
	}
	if s.ID != "" {
		if err := use(s.ID, "id"); err != nil {
			return err
		}
	}
	for _, c := range s.Categorical {
		if err := use(c.Name, "categorical feature"); err != nil {
			return err
		}
	}
	for _, c := range s.Numeric {
		if err := use(c.Name, "numeric feature"); err != nil {
			return err
		}
		if c.Bins < 0 || c.Bins == 1 {
			return fmt.Errorf("spec: numeric feature %q: bins must be 0 (default %d) or at least 2, got %d", c.Name, DefaultBins, c.Bins)
		}
	}
	for _, q := range s.Sequences {
		if q.Length < 1 {
			return fmt.Errorf("spec: sequence %q: length must be at least 1", q.Name)
		}
		for d := 1; d <= q.Length; d++ {
			if err := use(SeqColumn(q.Name, d), "sequence "+q.Name); err != nil {
				return err
			}
		}
	}
	if len(s.Labels) == 0 {
		return fmt.Errorf("spec: no label columns")
	}
	for i, l := range s.Labels {
		if err := use(l.Name, "label"); err != nil {
			return err
		}
		if l.Horizon <= 0 {
			return fmt.Errorf("spec: label %q: horizon must be positive", l.Name)
		}
		if i > 0 && l.Horizon <= s.Labels[i-1].Horizon {
			return fmt.Errorf("spec: label %q: horizons must increase (%d after %d)", l.Name, l.Horizon, s.Labels[i-1].Horizon)
		}
	}
	if len(s.Categorical)+len(s.Numeric)+len(s.Sequences) == 0 {
		return fmt.Errorf("spec: no feature columns")
	}
	switch s.LabelKind {
	case "", "count", "money":
	default:
		return fmt.Errorf("spec: label_kind must be \"count\" or \"money\", got %q", s.LabelKind)
	}
	return nil
}

// Columns lists every column the spec reads, in spec order.
func (s *Spec) Columns() []string {
	var cols []string
	if s.ID != "" {
		cols = append(cols, s.ID)
	}
	for _, c := range s.Categorical {
		cols = append(cols, c.Name)
	}
	for _, c := range s.Numeric {
		cols = append(cols, c.Name)
	}
	for _, q := range s.Sequences {
		for d := 1; d <= q.Length; d++ {
			cols = append(cols, SeqColumn(q.Name, d))
		}
	}
	for _, l := range s.Labels {
		cols = append(cols, l.Name)
	}
	return cols
}

// LoadSpec reads and validates a spec file.
func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// Marshal renders the spec as indented JSON.
func (s *Spec) Marshal() ([]byte, error) { return json.MarshalIndent(s, "", "  ") }
