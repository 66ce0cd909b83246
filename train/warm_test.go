package train_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/train"
)

// TestWarmStart: a model trained on day 1 starts day 2 with its weights,
// its label layout and its bins; a category new on day 2 gets a new
// embedding row, initialized cold, and every known id keeps its row.
func TestWarmStart(t *testing.T) {
	ctx := context.Background()
	day1, spec := synthFiles(t, 2000, 21)
	enc1, err := data.Fit(day1, spec, data.FitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ds1, err := data.Load(day1, spec, enc1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.Bottom, cfg.Tower, cfg.MonoDim, cfg.Epochs = []int{16}, 8, 4, 1
	m1, h1, err := train.Fit(ctx, ds1, cfg, train.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "day1")
	if err := (&train.Bundle{Model: m1, Spec: spec, Encoder: enc1, History: h1}).Save(dir); err != nil {
		t.Fatal(err)
	}

	// Day 2: another seed, and a channel never seen on day 1.
	tab, _, err := synth.Generate(synth.Config{Users: 2000, Seed: 22})
	if err != nil {
		t.Fatal(err)
	}
	ch := tab.Col(synth.ColChannel)
	for i := 0; i < 50; i++ {
		tab.Str[ch][i] = "brand_new_channel"
	}
	day2 := filepath.Join(t.TempDir(), "day2.csv")
	if err := data.WriteFile(day2, tab); err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.Bottom, cfg2.Epochs, cfg2.Seed = []int{99}, 2, 7 // the architecture stays day 1's
	w, err := train.NewWarm(dir, day2, spec, nil, cfg2, false)
	if err != nil {
		t.Fatal(err)
	}
	if w.Added[synth.ColChannel] != 1 {
		t.Fatalf("added categories %v, want 1 channel", w.Added)
	}
	if w.Config.Bottom[0] != 16 || w.Config.Epochs != 2 || w.Config.Seed != 7 {
		t.Fatalf("config %+v: want day 1's architecture with day 2's knobs", w.Config)
	}
	for k, c := range w.Encoder.Categorical {
		old := enc1.Categorical[k].Values
		for i := range old {
			if c.Values[i] != old[i] {
				t.Fatalf("%s: id %d is %q, was %q", c.Name, i+1, c.Values[i], old[i])
			}
		}
	}
	for k, b := range w.Encoder.Numeric {
		if len(b.Bounds) != len(enc1.Numeric[k].Bounds) || (len(b.Bounds) > 0 && b.Bounds[0] != enc1.Numeric[k].Bounds[0]) {
			t.Fatalf("%s: bins changed", b.Name)
		}
	}
	ds2, err := data.Load(day2, spec, w.Encoder)
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.Prepare(ds2, nil, w.Config)
	if err != nil {
		t.Fatal(err)
	}
	if w.Resized != 1 || w.Cold != 0 || w.Reused != len(m.Params())-1 {
		t.Fatalf("reused %d, resized %d, cold %d of %d", w.Reused, w.Resized, w.Cold, len(m.Params()))
	}
	for _, p := range m.Params() {
		old := m1.Param(p.Name)
		if p.Name == "embedding" {
			if p.T.Shape[0] != old.T.Shape[0]+1 {
				t.Fatalf("embedding rows %d, want %d+1", p.T.Shape[0], old.T.Shape[0])
			}
			// The rows before the channel feature's new id are unchanged.
			d := p.T.Shape[1]
			chCard := 0
			for _, f := range m1.Features {
				if f.Column == synth.ColChannel {
					chCard = f.Cardinality
					break
				}
			}
			off := 0
			for _, f := range m1.Features {
				if f.Column == synth.ColChannel {
					break
				}
				off += f.Cardinality
			}
			for i := 0; i < (off+chCard)*d; i++ {
				if p.T.F[i] != old.T.F[i] {
					t.Fatalf("embedding value %d changed", i)
				}
			}
			for i := (off + chCard + 1) * d; i < len(p.T.F); i++ {
				if p.T.F[i] != old.T.F[i-d] {
					t.Fatalf("embedding value %d not shifted by the new row", i)
				}
			}
			continue
		}
		for i := range p.T.F {
			if p.T.F[i] != old.T.F[i] {
				t.Fatalf("%s[%d] = %v, want day 1's %v", p.Name, i, p.T.F[i], old.T.F[i])
			}
		}
	}
	// Fit with the warm model, and with a refitted layout.
	if _, h, err := train.Fit(ctx, ds2, w.Config, train.Hooks{Prepare: w.Prepare}); err != nil || len(h.Epochs) == 0 {
		t.Fatalf("warm fit: %v", err)
	}
	wr, err := train.NewWarm(dir, day2, spec, nil, cfg2, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := train.Fit(ctx, ds2, wr.Config, train.Hooks{Prepare: wr.Prepare}); err != nil {
		t.Fatalf("warm fit with a refitted layout: %v", err)
	}
	if wr.Reused == 0 {
		t.Fatal("refitted layout reused no parameter")
	}
}
