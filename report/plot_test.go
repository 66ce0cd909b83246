package report

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/train"
)

// decodePNG opens path as a PNG and checks its size.
func decodePNG(t *testing.T, path string, w, h int) image.Image {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("%s is not a valid PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	return img
}

// countColor counts the pixels of img within rect that are close to c.
func countColor(img image.Image, rect image.Rectangle, c color.RGBA) int {
	n := 0
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			d := math.Abs(float64(r>>8)-float64(c.R)) + math.Abs(float64(g>>8)-float64(c.G)) + math.Abs(float64(b>>8)-float64(c.B))
			if d < 30 {
				n++
			}
		}
	}
	return n
}

// noFiles fails if dir holds anything but the listed names.
func noFiles(t *testing.T, dir string, allowed ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
outer:
	for _, e := range ents {
		for _, a := range allowed {
			if e.Name() == a {
				continue outer
			}
		}
		t.Errorf("unexpected file left in %s: %s", dir, e.Name())
	}
}

func testCurves(t *testing.T, horizons ...string) []Curve {
	t.Helper()
	var out []Curve
	for k, h := range horizons {
		labels := []float64{0, 0, 0, 1, 2, 3, 10, 40 + float64(k)}
		preds := []float64{0.5, 0.5, 1, 1, 2, 4, 8, 30}
		lc, err := LorenzCurve(h, "labels", labels, 50, true)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := LorenzCurve(h, "ODMN EV", preds, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lc, pc)
	}
	return out
}

func TestLorenzPlotPNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lorenz.png")
	if err := LorenzPlot(path, "Lorenz", testCurves(t, "30d", "90d", "180d", "365d")); err != nil {
		t.Fatal(err)
	}
	// 2x2 panels of 6.4 x 4.8 in plus a 0.5 in title at 96 dpi.
	img := decodePNG(t, path, 1229, 970)
	if n := countColor(img, img.Bounds(), palette[0]); n < 400 {
		t.Errorf("only %d pixels in the first model colour: curves missing?", n)
	}
	if n := countColor(img, img.Bounds(), labelColor); n < 400 {
		t.Errorf("only %d black pixels: label curves missing?", n)
	}
	noFiles(t, dir, "lorenz.png")
}

func TestLorenzPlotSameColourPerModel(t *testing.T) {
	// The Detail differs per panel; the colour must not.
	var cs []Curve
	for _, h := range []string{"30d", "90d"} {
		c := testCurves(t, h)
		c[1].Detail = "(MG 0.01" + h + ")"
		cs = append(cs, c...)
	}
	path := filepath.Join(t.TempDir(), "two.png")
	if err := LorenzPlot(path, "", cs); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path, 1229, 461) // 1x2, no title
	left := image.Rect(0, 0, 614, 461)
	right := image.Rect(615, 0, 1229, 461)
	for name, r := range map[string]image.Rectangle{"left": left, "right": right} {
		if n := countColor(img, r, palette[0]); n < 200 {
			t.Errorf("%s panel: %d pixels of the model colour", name, n)
		}
		if n := countColor(img, r, palette[1]); n > 0 {
			t.Errorf("%s panel: %d pixels of a second model colour", name, n)
		}
	}
}

func TestPlotSizeOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.png")
	if err := LorenzPlot(path, "t", testCurves(t, "30d"), WithSize(400, 300), WithDPI(72)); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, path, 400, 300)
	path = filepath.Join(t.TempDir(), "one.png")
	if err := LorenzPlot(path, "t", testCurves(t, "30d")); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, path, 614, 509)
}

func TestLorenzPlotErrorsLeaveNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.png")
	bad := testCurves(t, "30d")
	bad[1].Points = append([]metrics.Point(nil), bad[1].Points...)
	bad[1].Points[3].Y = 2
	cases := map[string][]Curve{
		"no curves":    nil,
		"y outside":    bad,
		"one point":    {{Horizon: "30d", Name: "x", Points: []metrics.Point{{X: 0, Y: 0}}}},
		"x decreasing": {{Horizon: "30d", Name: "x", Points: []metrics.Point{{X: 0, Y: 0}, {X: 1, Y: 1}, {X: 0.5, Y: 1}}}},
		"NaN":          {{Horizon: "30d", Name: "x", Points: []metrics.Point{{X: 0, Y: 0}, {X: 1, Y: math.NaN()}}}},
	}
	for name, cs := range cases {
		err := LorenzPlot(path, "t", cs)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if name == "no curves" && !errors.Is(err, ErrNoData) {
			t.Errorf("no curves: err = %v, want ErrNoData", err)
		}
		if _, serr := os.Stat(path); !os.IsNotExist(serr) {
			t.Errorf("%s: file exists after a failed plot", name)
		}
	}
	// A directory that does not exist.
	if err := LorenzPlot(filepath.Join(dir, "missing", "x.png"), "t", testCurves(t, "30d")); err == nil {
		t.Error("missing directory: no error")
	}
	// The target is a directory: rendering succeeds, the rename fails, and
	// the temporary file must be gone.
	target := filepath.Join(dir, "adir")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := LorenzPlot(target, "t", testCurves(t, "30d")); err == nil {
		t.Error("rename over a directory: no error")
	}
	noFiles(t, dir, "adir")
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	half := func(w io.Writer) error {
		if _, err := io.WriteString(w, strings.Repeat("x", 100000)); err != nil {
			return err
		}
		return errors.New("renderer failed halfway")
	}
	err := WriteAtomic(path, half)
	if err == nil || !strings.Contains(err.Error(), "halfway") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a failed write left a file")
	}
	noFiles(t, dir)

	// An existing file survives a failed write unchanged, and is replaced
	// by a successful one.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, half); err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("failed write changed the file to %d bytes", len(b))
	}
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("file = %q, want new", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	noFiles(t, dir, "out.txt")
}

func TestDecilePlotPNG(t *testing.T) {
	rows := []EvalRow{threeUsers(), threeUsers(), threeUsers()}
	rows[1].Model = "ZILN"
	rows[2].Horizon = "90d"
	dir := t.TempDir()
	path := filepath.Join(dir, "deciles.png")
	if err := DecilePlot(path, "Deciles", rows); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path, 1229, 509) // 1x2 with title
	if n := countColor(img, img.Bounds(), palette[1]); n < 100 {
		t.Errorf("second model missing: %d pixels", n)
	}
	err := DecilePlot(filepath.Join(dir, "none.png"), "x", []EvalRow{{Model: "a", Horizon: "30d"}})
	if !errors.Is(err, ErrNoData) {
		t.Errorf("no deciles: err = %v", err)
	}
	noFiles(t, dir, "deciles.png")
}

func TestCurvePlotPNG(t *testing.T) {
	dir := t.TempDir()
	h := &train.History{TrainRows: 90, ValRows: 10, BestEpoch: 2, Stopped: "epochs done", Epochs: []train.EpochStats{
		{Epoch: 1, TrainLoss: 3, ValLoss: 3.5, ValTerms: map[string]float64{"dct": 1, "bbt": 0.2, "zzz": 0.1}},
		{Epoch: 2, TrainLoss: 2, ValLoss: 2.5, ValTerms: map[string]float64{"dct": 0.8, "bbt": 0.1, "zzz": 0.1}, Best: true},
		{Epoch: 3, TrainLoss: 1.5, ValLoss: math.Inf(1)},
	}}
	path := filepath.Join(dir, "curve.png")
	if err := CurvePlot(path, h); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, path, 614, 509)
	path2 := filepath.Join(dir, "terms.png")
	if err := CurvePlot(path2, h, WithLossTerms(), WithTitle("x")); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, path2, 1229, 509)
	for name, bad := range map[string]*train.History{
		"nil":       nil,
		"no epochs": {},
		"all NaN":   {Epochs: []train.EpochStats{{Epoch: 1, TrainLoss: math.NaN(), ValLoss: math.NaN()}}},
	} {
		if err := CurvePlot(filepath.Join(dir, "bad.png"), bad); !errors.Is(err, ErrNoData) {
			t.Errorf("%s: err = %v, want ErrNoData", name, err)
		}
	}
	noFiles(t, dir, "curve.png", "terms.png")
}

func TestLorenzCurveAndReportCurves(t *testing.T) {
	c, err := LorenzCurve("30d", "m", []float64{3, 1, 0, 0}, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	// Descending: the top quarter of users holds 3/4 of the value.
	want := []metrics.Point{{X: 0, Y: 0}, {X: 0.25, Y: 0.75}, {X: 0.5, Y: 1}, {X: 0.75, Y: 1}, {X: 1, Y: 1}}
	if len(c.Points) != len(want) {
		t.Fatalf("points = %v", c.Points)
	}
	for i, p := range c.Points {
		if math.Abs(p.X-want[i].X) > 1e-12 || math.Abs(p.Y-want[i].Y) > 1e-12 {
			t.Errorf("point %d = %v, want %v", i, p, want[i])
		}
	}
	if c, err := LorenzCurve("30d", "m", []float64{1, 2}, 0, false); err != nil || len(c.Points) != DefaultLorenzPoints+1 {
		t.Errorf("default points: %d, %v", len(c.Points), err)
	}
	if _, err := LorenzCurve("30d", "m", []float64{0, 0}, 10, false); !errors.Is(err, metrics.ErrZeroTotal) {
		t.Errorf("all zero: err = %v, want ErrZeroTotal", err)
	}

	// The report's convention for all-zero predictions: the diagonal.
	r, err := metrics.ComputeReport([]float64{0, 1, 3}, []float64{0, 0, 0}, metrics.Options{Horizons: []string{"30d"}, LorenzPoints: 3})
	if err != nil {
		t.Fatal(err)
	}
	cs := CurvesFromReport("ODMN argmax", r)
	if len(cs) != 2 || !cs[0].Label || cs[1].Label || cs[0].Horizon != "30d" {
		t.Fatalf("curves = %+v", cs)
	}
	if cs[0].Name != "labels" || cs[1].Name != "ODMN argmax" || !strings.HasPrefix(cs[0].Detail, "(Gini ") || !strings.HasPrefix(cs[1].Detail, "(MG ") {
		t.Errorf("names = %q %q, details %q %q", cs[0].Name, cs[1].Name, cs[0].Detail, cs[1].Detail)
	}
	if p := cs[1].Points[1]; math.Abs(p.X-p.Y) > 1e-12 {
		t.Errorf("all-zero predictions: point %v is off the diagonal", p)
	}
	if got := CurvesFromReport("x", metrics.Report{}); len(got) != 0 {
		t.Errorf("report without curves gave %d", len(got))
	}
}

func TestTicks(t *testing.T) {
	var got []string
	for _, tk := range (niceTicks{}).Ticks(0, 13.2) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if s := strings.Join(got, " "); s != "0 5 10" {
		t.Errorf("niceTicks(0, 13.2) = %s", s)
	}
	got = nil
	for _, tk := range (niceTicks{}).Ticks(3.1, 5.2) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if s := strings.Join(got, " "); s != "3.5 4.0 4.5 5.0" {
		t.Errorf("niceTicks(3.1, 5.2) = %s", s)
	}
	got = nil
	for _, tk := range (epochTicks{}).Ticks(0.5, 30.5) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if s := strings.Join(got, " "); s != "1 6 11 16 21 26" {
		t.Errorf("epochTicks(0.5, 30.5) = %s", s)
	}
	for n, want := range map[int][2]int{1: {1, 1}, 2: {1, 2}, 3: {2, 2}, 4: {2, 2}, 5: {2, 3}, 7: {3, 3}} {
		if r, c := gridShape(n); r != want[0] || c != want[1] {
			t.Errorf("gridShape(%d) = %d, %d", n, r, c)
		}
	}
}

// Curves with one Group share a colour whatever their Names; a dashed
// curve draws fewer pixels than the same curve solid.
func TestLorenzPlotGroupAndDashes(t *testing.T) {
	base := testCurves(t, "365d")
	ev, argmax := base[1], base[1]
	ev.Name, ev.Group = "ODMN EV", "ODMN"
	argmax.Name, argmax.Group = "ODMN argmax", "ODMN"
	other := base[1]
	other.Name, other.Group = "ZILN", "ZILN"
	pixels := func(cs ...Curve) (first, second int) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "g.png")
		if err := LorenzPlot(path, "", cs); err != nil {
			t.Fatal(err)
		}
		img := decodePNG(t, path, 614, 461)
		return countColor(img, img.Bounds(), palette[0]), countColor(img, img.Bounds(), palette[1])
	}
	if _, n := pixels(base[0], ev, argmax); n > 0 {
		t.Errorf("two curves of one Group: %d pixels of a second colour", n)
	}
	if _, n := pixels(base[0], ev, other); n == 0 {
		t.Error("two Groups: no pixels of a second colour")
	}
	solid, _ := pixels(base[0], ev)
	argmax.Dashed = true
	dashed, _ := pixels(base[0], argmax)
	if !(dashed < solid*9/10) {
		t.Errorf("dashed curve has %d pixels, solid %d: not dashed?", dashed, solid)
	}
}
