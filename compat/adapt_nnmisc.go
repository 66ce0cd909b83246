package compat

import (
	"fmt"
	"math"

	"github.com/odmn/odmn/graph"
)

// Upgrade steps for the pools and normalizations of graph/ops_nnmisc*.go.
//
//	LpPool             1  -> 2   (float p -> int p)
//	GlobalLpPool       1  -> 2   (float p -> int p)
//	GroupNormalization 18 -> 21  (per-group scale and bias -> per-channel)
func init() {
	steps["LpPool"] = step{2, 2, lpPLegacy}
	steps["GlobalLpPool"] = step{2, 2, lpPLegacy}
	steps["GroupNormalization"] = step{21, 21, groupNormLegacy}
}

// lpPLegacy: version 1 of LpPool and GlobalLpPool took p as a float
// (default 2.0); from 2 on it is an int (default 2). An integral p carries
// over; another has no later form.
func lpPLegacy(c *adaptCtx) (bool, error) {
	if c.since != 1 {
		return false, nil
	}
	if c.has("p") {
		p, _, err := c.floatAttr("p")
		if err != nil {
			return false, err
		}
		if p != float32(math.Trunc(float64(p))) || p < 1 || p > 1<<20 {
			return false, notApplicable(KindAttribute, "%s: %s-1 with p = %v is not supported: later versions take an integer p >= 1", c.label, c.typ, p)
		}
		c.attrs = c.without("p")
		c.attrs["p"] = int64(p)
	}
	c.since = 2
	return true, nil
}

// groupNormLegacy: GroupNormalization-18 took scale and bias per group
// (num_groups values); 21 takes them per channel. Each group's value is
// repeated for its C/num_groups channels: Reshape(Expand(Unsqueeze(s, 1),
// [G, C/G]), [-1]), with C from X's shape (at run time when unknown).
// 18 computes in X's type; 21's stash_type 1 (its default) computes in
// float32, so a double X gets stash_type 11.
func groupNormLegacy(c *adaptCtx) (bool, error) {
	if c.since != 18 {
		return false, nil
	}
	x, scale, bias := c.input(0), c.input(1), c.input(2)
	if x == nil || scale == nil || bias == nil || len(c.ins) != 3 {
		return false, fmt.Errorf("%s: GroupNormalization-18 takes X, scale and bias", c.label)
	}
	if !c.has("num_groups") {
		return false, fmt.Errorf("%s: required attribute num_groups is missing", c.label)
	}
	g, err := c.intAttr("num_groups", 0)
	if err != nil {
		return false, err
	}
	if g < 1 || x.Rank() < 2 {
		return false, fmt.Errorf("%s: num_groups %d must be positive and X (shape %v) have rank 2 or more", c.label, g, x.Shape())
	}
	var shape *graph.Node
	if ch := x.Shape()[1]; ch >= 0 {
		if int64(ch)%g != 0 {
			return false, fmt.Errorf("%s: num_groups %d does not divide the %d channels", c.label, g, ch)
		}
		shape = c.constInts([]int64{g, int64(ch) / g})
	} else {
		ops := map[string]*graph.OpDef{}
		for _, typ := range []string{"Shape", "Div", "Concat"} {
			if ops[typ], err = c.lookup(typ); err != nil {
				return false, err
			}
		}
		ch, err := c.apply(ops["Shape"], graph.Attrs{"start": int64(1), "end": int64(2)}, []*graph.Node{x})
		if err != nil {
			return false, err
		}
		gn := c.constInts([]int64{g})
		per, err := c.apply(ops["Div"], nil, []*graph.Node{ch[0], gn})
		if err != nil {
			return false, err
		}
		s, err := c.apply(ops["Concat"], graph.Attrs{"axis": int64(0)}, []*graph.Node{gn, per[0]})
		if err != nil {
			return false, err
		}
		shape = s[0]
	}
	expand, err := c.lookup("Expand")
	if err != nil {
		return false, err
	}
	reshape, err := c.lookup("Reshape")
	if err != nil {
		return false, err
	}
	perChannel := func(t *graph.Node) (*graph.Node, error) {
		u, err := c.unsqueeze(t, []int64{1})
		if err != nil {
			return nil, err
		}
		e, err := c.apply(expand, nil, []*graph.Node{u, shape})
		if err != nil {
			return nil, err
		}
		r, err := c.apply(reshape, nil, []*graph.Node{e[0], c.constInts([]int64{-1})})
		if err != nil {
			return nil, err
		}
		return r[0], nil
	}
	for _, t := range []*graph.Node{scale, bias} {
		if t.Rank() != 1 || t.Shape()[0] >= 0 && int64(t.Shape()[0]) != g {
			return false, fmt.Errorf("%s: GroupNormalization-18's scale and bias must have shape [%d] (num_groups), got %v and %v", c.label, g, scale.Shape(), bias.Shape())
		}
	}
	s2, err := perChannel(scale)
	if err != nil {
		return false, err
	}
	b2, err := perChannel(bias)
	if err != nil {
		return false, err
	}
	c.setInputs(x, s2, b2)
	if x.DType() == graph.Float64 {
		c.attrs["stash_type"] = int64(11)
	}
	c.since = 21
	return true, nil
}
