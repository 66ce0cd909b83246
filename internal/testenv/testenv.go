// Package testenv lets odmn's tests ask for what they need from the machine
// (the ONNX Runtime library, Python's onnx, the ONNX node test data) and
// decide what to do when it is missing: under CI (CI=true) a missing
// prerequisite fails the test, because `make deps` should have installed it;
// elsewhere the test is skipped with the command that installs it.
package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// NodeTestDataDir is where Debian's libonnx-testdata puts the ONNX backend
// node tests (one directory per test: model.onnx and test_data_set_*/).
const NodeTestDataDir = "/usr/share/libonnx-testdata/data/node"

// PythonPath is the interpreter that has Debian's python3-onnx.
const PythonPath = "/usr/bin/python3"

// InCI reports whether the tests run under CI (environment CI=true), where a
// missing prerequisite is an error rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// missing fails the test under CI and skips it otherwise.
func missing(tb testing.TB, what, fix string) {
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
		missing(tb, "ONNX Runtime library not found ("+where+")",
			"run 'make ort' (or scripts/fetch-ort.sh) in the odmn repository, or set ODMN_ORT_LIB to a libonnxruntime.so.1")
		return ""
	}
	return path
}

// LibPath applies runtime/ort's library discovery rule without loading
// anything. It returns the path when the file exists and is non-empty, else
// "" and a description of where it looked. (runtime/ort's tests check that
// the two implementations agree.)
func LibPath() (path, where string) {
	if p := os.Getenv("ODMN_ORT_LIB"); p != "" {
		if nonEmptyFile(p) {
			return p, ""
		}
		return "", "ODMN_ORT_LIB=" + p + " does not exist or is empty"
	}
	root := ModuleRoot()
	if root == "" {
		return "", "ODMN_ORT_LIB is unset and no odmn go.mod above the working directory"
	}
	p := filepath.Join(root, ".cache", "ort", "libonnxruntime.so.1")
	if nonEmptyFile(p) {
		return p, ""
	}
	return "", "ODMN_ORT_LIB is unset and " + p + " does not exist or is empty"
}

// ModuleRoot walks up from the working directory to the directory whose
// go.mod declares `module odmn`, or returns "".
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if isOdmnModule(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isOdmnModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == "odmn"
		}
	}
	return false
}

func nonEmptyFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

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
		missing(tb, "python onnx not available ("+PythonPath+" -c 'import onnx': "+pythonErr+")",
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
		missing(tb, "ONNX node test data not found at "+NodeTestDataDir,
			"run 'make deps' (installs libonnx-testdata)")
		return ""
	}
	return NodeTestDataDir
}
