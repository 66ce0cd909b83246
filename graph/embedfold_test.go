package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The folded product equals the product of the gathered rows within
// float rounding, and the vector kernel gives the Go loop's bits (widths
// cover the 128- and 16-float blocks and the scalar tail).
func TestEmbedFoldMatchesProduct(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ v, d, cols, h, rows int }{
		{7, 3, 5, 256, 40}, {12, 8, 9, 150, 33}, {5, 2, 1, 7, 300}, {9, 4, 3, 16, 1}, {3, 5, 2, 129, 0},
	} {
		for _, transB := range []bool{false, true} {
			e := make([]float32, c.v*c.d)
			b := make([]float32, c.cols*c.d*c.h)
			bias := make([]float32, c.h)
			for _, x := range [][]float32{e, b, bias} {
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
			}
			alpha := float32(0.75)
			tab, err := FoldEmbedding(e, c.v, c.d, b, transB, c.cols, c.h, alpha)
			if err != nil {
				t.Fatal(err)
			}
			ent := make([]int32, c.rows*c.cols)
			ids := make([]int, len(ent))
			for i := range ent {
				ids[i] = r.IntN(c.v)
				ent[i] = int32((i%c.cols)*c.v + ids[i])
			}
			for _, relu := range []bool{false, true} {
				for _, bs := range [][]float32{nil, bias} {
					got := make([]float32, c.rows*c.h)
					if err := EmbedSum(got, tab, ent, bs, c.rows, c.cols, c.h, relu); err != nil {
						t.Fatal(err)
					}
					ref := make([]float32, len(got))
					embedSumGo(ref, tab, ent, bs, c.rows, c.cols, c.h, relu)
					if !slices.Equal(got, ref) {
						t.Fatalf("%+v transB %v relu %v: vector kernel and Go loop differ", c, transB, relu)
					}
					k := c.cols * c.d
					for n := 0; n < c.rows; n++ {
						for j := 0; j < c.h; j++ {
							want, scale := 0.0, 0.0
							for col := 0; col < c.cols; col++ {
								for dd := 0; dd < c.d; dd++ {
									w := b[(col*c.d+dd)*c.h+j]
									if transB {
										w = b[j*k+col*c.d+dd]
									}
									p := float64(alpha) * float64(e[ids[n*c.cols+col]*c.d+dd]) * float64(w)
									want += p
									scale += math.Abs(p)
								}
							}
							if bs != nil {
								want += float64(bs[j])
								scale += math.Abs(float64(bs[j]))
							}
							if relu && want < 0 {
								want = 0
							}
							if d := math.Abs(float64(got[n*c.h+j]) - want); d > 1e-6*(scale+1) && !(relu && want == 0 && got[n*c.h+j] == 0) {
								t.Fatalf("%+v transB %v relu %v: row %d col %d = %v, want %v", c, transB, relu, n, j, got[n*c.h+j], want)
							}
						}
					}
				}
			}
		}
	}
}

// NaN survives the clamp, as Relu keeps it.
func TestEmbedSumKeepsNaN(t *testing.T) {
	h := 300
	tab := make([]float32, 2*h)
	tab[5], tab[h+200] = float32(math.NaN()), -1
	o := make([]float32, h)
	if err := EmbedSum(o, tab, []int32{0, 1}, nil, 1, 2, h, true); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(o[5])) || o[200] != 0 {
		t.Errorf("o[5] = %v (want NaN), o[200] = %v (want 0)", o[5], o[200])
	}
}

// Entries outside the table and mismatched lengths are errors, not reads
// out of bounds.
func TestEmbedSumRejects(t *testing.T) {
	tab := make([]float32, 4*8)
	o := make([]float32, 2*8)
	for _, ent := range [][]int32{{0, 1, 2, 4}, {0, -1, 2, 3}} {
		if err := EmbedSum(o, tab, ent, nil, 2, 2, 8, false); err == nil {
			t.Errorf("entries %v: no error", ent)
		}
	}
	if err := EmbedSum(o, tab, []int32{0, 1, 2}, nil, 2, 2, 8, false); err == nil {
		t.Error("3 entries for 2x2: no error")
	}
	if err := EmbedSum(o, tab, []int32{0, 1, 2, 3}, make([]float32, 7), 2, 2, 8, false); err == nil {
		t.Error("bias of 7 for 8 outputs: no error")
	}
	if _, err := FoldEmbedding(make([]float32, 6), 3, 2, make([]float32, 10), false, 2, 3, 1); err == nil {
		t.Error("weight of 10 values for 4x3: no error")
	}
}

// FoldEmbeddingRows writes the bits FoldEmbedding gives for the entries it
// is asked for, leaves the other rows as they are, and refuses an entry or
// a table that does not fit.
func TestFoldEmbeddingRowsSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	const v, d, cols, h = 11, 4, 3, 37
	e := make([]float32, v*d)
	b := make([]float32, cols*d*h)
	for _, x := range [][]float32{e, b} {
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
	}
	for _, transB := range []bool{false, true} {
		full, err := FoldEmbedding(e, v, d, b, transB, cols, h, 1.25)
		if err != nil {
			t.Fatal(err)
		}
		part := make([]float32, len(full))
		ents := []int32{0, 5, 5, int32(cols*v - 1), 17}
		if err := FoldEmbeddingRows(part, ents, e, v, d, b, transB, cols, h, 1.25); err != nil {
			t.Fatal(err)
		}
		for ent := range cols * v {
			row, want := part[ent*h:ent*h+h], full[ent*h:ent*h+h]
			if !slices.Contains(ents, int32(ent)) {
				want = make([]float32, h)
			}
			for j := range row {
				if math.Float32bits(row[j]) != math.Float32bits(want[j]) {
					t.Fatalf("transB %v entry %d [%d]: %v, want %v", transB, ent, j, row[j], want[j])
				}
			}
		}
		for _, bad := range []int32{-1, int32(cols * v)} {
			if err := FoldEmbeddingRows(part, []int32{bad}, e, v, d, b, transB, cols, h, 1); err == nil {
				t.Errorf("entry %d accepted", bad)
			}
		}
		if err := FoldEmbeddingRows(part[1:], []int32{0}, e, v, d, b, transB, cols, h, 1); err == nil {
			t.Error("a short table accepted")
		}
	}
}
