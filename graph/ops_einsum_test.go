package graph_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
)

// einsumCases are equations with operand shapes covering the forms ONNX
// allows: explicit and implicit outputs, ellipses, diagonals, sums,
// several operands, upper-case labels and spaces.
var einsumCases = []struct {
	eq     string
	shapes [][]int
}{
	{"ij,jk->ik", [][]int{{3, 4}, {4, 5}}},
	{"bij,bjk->bik", [][]int{{2, 3, 4}, {2, 4, 5}}},
	{"...ij,...jk", [][]int{{2, 3, 4}, {2, 4, 5}}},
	{"...ij,...jk->...ik", [][]int{{2, 1, 3, 4}, {1, 5, 4, 2}}},
	{"ii->i", [][]int{{4, 4}}},
	{"ii", [][]int{{4, 4}}},
	{"ij->", [][]int{{3, 4}}},
	{"i,i", [][]int{{5}, {5}}},
	{"i,j->ij", [][]int{{3}, {4}}},
	{"bii->bi", [][]int{{2, 3, 3}}},
	{"ij,jk,kl->il", [][]int{{2, 3}, {3, 4}, {4, 5}}},
	{"abc,cd,de->abe", [][]int{{2, 3, 4}, {4, 5}, {5, 2}}},
	{"abc->cab", [][]int{{2, 3, 4}}},
	{"ba,ac", [][]int{{3, 4}, {4, 2}}},
	{"Ab,bC->CA", [][]int{{3, 4}, {4, 2}}},
	{"iij,jk->ik", [][]int{{3, 3, 4}, {4, 2}}},
	{"bn,anm,bm->ba", [][]int{{2, 3}, {4, 3, 5}, {2, 5}}},
	{"i j , j k -> i k", [][]int{{3, 4}, {4, 5}}},
	{"bhqd,bhkd->bhqk", [][]int{{2, 2, 3, 4}, {2, 2, 5, 4}}},
	{"a...c,c...->a...", [][]int{{2, 3, 4}, {4, 3}}},
	{",ij->ij", [][]int{{}, {2, 3}}},
	{"ij,jk->k", [][]int{{3, 4}, {4, 5}}},
	{"ij,kl->", [][]int{{2, 3}, {4, 5}}},
	// Left to right, the first pair is a 20⁴ outer product: the direct
	// fallback evaluates it.
	{"ab,cd,bd->ac", [][]int{{20, 20}, {20, 20}, {20, 20}}},
}

func TestEinsumAgainstORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(12, 1))
	for _, c := range einsumCases {
		xs := make([]*graph.Tensor, len(c.shapes))
		is := make([]*graph.Tensor, len(c.shapes))
		for i, s := range c.shapes {
			xs[i] = graphtest.Rand(r, -1, 1, s...)
			v := make([]int64, graph.Size(s))
			for j := range v {
				v[j] = r.Int64N(11) - 4
			}
			is[i] = graph.I64(s, v)
		}
		build := func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Einsum(c.eq, in...)}
		}
		agreeWithORT(t, "Einsum "+c.eq, build, xs...)
		agreeWithORT(t, "Einsum int64 "+c.eq, build, is...)
	}
}

// TestEinsumReference checks the equations without ellipsis against a
// direct evaluation from the definition (sum over every assignment of the
// labels of the product of the operands).
func TestEinsumReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range einsumCases {
		if strings.Contains(c.eq, ".") {
			continue
		}
		xs := make([]*graph.Tensor, len(c.shapes))
		for i, s := range c.shapes {
			xs[i] = graphtest.Rand(r, -1, 1, s...)
		}
		got := graphtest.MustEval(t, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Einsum(c.eq, in...)}
		}, xs...)[0]
		want := einsumRef(c.eq, xs)
		if len(want) != got.Len() {
			t.Fatalf("%s: %d values, want %d", c.eq, got.Len(), len(want))
		}
		for i, w := range want {
			if d := got.Float(i) - w; d > 1e-5 || d < -1e-5 {
				t.Errorf("%s [%d]: got %v, want %v", c.eq, i, got.Float(i), w)
				break
			}
		}
	}
}

// einsumRef evaluates an equation of letters only, straight from the
// definition.
func einsumRef(eq string, xs []*graph.Tensor) []float64 {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, out, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	size := map[rune]int{}
	count := map[rune]int{}
	for i, tm := range terms {
		for j, c := range tm {
			size[c] = xs[i].Shape[j]
			count[c]++
		}
	}
	if !explicit {
		var once []rune
		for c, n := range count {
			if n == 1 {
				once = append(once, c)
			}
		}
		for i := range once { // sort by ASCII
			for j := i + 1; j < len(once); j++ {
				if once[j] < once[i] {
					once[i], once[j] = once[j], once[i]
				}
			}
		}
		out = string(once)
	}
	var labels []rune
	for c := range size {
		labels = append(labels, c)
	}
	nOut := 1
	for _, c := range out {
		nOut *= size[c]
	}
	res := make([]float64, nOut)
	val := map[rune]int{}
	var rec func(k int)
	rec = func(k int) {
		if k == len(labels) {
			p := 1.0
			for i, tm := range terms {
				off := 0
				for j, c := range tm {
					off = off*xs[i].Shape[j] + val[c]
				}
				p *= xs[i].Float(off)
			}
			o := 0
			for _, c := range out {
				o = o*size[c] + val[c]
			}
			res[o] += p
			return
		}
		for v := 0; v < size[labels[k]]; v++ {
			val[labels[k]] = v
			rec(k + 1)
		}
	}
	rec(0)
	return res
}

func TestEinsumErrors(t *testing.T) {
	for _, c := range []struct {
		eq     string
		shapes [][]int
	}{
		{"ij,jk->ik", [][]int{{3, 4}, {5, 6}}},       // j differs
		{"ij,jk", [][]int{{3, 4}}},                   // two terms, one input
		{"ij->ik", [][]int{{3, 4}}},                  // k not an input label
		{"ij->ii", [][]int{{3, 4}}},                  // repeated output label
		{"ijk", [][]int{{3, 4}}},                     // rank mismatch
		{"i1", [][]int{{3, 4}}},                      // not a letter
		{"...i...", [][]int{{3, 4}}},                 // two ellipses
		{"ii->i", [][]int{{3, 4}}},                   // diagonal of unequal dims
		{"...i,...i", [][]int{{2, 3, 4}, {3, 4}}},    // ellipses of different ranks
		{"...i,...i", [][]int{{2, 3, 4}, {3, 3, 4}}}, // ellipsis dims 2 vs 3
		{"ij->j->i", [][]int{{3, 4}}},
	} {
		xs := make([]*graph.Tensor, len(c.shapes))
		for i, s := range c.shapes {
			xs[i] = graph.NewTensor(graph.Float32, s)
		}
		_, err := graphtest.Eval(func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			return []*graph.Node{graph.Einsum(c.eq, in...)}
		}, xs...)
		if err == nil {
			t.Errorf("Einsum %q on %v: no error", c.eq, c.shapes)
		} else {
			t.Logf("Einsum %q: %v", c.eq, err)
		}
	}
}

// TestEinsumTooLarge: an equation whose left-to-right contraction needs a
// huge outer product, and whose direct evaluation is astronomically long,
// is refused rather than run.
func TestEinsumTooLarge(t *testing.T) {
	xs := []*graph.Tensor{graph.NewTensor(graph.Float32, []int{3000, 3000}), graph.NewTensor(graph.Float32, []int{3000, 3000}), graph.NewTensor(graph.Float32, []int{3000, 3000})}
	_, err := graphtest.Eval(func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Einsum("ab,cd,bd->ac", in...)}
	}, xs...)
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v, want a too-large error", err)
	}
}
