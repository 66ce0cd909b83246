package compat

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
)

// TestVersionTableUpToDate regenerates versions_gen.go with the installed
// onnx and compares.
func TestVersionTableUpToDate(t *testing.T) {
	py := testenv.RequirePythonONNX(t)
	out := filepath.Join(t.TempDir(), "versions_gen.go")
	cmd := exec.Command(py, "gen_versions.py", out)
	cmd.Env = append(os.Environ(), "PATH=") // no gofmt: formatted below
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen_versions.py: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err = format.Source(got)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("versions_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("versions_gen.go is stale: run go generate ./compat/")
	}
}

// TestOpDefVersions: every registered ai.onnx op's Since and Compat are
// versions that op really has, so the importer's version logic holds.
// Versions after maxKnownOpset cannot be checked (and are never used: the
// importer refuses newer opsets).
func TestOpDefVersions(t *testing.T) {
	for _, d := range graph.Defs() {
		if d.Domain != "" || d.Internal || d.Function != nil {
			continue
		}
		hist, ok := opsetHistory[d.Type]
		if !ok {
			t.Errorf("op %s is not an ai.onnx op known up to opset %d", d.Type, maxKnownOpset)
			continue
		}
		for _, v := range append([]int{d.Since}, d.Compat...) {
			if v <= maxKnownOpset && !slices.Contains(hist, v) {
				t.Errorf("op %s declares version %d, but its versions are %v", d.Type, v, hist)
			}
		}
	}
}
