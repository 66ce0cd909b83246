package ort

import (
	"errors"
	"fmt"
	"sync"

	"github.com/odmn/odmn/internal/ortlib"

	onnxruntime "github.com/yalue/onnxruntime_go"
)

// LibEnv is the environment variable that names the ONNX Runtime shared
// library explicitly.
const LibEnv = ortlib.Env

// LibRelPath is where scripts/fetch-ort.sh puts the library, relative to the
// odmn module root.
const LibRelPath = ortlib.RelPath

// FetchHint says how to get the library; it ends every discovery error.
const FetchHint = ortlib.FetchHint

// ErrLibNotFound is wrapped by the errors of LibraryPath, Open and OpenBytes
// when the shared library cannot be found.
var ErrLibNotFound = errors.New("ONNX Runtime library not found")

// LibraryPath finds the ONNX Runtime shared library: $ODMN_ORT_LIB when set,
// otherwise .cache/ort/libonnxruntime.so.1 in the odmn module root (the
// nearest directory at or above the working directory whose go.mod says
// `module odmn`). The file must exist and be non-empty.
func LibraryPath() (string, error) {
	p, err := ortlib.Path()
	if err != nil {
		return "", fmt.Errorf("ort: %w: %v; %s", ErrLibNotFound, err, FetchHint)
	}
	return p, nil
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
