package report

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/odmn/odmn/internal/fsutil"
)

// WriteAtomic writes a file through write: into a temporary file in the
// same directory (mode 0644 less the umask), synced, then renamed over path.
// If write or any step fails, the temporary file is removed and path is left
// as it was (absent or with its old content), so a reader never sees a
// half-written file.
func WriteAtomic(path string, write func(io.Writer) error) error {
	if err := fsutil.Write(path, write); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

// PlotOption tunes a plot.
type PlotOption func(*plotConfig)

type plotConfig struct {
	width, height vg.Length // whole image; 0 = from the panel grid
	dpi           int
	title         string
	terms         bool
}

func newPlotConfig(opts []PlotOption) plotConfig {
	c := plotConfig{dpi: 96}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithSize sets the size of the whole image (default: 6.4 x 4.8 inches per
// panel).
func WithSize(w, h vg.Length) PlotOption {
	return func(c *plotConfig) {
		if w > 0 && h > 0 {
			c.width, c.height = w, h
		}
	}
}

// WithDPI sets the resolution (default 96 dots per inch).
func WithDPI(dpi int) PlotOption {
	return func(c *plotConfig) {
		if dpi > 0 {
			c.dpi = dpi
		}
	}
}

// WithTitle sets the title of a plot that has no title argument
// ([CurvePlot]).
func WithTitle(t string) PlotOption { return func(c *plotConfig) { c.title = t } }

// WithLossTerms adds a panel with the validation loss terms to [CurvePlot].
func WithLossTerms() PlotOption { return func(c *plotConfig) { c.terms = true } }

const (
	panelW = 6.4 * vg.Inch
	panelH = 4.8 * vg.Inch
	titleH = 0.5 * vg.Inch
)

// Colours: labels in black, models from a colour-blind-safe palette
// (Okabe-Ito, without black and yellow, which reads badly on white).
var (
	labelColor = color.RGBA{A: 255}
	diagColor  = color.RGBA{R: 150, G: 150, B: 150, A: 255}
	palette    = []color.RGBA{
		{R: 0xd5, G: 0x5e, B: 0x00, A: 255}, // vermillion
		{R: 0x00, G: 0x72, B: 0xb2, A: 255}, // blue
		{R: 0x00, G: 0x9e, B: 0x73, A: 255}, // bluish green
		{R: 0xcc, G: 0x79, B: 0xa7, A: 255}, // reddish purple
		{R: 0xe6, G: 0x9f, B: 0x00, A: 255}, // orange
		{R: 0x56, G: 0xb4, B: 0xe9, A: 255}, // sky blue
		{R: 0x80, G: 0x40, B: 0x00, A: 255}, // brown
	}
)

func modelColor(i int) color.Color { return palette[i%len(palette)] }

// newPanel returns a plot with the package's fonts and grid.
func newPanel(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Padding = vg.Points(2)
	p.Legend.ThumbnailWidth = vg.Points(28)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 215}
	g.Horizontal.Color = color.Gray{Y: 215}
	p.Add(g)
	return p
}

// gridShape picks rows x cols for n panels: 1x1, 1x2, 2x2, then 3 columns.
func gridShape(n int) (rows, cols int) {
	switch {
	case n <= 1:
		return 1, 1
	case n == 2:
		return 1, 2
	case n <= 4:
		return 2, 2
	}
	cols = 3
	return (n + cols - 1) / cols, cols
}

// renderPNG lays panels out on a grid under an overall title and writes the
// PNG atomically to path. Nothing is written if rendering fails.
func renderPNG(path, title string, panels []*plot.Plot, cfg plotConfig) (err error) {
	if len(panels) == 0 {
		return fmt.Errorf("%w: no panels", ErrNoData)
	}
	rows, cols := gridShape(len(panels))
	top := vg.Length(0)
	if title != "" {
		top = titleH
	}
	w, h := cfg.width, cfg.height
	if w == 0 {
		w, h = panelW*vg.Length(cols), panelH*vg.Length(rows)+top
	}
	if px := float64(w/vg.Inch) * float64(cfg.dpi) * float64(h/vg.Inch) * float64(cfg.dpi); px > 1e8 {
		return fmt.Errorf("report: image of %.0f pixels is too large", px)
	}
	// gonum/plot panics on some degenerate inputs; report them as errors.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("report: drawing %s: %v", path, r)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(cfg.dpi))
	dc := draw.New(img)
	if title != "" {
		sty := panels[0].Title.TextStyle
		sty.Font.Size = vg.Points(16)
		sty.XAlign = draw.XCenter
		sty.YAlign = draw.YCenter
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y - top/2}, title)
		dc = draw.Crop(dc, 0, 0, 0, -top)
	}
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range cols {
			if k := r*cols + c; k < len(panels) {
				grid[r][c] = panels[k]
			}
		}
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12),
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10)}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("report: encoding %s: %w", path, err)
	}
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// niceTicks labels three to six round values (steps of 1, 2, 2.5 or 5 times a
// power of ten) with a common number of decimals, with an unlabelled minor
// tick between them.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	e := int(math.Floor(math.Log10(step) + 1e-9))
	dec := max(0, -e)
	if math.Abs(step/math.Pow(10, float64(e))-2.5) < 1e-9 && e <= 0 {
		dec++ // 2.5, 0.25, ...
	}
	var out []plot.Tick
	first := math.Ceil(lo/step-1e-9) - 1
	for k := first; k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v >= lo-step*1e-9 {
			out = append(out, plot.Tick{Value: v, Label: fmtNum(v, dec)})
		}
		if m := v + step/2; m >= lo && m <= hi {
			out = append(out, plot.Tick{Value: m})
		}
	}
	return out
}
