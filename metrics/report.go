package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Options tunes [ComputeReport] and [ComputeMultiReport]. The zero value is
// the default.
type Options struct {
	// Horizons names the horizons in the JSON (e.g. "30d", "90d"); empty
	// means "t1", "t2", ...; otherwise its length must equal T (ErrShape).
	Horizons []string
	// MonotonicityTol: a user violates monotonicity if yhat_t > yhat_{t+1} +
	// MonotonicityTol for some t. Must be finite and >= 0 (ErrTolerance).
	MonotonicityTol float64
	// LorenzPoints > 0 adds both Lorenz curves, sampled exactly at
	// LorenzPoints+1 evenly spaced x, to each horizon's report (for plots).
	LorenzPoints int
	// StrictZeroPredictions reports gini_pred and mutual_gini as null when
	// all predictions are 0, instead of using the diagonal Lorenz curve.
	StrictZeroPredictions bool
}

// Report holds every metric of one horizon. A metric that is undefined for
// the input is null (nil) and Notes says why; NaN and ±Inf never appear.
type Report struct {
	Horizon string `json:"horizon"`
	N       int    `json:"n"`

	LabelMean *float64 `json:"label_mean"`
	PredMean  *float64 `json:"pred_mean"`
	NRMSE     *float64 `json:"nrmse"`
	NMAE      *float64 `json:"nmae"`
	AMBE      *float64 `json:"ambe"`

	GiniLabel  *float64 `json:"gini_label"`
	GiniPred   *float64 `json:"gini_pred"`
	MutualGini *float64 `json:"mutual_gini"`

	NormalizedGini *float64    `json:"normalized_gini"`
	Spearman       *float64    `json:"spearman"`
	Deciles        []DecileRow `json:"deciles"`

	LorenzLabel []Point `json:"lorenz_label,omitempty"`
	LorenzPred  []Point `json:"lorenz_pred,omitempty"`

	Notes []string `json:"notes,omitempty"`
}

// MultiReport holds one [Report] per horizon plus the cross-horizon metrics.
type MultiReport struct {
	N        int      `json:"n"`
	T        int      `json:"t"`
	Horizons []Report `json:"horizons"`

	// Share of users whose predictions decrease from a horizon to the next
	// by more than MonotonicityTol.
	MonotonicityViolationRate *float64 `json:"monotonicity_violation_rate"`
	MonotonicityTol           float64  `json:"monotonicity_tol"`
	// The same for labels with tolerance 0; labels are cumulative (spec
	// section 1), so a non-zero value marks bad input.
	LabelMonotonicityViolationRate *float64 `json:"label_monotonicity_violation_rate"`

	Notes []string `json:"notes,omitempty"`
}

// workspace holds the per-user buffers, allocated once per call and reused
// across horizons.
type workspace struct {
	y, p   []float64
	py, pp []pair
	rank   []float64
}

func newWorkspace(n int, columns bool) *workspace {
	w := &workspace{py: make([]pair, n), pp: make([]pair, n), rank: make([]float64, n)}
	if columns {
		w.y, w.p = make([]float64, n), make([]float64, n)
	}
	return w
}

// ComputeReport computes the [Report] of one horizon. It fails (with
// ErrEmpty, ErrLength, ErrNonFinite, ErrTooLarge, ErrShape) only if the input
// as a whole is unusable; metrics that are undefined for valid input are
// null with a note (see the package documentation).
func ComputeReport(y, yhat []float64, opts Options) (Report, error) {
	if err := checkPair(y, yhat); err != nil {
		return Report{}, err
	}
	if err := checkOptions(opts, 1); err != nil {
		return Report{}, err
	}
	name := "t1"
	if len(opts.Horizons) == 1 {
		name = opts.Horizons[0]
	}
	return computeHorizon(newWorkspace(len(y), false), name, y, yhat, opts), nil
}

// ComputeMultiReport computes a [Report] for every horizon of the [n][T]
// matrices labels and preds (row i is user i), and the monotonicity
// violation rates. It fails on n = 0 or T = 0 (ErrEmpty), different row
// counts (ErrLength), ragged rows or a wrong number of horizon names
// (ErrShape), NaN/Inf (ErrNonFinite) and a bad tolerance (ErrTolerance).
func ComputeMultiReport(labels, preds [][]float64, opts Options) (MultiReport, error) {
	if len(labels) != len(preds) {
		return MultiReport{}, fmt.Errorf("%w: %d label rows, %d prediction rows", ErrLength, len(labels), len(preds))
	}
	tl, err := checkMatrix("labels", labels)
	if err != nil {
		return MultiReport{}, err
	}
	tp, err := checkMatrix("preds", preds)
	if err != nil {
		return MultiReport{}, err
	}
	if tl != tp {
		return MultiReport{}, fmt.Errorf("%w: labels have %d horizons, preds %d", ErrShape, tl, tp)
	}
	if err := checkOptions(opts, tl); err != nil {
		return MultiReport{}, err
	}
	n, T := len(labels), tl
	mr := MultiReport{N: n, T: T, Horizons: make([]Report, T), MonotonicityTol: opts.MonotonicityTol}
	ws := newWorkspace(n, true)
	for t := range T {
		for i := range n {
			ws.y[i] = labels[i][t]
			ws.p[i] = preds[i][t]
		}
		name := fmt.Sprintf("t%d", t+1)
		if len(opts.Horizons) > 0 {
			name = opts.Horizons[t]
		}
		mr.Horizons[t] = computeHorizon(ws, name, ws.y, ws.p, opts)
	}
	mr.MonotonicityViolationRate = ptr(violationRate(preds, opts.MonotonicityTol))
	lv := violationRate(labels, 0)
	mr.LabelMonotonicityViolationRate = ptr(lv)
	if T == 1 {
		mr.Notes = append(mr.Notes, "monotonicity: a single horizon cannot violate monotonicity; rates are 0")
	}
	if lv > 0 {
		mr.Notes = append(mr.Notes, fmt.Sprintf("labels: %.6g of users have a label that decreases between horizons; labels should be cumulative (spec section 1), so these rows are bad input", lv))
	}
	return mr, nil
}

func checkOptions(opts Options, T int) error {
	if len(opts.Horizons) != 0 && len(opts.Horizons) != T {
		return fmt.Errorf("%w: %d horizon names for %d horizons", ErrShape, len(opts.Horizons), T)
	}
	if err := checkTol(opts.MonotonicityTol); err != nil {
		return err
	}
	if opts.LorenzPoints < 0 || opts.LorenzPoints > 1<<24 {
		return fmt.Errorf("%w: LorenzPoints = %d (want 0..%d)", ErrTooLarge, opts.LorenzPoints, 1<<24)
	}
	return nil
}

// note appends a note prefixed with the metric name.
func (r *Report) note(metric, format string, args ...any) {
	r.Notes = append(r.Notes, metric+": "+fmt.Sprintf(format, args...))
}

// set stores v in *dst unless it is not finite (overflow), which becomes
// null with a note.
func (r *Report) set(dst **float64, metric string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		*dst = nil
		r.note(metric, "arithmetic overflowed (%v); input values too large for float64 sums", v)
		return
	}
	*dst = ptr(v)
}

// computeHorizon fills a Report for validated y, yhat (finite, equal
// length n >= 1).
func computeHorizon(ws *workspace, name string, y, yhat []float64, opts Options) Report {
	n := len(y)
	r := Report{Horizon: name, N: n}

	// Point metrics.
	s := newPointSums(y, yhat)
	r.set(&r.LabelMean, "label_mean", s.meanY())
	r.set(&r.PredMean, "pred_mean", s.meanP())
	r.set(&r.AMBE, "ambe", s.ambe())
	if m := s.meanY(); m > 0 {
		r.set(&r.NRMSE, "nrmse", s.nrmse())
		r.set(&r.NMAE, "nmae", s.nmae())
	} else {
		r.note("nrmse, nmae", "null because mean(y) = %v is not positive (nothing to normalize by)", m)
	}

	// Sort once per vector; everything below reads these orders.
	py := fillPairs(ws.py, y)
	pp := fillPairs(ws.pp, yhat)
	sortDesc(py)
	sortDesc(pp)

	// Lorenz-based metrics need non-negative vectors with a positive sum.
	labelErr := checkLorenz("y", y)
	predErr := checkLorenz("yhat", yhat)
	predDiag := false
	if errors.Is(predErr, ErrZeroTotal) && !opts.StrictZeroPredictions {
		predDiag = true
		predErr = nil
		r.note("gini_pred, mutual_gini", "all predictions are 0 (collapsed decode, spec section 5b); their Lorenz curve is 0/0 and is taken as the diagonal by convention, so gini_pred = 0 (Options.StrictZeroPredictions gives null)")
	}
	if labelErr != nil {
		r.note("gini_label", "null: %v", labelErr)
	} else {
		r.set(&r.GiniLabel, "gini_label", giniDesc(py))
	}
	switch {
	case predErr != nil:
		r.note("gini_pred", "null: %v", predErr)
	case predDiag:
		r.GiniPred = ptr(0)
	default:
		r.set(&r.GiniPred, "gini_pred", giniDesc(pp))
	}
	if labelErr != nil || predErr != nil {
		r.note("mutual_gini", "null: needs both Lorenz curves (see gini_label / gini_pred)")
	} else {
		r.set(&r.MutualGini, "mutual_gini", mutualGiniDesc(py, pp, predDiag))
	}
	if opts.LorenzPoints > 0 {
		if labelErr == nil {
			r.LorenzLabel = lorenzSampledPairs(py, opts.LorenzPoints, false)
		}
		if predErr == nil {
			r.LorenzPred = lorenzSampledPairs(pp, opts.LorenzPoints, predDiag)
		}
	}

	// Ranking.
	constPred := pp[0].v == pp[n-1].v
	if labelErr != nil {
		r.note("normalized_gini", "null: the labels' gain curve is undefined: %v", labelErr)
	} else {
		r.set(&r.NormalizedGini, "normalized_gini", normalizedGiniPairs(py, pp, y))
		if constPred {
			r.note("normalized_gini", "all predictions are equal; with ties averaged google's formula gives 1/(n*raw_truth), not 0")
		}
	}
	if rho, err := spearmanPairs(pp, py, ws.rank[:n]); err != nil {
		r.note("spearman", "null: %v", err)
	} else {
		r.set(&r.Spearman, "spearman", rho)
	}

	// Calibration by decile.
	r.Deciles = decilesPairs(pp, y)
	if n < NumDeciles {
		r.note("deciles", "n = %d < %d: the last %d deciles are empty (null means)", n, NumDeciles, NumDeciles-n)
	}
	if constPred {
		r.note("deciles", "all predictions are equal: ties are averaged, so every decile's mean label is the overall mean")
	}
	for i := range r.Deciles {
		for _, f := range []**float64{&r.Deciles[i].MeanLabel, &r.Deciles[i].MeanPred} {
			if *f != nil && (math.IsNaN(**f) || math.IsInf(**f, 0)) {
				*f = nil
				r.note("deciles", "decile %d: arithmetic overflowed; mean set to null", i+1)
			}
		}
	}
	return r
}
