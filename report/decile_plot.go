package report

import (
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DecilePlot draws, per horizon, the mean label and the mean prediction of
// each prediction decile (decile 1 = highest predictions) as a PNG at path:
// for each model the labels as a solid line with circles and the
// predictions as a dashed line with triangles, in the model's colour (with
// a single model, the labels are black). A calibrated model's two lines
// coincide. Empty deciles (n < 10) are skipped. Panels and file writing as
// [LorenzPlot]; ErrNoData if no row has deciles.
func DecilePlot(path, title string, rows []EvalRow, opts ...PlotOption) error {
	cfg := newPlotConfig(opts)
	var horizons, models []string
	byH := map[string][]EvalRow{}
	for _, r := range rows {
		if len(r.Report.Deciles) == 0 {
			continue
		}
		if _, ok := byH[r.Horizon]; !ok {
			horizons = append(horizons, r.Horizon)
		}
		byH[r.Horizon] = append(byH[r.Horizon], r)
		if !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
	}
	if len(horizons) == 0 {
		return fmt.Errorf("%w: no rows with deciles", ErrNoData)
	}
	var ticks []plot.Tick
	for d := 1; d <= 10; d++ {
		ticks = append(ticks, plot.Tick{Value: float64(d), Label: strconv.Itoa(d)})
	}
	var panels []*plot.Plot
	for _, h := range horizons {
		p := newPanel(h, "Prediction decile (1 = highest predictions)", "Mean value per user")
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = 0.5, 10.5
		p.Y.Tick.Marker = niceTicks{}
		p.Legend.Top = true
		p.Legend.XOffs = -vg.Points(4)
		nonneg := true
		for _, r := range byH[h] {
			var lab, pred plotter.XYs
			for _, d := range r.Report.Deciles {
				x := float64(d.Decile)
				if d.MeanLabel != nil && finite(*d.MeanLabel) {
					lab = append(lab, plotter.XY{X: x, Y: *d.MeanLabel})
					nonneg = nonneg && *d.MeanLabel >= 0
				}
				if d.MeanPred != nil && finite(*d.MeanPred) {
					pred = append(pred, plotter.XY{X: x, Y: *d.MeanPred})
					nonneg = nonneg && *d.MeanPred >= 0
				}
			}
			col := modelColor(slices.Index(models, r.Model))
			labCol := col
			if len(models) == 1 {
				labCol = labelColor
			}
			for k, xy := range []plotter.XYs{lab, pred} {
				if len(xy) == 0 {
					continue
				}
				l, s, err := plotter.NewLinePoints(xy)
				if err != nil {
					return fmt.Errorf("report: deciles of %s at %s: %w", r.Model, h, err)
				}
				l.Width = vg.Points(1.6)
				s.Radius = vg.Points(3)
				name := r.Model + ": mean label"
				if k == 0 {
					l.Color, s.Color = labCol, labCol
					s.Shape = draw.CircleGlyph{}
				} else {
					l.Color, s.Color = col, col
					l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
					s.Shape = draw.TriangleGlyph{}
					name = r.Model + ": mean prediction"
				}
				if len(models) == 1 {
					name = name[len(r.Model)+2:]
				}
				p.Add(l, s)
				p.Legend.Add(name, l, s)
			}
		}
		if nonneg {
			p.Y.Min = 0
		}
		panels = append(panels, p)
	}
	return renderPNG(path, title, panels, cfg)
}
