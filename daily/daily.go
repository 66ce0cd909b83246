package daily

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"syscall"
	"time"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/train"
)

// Exit codes of a day, for CI (see ExitCode).
const (
	ExitOK      = 0 // the day is published (now or by an earlier run)
	ExitFailed  = 1 // a step failed; a rerun resumes from it
	ExitConform = 3 // stopped by the conformance gate: nothing published
	ExitDrift   = 4 // stopped by --max-psi: nothing published
)

// Engines for the scoring step.
const (
	EngineAuto     = "auto"     // the Beam pipeline when PipelineBin is set, else local
	EnginePipeline = "pipeline" // odmn-pipeline score (Beam; prism by default)
	EngineLocal    = "local"    // score.File in this process
)

// DefaultConformRows is the size of the conformance gate's sample.
const DefaultConformRows = 2000

// Steps of a day, in order. Each one's output is DIR/DATE/<step>/ (or the
// cache, for load and switch) and its result DIR/DATE/<step>.done.
var Steps = []string{"features", "train", "export", "conform", "drift", "score", "load", "switch"}

// Options configure Run.
type Options struct {
	// Transactions are the transaction logs (every file is read).
	Transactions []string
	// Build names the log's columns and sets the window, horizons, date
	// format and bins, as for data.BuildFromTransactions (In and Out are
	// ignored).
	Build data.BuildOptions
	// AsOf is the day: transactions dated after it are left out.
	AsOf time.Time
	// Workdir holds one directory per day, DIR/YYYY-MM-DD.
	Workdir string
	// Cache is the Redis URL; Name the cache name. The day's version is
	// Name-YYYYMMDD.
	Cache, Name string
	// MaxPSI stops the day before publishing when some feature's PSI
	// exceeds it (0: no limit).
	MaxPSI float64
	// PSIIgnore names input features the drift gate leaves out (they are
	// still measured and reported), such as calendar features that drift
	// by construction.
	PSIIgnore []string
	// Train configures training (the architecture is the previous model's
	// on a warm start).
	Train train.Config
	// Engine is EngineAuto (default), EnginePipeline or EngineLocal;
	// PipelineBin is the odmn-pipeline executable ("" if not found) and
	// PipelineArgs extra arguments for it (runner flags).
	Engine       string
	PipelineBin  string
	PipelineArgs []string
	// ConformRows is the conformance gate's sample (default
	// DefaultConformRows rows of the scoring set, seeded).
	ConformRows int
	// Log receives progress lines (nil: none).
	Log io.Writer
	// Progress, when set (a terminal), receives progress bars of training,
	// scoring and loading.
	Progress io.Writer
	// AfterStep, when set, runs after each step this run completes; an
	// error stops the day there (tests use it to simulate a crash).
	AfterStep func(step string) error
}

// StepState is what a run did with a step.
type StepState struct {
	Step    string  `json:"step"`
	State   string  `json:"state"` // "done", "already done", "failed", "stopped"
	Seconds float64 `json:"seconds"`
}

// Summary is the result of a day.
type Summary struct {
	Date     string        `json:"date"`
	Name     string        `json:"name"`
	Version  string        `json:"version"`
	Status   string        `json:"status"` // published, already published, stopped, failed
	Reason   string        `json:"reason,omitempty"`
	ExitCode int           `json:"exit_code"`
	Workdir  string        `json:"workdir"`
	Steps    []StepState   `json:"steps"`
	Features *FeaturesDone `json:"features,omitempty"`
	Train    *TrainDone    `json:"train,omitempty"`
	Export   *ExportDone   `json:"export,omitempty"`
	Conform  *ConformDone  `json:"conform,omitempty"`
	Drift    *DriftDone    `json:"drift,omitempty"`
	Score    *ScoreDone    `json:"score,omitempty"`
	Load     *LoadDone     `json:"load,omitempty"`
	Switch   *SwitchDone   `json:"switch,omitempty"`
	Notices  []string      `json:"notices,omitempty"`
	day      string        // DIR/DATE
	opts     *Options      // nil after Run
	cache    *cache.Cache  // opened on first use
}

// StopError is a day stopped by a gate, or failed; Code is its exit code.
type StopError struct {
	Code int
	Err  error
}

func (e *StopError) Error() string { return e.Err.Error() }
func (e *StopError) Unwrap() error { return e.Err }

// ExitCode is the exit code of Run's error: ExitOK for nil, the code of a
// StopError, else ExitFailed.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var se *StopError
	if errors.As(err, &se) {
		return se.Code
	}
	return ExitFailed
}

// VersionOf is the cache version of name on a day: name-YYYYMMDD.
func VersionOf(name string, day time.Time) string { return name + "-" + day.Format("20060102") }

// DayDir is the day's directory in workdir.
func DayDir(workdir string, day time.Time) string {
	return filepath.Join(workdir, day.Format("2006-01-02"))
}

func (o *Options) check() error {
	if len(o.Transactions) == 0 {
		return errors.New("daily: no transaction logs")
	}
	if o.AsOf.IsZero() {
		return errors.New("daily: no --as-of date")
	}
	if o.Workdir == "" || o.Cache == "" || o.Name == "" {
		return errors.New("daily: --workdir, --cache and --name are required")
	}
	if err := cache.CheckName("--name", o.Name); err != nil {
		return err
	}
	if err := cache.CheckName("version", VersionOf(o.Name, o.AsOf)); err != nil {
		return fmt.Errorf("--name %q is too long for its versions (%w)", o.Name, err)
	}
	if o.MaxPSI < 0 {
		return fmt.Errorf("--max-psi %g: must be positive (0: no limit)", o.MaxPSI)
	}
	switch o.Engine {
	case "":
		o.Engine = EngineAuto
	case EngineAuto, EngineLocal:
	case EnginePipeline:
		if o.PipelineBin == "" {
			return errors.New("--engine pipeline: odmn-pipeline not found: build it with 'make pipeline'")
		}
	default:
		return fmt.Errorf("--engine %q: want auto, pipeline or local", o.Engine)
	}
	if o.ConformRows == 0 {
		o.ConformRows = DefaultConformRows
	}
	return o.Train.Validate()
}

// Run runs one day end to end, or what is left of it (see the package
// documentation). The summary is returned with any error, with Status
// and ExitCode set.
func Run(ctx context.Context, o Options) (*Summary, error) {
	y, m, d := o.AsOf.Date()
	o.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	s := &Summary{Date: o.AsOf.Format("2006-01-02"), Name: o.Name, Workdir: o.Workdir}
	if err := o.check(); err != nil {
		return s.finish(err)
	}
	s.Version = VersionOf(o.Name, o.AsOf)
	s.day = DayDir(o.Workdir, o.AsOf)
	s.opts = &o
	if err := os.MkdirAll(s.day, fsutil.DirMode); err != nil {
		return s.finish(err)
	}
	unlock, err := lockDay(s.day)
	if err != nil {
		return s.finish(err)
	}
	defer unlock()
	defer func() {
		if s.cache != nil {
			s.cache.Close()
		}
	}()
	fresh := 0
	for _, step := range Steps {
		if err := ctx.Err(); err != nil {
			return s.finish(err)
		}
		if ok, err := s.loadDone(step); err != nil {
			s.Steps = append(s.Steps, StepState{Step: step, State: "stopped"})
			return s.finish(err)
		} else if ok {
			s.Steps = append(s.Steps, StepState{Step: step, State: "already done"})
			continue
		}
		s.logf("%s: %s ...", s.Date, step)
		t0 := time.Now()
		res, err := s.run(ctx, step)
		st := StepState{Step: step, State: "done", Seconds: time.Since(t0).Seconds()}
		if res != nil {
			s.set(step, res)
		}
		if err != nil {
			st.State = "failed"
			if ExitCode(err) != ExitFailed {
				st.State = "stopped"
			}
			s.Steps = append(s.Steps, st)
			return s.finish(err)
		}
		if err := writeJSON(s.donePath(step), res); err != nil {
			return s.finish(err)
		}
		fresh++
		s.Steps = append(s.Steps, st)
		s.logf("%s: %s done in %.1fs", s.Date, step, st.Seconds)
		if o.AfterStep != nil {
			if err := o.AfterStep(step); err != nil {
				return s.finish(err)
			}
		}
	}
	// A finished day is published; gates still apply to a day whose
	// drift was recorded but whose switch did not happen yet, which the
	// loop handled.
	s.Status = "published"
	if fresh == 0 {
		s.Status = "already published"
	}
	return s.finish(nil)
}

func (s *Summary) finish(err error) (*Summary, error) {
	s.ExitCode = ExitCode(err)
	switch {
	case err == nil:
	case s.ExitCode == ExitFailed:
		s.Status, s.Reason = "failed", err.Error()
	default:
		s.Status, s.Reason = "stopped", err.Error()
	}
	s.opts = nil
	return s, err
}

func (s *Summary) logf(format string, a ...any) {
	if s.opts != nil && s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, format+"\n", a...)
	}
}

func (s *Summary) notice(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	s.Notices = append(s.Notices, msg)
	s.logf("%s: notice: %s", s.Date, msg)
}

func (s *Summary) donePath(step string) string { return filepath.Join(s.day, step+".done") }
func (s *Summary) stepDir(step string) string  { return filepath.Join(s.day, step) }

// loadDone reads a step's done-marker into the summary; false if the
// step has not finished.
func (s *Summary) loadDone(step string) (bool, error) {
	b, err := os.ReadFile(s.donePath(step))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res := newResult(step)
	if err := json.Unmarshal(b, res); err != nil {
		return false, fmt.Errorf("%s: %w (remove it to redo the step)", s.donePath(step), err)
	}
	s.set(step, res)
	// A gate recorded as passed may be closed by today's options.
	if step == "drift" {
		if err := s.driftGate(); err != nil {
			return false, err
		}
	}
	return true, nil
}

func newResult(step string) any {
	switch step {
	case "features":
		return &FeaturesDone{}
	case "train":
		return &TrainDone{}
	case "export":
		return &ExportDone{}
	case "conform":
		return &ConformDone{}
	case "drift":
		return &DriftDone{}
	case "score":
		return &ScoreDone{}
	case "load":
		return &LoadDone{}
	case "switch":
		return &SwitchDone{}
	}
	panic("daily: unknown step " + step)
}

func (s *Summary) set(step string, res any) {
	switch r := res.(type) {
	case *FeaturesDone:
		s.Features = r
	case *TrainDone:
		s.Train = r
	case *ExportDone:
		s.Export = r
	case *ConformDone:
		s.Conform = r
	case *DriftDone:
		s.Drift = r
	case *ScoreDone:
		s.Score = r
	case *LoadDone:
		s.Load = r
	case *SwitchDone:
		s.Switch = r
	}
}

func (s *Summary) run(ctx context.Context, step string) (any, error) {
	switch step {
	case "features":
		return s.features()
	case "train":
		return s.train(ctx)
	case "export":
		return s.export()
	case "conform":
		return s.conform()
	case "drift":
		return s.drift()
	case "score":
		return s.score(ctx)
	case "load":
		return s.load(ctx)
	case "switch":
		return s.doSwitch(ctx)
	}
	return nil, fmt.Errorf("daily: unknown step %q", step)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(path, append(b, '\n'))
}

// lockDay takes an exclusive lock on the day's directory, so that two runs
// of one day cannot interleave; the kernel drops it when the process dies.
func lockDay(day string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(day, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: another odmn daily is running this day (%v)", day, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

var dayRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// previousModel is the model of the latest day before asOf in workdir whose
// train step is done ("" if none).
func previousModel(workdir string, asOf time.Time) (string, error) {
	ents, err := os.ReadDir(workdir)
	if err != nil {
		return "", err
	}
	var days []string
	for _, e := range ents {
		if e.IsDir() && dayRE.MatchString(e.Name()) && e.Name() < asOf.Format("2006-01-02") {
			days = append(days, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(days)))
	for _, d := range days {
		if _, err := os.Stat(filepath.Join(workdir, d, "train.done")); err == nil {
			return filepath.Join(workdir, d, "train"), nil
		}
	}
	return "", nil
}
