package cache

import (
	"math"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	cases := [][2][]float32{
		{{0, 0, 0, 0}, {0, 0, 0, 0}},
		{{1, 0, 3, 0}, {0.5, 0, 7, 9}},
		{{float32(math.Inf(1)), float32(math.Copysign(0, -1))}, {-1, 2}},
		{{1, 2, 3, 4, 5, 6, 7, 8, 9}, {9, 8, 7, 6, 5, 4, 3, 2, 1}},
	}
	for _, c := range cases {
		b := encode(nil, c[0], c[1])
		s, err := decode(b, len(c[0]))
		if err != nil {
			t.Fatal(err)
		}
		for i := range c[0] {
			if math.Float32bits(s.LTV[i]) != math.Float32bits(c[0][i]) || math.Float32bits(s.LTVEV[i]) != math.Float32bits(c[1][i]) {
				t.Fatalf("%v: got %v %v", c, s.LTV, s.LTVEV)
			}
		}
	}
	if len(encode(nil, []float32{0, 0, 0, 0}, []float32{0, 0, 0, 0})) != 1 {
		t.Fatal("zeros are not one mask byte")
	}
	for _, bad := range [][]byte{nil, {1}, {0, 1, 2, 3, 4}, {3, 0, 0, 0, 0}} {
		if _, err := decode(bad, 4); err == nil {
			t.Fatalf("decode(%v) accepted", bad)
		}
	}
}
