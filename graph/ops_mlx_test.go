package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/ort"
)

// mlOp applies an ai.onnx.ml op by name.
func mlOp(typ string, a graph.Attrs, xs ...*graph.Node) []*graph.Node {
	return graph.MustApply(graph.MustLookup(graph.MLDomain, typ), a, xs...)
}

// closeTensor compares dtype, shape and values (NaN equal to NaN; floats
// within rtol*|want| + atol; everything else exact).
func closeTensor(got, want *graph.Tensor, rtol, atol float64) bool {
	if got == nil || want == nil || got.DType != want.DType || !graph.SameShape(got.Shape, want.Shape) || got.Len() != want.Len() {
		return false
	}
	for i := 0; i < want.Len(); i++ {
		if want.DType == graph.String {
			if got.S[i] != want.S[i] {
				return false
			}
			continue
		}
		g, w := got.Float(i), want.Float(i)
		if math.IsNaN(w) || math.IsNaN(g) {
			if math.IsNaN(w) != math.IsNaN(g) {
				return false
			}
			continue
		}
		if math.Abs(g-w) > atol+rtol*math.Abs(w) {
			return false
		}
	}
	return true
}

func TestMLOpsHandChecked(t *testing.T) {
	nan := float32(math.NaN())
	got := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("Scaler", graph.Attrs{"offset": []float32{1, 2}, "scale": []float32{2, 0.5}}, x[0])
	}, tensF(dims(2, 2), 1, 2, 3, 4))[0]
	expectTensor(t, "Scaler", got, tensF(dims(2, 2), 0, 0, 4, 1))
	got = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("Normalizer", graph.Attrs{"norm": "L2"}, x[0])
	}, tensI(dims(2, 2), 3, -4, 0, 0))[0]
	expectTensor(t, "Normalizer L2 (zero row kept)", got, tensF(dims(2, 2), 0.6, -0.8, 0, 0))
	got = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("Imputer", graph.Attrs{"imputed_value_floats": []float32{7, 8}, "replaced_value_float": nan}, x[0])
	}, tensF(dims(2, 2), nan, 1, 2, nan))[0]
	expectTensor(t, "Imputer NaN", got, tensF(dims(2, 2), 7, 1, 2, 8))
	got = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("Binarizer", graph.Attrs{"threshold": float32(1)}, x[0])
	}, tensF(dims(4), nan, 1, 1.5, -2))[0]
	expectTensor(t, "Binarizer (NaN is not greater)", got, tensF(dims(4), 0, 0, 1, 0))
	got = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("OneHotEncoder", graph.Attrs{"cats_strings": []string{"a", "b"}}, x[0])
	}, graph.Strings(dims(3), []string{"b", "z", "a"}))[0]
	expectTensor(t, "OneHotEncoder strings", got, tensF(dims(3, 2), 0, 1, 0, 0, 1, 0))
	_, err := graphtest.Eval(func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("OneHotEncoder", graph.Attrs{"cats_int64s": []int64{1, 2}, "zeros": int64(0)}, x[0])
	}, tensI(dims(2), 1, 5))
	checkError(t, "OneHotEncoder zeros=0", err, "OneHotEncoder", "category 5")
	got = graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("ArrayFeatureExtractor", nil, x[0], g.Const(tensI(dims(2), 2, 0)))
	}, iotaF(2, 3))[0]
	expectTensor(t, "ArrayFeatureExtractor", got, tensF(dims(2, 2), 2, 0, 5, 3))
	_, err = graphtest.Eval(func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("ArrayFeatureExtractor", nil, x[0], g.Const(tensI(dims(1), 3)))
	}, iotaF(2, 3))
	checkError(t, "ArrayFeatureExtractor out of range", err, "ArrayFeatureExtractor", "out of range")
	o := graphtest.MustEval(t, func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("LinearClassifier", graph.Attrs{"coefficients": []float32{1, -1}, "intercepts": []float32{0.5},
			"classlabels_strings": []string{"no", "yes"}}, x[0])
	}, tensF(dims(2, 2), 1, 3, 2, 1))
	if fmt.Sprint(o[0].S) != "[no yes]" {
		t.Errorf("LinearClassifier binary labels %q, want [no yes]", o[0].S)
	}
	expectTensor(t, "LinearClassifier binary scores", o[1], tensF(dims(2, 2), 2.5, -1.5, -0.5, 1.5))
	_, err = graphtest.Build(func(g *graph.Graph, x nodeList) nodeList {
		return mlOp("LinearRegressor", graph.Attrs{"coefficients": []float32{1, 2}, "post_transform": "LOGISTIC"}, x[0])
	}, iotaF(2, 2))
	checkError(t, "LinearRegressor LOGISTIC on one target", err, "LinearRegressor", "single score column")
	// float64 and int32 inputs (ONNX Runtime sessions in odmn take neither
	// yet): checked against the float32 results.
	for _, op := range []struct {
		typ string
		a   graph.Attrs
	}{
		{"Scaler", graph.Attrs{"offset": []float32{0.5}, "scale": []float32{3}}},
		{"Normalizer", graph.Attrs{"norm": "L1"}},
		{"LinearRegressor", graph.Attrs{"coefficients": []float32{1, 2, 3, 4, 5, 6}, "targets": int64(2), "intercepts": []float32{1, -1}, "post_transform": "SOFTMAX"}},
	} {
		f := func(g *graph.Graph, x nodeList) nodeList { return mlOp(op.typ, op.a, x[0]) }
		want := graphtest.MustEval(t, f, iotaF(4, 3))[0]
		for _, dt := range []graph.DType{graph.Float64, graph.Int32, graph.Int64} {
			got := graphtest.MustEval(t, f, iotaOf(dt, 4, 3))[0]
			if !closeTensor(got, want, 1e-6, 1e-6) {
				t.Errorf("%s on %s: %v, want %v", op.typ, dt, got, want)
			}
		}
	}
}

// TestMLOpsAgreeWithORT runs the ai.onnx.ml ops on random inputs in ONNX
// Runtime (from odmn's export) and natively.
func TestMLOpsAgreeWithORT(t *testing.T) {
	testenv.RequireLib(t)
	r := rand.New(rand.NewPCG(3, 5))
	randF := func(shape ...int) *graph.Tensor {
		x := graph.NewTensor(graph.Float32, shape)
		for i := range x.F {
			x.F[i] = float32(r.NormFloat64())
			if r.IntN(10) == 0 {
				x.F[i] = 0
			}
		}
		return x
	}
	randI := func(lo, hi int, shape ...int) *graph.Tensor {
		x := graph.NewTensor(graph.Int64, shape)
		for i := range x.I {
			x.I[i] = int64(lo + r.IntN(hi-lo))
		}
		return x
	}
	coef := func(n int) []float32 {
		c := make([]float32, n)
		for i := range c {
			c[i] = float32(r.NormFloat64())
		}
		return c
	}
	type tcase struct {
		name string
		typ  string
		a    graph.Attrs
		x    *graph.Tensor
	}
	nan := float32(math.NaN())
	xNaN := randF(5, 3)
	xNaN.F[1], xNaN.F[7] = nan, nan
	cases := []tcase{
		{"Scaler per feature", "Scaler", graph.Attrs{"offset": coef(3), "scale": coef(3)}, randF(5, 3)},
		{"Scaler one value int64", "Scaler", graph.Attrs{"offset": coef(1), "scale": coef(1)}, randI(-9, 9, 4, 3)},
		// ONNX Runtime refuses NaN in Binarizer; odmn maps it to 0 as the
		// specification says (checked by hand above).
		{"Binarizer", "Binarizer", graph.Attrs{"threshold": float32(0.2)}, randF(5, 3)},
		{"Imputer float", "Imputer", graph.Attrs{"imputed_value_floats": coef(3), "replaced_value_float": nan}, xNaN},
		{"Imputer int64", "Imputer", graph.Attrs{"imputed_value_int64s": []int64{9}, "replaced_value_int64": int64(1)}, randI(0, 3, 4, 3)},
		{"OneHotEncoder int64", "OneHotEncoder", graph.Attrs{"cats_int64s": []int64{3, 1, 0}}, randI(0, 5, 4, 2)},
		{"OneHotEncoder float", "OneHotEncoder", graph.Attrs{"cats_int64s": []int64{2, 0, -1}}, randF(3, 2)},
		{"OneHotEncoder strings", "OneHotEncoder", graph.Attrs{"cats_strings": []string{"x", "y"}}, graph.Strings(dims(2, 2), []string{"y", "q", "x", "y"})},
		{"CategoryMapper to int", "CategoryMapper", graph.Attrs{"cats_int64s": []int64{5, 6}, "cats_strings": []string{"a", "b"}, "default_int64": int64(-7)}, graph.Strings(dims(3), []string{"b", "c", "a"})},
		{"CategoryMapper to string", "CategoryMapper", graph.Attrs{"cats_int64s": []int64{5, 6}, "cats_strings": []string{"a", "b"}, "default_string": "?"}, randI(4, 8, 2, 3)},
		{"LinearRegressor 1 target", "LinearRegressor", graph.Attrs{"coefficients": coef(4), "intercepts": coef(1)}, randF(6, 4)},
		{"LinearRegressor 1-D input", "LinearRegressor", graph.Attrs{"coefficients": coef(8), "targets": int64(2)}, randF(4)},
	}
	for _, norm := range []string{"MAX", "L1", "L2"} {
		x := randF(4, 3)
		x.F[3], x.F[4], x.F[5] = 0, 0, 0
		cases = append(cases, tcase{"Normalizer " + norm, "Normalizer", graph.Attrs{"norm": norm}, x})
	}
	for _, pt := range []string{"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"} {
		cases = append(cases,
			tcase{"LinearRegressor 3 targets " + pt, "LinearRegressor", graph.Attrs{"coefficients": coef(12), "intercepts": coef(3), "targets": int64(3), "post_transform": pt}, randF(5, 4)},
			tcase{"LinearClassifier ints " + pt, "LinearClassifier", graph.Attrs{"coefficients": coef(12), "intercepts": coef(3), "classlabels_ints": []int64{7, 8, 9}, "post_transform": pt}, randF(5, 4)},
			tcase{"LinearClassifier strings " + pt, "LinearClassifier", graph.Attrs{"coefficients": coef(8), "intercepts": coef(2), "classlabels_strings": []string{"n", "y"}, "post_transform": pt}, randI(-3, 3, 5, 4)},
		)
	}
	// PROBIT needs scores in (0, 1): zero coefficients and intercepts there.
	cases = append(cases, tcase{"LinearClassifier PROBIT", "LinearClassifier", graph.Attrs{"coefficients": make([]float32, 6),
		"intercepts": []float32{0.1, 0.5, 0.93}, "classlabels_ints": []int64{0, 1, 2}, "post_transform": "PROBIT"}, randF(2, 2)})
	cases = append(cases, tcase{"LinearClassifier binary ints", "LinearClassifier", graph.Attrs{"coefficients": coef(3), "intercepts": coef(1), "classlabels_ints": []int64{4, 5}}, randF(5, 3)})
	cases = append(cases, tcase{"ArrayFeatureExtractor", "ArrayFeatureExtractor", nil, randF(3, 5)})
	cases = append(cases, tcase{"ArrayFeatureExtractor 1-D strings", "ArrayFeatureExtractor", nil, graph.Strings(dims(3), []string{"p", "q", "r"})})

	for _, c := range cases {
		f := func(g *graph.Graph, x nodeList) nodeList {
			if c.typ == "ArrayFeatureExtractor" {
				return mlOp(c.typ, c.a, x[0], g.Const(tensI(dims(1, 2), 2, 0)))
			}
			return mlOp(c.typ, c.a, x[0])
		}
		g, err := graphtest.Build(f, c.x)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := export.Marshal(g, export.Options{})
		if err != nil {
			t.Fatalf("%s: export: %v", c.name, err)
		}
		s, err := ort.OpenBytes(b, ort.Options{IntraOpThreads: 1})
		if err != nil {
			t.Fatalf("%s: ORT: %v", c.name, err)
		}
		want, err := s.Run(map[string]*graph.Tensor{"x0": c.x})
		s.Close()
		if err != nil {
			t.Fatalf("%s: ORT run: %v", c.name, err)
		}
		got := graphtest.MustEval(t, f, c.x)
		for i, gt := range got {
			w := want[fmt.Sprintf("y%d", i)]
			if !closeTensor(gt, w, 1e-5, 1e-6) {
				t.Errorf("%s output %d: native %v, ORT %v", c.name, i, gt, w)
			}
		}
	}
}
