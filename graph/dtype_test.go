package graph

import (
	"math"
	"testing"
)

func TestONNXCodesRoundTrip(t *testing.T) {
	for _, d := range DTypes() {
		if d == String {
			continue
		}
		got, ok := DTypeFromONNX(d.ONNX())
		if !ok || got != d {
			t.Errorf("%s: code %d maps back to %s, %v", d, d.ONNX(), got, ok)
		}
	}
	for _, code := range []int32{0, 8, 14, 15, 16, 17, 99} { // undefined, string, complex, bfloat16, float8
		if d, ok := DTypeFromONNX(code); ok {
			t.Errorf("code %d maps to %s, want refused", code, d)
		}
	}
}

func TestHalfConversion(t *testing.T) {
	for _, c := range []struct {
		f    float32
		bits uint16
	}{
		{0, 0x0000}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, // rounds to Inf
		{float32(math.Inf(-1)), 0xfc00}, {6.1035156e-05, 0x0400}, // smallest normal
		{5.9604645e-08, 0x0001},                         // smallest subnormal
		{2.9802322e-08, 0x0000},                         // half of it: ties to even, 0
		{1.0009765625, 0x3c01}, {1.00048828125, 0x3c00}, // tie to even
		{1.00146484375, 0x3c02}, // tie rounds up to even
	} {
		if got := uint16(F16(c.f)); got != c.bits {
			t.Errorf("F16(%g) = %#04x, want %#04x", c.f, got, c.bits)
		}
	}
	for b := 0; b < 1<<16; b++ {
		h := Half(b)
		f := h.Float32()
		if f != f {
			if F16(f).Float32() == F16(f).Float32() {
				t.Fatalf("NaN %#04x does not stay NaN", b)
			}
			continue
		}
		if back := F16(f); back != h && !(f == 0 && back&0x7fff == 0) {
			t.Fatalf("%#04x -> %g -> %#04x", b, f, back)
		}
	}
}

func TestExtendedStorage(t *testing.T) {
	x := FromSlice([]int{2, 2}, []float64{1, 2, 3, 4})
	if x.DType != Float64 || x.Len() != 4 || x.Float(3) != 4 {
		t.Fatalf("FromSlice: %v", x)
	}
	c := x.Clone()
	Data[float64](c)[0] = 9
	if Data[float64](x)[0] != 1 {
		t.Fatal("Clone shares storage")
	}
	var y Tensor
	y.CopyFrom(x)
	if y.DType != Float64 || Data[float64](&y)[2] != 3 {
		t.Fatalf("CopyFrom: %v", &y)
	}
	y.Reset(Int8, []int{3})
	if len(Data[int8](&y)) != 3 {
		t.Fatalf("Reset to int8: %v", &y)
	}
	y.Reset(Float32, []int{5})
	if len(y.F) != 5 || y.Len() != 5 {
		t.Fatalf("Reset to float32: %v", &y)
	}
	h := NewTensor(Float16, []int{2})
	Data[Half](h)[1] = F16(1.5)
	if h.Float(1) != 1.5 || h.Int(1) != 1 {
		t.Fatalf("float16 element: %v", h)
	}
	u := FromSlice([]int{1}, []uint64{math.MaxUint64})
	if u.Float(0) != math.MaxUint64 {
		t.Fatalf("uint64 element: %v", u.Float(0))
	}
	for _, d := range DTypes() {
		if NewTensor(d, []int{3}).Len() != 3 {
			t.Errorf("NewTensor(%s) has the wrong length", d)
		}
		if d.ElemSize() == 0 {
			t.Errorf("%s has no element size", d)
		}
	}
}

func TestApplyRefusesUndeclaredDType(t *testing.T) {
	g := New("t")
	x := g.Input("x", Float64, 2)
	_, err := g.Apply(MustLookup("", "Not"), nil, x)
	if _, ok := err.(*DTypeError); !ok {
		t.Fatalf("Not on float64: err = %v, want *DTypeError", err)
	}
}
