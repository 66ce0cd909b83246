package report

import (
	"fmt"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/odmn/odmn/metrics"
)

// DefaultLorenzPoints is the number of segments a sampled Lorenz curve has
// when [LorenzCurve] is given points <= 0.
const DefaultLorenzPoints = 200

// Curve is one Lorenz curve of a [LorenzPlot].
type Curve struct {
	// Horizon picks the panel: curves with the same Horizon share one.
	Horizon string
	// Name is the legend entry, e.g. "labels" or "ODMN EV". Model curves
	// get one colour per Name (or Group), the same in every panel.
	Name string
	// Detail is appended to the legend entry without changing the colour,
	// e.g. "(MG 0.0125)".
	Detail string
	// Label marks the curve of the labels, drawn in black.
	Label bool
	// Group picks the colour instead of Name: curves with the same Group
	// (e.g. two decodes of one model) share a colour. Empty: Name.
	Group string
	// Dashed draws a model curve dashed (e.g. a point decode beside the
	// solid expected value of the same model).
	Dashed bool
	// Points is the curve, x ascending in [0, 1], as from
	// metrics.LorenzSampled or a report's LorenzLabel / LorenzPred.
	Points []metrics.Point
}

// LorenzCurve samples the descending Lorenz curve of v at points+1 evenly
// spaced x with metrics.LorenzSampled (DefaultLorenzPoints if points <= 0),
// so millions of users plot as a few hundred points. It fails as
// LorenzSampled does, e.g. on negative or all-zero v (for the report's
// all-zero-predictions convention use a report computed with
// metrics.Options.LorenzPoints and [CurvesFromReport]).
func LorenzCurve(horizon, name string, v []float64, points int, label bool) (Curve, error) {
	if points <= 0 {
		points = DefaultLorenzPoints
	}
	pts, err := metrics.LorenzSampled(v, points)
	if err != nil {
		return Curve{}, fmt.Errorf("report: Lorenz curve of %s at %s: %w", name, horizon, err)
	}
	return Curve{Horizon: horizon, Name: name, Label: label, Points: pts}, nil
}

// CurvesFromReport returns the label and prediction curves stored in a
// report computed with metrics.Options.LorenzPoints > 0 (none if it was
// not), named "labels" and model, with the report's Gini of the labels and
// Mutual Gini as Detail ("(Gini g)", "(MG m)") when they are defined.
func CurvesFromReport(model string, r metrics.Report) []Curve {
	var out []Curve
	if len(r.LorenzLabel) > 0 {
		c := Curve{Horizon: r.Horizon, Name: "labels", Label: true, Points: r.LorenzLabel}
		if r.GiniLabel != nil {
			c.Detail = fmt.Sprintf("(Gini %.3f)", *r.GiniLabel)
		}
		out = append(out, c)
	}
	if len(r.LorenzPred) > 0 {
		c := Curve{Horizon: r.Horizon, Name: model, Points: r.LorenzPred}
		if r.MutualGini != nil {
			c.Detail = fmt.Sprintf("(MG %.4f)", *r.MutualGini)
		}
		out = append(out, c)
	}
	return out
}

func checkCurve(c Curve) error {
	if len(c.Points) < 2 {
		return fmt.Errorf("report: Lorenz curve %q at %q has %d points (need 2 or more)", c.Name, c.Horizon, len(c.Points))
	}
	for i, p := range c.Points {
		if !finite(p.X) || !finite(p.Y) || p.X < 0 || p.X > 1 || p.Y < -1e-9 || p.Y > 1+1e-9 {
			return fmt.Errorf("report: Lorenz curve %q at %q: point %d = (%v, %v) is outside [0,1]²", c.Name, c.Horizon, i, p.X, p.Y)
		}
		if i > 0 && p.X < c.Points[i-1].X {
			return fmt.Errorf("report: Lorenz curve %q at %q: x decreases at point %d", c.Name, c.Horizon, i)
		}
	}
	return nil
}

func xys(pts []metrics.Point) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, p := range pts {
		out[i].X, out[i].Y = p.X, p.Y
	}
	return out
}

// LorenzPlot draws Lorenz curves as a PNG at path: x is the share of users
// sorted by value descending (highest first, as the paper's figure 4), y
// their share of the total value. Each horizon gets a panel (one horizon:
// one plot; 2: side by side; 3-4: a 2x2 grid; more: 3 columns), with the
// diagonal (everyone worth the same), the labels in black and each model in
// its own colour (per Group; Dashed curves dashed). A label curve identical to one already in its panel is
// drawn once. The file is written atomically; on any error (ErrNoData for
// no curves, a bad curve) no file is created.
func LorenzPlot(path, title string, curves []Curve, opts ...PlotOption) error {
	if len(curves) == 0 {
		return fmt.Errorf("%w: no Lorenz curves", ErrNoData)
	}
	cfg := newPlotConfig(opts)
	var horizons, models []string
	byH := map[string][]Curve{}
	for _, c := range curves {
		if err := checkCurve(c); err != nil {
			return err
		}
		if _, ok := byH[c.Horizon]; !ok {
			horizons = append(horizons, c.Horizon)
		}
		byH[c.Horizon] = append(byH[c.Horizon], c)
		if !c.Label && !slices.Contains(models, c.colourKey()) {
			models = append(models, c.colourKey())
		}
	}
	var panels []*plot.Plot
	for _, h := range horizons {
		p := newPanel(h, "Share of users (highest value first)", "Share of total value")
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		p.X.Tick.Marker, p.Y.Tick.Marker = shareTicks, shareTicks
		p.Legend.Top, p.Legend.Left = false, false
		p.Legend.XOffs, p.Legend.YOffs = -vg.Points(4), vg.Points(4)

		diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return err
		}
		diag.Color = diagColor
		diag.Width = vg.Points(1)
		diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(diag)

		var labels [][]metrics.Point
		type entry struct {
			name string
			line *plotter.Line
		}
		var labelEntries, modelEntries []entry
		for _, c := range byH[h] {
			if c.Label {
				if slices.ContainsFunc(labels, func(q []metrics.Point) bool { return slices.Equal(q, c.Points) }) {
					continue
				}
				labels = append(labels, c.Points)
			}
			l, err := plotter.NewLine(xys(c.Points))
			if err != nil {
				return err
			}
			if c.Label {
				l.Color = labelColor
				l.Width = vg.Points(2.2)
				if k := len(labels) - 1; k > 0 {
					l.Dashes = []vg.Length{vg.Points(6), vg.Points(2 * float64(k))}
				}
				labelEntries = append(labelEntries, entry{legendName(c), l})
			} else {
				l.Color = modelColor(slices.Index(models, c.colourKey()))
				l.Width = vg.Points(1.6)
				if c.Dashed {
					l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				}
				modelEntries = append(modelEntries, entry{legendName(c), l})
			}
		}
		// Models first, labels on top; legend lists labels first.
		for _, e := range modelEntries {
			p.Add(e.line)
		}
		for _, e := range labelEntries {
			p.Add(e.line)
		}
		for _, e := range append(labelEntries, modelEntries...) {
			p.Legend.Add(e.name, e.line)
		}
		p.Legend.Add("equal value (diagonal)", diag)
		panels = append(panels, p)
	}
	return renderPNG(path, title, panels, cfg)
}

// colourKey is what a model curve's colour is chosen by.
func (c Curve) colourKey() string {
	if c.Group != "" {
		return c.Group
	}
	return c.Name
}

func legendName(c Curve) string {
	if c.Detail == "" {
		return c.Name
	}
	return c.Name + " " + c.Detail
}

// shareTicks marks [0, 1] every 10%, labelled every 20%.
var shareTicks = plot.ConstantTicks(func() []plot.Tick {
	var t []plot.Tick
	for i := 0; i <= 10; i++ {
		tk := plot.Tick{Value: float64(i) / 10}
		if i%2 == 0 {
			tk.Label = fmt.Sprintf("%d%%", i*10)
		}
		t = append(t, tk)
	}
	return t
}())
