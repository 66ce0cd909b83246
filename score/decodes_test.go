package score

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/train"
)

// decodeModel trains a small ODMN on synthetic users into a model
// directory and writes 100,000 other users to score.
func decodeModel(t *testing.T) (dir, users string) {
	t.Helper()
	root := t.TempDir()
	var decDir, decData string
	var decErr error
	func() {
		tab, spec, err := synth.Generate(synth.Config{Users: 4000, Seed: 11})
		if err != nil {
			decErr = err
			return
		}
		path := filepath.Join(root, "train.csv")
		if decErr = data.WriteFile(path, tab); decErr != nil {
			return
		}
		enc, err := data.Fit(path, spec, data.FitOptions{Seed: 1})
		if err != nil {
			decErr = err
			return
		}
		ds, err := data.Load(path, spec, enc)
		if err != nil {
			decErr = err
			return
		}
		cfg := train.DefaultConfig()
		cfg.EmbedDim, cfg.Bottom, cfg.Tower, cfg.MonoDim, cfg.Epochs, cfg.Batch = 4, []int{16}, 8, 4, 2, 256
		m, _, err := train.Fit(context.Background(), ds, cfg, train.Hooks{})
		if err != nil {
			decErr = err
			return
		}
		decDir = filepath.Join(root, "model")
		b := &train.Bundle{Model: m, Spec: spec, Encoder: enc, Fingerprint: train.Fingerprint(ds)}
		if decErr = b.Save(decDir); decErr != nil {
			return
		}
		big, _, err := synth.Generate(synth.Config{Users: 100000, Seed: 12})
		if err != nil {
			decErr = err
			return
		}
		decData = filepath.Join(root, "users.csv")
		decErr = data.WriteFile(decData, big)
	}()
	if decErr != nil {
		t.Fatal(decErr)
	}
	return decDir, decData
}

// On 100,000 scored users, with the native runtime and ONNX Runtime, no
// decode (argmax, EV, QM, fqm, the interval quantiles) decreases across
// horizons; QM keeps EV's mean per horizon (before its own running
// maximum) and its order.
func TestDecodesMonotone100k(t *testing.T) {
	dir, users := decodeModel(t)
	m, err := Load(dir, train.InferOptions{Distributions: true, Values: true})
	if err != nil {
		t.Fatal(err)
	}
	rts := []string{Native}
	if testenv.RequireLib(t) != "" {
		rts = append(rts, ORT)
	}
	for _, rt := range rts {
		out := filepath.Join(t.TempDir(), "scores.csv")
		st, err := File(context.Background(), m, users, out, Options{Runtime: rt, QM: true, Batch: 8192})
		if err != nil {
			t.Fatal(err)
		}
		_, rows, cols := readOut(t, out)
		if len(rows) != 100000 || st.Scored != 100000 {
			t.Fatalf("%s: %d rows", rt, len(rows))
		}
		at := map[string]int{}
		for j, c := range cols[1:] {
			at[c] = j
		}
		hs := m.HorizonNames(len(m.Horizons))
		for _, pfx := range []string{"ltv_", "ltv_ev_", "ltv_qm_", "ltv_fqm_", "ltv_p10_", "ltv_p50_", "ltv_p90_"} {
			bad := 0
			for _, r := range rows {
				for k := 1; k < len(hs); k++ {
					a, ok1 := at[pfx+hs[k-1]]
					b, ok2 := at[pfx+hs[k]]
					if !ok1 || !ok2 {
						t.Fatalf("%s: no %s columns in %v", rt, pfx, cols)
					}
					if r[b] < r[a] {
						bad++
						break
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d users with a decreasing %s", rt, bad, pfx)
			}
		}
		// Intervals are ordered; QM's mean is EV's at the first horizon
		// (no running maximum there) and it never reverses EV's order.
		h := hs[0]
		var sev, sqm float64
		type pair struct{ ev, qm float64 }
		var ps []pair
		for _, r := range rows {
			if r[at["ltv_p10_"+h]] > r[at["ltv_p50_"+h]] || r[at["ltv_p50_"+h]] > r[at["ltv_p90_"+h]] {
				t.Fatalf("%s: intervals out of order: %v", rt, r)
			}
			sev += float64(float32(r[at["ltv_ev_"+h]]))
			sqm += r[at["ltv_qm_"+h]]
			ps = append(ps, pair{float64(float32(r[at["ltv_ev_"+h]])), r[at["ltv_qm_"+h]]})
		}
		if math.Abs(sqm-sev) > 1e-6*sev {
			t.Errorf("%s: QM mean %v, EV mean %v", rt, sqm/1e5, sev/1e5)
		}
		for i := range ps {
			for _, j := range []int{(i * 7919) % len(ps), (i * 104729) % len(ps)} {
				if ps[i].ev < ps[j].ev && ps[i].qm > ps[j].qm {
					t.Fatalf("%s: QM reverses EV order: %v and %v", rt, ps[i], ps[j])
				}
			}
		}
	}
}

// QM needs the distributions: an ONNX file without them is refused with
// a message that says how to export one.
func TestQMNeedsDistributions(t *testing.T) {
	m := loadGolden(t)
	_, err := File(context.Background(), m, goldenInputs, filepath.Join(t.TempDir(), "x.csv"), Options{QM: true})
	if err == nil {
		t.Fatal("QM without distributions accepted")
	}
	want := "--distributions"
	if got := err.Error(); !strings.Contains(got, want) {
		t.Errorf("error %q does not say %s", got, want)
	}
}
