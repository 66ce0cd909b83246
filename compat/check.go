package compat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/onnxpb"
)

// checkScript validates each model file named on the command line with
// onnx's full checker and strict, type-checking shape inference, and
// prints one line per failure.
const checkScript = `
import sys
import onnx
from onnx import checker, shape_inference
bad = 0
for path in sys.argv[1:]:
    try:
        m = onnx.load(path)
        checker.check_model(m, full_check=True)
        shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    except Exception as e:
        bad += 1
        print("%s: %s: %s" % (path.rsplit("/", 1)[-1], type(e).__name__, str(e).strip().replace("\n", " | ")))
sys.exit(1 if bad else 0)
`

// CheckModel validates m with Python's onnx package (python is the
// interpreter, e.g. testenv.PythonPath): onnx.checker.check_model(m,
// full_check=True) and onnx.shape_inference.infer_shapes(m,
// check_type=True, strict_mode=True).
func CheckModel(python string, m *onnxpb.ModelProto) error {
	return CheckModels(python, map[string]*onnxpb.ModelProto{"model": m})
}

// CheckModels validates several models in one Python process; the error
// lists every model that fails, by its key.
func CheckModels(python string, models map[string]*onnxpb.ModelProto) error {
	dir, err := os.MkdirTemp("", "odmn-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keys := make([]string, 0, len(models))
	for k := range models {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"-c", checkScript}
	for i, k := range keys {
		b, err := proto.Marshal(models[k])
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%03d-%s.onnx", i, sanitize(k)))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		args = append(args, p)
	}
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("onnx checker: %v\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
