package conform

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// Default tolerance of model conformance (native against ONNX Runtime).
var ModelTolerance = Tolerance{Atol: 1e-5, Rtol: 1e-5}

// Exit codes of `odmn conform` on a model, for CI.
const (
	ExitAgree        = 0 // every output agrees
	ExitDisagree     = 1 // some output is beyond tolerance
	ExitCannotRun    = 2 // the check could not run (bad file, bad inputs, no ONNX Runtime)
	ExitNotSupported = 3 // the model uses something outside the native vocabulary
)

// ModelOptions tune Model.
type ModelOptions struct {
	// Inputs is a folder of input_N.pb / NAME.pb / NAME.npy files, one
	// .npz file, or a folder of test_data_set_N folders (ONNX backend
	// test layout); with output_N.pb files beside the inputs, both
	// runtimes are also compared with those expected outputs. Empty:
	// Random input sets are drawn.
	Inputs string
	// Random is the number of random input sets (default 1), drawn with
	// Seed as RandomOptions say.
	Random int
	Seed   uint64
	RandomOptions
	// Tolerance: ModelTolerance when zero.
	Tolerance Tolerance
	// Threads is ONNX Runtime's intra-op thread count (0: 1).
	Threads int
}

// Check is one comparison over every input set: Runtime against
// Reference ("native" vs "ort", or either vs "expected"), per output.
type Check struct {
	Runtime   string `json:"runtime"`
	Reference string `json:"reference"`
	Outputs   []Diff `json:"outputs"`
}

// ModelReport is the outcome of Model.
type ModelReport struct {
	Model     string    `json:"model"`
	Tolerance Tolerance `json:"tolerance"`
	// Sets is the number of input sets run; Inputs says where they came
	// from ("random, seed S" or the path); Specs the random input specs.
	Sets   int         `json:"sets"`
	Inputs string      `json:"inputs"`
	Specs  []InputSpec `json:"-"`
	Checks []Check     `json:"checks"`
	// Unsupported lists the ops outside the native vocabulary, and
	// NotApplicable the importer's reason, when the model does not import.
	Unsupported   []compat.OpSupport `json:"unsupported,omitempty"`
	NotApplicable string             `json:"not_applicable,omitempty"`
}

// ExitCode is ExitNotSupported, ExitDisagree or ExitAgree.
func (r *ModelReport) ExitCode() int {
	switch {
	case r.NotApplicable != "":
		return ExitNotSupported
	case !r.OK():
		return ExitDisagree
	}
	return ExitAgree
}

// OK reports whether every check agrees (and the model ran).
func (r *ModelReport) OK() bool {
	if r.NotApplicable != "" {
		return false
	}
	for _, c := range r.Checks {
		if !AllOK(c.Outputs) {
			return false
		}
	}
	return true
}

// dataSet is one set of inputs, with the expected outputs when known.
type dataSet struct {
	name string
	feed map[string]*graph.Tensor
	want map[string]*graph.Tensor
}

// Model checks any ONNX model: the native runtime against ONNX Runtime on
// the same inputs (and both against expected outputs when given). A model
// outside the native vocabulary gives a report with NotApplicable set
// (ExitNotSupported) rather than an error; an error means the check could
// not run.
func Model(path string, opts ModelOptions) (*ModelReport, error) {
	if opts.Tolerance == (Tolerance{}) {
		opts.Tolerance = ModelTolerance
	}
	if opts.Random <= 0 {
		opts.Random = 1
	}
	if opts.Threads <= 0 {
		opts.Threads = 1
	}
	m, err := compat.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rep := &ModelReport{Model: path, Tolerance: opts.Tolerance}
	g, err := compat.Import(m)
	if err != nil {
		na, ok := compat.IsNotApplicable(err)
		if !ok {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rep.NotApplicable = na.Error()
		rep.Unsupported = compat.Unsupported(compat.Support(m))
		return rep, nil
	}
	var names, outs []string
	for _, n := range g.Inputs() {
		names = append(names, n.Name())
	}
	for _, o := range g.Outputs() {
		outs = append(outs, o.Name)
	}

	var sets []dataSet
	if opts.Inputs != "" {
		rep.Inputs = opts.Inputs
		sets, err = readSets(opts.Inputs, names, outs)
		if err != nil {
			return nil, err
		}
	} else {
		specs, err := InputSpecs(m, opts.RandomOptions)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rep.Specs = specs
		rep.Inputs = fmt.Sprintf("random, seed %d", opts.Seed)
		r := rand.New(rand.NewPCG(opts.Seed, 0x0d3a))
		for i := 0; i < opts.Random; i++ {
			sets = append(sets, dataSet{name: fmt.Sprintf("random %d", i), feed: Draw(specs, r)})
		}
	}
	rep.Sets = len(sets)

	ns, err := native.New(g, native.Options{})
	if err != nil {
		return nil, fmt.Errorf("native runtime: %w", err)
	}
	defer ns.Close()
	rs, err := ort.Open(path, ort.Options{IntraOpThreads: opts.Threads})
	if err != nil {
		return nil, err
	}
	defer rs.Close()

	acc := map[string]*accum{}
	add := func(rt, ref string, set int, d Diff) {
		k := rt + "\x00" + ref
		a := acc[k]
		if a == nil {
			a = &accum{check: Check{Runtime: rt, Reference: ref}, byName: map[string]int{}}
			acc[k] = a
		}
		a.add(set, d)
	}
	for i, s := range sets {
		gotN, err := run(ns, s.feed, outs)
		if err != nil {
			return nil, fmt.Errorf("%s: native runtime: %w", s.name, err)
		}
		gotO, err := run(rs, s.feed, outs)
		if err != nil {
			return nil, fmt.Errorf("%s: ONNX Runtime: %w", s.name, err)
		}
		for _, o := range outs {
			add("native", "ort", i, Compare(o, gotN[o], gotO[o], opts.Tolerance))
			if s.want != nil {
				add("native", "expected", i, Compare(o, gotN[o], s.want[o], opts.Tolerance))
				add("ort", "expected", i, Compare(o, gotO[o], s.want[o], opts.Tolerance))
			}
		}
	}
	keys := make([]string, 0, len(acc))
	for k := range acc {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return checkRank(keys[i]) < checkRank(keys[j]) })
	for _, k := range keys {
		rep.Checks = append(rep.Checks, acc[k].check)
	}
	return rep, nil
}

func checkRank(k string) string {
	if k == "native\x00ort" {
		return "0"
	}
	return "1" + k
}

func run(s runtime.Session, feed map[string]*graph.Tensor, outs []string) (map[string]*graph.Tensor, error) {
	return s.Run(feed, outs...)
}

// accum merges the diffs of one output over input sets.
type accum struct {
	check  Check
	byName map[string]int
}

func (a *accum) add(set int, d Diff) {
	i, ok := a.byName[d.Output]
	if !ok {
		a.byName[d.Output] = len(a.check.Outputs)
		d.Set = set
		a.check.Outputs = append(a.check.Outputs, d)
		return
	}
	a.check.Outputs[i].Merge(set, d)
}

// readSets reads the input sets under path: one set (input files or an
// .npz), or test_data_set_N folders.
func readSets(path string, names, outs []string) ([]dataSet, error) {
	dirs, _ := filepath.Glob(filepath.Join(path, "test_data_set_*"))
	if len(dirs) == 0 {
		dirs = []string{path}
	}
	sort.Strings(dirs)
	var sets []dataSet
	for _, d := range dirs {
		feed, err := ReadInputs(d, names)
		if err != nil {
			return nil, err
		}
		s := dataSet{name: d, feed: feed}
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			files, err := numbered(d, "output_")
			if err != nil {
				return nil, err
			}
			if len(files) > 0 {
				if len(files) != len(outs) {
					return nil, fmt.Errorf("%s: %d output_N.pb files for %d model outputs", d, len(files), len(outs))
				}
				s.want = map[string]*graph.Tensor{}
				for k, f := range files {
					t, err := ReadTensorFile(f)
					if err != nil {
						return nil, err
					}
					s.want[outs[k]] = t
				}
			}
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// Print writes the report for people: per check and output the largest
// differences, then the verdict.
func (r *ModelReport) Print(w io.Writer) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("conform %s\n", r.Model)
	if r.NotApplicable != "" {
		p("the model is outside the native runtime's vocabulary: %s\n", r.NotApplicable)
		if len(r.Unsupported) > 0 {
			p("unsupported ops:\n")
			for _, o := range r.Unsupported {
				p("  %s (%d nodes): %s\n", o.Name(), o.Count, o.Reason)
			}
		}
		_, err := fmt.Fprintf(w, "NOT SUPPORTED\n")
		return err
	}
	p("inputs: %s (%d sets)\n", r.Inputs, r.Sets)
	for _, s := range r.Specs {
		if s.DType == graph.Float32 || s.DType.IsFloat() || s.DType == graph.Bool {
			continue
		}
		switch {
		case len(s.Ints) > 0:
			p("  %s: one of %d values (%s)\n", s.Name, len(s.Ints), s.Why)
		case len(s.Strings) > 0:
			p("  %s: one of %d strings (%s)\n", s.Name, len(s.Strings), s.Why)
		case s.DType != graph.String:
			p("  %s: integers in [%d, %d) (%s)\n", s.Name, s.Lo, s.Hi, s.Why)
		}
	}
	p("tolerance: |got - ref| <= %g + %g*|ref|; integers, bools and strings exact\n\n", r.Tolerance.Atol, r.Tolerance.Rtol)
	p("%-8s %-9s %-20s %10s %10s %8s  %s\n", "runtime", "reference", "output", "max abs", "max rel", "beyond", "first")
	for _, c := range r.Checks {
		for _, d := range c.Outputs {
			first := ""
			if d.First >= 0 {
				first = fmt.Sprintf("set %d, index %d: %s vs %s", d.Set, d.First, d.Got, d.Want)
			}
			switch {
			case d.Problem != "":
				p("%-8s %-9s %-20s %s (set %d)\n", c.Runtime, c.Reference, d.Output, d.Problem, d.Set)
			case Floating(d.DType):
				p("%-8s %-9s %-20s %10.3g %10.3g %8d  %s\n", c.Runtime, c.Reference, d.Output, d.MaxAbs, d.MaxRel, d.Beyond, first)
			default:
				p("%-8s %-9s %-20s %10s %10s %8d  %s\n", c.Runtime, c.Reference, d.Output, "exact", "", d.Beyond, first)
			}
		}
	}
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

// ExitError carries an exit code for the command line.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCodeOf is the exit code err asks for (ExitError), 1 for any other
// error, 0 for nil.
func ExitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

// UnsupportedNames lists the unsupported ops by name.
func (r *ModelReport) UnsupportedNames() string {
	var s []string
	for _, o := range r.Unsupported {
		s = append(s, o.Name())
	}
	return strings.Join(s, ", ")
}
