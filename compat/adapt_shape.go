package compat

import (
	"fmt"

	"github.com/odmn/odmn/graph"
)

// Upgrade steps for the shape and indexing ops whose older versions carry
// as attributes (or leave implicit) what later ones take as inputs.
//
//	Split   2, 11, 13 -> 18  (split attribute -> input; no split -> num_outputs = the node's outputs)
//	Dropout 7, 10     -> 12  (ratio attribute dropped: inference is the identity)
//	Pad     2         -> 11  (pads and value attributes -> inputs)
//	TopK    1         -> 10  (k attribute -> input)
//	Resize  10, 11    -> 13  (roi input added, asymmetric, Resize-10's nearest rounding;
//	                          tf_half_pixel_for_nn as half_pixel where the rounding allows)
//	Upsample 7        -> 9   (scales attribute -> input)
func init() {
	steps["Resize"] = step{13, 13, resizeLegacy}
	steps["Upsample"] = step{9, 9, upsampleLegacy}
	steps["Split"] = step{18, 18, splitLegacy}
	steps["Dropout"] = step{12, 12, dropoutLegacy}
	steps["Pad"] = step{11, 11, padLegacy}
	steps["TopK"] = step{10, 10, topKLegacy}
}

func splitLegacy(c *adaptCtx) (bool, error) {
	if c.since < 2 || c.since >= 18 {
		return false, nil
	}
	x := c.input(0)
	split := c.input(1)
	if c.since < 13 {
		v, ok, err := c.intsAttr("split")
		if err != nil {
			return false, err
		}
		if ok {
			split = c.constInts(v)
		}
		c.attrs = c.without("split")
	}
	if split == nil {
		// Equal parts: as the split input when the axis is known (valid at
		// every version, so the export stays checkable at opset 13),
		// else as num_outputs.
		axis, err := c.intAttr("axis", 0)
		if err != nil {
			return false, err
		}
		r := int64(x.Rank())
		if axis < 0 {
			axis += r
		}
		if axis >= 0 && axis < r && c.nout > 0 && x.Shape()[axis] >= 0 && x.Shape()[axis]%c.nout == 0 {
			parts := make([]int64, c.nout)
			for i := range parts {
				parts[i] = int64(x.Shape()[axis] / c.nout)
			}
			split = c.constInts(parts)
		} else {
			c.attrs["num_outputs"] = int64(c.nout)
		}
	}
	c.setInputs(x, split)
	c.since = 18
	return true, nil
}

func dropoutLegacy(c *adaptCtx) (bool, error) {
	if c.since != 7 && c.since != 10 {
		return false, nil
	}
	if c.since == 7 && c.nout > 1 {
		return false, notApplicable(KindOpset, "%s: Dropout-7's mask output (of the data's type) is not supported", c.label)
	}
	c.attrs = c.without("ratio")
	c.since = 12
	return true, nil
}

func padLegacy(c *adaptCtx) (bool, error) {
	if c.since != 2 {
		return false, nil
	}
	pads, ok, err := c.intsAttr("pads")
	if err != nil {
		return false, err
	}
	if !ok {
		return false, notApplicable(KindOpset, "%s: Pad-2 without pads", c.label)
	}
	v, _, err := c.floatAttr("value")
	if err != nil {
		return false, err
	}
	x := c.input(0)
	var value *graph.Tensor
	switch x.DType() {
	case graph.Float32:
		value = graph.ScalarF32(v)
	case graph.Float64:
		value = graph.FromSlice([]int{}, []float64{float64(v)})
	case graph.Float16:
		value = graph.FromSlice([]int{}, []graph.Half{graph.F16(v)})
	default:
		return false, notApplicable(KindOpset, "%s: Pad-2 on %s data", c.label, x.DType())
	}
	c.attrs = c.without("pads", "value")
	c.setInputs(x, c.constInts(pads), c.g.Const(value))
	c.since = 11
	return true, nil
}

func topKLegacy(c *adaptCtx) (bool, error) {
	if c.since != 1 {
		return false, nil
	}
	k, err := c.intAttr("k", -1)
	if err != nil {
		return false, err
	}
	if k < 0 {
		return false, notApplicable(KindOpset, "%s: TopK-1 without k", c.label)
	}
	c.attrs = c.without("k")
	c.setInputs(c.input(0), c.constInts([]int64{k}))
	c.since = 10
	return true, nil
}

// resizeLegacy: Resize-10 takes (X, scales), with asymmetric coordinates
// and, in nearest mode, ONNX Runtime's rounding of that version (ceil on
// an axis that shrinks, floor otherwise: nearest_mode simple, odmn's
// name for it); it becomes Resize-11, the same with an roi input.
// Resize-11 is Resize-13 but for tf_half_pixel_for_nn, x_original =
// (x+0.5)/scale, which is half_pixel's plus 0.5: with nearest_mode
// round_prefer_floor that rounds as half_pixel with ceil, with floor as
// half_pixel with round_prefer_ceil; other modes keep it (odmn computes
// it, and the exporter refuses it).
func resizeLegacy(c *adaptCtx) (bool, error) {
	switch c.since {
	case 10:
		c.attrs = c.without("coordinate_transformation_mode", "nearest_mode")
		c.attrs["coordinate_transformation_mode"] = "asymmetric"
		if mode, _ := c.attrs["mode"].(string); mode == "" || mode == "nearest" {
			c.attrs["nearest_mode"] = resize10Rounding(c.input(1))
		}
		c.setInputs(c.input(0), nil, c.input(1))
		c.since = 11
		return true, nil
	case 11:
		mode, _ := c.attrs["mode"].(string)
		ctm, _ := c.attrs["coordinate_transformation_mode"].(string)
		nm, ok := c.attrs["nearest_mode"].(string)
		if !ok {
			nm = "round_prefer_floor"
		}
		if (mode == "" || mode == "nearest") && ctm == "tf_half_pixel_for_nn" {
			if to, ok := map[string]string{"round_prefer_floor": "ceil", "floor": "round_prefer_ceil"}[nm]; ok {
				c.attrs = c.without("coordinate_transformation_mode", "nearest_mode")
				c.attrs["coordinate_transformation_mode"] = "half_pixel"
				c.attrs["nearest_mode"] = to
			}
		}
		c.since = 13
		return true, nil
	}
	return false, nil
}

// resize10Rounding is Resize-10's nearest rounding as a later
// nearest_mode: floor when no constant scale is below 1, ceil when none
// is above (an axis of scale 1 is copied either way), else odmn's simple.
func resize10Rounding(scales *graph.Node) string {
	if scales == nil || scales.Value() == nil || scales.DType() != graph.Float32 {
		return "simple"
	}
	up, down := false, false
	for _, v := range scales.Value().F {
		up = up || v > 1
		down = down || v < 1
	}
	switch {
	case !down:
		return "floor"
	case !up:
		return "ceil"
	}
	return "simple"
}

// upsampleLegacy: Upsample-7's scales attribute becomes Upsample-9's input.
func upsampleLegacy(c *adaptCtx) (bool, error) {
	if c.since != 7 {
		return false, nil
	}
	v, ok := c.attrs["scales"].([]float32)
	if !ok {
		return false, fmt.Errorf("%s: Upsample-7 needs a scales attribute (a list of floats)", c.label)
	}
	c.attrs = c.without("scales")
	c.setInputs(c.input(0), c.g.Const(graph.F32([]int{len(v)}, append([]float32{}, v...))))
	c.since = 9
	return true, nil
}
