// Package testenv lets odmn's tests ask for what they need from the machine
// (the ONNX Runtime library, Python's onnx, the ONNX node test data) and
// decide what to do when it is missing: under CI (CI=true) a missing
// prerequisite fails the test, because `make deps` should have installed it;
// elsewhere the test is skipped with the command that installs it.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/odmn/odmn/internal/ortlib"
)

// NodeTestDataDir is where Debian's libonnx-testdata puts the ONNX backend
// node tests (one directory per test: model.onnx and test_data_set_*/).
const NodeTestDataDir = "/usr/share/libonnx-testdata/data/node"

// PythonPath is the interpreter that has Debian's python3-onnx.
const PythonPath = "/usr/bin/python3"

// InCI reports whether the tests run under CI (environment CI=true), where a
// missing prerequisite is an error rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing fails the test under CI and skips it otherwise: what is the
// missing prerequisite, fix the command that provides it.
func Missing(tb testing.TB, what, fix string) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("%s; CI=true, so this is an error: %s", what, fix)
	}
	tb.Skipf("%s; %s", what, fix)
}

// RequireLib returns the path of the ONNX Runtime shared library, found the
// same way as runtime/ort finds it (ODMN_ORT_LIB, else
// .cache/ort/libonnxruntime.so.1 under the odmn module root). When it is
// missing the test fails under CI and is skipped otherwise.
func RequireLib(tb testing.TB) string {
	tb.Helper()
	path, where := LibPath()
	if path == "" {
		Missing(tb, "ONNX Runtime library not found ("+where+")",
			"run 'make ort' (or scripts/fetch-ort.sh) in the odmn repository, or set ODMN_ORT_LIB to a libonnxruntime.so.1")
		return ""
	}
	return path
}

// LibPath applies runtime/ort's library discovery rule (package ortlib)
// without loading anything. It returns the path when the file exists and is
// non-empty, else "" and where it looked.
func LibPath() (path, where string) {
	p, err := ortlib.Path()
	if err != nil {
		return "", err.Error()
	}
	return p, ""
}

// ModuleRoot is the odmn module root above the working directory, or "".
func ModuleRoot() string { return ortlib.ModuleRoot() }

// RequirePythonONNX checks that /usr/bin/python3 can import onnx (Debian's
// python3-onnx) and returns the interpreter's path.
// The check runs once per test binary.
func RequirePythonONNX(tb testing.TB) string {
	tb.Helper()
	pythonOnce.Do(func() {
		out, err := exec.Command(PythonPath, "-c", "import onnx").CombinedOutput()
		if err != nil {
			pythonErr = strings.TrimSpace(err.Error() + " " + string(out))
		}
	})
	if pythonErr != "" {
		Missing(tb, "python onnx not available ("+PythonPath+" -c 'import onnx': "+pythonErr+")",
			"run 'make deps' (installs python3-onnx)")
		return ""
	}
	return PythonPath
}

var (
	pythonOnce sync.Once
	pythonErr  string
)

// RequireNodeTestData returns the ONNX node test data directory
// (/usr/share/libonnx-testdata/data/node).
func RequireNodeTestData(tb testing.TB) string {
	tb.Helper()
	st, err := os.Stat(NodeTestDataDir)
	if err != nil || !st.IsDir() {
		Missing(tb, "ONNX node test data not found at "+NodeTestDataDir,
			"run 'make deps' (installs libonnx-testdata)")
		return ""
	}
	return NodeTestDataDir
}
