package conform

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/onnxpb"
	odmnrt "github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
)

// DefaultNodeTestDir is where Debian's libonnx-testdata installs the ONNX
// backend node tests.
const DefaultNodeTestDir = "/usr/share/libonnx-testdata/data/node"

// NodeOptions tune RunNodeTests.
type NodeOptions struct {
	// Match selects tests by directory name (all when nil).
	Match *regexp.Regexp
	// Native configures the native sessions (BodiesOnly runs composite
	// ops from their bodies).
	Native native.Options
	// Tolerance overrides NodeTolerance (when not zero).
	Tolerance Tolerance
	// Workers is the number of tests run at once (0: GOMAXPROCS).
	Workers int
	// Open, when set, makes the session that runs an imported graph
	// instead of the native runtime (e.g. export the graph and open it in
	// ONNX Runtime, to check the exporter).
	Open func(g *graph.Graph) (odmnrt.Session, error)
}

// Status is the outcome of one test.
type Status int

const (
	Passed Status = iota
	Failed
	NotApplicable
)

func (s Status) String() string {
	return [...]string{"passed", "failed", "not applicable"}[s]
}

// MarshalText writes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// NodeResult is the outcome of one node test.
type NodeResult struct {
	Name   string   `json:"name"`             // the test directory, e.g. test_add_bcast
	Ops    []string `json:"ops"`              // op types the model uses (custom domains as domain.Type)
	Status Status   `json:"status"`           // by name in JSON
	Kind   string   `json:"kind,omitempty"`   // for NotApplicable: compat.KindOp, KindDType, ...
	Reason string   `json:"reason,omitempty"` // why it failed or does not apply
}

// OpStats counts the tests of one op type (or all tests, in NodeReport.Total).
type OpStats struct {
	Op            string `json:"op"`
	Tests         int    `json:"tests"`
	Passed        int    `json:"passed"`
	Failed        int    `json:"failed"`
	NotApplicable int    `json:"not_applicable"`
}

func (s *OpStats) add(st Status) {
	s.Tests++
	switch st {
	case Passed:
		s.Passed++
	case Failed:
		s.Failed++
	case NotApplicable:
		s.NotApplicable++
	}
}

// NodeReport is the outcome of a conformance run. A test counts under each
// op type it uses in Ops, and once in Total.
type NodeReport struct {
	Dir     string       `json:"dir"`
	Results []NodeResult `json:"results"` // sorted by name
	Ops     []OpStats    `json:"ops"`     // sorted by op type
	Total   OpStats      `json:"total"`
	// ByReason counts the not-applicable tests by kind of reason.
	ByReason map[string]int `json:"not_applicable_by_reason"`
}

// Failures returns the failed tests.
func (r *NodeReport) Failures() []NodeResult { return r.with(Failed) }

// NotApplicableTests returns the tests outside odmn's vocabulary.
func (r *NodeReport) NotApplicableTests() []NodeResult { return r.with(NotApplicable) }

func (r *NodeReport) with(s Status) []NodeResult {
	var out []NodeResult
	for _, x := range r.Results {
		if x.Status == s {
			out = append(out, x)
		}
	}
	return out
}

// NotApplicableKinds counts the not-applicable tests by kind of reason.
func (r *NodeReport) NotApplicableKinds() map[string]int {
	m := map[string]int{}
	for _, x := range r.NotApplicableTests() {
		m[x.Kind]++
	}
	return m
}

// Print writes the per-op table, the failures with their reasons (and,
// when verbose, every test that is not applicable with its reason), and a
// last line "N passed, M failed".
func (r *NodeReport) Print(w io.Writer, verbose bool) error {
	rows := append(append([]OpStats{}, r.Ops...), r.Total)
	width := len("op")
	for _, s := range rows {
		width = max(width, len(s.Op))
	}
	fmt.Fprintf(w, "%-*s  %6s  %6s  %6s  %14s\n", width, "op", "tests", "passed", "failed", "not applicable")
	for i, s := range rows {
		if i == len(rows)-1 {
			fmt.Fprintf(w, "%s\n", strings.Repeat("-", width+42))
		}
		fmt.Fprintf(w, "%-*s  %6d  %6d  %6d  %14d\n", width, s.Op, s.Tests, s.Passed, s.Failed, s.NotApplicable)
	}
	kinds := r.NotApplicableKinds()
	if len(kinds) > 0 {
		var parts []string
		for _, k := range []string{compat.KindOp, compat.KindDType, compat.KindOpset, compat.KindAttribute, compat.KindFeature} {
			if kinds[k] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
			}
		}
		fmt.Fprintf(w, "\nnot applicable by reason: %s\n", strings.Join(parts, ", "))
	}
	if verbose {
		if na := r.NotApplicableTests(); len(na) > 0 {
			fmt.Fprintf(w, "\nnot applicable:\n")
			for _, x := range na {
				fmt.Fprintf(w, "  %s: %s\n", x.Name, x.Reason)
			}
		}
	}
	if f := r.Failures(); len(f) > 0 {
		fmt.Fprintf(w, "\nfailures:\n")
		for _, x := range f {
			fmt.Fprintf(w, "  %s: %s\n", x.Name, x.Reason)
		}
	}
	_, err := fmt.Fprintf(w, "\n%d passed, %d failed\n", r.Total.Passed, r.Total.Failed)
	return err
}

// RunNodeTests runs the ONNX backend node tests under dir (dir/test_*/
// with model.onnx and test_data_set_N/input_K.pb, output_K.pb) on the
// native runtime. A test whose model imports (only vocabulary ops, element
// types and op versions) is run on every data set and compared with
// Compare under opts.Tolerance (ONNX's runner's, NodeTolerance, by
// default). Tests outside the vocabulary are not applicable, never passed.
func RunNodeTests(dir string, opts NodeOptions) (*NodeReport, error) {
	if opts.Tolerance == (Tolerance{}) {
		opts.Tolerance = NodeTolerance
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "test_") {
			continue
		}
		if opts.Match != nil && !opts.Match.MatchString(e.Name()) {
			continue
		}
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no node tests (test_*/model.onnx) in %s", dir)
	}
	sort.Strings(names)
	results := make([]NodeResult, len(names))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = RunNodeTest(filepath.Join(dir, names[i]), opts)
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()

	rep := &NodeReport{Dir: dir, Results: results, Total: OpStats{Op: "total"}}
	byOp := map[string]*OpStats{}
	for _, r := range results {
		rep.Total.add(r.Status)
		for _, op := range r.Ops {
			s := byOp[op]
			if s == nil {
				s = &OpStats{Op: op}
				byOp[op] = s
			}
			s.add(r.Status)
		}
	}
	for _, s := range byOp {
		rep.Ops = append(rep.Ops, *s)
	}
	sort.Slice(rep.Ops, func(i, j int) bool { return rep.Ops[i].Op < rep.Ops[j].Op })
	rep.ByReason = rep.NotApplicableKinds()
	return rep, nil
}

// RunNodeTest runs one node test directory.
func RunNodeTest(dir string, opts NodeOptions) (res NodeResult) {
	if opts.Tolerance == (Tolerance{}) {
		opts.Tolerance = NodeTolerance
	}
	res.Name = filepath.Base(dir)
	fail := func(format string, args ...any) NodeResult {
		res.Status, res.Reason = Failed, fmt.Sprintf(format, args...)
		return res
	}
	defer func() {
		if r := recover(); r != nil {
			res.Status, res.Reason = Failed, fmt.Sprintf("panic: %v", r)
		}
	}()
	m, err := compat.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return fail("%v", err)
	}
	res.Ops = compat.Ops(m)
	g, err := compat.Import(m)
	if err != nil {
		if na, ok := compat.IsNotApplicable(err); ok {
			res.Status, res.Kind, res.Reason = NotApplicable, na.Kind, err.Error()
			return res
		}
		return fail("import: %v", err)
	}
	var sess odmnrt.Session
	if opts.Open != nil {
		sess, err = opts.Open(g)
	} else {
		sess, err = native.New(g, opts.Native)
	}
	if err != nil {
		return fail("session: %v", err)
	}
	defer sess.Close()
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return fail("no test_data_set_* directory")
	}
	sort.Strings(sets)
	// input_K.pb binds the K-th graph input that is not an initializer,
	// output_K.pb the K-th graph output, as in ONNX's runner.
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializer {
		inits[t.GetName()] = true
	}
	var inNames, outNames []string
	for _, vi := range m.Graph.Input {
		if !inits[vi.GetName()] {
			inNames = append(inNames, vi.GetName())
		}
	}
	for _, vi := range m.Graph.Output {
		outNames = append(outNames, vi.GetName())
	}
	for _, set := range sets {
		feed := map[string]*graph.Tensor{}
		ins, err := numbered(set, "input_")
		if err != nil {
			return fail("%v", err)
		}
		if len(ins) > len(inNames) {
			return fail("%s: %d inputs for %d graph inputs", filepath.Base(set), len(ins), len(inNames))
		}
		for k, p := range ins {
			t, err := readTensor(p)
			if err != nil {
				if na, ok := compat.IsNotApplicable(err); ok {
					res.Status, res.Kind, res.Reason = NotApplicable, na.Kind, err.Error()
					return res
				}
				return fail("%v", err)
			}
			feed[inNames[k]] = t
		}
		outs, err := numbered(set, "output_")
		if err != nil {
			return fail("%v", err)
		}
		if len(outs) != len(outNames) {
			return fail("%s: %d expected outputs for %d graph outputs", filepath.Base(set), len(outs), len(outNames))
		}
		want := make([]*graph.Tensor, len(outs))
		for k, p := range outs {
			t, err := readTensor(p)
			if err != nil {
				if na, ok := compat.IsNotApplicable(err); ok {
					res.Status, res.Kind, res.Reason = NotApplicable, na.Kind, err.Error()
					return res
				}
				return fail("%v", err)
			}
			want[k] = t
		}
		got, err := sess.Run(feed)
		if err != nil {
			return fail("%s: run: %v", filepath.Base(set), err)
		}
		for k, name := range outNames {
			if d := Compare(name, got[name], want[k], opts.Tolerance); !d.OK() {
				return fail("%s: output %q: %v", filepath.Base(set), name, d.Err())
			}
		}
	}
	res.Status = Passed
	return res
}

// numbered lists dir/prefixK.pb for K = 0, 1, ... in order.
func numbered(dir, prefix string) ([]string, error) {
	paths, _ := filepath.Glob(filepath.Join(dir, prefix+"*.pb"))
	byK := map[int]string{}
	for _, p := range paths {
		k, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), prefix), ".pb"))
		if err != nil {
			return nil, fmt.Errorf("%s: unexpected file name", p)
		}
		byK[k] = p
	}
	out := make([]string, len(byK))
	for k, p := range byK {
		if k < 0 || k >= len(out) {
			return nil, fmt.Errorf("%s: %s files are not numbered 0..%d", dir, prefix, len(out)-1)
		}
		out[k] = p
	}
	return out, nil
}

func readTensor(path string) (*graph.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, tp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if tp.DataType == nil {
		// Sequences, maps and optionals are other messages; a TensorProto
		// always has a data type.
		return nil, &compat.NotApplicableError{Kind: compat.KindFeature, Msg: fmt.Sprintf("%s is not a tensor (sequences, maps and optionals are not supported)", filepath.Base(path))}
	}
	t, err := export.TensorFromProto(tp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return t, nil
}
