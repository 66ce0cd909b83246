package twostage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// Tolerances of the XGBoost -> ONNX conformance test: the tree sums are
// the same float32 additions in another order, the logistic and exp are
// float32 library functions.
const (
	conformRtol = 1e-5
	conformAtol = 1e-6
)

// diffStats accumulates the largest absolute and relative differences.
type diffStats struct {
	name           string
	maxAbs, maxRel float64
	outside        int
	n              int
}

func (d *diffStats) add(got, want float64) {
	d.n++
	if math.IsNaN(got) || math.IsNaN(want) {
		if math.IsNaN(got) != math.IsNaN(want) {
			d.outside++
		}
		return
	}
	diff := math.Abs(got - want)
	d.maxAbs = math.Max(d.maxAbs, diff)
	if want != 0 {
		d.maxRel = math.Max(d.maxRel, diff/math.Abs(want))
	}
	if diff > conformAtol+conformRtol*math.Abs(want) {
		d.outside++
	}
}

func (d *diffStats) String() string {
	return fmt.Sprintf("%-32s max abs %.3g  max rel %.3g  (%d of %d outside)", d.name, d.maxAbs, d.maxRel, d.outside, d.n)
}

// withMissing returns x [n, f] with a seeded 5% of its cells set to NaN
// (rows past the first half only), so that XGBoost's default directions are
// exercised against nodes_missing_value_tracks_true.
func withMissing(x []float32, n, f int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	out := append([]float32{}, x...)
	for i := n / 2; i < n; i++ {
		for j := 0; j < f; j++ {
			if r.Float64() < 0.05 {
				out[i*f+j] = float32(math.NaN())
			}
		}
	}
	return out
}

// TestConformanceXGBoostORTNative trains a Two-Stage model on synthetic
// zero-inflated data, predicts with XGBoost's own C API, exports the ONNX
// file, runs it in ONNX Runtime and in odmn's native runtime (both the
// built graph and the file imported back), and requires agreement on the
// classifier probabilities, the regressor margins, P(premium), the value
// and ltv.
func TestConformanceXGBoostORTNative(t *testing.T) {
	testenv.RequireLib(t)
	ds := synthetic(5000, 21)
	m, err := Fit(ds, seq(0, 3500), seq(3500, 4200), Config{Seed: 5, MaxDepth: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	rows := seq(4200, 5000)
	n, f, T := len(rows), ds.F, len(m.Stages)
	x := withMissing(features(ds, rows), n, f, 9)

	// XGBoost's own predictions.
	want, err := m.predictMatrix(x, n)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDMatrix(x, n, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rawP, rawR := make([][]float32, T), make([][]float32, T)
	for k, s := range m.Stages {
		if rawP[k], rawR[k], err = s.raw(d, n); err != nil {
			t.Fatal(err)
		}
	}

	// Export.
	g, err := m.GraphWith(GraphOptions{Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := export.Model(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opsets := map[string]int64{}
	for _, o := range mp.OpsetImport {
		opsets[o.GetDomain()] = o.GetVersion()
	}
	if opsets[""] != 17 || opsets["ai.onnx.ml"] != 3 {
		t.Errorf("opset_import %v, want ai.onnx 17 and ai.onnx.ml 3", opsets)
	}
	// ONNX's own checker and strict shape inference accept the file.
	if err := compat.CheckModel(testenv.RequirePythonONNX(t), mp); err != nil {
		t.Fatal(err)
	}
	b, err := export.Marshal(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "twostage.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	so, err := ort.Open(path, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	sn, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mi, err := compat.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gi, err := compat.Import(mi)
	if err != nil {
		t.Fatal(err)
	}
	si, err := native.New(gi, native.Options{})
	if err != nil {
		t.Fatal(err)
	}

	feed := map[string]*graph.Tensor{InputFeatures: graph.F32([]int{n, f}, x)}
	run := func(name string, s runtime.Session) map[string]*graph.Tensor {
		res, err := s.Run(feed)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	outs := map[string]map[string]*graph.Tensor{
		"ORT":              run("ORT", so),
		"native":           run("native", sn),
		"native(imported)": run("native(imported)", si),
	}

	// XGBoost vs each runtime.
	var all []*diffStats
	for _, rt := range []string{"ORT", "native", "native(imported)"} {
		res := outs[rt]
		st := map[string]*diffStats{}
		get := func(k string) *diffStats {
			if st[k] == nil {
				st[k] = &diffStats{name: "XGBoost vs " + rt + ": " + k}
				all = append(all, st[k])
			}
			return st[k]
		}
		for k, s := range m.Stages {
			h := fmt.Sprintf("h%d", s.Horizon)
			probs, margin, label := res[h+"_probabilities"], res[h+"_margin"], res[h+"_label"]
			if probs == nil || margin == nil || label == nil {
				t.Fatalf("%s: raw outputs of %s missing", rt, h)
			}
			for i := 0; i < n; i++ {
				p := float64(rawP[k][i])
				get("probability[1]").add(float64(probs.F[2*i+1]), p)
				get("probability[0]").add(float64(probs.F[2*i]), 1-p)
				get("regressor margin").add(float64(margin.F[i]), float64(rawR[k][i]))
				if wantLabel := int64(0); true {
					if p > 0.5 {
						wantLabel = 1
					}
					// The label is margin > 0; rows within rounding of 0.5 may differ.
					if label.I[i] != wantLabel && math.Abs(p-0.5) > 1e-5 {
						t.Errorf("%s %s row %d: label %d, XGBoost p = %v", rt, h, i, label.I[i], p)
					}
				}
			}
		}
		for i := 0; i < n; i++ {
			for k := 0; k < T; k++ {
				get(OutPremium).add(float64(res[OutPremium].F[i*T+k]), want.Premium[i][k])
				get(OutValue).add(float64(res[OutValue].F[i*T+k]), want.Value[i][k])
				get(OutLTV).add(float64(res[OutLTV].F[i*T+k]), want.LTV[i][k])
			}
		}
	}
	// Native (built and imported) vs ORT on every output.
	for _, rt := range []string{"native", "native(imported)"} {
		names := make([]string, 0, len(outs["ORT"]))
		for name := range outs["ORT"] {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ref, got := outs["ORT"][name], outs[rt][name]
			if got == nil {
				t.Errorf("%s lacks output %s", rt, name)
				continue
			}
			dd := conform.Compare(name, got, ref, conform.Tolerance{Atol: conformAtol, Rtol: conformRtol})
			ds := &diffStats{name: rt + " vs ORT: " + name, maxAbs: dd.MaxAbs, maxRel: dd.MaxRel, outside: dd.Beyond, n: ref.Len()}
			if dd.Problem != "" {
				t.Errorf("%s vs ORT %s: %s", rt, name, dd.Problem)
			}
			all = append(all, ds)
		}
	}

	// The hard rule, through ONNX Runtime.
	m.Config.Combine = CombineHard
	wantHard, err := m.predictMatrix(x, n)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := m.Graph()
	if err != nil {
		t.Fatal(err)
	}
	bh, err := export.Marshal(gh, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ort.OpenBytes(bh, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	hard := run("ORT (hard rule)", sh)
	hs := &diffStats{name: "XGBoost vs ORT: ltv, hard rule"}
	above := 0
	for i := 0; i < n; i++ {
		for k := 0; k < T; k++ {
			if math.Abs(wantHard.Premium[i][k]-0.5) < 1e-5 {
				continue // may flip within rounding
			}
			if wantHard.Premium[i][k] > 0.5 {
				above++
			}
			hs.add(float64(hard[OutLTV].F[i*T+k]), wantHard.LTV[i][k])
		}
	}
	if above == 0 || above == hs.n {
		t.Errorf("hard rule: %d of %d probabilities above 0.5; the test needs both sides", above, hs.n)
	}
	all = append(all, hs)

	for _, s := range all {
		t.Log(s)
		if s.outside > 0 {
			t.Errorf("outside tolerance (rtol %g, atol %g): %s", conformRtol, conformAtol, s)
		}
	}
}

// TestConvertBoosterWithMissing trains boosters directly on data with
// missing values, so that XGBoost learns default directions both ways, and
// checks the converted ensembles in ONNX Runtime and the native runtime
// against XGBoost's predictions on data with missing values.
func TestConvertBoosterWithMissing(t *testing.T) {
	testenv.RequireLib(t)
	const n, f = 3000, 4
	r := rand.New(rand.NewPCG(17, 1))
	x := make([]float32, n*f)
	yc, yr := make([]float32, n), make([]float32, n)
	for i := 0; i < n; i++ {
		for j := 0; j < f; j++ {
			x[i*f+j] = float32(r.IntN(20))
		}
		z := 0.3*float64(x[i*f]) - 0.2*float64(x[i*f+1]) + r.NormFloat64()
		// Missing values carry signal: missing feature 0 means "high".
		if r.Float64() < 0.15 {
			x[i*f] = float32(math.NaN())
			z += 3
		}
		if r.Float64() < 0.1 {
			x[i*f+2] = float32(math.NaN())
		}
		if z > 2 {
			yc[i] = 1
		}
		yr[i] = float32(z)
	}
	nTrain := 2400
	dTrain := func(y []float32) *dmatrix {
		d, err := newDMatrix(x[:nTrain*f], nTrain, f, y[:nTrain])
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cfg := Config{MaxRounds: 40, MaxDepth: 4, Seed: 2}.WithDefaults()
	xTest := x[nTrain*f:]
	nTest := n - nTrain
	dTest, err := newDMatrix(xTest, nTest, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dTest.Close()

	for _, classifier := range []bool{true, false} {
		y, extra := yr, [][2]string{{"objective", "reg:squarederror"}, {"base_score", "0.7"}}
		if classifier {
			y, extra = yc, [][2]string{{"objective", "binary:logistic"}, {"base_score", "0.3"}}
		}
		d := dTrain(y)
		b, err := newBooster(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range append(cfg.params(), extra...) {
			if err := b.setParam(kv[0], kv[1]); err != nil {
				t.Fatal(err)
			}
		}
		for it := 0; it < cfg.MaxRounds; it++ {
			if err := b.update(it, d); err != nil {
				t.Fatal(err)
			}
		}
		want, err := b.predict(dTest, false)
		if err != nil {
			t.Fatal(err)
		}
		js, err := b.saveJSON()
		if err != nil {
			t.Fatal(err)
		}
		e, err := convertBooster(js, classifier, f)
		if err != nil {
			t.Fatal(err)
		}
		left, right := 0, 0
		for i, m := range e.modes {
			if m != "LEAF" {
				if e.missing[i] == 1 {
					left++
				} else {
					right++
				}
			}
		}
		if left == 0 || right == 0 {
			t.Fatalf("classifier=%v: default directions %d left, %d right: the test needs both", classifier, left, right)
		}

		g := graph.New("xgb")
		var out *graph.Node
		if err := graph.Catch(func() {
			in := g.Input("x", graph.Float32, -1, f)
			if classifier {
				_, probs := graph.TreeEnsembleClassifier(in, e.classifierAttrs())
				out = graph.Slice(probs, []int64{1}, []int64{2}, []int64{1}, nil)
			} else {
				out = graph.TreeEnsembleRegressor(in, e.regressorAttrs())
			}
			g.SetOutput("y", out)
		}); err != nil {
			t.Fatal(err)
		}
		bytes, err := export.Marshal(g, export.Options{})
		if err != nil {
			t.Fatal(err)
		}
		so, err := ort.OpenBytes(bytes, ort.Options{IntraOpThreads: 1})
		if err != nil {
			t.Fatal(err)
		}
		sn, err := native.New(g, native.Options{})
		if err != nil {
			t.Fatal(err)
		}
		feed := map[string]*graph.Tensor{"x": graph.F32([]int{nTest, f}, xTest)}
		for name, s := range map[string]runtime.Session{"ORT": so, "native": sn} {
			res, err := s.Run(feed)
			if err != nil {
				t.Fatal(err)
			}
			st := &diffStats{name: fmt.Sprintf("XGBoost vs %s (classifier=%v)", name, classifier)}
			for i := 0; i < nTest; i++ {
				st.add(float64(res["y"].F[i]), float64(want[i]))
			}
			t.Log(st)
			if st.outside > 0 {
				t.Errorf("outside tolerance: %s", st)
			}
		}
		so.Close()
		b.Close()
		d.Close()
	}
}

// positiveLeavesModel is an XGBoost binary:logistic model whose leaves are
// all positive: one tree, f0 < 1 -> 0.3 (missing goes left), else 0.6.
const positiveLeavesModel = `{"learner":{"attributes":{},"feature_names":[],"feature_types":[],
"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"1","size_leaf_vector":"0"},
"tree_info":[0],"trees":[{"base_weights":[0.0,0.3,0.6],"categories":[],"categories_nodes":[],"categories_segments":[],
"categories_sizes":[],"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[1.0,0.0,0.0],
"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[1.0,0.3,0.6],"split_indices":[0,0,0],
"split_type":[0,0,0],"sum_hessian":[10.0,5.0,5.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3",
"size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"4E-1","boost_from_average":"1",
"num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic",
"reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]}`

// TestPositiveLeavesClassifier: ONNX Runtime applies no logistic to a
// binary classifier without negative weights; the converter's guard tree
// keeps the exported probabilities equal to XGBoost's.
func TestPositiveLeavesClassifier(t *testing.T) {
	testenv.RequireLib(t)
	b, err := loadBooster([]byte(positiveLeavesModel))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	x := []float32{0, 5, 2, 1, float32(math.NaN()), 0, 1, float32(math.NaN())}
	d, err := newDMatrix(x, 4, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want, err := b.predict(d, false)
	if err != nil {
		t.Fatal(err)
	}
	js, err := b.saveJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, guard := range []bool{true, false} {
		e, err := convertBooster(js, true, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !guard { // what the export would be without the guard tree
			n := len(e.modes) - 3
			e.treeIDs, e.nodeIDs, e.features, e.modes = e.treeIDs[:n], e.nodeIDs[:n], e.features[:n], e.modes[:n]
			e.values, e.trues, e.falses, e.missing = e.values[:n], e.trues[:n], e.falses[:n], e.missing[:n]
			k := len(e.leafWeight) - 2
			e.leafTree, e.leafNode, e.leafWeight = e.leafTree[:k], e.leafNode[:k], e.leafWeight[:k]
		}
		g := graph.New("guard")
		if err := graph.Catch(func() {
			in := g.Input("x", graph.Float32, -1, 2)
			_, probs := graph.TreeEnsembleClassifier(in, e.classifierAttrs())
			g.SetOutput("p", probs)
		}); err != nil {
			t.Fatal(err)
		}
		bs, err := export.Marshal(g, export.Options{})
		if err != nil {
			t.Fatal(err)
		}
		so, err := ort.OpenBytes(bs, ort.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := so.Run(map[string]*graph.Tensor{"x": graph.F32([]int{4, 2}, x)})
		so.Close()
		if err != nil {
			t.Fatal(err)
		}
		st := &diffStats{name: fmt.Sprintf("guard %v", guard)}
		for i := range want {
			st.add(float64(res["p"].F[2*i+1]), float64(want[i]))
		}
		t.Log(st, res["p"], want)
		if guard && st.outside > 0 {
			t.Errorf("with the guard tree: %s", st)
		}
		if !guard && st.outside == 0 {
			t.Errorf("without the guard tree ONNX Runtime agreed with XGBoost: the guard may no longer be needed (%s)", st)
		}
	}
}

// TestExportHardRuleConstantStages exports a model with the hard rule, a
// horizon without premium users (constant stages) and a horizon whose
// regressor is constant for lack of premium rows, and checks ONNX Runtime
// against Predict.
func TestExportHardRuleConstantStages(t *testing.T) {
	testenv.RequireLib(t)
	ds := synthetic(1200, 8)
	for i := 0; i < ds.N; i++ {
		ds.Y[i*2] = 0 // horizon 7: nobody pays
		if i%150 != 0 {
			ds.Y[i*2+1] = 0 // horizon 30: 8 payers, too few for a regressor
		}
	}
	m, err := Fit(ds, seq(0, 900), seq(900, 1200), Config{Seed: 1, Combine: CombineHard, MaxRounds: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if s := m.Stages[1]; s.classifier == nil || s.regressor != nil || s.Smearing == 1 {
		t.Fatalf("horizon 30: classifier %v, regressor %v, smearing %v; want a classifier and a constant regressor with smearing",
			s.classifier != nil, s.regressor != nil, s.Smearing)
	}
	want, err := m.PredictDetail(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Graph()
	if err != nil {
		t.Fatal(err)
	}
	b, err := export.Marshal(g, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	so, err := ort.OpenBytes(b, ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	res, err := so.Run(map[string]*graph.Tensor{InputFeatures: graph.F32([]int{ds.N, ds.F}, features(ds, seq(0, ds.N)))})
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]*diffStats{}
	for _, name := range []string{OutLTV, OutPremium, OutValue} {
		st[name] = &diffStats{name: name}
	}
	for i := 0; i < ds.N; i++ {
		for k := 0; k < 2; k++ {
			if math.Abs(want.Premium[i][k]-0.5) < 1e-5 {
				continue // the hard rule may flip within rounding
			}
			st[OutLTV].add(float64(res[OutLTV].F[2*i+k]), want.LTV[i][k])
			st[OutPremium].add(float64(res[OutPremium].F[2*i+k]), want.Premium[i][k])
			st[OutValue].add(float64(res[OutValue].F[2*i+k]), want.Value[i][k])
		}
	}
	for _, name := range []string{OutLTV, OutPremium, OutValue} {
		t.Log(st[name])
		if st[name].outside > 0 {
			t.Errorf("ORT vs XGBoost outside tolerance: %s", st[name])
		}
	}
}
