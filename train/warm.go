package train

import (
	"encoding/json"
	"fmt"

	"github.com/odmn/odmn/data"
)

// Warm is a warm start from a previous model directory: the new day's
// data is encoded with the previous encoder (same numeric bins, same ids
// for known categories) whose vocabularies are extended with the new
// categories, and training starts from the previous weights, keeping the
// previous label layout unless RefitLayout.
type Warm struct {
	// Prev is the previous model directory's bundle.
	Prev *Bundle
	// Encoder is the previous encoder with extended vocabularies; encode
	// the new data with it.
	Encoder *data.Encoder
	// Added counts the categories added per categorical feature.
	Added map[string]int
	// Config is the previous architecture (variant, widths) with the
	// training knobs (rates, batch, epochs, patience, validation share,
	// seed) of the config given to NewWarm.
	Config Config
	// RefitLayout refits the label layout (sub-distributions and buckets)
	// on the new training rows; parameters whose shape changed with it
	// start cold.
	RefitLayout bool
	// Reused, Resized and Cold count the parameters taken whole, taken in
	// part (the embedding table grown by new categories) and initialized
	// as for a cold start; set by Prepare.
	Reused, Resized, Cold int
}

// NewWarm loads the model directory prevDir and extends its encoder with
// the categories of the training rows of path (all rows when rows is nil)
// that it does not know, in the order data.Fit would give them, after the
// known ones so that every known id keeps its embedding row.
func NewWarm(prevDir, path string, spec *data.Spec, rows []int, cfg Config, refit bool) (*Warm, error) {
	prev, err := LoadBundle(prevDir)
	if err != nil {
		return nil, err
	}
	if prev.Encoder == nil {
		return nil, fmt.Errorf("%s: no %s: a warm start needs the previous encoder", prevDir, EncoderFile)
	}
	if err := prev.Encoder.CheckSpec(spec); err != nil {
		return nil, fmt.Errorf("--init-from %s: %w", prevDir, err)
	}
	fresh, err := data.Fit(path, spec, data.FitOptions{Rows: rows, Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	enc, added, err := ExtendEncoder(prev.Encoder, fresh)
	if err != nil {
		return nil, err
	}
	c := prev.Model.Cfg
	c.LR, c.EmbedLR, c.Batch, c.Epochs = cfg.LR, cfg.EmbedLR, cfg.Batch, cfg.Epochs
	c.Patience, c.ValFrac, c.Seed = cfg.Patience, cfg.ValFrac, cfg.Seed
	if refit {
		c.Buckets, c.BBTInit = cfg.Buckets, cfg.BBTInit
	}
	return &Warm{Prev: prev, Encoder: enc, Added: added, Config: c, RefitLayout: refit}, nil
}

// ExtendEncoder returns prev with, per categorical feature, the values of
// fresh that prev lacks appended (with fresh's counts). Bins, the fit
// record and the known values stay prev's.
func ExtendEncoder(prev, fresh *data.Encoder) (*data.Encoder, map[string]int, error) {
	if len(prev.Categorical) != len(fresh.Categorical) {
		return nil, nil, fmt.Errorf("encoders differ: %d and %d categorical features", len(prev.Categorical), len(fresh.Categorical))
	}
	// A deep copy through JSON, which also builds the value index.
	raw, err := json.Marshal(prev)
	if err != nil {
		return nil, nil, err
	}
	var out data.Encoder
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, nil, err
	}
	added := map[string]int{}
	for k := range out.Categorical {
		c := &out.Categorical[k]
		f := fresh.Categorical[k]
		if c.Name != f.Name {
			return nil, nil, fmt.Errorf("encoders differ: categorical feature %d is %q and %q", k, c.Name, f.Name)
		}
		known := make(map[string]bool, len(c.Values))
		for _, v := range c.Values {
			known[v] = true
		}
		for i, v := range f.Values {
			if !known[v] {
				c.Values = append(c.Values, v)
				c.Counts = append(c.Counts, f.Counts[i])
				added[c.Name]++
			}
		}
	}
	raw, err = json.Marshal(&out)
	if err != nil {
		return nil, nil, err
	}
	var ext data.Encoder
	if err := json.Unmarshal(raw, &ext); err != nil {
		return nil, nil, err
	}
	return &ext, added, nil
}

// Prepare builds the starting model for Fit (use it as Hooks.Prepare):
// the previous label layout (or a refitted one), then every parameter
// created as for a cold start and overwritten by the previous model's
// where the shapes agree; the embedding table takes the previous rows of
// every known id, feature by feature, and new categories keep their cold
// rows.
func (w *Warm) Prepare(ds *data.Dataset, trainIdx []int, cfg Config) (*Model, error) {
	prev := w.Prev.Model
	var m *Model
	if w.RefitLayout {
		var err error
		if m, err = Prepare(ds, trainIdx, cfg); err != nil {
			return nil, err
		}
	} else {
		hs := ds.Horizons()
		for t, li := range prev.Labels {
			if li >= len(hs) || hs[li] != prev.Horizons[t] {
				return nil, fmt.Errorf("warm start: the previous model predicts horizon %d from label column %d; the data's horizons are %v", prev.Horizons[t], li, hs)
			}
		}
		m = NewModel(cfg, ds.Features, prev.Horizons, prev.Labels, prev.Tasks, prev.LabelScale)
		m.Scales = append([]float64(nil), prev.Scales...)
	}
	if len(m.Features) != len(prev.Features) {
		return nil, fmt.Errorf("warm start: %d feature slots, the previous model has %d", len(m.Features), len(prev.Features))
	}
	for i, f := range m.Features {
		p := prev.Features[i]
		if f.Column != p.Column || f.Type != p.Type || f.Cardinality < p.Cardinality {
			return nil, fmt.Errorf("warm start: feature slot %d is %s %s with %d ids; the previous model has %s %s with %d", i, f.Type, f.Column, f.Cardinality, p.Type, p.Column, p.Cardinality)
		}
	}
	if _, _, err := m.TrainGraph(); err != nil { // creates every parameter, cold
		return nil, err
	}
	w.Reused, w.Resized, w.Cold = 0, 0, 0
	for _, p := range m.params {
		old := prev.byName[p.Name]
		switch {
		case old == nil:
			w.Cold++
		case p.Name == "embedding" && len(p.T.Shape) == 2 && len(old.T.Shape) == 2 && p.T.Shape[1] == old.T.Shape[1]:
			d := p.T.Shape[1]
			newOff, oldOff := 0, 0
			for i, f := range m.Features {
				copy(p.T.F[newOff*d:(newOff+prev.Features[i].Cardinality)*d], old.T.F[oldOff*d:(oldOff+prev.Features[i].Cardinality)*d])
				newOff += f.Cardinality
				oldOff += prev.Features[i].Cardinality
			}
			if oldOff != old.T.Shape[0] {
				return nil, fmt.Errorf("warm start: the previous embedding table has %d rows, its features %d", old.T.Shape[0], oldOff)
			}
			if newOff == oldOff {
				w.Reused++
			} else {
				w.Resized++
			}
		case sameShape(p.T.Shape, old.T.Shape):
			copy(p.T.F, old.T.F)
			w.Reused++
		default:
			w.Cold++
		}
	}
	return m, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
