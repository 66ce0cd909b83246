package graph_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// fuzzedOps are the shape, indexing and ai.onnx.ml ops whose build and
// run FuzzMoveOps drives with random dtypes, shapes and attributes.
var fuzzedOps = []struct{ domain, typ string }{
	{"", "Reshape"}, {"", "Flatten"}, {"", "Unsqueeze"}, {"", "Squeeze"}, {"", "Transpose"}, {"", "Shape"},
	{"", "ConstantOfShape"}, {"", "Expand"}, {"", "Range"}, {"", "Concat"}, {"", "Slice"}, {"", "Gather"},
	{"", "GatherElements"}, {"", "Pad"}, {"", "Tile"}, {"", "Split"}, {"", "Compress"}, {"", "NonZero"},
	{"", "Size"}, {"", "TopK"}, {"", "GatherND"}, {"", "ScatterElements"}, {"", "Scatter"}, {"", "ScatterND"},
	{"", "OneHot"}, {"", "EyeLike"}, {"", "Trilu"}, {"", "Dropout"},
	{"", "HannWindow"}, {"", "HammingWindow"}, {"", "BlackmanWindow"}, {"", "DFT"}, {"", "STFT"},
	{"", "MelWeightMatrix"}, {"", "CenterCropPad"}, {"", "Col2Im"}, {"", "GridSample"}, {"", "AffineGrid"},
	{"", "RoiAlign"}, {"", "NonMaxSuppression"}, {"", "Unique"},
	{graph.MLDomain, "Scaler"}, {graph.MLDomain, "Normalizer"}, {graph.MLDomain, "Imputer"},
	{graph.MLDomain, "Binarizer"}, {graph.MLDomain, "OneHotEncoder"}, {graph.MLDomain, "ArrayFeatureExtractor"},
	{graph.MLDomain, "CategoryMapper"}, {graph.MLDomain, "LinearRegressor"}, {graph.MLDomain, "LinearClassifier"},
}

// randTensor draws a small tensor of a random dtype (integers small, so
// that they are often valid indices, shapes and axes).
func randTensor(r *rand.Rand) *graph.Tensor {
	dts := append(graph.DTypes(), graph.Int64, graph.Int64, graph.Float32)
	dt := dts[r.IntN(len(dts))]
	shape := make([]int, r.IntN(4))
	for i := range shape {
		shape[i] = r.IntN(4)
	}
	x := iotaOf(dt, shape...)
	if dt == graph.Int64 {
		for i := range x.I {
			x.I[i] = int64(r.IntN(7) - 3)
		}
	}
	return x
}

func randAttr(s graph.AttrSpec, r *rand.Rand) any {
	switch s.Type {
	case graph.AttrInt:
		if s.Name == "dtype" {
			return int64(r.IntN(14))
		}
		return int64(r.IntN(9) - 4)
	case graph.AttrFloat:
		return float32(r.NormFloat64())
	case graph.AttrString:
		return []string{"", "constant", "reflect", "edge", "wrap", "add", "mul", "max", "min", "none",
			"MAX", "L1", "L2", "LOGISTIC", "SOFTMAX", "PROBIT", "x"}[r.IntN(17)]
	case graph.AttrInts:
		v := make([]int64, r.IntN(5))
		for i := range v {
			v[i] = int64(r.IntN(9) - 4)
		}
		return v
	case graph.AttrFloats:
		v := make([]float32, r.IntN(7))
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	case graph.AttrStrings:
		v := make([]string, r.IntN(4))
		for i := range v {
			v[i] = fmt.Sprint(r.IntN(5))
		}
		return v
	case graph.AttrTensor:
		return iotaOf(graph.DTypes()[r.IntN(len(graph.DTypes()))], 1)
	}
	return nil
}

// checkOpNoPanic builds op on random inputs and attributes and runs it:
// errors are expected, panics are bugs.
func checkOpNoPanic(t *testing.T, which uint16, seed uint64) {
	o := fuzzedOps[int(which)%len(fuzzedOps)]
	d := graph.MustLookup(o.domain, o.typ)
	r := rand.New(rand.NewPCG(seed, uint64(which)))
	n := d.MinInputs
	if hi := d.MaxInputs; hi > n {
		n += r.IntN(hi - n + 1)
	} else if hi < 0 {
		n += r.IntN(3)
	}
	xs := make([]*graph.Tensor, n)
	for i := range xs {
		xs[i] = randTensor(r)
	}
	a := graph.Attrs{}
	for _, s := range d.Attrs {
		if r.IntN(2) == 0 {
			a[s.Name] = randAttr(s, r)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s with inputs %v attrs %v: panic: %v", o.typ, xs, a, p)
		}
	}()
	g := graph.New("fuzz")
	ins := make([]*graph.Node, n)
	feed := map[string]*graph.Tensor{}
	for i, x := range xs {
		name := fmt.Sprintf("x%d", i)
		if r.IntN(2) == 0 {
			ins[i] = g.Const(x)
		} else {
			ins[i] = g.Input(name, x.DType, x.Shape...)
			feed[name] = x
		}
	}
	outs, err := g.Apply(d, a, ins...)
	if err != nil {
		return
	}
	for i, y := range outs {
		g.SetOutput(fmt.Sprintf("y%d", i), y)
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		return
	}
	s.Run(feed)
}

// TestMoveOpsNoPanic runs a fixed set of random cases of FuzzMoveOps.
func TestMoveOpsNoPanic(t *testing.T) {
	for seed := uint64(0); seed < 60; seed++ {
		for i := range fuzzedOps {
			checkOpNoPanic(t, uint16(i), seed)
		}
	}
}

// FuzzMoveOps builds and runs the shape, indexing and ai.onnx.ml ops on
// random inputs of every dtype and random attributes.
//
//	go test -run '^$' -fuzz '^FuzzMoveOps$' -fuzztime 60s ./graph/
func FuzzMoveOps(f *testing.F) {
	for i := uint16(0); i < 8; i++ {
		f.Add(i*5, uint64(i))
	}
	f.Fuzz(func(t *testing.T, which uint16, seed uint64) { checkOpNoPanic(t, which, seed) })
}
