// Package ortlib finds the ONNX Runtime shared library. It has no cgo, so
// test helpers can apply the same rule as runtime/ort without linking it.
package ortlib

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Env is the environment variable that names the library explicitly.
const Env = "ODMN_ORT_LIB"

// RelPath is where scripts/fetch-ort.sh puts the library, relative to the
// odmn module root.
const RelPath = ".cache/ort/libonnxruntime.so.1"

// FetchHint says how to get the library.
const FetchHint = "run 'make ort' (or scripts/fetch-ort.sh) in the odmn repository, " +
	"or set " + Env + " to the path of libonnxruntime.so.1"

// Path finds the library: $ODMN_ORT_LIB when set, otherwise RelPath under
// the odmn module root (the nearest directory at or above the working
// directory whose go.mod says `module github.com/odmn/odmn`). The file must exist and be
// non-empty; the error says where it looked.
func Path() (string, error) {
	if p := os.Getenv(Env); p != "" {
		if nonEmptyFile(p) {
			return p, nil
		}
		return "", fmt.Errorf("%s=%s does not exist or is empty", Env, p)
	}
	root := ModuleRoot()
	if root == "" {
		return "", fmt.Errorf("%s is unset and there is no odmn go.mod at or above the working directory", Env)
	}
	p := filepath.Join(root, filepath.FromSlash(RelPath))
	if !nonEmptyFile(p) {
		return "", fmt.Errorf("%s is unset and %s does not exist or is empty", Env, p)
	}
	return p, nil
}

// ModuleRoot walks up from the working directory to the directory whose
// go.mod declares `module github.com/odmn/odmn`, or returns "".
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
			return strings.Trim(fields[1], `"`) == modulePath
		}
	}
	return false
}

func nonEmptyFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

// modulePath is odmn's module path, as go.mod declares it.
const modulePath = "github.com/odmn/odmn"
