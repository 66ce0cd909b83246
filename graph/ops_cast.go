package graph

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Cast, CastLike: conversions between every element type odmn holds.
//
// Choices where ONNX leaves the result undefined, made to match ONNX
// Runtime on x86-64 (whose Cast is a C++ static_cast):
//   - float -> int64 truncates toward zero; NaN and values outside the
//     int64 range give math.MinInt64 (the cvttsd2si "integer indefinite").
//   - float -> int32 likewise, with math.MinInt32; float -> int16, int8,
//     uint16, uint8 convert to int32 first and keep the low bits (so NaN
//     gives 0 and 300 -> int8 gives 44); float -> uint32 converts to int64
//     and keeps the low 32 bits (-1 -> 4294967295); float -> uint64 below
//     2^63 converts to int64 and reinterprets, from 2^63 on subtracts 2^63
//     first and sets the top bit (GCC's sequence); NaN and -Inf give 2^63,
//     +Inf gives 0.
//   - integer -> narrower integer keeps the low bits (two's complement).
//   - float64 -> float16 rounds to float32 first (as ONNX Runtime does).
//   - x -> bool is x != 0 (NaN is true); bool -> number is 0 or 1.
//   - number -> string: shortest decimal that reads back exactly
//     ("0.1", "1e+21"), "NaN", "INF", "-INF"; string -> float parses
//     decimal and scientific forms and, in any case, "NaN", "INF", "+INF",
//     "-INF"; string -> integer parses an integer or, failing that, a float
//     converted as above ("100.5" -> 100). A string that is no number is
//     an error naming it. bool <-> string is refused (ONNX leaves it open).

// castFn converts x into o (allocated with the target dtype and x's shape).
type castFn func(x, o *Tensor) error

// intKind tells floatToInt which x86 conversion a target integer type uses.
func intKind[D Integer]() int {
	var d D
	switch any(d).(type) {
	case int64:
		return 0
	case int32, int16, int8, uint16, uint8:
		return 1
	case uint32:
		return 2
	}
	return 3 // uint64
}

func cvt64(f float64) int64 {
	if f != f || f >= 1<<63 || f < -(1<<63) {
		return math.MinInt64
	}
	return int64(f)
}

func cvt32(f float64) int32 {
	if f != f || f >= 1<<31 || f < -(1<<31) {
		return math.MinInt32
	}
	return int32(f)
}

// floatToInt converts f to D as static_cast does on x86-64 (see above).
func floatToInt[D Integer](f float64, kind int) D {
	switch kind {
	case 0:
		return D(cvt64(f))
	case 1:
		return D(cvt32(f)) // keeps the low bits
	case 2:
		return D(cvt64(f))
	}
	top := uint64(1) << 63
	if f != f {
		return D(top)
	}
	if f < 1<<63 {
		return D(uint64(cvt64(f)))
	}
	return D(uint64(cvt64(f-(1<<63))) ^ top)
}

func isFloatType[T Number]() bool {
	var z T
	switch any(z).(type) {
	case float32, float64:
		return true
	}
	return false
}

// numCast converts between numeric types S and D (float16 excluded).
func numCast[S, D Number]() castFn {
	return func(x, o *Tensor) error {
		src, dst := Data[S](x), Data[D](o)
		if isFloatType[S]() && !isFloatType[D]() {
			toIntFromFloat(dst, src)
			return nil
		}
		for i, v := range src {
			dst[i] = D(v)
		}
		return nil
	}
}

// toIntFromFloat is numCast's float -> integer loop; D is an integer type
// here, but the constraint cannot say so, so dispatch on it once.
func toIntFromFloat[S, D Number](dst []D, src []S) {
	var d D
	switch any(d).(type) {
	case int64:
		floatsToInt(any(dst).([]int64), src)
	case int32:
		floatsToInt(any(dst).([]int32), src)
	case int16:
		floatsToInt(any(dst).([]int16), src)
	case int8:
		floatsToInt(any(dst).([]int8), src)
	case uint64:
		floatsToInt(any(dst).([]uint64), src)
	case uint32:
		floatsToInt(any(dst).([]uint32), src)
	case uint16:
		floatsToInt(any(dst).([]uint16), src)
	case uint8:
		floatsToInt(any(dst).([]uint8), src)
	}
}

func floatsToInt[D Integer, S Number](dst []D, src []S) {
	k := intKind[D]()
	for i, v := range src {
		dst[i] = floatToInt[D](float64(v), k)
	}
}

// fromHalf converts float16 to numeric D through float32.
func fromHalf[D Number]() castFn {
	return func(x, o *Tensor) error {
		src := Data[Half](x)
		tmp := make([]float32, len(src))
		for i, h := range src {
			tmp[i] = h.Float32()
		}
		return numCast[float32, D]()(&Tensor{DType: Float32, Shape: x.Shape, F: tmp}, o)
	}
}

// toHalf converts numeric S to float16 through float32.
func toHalf[S Number]() castFn {
	return func(x, o *Tensor) error {
		dst := Data[Half](o)
		for i, v := range Data[S](x) {
			dst[i] = F16(float32(v))
		}
		return nil
	}
}

func toBool[S Number]() castFn {
	return func(x, o *Tensor) error {
		for i, v := range Data[S](x) {
			o.B[i] = v != 0
		}
		return nil
	}
}

func fromBool[D Number]() castFn {
	return func(x, o *Tensor) error {
		dst := Data[D](o)
		for i, v := range x.B {
			dst[i] = 0
			if v {
				dst[i] = 1
			}
		}
		return nil
	}
}

func toString[S Number]() castFn {
	return func(x, o *Tensor) error {
		for i, v := range Data[S](x) {
			o.S[i] = formatNumber(v)
		}
		return nil
	}
}

func formatNumber[S Number](v S) string {
	var z S
	switch any(z).(type) {
	case float32, float64:
		f := float64(v)
		switch {
		case f != f:
			return "NaN"
		case math.IsInf(f, 1):
			return "INF"
		case math.IsInf(f, -1):
			return "-INF"
		}
		bits := 64
		if _, ok := any(z).(float32); ok {
			bits = 32
		}
		return strconv.FormatFloat(f, 'g', -1, bits)
	case uint8, uint16, uint32, uint64:
		return strconv.FormatUint(uint64(v), 10)
	}
	return strconv.FormatInt(int64(v), 10)
}

func fromString[D Number]() castFn {
	return func(x, o *Tensor) error {
		dst := Data[D](o)
		for i, s := range x.S {
			f, isInt, n, err := parseNumber(s)
			if err != nil {
				return err
			}
			switch {
			case isFloatType[D]():
				dst[i] = D(f)
			case isInt:
				dst[i] = D(n) // low bits, as integer narrowing does
			default:
				tmp := []D{0}
				toIntFromFloat(tmp, []float64{f})
				dst[i] = tmp[0]
			}
		}
		return nil
	}
}

// parseNumber reads a string Cast converts to a number: an integer (n,
// isInt) or a float f (set in both cases).
func parseNumber(s string) (f float64, isInt bool, n int64, err error) {
	t := strings.TrimSpace(s)
	switch strings.ToUpper(t) {
	case "NAN":
		return math.NaN(), false, 0, nil
	case "INF", "+INF":
		return math.Inf(1), false, 0, nil
	case "-INF":
		return math.Inf(-1), false, 0, nil
	}
	if v, err := strconv.ParseInt(t, 10, 64); err == nil {
		return float64(v), true, v, nil
	}
	if v, err := strconv.ParseUint(t, 10, 64); err == nil {
		return float64(v), true, int64(v), nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false, 0, fmt.Errorf("string %q is not a number", s)
	}
	return v, false, 0, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// castRow lists the conversions from numeric S to every dtype.
func castRow[S Number]() map[DType]castFn {
	return map[DType]castFn{
		Float32: numCast[S, float32](), Float64: numCast[S, float64](),
		Int64: numCast[S, int64](), Int32: numCast[S, int32](), Int16: numCast[S, int16](), Int8: numCast[S, int8](),
		Uint64: numCast[S, uint64](), Uint32: numCast[S, uint32](), Uint16: numCast[S, uint16](), Uint8: numCast[S, uint8](),
		Float16: toHalf[S](), Bool: toBool[S](), String: toString[S](),
	}
}

// castTable[from][to] is every conversion Cast implements.
var castTable = func() map[DType]map[DType]castFn {
	t := map[DType]map[DType]castFn{
		Float32: castRow[float32](), Float64: castRow[float64](),
		Int64: castRow[int64](), Int32: castRow[int32](), Int16: castRow[int16](), Int8: castRow[int8](),
		Uint64: castRow[uint64](), Uint32: castRow[uint32](), Uint16: castRow[uint16](), Uint8: castRow[uint8](),
	}
	t[Float16] = map[DType]castFn{
		Float32: fromHalf[float32](), Float64: fromHalf[float64](),
		Int64: fromHalf[int64](), Int32: fromHalf[int32](), Int16: fromHalf[int16](), Int8: fromHalf[int8](),
		Uint64: fromHalf[uint64](), Uint32: fromHalf[uint32](), Uint16: fromHalf[uint16](), Uint8: fromHalf[uint8](),
		Bool: func(x, o *Tensor) error {
			for i, h := range Data[Half](x) {
				o.B[i] = h.Float32() != 0
			}
			return nil
		},
		String: func(x, o *Tensor) error {
			for i, h := range Data[Half](x) {
				o.S[i] = formatNumber(h.Float32())
			}
			return nil
		},
	}
	t[Bool] = map[DType]castFn{
		Float32: fromBool[float32](), Float64: fromBool[float64](),
		Int64: fromBool[int64](), Int32: fromBool[int32](), Int16: fromBool[int16](), Int8: fromBool[int8](),
		Uint64: fromBool[uint64](), Uint32: fromBool[uint32](), Uint16: fromBool[uint16](), Uint8: fromBool[uint8](),
		Float16: func(x, o *Tensor) error {
			for i, v := range x.B {
				o.X.([]Half)[i] = F16(float32(int64Bool(v)))
			}
			return nil
		},
	}
	t[String] = map[DType]castFn{
		Float32: fromString[float32](), Float64: fromString[float64](),
		Int64: fromString[int64](), Int32: fromString[int32](), Int16: fromString[int16](), Int8: fromString[int8](),
		Uint64: fromString[uint64](), Uint32: fromString[uint32](), Uint16: fromString[uint16](), Uint8: fromString[uint8](),
		Float16: func(x, o *Tensor) error {
			tmp := NewTensor(Float32, x.Shape)
			if err := fromString[float32]()(x, tmp); err != nil {
				return err
			}
			return toHalf[float32]()(tmp, o)
		},
	}
	return t
}()

// onnxTypeName names a TensorProto.DataType code for error messages.
func onnxTypeName(code int64) string {
	names := map[int64]string{
		1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
		8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64",
		14: "complex64", 15: "complex128", 16: "bfloat16",
	}
	if n, ok := names[code]; ok {
		return n
	}
	return fmt.Sprintf("data type %d", code)
}

// castInfer gives x's shape with dtype to, refusing a pair castTable lacks
// with a *DTypeError (an element type outside the vocabulary, not a bug).
func castInfer(op string, x Meta, to DType) ([]Meta, error) {
	if x.DType == Invalid {
		return nil, fmt.Errorf("input type invalid")
	}
	if x.DType != to {
		if _, ok := castTable[x.DType][to]; !ok {
			return nil, &DTypeError{Op: op, Input: -1, DType: to}
		}
	}
	return []Meta{{DType: to, Shape: x.Shape}}, nil
}

func castKernel(in []*Tensor, _ Attrs, out []*Tensor) error {
	x, o := in[0], out[0]
	if x.DType == o.DType {
		o.CopyFrom(x)
		return nil
	}
	f, ok := castTable[x.DType][o.DType]
	if !ok {
		return fmt.Errorf("cast from %s to %s not supported", x.DType, o.DType)
	}
	return f(x, o)
}

var castDef, castLikeDef *OpDef

// castTypes is every element type Cast takes and gives (strings included).
var castTypes = append(append([]DType{}, AllTypes...), String)

func init() {
	castDef = Register(&OpDef{
		Type: "Cast", Since: 13,
		// 6 and 9 differ only in strings, 19 on adds float8, 21 int4, 23
		// float4, 24 float8e8m0 (and round_mode), 25 int2: types odmn does
		// not hold, and saturate/round_mode apply only to those.
		Compat:    []int{6, 9, 19, 21, 23, 24, 25},
		MinInputs: 1, MaxInputs: 1,
		Attrs: []AttrSpec{
			{Name: "to", Type: AttrInt, Required: true},
			{Name: "saturate", Type: AttrInt, Default: int64(1)},
			{Name: "round_mode", Type: AttrString, Default: "up"},
		},
		Types: castTypes, StringInputs: true,
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			code := a.Int("to")
			to, ok := ValueTypeFromONNX(int32(code))
			if !ok || int64(int32(code)) != code {
				return nil, fmt.Errorf("cast to %s not supported", onnxTypeName(code))
			}
			return castInfer("Cast", in[0], to)
		},
		Kernel: castKernel,
		Grad: func(op *Op, g []*Node) []*Node {
			if op.Inputs[0].DType() == Float32 && op.Outputs[0].DType() == Float32 {
				return []*Node{g[0]}
			}
			return []*Node{nil}
		},
	})
	castLikeDef = Register(&OpDef{
		Type: "CastLike", Since: 15, Compat: []int{19, 21, 23, 24, 25},
		MinInputs: 2, MaxInputs: 2,
		Attrs: []AttrSpec{
			{Name: "saturate", Type: AttrInt, Default: int64(1)},
			{Name: "round_mode", Type: AttrString, Default: "up"},
		},
		Types: castTypes, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			return castInfer("CastLike", in[0], in[1].DType)
		},
		Kernel: castKernel,
	})
}

// Cast converts x to dtype to (any pair of element types but bool <->
// string; see the rules at the top of ops_cast.go). Only float32 ->
// float32 passes a gradient.
func Cast(x *Node, to DType) *Node {
	return Apply1(castDef, Attrs{"to": int64(to.ONNX())}, x)
}

// CastLike converts x to the element type of like.
func CastLike(x, like *Node) *Node { return Apply1(castLikeDef, nil, x, like) }
