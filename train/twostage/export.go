package twostage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/odmn/odmn/graph"
)

// Input and output names of the exported graph.
const (
	InputFeatures = "features"  // float32 [N, F]: encoded feature ids as float32
	OutLTV        = "ltv"       // float32 [N, T]: the prediction
	OutPremium    = "p_premium" // float32 [N, T]: P(premium)
	OutValue      = "value"     // float32 [N, T]: value estimate given premium
)

// GraphOptions tune Graph.
type GraphOptions struct {
	// Raw adds, for each horizon H with trained boosters, the tree
	// ensembles' own outputs: "h<H>_label" (int64 [N]) and
	// "h<H>_probabilities" (float32 [N, 2]) of the classifier, and
	// "h<H>_margin" (float32 [N, 1]) of the regressor (log scale).
	Raw bool
}

// Graph builds the inference graph (see the package documentation for
// its contract).
func (m *Model) Graph() (*graph.Graph, error) { return m.GraphWith(GraphOptions{}) }

// GraphWith is Graph with options.
func (m *Model) GraphWith(opts GraphOptions) (*graph.Graph, error) {
	type stageTrees struct {
		cls, reg *ensembleAttrs
	}
	trees := make([]stageTrees, len(m.Stages))
	for i, s := range m.Stages {
		if s.classifier != nil {
			js, err := s.classifier.saveJSON()
			if err != nil {
				return nil, err
			}
			if trees[i].cls, err = convertBooster(js, true, len(m.Features)); err != nil {
				return nil, fmt.Errorf("twostage: horizon %d classifier: %w", s.Horizon, err)
			}
		}
		if s.regressor != nil {
			js, err := s.regressor.saveJSON()
			if err != nil {
				return nil, err
			}
			if trees[i].reg, err = convertBooster(js, false, len(m.Features)); err != nil {
				return nil, fmt.Errorf("twostage: horizon %d regressor: %w", s.Horizon, err)
			}
		}
	}

	g := graph.New("twostage")
	g.Doc = "odmn Two-Stage baseline (XGBoost classifier of premium users, then regressor of log1p(value) on premium users), one pair per horizon."
	hs := make([]string, len(m.Stages))
	for i, s := range m.Stages {
		hs[i] = strconv.Itoa(s.Horizon)
	}
	g.Metadata["odmn.model"] = Kind
	g.Metadata["odmn.horizons"] = strings.Join(hs, ",")
	g.Metadata["odmn.input"] = InputFeatures + ": float32 [N, F], the encoded feature ids of the data set as float32, in its slot order"
	g.Metadata["odmn.combine"] = m.Config.Combine
	g.Metadata["odmn.premium_threshold"] = strconv.FormatFloat(m.Config.PremiumThreshold, 'g', -1, 64)

	err := graph.Catch(func() {
		x := g.Input(InputFeatures, graph.Float32, -1, len(m.Features))
		var ps, vs, ls []*graph.Node
		for i, s := range m.Stages {
			h := fmt.Sprintf("h%d", s.Horizon)
			var p *graph.Node
			if t := trees[i].cls; t != nil {
				label, probs := graph.TreeEnsembleClassifier(x, t.classifierAttrs())
				probs.SetName(h + "_probabilities")
				if opts.Raw {
					g.SetOutput(h+"_label", label)
					g.SetOutput(h+"_probabilities", probs)
				}
				p = graph.Slice(probs, []int64{1}, []int64{2}, []int64{1}, nil)
			} else {
				p = graph.TreeEnsembleRegressor(x, constantAttrs(float32(s.PremiumRate)))
			}
			var r *graph.Node
			if t := trees[i].reg; t != nil {
				r = graph.TreeEnsembleRegressor(x, t.regressorAttrs())
				r.SetName(h + "_margin")
				if opts.Raw {
					g.SetOutput(h+"_margin", r)
				}
			} else {
				r = graph.TreeEnsembleRegressor(x, constantAttrs(float32(s.LogBase)))
			}
			v := graph.Exp(r)
			if smear := float32(s.Smearing); smear != 1 {
				v = graph.Mul(v, g.Const(graph.ScalarF32(smear)))
			}
			v = graph.Max(graph.Sub(v, g.Const(graph.ScalarF32(1))), g.Const(graph.ScalarF32(0)))
			var l *graph.Node
			if m.Config.Combine == CombineHard {
				l = graph.Where(graph.Greater(p, g.Const(graph.ScalarF32(0.5))), v, g.Const(graph.ScalarF32(0)))
			} else {
				l = graph.Mul(p, v)
			}
			ps, vs, ls = append(ps, p), append(vs, v), append(ls, l)
		}
		g.SetOutput(OutLTV, graph.Concat(1, ls...))
		g.SetOutput(OutPremium, graph.Concat(1, ps...))
		g.SetOutput(OutValue, graph.Concat(1, vs...))
	})
	if err != nil {
		return nil, fmt.Errorf("twostage: graph: %w", err)
	}
	return g, nil
}

// ensembleAttrs is a converted XGBoost booster: the node and leaf tuples
// of an ai.onnx.ml tree ensemble.
type ensembleAttrs struct {
	treeIDs, nodeIDs, features, trues, falses, missing []int64
	modes                                              []string
	values                                             []float32
	leafTree, leafNode                                 []int64
	leafWeight                                         []float32
	// base is the margin to add: the base score, through the logit for
	// the classifier.
	base float32
}

func (e *ensembleAttrs) nodeAttrs() graph.Attrs {
	return graph.Attrs{
		"nodes_treeids":                   e.treeIDs,
		"nodes_nodeids":                   e.nodeIDs,
		"nodes_featureids":                e.features,
		"nodes_modes":                     e.modes,
		"nodes_values":                    e.values,
		"nodes_truenodeids":               e.trues,
		"nodes_falsenodeids":              e.falses,
		"nodes_missing_value_tracks_true": e.missing,
		"base_values":                     []float32{e.base},
	}
}

func (e *ensembleAttrs) classifierAttrs() graph.Attrs {
	a := e.nodeAttrs()
	a["post_transform"] = "LOGISTIC"
	a["classlabels_int64s"] = []int64{0, 1}
	a["class_treeids"], a["class_nodeids"], a["class_weights"] = e.leafTree, e.leafNode, e.leafWeight
	a["class_ids"] = make([]int64, len(e.leafWeight))
	return a
}

func (e *ensembleAttrs) regressorAttrs() graph.Attrs {
	a := e.nodeAttrs()
	a["post_transform"] = "NONE"
	a["aggregate_function"] = "SUM"
	a["n_targets"] = int64(1)
	a["target_treeids"], a["target_nodeids"], a["target_weights"] = e.leafTree, e.leafNode, e.leafWeight
	a["target_ids"] = make([]int64, len(e.leafWeight))
	return a
}

// constantAttrs is a regressor of one single-leaf tree: the constant c.
func constantAttrs(c float32) graph.Attrs {
	return graph.Attrs{
		"nodes_treeids": []int64{0}, "nodes_nodeids": []int64{0}, "nodes_featureids": []int64{0},
		"nodes_modes": []string{"LEAF"}, "nodes_values": []float32{0},
		"nodes_truenodeids": []int64{0}, "nodes_falsenodeids": []int64{0},
		"post_transform": "NONE", "aggregate_function": "SUM", "n_targets": int64(1),
		"target_treeids": []int64{0}, "target_nodeids": []int64{0}, "target_ids": []int64{0},
		"target_weights": []float32{c},
	}
}

// xgbModel is the part of XGBoost's JSON model format (1.x) that the
// conversion reads.
type xgbModel struct {
	Learner struct {
		GradientBooster struct {
			Name  string `json:"name"`
			Model struct {
				Param struct {
					NumParallelTree string `json:"num_parallel_tree"`
				} `json:"gbtree_model_param"`
				TreeInfo []int     `json:"tree_info"`
				Trees    []xgbTree `json:"trees"`
			} `json:"model"`
		} `json:"gradient_booster"`
		Param struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
}

type xgbTree struct {
	Left        []int         `json:"left_children"`
	Right       []int         `json:"right_children"`
	SplitIndex  []int64       `json:"split_indices"`
	SplitCond   []json.Number `json:"split_conditions"`
	DefaultLeft []flexBool    `json:"default_left"`
	SplitType   []int         `json:"split_type"`
}

// flexBool reads XGBoost's default_left, written as 0/1 by 1.7 and as
// true/false by some versions.
type flexBool bool

func (b *flexBool) UnmarshalJSON(p []byte) error {
	switch string(bytes.TrimSpace(p)) {
	case "1", "true":
		*b = true
	case "0", "false":
		*b = false
	default:
		return fmt.Errorf("default_left value %s", p)
	}
	return nil
}

// convertBooster turns a saved XGBoost JSON model (gbtree, binary:logistic
// when classifier is set, reg:squarederror otherwise) into ensemble
// attributes, as onnxmltools does: nodes renumbered in preorder from 0 per
// tree, BRANCH_LT, true = yes = left child, missing tracks true when the
// default direction is left, leaf weights from split_conditions.
func convertBooster(js []byte, classifier bool, nFeatures int) (*ensembleAttrs, error) {
	var m xgbModel
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("reading the XGBoost model: %w", err)
	}
	l := m.Learner
	want := "reg:squarederror"
	if classifier {
		want = "binary:logistic"
	}
	if l.Objective.Name != want {
		return nil, fmt.Errorf("objective %q, want %q", l.Objective.Name, want)
	}
	if l.GradientBooster.Name != "gbtree" {
		return nil, fmt.Errorf("booster %q; only gbtree is converted", l.GradientBooster.Name)
	}
	if p := l.GradientBooster.Model.Param.NumParallelTree; p != "" && p != "1" {
		return nil, fmt.Errorf("num_parallel_tree %s; only 1 is converted", p)
	}
	if c := l.Param.NumClass; c != "" && c != "0" && c != "1" {
		return nil, fmt.Errorf("num_class %s; only single-output models are converted", c)
	}
	if nf, err := strconv.Atoi(l.Param.NumFeature); err != nil || nf > nFeatures {
		return nil, fmt.Errorf("num_feature %q for %d input features", l.Param.NumFeature, nFeatures)
	}
	bs, err := strconv.ParseFloat(l.Param.BaseScore, 32)
	if err != nil {
		return nil, fmt.Errorf("base_score %q: %w", l.Param.BaseScore, err)
	}
	e := &ensembleAttrs{base: float32(bs)}
	if classifier {
		// XGBoost's ProbToMargin for the logistic loss, in float32.
		b := float32(bs)
		if !(b > 0 && b < 1) {
			return nil, fmt.Errorf("base_score %v not in (0, 1)", b)
		}
		e.base = float32(-math.Log(float64(1/b - 1)))
	}
	for ti, id := range l.GradientBooster.Model.TreeInfo {
		if id != 0 {
			return nil, fmt.Errorf("tree %d is for output group %d", ti, id)
		}
	}
	trees := l.GradientBooster.Model.Trees
	if len(trees) == 0 {
		return nil, errors.New("the model has no trees")
	}
	for ti, t := range trees {
		if err := e.addTree(int64(ti), &t, nFeatures); err != nil {
			return nil, fmt.Errorf("tree %d: %w", ti, err)
		}
	}
	if classifier {
		e.guardNegative(int64(len(trees)))
	}
	return e, nil
}

func (e *ensembleAttrs) addTree(tree int64, t *xgbTree, nFeatures int) error {
	n := len(t.Left)
	if n == 0 || len(t.Right) != n || len(t.SplitIndex) != n || len(t.SplitCond) != n || len(t.DefaultLeft) != n {
		return fmt.Errorf("node arrays of unequal or zero length (%d, %d, %d, %d, %d)",
			n, len(t.Right), len(t.SplitIndex), len(t.SplitCond), len(t.DefaultLeft))
	}
	// Preorder numbering of the nodes reachable from the root.
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = -1
	}
	var order []int
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i < 0 || i >= n {
			return fmt.Errorf("child index %d out of range", i)
		}
		if ids[i] >= 0 {
			return fmt.Errorf("node %d reached twice", i)
		}
		ids[i] = int64(len(order))
		order = append(order, i)
		if t.Left[i] != -1 {
			stack = append(stack, t.Right[i], t.Left[i])
		}
	}
	for _, i := range order {
		v, err := strconv.ParseFloat(string(t.SplitCond[i]), 32)
		if err != nil {
			return fmt.Errorf("node %d: split condition %q: %w", i, t.SplitCond[i], err)
		}
		e.treeIDs = append(e.treeIDs, tree)
		e.nodeIDs = append(e.nodeIDs, ids[i])
		if t.Left[i] == -1 {
			e.features = append(e.features, 0)
			e.modes = append(e.modes, "LEAF")
			e.values = append(e.values, 0)
			e.trues, e.falses, e.missing = append(e.trues, 0), append(e.falses, 0), append(e.missing, 0)
			e.leafTree, e.leafNode = append(e.leafTree, tree), append(e.leafNode, ids[i])
			e.leafWeight = append(e.leafWeight, float32(v))
			continue
		}
		if len(t.SplitType) == n && t.SplitType[i] != 0 {
			return fmt.Errorf("node %d is a categorical split; only numerical splits are converted", i)
		}
		f := t.SplitIndex[i]
		if f < 0 || f >= int64(nFeatures) {
			return fmt.Errorf("node %d splits on feature %d of %d", i, f, nFeatures)
		}
		miss := int64(0)
		if t.DefaultLeft[i] {
			miss = 1 // the default direction is the yes (true) branch
		}
		e.features = append(e.features, f)
		e.modes = append(e.modes, "BRANCH_LT")
		e.values = append(e.values, float32(v))
		e.trues = append(e.trues, ids[t.Left[i]])
		e.falses = append(e.falses, ids[t.Right[i]])
		e.missing = append(e.missing, miss)
	}
	return nil
}

// guardNegative appends, when no leaf weight is negative, a tree that
// never changes a score but has a negative weight: ONNX Runtime applies no
// logistic to a binary classifier whose weights are all >= 0 (see the
// package documentation).
func (e *ensembleAttrs) guardNegative(tree int64) {
	for _, w := range e.leafWeight {
		if w < 0 {
			return
		}
	}
	e.treeIDs = append(e.treeIDs, tree, tree, tree)
	e.nodeIDs = append(e.nodeIDs, 0, 1, 2)
	e.features = append(e.features, 0, 0, 0)
	e.modes = append(e.modes, "BRANCH_GTE", "LEAF", "LEAF")
	e.values = append(e.values, float32(math.Inf(-1)), 0, 0)
	e.trues = append(e.trues, 1, 0, 0)
	e.falses = append(e.falses, 2, 0, 0)
	e.missing = append(e.missing, 1, 0, 0)
	e.leafTree = append(e.leafTree, tree, tree)
	e.leafNode = append(e.leafNode, 1, 2)
	e.leafWeight = append(e.leafWeight, 0, -1)
}
