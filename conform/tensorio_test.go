package conform_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/graph"
)

// Tensors written as .pb, .npy and .npz read back equal, for every dtype
// the formats hold.
func TestTensorFilesRoundTrip(t *testing.T) {
	ts := map[string]*graph.Tensor{
		"f":   graph.F32([]int{2, 3}, []float32{1, -2, 3.5, 0, 1e-8, -7}),
		"i":   graph.I64([]int{3}, []int64{1, -1 << 40, 7}),
		"b":   graph.Bools([]int{2, 1}, []bool{true, false}),
		"s":   graph.ScalarF32(4),
		"d":   graph.FromSlice([]int{2}, []float64{1.5, -2.25}),
		"u8":  graph.FromSlice([]int{3}, []uint8{0, 7, 255}),
		"i32": graph.FromSlice([]int{1, 2}, []int32{-3, 9}),
	}
	for _, format := range []conform.Format{conform.FormatNPY, conform.FormatNPZ, conform.FormatPB} {
		dir := t.TempDir()
		dest := dir
		if format == conform.FormatNPZ {
			dest = filepath.Join(dir, "all.npz")
		}
		pbOK := map[string]bool{"f": true, "i": true, "b": true, "s": true}
		write := ts
		if format == conform.FormatPB {
			// TensorProto export of the other dtypes belongs to the exporter.
			write = map[string]*graph.Tensor{}
			for n := range pbOK {
				write[n] = ts[n]
			}
		}
		var wnames []string
		for n := range write {
			wnames = append(wnames, n)
		}
		if err := conform.WriteTensors(dest, format, write, nil); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		got, err := conform.ReadInputs(dest, wnames)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, n := range wnames {
			if d := conform.Compare(n, got[n], write[n], conform.Tolerance{}); !d.OK() {
				t.Errorf("%s: %s", format, d)
			}
		}
	}
}

// A .npy header that claims more data than the file holds is refused
// before anything is allocated.
func TestNPYHostileHeader(t *testing.T) {
	dir := t.TempDir()
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000), }"
	hdr += strings.Repeat(" ", 64-(10+len(hdr)+1)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	b = append(b, hdr...)
	p := filepath.Join(dir, "x.npy")
	os.WriteFile(p, b, 0o644)
	_, err := conform.ReadTensorFile(p)
	if err == nil || !strings.Contains(err.Error(), "x.npy") {
		t.Fatalf("error %v", err)
	}
	if _, err := conform.ReadInputs(dir, []string{"y"}); err == nil || !strings.Contains(err.Error(), "no value for model input(s) y") {
		t.Errorf("missing input: %v", err)
	}
}
