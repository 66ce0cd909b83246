package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/fsutil"
)

// Version is odmn's version, written into model directories and ONNX files.
const Version = "0.1.0"

// Files of a model directory.
const (
	ModelFile   = "model.json"   // config, label layout, parameter index
	WeightsFile = "weights.bin"  // float32 little-endian parameters, in index order
	SpecFile    = "spec.json"    // the feature spec
	EncoderFile = "encoder.json" // fitted vocabularies and bins
	HistoryFile = "history.json" // training curve
)

type paramEntry struct {
	Name      string `json:"name"`
	Shape     []int  `json:"shape"`
	Embedding bool   `json:"embedding,omitempty"`
}

type modelFile struct {
	Format  int          `json:"format"`
	Version string       `json:"odmn_version"`
	Model   *Model       `json:"model"`
	Params  []paramEntry `json:"params"`
	// Fingerprint identifies the training data (see data set fingerprint).
	Fingerprint string `json:"data_fingerprint,omitempty"`
}

// Bundle is everything a model directory holds.
type Bundle struct {
	Model       *Model
	Spec        *data.Spec
	Encoder     *data.Encoder
	History     *History
	Fingerprint string
}

// Save writes the bundle to dir atomically: into a new sibling directory,
// then renamed over dir (an existing dir is replaced only once the new one
// is complete). Leftovers of a killed Save are removed (see
// internal/fsutil); errors name dir, never the temporary directory.
func (b *Bundle) Save(dir string) error {
	d, err := fsutil.MkdirTemp(dir)
	if err != nil {
		return err
	}
	if err := b.write(d.Path); err != nil {
		d.Abort()
		return d.Wrap(err)
	}
	return d.Commit()
}

func (b *Bundle) write(dir string) error {
	m := b.Model
	mf := modelFile{Format: 1, Version: Version, Model: m, Fingerprint: b.Fingerprint}
	var raw []byte
	for _, p := range m.params {
		mf.Params = append(mf.Params, paramEntry{Name: p.Name, Shape: p.T.Shape, Embedding: p.Embedding})
		for _, v := range p.T.F {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	if err := writeJSON(filepath.Join(dir, ModelFile), mf); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, WeightsFile), raw, 0o644); err != nil {
		return err
	}
	if b.Spec != nil {
		if err := writeJSON(filepath.Join(dir, SpecFile), b.Spec); err != nil {
			return err
		}
	}
	if b.Encoder != nil {
		if err := writeJSON(filepath.Join(dir, EncoderFile), b.Encoder); err != nil {
			return err
		}
	}
	if b.History != nil {
		if err := writeJSON(filepath.Join(dir, HistoryFile), b.History); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// RequiredFiles are the files a model directory must have; HistoryFile
// is optional.
var RequiredFiles = []string{ModelFile, WeightsFile, SpecFile, EncoderFile}

// CheckDir reports whether dir is a model directory, naming every required
// file it lacks.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a model directory (not a directory)", dir)
	}
	var missing []string
	for _, f := range RequiredFiles {
		st, err := os.Stat(filepath.Join(dir, f))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, f)
		case err != nil:
			return err
		case !st.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file", filepath.Join(dir, f))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s is not a complete model directory: missing %s (odmn train writes %s)",
			dir, strings.Join(missing, ", "), strings.Join(RequiredFiles, ", "))
	}
	return nil
}

// LoadBundle reads a model directory. A directory that lacks any of
// RequiredFiles is refused with the list of what is missing.
func LoadBundle(dir string) (*Bundle, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		return nil, err
	}
	var mf modelFile
	if err := json.Unmarshal(raw, &mf); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ModelFile), err)
	}
	if mf.Format != 1 || mf.Model == nil {
		return nil, fmt.Errorf("%s: unknown model format %d", filepath.Join(dir, ModelFile), mf.Format)
	}
	m := mf.Model
	m.byName = map[string]*Param{}
	m.rng = rand.New(rand.NewPCG(m.Cfg.Seed, 0x0d3a))
	w, err := os.ReadFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, err
	}
	off := 0
	for _, e := range mf.Params {
		n := g.Size(e.Shape)
		if off+4*n > len(w) {
			return nil, fmt.Errorf("%s: truncated at parameter %s", filepath.Join(dir, WeightsFile), e.Name)
		}
		t := g.NewTensor(g.Float32, e.Shape)
		for i := range t.F {
			t.F[i] = math.Float32frombits(binary.LittleEndian.Uint32(w[off+4*i:]))
		}
		off += 4 * n
		p := &Param{Name: e.Name, T: t, Embedding: e.Embedding}
		m.params = append(m.params, p)
		m.byName[e.Name] = p
	}
	if off != len(w) {
		return nil, fmt.Errorf("%s: %d bytes left after the last parameter", filepath.Join(dir, WeightsFile), len(w)-off)
	}
	b := &Bundle{Model: m, Fingerprint: mf.Fingerprint}
	if b.Spec, err = data.LoadSpec(filepath.Join(dir, SpecFile)); err != nil {
		return nil, err
	}
	if b.Encoder, err = data.LoadEncoder(filepath.Join(dir, EncoderFile)); err != nil {
		return nil, err
	}
	if raw, err := os.ReadFile(filepath.Join(dir, HistoryFile)); err == nil {
		var h History
		if err := json.Unmarshal(raw, &h); err == nil {
			b.History = &h
		}
	}
	return b, nil
}

// Fingerprint identifies a training set by the SHA-256 of its encoded
// features and labels (stable across file formats and row chunking).
func Fingerprint(ds *data.Dataset) string {
	h := sha256.New()
	var buf [4]byte
	row := make([]int32, ds.F)
	for i := range ds.N {
		for _, v := range ds.RowInto(i, row) {
			binary.LittleEndian.PutUint32(buf[:], uint32(v))
			h.Write(buf[:])
		}
	}
	for _, v := range ds.Y {
		binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
		h.Write(buf[:])
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}
