package graph

import (
	"errors"
	"fmt"
	"math"
)

// The ai.onnx.ml preprocessing and linear-model operators that
// scikit-learn converters emit: Scaler, Normalizer, Imputer, Binarizer,
// OneHotEncoder, ArrayFeatureExtractor, CategoryMapper, LinearRegressor
// and LinearClassifier. Semantics follow the ai.onnx.ml specification and,
// where it is silent, ONNX Runtime's CPU kernels:
//
//   - Scaler computes (x - offset) * scale in float64 for float64 input,
//     in float32 otherwise; offset and scale have one value or one per
//     feature (the last axis).
//   - Normalizer works per row of [N, C] (or on [C]); a zero divisor
//     leaves the row as is; L2 keeps the sign of x.
//   - Linear models cast the input to float32 (as ONNX Runtime does) and
//     sum in float32. LinearClassifier's label is the first class with the
//     largest score; a single score column with two labels gives the
//     scores [1-s, s] and the label of s > 0. post_transform LOGISTIC,
//     SOFTMAX, SOFTMAX_ZERO and PROBIT apply to two or more columns
//     (PROBIT with ONNX Runtime's approximate inverse erf); on a single
//     column only NONE is taken, because ONNX Runtime ignores the transform
//     there and odmn will not silently disagree with it or the spec.

// mlNumeric is the input element types of the ai.onnx.ml numeric ops.
var mlNumeric = []DType{Float32, Float64, Int64, Int32}

// mlNumericDispatch instantiates k for the four ai.onnx.ml input dtypes.
func mlNumericDispatch(k32 Kernel, k64 Kernel, ki64 Kernel, ki32 Kernel) Kernel {
	return Dispatch{Float32: k32, Float64: k64, Int64: ki64, Int32: ki32}.On(0)
}

// featureStride is the length of the last axis (1 for a scalar).
func featureStride(shape []int) int {
	if len(shape) == 0 {
		return 1
	}
	return shape[len(shape)-1]
}

// perFeature checks a list that holds one value or one per feature.
func perFeature(name string, n int, shape []int) error {
	f := featureStride(shape)
	if n != 1 && f >= 0 && n != f {
		return fmt.Errorf("%s has %d values; want 1 or one per feature (%d)", name, n, f)
	}
	return nil
}

func isF64[T Number]() bool { var z T; _, ok := any(z).(float64); return ok }

// ---------- Scaler ----------

func init() {
	Register(&OpDef{
		Type: "Scaler", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1,
		Types: mlNumeric,
		Attrs: []AttrSpec{{Name: "offset", Type: AttrFloats}, {Name: "scale", Type: AttrFloats}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			off, sc := scalerParams(a)
			if len(off) != len(sc) && len(off) != 1 && len(sc) != 1 {
				return nil, fmt.Errorf("offset has %d values and scale %d", len(off), len(sc))
			}
			if err := perFeature("offset", len(off), in[0].Shape); err != nil {
				return nil, err
			}
			if err := perFeature("scale", len(sc), in[0].Shape); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: in[0].Shape}}, nil
		},
		Kernel: mlNumericDispatch(scalerK[float32], scalerK[float64], scalerK[int64], scalerK[int32]),
	})
}

func scalerParams(a Attrs) (off, sc []float32) {
	off, sc = []float32{0}, []float32{1}
	if a.Has("offset") {
		off = a.Floats("offset")
	}
	if a.Has("scale") {
		sc = a.Floats("scale")
	}
	return off, sc
}

func scalerK[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	x, y := Data[T](in[0]), out[0].F
	off, sc := scalerParams(a)
	f := featureStride(in[0].Shape)
	at := func(v []float32, i int) float32 {
		if len(v) == 1 {
			return v[0]
		}
		return v[i%f]
	}
	wide := isF64[T]()
	for i, v := range x {
		if wide {
			y[i] = float32((float64(v) - float64(at(off, i))) * float64(at(sc, i)))
		} else {
			y[i] = (float32(v) - at(off, i)) * at(sc, i)
		}
	}
	return nil
}

// ---------- Normalizer ----------

func init() {
	Register(&OpDef{
		Type: "Normalizer", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1,
		Types: mlNumeric,
		Attrs: []AttrSpec{{Name: "norm", Type: AttrString, Default: "MAX"}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if r := len(in[0].Shape); r < 1 || r > 2 {
				return nil, fmt.Errorf("X must be [N, C] or [C], got shape %v", in[0].Shape)
			}
			switch a.String("norm") {
			case "MAX", "L1", "L2":
			default:
				return nil, fmt.Errorf("norm %q is not one of MAX, L1, L2", a.String("norm"))
			}
			return []Meta{{DType: Float32, Shape: in[0].Shape}}, nil
		},
		Kernel: mlNumericDispatch(normalizerK[float32], normalizerK[float64], normalizerK[int64], normalizerK[int32]),
	})
}

func normalizerK[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	x, y := Data[T](in[0]), out[0].F
	c := featureStride(in[0].Shape)
	norm := a.String("norm")
	for r := 0; r+c <= len(x) && c > 0; r += c {
		row, o := x[r:r+c], y[r:r+c]
		var d float32
		switch norm {
		case "MAX":
			d = -math.MaxFloat32
			for _, v := range row {
				d = max(d, float32(v))
			}
		case "L1":
			for _, v := range row {
				if v < 0 {
					v = -v
				}
				d += float32(v)
			}
		case "L2":
			for i, v := range row {
				o[i] = float32(v * v)
				d += o[i]
			}
		}
		switch {
		case d == 0:
			for i, v := range row {
				o[i] = float32(v)
			}
		case norm == "L2":
			for i, v := range row {
				s := float32(math.Sqrt(float64(o[i] / d)))
				if v < 0 {
					s = -s
				}
				o[i] = s
			}
		default:
			for i, v := range row {
				o[i] = float32(v) / d
			}
		}
	}
	return nil
}

// ---------- Imputer ----------

func init() {
	Register(&OpDef{
		Type: "Imputer", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1,
		Types: mlNumeric,
		Attrs: []AttrSpec{
			{Name: "imputed_value_floats", Type: AttrFloats},
			{Name: "imputed_value_int64s", Type: AttrInts},
			{Name: "replaced_value_float", Type: AttrFloat, Default: float32(0)},
			{Name: "replaced_value_int64", Type: AttrInt, Default: int64(0)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			name, n := "imputed_value_int64s", 0
			if x.DType.IsFloat() {
				name = "imputed_value_floats"
			}
			switch {
			case !a.Has(name):
				return nil, fmt.Errorf("%s input needs %s", x.DType, name)
			case name == "imputed_value_floats":
				n = len(a.Floats(name))
			default:
				n = len(a.Ints(name))
			}
			if err := perFeature(name, n, x.Shape); err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: x.Shape}}, nil
		},
		Kernel: mlNumericDispatch(imputerFloatK[float32], imputerFloatK[float64], imputerIntK[int64], imputerIntK[int32]),
	})
}

func imputerFloatK[T Float](in []*Tensor, a Attrs, out []*Tensor) error {
	x, y := Data[T](in[0]), Data[T](out[0])
	vals := a.Floats("imputed_value_floats")
	rep := T(a.Float("replaced_value_float"))
	nan := rep != rep
	f := featureStride(in[0].Shape)
	for i, v := range x {
		if v == rep || nan && v != v {
			k := 0
			if len(vals) > 1 {
				k = i % f
			}
			v = T(vals[k])
		}
		y[i] = v
	}
	return nil
}

func imputerIntK[T int32 | int64](in []*Tensor, a Attrs, out []*Tensor) error {
	x, y := Data[T](in[0]), Data[T](out[0])
	vals := a.Ints("imputed_value_int64s")
	rep := a.Int("replaced_value_int64")
	f := featureStride(in[0].Shape)
	for i, v := range x {
		if int64(v) == rep {
			k := 0
			if len(vals) > 1 {
				k = i % f
			}
			v = T(vals[k])
		}
		y[i] = v
	}
	return nil
}

// ---------- Binarizer ----------

func init() {
	Register(&OpDef{
		Type: "Binarizer", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1,
		Types: mlNumeric,
		Attrs: []AttrSpec{{Name: "threshold", Type: AttrFloat, Default: float32(0)}},
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			return []Meta{{DType: in[0].DType, Shape: in[0].Shape}}, nil
		},
		Kernel: mlNumericDispatch(binarizerK[float32], binarizerK[float64], binarizerK[int64], binarizerK[int32]),
	})
}

// binarizerK maps x > threshold to 1 and everything else (NaN included)
// to 0; floats compare in their own type, integers in float64.
func binarizerK[T Number](in []*Tensor, a Attrs, out []*Tensor) error {
	x, y := Data[T](in[0]), Data[T](out[0])
	th := a.Float("threshold")
	f32 := DTypeOf[T]() == Float32
	for i, v := range x {
		gt := float64(v) > float64(th)
		if f32 {
			gt = float32(v) > th
		}
		y[i] = 0
		if gt {
			y[i] = 1
		}
	}
	return nil
}

// ---------- OneHotEncoder ----------

func init() {
	Register(&OpDef{
		Type: "OneHotEncoder", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1,
		Types: mlNumeric, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "cats_int64s", Type: AttrInts},
			{Name: "cats_strings", Type: AttrStrings},
			{Name: "zeros", Type: AttrInt, Default: int64(1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			n := 0
			switch {
			case a.Has("cats_int64s") == a.Has("cats_strings"):
				return nil, errors.New("exactly one of cats_int64s and cats_strings must be given")
			case x.DType == String && !a.Has("cats_strings"):
				return nil, errors.New("string input needs cats_strings")
			case x.DType != String && !a.Has("cats_int64s"):
				return nil, fmt.Errorf("%s input needs cats_int64s", x.DType)
			case x.DType == String:
				n = len(a.Strings("cats_strings"))
			default:
				n = len(a.Ints("cats_int64s"))
			}
			out := append(append([]int{}, x.Shape...), n)
			if err := checkShape(out); err != nil {
				return nil, err
			}
			return []Meta{{DType: Float32, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, y := in[0], out[0].F
			zeros := a.Int("zeros") != 0
			clear(y)
			if x.DType == String {
				cats := a.Strings("cats_strings")
				pos := make(map[string]int, len(cats))
				for i := len(cats) - 1; i >= 0; i-- {
					pos[cats[i]] = i
				}
				for i, s := range x.S {
					k, ok := pos[s]
					if !ok {
						if !zeros {
							return fmt.Errorf("category %q is not in cats_strings (zeros=0)", s)
						}
						continue
					}
					y[i*len(cats)+k] = 1
				}
				return nil
			}
			cats := a.Ints("cats_int64s")
			pos := make(map[int64]int, len(cats))
			for i := len(cats) - 1; i >= 0; i-- {
				pos[cats[i]] = i
			}
			for i := 0; i < x.Len(); i++ {
				v := x.Int(i) // floats truncate, as a cast to int64
				k, ok := pos[v]
				if !ok {
					if !zeros {
						return fmt.Errorf("category %d is not in cats_int64s (zeros=0)", v)
					}
					continue
				}
				y[i*len(cats)+k] = 1
			}
			return nil
		},
	})
}

// ---------- ArrayFeatureExtractor ----------

func init() {
	Register(&OpDef{
		Type: "ArrayFeatureExtractor", Domain: MLDomain, Since: 1,
		MinInputs: 2, MaxInputs: 2,
		Types: mlNumeric, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			x, idx := in[0], in[1]
			if idx.DType != Int64 {
				return nil, fmt.Errorf("indices must be int64, got %s", idx.DType)
			}
			if len(x.Shape) == 0 {
				return nil, errors.New("X must have rank at least 1")
			}
			k := prodDims(idx.Shape)
			if len(x.Shape) == 1 {
				return []Meta{{DType: x.DType, Shape: []int{1, k}}}, nil
			}
			out := append(append([]int{}, x.Shape[:len(x.Shape)-1]...), k)
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			x, idx := in[0], in[1].I
			f := x.Shape[len(x.Shape)-1]
			if err := checkIndices(idx, f, len(x.Shape)-1); err != nil {
				return err
			}
			for _, k := range idx {
				if k < 0 {
					return fmt.Errorf("index %d is negative", k)
				}
			}
			rows := x.Len() / max(f, 1)
			if f == 0 {
				rows = 0
			}
			iv := make([]int64, len(idx))
			copy(iv, idx)
			switch {
			case x.DType == String:
				gatherT(out[0].S, x.S, iv, rows, f, 1)
			case x.DType.ElemSize() == 4:
				gatherT(raw[uint32](out[0]), raw[uint32](x), iv, rows, f, 1)
			case x.DType.ElemSize() == 8:
				gatherT(raw[uint64](out[0]), raw[uint64](x), iv, rows, f, 1)
			}
			return nil
		},
	})
}

// ---------- CategoryMapper ----------

func init() {
	Register(&OpDef{
		Type: "CategoryMapper", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1,
		Types: []DType{Int64}, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "cats_int64s", Type: AttrInts},
			{Name: "cats_strings", Type: AttrStrings},
			{Name: "default_int64", Type: AttrInt, Default: int64(-1)},
			{Name: "default_string", Type: AttrString, Default: "_Unused"},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if !a.Has("cats_int64s") || !a.Has("cats_strings") || len(a.Ints("cats_int64s")) != len(a.Strings("cats_strings")) {
				return nil, errors.New("cats_int64s and cats_strings must be given with the same length")
			}
			dt := String
			if in[0].DType == String {
				dt = Int64
			}
			return []Meta{{DType: dt, Shape: in[0].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			ints, strs := a.Ints("cats_int64s"), a.Strings("cats_strings")
			if in[0].DType == String {
				mapFirst(strs, ints, a.Int("default_int64"), in[0].S, out[0].I)
			} else {
				mapFirst(ints, strs, a.String("default_string"), in[0].I, out[0].S)
			}
			return nil
		},
	})
}

// ---------- linear models ----------

// linearScores computes x (cast to float32, [N, F] or [F]) times coef
// ([targets, F]) transposed plus intercepts (nil: none) into y.
func linearScores(x *Tensor, coef, icpt []float32, targets int, y []float32) error {
	f := featureStride(x.Shape)
	if len(coef) != targets*f {
		return fmt.Errorf("coefficients has %d values; want %d (%d targets x %d features)", len(coef), targets*f, targets, f)
	}
	n := 1
	if len(x.Shape) == 2 {
		n = x.Shape[0]
	}
	row := make([]float32, f)
	for r := 0; r < n; r++ {
		for j := range row {
			row[j] = float32(x.Float(r*f + j))
		}
		if x.DType == Float32 {
			copy(row, x.F[r*f:(r+1)*f])
		}
		for t := 0; t < targets; t++ {
			var s float32
			for j, w := range coef[t*f : (t+1)*f] {
				s += row[j] * w
			}
			if icpt != nil {
				s += icpt[t]
			}
			y[r*targets+t] = s
		}
	}
	return nil
}

func checkTransform(pt string, cols int) error {
	switch pt {
	case "NONE":
		return nil
	case "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT":
		if cols < 2 {
			return unsupportedf("post_transform %s on a single score column (ONNX Runtime ignores it, the specification applies it)", pt)
		}
		return nil
	}
	return fmt.Errorf("post_transform %q is not one of NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO, PROBIT", pt)
}

// applyTransform transforms each row of cols scores in place, as ONNX
// Runtime's ml kernels do (in float32).
func applyTransform(pt string, y []float32, cols int) {
	for r := 0; r+cols <= len(y); r += cols {
		s := y[r : r+cols]
		switch pt {
		case "LOGISTIC":
			for i, v := range s {
				s[i] = logistic32(v)
			}
		case "PROBIT":
			for i, v := range s {
				s[i] = probit32(v)
			}
		case "SOFTMAX":
			m := float32(-math.MaxFloat32)
			for _, v := range s {
				m = max(m, v)
			}
			var sum float32
			for i, v := range s {
				s[i] = float32(math.Exp(float64(v - m)))
				sum += s[i]
			}
			for i := range s {
				s[i] /= sum
			}
		case "SOFTMAX_ZERO":
			m := float32(-math.MaxFloat32)
			for _, v := range s {
				m = max(m, v)
			}
			expNeg := float32(math.Exp(float64(-m)))
			var sum float32
			for i, v := range s {
				if v > 1e-7 || v < -1e-7 {
					s[i] = float32(math.Exp(float64(v - m)))
					sum += s[i]
				} else {
					s[i] = v * expNeg
				}
			}
			for i := range s {
				s[i] /= sum
			}
		}
	}
}

// probit32 is sqrt(2) * erfinv(2p - 1) with the approximate inverse erf
// ONNX Runtime uses (Winitzki's formula, a = 0.147), in float32.
func probit32(p float32) float32 {
	x := 2*p - 1
	sgn := float32(1)
	if x < 0 {
		sgn = -1
	}
	x = (1 - x) * (1 + x)
	lg := float32(math.Log(float64(x)))
	v := 2/(3.14159*0.147) + 0.5*lg
	v2 := 1 / float32(0.147) * lg
	v3 := -v + float32(math.Sqrt(float64(v*v-v2)))
	return float32(math.Sqrt2) * sgn * float32(math.Sqrt(float64(v3)))
}

func init() {
	Register(&OpDef{
		Type: "LinearRegressor", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1,
		Types: mlNumeric,
		Attrs: []AttrSpec{
			{Name: "coefficients", Type: AttrFloats},
			{Name: "intercepts", Type: AttrFloats},
			{Name: "post_transform", Type: AttrString, Default: "NONE"},
			{Name: "targets", Type: AttrInt, Default: int64(1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if r := len(x.Shape); r < 1 || r > 2 {
				return nil, fmt.Errorf("X must be [N, F] or [F], got shape %v", x.Shape)
			}
			t := a.Int("targets")
			if t < 1 || t > 1<<20 {
				return nil, fmt.Errorf("targets %d out of range", t)
			}
			if !a.Has("coefficients") {
				return nil, errors.New("coefficients are missing")
			}
			if f := featureStride(x.Shape); f >= 0 && len(a.Floats("coefficients")) != int(t)*f {
				return nil, fmt.Errorf("coefficients has %d values; want %d (%d targets x %d features)", len(a.Floats("coefficients")), int(t)*f, t, f)
			}
			if a.Has("intercepts") && len(a.Floats("intercepts")) != int(t) {
				return nil, fmt.Errorf("intercepts has %d values for %d targets", len(a.Floats("intercepts")), t)
			}
			if err := checkTransform(a.String("post_transform"), int(t)); err != nil {
				return nil, err
			}
			n := 1
			if len(x.Shape) == 2 {
				n = x.Shape[0]
			}
			return []Meta{{DType: Float32, Shape: []int{n, int(t)}}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			t := int(a.Int("targets"))
			var icpt []float32
			if a.Has("intercepts") {
				icpt = a.Floats("intercepts")
			}
			if err := linearScores(in[0], a.Floats("coefficients"), icpt, t, out[0].F); err != nil {
				return err
			}
			applyTransform(a.String("post_transform"), out[0].F, t)
			return nil
		},
	})
}

func init() {
	Register(&OpDef{
		Type: "LinearClassifier", Domain: MLDomain, Since: 1,
		MinInputs: 1, MaxInputs: 1, Outputs: 2,
		NoFold: true, // two outputs: see Split
		Types:  mlNumeric,
		Attrs: []AttrSpec{
			{Name: "classlabels_ints", Type: AttrInts},
			{Name: "classlabels_strings", Type: AttrStrings},
			{Name: "coefficients", Type: AttrFloats, Required: true},
			{Name: "intercepts", Type: AttrFloats},
			{Name: "multi_class", Type: AttrInt, Default: int64(0)},
			{Name: "post_transform", Type: AttrString, Default: "NONE"},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if r := len(x.Shape); r < 1 || r > 2 {
				return nil, fmt.Errorf("X must be [N, F] or [F], got shape %v", x.Shape)
			}
			lc, err := linearClassifierLayout(a)
			if err != nil {
				return nil, err
			}
			if f := featureStride(x.Shape); f >= 0 && len(a.Floats("coefficients")) != lc.targets*f {
				return nil, fmt.Errorf("coefficients has %d values; want %d (%d classes x %d features)", len(a.Floats("coefficients")), lc.targets*f, lc.targets, f)
			}
			n := 1
			if len(x.Shape) == 2 {
				n = x.Shape[0]
			}
			return []Meta{{DType: lc.labelType, Shape: []int{n}}, {DType: Float32, Shape: []int{n, lc.cols}}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			lc, err := linearClassifierLayout(a)
			if err != nil {
				return err
			}
			n := out[0].Shape[0]
			scores := out[1].F
			if lc.cols != lc.targets {
				scores = make([]float32, n*lc.targets)
			}
			if err := linearScores(in[0], a.Floats("coefficients"), a.Floats("intercepts"), lc.targets, scores); err != nil {
				return err
			}
			for r := 0; r < n; r++ {
				best := 0
				if lc.targets == 1 {
					if scores[r] > 0 {
						best = 1
					}
				} else {
					s := scores[r*lc.targets : (r+1)*lc.targets]
					for j, v := range s {
						if v > s[best] {
							best = j
						}
					}
				}
				if lc.labelType == String {
					out[0].S[r] = lc.strLabel(best)
				} else {
					out[0].I[r] = lc.intLabel(best)
				}
			}
			if lc.cols != lc.targets { // one score s -> [1-s, s]
				for r, s := range scores {
					out[1].F[2*r], out[1].F[2*r+1] = 1-s, s
				}
				return nil
			}
			applyTransform(a.String("post_transform"), out[1].F, lc.cols)
			return nil
		},
	})
}

type linearLayout struct {
	targets, cols int // score columns computed and written
	labelType     DType
	ints          []int64
	strs          []string
}

func (l *linearLayout) intLabel(k int) int64 {
	if len(l.ints) == 0 || l.targets == 1 && len(l.ints) != 2 {
		return int64(k)
	}
	return l.ints[k]
}

func (l *linearLayout) strLabel(k int) string {
	if l.targets == 1 && len(l.strs) != 2 {
		return fmt.Sprint(k)
	}
	return l.strs[k]
}

// linearClassifierLayout reads the class count off intercepts (as ONNX
// Runtime does) and checks the labels against it.
func linearClassifierLayout(a Attrs) (*linearLayout, error) {
	l := &linearLayout{labelType: Int64}
	switch {
	case a.Has("classlabels_ints") && a.Has("classlabels_strings"):
		return nil, errors.New("give classlabels_ints or classlabels_strings, not both")
	case a.Has("classlabels_strings"):
		l.labelType, l.strs = String, a.Strings("classlabels_strings")
	case a.Has("classlabels_ints"):
		l.ints = a.Ints("classlabels_ints")
	default:
		return nil, errors.New("classlabels_ints or classlabels_strings is required")
	}
	if !a.Has("intercepts") || len(a.Floats("intercepts")) == 0 {
		return nil, errors.New("intercepts are required (one per class)")
	}
	l.targets = len(a.Floats("intercepts"))
	labels := max(len(l.ints), len(l.strs))
	l.cols = l.targets
	if l.targets == 1 {
		if labels == 2 {
			l.cols = 2
		}
	} else if labels != l.targets {
		return nil, fmt.Errorf("%d class labels for %d classes", labels, l.targets)
	}
	if err := checkTransform(a.String("post_transform"), l.targets); err != nil {
		return nil, err
	}
	return l, nil
}

// mapFirst maps each element of in through keys -> vals (the first of
// duplicate keys wins, as ONNX Runtime builds its table), def where a key
// is absent: CategoryMapper in both directions.
func mapFirst[K comparable, V any](keys []K, vals []V, def V, in []K, out []V) {
	m := make(map[K]V, len(keys))
	for i, k := range keys {
		if _, dup := m[k]; !dup {
			m[k] = vals[i]
		}
	}
	for i, k := range in {
		v, ok := m[k]
		if !ok {
			v = def
		}
		out[i] = v
	}
}
