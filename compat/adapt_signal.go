package compat

import "github.com/odmn/odmn/graph"

// Upgrade steps for the signal and vision ops whose older versions differ
// in form only.
//
//	DFT        17 -> 20  (axis attribute, default 1 -> axis input)
//	GridSample 16 -> 20  (modes bilinear, bicubic -> linear, cubic)
//	RoiAlign   10 -> 16  (no coordinate_transformation_mode: output_half_pixel)
func init() {
	steps["DFT"] = step{20, 20, dftLegacy}
	steps["GridSample"] = step{20, 20, gridSampleLegacy}
	steps["RoiAlign"] = step{16, 16, roiAlignLegacy}
}

func dftLegacy(c *adaptCtx) (bool, error) {
	if c.since != 17 {
		return false, nil
	}
	axis, err := c.intAttr("axis", 1)
	if err != nil {
		return false, err
	}
	c.attrs = c.without("axis")
	ins := []*graph.Node{c.input(0), c.input(1), c.g.Const(graph.I64([]int{}, []int64{axis}))}
	c.ins = ins
	c.since = 20
	return true, nil
}

func gridSampleLegacy(c *adaptCtx) (bool, error) {
	if c.since != 16 {
		return false, nil
	}
	if m, ok := c.attrs["mode"]; ok {
		s, ok := m.(string)
		if !ok {
			return false, c.attrErr("mode", "a string")
		}
		switch s {
		case "bilinear":
			s = "linear"
		case "bicubic":
			s = "cubic"
		case "nearest":
		default:
			// linear and cubic are not GridSample-16 modes.
			return false, notApplicable(KindAttribute, "%s: GridSample-16 mode %q is not one of bilinear, nearest, bicubic", c.label, s)
		}
		c.attrs = c.without("mode")
		c.attrs["mode"] = s
	}
	c.since = 20
	return true, nil
}

func roiAlignLegacy(c *adaptCtx) (bool, error) {
	if c.since != 10 {
		return false, nil
	}
	c.attrs = c.without()
	c.attrs["coordinate_transformation_mode"] = "output_half_pixel"
	c.since = 16
	return true, nil
}
