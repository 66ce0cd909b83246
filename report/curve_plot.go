package report

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/odmn/odmn/train"
)

// termOrder is the order of the loss terms in train (DCT, DOT, their
// distillation, BCT, BOT, theirs, BBT, calibration); unknown terms follow,
// sorted.
var termOrder = []string{"dct", "dot", "dct_dis", "bct", "bot", "bct_dis", "bbt", "cali"}

// CurvePlot draws a training curve as a PNG at path: training and
// validation loss by epoch, the best epoch marked. [WithLossTerms] adds a
// second panel with each validation loss term; [WithTitle] sets the title
// (default "Training curve"). Non-finite losses are left out. ErrNoData for
// a nil history or one without epochs; the file is written atomically.
func CurvePlot(path string, h *train.History, opts ...PlotOption) error {
	if h == nil || len(h.Epochs) == 0 {
		return fmt.Errorf("%w: no epochs in the training history", ErrNoData)
	}
	cfg := newPlotConfig(opts)
	title := cfg.title
	if title == "" {
		title = "Training curve"
	}
	var trainXY, valXY plotter.XYs
	terms := map[string]plotter.XYs{}
	for _, e := range h.Epochs {
		x := float64(e.Epoch)
		if finite(e.TrainLoss) {
			trainXY = append(trainXY, plotter.XY{X: x, Y: e.TrainLoss})
		}
		if finite(e.ValLoss) {
			valXY = append(valXY, plotter.XY{X: x, Y: e.ValLoss})
		}
		for k, v := range e.ValTerms {
			if finite(v) {
				terms[k] = append(terms[k], plotter.XY{X: x, Y: v})
			}
		}
	}
	if len(trainXY) == 0 && len(valXY) == 0 {
		return fmt.Errorf("%w: no finite loss in the training history", ErrNoData)
	}
	sub := fmt.Sprintf("Loss by epoch (%d train, %d validation rows)", h.TrainRows, h.ValRows)
	if h.BestEpoch > 0 || h.Stopped != "" {
		sub += "\n"
		if h.BestEpoch > 0 {
			sub += fmt.Sprintf("best epoch %d", h.BestEpoch)
		}
		if h.Stopped != "" {
			if h.BestEpoch > 0 {
				sub += "; "
			}
			sub += h.Stopped
		}
	}
	first, last := h.Epochs[0].Epoch, h.Epochs[len(h.Epochs)-1].Epoch
	p := newPanel(sub, "Epoch", "Loss")
	p.X.Tick.Marker = epochTicks{}
	p.X.Min, p.X.Max = float64(first)-0.5, float64(last)+0.5
	p.Y.Tick.Marker = niceTicks{}
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(4)
	series := []struct {
		name string
		xy   plotter.XYs
		col  int
		dash bool
	}{{"training loss", trainXY, 1, false}, {"validation loss", valXY, 0, false}}
	for _, s := range series {
		if len(s.xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = modelColor(s.col), modelColor(s.col)
		l.Width = vg.Points(1.8)
		pts.Radius = vg.Points(2.5)
		pts.Shape = draw.CircleGlyph{}
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	if h.BestEpoch > 0 {
		if i := slices.IndexFunc(valXY, func(xy plotter.XY) bool { return xy.X == float64(h.BestEpoch) }); i >= 0 {
			best, err := plotter.NewScatter(plotter.XYs{valXY[i]})
			if err != nil {
				return err
			}
			best.Shape = draw.RingGlyph{}
			best.Radius = vg.Points(7)
			best.Color = labelColor
			p.Add(best)
			p.Legend.Add(fmt.Sprintf("best epoch (%d)", h.BestEpoch), best)
		}
	}
	panels := []*plot.Plot{p}
	if cfg.terms && len(terms) > 0 {
		tp := newPanel("Validation loss terms", "Epoch", "Loss term")
		tp.X.Tick.Marker = epochTicks{}
		tp.X.Min, tp.X.Max = p.X.Min, p.X.Max
		tp.Y.Tick.Marker = niceTicks{}
		tp.Legend.Top = true
		tp.Legend.XOffs = -vg.Points(4)
		var names []string
		for _, k := range termOrder {
			if _, ok := terms[k]; ok {
				names = append(names, k)
			}
		}
		var extra []string
		for k := range terms {
			if !slices.Contains(termOrder, k) {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		names = append(names, extra...)
		for i, k := range names {
			l, pts, err := plotter.NewLinePoints(terms[k])
			if err != nil {
				return err
			}
			c := modelColor(i)
			l.Color, pts.Color = c, c
			l.Width = vg.Points(1.5)
			if i >= len(palette) {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			pts.Radius = vg.Points(2)
			pts.Shape = draw.CircleGlyph{}
			tp.Add(l, pts)
			tp.Legend.Add(k, l, pts)
		}
		// Terms differ in scale and all start high, so the legend would
		// cover them: leave headroom above the data for it.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, xy := range terms {
			for _, p := range xy {
				lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
			}
		}
		lo = math.Min(lo, 0)
		if hi > lo {
			frac := math.Min(0.45, (13*float64(len(names))+12)/270)
			tp.Y.Min, tp.Y.Max = lo, lo+(hi-lo)/(1-frac)
		}
		panels = append(panels, tp)
	}
	return renderPNG(path, title, panels, cfg)
}

// epochTicks puts ticks on whole epochs, at most about ten of them.
type epochTicks struct{}

func (epochTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := int(min), int(max+0.5)
	if lo < 1 {
		lo = 1
	}
	step := 1
	for (hi-lo)/step > 10 {
		switch {
		case step == 1:
			step = 2
		case step == 2:
			step = 5
		default:
			step *= 2
		}
	}
	var out []plot.Tick
	for e := lo; e <= hi; e++ {
		if float64(e) < min-1e-9 || float64(e) > max+1e-9 {
			continue
		}
		t := plot.Tick{Value: float64(e)}
		if (e-lo)%step == 0 {
			t.Label = fmt.Sprint(e)
		}
		out = append(out, t)
	}
	return out
}
