package train

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/fixtures/synth"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
	"google.golang.org/protobuf/proto"
)

// funcGraph calls the three ai.odmn functions on graph inputs.
func funcGraph(t *testing.T) *g.Graph {
	t.Helper()
	disc, mono, dec := Functions()
	gr := g.New("funcs")
	err := g.Catch(func() {
		x := gr.Input("x", g.Float32, -1, 3)
		bounds := gr.Input("bounds", g.Float32, 3, 4)
		gr.SetOutput("ids", disc.Call(nil, x, bounds)[0])
		mx := gr.Input("mx", g.Float32, -1, 5)
		v1 := gr.Input("v1", g.Float32, 5, 4)
		b1 := gr.Input("b1", g.Float32, 4)
		v2 := gr.Input("v2", g.Float32, 4, 2)
		b2 := gr.Input("b2", g.Float32, 2)
		gr.SetOutput("y", mono.Call(nil, mx, v1, b1, v2, b2)[0])
		p := gr.Input("p", g.Float32, -1, 2)
		q := gr.Input("q", g.Float32, -1, 5)
		vals := gr.Input("values", g.Float32, -1, 5)
		subOf := gr.Const(g.I64([]int{5}, []int64{0, 0, 1, 1, 1}))
		r := dec.Call(nil, p, q, vals, subOf)
		for i, name := range []string{"ltv", "ev", "sub", "bucket"} {
			gr.SetOutput(name, r[i])
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return gr
}

func funcFeed(n int, seed uint64) map[string]*g.Tensor {
	r := rand.New(rand.NewPCG(seed, 3))
	nan := float32(math.NaN())
	f := func(shape ...int) *g.Tensor {
		x := g.NewTensor(g.Float32, shape)
		for i := range x.F {
			x.F[i] = float32(r.NormFloat64())
		}
		return x
	}
	// Bounds: sorted rows padded with NaN, and one unsorted row.
	bounds := g.F32([]int{3, 4}, []float32{-1, 0, 0.5, nan, 0, nan, nan, nan, 1, -1, 2, 0})
	x := f(n, 3)
	for i := range x.F {
		switch i % 7 {
		case 0:
			x.F[i] = nan
		case 1:
			x.F[i] = []float32{-1, 0, 0.5, 1, 2, float32(math.Inf(1)), float32(math.Inf(-1))}[r.IntN(7)]
		}
	}
	// Decode inputs: distributions with exact ties in some rows.
	p := g.NewTensor(g.Float32, []int{n, 2})
	q := g.NewTensor(g.Float32, []int{n, 5})
	for i := 0; i < n; i++ {
		a := r.Float32()
		if i%5 == 0 {
			a = 0.5
		}
		p.F[2*i], p.F[2*i+1] = a, 1-a
		for s, w := range [][2]int{{0, 2}, {2, 5}} {
			_ = s
			sum := float32(0)
			for j := w[0]; j < w[1]; j++ {
				q.F[5*i+j] = r.Float32()
				if i%3 == 0 {
					q.F[5*i+j] = 1
				}
				sum += q.F[5*i+j]
			}
			for j := w[0]; j < w[1]; j++ {
				q.F[5*i+j] /= sum
			}
		}
	}
	return map[string]*g.Tensor{"x": x, "bounds": bounds, "mx": f(n, 5), "v1": f(5, 4), "b1": f(4), "v2": f(4, 2), "b2": f(2),
		"p": p, "q": q, "values": f(n, 5)}
}

// The fused kernels give the bodies' values (integers and Mono Unit
// exactly, the expected value within float32 rounding), and ONNX Runtime
// runs the bodies to the same values.
func TestFunctionsFusedBodyORT(t *testing.T) {
	gr := funcGraph(t)
	feed := funcFeed(500, 1)
	fused, err := native.New(gr, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := native.New(gr, native.Options{BodiesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, a, b runtime.Session, atol float64) {
		t.Helper()
		diffs, err := conform.CrossRun(a, b, feed, conform.Tolerance{Atol: atol, Rtol: atol})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diffs {
			if !d.OK() {
				t.Errorf("%s: %s", what, d)
			}
		}
	}
	check("fused vs bodies", fused, bodies, 1e-6)
	// The native runtime really runs the fused kernels of an imported file.
	calls := 0
	fd, fm, fdec := Functions()
	for _, f := range []*g.Function{fd, fm, fdec} {
		k, _ := g.FusedKernel(f)
		g.RegisterFused(f, func(in []*g.Tensor, a g.Attrs, out []*g.Tensor) error { calls++; return k(in, a, out) })
		defer g.RegisterFused(f, k)
	}
	mp, err := export.Model(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	imported, err := compat.Import(mp)
	if err != nil {
		t.Fatal(err)
	}
	is, err := native.New(imported, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("imported (fused) vs bodies", is, bodies, 1e-6)
	if calls != 3 {
		t.Errorf("%d fused kernel calls, want 3", calls)
	}
	// Discretize by hand: data.Bin's rule.
	res, err := fused.Run(feed, "ids")
	if err != nil {
		t.Fatal(err)
	}
	x, bounds := feed["x"], feed["bounds"]
	for i, v := range x.F {
		k := i % 3
		want := int64(0)
		if v == v {
			want = 1
			for _, b := range bounds.F[k*4 : k*4+4] {
				if v >= b {
					want++
				}
			}
		}
		if res["ids"].I[i] != want {
			t.Fatalf("Discretize(%v, row %d) = %d, want %d", v, k, res["ids"].I[i], want)
		}
	}

	testenv.RequireLib(t)
	raw, err := export.Marshal(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	os, err := ort.OpenBytes(raw, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	check("ORT vs fused", os, fused, 1e-5)
}

var (
	tinyOnce   sync.Once
	tinyB      *Bundle
	tinyTable  *data.Table
	tinyErr    error
	tinyConfig = func() Config {
		c := smallConfig(ODMN)
		c.EmbedDim, c.Bottom, c.Tower, c.MonoDim, c.Epochs = 4, []int{16}, 8, 4, 1
		c.Buckets.Buckets = 6
		return c
	}
)

// tinyBundle trains a tiny ODMN on synthetic users, with its spec and encoder.
func tinyBundle(t *testing.T) (*Bundle, *data.Table) {
	t.Helper()
	tinyOnce.Do(func() {
		tab, spec, err := synth.Generate(synth.Config{Users: 3000, Seed: 5})
		if err != nil {
			tinyErr = err
			return
		}
		path := filepath.Join(t.TempDir(), "users.csv")
		if err = data.WriteFile(path, tab); err != nil {
			tinyErr = err
			return
		}
		enc, err := data.Fit(path, spec, data.FitOptions{Seed: 1})
		if err != nil {
			tinyErr = err
			return
		}
		ds, err := data.Load(path, spec, enc)
		if err != nil {
			tinyErr = err
			return
		}
		m, _, err := Fit(context.Background(), ds, tinyConfig(), Hooks{})
		if err != nil {
			tinyErr = err
			return
		}
		tinyB = &Bundle{Model: m, Spec: spec, Encoder: enc, Fingerprint: Fingerprint(ds)}
		tinyTable = tab
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyB, tinyTable
}

// rawFeed turns table rows into the export graph's inputs, with some
// values made hard: NaN, ±Inf, bounds themselves, unseen and empty
// categories.
func rawFeed(b *Bundle, tab *data.Table, n int) map[string]*g.Tensor {
	ins, _ := b.Inputs()
	r := rand.New(rand.NewPCG(7, 7))
	feed := map[string]*g.Tensor{}
	for _, in := range ins {
		j := tab.Col(in.Name)
		if in.Type == "string" {
			s := append([]string{}, tab.Str[j][:n]...)
			for i := range s {
				switch r.IntN(20) {
				case 0:
					s[i] = ""
				case 1:
					s[i] = "never-seen"
				}
			}
			feed[in.Name] = g.Strings([]int{n}, s)
			continue
		}
		var bounds []float64
		for _, c := range b.Encoder.Numeric {
			if c.Name == in.Name {
				bounds = c.Bounds
			}
		}
		for _, q := range b.Encoder.Sequences {
			for d := 1; d <= q.Length; d++ {
				if data.SeqColumn(q.Name, d) == in.Name {
					bounds = q.Bounds
				}
			}
		}
		x := g.NewTensor(g.Float32, []int{n})
		for i := range x.F {
			x.F[i] = float32(tab.Num[j][i])
			switch r.IntN(20) {
			case 0:
				x.F[i] = float32(math.NaN())
			case 1:
				x.F[i] = float32(math.Inf(2*r.IntN(2) - 1))
			case 2, 3:
				if len(bounds) > 0 {
					x.F[i] = float32(bounds[r.IntN(len(bounds))])
				}
			}
		}
		feed[in.Name] = x
	}
	return feed
}

// The export graph (in-graph encoding, function calls) agrees with the
// training-time forward pass (Go encoder, inline ops) on the native
// runtime with fused kernels and with bodies, and on ONNX Runtime; the
// file passes the ONNX checker and strict shape inference, and the model
// rebuilt from it gives the same reference.
// runNative runs gr on the native runtime with opts and returns every output.
func runNative(t *testing.T, gr *g.Graph, opts native.Options, feed map[string]*g.Tensor) map[string]*g.Tensor {
	t.Helper()
	s, err := native.New(gr, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A file that defines ai.odmn.MonoUnit with another body (here Exp where
// odmn has Softplus) runs its own body: the runtime chooses a fused
// kernel only for the body the kernel was written for.
func TestFusedKernelOnlyForItsBody(t *testing.T) {
	gr := funcGraph(t)
	feed := funcFeed(64, 2)
	mp, err := export.Model(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, fp := range mp.Functions {
		if fp.GetDomain() != Domain || fp.GetName() != FnMonoUnit {
			continue
		}
		for _, np := range fp.Node {
			if np.GetOpType() == "Softplus" {
				np.OpType = proto.String("Exp")
				changed++
			}
		}
	}
	if changed == 0 {
		t.Fatal("exported MonoUnit has no Softplus node to change")
	}
	imported, err := compat.Import(mp)
	if err != nil {
		t.Fatal(err)
	}
	got := runNative(t, imported, native.Options{}, feed)
	body := runNative(t, imported, native.Options{BodiesOnly: true}, feed)
	for i, v := range body["y"].F {
		if got["y"].F[i] != v {
			t.Fatalf("y[%d] = %v, the file's body gives %v", i, got["y"].F[i], v)
		}
	}
	// and the change matters: odmn's Mono Unit gives other values
	orig := runNative(t, gr, native.Options{}, feed)
	same := true
	for i, v := range orig["y"].F {
		same = same && v == body["y"].F[i]
	}
	if same {
		t.Fatal("changing Softplus to Exp did not change the Mono Unit's output")
	}
	// the functions left alone still run their kernels
	fd, _, _ := Functions()
	for _, f := range imported.Functions() {
		_, ok := g.FusedKernel(f)
		if want := f.Name != FnMonoUnit; ok != want {
			t.Errorf("%s: fused kernel chosen = %v, want %v", f.Name, ok, want)
		}
		if f.Name == FnDiscretize && !f.SameBody(fd) {
			t.Errorf("imported Discretize does not match odmn's")
		}
	}
}

func TestExportGraphAgrees(t *testing.T) {
	b, tab := tinyBundle(t)
	opts := InferOptions{Indices: true, IDs: true, Distributions: true, Ordinal: true}
	gr, err := b.ExportGraph(opts)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := b.ReferenceSession(opts)
	if err != nil {
		t.Fatal(err)
	}
	feed := rawFeed(b, tab, 2000)
	want, err := ref.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	compare := func(what string, s runtime.Session) {
		t.Helper()
		got, err := s.Run(feed)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d outputs, reference %d", what, len(got), len(want))
		}
		for name, w := range want {
			if name == OutFQM { // checked through the map's slope below
				continue
			}
			d := conform.Compare(name, got[name], w, conform.Tolerance{Atol: 1e-4, Rtol: 1e-5})
			if !d.OK() {
				t.Errorf("%s: %s", what, d)
			}
		}
		if bad := FrozenDisagreements(b.Model.Frozen, got[OutLTVEV], got[OutFQM], want[OutLTVEV], want[OutFQM], 1e-4, 1e-5); bad != "" {
			t.Errorf("%s: %s", what, bad)
		}
	}
	for _, bodies := range []bool{false, true} {
		s, err := native.New(gr, native.Options{BodiesOnly: bodies})
		if err != nil {
			t.Fatal(err)
		}
		compare(map[bool]string{false: "native fused", true: "native bodies"}[bodies], s)
	}

	m, err := export.Model(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := BundleFromONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	ref2, err := rb.ReferenceSession(opts)
	if err != nil {
		t.Fatal(err)
	}
	compare("reference rebuilt from the file", ref2)

	if py := testenv.RequirePythonONNX(t); py != "" {
		if err := compat.CheckModel(py, m); err != nil {
			t.Fatal(err)
		}
	}
	testenv.RequireLib(t)
	raw, err := export.Marshal(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	os, err := ort.OpenBytes(raw, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	compare("ORT", os)
}

// Baselines export too (ltv = ltv_ev); asking them for decode outputs fails.
func TestExportBaselineAndErrors(t *testing.T) {
	b, _ := tinyBundle(t)
	gr, err := b.ExportGraph(InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The default file leaves the training-only towers out.
	m, err := export.Model(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, init := range m.GetGraph().GetInitializer() {
		if n := init.GetName(); strings.Contains(n, ".dot.") || strings.Contains(n, ".bot.") {
			t.Errorf("default export holds %s", n)
		}
	}
	var names []string
	for _, o := range m.GetGraph().GetOutput() {
		names = append(names, o.GetName())
	}
	if got, want := strings.Join(names, ","), "ltv,ltv_ev,ltv_p10,ltv_p50,ltv_p90,ltv_fqm"; got != want {
		t.Errorf("default outputs %s, want %s", got, want)
	}
	mse := *b.Model
	mse.Cfg.Variant = MSE
	mb := *b
	mb.Model = &mse
	if _, err := mb.ExportGraph(InferOptions{Indices: true}); err == nil || !strings.Contains(err.Error(), "no bucket distributions") {
		t.Errorf("MSE export with indices: %v", err)
	}
	nb := *b
	nb.Encoder = nil
	if _, err := nb.ExportGraph(InferOptions{}); err == nil {
		t.Error("export without an encoder succeeded")
	}
}
