package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/train"
)

func smallTable(t *testing.T, users int) (string, string) {
	t.Helper()
	dir := t.TempDir()
	tab, spec, err := synth.Generate(synth.Config{Users: users, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.csv")
	if err := data.WriteFile(path, tab); err != nil {
		t.Fatal(err)
	}
	if err := spec.Save(data.SpecPathFor(path)); err != nil {
		t.Fatal(err)
	}
	return path, data.SpecPathFor(path)
}

func tinyTrainConfig() train.Config {
	cfg := train.DefaultConfig()
	cfg.Bottom, cfg.Tower, cfg.Epochs, cfg.Batch = []int{16}, 8, 3, 256
	return cfg
}

// An interrupt after the first epoch stops training and leaves that epoch's
// checkpoint, a loadable model directory; no model directory is written.
func TestTrainInterruptKeepsCheckpoint(t *testing.T) {
	path, spec := smallTable(t, 3000)
	out := filepath.Join(t.TempDir(), "model")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := tinyTrainConfig()
	cfg.Epochs, cfg.Patience = 200, 0 // far longer than the interrupt takes to arrive
	o := trainOptions{data: path, spec: spec, out: out, cfg: cfg, quiet: true}
	var stdout bytes.Buffer
	// Cancel as soon as the first checkpoint exists.
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(out+".checkpoint", train.ModelFile)); err == nil {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	_, err := runTrain(ctx, o, &stdout, &stdout)
	if err == nil {
		t.Fatal("training finished although it was interrupted")
	}
	if !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), ".checkpoint") {
		t.Fatalf("error %q does not say where the checkpoint is", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("model directory written after an interrupt: %v", err)
	}
	b, err := train.LoadBundle(out + ".checkpoint")
	if err != nil {
		t.Fatalf("checkpoint does not load: %v", err)
	}
	if b.History == nil || len(b.History.Epochs) == 0 {
		t.Fatal("checkpoint has no training curve")
	}
}

func TestTrainBadInput(t *testing.T) {
	path, spec := smallTable(t, 200)
	dir := t.TempDir()
	// A spec naming a column the data lacks.
	s, err := data.LoadSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	s.Numeric = append(s.Numeric, data.Numeric{Name: "no_such_column"})
	bad := filepath.Join(dir, "bad.spec.json")
	if err := s.Save(bad); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = runTrain(context.Background(), trainOptions{data: path, spec: bad, out: filepath.Join(dir, "m"), cfg: tinyTrainConfig(), quiet: true}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "no_such_column") {
		t.Fatalf("missing column: got %v", err)
	}
	// Labels that decrease across horizons.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	header := strings.Split(lines[0], ",")
	i30, i90 := -1, -1
	for i, h := range header {
		switch h {
		case "ltv_30":
			i30 = i
		case "ltv_90":
			i90 = i
		}
	}
	f := strings.Split(lines[3], ",")
	f[i30], f[i90] = "50", "10"
	lines[3] = strings.Join(f, ",")
	dec := filepath.Join(dir, "dec.csv")
	if err := os.WriteFile(dec, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runTrain(context.Background(), trainOptions{data: dec, spec: spec, out: filepath.Join(dir, "m2"), cfg: tinyTrainConfig(), quiet: true}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "row 3") || !strings.Contains(err.Error(), "ltv_30") {
		t.Fatalf("decreasing labels: got %v", err)
	}
	// A non-numeric value.
	f = strings.Split(lines[5], ",")
	f[i90] = "lots"
	lines[5] = strings.Join(f, ",")
	nn := filepath.Join(dir, "nn.csv")
	if err := os.WriteFile(nn, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runTrain(context.Background(), trainOptions{data: nn, spec: spec, out: filepath.Join(dir, "m3"), cfg: tinyTrainConfig(), quiet: true}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "ltv_90") || !strings.Contains(err.Error(), "lots") && !strings.Contains(err.Error(), "row 5") {
		t.Fatalf("non-numeric: got %v", err)
	}
	for _, m := range []string{"m", "m2", "m3"} {
		if _, err := os.Stat(filepath.Join(dir, m)); !os.IsNotExist(err) {
			t.Fatalf("a failed run left model directory %s", m)
		}
	}
}
