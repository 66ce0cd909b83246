package compat

import (
	"fmt"
	"slices"
	"testing"

	"github.com/odmn/odmn/graph"
)

// TestVersionTable checks the generated since-version table: increasing,
// within the supported opsets, and a few facts from the ONNX changelog.
func TestVersionTable(t *testing.T) {
	for name, h := range map[string]map[string][]int{"ai.onnx": opsetHistory, "ai.onnx.ml": mlOpsetHistory} {
		max := maxKnownOpset
		if name == "ai.onnx.ml" {
			max = maxKnownMLOpset
		}
		for op, vs := range h {
			if len(vs) == 0 || !slices.IsSorted(vs) || vs[0] < 1 || vs[len(vs)-1] > max {
				t.Errorf("%s %s: versions %v", name, op, vs)
			}
		}
	}
	for op, want := range map[string][]int{
		"Relu":               {1, 6, 13, 14},
		"LayerNormalization": {17},
		"Gelu":               {20},
		"Cast":               {1, 6, 9, 13, 19, 21, 23, 24, 25},
		"ReduceMean":         {1, 11, 13, 18},
	} {
		if got := opsetHistory[op]; !slices.Equal(got, want) {
			t.Errorf("%s: versions %v, want %v", op, got, want)
		}
	}
	if got := mlOpsetHistory["TreeEnsembleRegressor"]; !slices.Equal(got, []int{1, 3, 5}) {
		t.Errorf("ai.onnx.ml TreeEnsembleRegressor: versions %v", got)
	}
}

// TestOpDefVersions: every registered op of ai.onnx and ai.onnx.ml declares
// in Since and Compat only versions that op really has (per the ONNX
// specification, up to the newest supported opset). This is the check for
// new OpDefs: Since is the version the kernel follows, Compat the other
// since-versions it implements unchanged.
func TestOpDefVersions(t *testing.T) {
	for _, d := range graph.Defs() {
		if d.Internal || d.Function != nil {
			continue
		}
		var hist []int
		switch d.Domain {
		case "":
			hist = opsetHistory[d.Type]
		case graph.MLDomain:
			hist = mlOpsetHistory[d.Type]
		default:
			continue
		}
		if hist == nil {
			t.Errorf("op %s (domain %q) is not an ONNX op of the supported opsets", d.Type, d.Domain)
			continue
		}
		for _, v := range append([]int{d.Since}, d.Compat...) {
			if !slices.Contains(hist, v) {
				t.Errorf("op %s declares version %d, but its since-versions are %v", d.Type, v, hist)
			}
		}
		if slices.Contains(d.Compat, d.Since) {
			t.Errorf("op %s lists its Since %d in Compat too", d.Type, d.Since)
		}
	}
}

// refusedNewer lists, per registered ai.onnx op, the since-versions newer
// than its OpDef's Since, up to opset 25, that the importer refuses today:
// a model at a recent opset using the op is refused. Each must be a
// version whose semantics differ, or one still to be declared in the
// OpDef's Compat (most newer versions only add element types odmn does
// not hold). TestOpsetCoverage fails when this list is stale either way:
// declaring a version means deleting it here.
var refusedNewer = map[string][]int{
	// Deprecated in opset 10 (Resize replaces it): ONNX's checker and
	// ONNX Runtime refuse an Upsample node at opset 10 and later.
	"Upsample": {10},
}

// TestOpsetCoverage checks that every registered op imports at every opset
// from its Since up to the newest supported, but for refusedNewer.
func TestOpsetCoverage(t *testing.T) {
	got := map[string][]int{}
	for _, d := range graph.Defs() {
		if d.Domain != "" || d.Internal || d.Function != nil {
			continue
		}
		for _, v := range opsetHistory[d.Type] {
			if v > d.Since && !adaptable(d, v) {
				got[d.Type] = append(got[d.Type], v)
			}
		}
	}
	for op, vs := range got {
		if want := refusedNewer[op]; !slices.Equal(vs, want) {
			t.Errorf("%s: versions %v are refused, refusedNewer says %v", op, vs, want)
		}
	}
	for op, vs := range refusedNewer {
		if _, ok := got[op]; !ok {
			t.Errorf("%s: refusedNewer lists %v, but they are accepted", op, vs)
		}
	}
	if t.Failed() {
		t.Log(fmt.Sprint(got))
	}
}
