// Package benchdata makes the encoded synthetic data set that odmn's
// benchmarks (Go benchmarks and `odmn bench`) train and score on: users from
// fixtures/synth streamed to a CSV file in a directory the caller owns (so
// that the table is never whole in memory), an encoder fitted on them and
// the table encoded.
package benchdata

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
)

// Set is a generated data set.
type Set struct {
	Path    string // the CSV file
	Spec    *data.Spec
	Encoder *data.Encoder
	Data    *data.Dataset // encoded
}

// Synthetic generates users synthetic new users (seeded) into dir and
// encodes them.
func Synthetic(users int, seed uint64, dir string) (*Set, error) {
	cfg := synth.Config{Users: users, Seed: seed}
	path := filepath.Join(dir, fmt.Sprintf("users-%d-%d.csv", users, seed))
	names, kinds := synth.Schema()
	w, err := data.NewWriter(path, names, kinds)
	if err != nil {
		return nil, err
	}
	spec, err := synth.Stream(context.Background(), cfg, w.Write)
	if err != nil {
		_ = w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	enc, err := data.Fit(path, spec, data.FitOptions{Seed: seed})
	if err != nil {
		return nil, err
	}
	ds, err := data.Load(path, spec, enc)
	if err != nil {
		return nil, err
	}
	return &Set{Path: path, Spec: spec, Encoder: enc, Data: ds}, nil
}
