package graph

import (
	"fmt"
	"math"
)

// Generic elementwise kernels for every numeric element type, and the
// elementwise ops added on top of odmn's own (Abs, Sign, Ceil, Floor,
// Round, Reciprocal, Pow, Mod, Not, And, Or, Xor, BitShift, IsNaN, IsInf,
// Sum, Mean).
//
// An op's arithmetic is written once per width class: floats compute in
// float64 and round to the element type (float16 through float32), which
// for +, -, *, / and sqrt gives the correctly rounded float32 result;
// signed integers compute in int64 and unsigned ones in uint64, narrowed
// afterwards, which for +, -, * and shifts is the element type's own
// wrap-around arithmetic. The float32 hot paths (Add, Sub, Mul, Div, Relu,
// Sigmoid, Exp, ...) keep their dedicated kernels; other types come here.

// numFns is one unary function per width class; a nil entry means the op
// does not take that class.
type numFns struct {
	f func(float64) float64
	i func(int64) int64
	u func(uint64) uint64
}

// binFns is one binary function per width class.
type binFns struct {
	f func(x, y float64) float64
	i func(x, y int64) int64
	u func(x, y uint64) uint64
}

// cmpFns is one comparison per width class (b for bool operands).
type cmpFns struct {
	f func(x, y float64) bool
	i func(x, y int64) bool
	u func(x, y uint64) bool
	b func(x, y bool) bool
	s func(x, y string) bool // Equal only (nil: strings refused)
}

func mapF[T Float](x, o []T, f func(float64) float64) {
	for i, v := range x {
		o[i] = T(f(float64(v)))
	}
}

func mapH(x, o []Half, f func(float64) float64) {
	for i, v := range x {
		o[i] = F16(float32(f(float64(v.Float32()))))
	}
}

func mapI[T int8 | int16 | int32 | int64](x, o []T, f func(int64) int64) {
	for i, v := range x {
		o[i] = T(f(int64(v)))
	}
}

func mapU[T uint8 | uint16 | uint32 | uint64](x, o []T, f func(uint64) uint64) {
	for i, v := range x {
		o[i] = T(f(uint64(v)))
	}
}

// unaryApply computes o = f(x) for x's dtype.
func unaryApply(x, o *Tensor, fs numFns) error {
	dt := x.DType
	switch {
	case dt.IsFloat() && fs.f == nil, isSigned(dt) && fs.i == nil, isUnsigned(dt) && fs.u == nil:
		return &DTypeError{Input: 0, DType: dt}
	}
	switch dt {
	case Float32:
		mapF(x.F, o.F, fs.f)
	case Float64:
		mapF(Data[float64](x), Data[float64](o), fs.f)
	case Float16:
		mapH(Data[Half](x), Data[Half](o), fs.f)
	case Int64:
		mapI(x.I, o.I, fs.i)
	case Int32:
		mapI(Data[int32](x), Data[int32](o), fs.i)
	case Int16:
		mapI(Data[int16](x), Data[int16](o), fs.i)
	case Int8:
		mapI(Data[int8](x), Data[int8](o), fs.i)
	case Uint64:
		mapU(Data[uint64](x), Data[uint64](o), fs.u)
	case Uint32:
		mapU(Data[uint32](x), Data[uint32](o), fs.u)
	case Uint16:
		mapU(Data[uint16](x), Data[uint16](o), fs.u)
	case Uint8:
		mapU(Data[uint8](x), Data[uint8](o), fs.u)
	default:
		return &DTypeError{Input: 0, DType: dt}
	}
	return nil
}

func isSigned(d DType) bool {
	return d == Int8 || d == Int16 || d == Int32 || d == Int64
}

func isUnsigned(d DType) bool {
	return d == Uint8 || d == Uint16 || d == Uint32 || d == Uint64
}

// SignedTypes and the like are OpDef.Types lists for ONNX's constraints.
var (
	SignedTypes  = []DType{Float32, Float64, Float16, Int8, Int16, Int32, Int64}
	IntegerTypes = []DType{Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64}
	UnsignedInts = []DType{Uint8, Uint16, Uint32, Uint64}
)

func binF[T Float](a []T, as []int, b []T, bs []int, o []T, os []int, f func(x, y float64) float64) {
	Binary(a, as, b, bs, o, os, func(x, y T) T { return T(f(float64(x), float64(y))) })
}

func binH(a []Half, as []int, b []Half, bs []int, o []Half, os []int, f func(x, y float64) float64) {
	Binary(a, as, b, bs, o, os, func(x, y Half) Half {
		return F16(float32(f(float64(x.Float32()), float64(y.Float32()))))
	})
}

func binI[T int8 | int16 | int32 | int64](a []T, as []int, b []T, bs []int, o []T, os []int, f func(x, y int64) int64) {
	Binary(a, as, b, bs, o, os, func(x, y T) T { return T(f(int64(x), int64(y))) })
}

func binU[T uint8 | uint16 | uint32 | uint64](a []T, as []int, b []T, bs []int, o []T, os []int, f func(x, y uint64) uint64) {
	Binary(a, as, b, bs, o, os, func(x, y T) T { return T(f(uint64(x), uint64(y))) })
}

// binaryApply computes o = f(a, b) with numpy broadcasting. o may be a
// when a already has o's shape (the variadic ops fold that way).
func binaryApply(a, b, o *Tensor, fs binFns) error {
	dt := a.DType
	switch {
	case dt.IsFloat() && fs.f == nil, isSigned(dt) && fs.i == nil, isUnsigned(dt) && fs.u == nil:
		return &DTypeError{Input: 0, DType: dt}
	}
	as, bs, os := a.Shape, b.Shape, o.Shape
	switch dt {
	case Float32:
		binF(a.F, as, b.F, bs, o.F, os, fs.f)
	case Float64:
		binF(Data[float64](a), as, Data[float64](b), bs, Data[float64](o), os, fs.f)
	case Float16:
		binH(Data[Half](a), as, Data[Half](b), bs, Data[Half](o), os, fs.f)
	case Int64:
		binI(a.I, as, b.I, bs, o.I, os, fs.i)
	case Int32:
		binI(Data[int32](a), as, Data[int32](b), bs, Data[int32](o), os, fs.i)
	case Int16:
		binI(Data[int16](a), as, Data[int16](b), bs, Data[int16](o), os, fs.i)
	case Int8:
		binI(Data[int8](a), as, Data[int8](b), bs, Data[int8](o), os, fs.i)
	case Uint64:
		binU(Data[uint64](a), as, Data[uint64](b), bs, Data[uint64](o), os, fs.u)
	case Uint32:
		binU(Data[uint32](a), as, Data[uint32](b), bs, Data[uint32](o), os, fs.u)
	case Uint16:
		binU(Data[uint16](a), as, Data[uint16](b), bs, Data[uint16](o), os, fs.u)
	case Uint8:
		binU(Data[uint8](a), as, Data[uint8](b), bs, Data[uint8](o), os, fs.u)
	default:
		return &DTypeError{Input: 0, DType: dt}
	}
	return nil
}

func cmpT[T Elem, W any](a []T, as []int, b []T, bs []int, o []bool, os []int, w func(T) W, f func(x, y W) bool) {
	Binary(a, as, b, bs, o, os, func(x, y T) bool { return f(w(x), w(y)) })
}

func wideF[T Float](v T) float64                           { return float64(v) }
func wideH(v Half) float64                                 { return float64(v.Float32()) }
func wideI[T int8 | int16 | int32 | int64](v T) int64      { return int64(v) }
func wideU[T uint8 | uint16 | uint32 | uint64](v T) uint64 { return uint64(v) }
func same[T any](v T) T                                    { return v }

// compareApply computes the bool o = f(a, b) with numpy broadcasting.
func compareApply(a, b, o *Tensor, fs cmpFns) error {
	as, bs, os, ob := a.Shape, b.Shape, o.Shape, o.B
	switch a.DType {
	case Float32:
		cmpT(a.F, as, b.F, bs, ob, os, wideF[float32], fs.f)
	case Float64:
		cmpT(Data[float64](a), as, Data[float64](b), bs, ob, os, same[float64], fs.f)
	case Float16:
		cmpT(Data[Half](a), as, Data[Half](b), bs, ob, os, wideH, fs.f)
	case Int64:
		cmpT(a.I, as, b.I, bs, ob, os, same[int64], fs.i)
	case Int32:
		cmpT(Data[int32](a), as, Data[int32](b), bs, ob, os, wideI[int32], fs.i)
	case Int16:
		cmpT(Data[int16](a), as, Data[int16](b), bs, ob, os, wideI[int16], fs.i)
	case Int8:
		cmpT(Data[int8](a), as, Data[int8](b), bs, ob, os, wideI[int8], fs.i)
	case Uint64:
		cmpT(Data[uint64](a), as, Data[uint64](b), bs, ob, os, same[uint64], fs.u)
	case Uint32:
		cmpT(Data[uint32](a), as, Data[uint32](b), bs, ob, os, wideU[uint32], fs.u)
	case Uint16:
		cmpT(Data[uint16](a), as, Data[uint16](b), bs, ob, os, wideU[uint16], fs.u)
	case Uint8:
		cmpT(Data[uint8](a), as, Data[uint8](b), bs, ob, os, wideU[uint8], fs.u)
	case Bool:
		if fs.b == nil {
			return &DTypeError{Input: 0, DType: Bool}
		}
		cmpT(a.B, as, b.B, bs, ob, os, same[bool], fs.b)
	case String:
		if fs.s == nil {
			return &DTypeError{Input: 0, DType: String}
		}
		cmpT(a.S, as, b.S, bs, ob, os, same[string], fs.s)
	default:
		return &DTypeError{Input: 0, DType: a.DType}
	}
	return nil
}

// broadcastInto copies src broadcast into dst (same dtype, dst has the
// broadcast shape), whatever the dtype.
func broadcastInto(dst, src *Tensor) {
	ds, ss := dst.Shape, src.Shape
	switch src.DType {
	case Float32:
		broadcastCopy(dst.F, ds, src.F, ss)
	case Int64:
		broadcastCopy(dst.I, ds, src.I, ss)
	case Bool:
		broadcastCopy(dst.B, ds, src.B, ss)
	case String:
		broadcastCopy(dst.S, ds, src.S, ss)
	case Float64:
		broadcastCopy(Data[float64](dst), ds, Data[float64](src), ss)
	case Float16:
		broadcastCopy(Data[Half](dst), ds, Data[Half](src), ss)
	case Int32:
		broadcastCopy(Data[int32](dst), ds, Data[int32](src), ss)
	case Int16:
		broadcastCopy(Data[int16](dst), ds, Data[int16](src), ss)
	case Int8:
		broadcastCopy(Data[int8](dst), ds, Data[int8](src), ss)
	case Uint64:
		broadcastCopy(Data[uint64](dst), ds, Data[uint64](src), ss)
	case Uint32:
		broadcastCopy(Data[uint32](dst), ds, Data[uint32](src), ss)
	case Uint16:
		broadcastCopy(Data[uint16](dst), ds, Data[uint16](src), ss)
	case Uint8:
		broadcastCopy(Data[uint8](dst), ds, Data[uint8](src), ss)
	}
}

// hasZero reports an integer tensor holding a zero (integer division and
// modulo by zero are errors: ONNX Runtime would crash the process).
func hasZero(t *Tensor) bool {
	n := t.Len()
	for i := 0; i < n; i++ {
		if t.Int(i) == 0 && t.Float(i) == 0 {
			return true
		}
	}
	return false
}

// binary2 is Binary for operands of different element types.
func binary2[A, B, R any](a []A, as []int, b []B, bs []int, out []R, os []int, f func(x A, y B) R) {
	if len(out) == 0 {
		return
	}
	if bc, ok := newBcast(os, as, bs); ok {
		bc.runs(func(q, n int, p, s [3]int) {
			x, y := p[0], p[1]
			for j := 0; j < n; j++ {
				out[q+j] = f(a[x], b[y])
				x += s[0]
				y += s[1]
			}
		})
		return
	}
	ia, ib := BroadcastIndex(as, os), BroadcastIndex(bs, os)
	for i := range out {
		out[i] = f(a[ia[i]], b[ib[i]])
	}
}

// ---------- definitions helpers ----------

func unaryDef(typ string, since int, compat []int, types []DType, fs numFns) *OpDef {
	return Register(&OpDef{
		Type: typ, Since: since, Compat: compat,
		MinInputs: 1, MaxInputs: 1, Types: types,
		Infer: sameAsInput,
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			return unaryApply(in[0], out[0], fs)
		},
	})
}

// floatFn is numFns for an op over floats only.
func floatFn(f func(float64) float64) numFns { return numFns{f: f} }

// ---------- Abs, Sign, Ceil, Floor, Round, Reciprocal ----------

var absDef, signDef, ceilDef, floorDef, roundDef, reciprocalDef *OpDef

func init() {
	absDef = unaryDef("Abs", 13, []int{6}, AllNumeric, numFns{
		f: math.Abs,
		i: func(v int64) int64 {
			if v < 0 {
				return -v // the most negative value stays itself, as in C
			}
			return v
		},
		u: func(v uint64) uint64 { return v },
	})
	signDef = unaryDef("Sign", 13, []int{9}, AllNumeric, numFns{
		f: func(v float64) float64 {
			switch {
			case v > 0:
				return 1
			case v < 0:
				return -1
			}
			return v // 0, -0 and NaN stay
		},
		i: func(v int64) int64 {
			switch {
			case v > 0:
				return 1
			case v < 0:
				return -1
			}
			return 0
		},
		u: func(v uint64) uint64 { return min(v, 1) },
	})
	ceilDef = unaryDef("Ceil", 13, []int{6}, FloatTypes, floatFn(math.Ceil))
	floorDef = unaryDef("Floor", 13, []int{6}, FloatTypes, floatFn(math.Floor))
	// Round: halves to even (numpy.round, std::nearbyint in ONNX Runtime).
	roundDef = unaryDef("Round", 11, []int{22}, FloatTypes, floatFn(math.RoundToEven))
	reciprocalDef = unaryDef("Reciprocal", 13, []int{6}, FloatTypes, floatFn(func(v float64) float64 { return 1 / v }))
}

// Abs, Sign, Ceil, Floor, Round (halves to even) and Reciprocal are the
// ONNX elementwise functions; Abs and Sign take every numeric type, the
// others floats.
func Abs(x *Node) *Node        { return Apply1(absDef, nil, x) }
func Sign(x *Node) *Node       { return Apply1(signDef, nil, x) }
func Ceil(x *Node) *Node       { return Apply1(ceilDef, nil, x) }
func Floor(x *Node) *Node      { return Apply1(floorDef, nil, x) }
func Round(x *Node) *Node      { return Apply1(roundDef, nil, x) }
func Reciprocal(x *Node) *Node { return Apply1(reciprocalDef, nil, x) }

// ---------- Pow ----------

var powDef *OpDef

// powTypes is Pow's base constraint T (its exponent T1 takes every numeric
// type).
var powTypes = []DType{Float32, Float64, Float16, Int32, Int64}

func init() {
	powDef = Register(&OpDef{
		Type: "Pow", Since: 15, Compat: []int{7, 12, 13},
		MinInputs: 2, MaxInputs: 2, Types: AllNumeric,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if !dtypeIn(in[0].DType, powTypes) {
				return nil, &DTypeError{Op: "Pow", Input: 0, DType: in[0].DType}
			}
			s, err := BroadcastShapes(in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: in[0].DType, Shape: s}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			// The exponent is converted to float64 (exact for every type
			// but 64-bit integers above 2^53); integer results truncate as
			// ONNX Runtime's static_cast of std::pow does.
			a, b, o := in[0], in[1], out[0]
			e := NewTensor(Float64, b.Shape)
			if err := castKernel([]*Tensor{b}, nil, []*Tensor{e}); err != nil {
				return err
			}
			ev := Data[float64](e)
			switch a.DType {
			case Float32:
				binary2(a.F, a.Shape, ev, b.Shape, o.F, o.Shape, func(x float32, y float64) float32 {
					return float32(math.Pow(float64(x), y))
				})
			case Float64:
				binary2(Data[float64](a), a.Shape, ev, b.Shape, Data[float64](o), o.Shape, math.Pow)
			case Float16:
				binary2(Data[Half](a), a.Shape, ev, b.Shape, Data[Half](o), o.Shape, func(x Half, y float64) Half {
					return F16(float32(math.Pow(float64(x.Float32()), y)))
				})
			case Int64:
				binary2(a.I, a.Shape, ev, b.Shape, o.I, o.Shape, func(x int64, y float64) int64 {
					return cvt64(math.Pow(float64(x), y))
				})
			case Int32:
				binary2(Data[int32](a), a.Shape, ev, b.Shape, Data[int32](o), o.Shape, func(x int32, y float64) int32 {
					return cvt32(math.Pow(float64(x), y))
				})
			default:
				return &DTypeError{Input: 0, DType: a.DType}
			}
			return nil
		},
	})
}

// Pow is x**y with numpy broadcasting; x is float or int32/int64, y any
// numeric type; the result has x's type.
func Pow(x, y *Node) *Node { return Apply1(powDef, nil, x, y) }

// ---------- Mod ----------

var modDef *OpDef

func init() {
	modDef = Register(&OpDef{
		Type: "Mod", Since: 13, Compat: []int{10},
		MinInputs: 2, MaxInputs: 2, Types: AllNumeric,
		Attrs: []AttrSpec{{Name: "fmod", Type: AttrInt, Default: int64(0)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if in[0].DType.IsFloat() && a.Int("fmod") != 1 {
				return nil, fmt.Errorf("fmod must be 1 for floating-point inputs, got %d", a.Int("fmod"))
			}
			return BinaryInfer(Invalid)(in, a)
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			if in[1].DType.IsInteger() && hasZero(in[1]) {
				return fmt.Errorf("integer modulo by zero")
			}
			if a.Int("fmod") == 1 { // C fmod: the sign of the dividend
				return binaryApply(in[0], in[1], out[0], binFns{
					f: math.Mod,
					i: func(x, y int64) int64 {
						if y == -1 {
							return 0 // MinInt64 % -1 overflows in C; the value is 0
						}
						return x % y
					},
					u: func(x, y uint64) uint64 { return x % y },
				})
			}
			// Python's %: the sign of the divisor.
			return binaryApply(in[0], in[1], out[0], binFns{
				i: func(x, y int64) int64 {
					if y == -1 {
						return 0
					}
					r := x % y
					if r != 0 && (r < 0) != (y < 0) {
						r += y
					}
					return r
				},
				u: func(x, y uint64) uint64 { return x % y },
			})
		},
	})
}

// Mod is the remainder of x / y with numpy broadcasting: with fmod the
// sign of x (C fmod, required for floats), otherwise the sign of y
// (Python's %). Integer division by zero is an error.
func Mod(x, y *Node, fmod bool) *Node {
	var a Attrs
	if fmod {
		a = Attrs{"fmod": int64(1)}
	}
	return Apply1(modDef, a, x, y)
}

// ---------- Not, And, Or, Xor, BitShift ----------

var notDef, andDef, orDef, xorDef, bitShiftDef *OpDef

func logicalDef(typ string, f func(x, y bool) bool) *OpDef {
	return Register(&OpDef{
		Type: typ, Since: 7,
		MinInputs: 2, MaxInputs: 2, Types: []DType{Bool},
		Infer: BinaryInfer(Bool, Bool),
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			a, b, o := in[0], in[1], out[0]
			Binary(a.B, a.Shape, b.B, b.Shape, o.B, o.Shape, f)
			return nil
		},
	})
}

func init() {
	notDef = Register(&OpDef{
		Type: "Not", Since: 1,
		MinInputs: 1, MaxInputs: 1, Types: []DType{Bool},
		Infer: sameAsInput,
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			for i, v := range in[0].B {
				out[0].B[i] = !v
			}
			return nil
		},
	})
	andDef = logicalDef("And", func(x, y bool) bool { return x && y })
	orDef = logicalDef("Or", func(x, y bool) bool { return x || y })
	xorDef = logicalDef("Xor", func(x, y bool) bool { return x != y })
	bitShiftDef = Register(&OpDef{
		Type: "BitShift", Since: 11,
		MinInputs: 2, MaxInputs: 2, Types: UnsignedInts,
		Attrs: []AttrSpec{{Name: "direction", Type: AttrString, Required: true}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if d := a.String("direction"); d != "LEFT" && d != "RIGHT" {
				return nil, fmt.Errorf("direction must be LEFT or RIGHT, got %q", d)
			}
			return BinaryInfer(Invalid)(in, a)
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			bits := uint64(in[0].DType.ElemSize() * 8)
			left := a.String("direction") == "LEFT"
			// A shift by the width or more gives 0 (numpy's result; C
			// leaves it undefined).
			return binaryApply(in[0], in[1], out[0], binFns{u: func(x, y uint64) uint64 {
				if y >= bits {
					return 0
				}
				if left {
					return x << y
				}
				return x >> y
			}})
		},
	})
}

// Not, And, Or and Xor are the bool logical ops (with numpy broadcasting).
func Not(x *Node) *Node    { return Apply1(notDef, nil, x) }
func And(a, b *Node) *Node { return Apply1(andDef, nil, a, b) }
func Or(a, b *Node) *Node  { return Apply1(orDef, nil, a, b) }
func Xor(a, b *Node) *Node { return Apply1(xorDef, nil, a, b) }

// BitShift shifts unsigned x left or right by y bits (0 from the width on).
func BitShift(x, y *Node, left bool) *Node {
	d := "RIGHT"
	if left {
		d = "LEFT"
	}
	return Apply1(bitShiftDef, Attrs{"direction": d}, x, y)
}

// ---------- IsNaN, IsInf ----------

var isNaNDef, isInfDef *OpDef

// floatPred evaluates p on every element of a float tensor into o.B.
func floatPred(x *Tensor, o []bool, p func(float64) bool) error {
	switch x.DType {
	case Float32:
		for i, v := range x.F {
			o[i] = p(float64(v))
		}
	case Float64:
		for i, v := range Data[float64](x) {
			o[i] = p(v)
		}
	case Float16:
		for i, v := range Data[Half](x) {
			o[i] = p(float64(v.Float32()))
		}
	default:
		return &DTypeError{Input: 0, DType: x.DType}
	}
	return nil
}

func boolOut(in []Meta, _ Attrs) ([]Meta, error) {
	return []Meta{{DType: Bool, Shape: in[0].Shape}}, nil
}

func init() {
	isNaNDef = Register(&OpDef{
		Type: "IsNaN", Since: 20, Compat: []int{9, 13},
		MinInputs: 1, MaxInputs: 1, Types: FloatTypes,
		Infer: boolOut,
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			return floatPred(in[0], out[0].B, math.IsNaN)
		},
	})
	isInfDef = Register(&OpDef{
		Type: "IsInf", Since: 20, Compat: []int{10},
		MinInputs: 1, MaxInputs: 1, Types: FloatTypes,
		Attrs: []AttrSpec{
			{Name: "detect_negative", Type: AttrInt, Default: int64(1)},
			{Name: "detect_positive", Type: AttrInt, Default: int64(1)},
		},
		Infer: boolOut,
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			neg, pos := a.Int("detect_negative") != 0, a.Int("detect_positive") != 0
			return floatPred(in[0], out[0].B, func(v float64) bool {
				return pos && math.IsInf(v, 1) || neg && math.IsInf(v, -1)
			})
		},
	})
}

// IsNaN and IsInf test float elements (IsInf detecting +Inf, -Inf or both).
func IsNaN(x *Node) *Node { return Apply1(isNaNDef, nil, x) }
func IsInf(x *Node, negative, positive bool) *Node {
	return Apply1(isInfDef, Attrs{"detect_negative": int64Bool(negative), "detect_positive": int64Bool(positive)}, x)
}

// ---------- Sum, Mean ----------

var sumDef, meanDef *OpDef

// variadicApply folds f over the inputs into o (the broadcast shape).
func variadicApply(in []*Tensor, o *Tensor, fs binFns) error {
	broadcastInto(o, in[0])
	for _, t := range in[1:] {
		if err := binaryApply(o, t, o, fs); err != nil {
			return err
		}
	}
	return nil
}

var addFns = binFns{
	f: func(x, y float64) float64 { return x + y },
	i: func(x, y int64) int64 { return x + y },
	u: func(x, y uint64) uint64 { return x + y },
}

func init() {
	sumDef = Register(&OpDef{
		Type: "Sum", Since: 13, Compat: []int{8},
		MinInputs: 1, MaxInputs: -1, Types: FloatTypes,
		Infer: variadicInfer,
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			if out[0].DType == Float32 {
				broadcastInto(out[0], in[0])
				for _, t := range in[1:] {
					o := out[0]
					binaryF32(opAdd, o.F, o.Shape, t.F, t.Shape, o.F, o.Shape)
				}
				return nil
			}
			return variadicApply(in, out[0], addFns)
		},
	})
	meanDef = Register(&OpDef{
		Type: "Mean", Since: 13, Compat: []int{8},
		MinInputs: 1, MaxInputs: -1, Types: FloatTypes,
		Infer: variadicInfer,
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			if err := variadicApply(in, out[0], addFns); err != nil {
				return err
			}
			n := float64(len(in))
			return unaryApply(out[0], out[0], floatFn(func(v float64) float64 { return v / n }))
		},
	})
}

// Sum and Mean add (average) one or more float tensors with numpy
// broadcasting.
func Sum(xs ...*Node) *Node  { return Apply1(sumDef, nil, xs...) }
func Mean(xs ...*Node) *Node { return Apply1(meanDef, nil, xs...) }

// ---------- BitwiseAnd, BitwiseOr, BitwiseXor, BitwiseNot, Shrink ----------

func bitwiseDef(typ string, fi func(x, y int64) int64, fu func(x, y uint64) uint64) *OpDef {
	return Register(&OpDef{
		Type: typ, Since: 18,
		MinInputs: 2, MaxInputs: 2, Types: IntegerTypes,
		Infer: BinaryInfer(Invalid),
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			return binaryApply(in[0], in[1], out[0], binFns{i: fi, u: fu})
		},
	})
}

func init() {
	_ = bitwiseDef("BitwiseAnd", func(x, y int64) int64 { return x & y }, func(x, y uint64) uint64 { return x & y })
	_ = bitwiseDef("BitwiseOr", func(x, y int64) int64 { return x | y }, func(x, y uint64) uint64 { return x | y })
	_ = bitwiseDef("BitwiseXor", func(x, y int64) int64 { return x ^ y }, func(x, y uint64) uint64 { return x ^ y })
	_ = unaryDef("BitwiseNot", 18, nil, IntegerTypes, numFns{
		i: func(v int64) int64 { return ^v },
		u: func(v uint64) uint64 { return ^v },
	})
	_ = Register(&OpDef{
		Type: "Shrink", Since: 9,
		MinInputs: 1, MaxInputs: 1, Types: AllNumeric,
		Attrs: []AttrSpec{fattr("bias", 0), fattr("lambd", 0.5)},
		Infer: sameAsInput,
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			bias, lambd := af(a, "bias"), af(a, "lambd")
			// Integers compare and shift in float64 and convert back (the
			// bias and lambd attributes are floats).
			f := func(x float64) float64 {
				switch {
				case x < -lambd:
					return x + bias
				case x > lambd:
					return x - bias
				}
				return 0
			}
			return unaryApply(in[0], out[0], numFns{
				f: f,
				i: func(v int64) int64 { return int64(f(float64(v))) },
				u: func(v uint64) uint64 { return uint64(f(float64(v))) },
			})
		},
	})
}
