package ort

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	onnxruntime "github.com/yalue/onnxruntime_go"
)

// LibEnv is the environment variable that names the ONNX Runtime shared
// library explicitly.
const LibEnv = "ODMN_ORT_LIB"

// LibRelPath is where scripts/fetch-ort.sh puts the library, relative to the
// odmn module root.
const LibRelPath = ".cache/ort/libonnxruntime.so.1"

// FetchHint says how to get the library; it ends every discovery error.
const FetchHint = "run 'make ort' (or scripts/fetch-ort.sh) in the odmn repository, " +
	"or set " + LibEnv + " to the path of libonnxruntime.so.1"

// ErrLibNotFound is wrapped by the errors of LibraryPath, Open and OpenBytes
// when the shared library cannot be found.
var ErrLibNotFound = errors.New("ONNX Runtime library not found")

// LibraryPath finds the ONNX Runtime shared library: $ODMN_ORT_LIB when set,
// otherwise .cache/ort/libonnxruntime.so.1 in the odmn module root (the
// nearest directory at or above the working directory whose go.mod says
// `module odmn`). The file must exist and be non-empty.
func LibraryPath() (string, error) {
	if p := os.Getenv(LibEnv); p != "" {
		if nonEmptyFile(p) {
			return p, nil
		}
		return "", fmt.Errorf("ort: %w: %s=%s does not exist or is empty; %s", ErrLibNotFound, LibEnv, p, FetchHint)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("ort: %w: %s is unset and %v; %s", ErrLibNotFound, LibEnv, err, FetchHint)
	}
	p := filepath.Join(root, filepath.FromSlash(LibRelPath))
	if !nonEmptyFile(p) {
		return "", fmt.Errorf("ort: %w: %s is unset and %s does not exist or is empty; %s", ErrLibNotFound, LibEnv, p, FetchHint)
	}
	return p, nil
}

// moduleRoot walks up from the working directory to the directory whose
// go.mod declares `module odmn`.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if isOdmnModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod with 'module odmn' at or above %s", wd)
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

var (
	initOnce sync.Once
	initErr  error
	initLib  string
)

// Init loads the ONNX Runtime library and creates the process-wide ORT
// environment. It runs once per process (later calls return the first
// result) and is safe to call from parallel tests; Open and OpenBytes call
// it. The environment lives until the process exits.
func Init() error {
	initOnce.Do(func() {
		if onnxruntime.IsInitialized() {
			// Someone else in this process set onnxruntime_go up; share it.
			initLib = "(initialized elsewhere)"
			return
		}
		path, err := LibraryPath()
		if err != nil {
			initErr = err
			return
		}
		onnxruntime.SetSharedLibraryPath(path)
		if err := onnxruntime.InitializeEnvironment(); err != nil {
			initErr = fmt.Errorf("ort: initializing ONNX Runtime from %s (onnxruntime_go needs C API version 24, ORT >= 1.24): %w", path, err)
			return
		}
		initLib = path
	})
	return initErr
}

// Version returns the loaded ONNX Runtime's version string (initializing
// the environment if needed).
func Version() (string, error) {
	if err := Init(); err != nil {
		return "", err
	}
	return onnxruntime.GetVersion(), nil
}

// LoadedLibrary initializes the environment if needed and returns the path
// of the library it loaded, or "" if Init failed.
func LoadedLibrary() string {
	if Init() != nil {
		return ""
	}
	return initLib
}
