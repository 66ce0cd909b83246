package graph

import (
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// This file holds ai.onnx.ml LabelEncoder (since-version 2), the op that
// maps raw category values to ids inside a model: odmn's raw-feature
// export looks every categorical column up with it (string -> int64).
//
// What the kernel implements (ONNX's LabelEncoder-2, as ONNX Runtime runs it):
//
//   - exactly one of keys_strings, keys_int64s, keys_floats and exactly one
//     of values_strings, values_int64s, values_floats, of equal length; the
//     input's element type is the keys' (string, int64 or float32), the
//     output's the values' (same shape as the input);
//   - an input value equal to keys[i] gives values[i], any other value the
//     default of the values' type: default_string ("_Unused"),
//     default_int64 (-1) or default_float (-0.0);
//   - keys must be distinct; a float key that is NaN is refused (NaN equals
//     nothing, and ONNX Runtime versions disagree on NaN keys), and a NaN
//     input gets the default. Float keys compare by value (-0.0 == 0.0).
//
// The kernel builds its hash table once per attribute set and caches it.

var labelEncoderDef *OpDef

func init() {
	labelEncoderDef = Register(&OpDef{
		Type: "LabelEncoder", Domain: MLDomain, Since: 2,
		MinInputs: 1, MaxInputs: 1,
		StringInputs: true,
		NoFold:       true,
		Attrs: []AttrSpec{
			{Name: "default_float", Type: AttrFloat, Default: float32(math.Copysign(0, -1))},
			{Name: "default_int64", Type: AttrInt, Default: int64(-1)},
			{Name: "default_string", Type: AttrString, Default: "_Unused"},
			{Name: "keys_floats", Type: AttrFloats},
			{Name: "keys_int64s", Type: AttrInts},
			{Name: "keys_strings", Type: AttrStrings},
			{Name: "values_floats", Type: AttrFloats},
			{Name: "values_int64s", Type: AttrInts},
			{Name: "values_strings", Type: AttrStrings},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			kt, vt, err := labelEncoderTypes(a)
			if err != nil {
				return nil, err
			}
			if in[0].DType != kt {
				return nil, fmt.Errorf("input is %s, but the keys are %s", in[0].DType, kt)
			}
			return []Meta{{DType: vt, Shape: in[0].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			tab, err := labelTable(a)
			if err != nil {
				return err
			}
			return tab.apply(in[0], out[0])
		},
	})
}

// LabelEncoder maps each element of x through the attribute table (see the
// file comment); attrs are the ONNX attributes (keys_*, values_*,
// default_*).
func LabelEncoder(x *Node, attrs Attrs) *Node { return Apply1(labelEncoderDef, attrs, x) }

// labelEncoderTypes checks the keys and values attributes and returns their
// element types.
func labelEncoderTypes(a Attrs) (keys, values DType, err error) {
	pick := func(what string, names [3]string) (DType, int, error) {
		types := [3]DType{String, Int64, Float32}
		found, n := Invalid, 0
		for i, name := range names {
			if !a.Has(name) {
				continue
			}
			if found != Invalid {
				return Invalid, 0, fmt.Errorf("both %s and %s are set; give exactly one %s attribute", names[0], name, what)
			}
			found = types[i]
			switch v := a[name].(type) {
			case []string:
				n = len(v)
			case []int64:
				n = len(v)
			case []float32:
				n = len(v)
			}
		}
		if found == Invalid {
			return Invalid, 0, fmt.Errorf("no %s attribute (one of %s, %s, %s)", what, names[0], names[1], names[2])
		}
		return found, n, nil
	}
	kt, nk, err := pick("keys", [3]string{"keys_strings", "keys_int64s", "keys_floats"})
	if err != nil {
		return Invalid, Invalid, err
	}
	vt, nv, err := pick("values", [3]string{"values_strings", "values_int64s", "values_floats"})
	if err != nil {
		return Invalid, Invalid, err
	}
	if nk != nv {
		return Invalid, Invalid, fmt.Errorf("%d keys but %d values", nk, nv)
	}
	return kt, vt, nil
}

// labelTab is a compiled LabelEncoder: a hash table from keys to value
// indices plus the default.
type labelTab struct {
	kt, vt DType
	// strKeys are the string keys when there are few: scanning them is
	// quicker than hashing into byStr.
	strKeys []string
	byStr   map[string]int
	byInt   map[int64]int
	byF32   map[float32]int
	values  Attrs // the values attribute and default, by type
}

func compileLabelTable(a Attrs) (*labelTab, error) {
	kt, vt, err := labelEncoderTypes(a)
	if err != nil {
		return nil, err
	}
	t := &labelTab{kt: kt, vt: vt, values: a}
	dup := func(i int, k any) error { return fmt.Errorf("key %v is repeated (at %d)", k, i) }
	switch kt {
	case String:
		keys := a.Strings("keys_strings")
		t.byStr = make(map[string]int, len(keys))
		for i, k := range keys {
			if _, ok := t.byStr[k]; ok {
				return nil, dup(i, fmt.Sprintf("%q", k))
			}
			t.byStr[k] = i
		}
		if len(keys) <= smallLabelKeys {
			t.strKeys = keys
		}
	case Int64:
		keys := a.Ints("keys_int64s")
		t.byInt = make(map[int64]int, len(keys))
		for i, k := range keys {
			if _, ok := t.byInt[k]; ok {
				return nil, dup(i, k)
			}
			t.byInt[k] = i
		}
	case Float32:
		keys := a.Floats("keys_floats")
		t.byF32 = make(map[float32]int, len(keys))
		for i, k := range keys {
			if k != k {
				return nil, fmt.Errorf("key %d is NaN, which odmn does not support", i)
			}
			if _, ok := t.byF32[k]; ok {
				return nil, dup(i, k)
			}
			t.byF32[k] = i
		}
	}
	return t, nil
}

// smallLabelKeys is the most string keys looked up by a scan.
const smallLabelKeys = 16

// strIndex is the position of key s, or -1.
func (t *labelTab) strIndex(s string) int {
	if t.strKeys != nil {
		for j, k := range t.strKeys {
			if len(k) == len(s) && k == s {
				return j
			}
		}
		return -1
	}
	if j, ok := t.byStr[s]; ok {
		return j
	}
	return -1
}

func (t *labelTab) apply(x, o *Tensor) error {
	n := x.Len()
	if t.kt == String && t.vt == Int64 { // categories to ids, the common case
		vals, def := t.values.Ints("values_int64s"), t.values.Int("default_int64")
		for i, s := range x.S[:n] {
			if j := t.strIndex(s); j >= 0 {
				o.I[i] = vals[j]
			} else {
				o.I[i] = def
			}
		}
		return nil
	}
	idx := func(i int) int {
		switch t.kt {
		case String:
			return t.strIndex(x.S[i])
		case Int64:
			if j, ok := t.byInt[x.I[i]]; ok {
				return j
			}
		case Float32:
			if j, ok := t.byF32[x.F[i]]; ok {
				return j
			}
		}
		return -1
	}
	switch t.vt {
	case Int64:
		vals, def := t.values.Ints("values_int64s"), t.values.Int("default_int64")
		for i := 0; i < n; i++ {
			if j := idx(i); j >= 0 {
				o.I[i] = vals[j]
			} else {
				o.I[i] = def
			}
		}
	case Float32:
		vals, def := t.values.Floats("values_floats"), t.values.Float("default_float")
		for i := 0; i < n; i++ {
			if j := idx(i); j >= 0 {
				o.F[i] = vals[j]
			} else {
				o.F[i] = def
			}
		}
	case String:
		vals, def := t.values.Strings("values_strings"), t.values.String("default_string")
		for i := 0; i < n; i++ {
			if j := idx(i); j >= 0 {
				o.S[i] = vals[j]
			} else {
				o.S[i] = def
			}
		}
	}
	return nil
}

// labelCacheKey identifies an attribute set by the storage of its keys and
// values slices: attribute slices are never modified once an op holds them
// (builders, the importer and SubstituteRefs share them, never write them).
type labelCacheKey struct {
	keys, values unsafe.Pointer
	nk, nv       int
	defaults     [3]uint64
}

const labelCacheSize = 64

var labelCache = struct {
	sync.Mutex
	m map[labelCacheKey]*labelTab
}{m: map[labelCacheKey]*labelTab{}}

func sliceKey(v any) (unsafe.Pointer, int) {
	switch s := v.(type) {
	case []string:
		return unsafe.Pointer(unsafe.SliceData(s)), len(s)
	case []int64:
		return unsafe.Pointer(unsafe.SliceData(s)), len(s)
	case []float32:
		return unsafe.Pointer(unsafe.SliceData(s)), len(s)
	}
	return nil, 0
}

func labelTable(a Attrs) (*labelTab, error) {
	var k labelCacheKey
	for _, name := range []string{"keys_strings", "keys_int64s", "keys_floats"} {
		if a.Has(name) {
			k.keys, k.nk = sliceKey(a[name])
		}
	}
	for _, name := range []string{"values_strings", "values_int64s", "values_floats"} {
		if a.Has(name) {
			k.values, k.nv = sliceKey(a[name])
		}
	}
	if d, ok := a["default_int64"].(int64); ok {
		k.defaults[0] = uint64(d)
	}
	if d, ok := a["default_float"].(float32); ok {
		k.defaults[1] = uint64(math.Float32bits(d))
	}
	cacheable := k.keys != nil && k.values != nil
	if d, ok := a["default_string"].(string); ok && d != "_Unused" {
		cacheable = false // rare; not worth a string in the key
	}
	if cacheable {
		labelCache.Lock()
		t := labelCache.m[k]
		labelCache.Unlock()
		if t != nil {
			return t, nil
		}
	}
	t, err := compileLabelTable(a)
	if err != nil || !cacheable {
		return t, err
	}
	labelCache.Lock()
	if len(labelCache.m) >= labelCacheSize {
		labelCache.m = map[labelCacheKey]*labelTab{}
	}
	labelCache.m[k] = t
	labelCache.Unlock()
	return t, nil
}
