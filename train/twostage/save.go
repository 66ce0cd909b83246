package twostage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/odmn/odmn/internal/fsutil"
)

// Files of a model directory.
const (
	ModelFile = "twostage.json" // config, features, stages
	// Booster files, per horizon H: "h<H>-classifier.json" and
	// "h<H>-regressor.json", XGBoost's JSON model format (absent for a
	// constant stage).
	classifierFile = "h%d-classifier.json"
	regressorFile  = "h%d-regressor.json"
)

// FormatVersion is the version of the model directory layout.
const FormatVersion = 1

// Kind is the model kind recorded in model.json and in the exported
// file's odmn.model metadata.
const Kind = "twostage"

type modelFile struct {
	Format int    `json:"format"`
	Kind   string `json:"kind"`
	Model  *Model `json:"model"`
}

// Save writes the model to dir: into a new sibling directory, then renamed
// over dir (an existing dir is replaced only once the new one is complete).
func (m *Model) Save(dir string) error {
	d, err := fsutil.MkdirTemp(dir)
	if err != nil {
		return fmt.Errorf("twostage: %w", err)
	}
	if err := m.write(d.Path); err != nil {
		d.Abort()
		return d.Wrap(err)
	}
	if err := d.Commit(); err != nil {
		return fmt.Errorf("twostage: %w", err)
	}
	return nil
}

func (m *Model) write(dir string) error {
	b, err := json.MarshalIndent(modelFile{Format: FormatVersion, Kind: Kind, Model: m}, "", "  ")
	if err != nil {
		return fmt.Errorf("twostage: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ModelFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("twostage: %w", err)
	}
	for _, s := range m.Stages {
		for _, f := range []struct {
			b    *booster
			name string
		}{{s.classifier, classifierFile}, {s.regressor, regressorFile}} {
			if f.b == nil {
				continue
			}
			js, err := f.b.saveJSON()
			if err != nil {
				return fmt.Errorf("twostage: horizon %d: %w", s.Horizon, err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(f.name, s.Horizon)), js, 0o644); err != nil {
				return fmt.Errorf("twostage: %w", err)
			}
		}
	}
	return nil
}

// Load reads a model directory written by Save.
func Load(dir string) (*Model, error) {
	b, err := os.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		return nil, fmt.Errorf("twostage: %w", err)
	}
	var mf modelFile
	if err := json.Unmarshal(b, &mf); err != nil {
		return nil, fmt.Errorf("twostage: %s: %w", ModelFile, err)
	}
	if mf.Kind != Kind || mf.Format != FormatVersion || mf.Model == nil {
		return nil, fmt.Errorf("twostage: %s is not a Two-Stage model of format %d (kind %q, format %d)", ModelFile, FormatVersion, mf.Kind, mf.Format)
	}
	m := mf.Model
	if err := m.Config.Validate(); err != nil {
		return nil, err
	}
	if len(m.Features) == 0 || len(m.Stages) == 0 {
		return nil, errors.New("twostage: model has no features or no stages")
	}
	for _, s := range m.Stages {
		if s == nil {
			return nil, errors.New("twostage: model has a null stage")
		}
		for _, f := range []struct {
			dst    **booster
			name   string
			rounds int
		}{{&s.classifier, classifierFile, s.ClassifierRounds}, {&s.regressor, regressorFile, s.RegressorRounds}} {
			path := filepath.Join(dir, fmt.Sprintf(f.name, s.Horizon))
			js, err := os.ReadFile(path)
			if errors.Is(err, os.ErrNotExist) && f.rounds == 0 {
				continue
			}
			if err != nil {
				m.Close()
				return nil, fmt.Errorf("twostage: %w", err)
			}
			bst, err := loadBooster(js)
			if err != nil {
				m.Close()
				return nil, fmt.Errorf("twostage: %s: %w", path, err)
			}
			if n, err := bst.rounds(); err != nil || n != f.rounds {
				bst.Close()
				m.Close()
				return nil, fmt.Errorf("twostage: %s has %d rounds, %s says %d (%v)", path, n, ModelFile, f.rounds, err)
			}
			if err := bst.setParam("nthread", strconv.Itoa(max(m.Config.Threads, 1))); err != nil {
				bst.Close()
				m.Close()
				return nil, err
			}
			*f.dst = bst
		}
	}
	return m, nil
}
