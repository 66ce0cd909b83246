package graph

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// This file holds the ai.onnx.ml tree ensembles, TreeEnsembleClassifier and
// TreeEnsembleRegressor (since-version 3; version 1 is the same op without
// the *_as_tensor attributes). They exist for gradient-boosted baselines
// (train/twostage exports XGBoost models as these, the way onnxmltools
// does) and have no gradient.
//
// What the kernels implement:
//
//   - Node modes BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ,
//     BRANCH_NEQ and LEAF. A branch goes to its true node when the
//     comparison x <mode> value holds, or when x is NaN and the node's
//     nodes_missing_value_tracks_true is 1; otherwise to its false node. As
//     in ONNX Runtime the comparison is evaluated first, so BRANCH_NEQ sends
//     NaN to the true node whatever the missing flag says (NaN != v holds).
//   - Inputs float32, float64 (compared in float64), int64 or int32
//     (compared as float32), [N, F], or [F]
//     as one row (the output then has N = 1, as ONNX Runtime does).
//   - Thresholds, weights and sums in float32, trees summed in attribute
//     order, as ONNX Runtime does for float attributes.
//   - Aggregation SUM (both ops) and AVERAGE, MIN, MAX (the regressor).
//     base_values, when given, must have one value per target or class
//     (one value for the binary classifier below); they are added after
//     aggregation. As in ONNX Runtime, a target of a multi-target
//     regressor that no reached leaf votes for is 0 (before the
//     transform), without its base value.
//   - post_transform NONE, LOGISTIC, SOFTMAX and SOFTMAX_ZERO. PROBIT is
//     refused (ONNX Runtime uses an approximate inverse erf there). A
//     regressor with one target and post_transform other than NONE is
//     refused: ONNX Runtime ignores the transform in that case, and odmn
//     will not silently disagree with either the spec or ONNX Runtime.
//   - Classifiers with more than two classes: per-class sums plus
//     base_values, the label is the class with the largest score among the
//     classes that received a score (the first on ties), then the
//     transform over all classes.
//   - The binary classifier in the layout every converter writes (two
//     class labels, every class weight on class id 0, zero or one base
//     value), with ONNX Runtime's semantics, which the ONNX spec leaves
//     open. Let s be the score (sum plus base value). When some class
//     weight is negative, the label is the second class iff s > 0 and the
//     scores are [logistic(-s), logistic(s)] under LOGISTIC, [-s, s]
//     otherwise (as ONNX Runtime 1.24 computes). When every class weight
//     is >= 0, the label is the second class iff s > 0.5 and the scores
//     are [1-s, s] whatever the transform (ONNX Runtime applies none then;
//     an exporter that wants probabilities must keep a negative weight in
//     the ensemble, as train/twostage does). Other two-class layouts are
//     refused rather than guessed.
//   - The regressor's n_targets is required (ONNX Runtime refuses a model
//     without it). ONNX Runtime has no int64-input regressor kernel; the
//     native one accepts int64 anyway.
//   - classlabels_strings gives a string label tensor (exactly one of
//     classlabels_strings and classlabels_int64s must be set).
//   - The *_as_tensor (double) attributes are refused: the compiled
//     ensemble keeps thresholds and weights in float32, and ONNX Runtime
//     reads those attributes only in its double-threshold kernels (double
//     input), whose comparisons and sums in float64 this kernel does not
//     reproduce.
//
// The kernel compiles the ensemble (node index, leaf weights) once and
// caches it, keyed by the attribute values (see compiledEnsemble).

// MLDomain is the ONNX domain of the classic machine-learning operators.
const MLDomain = "ai.onnx.ml"

func treeNodeAttrs() []AttrSpec {
	return []AttrSpec{
		{Name: "base_values", Type: AttrFloats},
		{Name: "base_values_as_tensor", Type: AttrTensor},
		{Name: "nodes_falsenodeids", Type: AttrInts},
		{Name: "nodes_featureids", Type: AttrInts},
		{Name: "nodes_hitrates", Type: AttrFloats},
		{Name: "nodes_hitrates_as_tensor", Type: AttrTensor},
		{Name: "nodes_missing_value_tracks_true", Type: AttrInts},
		{Name: "nodes_modes", Type: AttrStrings},
		{Name: "nodes_nodeids", Type: AttrInts},
		{Name: "nodes_treeids", Type: AttrInts},
		{Name: "nodes_truenodeids", Type: AttrInts},
		{Name: "nodes_values", Type: AttrFloats},
		{Name: "nodes_values_as_tensor", Type: AttrTensor},
		{Name: "post_transform", Type: AttrString, Default: "NONE"},
	}
}

var treeEnsembleClassifierDef, treeEnsembleRegressorDef *OpDef

func init() {
	treeEnsembleClassifierDef = Register(&OpDef{
		Type: "TreeEnsembleClassifier", Domain: MLDomain, Since: 3, Compat: []int{1},
		MinInputs: 1, MaxInputs: 1, Outputs: 2,
		Types: []DType{Float32, Float64, Int64, Int32},
		Attrs: append(treeNodeAttrs(),
			AttrSpec{Name: "class_ids", Type: AttrInts},
			AttrSpec{Name: "class_nodeids", Type: AttrInts},
			AttrSpec{Name: "class_treeids", Type: AttrInts},
			AttrSpec{Name: "class_weights", Type: AttrFloats},
			AttrSpec{Name: "class_weights_as_tensor", Type: AttrTensor},
			AttrSpec{Name: "classlabels_int64s", Type: AttrInts},
			AttrSpec{Name: "classlabels_strings", Type: AttrStrings},
		),
		Infer:  func(in []Meta, a Attrs) ([]Meta, error) { return inferTreeEnsemble(in, a, true) },
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error { return runTreeEnsemble(in, a, out, true) },
		NoFold: true,
	})
	treeEnsembleRegressorDef = Register(&OpDef{
		Type: "TreeEnsembleRegressor", Domain: MLDomain, Since: 3, Compat: []int{1},
		MinInputs: 1, MaxInputs: 1, Outputs: 1,
		Types: []DType{Float32, Float64, Int64, Int32},
		Attrs: append(treeNodeAttrs(),
			AttrSpec{Name: "aggregate_function", Type: AttrString, Default: "SUM"},
			AttrSpec{Name: "n_targets", Type: AttrInt},
			AttrSpec{Name: "target_ids", Type: AttrInts},
			AttrSpec{Name: "target_nodeids", Type: AttrInts},
			AttrSpec{Name: "target_treeids", Type: AttrInts},
			AttrSpec{Name: "target_weights", Type: AttrFloats},
			AttrSpec{Name: "target_weights_as_tensor", Type: AttrTensor},
		),
		Infer:  func(in []Meta, a Attrs) ([]Meta, error) { return inferTreeEnsemble(in, a, false) },
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error { return runTreeEnsemble(in, a, out, false) },
		NoFold: true,
	})
}

// TreeEnsembleClassifier applies an ai.onnx.ml TreeEnsembleClassifier with
// the given attributes to x (float32 or int64, [N, F]) and returns the
// predicted labels (int64 [N], or string [N] with classlabels_strings) and
// the class scores (float32 [N, classes]).
func TreeEnsembleClassifier(x *Node, attrs Attrs) (label, scores *Node) {
	out := MustApply(treeEnsembleClassifierDef, attrs, x)
	return out[0], out[1]
}

// TreeEnsembleRegressor applies an ai.onnx.ml TreeEnsembleRegressor to x
// and returns the regressed values (float32 [N, n_targets]).
func TreeEnsembleRegressor(x *Node, attrs Attrs) *Node {
	return Apply1(treeEnsembleRegressorDef, attrs, x)
}

// ---------- inference ----------

func inferTreeEnsemble(in []Meta, a Attrs, classifier bool) ([]Meta, error) {
	x := in[0]
	if x.DType != Float32 && x.DType != Int64 && x.DType != Float64 && x.DType != Int32 {
		return nil, fmt.Errorf("input X is %s; odmn supports float32, float64, int64 and int32", x.DType)
	}
	n := 1
	switch len(x.Shape) {
	case 1:
	case 2:
		n = x.Shape[0]
	default:
		return nil, fmt.Errorf("input X has rank %d, want 2 ([N, F]) or 1", len(x.Shape))
	}
	targets, err := ensembleTargets(a, classifier)
	if err != nil {
		return nil, err
	}
	if f := x.Shape[len(x.Shape)-1]; f >= 0 && a.Has("nodes_featureids") {
		for _, id := range a.Ints("nodes_featureids") {
			if id >= int64(f) {
				return nil, fmt.Errorf("nodes_featureids has feature %d, but X has %d features", id, f)
			}
		}
	}
	if classifier {
		lt := Int64
		if a.Has("classlabels_strings") {
			lt = String
		}
		return []Meta{{DType: lt, Shape: []int{n}}, {DType: Float32, Shape: []int{n, targets}}}, nil
	}
	return []Meta{{DType: Float32, Shape: []int{n, targets}}}, nil
}

// ensembleTargets is the number of output columns: the classes of a
// classifier, n_targets of a regressor.
func ensembleTargets(a Attrs, classifier bool) (int, error) {
	if classifier {
		switch hi, hs := a.Has("classlabels_int64s"), a.Has("classlabels_strings"); {
		case hi && hs:
			return 0, errors.New("both classlabels_int64s and classlabels_strings are set")
		case hs:
			if len(a.Strings("classlabels_strings")) == 0 {
				return 0, errors.New("classlabels_strings is empty")
			}
			return len(a.Strings("classlabels_strings")), nil
		}
		if !a.Has("classlabels_int64s") || len(a.Ints("classlabels_int64s")) == 0 {
			return 0, errors.New("classlabels_int64s and classlabels_strings are missing or empty")
		}
		return len(a.Ints("classlabels_int64s")), nil
	}
	if a.Has("n_targets") {
		t := a.Int("n_targets")
		if t < 1 || t > 1<<20 {
			return 0, fmt.Errorf("n_targets is %d", t)
		}
		return int(t), nil
	}
	return 0, errors.New("n_targets is missing (ONNX Runtime requires it too)")
}

// ---------- compiled ensembles ----------

type nodeMode uint8

const (
	modeLEQ nodeMode = iota
	modeLT
	modeGTE
	modeGT
	modeEQ
	modeNEQ
	modeLeaf
)

var nodeModes = map[string]nodeMode{
	"BRANCH_LEQ": modeLEQ, "BRANCH_LT": modeLT, "BRANCH_GTE": modeGTE,
	"BRANCH_GT": modeGT, "BRANCH_EQ": modeEQ, "BRANCH_NEQ": modeNEQ, "LEAF": modeLeaf,
}

type aggregate uint8

const (
	aggSum aggregate = iota
	aggAverage
	aggMin
	aggMax
)

// ensemble is a compiled tree ensemble: nodes in attribute order, children
// as indices, leaf weights in CSR form.
type ensemble struct {
	classifier bool
	targets    int
	feature    []int32
	value      []float32
	mode       []nodeMode
	tru, fls   []int32
	missTrue   []bool
	wStart     []int32 // weights of node i: wTarget/wValue[wStart[i]:wStart[i+1]]
	wTarget    []int32
	wValue     []float32
	roots      []int32
	maxFeature int32
	base       []float32
	post       string // post_transform: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO
	agg        aggregate
	// classifiers
	labels      []int64  // classlabels_int64s
	strLabels   []string // or classlabels_strings
	binary      bool     // two labels, every weight on class 0
	allPositive bool     // every class weight >= 0
}

// attrCache holds what a kernel compiles from an op's attributes (the tree
// ensembles), found by a hash of the attributes and a small key (the
// classifier flag, X's dtype) and checked against a copy of the
// attributes on a hit, so a kernel call costs two passes over the
// attributes instead of a compilation. It holds at most ensembleCacheSize
// entries and starts afresh when full.
type attrCache struct {
	sync.Mutex
	m map[uint64][]*cacheEntry
	n int
}

type cacheEntry struct {
	key   any
	attrs Attrs // the attributes compiled, copied
	v     any
}

const ensembleCacheSize = 32

// get returns the value compiled from a and key (hashed as h), compiling
// and keeping it on a miss; errors are not kept.
func (c *attrCache) get(a Attrs, key any, h uint64, compile func() (any, error)) (any, error) {
	c.Lock()
	for _, e := range c.m[h] {
		if e.key == key && sameAttrs(e.attrs, a) {
			c.Unlock()
			return e.v, nil
		}
	}
	c.Unlock()
	v, err := compile()
	if err != nil {
		return nil, err
	}
	snap := make(Attrs, len(a))
	for k, x := range a {
		snap[k] = copyAttr(x)
	}
	c.Lock()
	defer c.Unlock()
	if c.m == nil || c.n >= ensembleCacheSize {
		c.m, c.n = map[uint64][]*cacheEntry{}, 0
	}
	c.m[h] = append(c.m[h], &cacheEntry{key, snap, v})
	c.n++
	return v, nil
}

var ensembleCache attrCache

// compiledEnsemble returns the compiled ensemble of a, from the cache when
// the same attributes were compiled before.
func compiledEnsemble(a Attrs, classifier bool) (*ensemble, error) {
	v, err := ensembleCache.get(a, classifier, hashAttrs(a, classifier), func() (any, error) {
		return compileEnsemble(a, classifier)
	})
	if err != nil {
		return nil, err
	}
	return v.(*ensemble), nil
}

// hashAttrs is FNV-1a over the attribute names and values, in name order.
func hashAttrs(a Attrs, classifier bool) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		for i := 0; i < 8; i++ {
			h ^= v & 0xff
			h *= 1099511628211
			v >>= 8
		}
	}
	if classifier {
		mix(1)
	}
	for _, k := range a.Names() {
		for i := 0; i < len(k); i++ {
			mix(uint64(k[i]))
		}
		switch v := a[k].(type) {
		case int64:
			mix(uint64(v))
		case float32:
			mix(uint64(math.Float32bits(v)))
		case string:
			mix(uint64(len(v)))
			for i := 0; i < len(v); i++ {
				mix(uint64(v[i]))
			}
		case []int64:
			mix(uint64(len(v)))
			for _, x := range v {
				mix(uint64(x))
			}
		case []float32:
			mix(uint64(len(v)))
			for _, x := range v {
				mix(uint64(math.Float32bits(x)))
			}
		case []string:
			mix(uint64(len(v)))
			for _, s := range v {
				mix(uint64(len(s)))
				for i := 0; i < len(s); i++ {
					mix(uint64(s[i]))
				}
			}
		case *Tensor:
			mix(uint64(v.DType))
			mix(uint64(v.Len()))
			if v.DType != String {
				for i := 0; i < v.Len(); i++ {
					mix(math.Float64bits(v.Float(i)))
				}
			}
		}
	}
	return h
}

// sameTensor reports whether a and b have the same dtype, shape and
// elements (floats compared by bits).
func sameTensor(a, b *Tensor) bool {
	if a.DType != b.DType || !SameShape(a.Shape, b.Shape) || a.Len() != b.Len() {
		return false
	}
	for i := 0; i < a.Len(); i++ {
		if a.DType == String {
			if a.S[i] != b.S[i] {
				return false
			}
		} else if math.Float64bits(a.Float(i)) != math.Float64bits(b.Float(i)) || a.Int(i) != b.Int(i) {
			return false
		}
	}
	return true
}

func copyAttr(v any) any {
	switch v := v.(type) {
	case []int64:
		return append([]int64{}, v...)
	case []float32:
		return append([]float32{}, v...)
	case []string:
		return append([]string{}, v...)
	case *Tensor:
		return v.Clone()
	}
	return v
}

// sameAttrs reports whether a and b hold the same values (floats compared
// by bits).
func sameAttrs(a, b Attrs) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok {
			return false
		}
		switch x := va.(type) {
		case []int64:
			y, ok := vb.([]int64)
			if !ok || len(x) != len(y) {
				return false
			}
			for i := range x {
				if x[i] != y[i] {
					return false
				}
			}
		case []float32:
			y, ok := vb.([]float32)
			if !ok || len(x) != len(y) {
				return false
			}
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
					return false
				}
			}
		case []string:
			y, ok := vb.([]string)
			if !ok || len(x) != len(y) {
				return false
			}
			for i := range x {
				if x[i] != y[i] {
					return false
				}
			}
		case float32:
			y, ok := vb.(float32)
			if !ok || math.Float32bits(x) != math.Float32bits(y) {
				return false
			}
		case *Tensor:
			y, ok := vb.(*Tensor)
			if !ok || !sameTensor(x, y) {
				return false
			}
		default:
			if va != vb {
				return false
			}
		}
	}
	return true
}

func compileEnsemble(a Attrs, classifier bool) (*ensemble, error) {
	for _, name := range []string{"base_values_as_tensor", "nodes_values_as_tensor", "nodes_hitrates_as_tensor",
		"class_weights_as_tensor", "target_weights_as_tensor"} {
		if a.Has(name) {
			return nil, fmt.Errorf("attribute %s is not supported (thresholds and weights are kept in float32); use the float attribute", name)
		}
	}
	targets, err := ensembleTargets(a, classifier)
	if err != nil {
		return nil, err
	}
	e := &ensemble{classifier: classifier, targets: targets}

	ints := func(name string) []int64 {
		if a.Has(name) {
			return a.Ints(name)
		}
		return nil
	}
	treeIDs, nodeIDs := ints("nodes_treeids"), ints("nodes_nodeids")
	featIDs, trueIDs, falseIDs := ints("nodes_featureids"), ints("nodes_truenodeids"), ints("nodes_falsenodeids")
	missing := ints("nodes_missing_value_tracks_true")
	var modes []string
	if a.Has("nodes_modes") {
		modes = a.Strings("nodes_modes")
	}
	var values []float32
	if a.Has("nodes_values") {
		values = a.Floats("nodes_values")
	}
	n := len(treeIDs)
	if n == 0 {
		return nil, errors.New("the ensemble has no nodes (nodes_treeids is missing or empty)")
	}
	for name, l := range map[string]int{"nodes_nodeids": len(nodeIDs), "nodes_featureids": len(featIDs),
		"nodes_truenodeids": len(trueIDs), "nodes_falsenodeids": len(falseIDs), "nodes_modes": len(modes),
		"nodes_values": len(values)} {
		if l != n {
			return nil, fmt.Errorf("%s has %d entries, nodes_treeids %d", name, l, n)
		}
	}
	if len(missing) != 0 && len(missing) != n {
		return nil, fmt.Errorf("nodes_missing_value_tracks_true has %d entries, nodes_treeids %d", len(missing), n)
	}
	if n > math.MaxInt32 {
		return nil, errors.New("too many nodes")
	}

	type id struct{ tree, node int64 }
	index := make(map[id]int32, n)
	e.feature, e.value, e.mode = make([]int32, n), make([]float32, n), make([]nodeMode, n)
	e.tru, e.fls, e.missTrue = make([]int32, n), make([]int32, n), make([]bool, n)
	seenTree := map[int64]bool{}
	for i := 0; i < n; i++ {
		k := id{treeIDs[i], nodeIDs[i]}
		if _, dup := index[k]; dup {
			return nil, fmt.Errorf("node %d of tree %d is defined twice", k.node, k.tree)
		}
		index[k] = int32(i)
		if i == 0 || treeIDs[i] != treeIDs[i-1] {
			if seenTree[treeIDs[i]] {
				return nil, fmt.Errorf("the nodes of tree %d are not contiguous", treeIDs[i])
			}
			seenTree[treeIDs[i]] = true
			e.roots = append(e.roots, int32(i)) // the first node of a tree is its root
		}
		m, ok := nodeModes[modes[i]]
		if !ok {
			return nil, fmt.Errorf("node %d of tree %d has unknown mode %q", k.node, k.tree, modes[i])
		}
		e.mode[i] = m
		e.value[i] = values[i]
		if len(missing) > 0 {
			e.missTrue[i] = missing[i] == 1
		}
		if m != modeLeaf {
			if featIDs[i] < 0 || featIDs[i] > math.MaxInt32 {
				return nil, fmt.Errorf("node %d of tree %d has feature id %d", k.node, k.tree, featIDs[i])
			}
			e.feature[i] = int32(featIDs[i])
			e.maxFeature = max(e.maxFeature, int32(featIDs[i]))
		}
	}
	for i := 0; i < n; i++ {
		if e.mode[i] == modeLeaf {
			e.tru[i], e.fls[i] = -1, -1
			continue
		}
		for _, c := range []struct {
			ids  []int64
			dst  []int32
			what string
		}{{trueIDs, e.tru, "true"}, {falseIDs, e.fls, "false"}} {
			j, ok := index[id{treeIDs[i], c.ids[i]}]
			if !ok {
				return nil, fmt.Errorf("node %d of tree %d: its %s node %d is not in the tree", nodeIDs[i], treeIDs[i], c.what, c.ids[i])
			}
			if j == int32(i) {
				return nil, fmt.Errorf("node %d of tree %d is its own %s node", nodeIDs[i], treeIDs[i], c.what)
			}
			c.dst[i] = j
		}
	}
	if err := e.checkAcyclic(); err != nil {
		return nil, err
	}

	// Leaf weights.
	prefix := "target_"
	if classifier {
		prefix = "class_"
	}
	wTree, wNode, wID := ints(prefix+"treeids"), ints(prefix+"nodeids"), ints(prefix+"ids")
	var wVal []float32
	if a.Has(prefix + "weights") {
		wVal = a.Floats(prefix + "weights")
	}
	nw := len(wVal)
	if len(wTree) != nw || len(wNode) != nw || len(wID) != nw {
		return nil, fmt.Errorf("%streeids, %snodeids, %sids and %sweights have %d, %d, %d and %d entries",
			prefix, prefix, prefix, prefix, len(wTree), len(wNode), len(wID), nw)
	}
	count := make([]int32, n+1)
	node := make([]int32, nw)
	e.allPositive = true
	classIDs := map[int64]bool{}
	for k := 0; k < nw; k++ {
		j, ok := index[id{wTree[k], wNode[k]}]
		if !ok {
			return nil, fmt.Errorf("weight %d is for node %d of tree %d, which does not exist", k, wNode[k], wTree[k])
		}
		if wID[k] < 0 || wID[k] >= int64(targets) {
			return nil, fmt.Errorf("weight %d is for %s %d, out of range [0, %d)", k, map[bool]string{true: "class", false: "target"}[classifier], wID[k], targets)
		}
		node[k] = j
		count[j+1]++
		classIDs[wID[k]] = true
		if wVal[k] < 0 {
			e.allPositive = false
		}
	}
	for i := 0; i < n; i++ {
		count[i+1] += count[i]
	}
	e.wStart = count
	e.wTarget, e.wValue = make([]int32, nw), make([]float32, nw)
	fill := append([]int32{}, count[:n]...)
	for k := 0; k < nw; k++ {
		p := fill[node[k]]
		fill[node[k]]++
		e.wTarget[p], e.wValue[p] = int32(wID[k]), wVal[k]
	}

	if a.Has("base_values") {
		e.base = a.Floats("base_values")
	}
	switch p := a.String("post_transform"); p {
	case "NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO":
		e.post = p
	case "PROBIT":
		return nil, errors.New("post_transform PROBIT is not supported")
	default:
		return nil, fmt.Errorf("unknown post_transform %q", p)
	}

	if !classifier {
		switch f := a.String("aggregate_function"); f {
		case "SUM":
			e.agg = aggSum
		case "AVERAGE":
			e.agg = aggAverage
		case "MIN":
			e.agg = aggMin
		case "MAX":
			e.agg = aggMax
		default:
			return nil, fmt.Errorf("unknown aggregate_function %q", f)
		}
		if len(e.base) != 0 && len(e.base) != targets {
			return nil, fmt.Errorf("base_values has %d values for %d targets", len(e.base), targets)
		}
		if targets == 1 && e.post != "NONE" {
			return nil, fmt.Errorf("post_transform %s with a single target is not supported (ONNX Runtime ignores it)", a.String("post_transform"))
		}
		return e, nil
	}

	if a.Has("classlabels_strings") {
		e.strLabels = a.Strings("classlabels_strings")
	} else {
		e.labels = a.Ints("classlabels_int64s")
	}
	switch {
	case targets == 1:
		return nil, errors.New("a classifier with a single class label is not supported")
	case targets == 2:
		if len(classIDs) != 1 || !classIDs[0] {
			return nil, errors.New("two-class classifiers are supported only with every class weight on class id 0 (the binary layout)")
		}
		if len(e.base) > 1 {
			return nil, fmt.Errorf("the binary classifier takes zero or one base value, got %d", len(e.base))
		}
		e.binary = true
	default:
		if len(e.base) != 0 && len(e.base) != targets {
			return nil, fmt.Errorf("base_values has %d values for %d classes", len(e.base), targets)
		}
	}
	return e, nil
}

// checkAcyclic verifies that every tree, walked from its root, is finite.
func (e *ensemble) checkAcyclic() error {
	state := make([]uint8, len(e.mode)) // 0 new, 1 on the path, 2 done
	var visit func(i int32) error
	visit = func(i int32) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("the trees have a cycle through node index %d", i)
		case 2:
			return nil
		}
		state[i] = 1
		if e.mode[i] != modeLeaf {
			if err := visit(e.tru[i]); err != nil {
				return err
			}
			if err := visit(e.fls[i]); err != nil {
				return err
			}
		}
		state[i] = 2
		return nil
	}
	for _, r := range e.roots {
		if err := visit(r); err != nil {
			return err
		}
	}
	return nil
}

// leaf walks one tree for row x and returns the leaf's node index.
// leafOf walks a tree for one row; float64 rows compare in float64 with
// the (float32) thresholds widened, as ONNX Runtime does for double input.
func leafOf[T float32 | float64](e *ensemble, root int32, x []T) int32 {
	i := root
	for {
		m := e.mode[i]
		if m == modeLeaf {
			return i
		}
		v, t := x[e.feature[i]], T(e.value[i])
		var c bool
		switch m {
		case modeLEQ:
			c = v <= t
		case modeLT:
			c = v < t
		case modeGTE:
			c = v >= t
		case modeGT:
			c = v > t
		case modeEQ:
			c = v == t
		case modeNEQ:
			c = v != t
		}
		if c || e.missTrue[i] && v != v {
			i = e.tru[i]
		} else {
			i = e.fls[i]
		}
	}
}

// ---------- kernel ----------

func runTreeEnsemble(in []*Tensor, a Attrs, out []*Tensor, classifier bool) error {
	e, err := compiledEnsemble(a, classifier)
	if err != nil {
		return err
	}
	x := in[0]
	f := x.Shape[len(x.Shape)-1]
	n := 1
	if len(x.Shape) == 2 {
		n = x.Shape[0]
	}
	if int(e.maxFeature) >= f && len(e.roots) > 0 {
		return fmt.Errorf("the trees use feature %d, but X has %d features", e.maxFeature, f)
	}
	row := make([]float32, f)
	var rowD []float64
	if x.DType == Float64 {
		rowD = make([]float64, f)
	}
	scores := make([]float32, e.targets)
	has := make([]bool, e.targets)
	z := out[len(out)-1].F
	for r := 0; r < n; r++ {
		switch x.DType {
		case Float32:
			copy(row, x.F[r*f:(r+1)*f])
		case Int64:
			for j, v := range x.I[r*f : (r+1)*f] {
				row[j] = float32(v)
			}
		case Int32:
			for j, v := range Data[int32](x)[r*f : (r+1)*f] {
				row[j] = float32(v)
			}
		case Float64:
			copy(rowD, Data[float64](x)[r*f:(r+1)*f])
		}
		for k := range scores {
			scores[k], has[k] = 0, false
		}
		for _, root := range e.roots {
			var l int32
			if rowD != nil {
				l = leafOf(e, root, rowD)
			} else {
				l = leafOf(e, root, row)
			}
			for p := e.wStart[l]; p < e.wStart[l+1]; p++ {
				t, w := e.wTarget[p], e.wValue[p]
				switch e.agg {
				case aggSum, aggAverage:
					scores[t] += w
				case aggMin:
					if !has[t] || w < scores[t] {
						scores[t] = w
					}
				case aggMax:
					if !has[t] || w > scores[t] {
						scores[t] = w
					}
				}
				has[t] = true
			}
		}
		zr := z[r*e.targets : (r+1)*e.targets]
		if !classifier {
			e.finishRegression(scores, has, zr)
			continue
		}
		if k := e.finishClassification(scores, has, zr); e.strLabels != nil {
			out[0].S[r] = e.strLabels[k]
		} else {
			out[0].I[r] = e.labels[k]
		}
	}
	return nil
}

func (e *ensemble) finishRegression(scores []float32, has []bool, z []float32) {
	for k := range scores {
		if !has[k] && e.targets > 1 {
			z[k] = 0 // ONNX Runtime: a target no leaf voted for is 0, base value or not
			continue
		}
		v := scores[k]
		if !has[k] {
			v = 0
		}
		if e.agg == aggAverage {
			v /= float32(len(e.roots))
		}
		if len(e.base) > 0 {
			v += e.base[k]
		}
		z[k] = v
	}
	e.transform(z)
}

// finishClassification writes one row's scores to z and returns the index
// of its label.
func (e *ensemble) finishClassification(scores []float32, has []bool, z []float32) int {
	if e.binary {
		s := scores[0]
		if len(e.base) == 1 {
			s += e.base[0]
		}
		pos := float32(0)
		if has[0] {
			pos = s
		}
		label := 0
		if e.allPositive {
			if pos > 0.5 {
				label = 1
			}
			z[0], z[1] = 1-s, s
			return label
		}
		if pos > 0 {
			label = 1
		}
		if e.post == "LOGISTIC" {
			z[0], z[1] = logistic32(-s), logistic32(s)
		} else {
			z[0], z[1] = -s, s
		}
		return label
	}
	for k := range scores {
		if k < len(e.base) {
			if has[k] {
				scores[k] += e.base[k]
			} else {
				scores[k] = e.base[k]
			}
			has[k] = true
		}
	}
	best := -1
	for k := range scores {
		if has[k] && (best < 0 || scores[k] > scores[best]) {
			best = k
		}
	}
	if best < 0 {
		best = 0
	}
	copy(z, scores)
	e.transform(z)
	return best
}

// transform applies the post_transform to one row of scores (the
// linear models' applyTransform, ONNX Runtime's float32 arithmetic).
func (e *ensemble) transform(z []float32) { applyTransform(e.post, z, len(z)) }

// logistic32 is ONNX Runtime's ComputeLogistic in float32.
func logistic32(v float32) float32 {
	a := float32(math.Abs(float64(v)))
	s := 1 / (1 + float32(math.Exp(float64(-a))))
	if v < 0 {
		return 1 - s
	}
	return s
}
