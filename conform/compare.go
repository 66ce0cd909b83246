package conform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime"
)

// Tolerance is the one agreement rule of odmn's comparisons: a floating
// element got agrees with its reference want when
//
//	|got - want| <= Atol + Rtol*|want|
//
// NaN agrees only with NaN, an infinity only with the same infinity.
// Integer, bool and string elements agree only when equal, whatever the
// tolerance.
type Tolerance struct {
	Atol, Rtol float64
}

// ONNX's backend test runner tolerances (onnx/backend/test/runner: rtol
// 1e-3, atol 1e-7).
var NodeTolerance = Tolerance{Atol: 1e-7, Rtol: 1e-3}

// Agree reports whether got agrees with want under t (floats).
func (t Tolerance) Agree(got, want float64) bool {
	switch {
	case math.IsNaN(got) || math.IsNaN(want):
		return math.IsNaN(got) && math.IsNaN(want)
	case math.IsInf(got, 0) || math.IsInf(want, 0):
		return got == want
	}
	return math.Abs(got-want) <= t.Atol+t.Rtol*math.Abs(want)
}

// Diff is how one output differs from its reference. It is the only diff
// type of odmn's comparisons: node tests, cross-runtime checks, model
// conformance and score's reference comparison all report it.
type Diff struct {
	Output string
	DType  graph.DType // the reference's
	Shape  []int       // the reference's
	// N is the number of elements compared.
	N int
	// MaxAbs and MaxRel are the largest |got-want| and |got-want|/|want|
	// (over want != 0) of a floating output, over the elements not
	// skipped; +Inf when a NaN or infinity is not matched.
	MaxAbs, MaxRel float64
	// Beyond counts the elements (not skipped) that disagree: beyond the
	// tolerance for floats, different at all for the other types.
	Beyond int
	// First is the flat index of the first element that disagrees (-1:
	// none); Got and Want are its two values, printed.
	First     int
	Got, Want string
	// Set is the input set (data set, random draw) where First or Problem
	// was found, when a Diff merges several (Merge).
	Set int
	// Skipped counts the skipped elements (see CompareSkip) that disagree.
	Skipped int
	// Problem is set when the outputs cannot be compared element by
	// element: missing, another element type or shape.
	Problem string
}

// OK reports whether the output agrees: comparable and nothing beyond
// tolerance outside the skipped elements.
func (d Diff) OK() bool { return d.Problem == "" && d.Beyond == 0 }

// Err is nil when d is OK, else an error describing d.
func (d Diff) Err() error {
	if d.OK() {
		return nil
	}
	return fmt.Errorf("%s", d.describe())
}

// Floating reports whether elements of type dt are compared with the
// tolerance (every floating-point type) rather than exactly.
func Floating(dt graph.DType) bool { return dt.IsFloat() }

func (d Diff) describe() string {
	if d.Problem != "" {
		return d.Problem
	}
	s := fmt.Sprintf("%d of %d values differ", d.Beyond, d.N)
	if Floating(d.DType) {
		s += fmt.Sprintf(" (max abs %.3g, max rel %.3g)", d.MaxAbs, d.MaxRel)
	}
	if d.First >= 0 {
		s += fmt.Sprintf("; first at %d: got %s, want %s", d.First, d.Got, d.Want)
	}
	return s
}

func (d Diff) String() string {
	if d.Problem != "" {
		return fmt.Sprintf("%s: %s", d.Output, d.Problem)
	}
	s := fmt.Sprintf("%s %s%v: ", d.Output, d.DType, d.Shape)
	if Floating(d.DType) {
		s += fmt.Sprintf("max abs %.3g, max rel %.3g, %d of %d beyond tolerance", d.MaxAbs, d.MaxRel, d.Beyond, d.N)
	} else {
		s += fmt.Sprintf("%d of %d differ (exact)", d.Beyond, d.N)
	}
	if d.First >= 0 {
		s += fmt.Sprintf("; first at %d: got %s, want %s", d.First, d.Got, d.Want)
	}
	if d.Skipped > 0 {
		s += fmt.Sprintf("; %d skipped differ", d.Skipped)
	}
	return s
}

// diffJSON is Diff's JSON form.
type diffJSON struct {
	Output  string `json:"output"`
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	N       int    `json:"n"`
	MaxAbs  any    `json:"max_abs"`
	MaxRel  any    `json:"max_rel"`
	Beyond  int    `json:"beyond"`
	First   int    `json:"first"`
	Set     int    `json:"set,omitempty"`
	Got     string `json:"got,omitempty"`
	Want    string `json:"want,omitempty"`
	Skipped int    `json:"skipped,omitempty"`
	Problem string `json:"problem,omitempty"`
	OK      bool   `json:"ok"`
}

// MarshalJSON writes d with the element type by name and non-finite
// maxima as strings ("+Inf"), which JSON numbers cannot hold.
func (d Diff) MarshalJSON() ([]byte, error) {
	num := func(x float64) any {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Sprint(x)
		}
		return x
	}
	return json.Marshal(diffJSON{d.Output, d.DType.String(), d.Shape, d.N, num(d.MaxAbs), num(d.MaxRel),
		d.Beyond, d.First, d.Set, d.Got, d.Want, d.Skipped, d.Problem, d.OK()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Diff) UnmarshalJSON(b []byte) error {
	var j diffJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	num := func(v any) (float64, error) {
		switch x := v.(type) {
		case float64:
			return x, nil
		case string:
			return strconv.ParseFloat(x, 64)
		case nil:
			return 0, nil
		}
		return 0, fmt.Errorf("conform: bad number %v", v)
	}
	*d = Diff{Output: j.Output, Shape: j.Shape, N: j.N, Beyond: j.Beyond, First: j.First, Set: j.Set,
		Got: j.Got, Want: j.Want, Skipped: j.Skipped, Problem: j.Problem}
	for _, dt := range graph.DTypes() {
		if dt.String() == j.DType {
			d.DType = dt
		}
	}
	var err1, err2 error
	d.MaxAbs, err1 = num(j.MaxAbs)
	d.MaxRel, err2 = num(j.MaxRel)
	return errors.Join(err1, err2)
}

// Merge adds o, the same output compared on input set set, to d: counts
// add up, maxima are the larger, the first disagreement is kept.
func (d *Diff) Merge(set int, o Diff) {
	d.N += o.N
	d.MaxAbs = math.Max(d.MaxAbs, o.MaxAbs)
	d.MaxRel = math.Max(d.MaxRel, o.MaxRel)
	d.Beyond += o.Beyond
	d.Skipped += o.Skipped
	if d.Problem == "" && o.Problem != "" {
		d.Problem, d.Set = o.Problem, set
	}
	if d.First < 0 && o.First >= 0 && d.Problem == "" {
		d.First, d.Got, d.Want, d.Set = o.First, o.Got, o.Want, set
	}
}

// Missing is the Diff of an output the runtime under test did not produce.
func Missing(name string, want *graph.Tensor) Diff {
	d := Diff{Output: name, First: -1, Problem: "missing"}
	if want != nil {
		d.DType, d.Shape = want.DType, want.Shape
	}
	return d
}

// Compare compares got (the runtime under test) with want (the reference)
// under tol: equal element types and shapes, then element by element.
func Compare(name string, got, want *graph.Tensor, tol Tolerance) Diff {
	return CompareSkip(name, got, want, tol, nil)
}

// CompareSkip is Compare where the elements with skip[i] true (ties that
// runtimes may break either way) are left out of Beyond and the maxima
// and counted in Skipped when they disagree.
func CompareSkip(name string, got, want *graph.Tensor, tol Tolerance, skip []bool) Diff {
	return CompareWiden(name, got, want, tol, skip, nil)
}

// CompareWiden is CompareSkip where extra, when not nil, adds extra[i] to
// the absolute tolerance of floating element i: outputs that amplify their
// inputs' rounding (a decode where a distribution's CDF is steep) get what
// that rounding can move them by, and no more.
func CompareWiden(name string, got, want *graph.Tensor, tol Tolerance, skip []bool, extra []float64) Diff {
	if want == nil {
		return Diff{Output: name, First: -1, Problem: "no reference value"}
	}
	if got == nil {
		return Missing(name, want)
	}
	d := Diff{Output: name, DType: want.DType, Shape: want.Shape, First: -1}
	if got.DType != want.DType {
		d.Problem = fmt.Sprintf("element type %s, want %s", got.DType, want.DType)
		return d
	}
	if !graph.SameShape(got.Shape, want.Shape) {
		d.Problem = fmt.Sprintf("shape %v, want %v", got.Shape, want.Shape)
		return d
	}
	n := want.Len()
	if got.Len() != n || n != graph.Size(want.Shape) {
		d.Problem = fmt.Sprintf("%d values, want %d", got.Len(), n)
		return d
	}
	d.N = n
	floating := Floating(want.DType)
	for i := 0; i < n; i++ {
		var ok bool
		switch {
		case floating:
			a, e := got.Float(i), want.Float(i)
			t := tol
			if extra != nil {
				t.Atol += extra[i]
			}
			ok = t.Agree(a, e)
			if skip == nil || !skip[i] {
				switch {
				case !ok && (math.IsNaN(a) || math.IsNaN(e) || math.IsInf(a, 0) || math.IsInf(e, 0)):
					d.MaxAbs = math.Inf(1)
					d.MaxRel = math.Inf(1)
				case a == e || math.IsNaN(a):
				default:
					diff := math.Abs(a - e)
					d.MaxAbs = math.Max(d.MaxAbs, diff)
					if e != 0 {
						d.MaxRel = math.Max(d.MaxRel, diff/math.Abs(e))
					}
				}
			}
		case want.DType == graph.Int64:
			ok = got.I[i] == want.I[i]
		case want.DType == graph.Bool:
			ok = got.B[i] == want.B[i]
		case want.DType == graph.String:
			ok = got.S[i] == want.S[i]
		default:
			// Other integer types, through the generic accessors.
			a, e := got.Float(i), want.Float(i)
			if math.IsNaN(a) && math.IsNaN(e) {
				d.Problem = fmt.Sprintf("element type %s cannot be compared", want.DType)
				return d
			}
			ok = a == e && got.Int(i) == want.Int(i)
		}
		if ok {
			continue
		}
		if skip != nil && skip[i] {
			d.Skipped++
			continue
		}
		d.Beyond++
		if d.First < 0 {
			d.First = i
			d.Got, d.Want = element(got, i), element(want, i)
		}
	}
	return d
}

func element(t *graph.Tensor, i int) string {
	switch t.DType {
	case graph.Int64:
		return fmt.Sprint(t.I[i])
	case graph.Bool:
		return fmt.Sprint(t.B[i])
	case graph.String:
		return fmt.Sprintf("%q", t.S[i])
	}
	return fmt.Sprint(t.Float(i))
}

// CompareAll compares every output of want (by name, in name order) with
// got's.
func CompareAll(got, want map[string]*graph.Tensor, tol Tolerance) []Diff {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	diffs := make([]Diff, 0, len(names))
	for _, n := range names {
		diffs = append(diffs, Compare(n, got[n], want[n], tol))
	}
	return diffs
}

// CrossRun runs the same inputs through two sessions (a under test, b the
// reference) and compares every output of b.
func CrossRun(a, b runtime.Session, feed map[string]*graph.Tensor, tol Tolerance) ([]Diff, error) {
	ra, err := a.Run(feed)
	if err != nil {
		return nil, fmt.Errorf("runtime under test: %w", err)
	}
	rb, err := b.Run(feed)
	if err != nil {
		return nil, fmt.Errorf("reference runtime: %w", err)
	}
	return CompareAll(ra, rb, tol), nil
}

// AllOK reports whether every diff is OK.
func AllOK(diffs []Diff) bool {
	for _, d := range diffs {
		if !d.OK() {
			return false
		}
	}
	return true
}

// Summary renders diffs one per line.
func Summary(diffs []Diff) string {
	var b strings.Builder
	for _, d := range diffs {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
