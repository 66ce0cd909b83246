package compat

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime"
)

// OutputDiff is how two runtimes disagree on one output.
type OutputDiff struct {
	Output string
	DType  graph.DType
	Shape  []int
	// MaxAbs and MaxRel are the largest |a-b| and |a-b|/|b| (over b != 0)
	// of float outputs.
	MaxAbs, MaxRel float64
	// Outside counts float elements beyond atol + rtol*|b|.
	Outside int
	// Mismatches counts differing elements of integer and bool outputs.
	Mismatches int
	// FirstMismatch is the flat index of the first integer mismatch (-1: none).
	FirstMismatch int
	// Problem is set when the outputs cannot be compared (shape or type).
	Problem string
}

// Agree reports whether the output is within tolerance.
func (d OutputDiff) Agree() bool { return d.Problem == "" && d.Outside == 0 && d.Mismatches == 0 }

func (d OutputDiff) String() string {
	if d.Problem != "" {
		return fmt.Sprintf("%s: %s", d.Output, d.Problem)
	}
	if d.DType == graph.Float32 {
		return fmt.Sprintf("%s %v: max abs %.3g, max rel %.3g, %d outside tolerance", d.Output, d.Shape, d.MaxAbs, d.MaxRel, d.Outside)
	}
	return fmt.Sprintf("%s %v %s: %d mismatches", d.Output, d.Shape, d.DType, d.Mismatches)
}

// CompareTensors compares a (the runtime under test) with b (the
// reference): floats with |a-b| <= atol + rtol*|b| (NaN equals NaN), the
// rest (int64, bool, string) exactly.
func CompareTensors(name string, a, b *graph.Tensor, atol, rtol float64) OutputDiff {
	d := OutputDiff{Output: name, DType: b.DType, Shape: b.Shape, FirstMismatch: -1}
	if a.DType != b.DType {
		d.Problem = fmt.Sprintf("type %s, reference %s", a.DType, b.DType)
		return d
	}
	if !graph.SameShape(a.Shape, b.Shape) {
		d.Problem = fmt.Sprintf("shape %v, reference %v", a.Shape, b.Shape)
		return d
	}
	switch b.DType {
	case graph.Float32:
		for i, y := range b.F {
			x := float64(a.F[i])
			yy := float64(y)
			if math.IsNaN(x) || math.IsNaN(yy) {
				if math.IsNaN(x) != math.IsNaN(yy) {
					d.Outside++
					d.MaxAbs = math.Inf(1)
				}
				continue
			}
			diff := math.Abs(x - yy)
			if math.IsInf(x, 0) || math.IsInf(yy, 0) {
				if x != yy {
					d.Outside++
					d.MaxAbs = math.Inf(1)
				}
				continue
			}
			d.MaxAbs = math.Max(d.MaxAbs, diff)
			if yy != 0 {
				d.MaxRel = math.Max(d.MaxRel, diff/math.Abs(yy))
			}
			if diff > atol+rtol*math.Abs(yy) {
				d.Outside++
			}
		}
	case graph.Int64:
		for i, y := range b.I {
			if a.I[i] != y {
				if d.Mismatches == 0 {
					d.FirstMismatch = i
				}
				d.Mismatches++
			}
		}
	case graph.Bool:
		for i, y := range b.B {
			if a.B[i] != y {
				if d.Mismatches == 0 {
					d.FirstMismatch = i
				}
				d.Mismatches++
			}
		}
	case graph.String:
		for i, y := range b.S {
			if a.S[i] != y {
				if d.Mismatches == 0 {
					d.FirstMismatch = i
				}
				d.Mismatches++
			}
		}
	}
	return d
}

// CrossRun runs the same inputs through two sessions (a under test, b the
// reference) and compares every output both have.
func CrossRun(a, b runtime.Session, feed map[string]*graph.Tensor, atol, rtol float64) ([]OutputDiff, error) {
	ra, err := a.Run(feed)
	if err != nil {
		return nil, fmt.Errorf("first runtime: %w", err)
	}
	rb, err := b.Run(feed)
	if err != nil {
		return nil, fmt.Errorf("reference runtime: %w", err)
	}
	var names []string
	for n := range rb {
		names = append(names, n)
	}
	sort.Strings(names)
	var diffs []OutputDiff
	for _, n := range names {
		ta, ok := ra[n]
		if !ok {
			diffs = append(diffs, OutputDiff{Output: n, Problem: "missing from the first runtime"})
			continue
		}
		diffs = append(diffs, CompareTensors(n, ta, rb[n], atol, rtol))
	}
	return diffs, nil
}

// Summary renders diffs one per line.
func Summary(diffs []OutputDiff) string {
	var b strings.Builder
	for _, d := range diffs {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
