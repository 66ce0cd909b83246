package conform

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// Runtimes a model file can be run on.
const (
	RuntimeNative = "native"
	RuntimeORT    = "ort"
)

// InputFormat says how the inputs at path are stored (and so how outputs
// are written): FormatNPZ for an .npz file; for a folder, FormatNPY when
// it holds .npy files, else FormatPB; numbered when it holds input_N.pb.
func InputFormat(path string) (f Format, numberedFiles bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", false, err
	}
	if !st.IsDir() {
		if strings.HasSuffix(path, ".npz") {
			return FormatNPZ, false, nil
		}
		return "", false, fmt.Errorf("%s: inputs are a folder of .pb/.npy files or one .npz file", path)
	}
	if m, _ := filepath.Glob(filepath.Join(path, "input_*.pb")); len(m) > 0 {
		return FormatPB, true, nil
	}
	if m, _ := filepath.Glob(filepath.Join(path, "*.npy")); len(m) > 0 {
		return FormatNPY, false, nil
	}
	return FormatPB, false, nil
}

// OpenFile opens the model file at path on a runtime (RuntimeNative or
// RuntimeORT). A model outside the native vocabulary gives an error that
// compat.IsNotApplicable recognizes.
func OpenFile(path, rt string, threads int) (runtime.Session, error) {
	switch rt {
	case RuntimeNative:
		m, err := compat.ReadFile(path)
		if err != nil {
			return nil, err
		}
		g, err := compat.Import(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return native.New(g, native.Options{Threads: threads})
	case RuntimeORT:
		return ort.Open(path, ort.Options{IntraOpThreads: threads})
	}
	return nil, fmt.Errorf("unknown runtime %q (native or ort)", rt)
}

// RunFile runs the model at path on rt with the inputs at inputs (see
// ReadInputs) and writes the outputs under out the way the inputs are
// stored: output_N.pb for input_N.pb, NAME.pb, NAME.npy, or out/outputs.npz
// for an .npz. It returns the files' folder or archive.
func RunFile(path, inputs, out, rt string, threads int) (string, error) {
	format, numberedFiles, err := InputFormat(inputs)
	if err != nil {
		return "", err
	}
	s, err := OpenFile(path, rt, threads)
	if err != nil {
		return "", err
	}
	defer s.Close()
	feed, err := ReadInputs(inputs, s.InputNames())
	if err != nil {
		return "", err
	}
	res, err := s.Run(feed)
	if err != nil {
		return "", fmt.Errorf("%s on %s: %w", path, rt, err)
	}
	var order []string
	if numberedFiles {
		order = s.OutputNames()
	}
	dest := out
	if format == FormatNPZ {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", err
		}
		dest = filepath.Join(out, "outputs.npz")
		order = nil
	}
	if err := WriteTensors(dest, format, res, order); err != nil {
		return "", err
	}
	return dest, nil
}
