package conform

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
)

// maxFileBytes bounds a tensor file read whole (a TensorProto): 4 GiB.
const maxFileBytes = 4 << 30

// Format is how tensors are stored in files.
type Format string

const (
	// FormatPB: one TensorProto per file (NAME.pb, or input_N.pb and
	// output_N.pb numbered as ONNX's backend tests do).
	FormatPB Format = "pb"
	// FormatNPY: one NumPy array per file, NAME.npy.
	FormatNPY Format = "npy"
	// FormatNPZ: one NumPy .npz archive holding every tensor by name.
	FormatNPZ Format = "npz"
)

// ReadTensorFile reads a TensorProto (.pb) or NumPy (.npy) file.
func ReadTensorFile(path string) (*graph.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".npy") {
		t, err := readNPY(f, st.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return t, nil
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than a tensor file may hold (%d)", path, st.Size(), int64(maxFileBytes))
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, tp); err != nil {
		return nil, fmt.Errorf("%s: not a TensorProto: %w", path, err)
	}
	if tp.DataType == nil {
		return nil, fmt.Errorf("%s: not a tensor (no data_type; sequences, maps and optionals are not supported)", path)
	}
	if tp.GetDataType() == int32(onnxpb.TensorProto_STRING) {
		shape, n, err := export.ShapeFromDims(tp.GetDims())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(tp.StringData) != n {
			return nil, fmt.Errorf("%s: string_data has %d values, dims %v need %d", path, len(tp.StringData), shape, n)
		}
		s := make([]string, n)
		for i, v := range tp.StringData {
			s[i] = string(v)
		}
		return graph.Strings(shape, s), nil
	}
	t, err := export.TensorFromProto(tp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// npyTypes maps NumPy little-endian type strings to dtypes.
var npyTypes = map[string]graph.DType{
	"<f4": graph.Float32, "<f8": graph.Float64, "<f2": graph.Float16,
	"<i8": graph.Int64, "<i4": graph.Int32, "<i2": graph.Int16, "|i1": graph.Int8,
	"|u1": graph.Uint8, "<u2": graph.Uint16, "<u4": graph.Uint32, "<u8": graph.Uint64,
	"|b1": graph.Bool,
}

func npyDescr(dt graph.DType) (string, bool) {
	for k, v := range npyTypes {
		if v == dt {
			return k, true
		}
	}
	return "", false
}

// readNPY reads one .npy stream of size bytes: the header's shape is
// checked against the bytes there are before anything is allocated.
func readNPY(r io.Reader, size int64) (*graph.Tensor, error) {
	rd, err := npy.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a NumPy .npy file: %w", err)
	}
	h := rd.Header.Descr
	typ := strings.Trim(h.Type, "'\"")
	if typ == "<b1" {
		typ = "|b1"
	}
	dt, ok := npyTypes[typ]
	if !ok {
		return nil, fmt.Errorf("NumPy element type %s is not supported (little-endian numbers and bool only)", typ)
	}
	if h.Fortran && len(h.Shape) > 1 {
		return nil, fmt.Errorf("Fortran-order arrays are not supported (save with numpy.ascontiguousarray)")
	}
	n := 1
	for _, d := range h.Shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return nil, fmt.Errorf("shape %v is too large", h.Shape)
		}
		n *= d
	}
	if int64(n)*int64(dt.ElemSize()) > size {
		return nil, fmt.Errorf("shape %v needs %d bytes of %s, the file has %d", h.Shape, n*dt.ElemSize(), dt, size)
	}
	shape := append([]int{}, h.Shape...)
	if shape == nil {
		shape = []int{}
	}
	read := func(ptr any) error { return rd.Read(ptr) }
	var t *graph.Tensor
	switch dt {
	case graph.Float32:
		v := make([]float32, n)
		err, t = read(&v), graph.F32(shape, v)
	case graph.Int64:
		v := make([]int64, n)
		err, t = read(&v), graph.I64(shape, v)
	case graph.Bool:
		v := make([]bool, n)
		err, t = read(&v), graph.Bools(shape, v)
	case graph.Float64:
		t, err = readTyped[float64](read, shape, n)
	case graph.Int32:
		t, err = readTyped[int32](read, shape, n)
	case graph.Int16:
		t, err = readTyped[int16](read, shape, n)
	case graph.Int8:
		t, err = readTyped[int8](read, shape, n)
	case graph.Uint8:
		t, err = readTyped[uint8](read, shape, n)
	case graph.Uint16:
		t, err = readTyped[uint16](read, shape, n)
	case graph.Uint32:
		t, err = readTyped[uint32](read, shape, n)
	case graph.Uint64:
		t, err = readTyped[uint64](read, shape, n)
	case graph.Float16:
		t, err = readTyped[uint16](read, shape, n)
		if err == nil {
			h := make([]graph.Half, n)
			for i, b := range graph.Data[uint16](t) {
				h[i] = graph.Half(b)
			}
			t = graph.FromSlice(shape, h)
		}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func readTyped[T graph.Elem](read func(any) error, shape []int, n int) (*graph.Tensor, error) {
	v := make([]T, n)
	if err := read(&v); err != nil {
		return nil, err
	}
	return graph.FromSlice(shape, v), nil
}

// encodeNPY writes t as a .npy (version 1.0, C order).
func encodeNPY(w io.Writer, t *graph.Tensor) error {
	descr, ok := npyDescr(t.DType)
	if !ok {
		return fmt.Errorf("element type %s cannot be written as .npy", t.DType)
	}
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := "(" + strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	shape += ")"
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	// Magic (6) + version (2) + length (2) + header, padded with spaces
	// to a multiple of 64 and ended by a newline.
	pad := 64 - (10+len(hdr)+1)%64
	if pad == 64 {
		pad = 0
	}
	hdr += strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	n := t.Len()
	for i := 0; i < n; i++ {
		switch t.DType {
		case graph.Float32:
			binary.Write(&b, binary.LittleEndian, t.F[i])
		case graph.Int64:
			binary.Write(&b, binary.LittleEndian, t.I[i])
		case graph.Bool:
			if t.B[i] {
				b.WriteByte(1)
			} else {
				b.WriteByte(0)
			}
		default:
			if err := binary.Write(&b, binary.LittleEndian, elemAt(t, i)); err != nil {
				return err
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// elemAt is element i of a tensor of the extended dtypes, in its Go type.
func elemAt(t *graph.Tensor, i int) any {
	switch t.DType {
	case graph.Float64:
		return graph.Data[float64](t)[i]
	case graph.Int32:
		return graph.Data[int32](t)[i]
	case graph.Int16:
		return graph.Data[int16](t)[i]
	case graph.Int8:
		return graph.Data[int8](t)[i]
	case graph.Uint8:
		return graph.Data[uint8](t)[i]
	case graph.Uint16:
		return graph.Data[uint16](t)[i]
	case graph.Uint32:
		return graph.Data[uint32](t)[i]
	case graph.Uint64:
		return graph.Data[uint64](t)[i]
	case graph.Float16:
		return uint16(graph.Data[graph.Half](t)[i])
	}
	return nil
}

// tensorProto is export.TensorToProto plus string tensors.
func tensorProto(name string, t *graph.Tensor) (*onnxpb.TensorProto, error) {
	if t.DType != graph.String {
		return export.TensorToProto(name, t)
	}
	p := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_STRING))}
	for _, d := range t.Shape {
		p.Dims = append(p.Dims, int64(d))
	}
	for _, s := range t.S {
		p.StringData = append(p.StringData, []byte(s))
	}
	return p, nil
}

// ReadInputs reads the tensors at path for a model whose non-initializer
// graph inputs are names, in order. path is a folder of input_N.pb (bound
// by position, as in ONNX's backend tests), NAME.pb or NAME.npy files, or
// one .npz archive. Every input must be given; files that name no input
// are an error.
func ReadInputs(path string, names []string) (map[string]*graph.Tensor, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	feed := map[string]*graph.Tensor{}
	if !st.IsDir() {
		if !strings.HasSuffix(path, ".npz") {
			return nil, fmt.Errorf("%s: inputs are a folder of .pb/.npy files or one .npz file", path)
		}
		all, err := ReadNPZ(path)
		if err != nil {
			return nil, err
		}
		for k, t := range all {
			if !slices.Contains(names, k) {
				return nil, fmt.Errorf("%s: array %q names no model input (inputs: %s)", path, k, strings.Join(names, ", "))
			}
			feed[k] = t
		}
	} else {
		numbered, err := numbered(path, "input_")
		if err != nil {
			return nil, err
		}
		if len(numbered) > len(names) {
			return nil, fmt.Errorf("%s: %d input_N.pb files for %d model inputs", path, len(numbered), len(names))
		}
		for k, p := range numbered {
			t, err := ReadTensorFile(p)
			if err != nil {
				return nil, err
			}
			feed[names[k]] = t
		}
		if len(numbered) == 0 {
			for _, n := range names {
				for _, ext := range []string{".pb", ".npy"} {
					p := filepath.Join(path, fileName(n)+ext)
					if _, err := os.Stat(p); err != nil {
						continue
					}
					if _, dup := feed[n]; dup {
						return nil, fmt.Errorf("%s: input %q is given both as .pb and .npy", path, n)
					}
					t, err := ReadTensorFile(p)
					if err != nil {
						return nil, err
					}
					feed[n] = t
				}
			}
		}
	}
	var missing []string
	for _, n := range names {
		if feed[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: no value for model input(s) %s (expected input_N.pb, NAME.pb, NAME.npy or an .npz with those names)", path, strings.Join(missing, ", "))
	}
	return feed, nil
}

// ReadNPZ reads every array of a NumPy .npz archive, by name.
func ReadNPZ(path string) (map[string]*graph.Tensor, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a NumPy .npz (zip) file: %w", path, err)
	}
	defer z.Close()
	out := map[string]*graph.Tensor{}
	for _, f := range z.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		if size := f.UncompressedSize64; size > maxFileBytes {
			return nil, fmt.Errorf("%s: array %q: %d bytes, too large", path, name, size)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: array %q: %w", path, name, err)
		}
		t, err := readNPY(rc, int64(f.UncompressedSize64))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: array %q: %w", path, name, err)
		}
		out[name] = t
	}
	return out, nil
}

// fileName makes a value name usable as a file name (ONNX names may hold
// '/' and ':').
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == 0 {
			return '_'
		}
		return r
	}, name)
}

// WriteTensors writes tensors under out in format: FormatPB as
// output_N.pb by the position of each name in order (and NAME.pb when
// order is nil), FormatNPY as NAME.npy, FormatNPZ as out itself, one .npz
// archive. Every file is written to a temporary name and renamed, so a
// failure leaves no half-written file.
func WriteTensors(out string, format Format, tensors map[string]*graph.Tensor, order []string) error {
	names := order
	if names == nil {
		for n := range tensors {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	if format == FormatNPZ {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, n := range names {
			w, err := zw.Create(n + ".npy")
			if err != nil {
				return err
			}
			if err := encodeNPY(w, tensors[n]); err != nil {
				return fmt.Errorf("output %q: %w", n, err)
			}
		}
		if err := zw.Close(); err != nil {
			return err
		}
		return writeAtomic(out, b.Bytes())
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for i, n := range names {
		t := tensors[n]
		if t == nil {
			return fmt.Errorf("no value for output %q", n)
		}
		var b bytes.Buffer
		var file string
		switch format {
		case FormatNPY:
			if err := encodeNPY(&b, t); err != nil {
				return fmt.Errorf("output %q: %w", n, err)
			}
			file = fileName(n) + ".npy"
		case FormatPB:
			p, err := tensorProto(n, t)
			if err != nil {
				return err
			}
			raw, err := proto.Marshal(p)
			if err != nil {
				return err
			}
			b.Write(raw)
			file = fileName(n) + ".pb"
			if order != nil {
				file = fmt.Sprintf("output_%d.pb", i)
			}
		default:
			return fmt.Errorf("unknown format %q (pb, npy or npz)", format)
		}
		if err := writeAtomic(filepath.Join(out, file), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
