package graph

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Resize and Upsample: every output element is a weighted sum of input
// elements, the weights a product of one-dimensional weights per axis
// (nearest: one tap; linear: two; cubic: four; antialiased linear and
// cubic: a window that widens as the axis shrinks). The arithmetic follows
// ONNX Runtime's CPU kernels, which the ONNX specification leaves open in
// places: coordinates are computed in float32, an axis whose scale is 1
// (and a resize to the input's own shape) copies, output sizes from scales
// are float32 products truncated, and integer outputs are rounded as ONNX
// Runtime rounds them (see resizeStore).

// resizeSpec is a Resize node's attributes, checked.
type resizeSpec struct {
	mode      string // nearest, linear, cubic
	ctm       string // coordinate_transformation_mode
	nearest   string // nearest_mode
	cubicA    float32
	exclude   bool
	antialias bool
	extrap    float32
	policy    string
	axes      []int64 // as given (nil: every axis)
	upsample  bool    // Upsample: scales must be >= 1
}

var (
	resizeModes = []string{"nearest", "linear", "cubic"}
	// tf_half_pixel_for_nn is Resize-11's (removed in 13); imported
	// Resize-11 nodes keep it, and the exporter refuses it.
	resizeCTMs = []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
		"asymmetric", "tf_crop_and_resize", "tf_half_pixel_for_nn"}
	// simple is Resize-10's and Upsample's rounding (no attribute in ONNX:
	// ceil on an axis that shrinks, floor otherwise, as in ONNX Runtime);
	// the importer sets it for those versions and the exporter refuses it.
	resizeNearestModes = []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple"}
	resizePolicies     = []string{"stretch", "not_larger", "not_smaller"}
)

func resizeSpecOf(a Attrs) (*resizeSpec, error) {
	s := &resizeSpec{
		mode: a.String("mode"), ctm: a.String("coordinate_transformation_mode"),
		nearest: a.String("nearest_mode"), cubicA: a.Float("cubic_coeff_a"),
		exclude: a.Int("exclude_outside") != 0, antialias: a.Int("antialias") != 0,
		extrap: a.Float("extrapolation_value"), policy: a.String("keep_aspect_ratio_policy"),
	}
	if a.Has("axes") {
		s.axes = a.Ints("axes")
	}
	for _, c := range []struct {
		name, v string
		ok      []string
	}{{"mode", s.mode, resizeModes}, {"coordinate_transformation_mode", s.ctm, resizeCTMs},
		{"nearest_mode", s.nearest, resizeNearestModes}, {"keep_aspect_ratio_policy", s.policy, resizePolicies}} {
		if !slices.Contains(c.ok, c.v) {
			return nil, fmt.Errorf("%s %q is not one of %v", c.name, c.v, c.ok)
		}
	}
	if s.antialias && s.mode == "nearest" {
		// ONNX Runtime refuses it; the specification defines antialias
		// for linear and cubic only.
		return nil, errors.New("antialias applies to the linear and cubic modes, not nearest")
	}
	if math.IsNaN(float64(s.cubicA)) || math.IsInf(float64(s.cubicA), 0) {
		return nil, fmt.Errorf("cubic_coeff_a %v is not finite", s.cubicA)
	}
	return s, nil
}

// resizeAxes normalizes axes (nil: every axis) for rank r.
func (s *resizeSpec) resizeAxes(r int) ([]int, error) {
	if s.axes == nil {
		ax := make([]int, r)
		for i := range ax {
			ax[i] = i
		}
		return ax, nil
	}
	seen := make([]bool, r)
	ax := make([]int, len(s.axes))
	for i, v := range s.axes {
		a, err := normAxis(v, r)
		if err != nil {
			return nil, fmt.Errorf("axes %v: %w", s.axes, err)
		}
		if seen[a] {
			return nil, fmt.Errorf("axes %v repeat axis %d", s.axes, a)
		}
		seen[a] = true
		ax[i] = a
	}
	return ax, nil
}

// resizePlan is the output shape and the per-axis scales of one resize.
type resizePlan struct {
	out    []int
	scales []float32 // per axis of X
	roi    []float32 // 2*rank: starts then ends
	// fromScales: the scales were given (not computed from sizes).
	fromScales bool
}

// plan computes the output shape from scales (float32, one per entry of
// axes) or sizes (int64), and per-axis scales, as ONNX Runtime does. in
// holds only known dimensions.
func (s *resizeSpec) plan(in []int, scales []float32, sizes []int64, roi []float32) (*resizePlan, error) {
	r := len(in)
	ax, err := s.resizeAxes(r)
	if err != nil {
		return nil, err
	}
	p := &resizePlan{out: slices.Clone(in), scales: make([]float32, r), roi: make([]float32, 2*r)}
	for i := range p.scales {
		p.scales[i] = 1
		p.roi[r+i] = 1
	}
	if roi != nil {
		if len(roi) != 2*len(ax) {
			return nil, fmt.Errorf("roi has %d values, want %d (a start and an end for each of %d axes)", len(roi), 2*len(ax), len(ax))
		}
		for i, a := range ax {
			p.roi[a], p.roi[r+a] = roi[i], roi[len(ax)+i]
		}
	}
	if scales != nil {
		if len(scales) != len(ax) {
			return nil, fmt.Errorf("scales has %d values, want %d", len(scales), len(ax))
		}
		for i, a := range ax {
			sc := scales[i]
			if !(sc > 0) || math.IsInf(float64(sc), 0) {
				return nil, fmt.Errorf("scales %v: each must be a finite value > 0", scales)
			}
			if s.upsample && sc < 1 {
				return nil, fmt.Errorf("scales %v: Upsample's scales must be >= 1", scales)
			}
			p.scales[a] = sc
			o := float64(sc * float32(in[a]))
			if o > maxElements {
				return nil, fmt.Errorf("scales %v give an output dimension of %g, too large", scales, o)
			}
			p.out[a] = int(o)
		}
		p.fromScales = true
		return p, nil
	}
	if len(sizes) != len(ax) {
		return nil, fmt.Errorf("sizes has %d values, want %d", len(sizes), len(ax))
	}
	for i, a := range ax {
		d, err := dimOf(sizes[i], fmt.Sprintf("sizes %v", sizes))
		if err != nil {
			return nil, err
		}
		if in[a] == 0 {
			if d != 0 {
				return nil, fmt.Errorf("sizes %v: axis %d of size 0 cannot become %d", sizes, a, d)
			}
			continue
		}
		p.out[a] = d
		p.scales[a] = float32(d) / float32(in[a])
	}
	if s.policy != "stretch" {
		pol := float32(math.MaxFloat32)
		if s.policy == "not_smaller" {
			pol = math.SmallestNonzeroFloat32
		}
		for _, a := range ax {
			if s.policy == "not_larger" {
				pol = min(pol, p.scales[a])
			} else {
				pol = max(pol, p.scales[a])
			}
		}
		for _, a := range ax {
			p.scales[a] = pol
			o := math.Round(float64(pol * float32(in[a])))
			if o > maxElements {
				return nil, fmt.Errorf("sizes %v give an output dimension of %g, too large", sizes, o)
			}
			p.out[a] = int(o)
		}
	}
	if s.upsample {
		for _, sc := range p.scales {
			if sc < 1 {
				return nil, fmt.Errorf("Upsample's scales must be >= 1")
			}
		}
	}
	return p, nil
}

// floatVals reads a float16, float32 or float64 tensor as float32.
func floatVals(t *Tensor) []float32 {
	if t.DType == Float32 {
		return t.F
	}
	out := make([]float32, t.Len())
	for i := range out {
		out[i] = float32(t.Float(i))
	}
	return out
}

// resizeInputs reads the roi, scales and sizes metas: an absent input or
// an empty tensor is not given. Exactly one of scales and sizes must be.
// Values are nil (with known false) when not known yet.
type resizeArgs struct {
	roi, scales []float32
	sizes       []int64
	useScales   bool
	known       bool
}

func resizeArgsOf(in []Meta, scalesAt int) (resizeArgs, error) {
	var ra resizeArgs
	ra.known = true
	get := func(i int) (Meta, bool) {
		if i >= len(in) || in[i].DType == Invalid {
			return Meta{}, false
		}
		if n := prodDims(in[i].Shape); n == 0 {
			return Meta{}, false
		}
		return in[i], true
	}
	if scalesAt == 2 {
		if m, ok := get(1); ok {
			if !m.DType.IsFloat() {
				return ra, fmt.Errorf("roi must be a float tensor, got %s", m.DType)
			}
			if len(m.Shape) != 1 {
				return ra, fmt.Errorf("roi must be 1-D, got shape %v", m.Shape)
			}
			if m.Value != nil {
				ra.roi = floatVals(m.Value)
			} else {
				ra.known = false
			}
		}
	}
	sm, hasScales := get(scalesAt)
	zm, hasSizes := get(scalesAt + 1)
	switch {
	case hasScales && hasSizes:
		return ra, errors.New("scales and sizes are both given; give one")
	case !hasScales && !hasSizes:
		return ra, errors.New("neither scales nor sizes is given (an empty tensor counts as absent)")
	case hasScales:
		if sm.DType != Float32 {
			return ra, fmt.Errorf("scales must be float32, got %s", sm.DType)
		}
		if len(sm.Shape) != 1 {
			return ra, fmt.Errorf("scales must be 1-D, got shape %v", sm.Shape)
		}
		ra.useScales = true
		if sm.Value != nil {
			ra.scales = sm.Value.F
		} else {
			ra.known = false
		}
	default:
		l, err := intsInput(zm, "sizes", false)
		if err != nil {
			return ra, err
		}
		if zm.DType != Int64 {
			return ra, fmt.Errorf("sizes must be int64, got %s", zm.DType)
		}
		if l.known {
			ra.sizes = l.vals
		} else {
			ra.known = false
		}
	}
	return ra, nil
}

// resizeInfer is Infer for Resize (scalesAt 2) and Upsample (scalesAt 1).
func resizeInfer(in []Meta, s *resizeSpec, scalesAt int) ([]Meta, error) {
	x := in[0]
	if err := checkData(x, "X"); err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r == 0 {
		return nil, errors.New("X must have rank at least 1, got a scalar")
	}
	ax, err := s.resizeAxes(r)
	if err != nil {
		return nil, err
	}
	ra, err := resizeArgsOf(in, scalesAt)
	if err != nil {
		return nil, err
	}
	if !ra.known || !x.Static() {
		out := slices.Clone(x.Shape)
		for _, a := range ax {
			out[a] = -1
		}
		if ra.known && s.policy == "stretch" {
			// Known values over some unknown dims: the axes whose input
			// dim is known (or whose size is given) are known.
			known := slices.Clone(x.Shape)
			for i := range known {
				if known[i] < 0 {
					known[i] = 1
				}
			}
			p, err := s.plan(known, ra.scales, ra.sizes, ra.roi)
			if err != nil {
				return nil, err
			}
			for _, a := range ax {
				if x.Shape[a] >= 0 || !ra.useScales {
					out[a] = p.out[a]
				}
			}
		}
		return []Meta{{DType: x.DType, Shape: out}}, nil
	}
	p, err := s.plan(x.Shape, ra.scales, ra.sizes, ra.roi)
	if err != nil {
		return nil, err
	}
	if err := checkShape(p.out); err != nil {
		return nil, err
	}
	return []Meta{{DType: x.DType, Shape: p.out}}, nil
}

// resizeTaps are the input positions and weights of each output position
// along one axis, flat: position i's are idx[off[i]:off[i+1]] (and w's);
// ext marks positions that take extrapolation_value.
type resizeTaps struct {
	off []int
	idx []int
	w   []float64
	ext []bool
}

func newTaps(n, per int) resizeTaps {
	return resizeTaps{off: make([]int, 1, n+1), idx: make([]int, 0, n*per), w: make([]float64, 0, n*per), ext: make([]bool, n)}
}

// add appends the next position's taps.
func (t *resizeTaps) add(idx []int, w []float64) {
	t.idx, t.w = append(t.idx, idx...), append(t.w, w...)
	t.off = append(t.off, len(t.idx))
}

// at returns position i's taps.
func (t *resizeTaps) at(i int) ([]int, []float64) {
	return t.idx[t.off[i]:t.off[i+1]], t.w[t.off[i]:t.off[i+1]]
}

// coord maps output position x to the input coordinate, in float32 as
// ONNX Runtime does.
//
// align_corners divides by the resized length less one; from scales that
// length is scale*length_original, fractional when the product is (the
// ONNX reference and the node tests; ONNX Runtime uses the truncated
// output length there and differs).
func (s *resizeSpec) coord(x int, scale float32, outLen, inLen int, roiStart, roiEnd float32, fromScales bool) float32 {
	xr, lr, lo := float32(x), float32(outLen), float32(inLen)
	if fromScales && s.ctm == "align_corners" {
		lr = scale * lo
	}
	switch s.ctm {
	case "asymmetric":
		return xr / scale
	case "pytorch_half_pixel":
		if lr > 1 {
			return (xr+0.5)/scale - 0.5
		}
		return 0
	case "tf_half_pixel_for_nn":
		return (xr + 0.5) / scale
	case "align_corners":
		if lr == 1 {
			return 0
		}
		return xr * (lo - 1) / (lr - 1)
	case "tf_crop_and_resize":
		if lr > 1 {
			return float32(float64(roiStart*(lo-1)) + float64(xr*(roiEnd-roiStart)*(lo-1))/float64(lr-1))
		}
		return float32(0.5 * float64(roiStart+roiEnd) * float64(lo-1))
	case "half_pixel_symmetric":
		outW := scale * lo
		adj := lr / outW
		center := lo / 2
		off := center * (1 - adj)
		return float32(float64(off) + float64(xr+0.5)/float64(scale) - 0.5)
	}
	return (xr+0.5)/scale - 0.5 // half_pixel
}

// nearestIndex rounds coordinate c by nearest_mode (down: the axis shrinks).
func (s *resizeSpec) nearestIndex(c float32, down bool) int64 {
	switch s.nearest {
	case "simple":
		if down {
			return int64(math.Ceil(float64(c)))
		}
		return int64(c)
	case "round_prefer_ceil":
		return int64(math.Round(float64(c)))
	case "floor":
		return int64(math.Floor(float64(c)))
	case "ceil":
		return int64(math.Ceil(float64(c)))
	}
	if c == float32(int64(c))+0.5 {
		return int64(math.Floor(float64(c)))
	}
	return int64(math.Round(float64(c)))
}

// cubicCoeffs are the four Keys weights for fraction t, in float32 as ONNX
// Runtime computes them.
func cubicCoeffs(t, a float32) [4]float32 {
	t = float32(math.Abs(float64(t)))
	return [4]float32{
		((a*(t+1)-5*a)*(t+1)+8*a)*(t+1) - 4*a,
		((a+2)*t-(a+3))*t*t + 1,
		((a+2)*(1-t)-(a+3))*(1-t)*(1-t) + 1,
		((a*(2-t)-5*a)*(2-t)+8*a)*(2-t) - 4*a,
	}
}

// aaFilter is the antialiasing filter (ONNX Runtime's, after Pillow).
func (s *resizeSpec) aaFilter(x float32) float32 {
	if x < 0 {
		x = -x
	}
	if s.mode == "linear" {
		if x < 1 {
			return 1 - x
		}
		return 0
	}
	a := s.cubicA
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// taps computes one axis's taps.
func (s *resizeSpec) taps(inLen, outLen int, scale, roiStart, roiEnd float32, fromScales bool) resizeTaps {
	if scale == 1 {
		return identityTaps(outLen)
	}
	per := 1
	switch {
	case s.mode == "linear" && !s.antialias:
		per = 2
	case s.mode == "cubic" && !s.antialias:
		per = 4
	}
	t := newTaps(outLen, per)
	one := []float64{1}
	extrapolate := s.ctm == "tf_crop_and_resize"
	last := float32(inLen - 1)
	for i := 0; i < outLen; i++ {
		c := s.coord(i, scale, outLen, inLen, roiStart, roiEnd, fromScales)
		if extrapolate && (c < 0 || c > last) {
			t.ext[i] = true
		}
		switch {
		case s.mode == "nearest":
			j := s.nearestIndex(c, scale < 1)
			j = min(max(j, 0), int64(inLen-1))
			t.add([]int{int(j)}, one)
		case s.antialias:
			t.add(s.aaTaps(i, c, inLen, scale))
		case s.mode == "linear":
			v := max(0, min(c, last))
			i1 := min(int(v), inLen-1)
			i2 := min(i1+1, inLen-1)
			d1, d2 := float32(math.Abs(float64(v-float32(i1)))), float32(math.Abs(float64(v-float32(i2))))
			if i1 == i2 {
				d1, d2 = 0.5, 0.5
			}
			t.add([]int{i1, i2}, []float64{float64(d2), float64(d1)})
		default: // cubic
			fl := float32(math.Floor(float64(c)))
			xi := int(fl)
			co := cubicCoeffs(c-fl, s.cubicA)
			sum := float32(1)
			if s.exclude {
				sum = 0
				for k := range co {
					if p := xi - 1 + k; p < 0 || p >= inLen {
						co[k] = 0
					}
					sum += co[k]
				}
			}
			idx, w := make([]int, 4), make([]float64, 4)
			for k := range co {
				idx[k] = min(max(xi-1+k, 0), inLen-1)
				w[k] = float64(co[k] / sum)
			}
			t.add(idx, w)
		}
	}
	return t
}

// aaTaps is one output position's antialiasing window (ONNX Runtime's
// SetupUpsampleFilterAA): the filter stretched by 1/scale when the axis
// shrinks, normalized; with exclude_outside the window is cut at the
// edges, else the weights outside fall on the edge elements.
func (s *resizeSpec) aaTaps(i int, c float32, inLen int, rscale float32) ([]int, []float64) {
	support := float32(1) // half the filter's support: 1 linear, 2 cubic
	if s.mode == "cubic" {
		support = 2
	}
	scale := 1 / rscale
	inv := float32(1)
	if scale >= 1 {
		support *= scale
		inv = 1 / scale
	}
	center := 0.5 + c
	lo := int(math.Floor(float64(center-support) + 0.5))
	hi := int(math.Floor(float64(center+support) + 0.5))
	if s.exclude {
		lo, hi = max(lo, 0), min(hi, inLen)
	}
	var idx []int
	var w []float32
	total := float32(0)
	for x := lo; x < hi; x++ {
		v := s.aaFilter((float32(x) - center + 0.5) * inv)
		total += v
		p := min(max(x, 0), inLen-1)
		if n := len(idx); n > 0 && idx[n-1] == p {
			w[n-1] += v
			continue
		}
		idx, w = append(idx, p), append(w, v)
	}
	out := make([]float64, len(w))
	for k, v := range w {
		if total != 0 && total != 1 {
			v /= total
		}
		out[k] = float64(v)
	}
	return idx, out
}

// resizeRun computes Resize (or Upsample) of x into o.
func resizeRun(x, o *Tensor, s *resizeSpec, p *resizePlan) error {
	if !slices.Equal(p.out, o.Shape) {
		return fmt.Errorf("the output shape %v is not %v (a stale shape inference)", o.Shape, p.out)
	}
	if o.Len() == 0 {
		return nil
	}
	if slices.Equal(x.Shape, o.Shape) {
		copyData(o, x)
		return nil
	}
	r := len(x.Shape)
	taps := make([]resizeTaps, r)
	for a := 0; a < r; a++ {
		taps[a] = s.taps(x.Shape[a], o.Shape[a], p.scales[a], p.roi[a], p.roi[r+a], p.fromScales)
	}
	d := resizeDispatch[x.DType]
	if d == nil {
		return &DTypeError{Input: 0, DType: x.DType}
	}
	if s.mode == "nearest" {
		// One tap per axis: a copy by index maps (-1: the fill).
		maps := make([][]int, r)
		for a, t := range taps {
			maps[a] = make([]int, len(t.ext))
			for i := range maps[a] {
				if t.ext[i] {
					maps[a][i] = -1
				} else {
					maps[a][i] = t.idx[t.off[i]]
				}
			}
		}
		fill := NewTensor(x.DType, []int{1})
		one := NewTensor(x.DType, []int{1})
		// The fill is extrapolation_value as the kernel stores it (one
		// element resized from itself by extrapolation).
		ext := []resizeTaps{{off: []int{0, 0}, ext: []bool{true}}}
		if err := d(one, fill, s, ext); err != nil {
			return err
		}
		mapCopyT(o, x, stridesOf(x.Shape), maps, fill)
		return nil
	}
	return d(x, o, s, taps)
}

type resizeKernel func(x, o *Tensor, s *resizeSpec, taps []resizeTaps) error

var resizeDispatch = map[DType]resizeKernel{
	Float32: resizeT[float32], Float64: resizeT[float64], Float16: resizeHalf,
	Int8: resizeT[int8], Int16: resizeT[int16], Int32: resizeT[int32], Int64: resizeT[int64],
	Uint8: resizeT[uint8], Uint16: resizeT[uint16], Uint32: resizeT[uint32], Uint64: resizeT[uint64],
}

func resizeHalf(x, o *Tensor, s *resizeSpec, taps []resizeTaps) error {
	xf := halfIn(x)
	of := NewTensor(Float32, o.Shape)
	if err := resizeT[float32](xf, of, s, taps); err != nil {
		return err
	}
	h := Data[Half](o)
	for i, v := range of.F {
		h[i] = F16(v)
	}
	return nil
}

// resizeStore converts a weighted sum to T: floats as is; integers as ONNX
// Runtime's kernels do (truncation toward zero, saturated to T's range),
// or, antialiased, rounded half away from zero and saturated.
func resizeStore[T Number](v float64, round bool) T {
	var z T
	switch any(z).(type) {
	case float32, float64:
		return T(v)
	}
	if math.IsNaN(v) {
		return 0
	}
	if round {
		v = math.Round(v)
	} else {
		v = math.Trunc(v)
	}
	lo, hi := intRange[T]()
	return T(min(max(v, lo), hi))
}

func intRange[T Number]() (float64, float64) {
	var z T
	switch any(z).(type) {
	case int8:
		return math.MinInt8, math.MaxInt8
	case int16:
		return math.MinInt16, math.MaxInt16
	case int32:
		return math.MinInt32, math.MaxInt32
	case int64:
		return math.MinInt64, 9.223372036854775e18
	case uint8:
		return 0, math.MaxUint8
	case uint16:
		return 0, math.MaxUint16
	case uint32:
		return 0, math.MaxUint32
	}
	return 0, 1.8446744073709550e19
}

// resizeT is the kernel: without antialias one weighted sum per output
// element over the product of the axes' taps; with antialias one pass per
// resized axis, innermost first, storing T between passes (ONNX Runtime's
// separable antialiasing filter).
func resizeT[T Number](x, o *Tensor, s *resizeSpec, taps []resizeTaps) error {
	xv, ov := Data[T](x), Data[T](o)
	fill := resizeStore[T](float64(s.extrap), false)
	if !s.antialias {
		resizeSum(xv, ov, x.Shape, o.Shape, taps, fill, false, s.mode == "cubic")
		return nil
	}
	// Antialias: resize axis by axis (innermost first) on a shape that
	// moves from x's to o's; extrapolation is applied at the end.
	cur, shape := xv, slices.Clone(x.Shape)
	r := len(shape)
	for a := r - 1; a >= 0; a-- {
		if shape[a] == o.Shape[a] && isIdentity(taps[a]) {
			continue
		}
		next := slices.Clone(shape)
		next[a] = o.Shape[a]
		one := make([]resizeTaps, r)
		for b := range one {
			if b == a {
				one[b] = taps[a]
				one[b].ext = make([]bool, len(taps[a].ext))
			} else {
				one[b] = identityTaps(shape[b])
			}
		}
		var dst []T
		if slices.Equal(next, o.Shape) && a == 0 {
			dst = ov
		} else {
			dst = make([]T, Size(next))
		}
		if !aaFixed8(cur, dst, shape, next, a, taps[a]) {
			resizeSum(cur, dst, shape, next, one, fill, true, false)
		}
		cur, shape = dst, next
	}
	if &cur[0] != &ov[0] {
		copy(ov, cur)
	}
	// extrapolation
	if slices.ContainsFunc(taps, func(t resizeTaps) bool { return slices.Contains(t.ext, true) }) {
		ext := make([]resizeTaps, r)
		for a := range ext {
			ext[a] = resizeTaps{ext: taps[a].ext}
		}
		forEachIndex(o.Shape, func(i int, pos []int) {
			for a, p := range pos {
				if ext[a].ext[p] {
					ov[i] = fill
					return
				}
			}
		})
	}
	return nil
}

// aaFixed8 is one antialiasing pass along axis a for 8-bit data in ONNX
// Runtime's fixed point (after Pillow): weights rounded to multiples of
// 2^-22, an int32 sum from 2^21 (one half), shifted down and clamped. It
// reports false for other element types.
func aaFixed8[T Number](src, dst []T, inShape, outShape []int, a int, t resizeTaps) bool {
	var z T
	lo, hi := int32(0), int32(255)
	switch any(z).(type) {
	case uint8:
	case int8:
		lo, hi = -128, 127
	default:
		return false
	}
	w := make([]int32, len(t.w))
	for k, v := range t.w {
		f := float32(v) * (1 << 22)
		if f < 0 {
			w[k] = int32(-0.5 + f)
		} else {
			w[k] = int32(0.5 + f)
		}
	}
	outer, inner := Size(inShape[:a]), Size(inShape[a+1:])
	n, m := inShape[a], outShape[a]
	for o := 0; o < outer; o++ {
		for j := 0; j < m; j++ {
			idx, wj := t.idx[t.off[j]:t.off[j+1]], w[t.off[j]:t.off[j+1]]
			for i := 0; i < inner; i++ {
				acc := int32(1 << 21)
				for k, p := range idx {
					acc += int32(src[(o*n+p)*inner+i]) * wj[k]
				}
				dst[(o*m+j)*inner+i] = T(min(max(acc>>22, lo), hi))
			}
		}
	}
	return true
}

func isIdentity(t resizeTaps) bool {
	for i := range t.ext {
		idx, w := t.at(i)
		if len(idx) != 1 || idx[0] != i || w[0] != 1 || t.ext[i] {
			return false
		}
	}
	return true
}

func identityTaps(n int) resizeTaps {
	t := resizeTaps{off: make([]int, n+1), idx: make([]int, n), w: make([]float64, n), ext: make([]bool, n)}
	for i := range t.idx {
		t.off[i+1], t.idx[i], t.w[i] = i+1, i, 1
	}
	return t
}

// forEachIndex calls f with each flat index of shape and its position.
func forEachIndex(shape []int, f func(i int, pos []int)) {
	n := Size(shape)
	pos := make([]int, len(shape))
	for i := 0; i < n; i++ {
		f(i, pos)
		for a := len(shape) - 1; a >= 0; a-- {
			pos[a]++
			if pos[a] < shape[a] {
				break
			}
			pos[a] = 0
		}
	}
}

// resizeSum writes dst[o] = sum over the taps' product of src, for each
// output position o, in the arithmetic ONNX Runtime uses: float32 (float64
// for float64 data); linear sums products of the per-axis weights, cubic
// (nested) interpolates along the innermost axis first.
func resizeSum[T Number](src, dst []T, inShape, outShape []int, taps []resizeTaps, fill T, round, nested bool) {
	var z T
	if _, ok := any(z).(float64); ok {
		resizeSumAcc[T, float64](src, dst, inShape, outShape, taps, fill, round, nested)
		return
	}
	resizeSumAcc[T, float32](src, dst, inShape, outShape, taps, fill, round, nested)
}

func resizeSumAcc[T Number, A Float](src, dst []T, inShape, outShape []int, taps []resizeTaps, fill T, round, nested bool) {
	r := len(inShape)
	st := stridesOf(inShape)
	// Linear: one running sum of weight products times elements, in
	// order (ONNX Runtime's X11, X21, X12, X22); nested: each axis sums
	// the interpolations along the axes inside it.
	var acc A
	var flat func(a int, pos []int, off int, w A)
	flat = func(a int, pos []int, off int, w A) {
		if a == r {
			acc += w * A(src[off])
			return
		}
		idx, ws := taps[a].at(pos[a])
		for k, j := range idx {
			flat(a+1, pos, off+j*st[a], w*A(ws[k]))
		}
	}
	var rec func(a int, pos []int, off int) A
	rec = func(a int, pos []int, off int) A {
		if a == r {
			return A(src[off])
		}
		idx, ws := taps[a].at(pos[a])
		var sum A
		for k, j := range idx {
			sum += rec(a+1, pos, off+j*st[a]) * A(ws[k])
		}
		return sum
	}
	value := func(pos []int) A {
		if nested {
			return rec(0, pos, 0)
		}
		acc = 0
		flat(0, pos, 0, 1)
		return acc
	}
	forEachIndex(outShape, func(i int, pos []int) {
		for a, p := range pos {
			if taps[a].ext[p] {
				dst[i] = fill
				return
			}
		}
		dst[i] = resizeStore[T](float64(value(pos)), round)
	})
}

// ---------- Resize ----------

var resizeDef *OpDef

func init() {
	resizeDef = Register(&OpDef{
		Type: "Resize", Since: 19,
		// 13 makes roi and scales optional; 18 adds antialias, axes and
		// keep_aspect_ratio_policy, 19 half_pixel_symmetric: each only
		// adds to what the previous accepts. The importer upgrades
		// Resize-10 and Resize-11 (whose tf_half_pixel_for_nn odmn
		// keeps where half_pixel cannot express it).
		Compat:    []int{13, 18},
		MinInputs: 1, MaxInputs: 4,
		Types:           AllNumeric,
		ShapeFromValues: true, // scales are float
		Attrs: []AttrSpec{
			{Name: "antialias", Type: AttrInt, Default: int64(0)},
			{Name: "axes", Type: AttrInts},
			{Name: "coordinate_transformation_mode", Type: AttrString, Default: "half_pixel"},
			{Name: "cubic_coeff_a", Type: AttrFloat, Default: float32(-0.75)},
			{Name: "exclude_outside", Type: AttrInt, Default: int64(0)},
			{Name: "extrapolation_value", Type: AttrFloat, Default: float32(0)},
			{Name: "keep_aspect_ratio_policy", Type: AttrString, Default: "stretch"},
			{Name: "mode", Type: AttrString, Default: "nearest"},
			{Name: "nearest_mode", Type: AttrString, Default: "round_prefer_floor"},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			s, err := resizeSpecOf(a)
			if err != nil {
				return nil, err
			}
			return resizeInfer(in, s, 2)
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			s, err := resizeSpecOf(a)
			if err != nil {
				return err
			}
			return resizeKernelRun(in, out, s, 2)
		},
		ExportCheck: func(op *Op) error {
			if op.Attrs["coordinate_transformation_mode"] == "tf_half_pixel_for_nn" {
				return fmt.Errorf("Resize: coordinate_transformation_mode tf_half_pixel_for_nn exists only in Resize-11 and cannot be written: %w", ErrLegacyForm)
			}
			if op.Attrs["nearest_mode"] == "simple" {
				return fmt.Errorf("Resize: Resize-10's nearest rounding (nearest_mode simple) cannot be written in a later version: %w", ErrLegacyForm)
			}
			return nil
		},
	})
}

// resizeKernelRun reads the inputs' values and runs the resize.
func resizeKernelRun(in []*Tensor, out []*Tensor, s *resizeSpec, scalesAt int) error {
	metas := make([]Meta, len(in))
	for i, t := range in {
		if t != nil {
			metas[i] = Meta{DType: t.DType, Shape: t.Shape, Value: t}
		}
	}
	ra, err := resizeArgsOf(metas, scalesAt)
	if err != nil {
		return err
	}
	x := in[0]
	if len(x.Shape) == 0 {
		return errors.New("X must have rank at least 1, got a scalar")
	}
	if s.ctm != "tf_crop_and_resize" {
		ra.roi = nil
	}
	p, err := s.plan(x.Shape, ra.scales, ra.sizes, ra.roi)
	if err != nil {
		return err
	}
	return resizeRun(x, out[0], s, p)
}

// Resize resizes x by scales (float32, one per axis of x or per entry of
// axes) or to sizes (int64); give one and pass nil for the other. roi is
// used with coordinate_transformation_mode tf_crop_and_resize (nil
// otherwise). attrs are Resize-19's (mode, coordinate_transformation_mode,
// nearest_mode, cubic_coeff_a, exclude_outside, antialias, axes,
// keep_aspect_ratio_policy, extrapolation_value); nil takes the defaults.
func Resize(x, roi, scales, sizes *Node, attrs Attrs) *Node {
	args := []*Node{x, roi, scales, sizes}
	for len(args) > 1 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	return Apply1(resizeDef, attrs, args...)
}

// ---------- Upsample ----------

var upsampleDef *OpDef

func init() {
	upsampleDef = Register(&OpDef{
		Type: "Upsample", Since: 9,
		// 7 takes scales as an attribute (the importer makes it an
		// input); 10 deprecates the op (Resize replaces it).
		MinInputs: 2, MaxInputs: 2,
		Types:           AllNumeric,
		ShapeFromValues: true,
		Attrs:           []AttrSpec{{Name: "mode", Type: AttrString, Default: "nearest"}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			s, err := upsampleSpec(a)
			if err != nil {
				return nil, err
			}
			return resizeInfer(in, s, 1)
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			s, err := upsampleSpec(a)
			if err != nil {
				return err
			}
			return resizeKernelRun(in, out, s, 1)
		},
		ExportCheck: func(*Op) error {
			return fmt.Errorf("Upsample exists only up to opset 9 (deprecated in 10) and odmn writes later opsets; use Resize: %w", ErrLegacyForm)
		},
	})
}

// upsampleSpec is Upsample as a Resize: asymmetric coordinates, nearest
// rounding down (ONNX Runtime's), scales >= 1.
func upsampleSpec(a Attrs) (*resizeSpec, error) {
	m := a.String("mode")
	if m == "bilinear" {
		m = "linear"
	}
	if m != "nearest" && m != "linear" {
		return nil, fmt.Errorf("mode %q is not nearest or linear", a.String("mode"))
	}
	return &resizeSpec{mode: m, ctm: "asymmetric", nearest: "simple", cubicA: -0.75, policy: "stretch", upsample: true}, nil
}

// Upsample is the deprecated Upsample-9 (scales: float32, one per axis,
// each >= 1; mode nearest or linear). New graphs use Resize.
func Upsample(x, scales *Node, mode string) *Node {
	return Apply1(upsampleDef, Attrs{"mode": mode}, x, scales)
}
