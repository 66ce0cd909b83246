package twostage

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/odmn/odmn/data"
)

// Combination rules.
const (
	CombineExpected = "expected" // P(premium) * E[y | premium]
	CombineHard     = "hard"     // E[y | premium] if P(premium) > 0.5, else 0
)

// Config holds the Two-Stage settings; zero values take the defaults
// written next to each field.
type Config struct {
	// PremiumThreshold: a user is premium in a horizon when y > it (0).
	PremiumThreshold float64 `json:"premium_threshold"`
	// Combine is CombineExpected (default) or CombineHard.
	Combine string `json:"combine"`
	// NoSmearing turns off the smearing factor of the log1p back-transform.
	NoSmearing bool `json:"no_smearing,omitempty"`

	// XGBoost parameters.
	MaxRounds           int     `json:"max_rounds"`            // 500
	EarlyStoppingRounds int     `json:"early_stopping_rounds"` // 20
	LearningRate        float64 `json:"learning_rate"`         // 0.1 (eta)
	MaxDepth            int     `json:"max_depth"`             // 6
	MinChildWeight      float64 `json:"min_child_weight"`      // 1
	Subsample           float64 `json:"subsample"`             // 0.8
	ColsampleByTree     float64 `json:"colsample_bytree"`      // 0.8
	Lambda              float64 `json:"lambda"`                // 1 (L2 on leaf weights)
	Alpha               float64 `json:"alpha"`                 // 0 (L1 on leaf weights)
	MaxBin              int     `json:"max_bin"`               // 256
	Threads             int     `json:"threads"`               // 1
	Seed                uint64  `json:"seed"`                  // 0

	// ValFraction of the training rows is held out for early stopping
	// when Fit gets no validation rows (0.1).
	ValFraction float64 `json:"val_fraction"`
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Combine == "" {
		c.Combine = CombineExpected
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defi(&c.MaxRounds, 500)
	defi(&c.EarlyStoppingRounds, 20)
	def(&c.LearningRate, 0.1)
	defi(&c.MaxDepth, 6)
	def(&c.MinChildWeight, 1)
	def(&c.Subsample, 0.8)
	def(&c.ColsampleByTree, 0.8)
	def(&c.Lambda, 1)
	defi(&c.MaxBin, 256)
	defi(&c.Threads, 1)
	def(&c.ValFraction, 0.1)
	return c
}

// Validate checks a config with defaults applied.
func (c Config) Validate() error {
	switch {
	case c.Combine != CombineExpected && c.Combine != CombineHard:
		return fmt.Errorf("twostage: combine must be %q or %q, got %q", CombineExpected, CombineHard, c.Combine)
	case !(c.PremiumThreshold >= 0) || math.IsInf(c.PremiumThreshold, 0):
		return fmt.Errorf("twostage: premium threshold must be finite and >= 0, got %v", c.PremiumThreshold)
	case c.MaxRounds < 1 || c.EarlyStoppingRounds < 1:
		return errors.New("twostage: max_rounds and early_stopping_rounds must be positive")
	case !(c.LearningRate > 0 && c.LearningRate <= 1):
		return fmt.Errorf("twostage: learning rate %v not in (0, 1]", c.LearningRate)
	case c.MaxDepth < 1 || c.MaxDepth > 30:
		return fmt.Errorf("twostage: max_depth %d not in [1, 30]", c.MaxDepth)
	case !(c.Subsample > 0 && c.Subsample <= 1) || !(c.ColsampleByTree > 0 && c.ColsampleByTree <= 1):
		return errors.New("twostage: subsample and colsample_bytree must be in (0, 1]")
	case !(c.MinChildWeight >= 0) || !(c.Lambda >= 0) || !(c.Alpha >= 0):
		return errors.New("twostage: min_child_weight, lambda and alpha must be >= 0")
	case c.MaxBin < 2 || c.Threads < 1:
		return errors.New("twostage: max_bin must be >= 2 and threads >= 1")
	case !(c.ValFraction > 0 && c.ValFraction < 1):
		return fmt.Errorf("twostage: val_fraction %v not in (0, 1)", c.ValFraction)
	}
	return nil
}

// params are the XGBoost parameters shared by both stages.
func (c Config) params() [][2]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return [][2]string{
		{"tree_method", "hist"},
		{"eta", f(c.LearningRate)},
		{"max_depth", strconv.Itoa(c.MaxDepth)},
		{"min_child_weight", f(c.MinChildWeight)},
		{"subsample", f(c.Subsample)},
		{"colsample_bytree", f(c.ColsampleByTree)},
		{"lambda", f(c.Lambda)},
		{"alpha", f(c.Alpha)},
		{"max_bin", strconv.Itoa(c.MaxBin)},
		{"nthread", strconv.Itoa(c.Threads)},
		{"seed", strconv.FormatUint(c.Seed, 10)},
		{"validate_parameters", "1"},
	}
}

// minRegRows is the fewest premium rows a regressor trains (and a smearing
// factor or a held-out split is computed) on.
const minRegRows = 10

// Stage is one horizon's pair of models.
type Stage struct {
	Horizon int    `json:"horizon"`
	Label   string `json:"label"`

	// PremiumRate is the share of premium training rows; the classifier's
	// base_score, and the constant probability when the classifier is nil.
	PremiumRate float64 `json:"premium_rate"`
	// ClassifierRounds is the number of boosting rounds kept (0: constant).
	ClassifierRounds int     `json:"classifier_rounds"`
	ClassifierLoss   float64 `json:"classifier_val_logloss"`

	// LogBase is the regressor's base_score, the training mean of
	// log1p(y) over premium rows (the constant output when the regressor
	// is nil).
	LogBase         float64 `json:"log_base"`
	RegressorRounds int     `json:"regressor_rounds"`
	RegressorRMSE   float64 `json:"regressor_val_rmse"`
	// Smearing is the factor S of value = max(S*exp(r) - 1, 0) (1 with
	// Config.NoSmearing).
	Smearing float64 `json:"smearing"`

	classifier *booster
	regressor  *booster
}

// Model is a fitted Two-Stage model.
type Model struct {
	Config   Config         `json:"config"`
	Features []data.Feature `json:"features"`
	Stages   []*Stage       `json:"stages"`
}

// Horizons lists the model's horizons in days, in output order.
func (m *Model) Horizons() []int {
	h := make([]int, len(m.Stages))
	for i, s := range m.Stages {
		h[i] = s.Horizon
	}
	return h
}

// Close frees the XGBoost boosters (they are also freed when the model is
// garbage). The model is unusable afterwards.
func (m *Model) Close() {
	for _, s := range m.Stages {
		s.classifier.Close()
		s.regressor.Close()
		s.classifier, s.regressor = nil, nil
	}
}

// features copies rows of ds as a float32 matrix.
func features(ds *data.Dataset, rows []int) []float32 {
	x := make([]float32, 0, len(rows)*ds.F)
	for _, r := range rows {
		for _, v := range ds.Row(r) {
			x = append(x, float32(v))
		}
	}
	return x
}

func checkRows(ds *data.Dataset, rows []int, what string) error {
	for _, r := range rows {
		if r < 0 || r >= ds.N {
			return fmt.Errorf("twostage: %s row %d out of range [0, %d)", what, r, ds.N)
		}
	}
	return nil
}

// Fit trains one classifier and one regressor per horizon of ds on
// trainRows, early-stopping on valRows (nil: a seeded Config.ValFraction of
// trainRows is held out).
func Fit(ds *data.Dataset, trainRows, valRows []int, cfg Config) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ds.N == 0 || ds.F == 0 || ds.T == 0 {
		return nil, fmt.Errorf("twostage: empty dataset (%d rows, %d features, %d labels)", ds.N, ds.F, ds.T)
	}
	if err := checkRows(ds, trainRows, "training"); err != nil {
		return nil, err
	}
	if err := checkRows(ds, valRows, "validation"); err != nil {
		return nil, err
	}
	if len(valRows) == 0 {
		tr, va := data.Split(len(trainRows), cfg.ValFraction, cfg.Seed)
		pick := func(idx []int) []int {
			out := make([]int, len(idx))
			for i, j := range idx {
				out[i] = trainRows[j]
			}
			return out
		}
		trainRows, valRows = pick(tr), pick(va)
	}
	if len(trainRows) < 2 || len(valRows) < 1 {
		return nil, fmt.Errorf("twostage: need at least 2 training and 1 validation rows, got %d and %d", len(trainRows), len(valRows))
	}

	m := &Model{Config: cfg, Features: ds.Features}
	xTrain, xVal := features(ds, trainRows), features(ds, valRows)
	for t := 0; t < ds.T; t++ {
		s, err := fitStage(ds, t, trainRows, valRows, xTrain, xVal, cfg)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("twostage: horizon %d: %w", ds.Labels[t].Horizon, err)
		}
		m.Stages = append(m.Stages, s)
	}
	return m, nil
}

func fitStage(ds *data.Dataset, t int, trainRows, valRows []int, xTrain, xVal []float32, cfg Config) (*Stage, error) {
	s := &Stage{Horizon: ds.Labels[t].Horizon, Label: ds.Labels[t].Name, Smearing: 1}
	premium := func(rows []int) (cls []float32, pos []int) {
		cls = make([]float32, len(rows))
		for i, r := range rows {
			if float64(ds.Label(r)[t]) > cfg.PremiumThreshold {
				cls[i] = 1
				pos = append(pos, i)
			}
		}
		return cls, pos
	}
	yTrain, posTrain := premium(trainRows)
	yVal, posVal := premium(valRows)
	s.PremiumRate = float64(len(posTrain)) / float64(len(trainRows))

	// Stage 1.
	if len(posTrain) > 0 && len(posTrain) < len(trainRows) {
		b, rounds, loss, err := boost(xTrain, yTrain, xVal, yVal, ds.F, cfg, [][2]string{
			{"objective", "binary:logistic"},
			{"eval_metric", "logloss"},
			{"base_score", strconv.FormatFloat(s.PremiumRate, 'g', -1, 64)},
		})
		if err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		s.classifier, s.ClassifierRounds, s.ClassifierLoss = b, rounds, loss
	}

	// Stage 2 on the premium rows.
	if len(posTrain) == 0 {
		return s, nil
	}
	logY := func(rows []int, pos []int) []float32 {
		out := make([]float32, len(pos))
		for i, p := range pos {
			out[i] = float32(math.Log1p(float64(ds.Label(rows[p])[t])))
		}
		return out
	}
	subset := func(x []float32, pos []int) []float32 {
		out := make([]float32, 0, len(pos)*ds.F)
		for _, p := range pos {
			out = append(out, x[p*ds.F:(p+1)*ds.F]...)
		}
		return out
	}
	lyTrain, lyVal := logY(trainRows, posTrain), logY(valRows, posVal)
	xpTrain, xpVal := subset(xTrain, posTrain), subset(xVal, posVal)
	var sum float64
	for _, v := range lyTrain {
		sum += float64(v)
	}
	s.LogBase = sum / float64(len(lyTrain))
	allTrain, allX := lyTrain, xpTrain
	if len(lyVal) == 0 && len(lyTrain) >= 2*minRegRows {
		// No validation premium rows: hold out a seeded share of the
		// training premium rows.
		tr, va := data.Split(len(lyTrain), cfg.ValFraction, cfg.Seed+uint64(t)+1)
		xa, ya := make([]float32, 0, len(tr)*ds.F), make([]float32, 0, len(tr))
		xb, yb := make([]float32, 0, len(va)*ds.F), make([]float32, 0, len(va))
		for _, i := range tr {
			xa, ya = append(xa, xpTrain[i*ds.F:(i+1)*ds.F]...), append(ya, lyTrain[i])
		}
		for _, i := range va {
			xb, yb = append(xb, xpTrain[i*ds.F:(i+1)*ds.F]...), append(yb, lyTrain[i])
		}
		xpTrain, lyTrain, xpVal, lyVal = xa, ya, xb, yb
	}
	if len(lyTrain) >= minRegRows && len(lyVal) > 0 {
		b, rounds, rmse, err := boost(xpTrain, lyTrain, xpVal, lyVal, ds.F, cfg, [][2]string{
			{"objective", "reg:squarederror"},
			{"eval_metric", "rmse"},
			{"base_score", strconv.FormatFloat(s.LogBase, 'g', -1, 64)},
		})
		if err != nil {
			return nil, fmt.Errorf("regressor: %w", err)
		}
		s.regressor, s.RegressorRounds, s.RegressorRMSE = b, rounds, rmse
	}
	if cfg.NoSmearing {
		return s, nil
	}
	// Smearing: mean(exp(residual)) on the validation premium rows, or on
	// all training premium rows when they are too few (or the regressor
	// is the constant LogBase).
	xs, ys := xpVal, lyVal
	if s.regressor == nil || len(ys) < minRegRows {
		xs, ys = allX, allTrain
	}
	r := make([]float32, len(ys))
	for i := range r {
		r[i] = float32(s.LogBase)
	}
	if s.regressor != nil {
		d, err := newDMatrix(xs, len(ys), ds.F, nil)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		if r, err = s.regressor.predict(d, false); err != nil {
			return nil, err
		}
	}
	var acc float64
	for i, y := range ys {
		acc += math.Exp(float64(y) - float64(r[i]))
	}
	s.Smearing = acc / float64(len(ys))
	return s, nil
}

// boost trains one booster with early stopping and returns the prefix of
// the best round, the number of rounds kept and the best validation score.
func boost(xTrain, yTrain, xVal, yVal []float32, f int, cfg Config, extra [][2]string) (*booster, int, float64, error) {
	// XGBoost's random engine (row and column sampling) is thread-local and
	// seeded when the booster configures itself, at its first round: the
	// whole training must run on one OS thread to be reproducible.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dTrain, err := newDMatrix(xTrain, len(yTrain), f, yTrain)
	if err != nil {
		return nil, 0, 0, err
	}
	defer dTrain.Close()
	dVal, err := newDMatrix(xVal, len(yVal), f, yVal)
	if err != nil {
		return nil, 0, 0, err
	}
	defer dVal.Close()
	b, err := newBooster(dTrain, dVal)
	if err != nil {
		return nil, 0, 0, err
	}
	defer b.Close()
	for _, kv := range append(cfg.params(), extra...) {
		if err := b.setParam(kv[0], kv[1]); err != nil {
			return nil, 0, 0, err
		}
	}
	best, bestScore := -1, math.Inf(1)
	for it := 0; it < cfg.MaxRounds; it++ {
		if err := b.update(it, dTrain); err != nil {
			return nil, 0, 0, err
		}
		line, err := b.eval(it, dVal, "val")
		if err != nil {
			return nil, 0, 0, err
		}
		score, err := evalScore(line)
		if err != nil {
			return nil, 0, 0, err
		}
		if score < bestScore {
			best, bestScore = it, score
		} else if it-best >= cfg.EarlyStoppingRounds {
			break
		}
	}
	if best < 0 {
		return nil, 0, 0, errors.New("validation score never finite")
	}
	kept, err := b.slice(0, best+1)
	if err != nil {
		return nil, 0, 0, err
	}
	return kept, best + 1, bestScore, nil
}

// evalScore reads the metric from an evaluation line "[i]\tval-name:value".
func evalScore(line string) (float64, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, fmt.Errorf("cannot read evaluation %q", line)
	}
	last := f[len(f)-1]
	i := strings.LastIndexByte(last, ':')
	if i < 0 {
		return 0, fmt.Errorf("cannot read evaluation %q", line)
	}
	v, err := strconv.ParseFloat(last[i+1:], 64)
	if err != nil {
		return 0, fmt.Errorf("cannot read evaluation %q: %w", line, err)
	}
	if math.IsNaN(v) {
		v = math.Inf(1)
	}
	return v, nil
}

// Prediction holds the per-row, per-horizon outputs ([n][T]).
type Prediction struct {
	Horizons []int
	// Premium is P(y > threshold), Value the value estimate given premium
	// and LTV their combination (Config.Combine).
	Premium, Value, LTV [][]float64
}

// Predict scores rows of ds (all rows when rows is nil) with XGBoost and
// returns the LTV per row and horizon ([n][T]).
func (m *Model) Predict(ds *data.Dataset, rows []int) ([][]float64, error) {
	p, err := m.PredictDetail(ds, rows)
	if err != nil {
		return nil, err
	}
	return p.LTV, nil
}

// PredictDetail is Predict with the two stages' outputs. The combination
// is computed in float32 with the same operations as the exported graph.
func (m *Model) PredictDetail(ds *data.Dataset, rows []int) (*Prediction, error) {
	if ds.F != len(m.Features) {
		return nil, fmt.Errorf("twostage: data has %d feature slots, the model %d", ds.F, len(m.Features))
	}
	if rows == nil {
		rows = make([]int, ds.N)
		for i := range rows {
			rows[i] = i
		}
	}
	if err := checkRows(ds, rows, "prediction"); err != nil {
		return nil, err
	}
	return m.predictMatrix(features(ds, rows), len(rows))
}

// predictMatrix scores a float32 [n, F] matrix.
func (m *Model) predictMatrix(x []float32, n int) (*Prediction, error) {
	T := len(m.Stages)
	out := &Prediction{Horizons: m.Horizons(), Premium: make([][]float64, n), Value: make([][]float64, n), LTV: make([][]float64, n)}
	for i := 0; i < n; i++ {
		out.Premium[i], out.Value[i], out.LTV[i] = make([]float64, T), make([]float64, T), make([]float64, T)
	}
	if n == 0 {
		return out, nil
	}
	d, err := newDMatrix(x, n, len(m.Features), nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	for t, s := range m.Stages {
		p, r, err := s.raw(d, n)
		if err != nil {
			return nil, fmt.Errorf("twostage: horizon %d: %w", s.Horizon, err)
		}
		smear := float32(s.Smearing)
		for i := 0; i < n; i++ {
			v := float32(math.Exp(float64(r[i])))
			if smear != 1 {
				v *= smear
			}
			v = max(v-1, 0)
			var l float32
			if m.Config.Combine == CombineHard {
				if p[i] > 0.5 {
					l = v
				}
			} else {
				l = p[i] * v
			}
			out.Premium[i][t], out.Value[i][t], out.LTV[i][t] = float64(p[i]), float64(v), float64(l)
		}
	}
	return out, nil
}

// raw returns XGBoost's P(premium) and the regressor's log-scale output
// (constants for constant stages).
func (s *Stage) raw(d *dmatrix, n int) (p, r []float32, err error) {
	if s.classifier != nil {
		if p, err = s.classifier.predict(d, false); err != nil {
			return nil, nil, err
		}
	} else {
		p = make([]float32, n)
		for i := range p {
			p[i] = float32(s.PremiumRate)
		}
	}
	if s.regressor != nil {
		if r, err = s.regressor.predict(d, false); err != nil {
			return nil, nil, err
		}
	} else {
		r = make([]float32, n)
		for i := range r {
			r[i] = float32(s.LogBase)
		}
	}
	return p, r, nil
}
