package graph

import (
	"errors"
	"fmt"
	"math"
)

// TreeEnsemble is the unified tree op of ai.onnx.ml opset 5, which newer
// converters (onnxmltools, skl2onnx) emit in place of the deprecated
// TreeEnsembleRegressor and TreeEnsembleClassifier (ops_ml.go). Its
// layout differs enough (nodes addressed by position, leaves apart from
// interior nodes, tensor attributes in the input's type, set membership)
// that it has its own compiled form here rather than a translation onto
// the older ops'.
//
// What the kernel implements:
//
//   - X float32, float64 or float16, [N, F] or [F] (one row, as ONNX
//     Runtime allows); Y has X's type, [N, n_targets]. nodes_splits,
//     leaf_weights and membership_values must have X's type; thresholds,
//     weights and sums are in that type (float16 is computed in float32
//     and rounded at the end; ONNX Runtime has no float16 kernel).
//   - Node modes 0..6 (BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT,
//     BRANCH_EQ, BRANCH_NEQ, BRANCH_MEMBER). A branch goes to its true
//     child when x <mode> split holds (BRANCH_MEMBER: x equals a value of
//     the node's set), or when x is NaN and the node's
//     nodes_missing_value_tracks_true is 1. As in ONNX Runtime, BRANCH_NEQ
//     sends NaN to the true child whatever the flag says.
//   - membership_values: the sets of the BRANCH_MEMBER nodes in node
//     order, each ended by a NaN (the last one may end with the list).
//     An empty set, or more or fewer sets than BRANCH_MEMBER nodes, is
//     refused.
//   - A child is a node (position in nodes_*) or a leaf (position in
//     leaf_*) by nodes_trueleafs/nodes_falseleafs. A root whose two
//     children are the same leaf is a one-leaf tree (its split and
//     feature unused). Trees may share subtrees; cycles are refused.
//   - Each leaf adds its weight to its target. aggregate_function SUM (1),
//     AVERAGE (0, the sum divided by the number of trees), MIN (2), MAX
//     (3); a target no reached leaf voted for is 0.
//   - post_transform NONE (0), SOFTMAX (1), LOGISTIC (2), SOFTMAX_ZERO (3)
//     with ONNX Runtime's arithmetic, and PROBIT (4) for float32 and
//     float16 only (ONNX Runtime's approximate inverse erf). With one
//     target only NONE and PROBIT are taken: ONNX Runtime ignores the
//     other transforms there, against the spec.
//   - n_targets is required (ONNX Runtime requires it too); nodes_hitrates
//     is accepted and unused.
//
// Where ONNX Runtime 1.24 departs from the spec, odmn follows the spec
// (TestTreeEnsembleAgainstORT agrees with it everywhere else, on random
// ensembles with NaN inputs):
//
//   - post_transform 1 is LOGISTIC and 2 SOFTMAX there (its own enum),
//     the reverse of the spec.
//   - A one-leaf tree takes the leaf at the root's node position rather
//     than the leaf its children name.
//   - A BRANCH_MEMBER set with a value outside [0, 30] (or of 31 values or
//     more) becomes an integer "big set": non-integer members are
//     refused, and its results differ from the spec's on some inputs.

var treeEnsembleDef *OpDef

func init() {
	treeEnsembleDef = Register(&OpDef{
		Type: "TreeEnsemble", Domain: MLDomain, Since: 5,
		MinInputs: 1, MaxInputs: 1, Outputs: 1,
		Types: FloatTypes,
		Attrs: []AttrSpec{
			{Name: "aggregate_function", Type: AttrInt, Default: int64(1)},
			{Name: "leaf_targetids", Type: AttrInts, Required: true},
			{Name: "leaf_weights", Type: AttrTensor, Required: true},
			{Name: "membership_values", Type: AttrTensor},
			{Name: "n_targets", Type: AttrInt},
			{Name: "nodes_falseleafs", Type: AttrInts, Required: true},
			{Name: "nodes_falsenodeids", Type: AttrInts, Required: true},
			{Name: "nodes_featureids", Type: AttrInts, Required: true},
			{Name: "nodes_hitrates", Type: AttrTensor},
			{Name: "nodes_missing_value_tracks_true", Type: AttrInts},
			{Name: "nodes_modes", Type: AttrTensor, Required: true},
			{Name: "nodes_splits", Type: AttrTensor, Required: true},
			{Name: "nodes_trueleafs", Type: AttrInts, Required: true},
			{Name: "nodes_truenodeids", Type: AttrInts, Required: true},
			{Name: "post_transform", Type: AttrInt, Default: int64(0)},
			{Name: "tree_roots", Type: AttrInts, Required: true},
		},
		Infer:  inferTreeEnsemble5,
		Kernel: runTreeEnsemble5,
		NoFold: true,
	})
}

// TreeEnsemble applies an ai.onnx.ml TreeEnsemble (opset 5) with the given
// attributes to x (float32, float64 or float16, [N, F]) and returns the
// regressed values ([N, n_targets], x's type).
func TreeEnsemble(x *Node, attrs Attrs) *Node {
	return Apply1(treeEnsembleDef, attrs, x)
}

func inferTreeEnsemble5(in []Meta, a Attrs) ([]Meta, error) {
	x := in[0]
	if x.DType != Float32 && x.DType != Float64 && x.DType != Float16 {
		return nil, fmt.Errorf("input X is %s; TreeEnsemble takes float32, float64 and float16", x.DType)
	}
	n := 1
	switch len(x.Shape) {
	case 1:
	case 2:
		n = x.Shape[0]
	default:
		return nil, fmt.Errorf("input X has rank %d, want 2 ([N, F]) or 1", len(x.Shape))
	}
	targets, err := treeTargets5(a)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"nodes_splits", "leaf_weights", "membership_values"} {
		if a.Has(name) && a.Tensor(name).DType != x.DType {
			return nil, fmt.Errorf("attribute %s is %s, X is %s; they must have the same type", name, a.Tensor(name).DType, x.DType)
		}
	}
	// Compile now (the kernel finds it in the cache) so that a bad
	// ensemble is refused when the graph is built or imported.
	c, err := compiledEnsemble5(a, x.DType)
	if err != nil {
		return nil, err
	}
	mf := 0
	switch e := c.(type) {
	case *ensemble5[float32]:
		mf = int(e.maxFeature)
	case *ensemble5[float64]:
		mf = int(e.maxFeature)
	}
	if f := x.Shape[len(x.Shape)-1]; f >= 0 && mf >= f {
		return nil, fmt.Errorf("the trees use feature %d, but X has %d features", mf, f)
	}
	return []Meta{{DType: x.DType, Shape: []int{n, targets}}}, nil
}

func treeTargets5(a Attrs) (int, error) {
	if !a.Has("n_targets") {
		return 0, errors.New("n_targets is missing (ONNX Runtime requires it too)")
	}
	t := a.Int("n_targets")
	if t < 1 || t > 1<<20 {
		return 0, fmt.Errorf("n_targets is %d", t)
	}
	return int(t), nil
}

// The BRANCH_MEMBER mode; modes 0..5 are ops_ml.go's nodeMode values.
const modeMember nodeMode = 6

// ensemble5 is a compiled TreeEnsemble: nodes in attribute order, a child
// as a node index (>= 0) or ^leaf index (< 0).
type ensemble5[T float32 | float64] struct {
	targets    int
	feature    []int32
	mode       []nodeMode
	split      []T
	setStart   []int32 // set of member node i: members[setStart[i]:setStart[i+1]]
	members    []T
	tru, fls   []int32
	missTrue   []bool
	leafTarget []int32
	leafWeight []T
	roots      []int32
	maxFeature int32
	agg        int64
	post       string
}

// tensorFloats reads a float tensor attribute's values as T.
func tensorFloats[T float32 | float64](t *Tensor) []T {
	v := make([]T, t.Len())
	for i := range v {
		v[i] = T(t.Float(i))
	}
	return v
}

func compileEnsemble5[T float32 | float64](a Attrs, xt DType) (*ensemble5[T], error) {
	targets, err := treeTargets5(a)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"nodes_splits", "leaf_weights", "membership_values"} {
		if a.Has(name) && a.Tensor(name).DType != xt {
			return nil, fmt.Errorf("attribute %s is %s, X is %s; they must have the same type", name, a.Tensor(name).DType, xt)
		}
	}
	e := &ensemble5[T]{targets: targets}
	feat, trueIDs, falseIDs := a.Ints("nodes_featureids"), a.Ints("nodes_truenodeids"), a.Ints("nodes_falsenodeids")
	trueLeaf, falseLeaf := a.Ints("nodes_trueleafs"), a.Ints("nodes_falseleafs")
	modesT := a.Tensor("nodes_modes")
	if modesT.DType != Uint8 {
		return nil, fmt.Errorf("nodes_modes is %s, want uint8", modesT.DType)
	}
	modes := Data[uint8](modesT)
	splits := tensorFloats[T](a.Tensor("nodes_splits"))
	var missing []int64
	if a.Has("nodes_missing_value_tracks_true") {
		missing = a.Ints("nodes_missing_value_tracks_true")
	}
	n := len(feat)
	if n == 0 {
		return nil, errors.New("the ensemble has no nodes (nodes_featureids is empty)")
	}
	if n > math.MaxInt32 {
		return nil, errors.New("too many nodes")
	}
	for _, c := range []struct {
		name string
		l    int
	}{{"nodes_truenodeids", len(trueIDs)}, {"nodes_falsenodeids", len(falseIDs)}, {"nodes_trueleafs", len(trueLeaf)},
		{"nodes_falseleafs", len(falseLeaf)}, {"nodes_modes", len(modes)}, {"nodes_splits", len(splits)}} {
		if c.l != n {
			return nil, fmt.Errorf("%s has %d entries, nodes_featureids %d", c.name, c.l, n)
		}
	}
	if len(missing) != 0 && len(missing) != n {
		return nil, fmt.Errorf("nodes_missing_value_tracks_true has %d entries, nodes_featureids %d", len(missing), n)
	}

	// Leaves.
	lt := a.Ints("leaf_targetids")
	lw := tensorFloats[T](a.Tensor("leaf_weights"))
	if len(lt) != len(lw) {
		return nil, fmt.Errorf("leaf_targetids has %d entries, leaf_weights %d", len(lt), len(lw))
	}
	if len(lt) > math.MaxInt32 {
		return nil, errors.New("too many leaves")
	}
	e.leafTarget, e.leafWeight = make([]int32, len(lt)), lw
	for i, t := range lt {
		if t < 0 || t >= int64(targets) {
			return nil, fmt.Errorf("leaf %d is for target %d, out of range [0, %d)", i, t, targets)
		}
		e.leafTarget[i] = int32(t)
	}

	// Nodes.
	var mv []T
	if a.Has("membership_values") {
		mv = tensorFloats[T](a.Tensor("membership_values"))
	}
	e.feature, e.mode, e.split = make([]int32, n), make([]nodeMode, n), splits
	e.tru, e.fls, e.missTrue = make([]int32, n), make([]int32, n), make([]bool, n)
	e.setStart = make([]int32, n+1)
	pos := 0 // next unread membership value
	child := func(i int, id, leaf int64, what string) (int32, error) {
		if leaf != 0 {
			if id < 0 || id >= int64(len(lt)) {
				return 0, fmt.Errorf("node %d: its %s leaf %d is out of range [0, %d)", i, what, id, len(lt))
			}
			return ^int32(id), nil
		}
		if id < 0 || id >= int64(n) {
			return 0, fmt.Errorf("node %d: its %s node %d is out of range [0, %d)", i, what, id, n)
		}
		if id == int64(i) {
			return 0, fmt.Errorf("node %d is its own %s node", i, what)
		}
		return int32(id), nil
	}
	for i := 0; i < n; i++ {
		if modes[i] > uint8(modeMember) {
			return nil, fmt.Errorf("node %d has mode %d; the modes are 0 to 6", i, modes[i])
		}
		e.mode[i] = nodeMode(modes[i])
		e.feature[i] = -1
		if feat[i] >= 0 && feat[i] <= math.MaxInt32 {
			e.feature[i] = int32(feat[i])
		}
		if len(missing) > 0 {
			e.missTrue[i] = missing[i] == 1
		}
		if e.tru[i], err = child(i, trueIDs[i], trueLeaf[i], "true"); err != nil {
			return nil, err
		}
		if e.fls[i], err = child(i, falseIDs[i], falseLeaf[i], "false"); err != nil {
			return nil, err
		}
		if e.mode[i] == modeMember {
			start := len(e.members)
			for pos < len(mv) && mv[pos] == mv[pos] {
				e.members = append(e.members, mv[pos])
				pos++
			}
			if len(e.members) == start {
				return nil, fmt.Errorf("node %d (BRANCH_MEMBER) has an empty set in membership_values", i)
			}
			pos++ // the NaN
		}
		e.setStart[i+1] = int32(len(e.members))
	}
	if pos < len(mv) {
		return nil, fmt.Errorf("membership_values has more sets than the %d BRANCH_MEMBER nodes", countMember(e.mode))
	}

	roots := a.Ints("tree_roots")
	if len(roots) == 0 {
		return nil, errors.New("tree_roots is empty")
	}
	for _, r := range roots {
		if r < 0 || r >= int64(n) {
			return nil, fmt.Errorf("tree root %d is out of range [0, %d)", r, n)
		}
		if trueLeaf[r] != 0 && falseLeaf[r] != 0 && trueIDs[r] == falseIDs[r] {
			e.roots = append(e.roots, e.tru[r]) // a one-leaf tree
		} else {
			e.roots = append(e.roots, int32(r))
		}
	}
	if err := e.check(); err != nil {
		return nil, err
	}

	switch f := a.Int("aggregate_function"); f {
	case 0, 1, 2, 3:
		e.agg = f
	default:
		return nil, fmt.Errorf("aggregate_function is %d; want 0 (AVERAGE), 1 (SUM), 2 (MIN) or 3 (MAX)", f)
	}
	p := a.Int("post_transform")
	switch p {
	case 0, 1, 2, 3, 4:
		e.post = [...]string{"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"}[p]
	default:
		return nil, fmt.Errorf("post_transform is %d; want 0 to 4", p)
	}
	if p == 4 && xt == Float64 {
		return nil, errors.New("post_transform PROBIT with float64 input is not supported")
	}
	if targets == 1 && p != 0 && p != 4 {
		return nil, fmt.Errorf("post_transform %s with a single target is not supported (ONNX Runtime ignores it)", e.post)
	}
	return e, nil
}

func countMember(m []nodeMode) int {
	c := 0
	for _, v := range m {
		if v == modeMember {
			c++
		}
	}
	return c
}

// check verifies that every tree, walked from its root, is finite and
// that every feature it reads is a valid index, and records the largest.
func (e *ensemble5[T]) check() error {
	state := make([]uint8, len(e.mode)) // 0 new, 1 on the path, 2 done
	type frame struct {
		i     int32
		child int // children visited
	}
	var stack []frame
	for _, r := range e.roots {
		if r < 0 || state[r] == 2 {
			continue
		}
		stack = append(stack[:0], frame{r, 0})
		state[r] = 1
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			i := f.i
			if f.child == 0 {
				if e.feature[i] < 0 {
					return fmt.Errorf("node %d has a bad feature id", i)
				}
				e.maxFeature = max(e.maxFeature, e.feature[i])
			}
			if f.child == 2 {
				state[i] = 2
				stack = stack[:len(stack)-1]
				continue
			}
			c := e.tru[i]
			if f.child == 1 {
				c = e.fls[i]
			}
			f.child++
			if c < 0 {
				continue
			}
			switch state[c] {
			case 1:
				return fmt.Errorf("the trees have a cycle through node %d", c)
			case 0:
				state[c] = 1
				stack = append(stack, frame{c, 0})
			}
		}
	}
	return nil
}

// leaf walks one tree for row x and returns the leaf index reached.
func (e *ensemble5[T]) leaf(root int32, x []T) int32 {
	i := root
	for i >= 0 {
		v, t := x[e.feature[i]], e.split[i]
		var c bool
		switch e.mode[i] {
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
		case modeMember:
			for _, m := range e.members[e.setStart[i]:e.setStart[i+1]] {
				if v == m {
					c = true
					break
				}
			}
		}
		if c || e.missTrue[i] && v != v {
			i = e.tru[i]
		} else {
			i = e.fls[i]
		}
	}
	return ^i
}

// run computes the [n, targets] scores of x's n rows of f features into z.
func (e *ensemble5[T]) run(x []T, n, f int, z []T) error {
	if int(e.maxFeature) >= f {
		return fmt.Errorf("the trees use feature %d, but X has %d features", e.maxFeature, f)
	}
	has := make([]bool, e.targets)
	for r := 0; r < n; r++ {
		row := x[r*f : (r+1)*f]
		s := z[r*e.targets : (r+1)*e.targets]
		for k := range s {
			s[k], has[k] = 0, false
		}
		for _, root := range e.roots {
			l := e.leaf(root, row)
			t, w := e.leafTarget[l], e.leafWeight[l]
			switch {
			case !has[t]:
				s[t] = w
			case e.agg == 2:
				s[t] = min(s[t], w)
			case e.agg == 3:
				s[t] = max(s[t], w)
			default:
				s[t] += w
			}
			has[t] = true
		}
		if e.agg == 0 {
			for k := range s {
				s[k] /= T(len(e.roots))
			}
		}
	}
	switch z := any(z).(type) {
	case []float32:
		applyTransform(e.post, z, e.targets)
	case []float64:
		applyTransform64(e.post, z, e.targets)
	}
	return nil
}

// applyTransform64 is applyTransform in float64 (no PROBIT).
func applyTransform64(pt string, y []float64, cols int) {
	for r := 0; r+cols <= len(y); r += cols {
		s := y[r : r+cols]
		switch pt {
		case "LOGISTIC":
			for i, v := range s {
				s[i] = 1 / (1 + math.Exp(-v))
			}
		case "SOFTMAX", "SOFTMAX_ZERO":
			m := math.Inf(-1)
			for _, v := range s {
				m = max(m, v)
			}
			sum := 0.0
			for i, v := range s {
				if pt == "SOFTMAX_ZERO" && v <= 1e-7 && v >= -1e-7 {
					s[i] = v * math.Exp(-m)
					continue
				}
				s[i] = math.Exp(v - m)
				sum += s[i]
			}
			for i := range s {
				s[i] /= sum
			}
		}
	}
}

// The compiled ensembles are cached as ops_ml.go's are (attrCache), keyed
// by the attributes and X's dtype.
var ensemble5Cache attrCache

func compiledEnsemble5(a Attrs, dt DType) (any, error) {
	h := hashAttrs(a, false) ^ uint64(dt)*0x9e3779b97f4a7c15
	return ensemble5Cache.get(a, dt, h, func() (any, error) {
		if dt == Float64 {
			return compileEnsemble5[float64](a, dt)
		}
		return compileEnsemble5[float32](a, dt)
	})
}

func runTreeEnsemble5(in []*Tensor, a Attrs, out []*Tensor) error {
	x := in[0]
	c, err := compiledEnsemble5(a, x.DType)
	if err != nil {
		return err
	}
	f := x.Shape[len(x.Shape)-1]
	n := 1
	if len(x.Shape) == 2 {
		n = x.Shape[0]
	}
	switch x.DType {
	case Float32:
		return c.(*ensemble5[float32]).run(x.F, n, f, out[0].F)
	case Float64:
		return c.(*ensemble5[float64]).run(Data[float64](x), n, f, Data[float64](out[0]))
	case Float16:
		xs := Data[Half](x)
		xf := make([]float32, len(xs))
		for i, v := range xs {
			xf[i] = v.Float32()
		}
		zs := Data[Half](out[0])
		zf := make([]float32, len(zs))
		if err := c.(*ensemble5[float32]).run(xf, n, f, zf); err != nil {
			return err
		}
		for i, v := range zf {
			zs[i] = F16(v)
		}
		return nil
	}
	return &DTypeError{Input: 0, DType: x.DType}
}
