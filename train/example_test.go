package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/train"
)

// Train ODMN on a table of users, as odmn train does: fit the feature
// encoder on the training rows, encode the table, train with early
// stopping on the validation rows, and save the model directory.
func ExampleFit() {
	dir, err := os.MkdirTemp("", "train-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	users := filepath.Join(dir, "users.csv")
	tab, spec, err := synth.Generate(synth.Config{Users: 2000, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := data.WriteFile(users, tab); err != nil {
		fmt.Println(err)
		return
	}

	cfg := train.DefaultConfig()
	cfg.Bottom, cfg.Tower, cfg.Epochs = []int{32}, 16, 2 // a small, quick model
	trainRows, _ := data.Split(tab.Rows(), cfg.ValFrac, cfg.Seed)
	enc, err := data.Fit(users, spec, data.FitOptions{Rows: trainRows, Seed: cfg.Seed})
	if err != nil {
		fmt.Println(err)
		return
	}
	ds, err := data.Load(users, spec, enc)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, h, err := train.Fit(context.Background(), ds, cfg, train.Hooks{})
	if err != nil {
		fmt.Println(err)
		return
	}
	b := &train.Bundle{Model: m, Spec: spec, Encoder: enc, History: h, Fingerprint: train.Fingerprint(ds)}
	if err := b.Save(filepath.Join(dir, "model")); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("variant", m.Cfg.Variant, "horizons", ds.Horizons())
	fmt.Println("rows", h.TrainRows, "train,", h.ValRows, "validation;", len(h.Epochs), "epochs")
	files, err := os.ReadDir(filepath.Join(dir, "model"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Print(f.Name(), " ")
	}
	fmt.Println()
	// Output:
	// variant odmn horizons [30 90 180 365]
	// rows 1800 train, 200 validation; 2 epochs
	// encoder.json history.json model.json spec.json weights.bin
}
