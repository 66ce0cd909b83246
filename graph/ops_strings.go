package graph

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// This file holds ONNX's string ops: StringNormalizer (10), StringConcat,
// StringSplit and RegexFullMatch (20) and TfIdfVectorizer (9), the text
// preprocessing that scikit-learn's and other exporters put in front of a
// model. Where the spec leaves a choice open, the kernels do what ONNX
// Runtime's CPU kernels do (each op's comment says where that matters).

// stringOnly is the Types of the ops that take nothing but strings: Apply
// then refuses every numeric input (strings pass by StringInputs).
var stringOnly = []DType{String}

// needString refuses a missing or non-string input.
func needString(m Meta, what string) error {
	if err := checkData(m, what); err != nil {
		return err
	}
	if m.DType != String {
		return fmt.Errorf("%s must be a string tensor, got %s", what, m.DType)
	}
	return nil
}

// ---------- StringNormalizer ----------

var stringNormalizerDef *OpDef

func init() {
	stringNormalizerDef = Register(&OpDef{
		Type: "StringNormalizer", Since: 10,
		MinInputs: 1, MaxInputs: 1,
		Types: stringOnly, StringInputs: true,
		// The output's length is the number of inputs that are not stop
		// words.
		ShapeFromValues: true,
		Attrs: []AttrSpec{
			{Name: "case_change_action", Type: AttrString, Default: "NONE"},
			{Name: "is_case_sensitive", Type: AttrInt, Default: int64(0)},
			{Name: "locale", Type: AttrString},
			{Name: "stopwords", Type: AttrStrings},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := needString(x, "X"); err != nil {
				return nil, err
			}
			nz, err := newNormalizer(a)
			if err != nil {
				return nil, err
			}
			// Only [C] and [1, C] with C >= 1, as in the spec and ONNX
			// Runtime (which refuses C = 0).
			switch {
			case len(x.Shape) == 2 && x.Shape[0] != 1 && x.Shape[0] != -1:
				return nil, fmt.Errorf("X must have shape [C] or [1, C], got %v", x.Shape)
			case len(x.Shape) != 1 && len(x.Shape) != 2:
				return nil, fmt.Errorf("X must have shape [C] or [1, C], got %v", x.Shape)
			case x.Shape[len(x.Shape)-1] == 0:
				return nil, fmt.Errorf("X has no elements; StringNormalizer needs at least one (shape %v)", x.Shape)
			}
			out := append([]int{}, x.Shape...)
			if len(out) == 2 {
				out[0] = 1
			}
			if len(nz.stop) > 0 {
				c := -1
				if x.Value != nil {
					if c, err = nz.kept(x.Value.S, nil); err != nil {
						return nil, err
					}
					c = max(c, 1) // nothing kept: one empty string
				}
				out[len(out)-1] = c
			}
			return []Meta{{DType: String, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			nz, err := newNormalizer(a)
			if err != nil {
				return err
			}
			o := out[0].S
			n, err := nz.kept(in[0].S, o)
			if err != nil {
				return err
			}
			if max(n, 1) != len(o) {
				return fmt.Errorf("%d strings are kept, but the output was sized for %d (a stale shape inference)", n, len(o))
			}
			if n == 0 {
				o[0] = ""
			}
			return nil
		},
	})
}

// StringNormalizer drops the stop words of x (a [C] or [1, C] string
// tensor) and changes the case of the rest; attrs are the ONNX attributes
// (case_change_action, is_case_sensitive, locale, stopwords). When every
// element is dropped the output is one empty string, of shape [1] or
// [1, 1].
func StringNormalizer(x *Node, attrs Attrs) *Node { return Apply1(stringNormalizerDef, attrs, x) }

// normalizer is a StringNormalizer's attributes, checked.
//
// Case changes map each code point on its own by Unicode's simple case
// mappings (unicode.ToUpper, unicode.ToLower), which is what ONNX Runtime
// does with towupper/towlower in the default en_US.UTF-8 locale (and in
// C.UTF-8): "ß" stays "ß" in upper case, "İ" lowers to "i", "ǅ" uppers to
// "Ǆ". Locales whose language is tr or az use the Turkish mappings
// (i <-> İ, ı <-> I), as their C libraries do; every other UTF-8 locale of
// a language (de_DE, fr, en-GB.UTF-8, ...) uses the default mappings,
// which glibc's locales share. "C" and "POSIX" change ASCII letters only,
// as ONNX Runtime does in them. Other encodings ("en_US.ISO-8859-1") are
// refused.
//
// Without is_case_sensitive, stop words match after both sides are
// upper-cased (case_change_action UPPER) or lower-cased (otherwise), as in
// ONNX Runtime. Case changes need valid UTF-8: other input is an error.
type normalizer struct {
	action    string // LOWER, UPPER or NONE
	sensitive bool
	rules     int // unicodeCase, turkishCase or asciiCase
	stop      map[string]struct{}
}

func newNormalizer(a Attrs) (*normalizer, error) {
	nz := &normalizer{action: a.String("case_change_action"), sensitive: a.Int("is_case_sensitive") != 0}
	switch nz.action {
	case "LOWER", "UPPER", "NONE":
	default:
		return nil, fmt.Errorf("case_change_action must be LOWER, UPPER or NONE, got %q", nz.action)
	}
	if a.Has("locale") {
		r, err := localeRules(a.String("locale"))
		if err != nil {
			return nil, err
		}
		nz.rules = r
	}
	if a.Has("stopwords") {
		sw := a.Strings("stopwords")
		nz.stop = make(map[string]struct{}, len(sw))
		for _, w := range sw {
			if !nz.sensitive {
				var err error
				if w, err = nz.changeCase(w, nz.compareCase()); err != nil {
					return nil, fmt.Errorf("stopwords: %w", err)
				}
			}
			nz.stop[w] = struct{}{}
		}
	}
	return nz, nil
}

// Case rules of a StringNormalizer locale.
const (
	unicodeCase = iota // Unicode's simple mappings (en_US.UTF-8 and most locales)
	turkishCase        // tr, az: i <-> İ, ı <-> I
	asciiCase          // C, POSIX: A-Z <-> a-z only
)

// localeRules checks a locale name ("en_US", "en-US", "de_DE.UTF-8",
// "tr_TR.utf8@euro", "C.UTF-8", "C") and returns its case rules.
func localeRules(name string) (int, error) {
	if name == "" {
		return unicodeCase, nil // the environment's locale in C++: the default
	}
	base, enc := name, ""
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[:i]
	}
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base, enc = base[:i], base[i+1:]
	}
	utf := strings.EqualFold(enc, "UTF-8") || strings.EqualFold(enc, "utf8")
	if (base == "C" || base == "POSIX") && enc == "" {
		return asciiCase, nil
	}
	if enc != "" && !utf {
		return 0, fmt.Errorf("locale %q is not supported: odmn changes case only by Unicode's rules (UTF-8 locales) or ASCII's (C, POSIX)", name)
	}
	if base == "C" {
		return unicodeCase, nil // C.UTF-8
	}
	lang := base
	if i := strings.IndexAny(lang, "_-"); i >= 0 {
		lang = lang[:i]
	}
	ok := len(lang) >= 2 && len(lang) <= 3
	for _, r := range lang {
		ok = ok && r >= 'a' && r <= 'z'
	}
	if !ok {
		return 0, fmt.Errorf("locale %q is not supported: odmn takes a language's locale (en_US, de_DE.UTF-8, tr_TR, ...), C or C.UTF-8", name)
	}
	if lang == "tr" || lang == "az" {
		return turkishCase, nil
	}
	return unicodeCase, nil
}

// compareCase is the case stop words are compared in without
// is_case_sensitive.
func (nz *normalizer) compareCase() string {
	if nz.action == "UPPER" {
		return "UPPER"
	}
	return "LOWER"
}

func (nz *normalizer) changeCase(s, action string) (string, error) {
	if action == "NONE" {
		return s, nil
	}
	if !utf8.ValidString(s) {
		// No text in the message: it may be private.
		return "", fmt.Errorf("a string is not valid UTF-8, so its case cannot change")
	}
	var f func(rune) rune
	up := action == "UPPER"
	switch {
	case nz.rules == asciiCase && up:
		f = func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			return r
		}
	case nz.rules == asciiCase:
		f = func(r rune) rune {
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			return r
		}
	case nz.rules == turkishCase && up:
		f = unicode.TurkishCase.ToUpper
	case nz.rules == turkishCase:
		f = unicode.TurkishCase.ToLower
	case up:
		f = unicode.ToUpper
	default:
		f = unicode.ToLower
	}
	return strings.Map(f, s), nil
}

// kept writes the normalized strings of xs that are not stop words to o
// (when o is not nil) and returns how many there are.
func (nz *normalizer) kept(xs []string, o []string) (int, error) {
	n := 0
	for _, s := range xs {
		var err error
		if len(nz.stop) > 0 {
			key := s
			if !nz.sensitive {
				if key, err = nz.changeCase(s, nz.compareCase()); err != nil {
					return 0, err
				}
			}
			if _, stop := nz.stop[key]; stop {
				continue
			}
			if !nz.sensitive && nz.action != "NONE" {
				s = key // already in the output's case
			} else if o != nil {
				if s, err = nz.changeCase(s, nz.action); err != nil {
					return 0, err
				}
			}
		} else if o != nil {
			if s, err = nz.changeCase(s, nz.action); err != nil {
				return 0, err
			}
		}
		if o != nil {
			if n >= len(o) {
				return 0, fmt.Errorf("more strings are kept than the output was sized for (%d; a stale shape inference)", len(o))
			}
			o[n] = s
		}
		n++
	}
	return n, nil
}

// ---------- StringConcat ----------

var stringConcatDef *OpDef

func init() {
	stringConcatDef = Register(&OpDef{
		Type: "StringConcat", Since: 20,
		MinInputs: 2, MaxInputs: 2,
		Types: stringOnly, StringInputs: true,
		Infer: func(in []Meta, _ Attrs) ([]Meta, error) {
			if err := needString(in[0], "X"); err != nil {
				return nil, err
			}
			if err := needString(in[1], "Y"); err != nil {
				return nil, err
			}
			s, err := BroadcastShapes(in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: String, Shape: s}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			x, y, o := in[0], in[1], out[0]
			Binary(x.S, x.Shape, y.S, y.Shape, o.S, o.Shape, func(a, b string) string { return a + b })
			return nil
		},
	})
}

// StringConcat joins the strings of x and y elementwise (x's first), with
// numpy broadcasting.
func StringConcat(x, y *Node) *Node { return Apply1(stringConcatDef, nil, x, y) }

// ---------- StringSplit ----------

var stringSplitDef *OpDef

func init() {
	stringSplitDef = Register(&OpDef{
		Type: "StringSplit", Since: 20,
		MinInputs: 1, MaxInputs: 1, Outputs: 2,
		Types: stringOnly, StringInputs: true,
		// The last dimension of the substrings is the largest count.
		ShapeFromValues: true,
		// Not folded: the native runtime binds folded values of
		// single-output ops only.
		NoFold: true,
		Attrs: []AttrSpec{
			{Name: "delimiter", Type: AttrString},
			{Name: "maxsplit", Type: AttrInt},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := needString(x, "X"); err != nil {
				return nil, err
			}
			delim, maxSplit := splitAttrs(a)
			k := -1
			if x.Value != nil {
				k = 0
				for _, s := range x.Value.S {
					k = max(k, splitString(s, delim, maxSplit, nil))
				}
			} else if n, ok := SizeWithin(x.Shape, maxElements); ok && n == 0 {
				k = 0
			}
			return []Meta{
				{DType: String, Shape: append(append([]int{}, x.Shape...), k)},
				{DType: Int64, Shape: append([]int{}, x.Shape...)},
			}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, y, z := in[0], out[0], out[1]
			delim, maxSplit := splitAttrs(a)
			k := y.Shape[len(y.Shape)-1]
			for i, s := range x.S {
				if n := splitString(s, delim, maxSplit, nil); n > k {
					return fmt.Errorf("element %d splits into %d substrings, but the output was sized for %d (a stale shape inference)", i, n, k)
				}
				row := y.S[i*k : (i+1)*k]
				n := splitString(s, delim, maxSplit, row)
				for j := n; j < k; j++ {
					row[j] = ""
				}
				z.I[i] = int64(n)
			}
			return nil
		},
	})
}

// StringSplit splits every string of x on delimiter (attrs "delimiter",
// "maxsplit" as in ONNX; no delimiter or "" splits on runs of spaces).
// substrings has one more dimension than x, as long as the most
// substrings of any element, and pads with empty strings; counts holds
// each element's number of substrings.
func StringSplit(x *Node, attrs Attrs) (substrings, counts *Node) {
	o := MustApply(stringSplitDef, attrs, x)
	return o[0], o[1]
}

// splitAttrs returns the delimiter and the most splits (-1: no limit).
func splitAttrs(a Attrs) (string, int64) {
	delim, maxSplit := "", int64(-1)
	if a.Has("delimiter") {
		delim = a.String("delimiter")
	}
	if a.Has("maxsplit") {
		maxSplit = a.Int("maxsplit")
	}
	return delim, maxSplit
}

// splitString splits s as ONNX Runtime does, writes the substrings to
// out (when not nil) and returns their count:
//
//   - an empty string has no substrings, whatever the delimiter;
//   - with a delimiter, consecutive delimiters delimit empty strings
//     ("a--b" on "-" is "a", "", "b");
//   - without one, runs of spaces (U+0020 only, as in ONNX Runtime; tabs
//     and newlines are not separators) separate substrings and leading
//     and trailing spaces are dropped;
//   - after maxsplit splits the rest of s is the last substring (without
//     its trailing spaces when splitting on spaces); a negative maxsplit
//     is no limit.
func splitString(s, delim string, maxSplit int64, out []string) int {
	n := 0
	emit := func(sub string) {
		if out != nil {
			out[n] = sub
		}
		n++
	}
	if s == "" {
		return 0
	}
	if delim == "" {
		pos := notSpace(s, 0)
		for pos >= 0 {
			if int64(n) == maxSplit {
				end := len(s)
				for s[end-1] == ' ' {
					end--
				}
				emit(s[pos:end])
				break
			}
			next := strings.IndexByte(s[pos:], ' ')
			if next < 0 {
				emit(s[pos:])
				break
			}
			emit(s[pos : pos+next])
			pos = notSpace(s, pos+next)
		}
		return n
	}
	pos := 0
	for {
		next := strings.Index(s[pos:], delim)
		if int64(n) == maxSplit || next < 0 {
			emit(s[pos:])
			return n
		}
		emit(s[pos : pos+next])
		pos += next + len(delim)
	}
}

// notSpace is the index of the first byte of s at or after i that is not a
// space, or -1.
func notSpace(s string, i int) int {
	for ; i < len(s); i++ {
		if s[i] != ' ' {
			return i
		}
	}
	return -1
}

// ---------- RegexFullMatch ----------

var regexFullMatchDef *OpDef

func init() {
	regexFullMatchDef = Register(&OpDef{
		Type: "RegexFullMatch", Since: 20,
		MinInputs: 1, MaxInputs: 1,
		Types: stringOnly, StringInputs: true,
		Attrs: []AttrSpec{{Name: "pattern", Type: AttrString, Required: true}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			if err := needString(in[0], "X"); err != nil {
				return nil, err
			}
			if _, err := fullMatchRegexp(a.String("pattern")); err != nil {
				return nil, err
			}
			return []Meta{{DType: Bool, Shape: in[0].Shape}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			re, err := fullMatchRegexp(a.String("pattern"))
			if err != nil {
				return err
			}
			for i, s := range in[0].S {
				out[0].B[i] = re.MatchString(s)
			}
			return nil
		},
	})
}

// RegexFullMatch tells, for every string of x, whether the whole string
// matches pattern (RE2 syntax, which Go's regexp implements; RE2's \C, any
// byte, is the one construct Go refuses).
func RegexFullMatch(x *Node, pattern string) *Node {
	return Apply1(regexFullMatchDef, Attrs{"pattern": pattern}, x)
}

// regexCache holds compiled patterns (a model has few; the cache is
// cleared when it grows past regexCacheSize).
var regexCache = struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}{m: map[string]*regexp.Regexp{}}

const regexCacheSize = 64

// fullMatchRegexp compiles pattern anchored at both ends of the text.
func fullMatchRegexp(pattern string) (*regexp.Regexp, error) {
	regexCache.Lock()
	re := regexCache.m[pattern]
	regexCache.Unlock()
	if re != nil {
		return re, nil
	}
	// The pattern alone first: wrapping an unbalanced one ("a)|(b") could
	// make it valid with another meaning.
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, fmt.Errorf("pattern is not a valid regular expression: %w", err)
	}
	re, err := regexp.Compile(`\A(?:` + pattern + `)\z`)
	if err != nil {
		return nil, fmt.Errorf("pattern is not a valid regular expression: %w", err)
	}
	regexCache.Lock()
	if len(regexCache.m) >= regexCacheSize {
		regexCache.m = map[string]*regexp.Regexp{}
	}
	regexCache.m[pattern] = re
	regexCache.Unlock()
	return re, nil
}

// ---------- TfIdfVectorizer ----------

var tfIdfDef *OpDef

func init() {
	tfIdfDef = Register(&OpDef{
		Type: "TfIdfVectorizer", Since: 9,
		MinInputs: 1, MaxInputs: 1,
		Types: []DType{Int32, Int64}, StringInputs: true,
		Attrs: []AttrSpec{
			{Name: "max_gram_length", Type: AttrInt, Required: true},
			{Name: "max_skip_count", Type: AttrInt, Required: true},
			{Name: "min_gram_length", Type: AttrInt, Required: true},
			{Name: "mode", Type: AttrString, Required: true},
			{Name: "ngram_counts", Type: AttrInts, Required: true},
			{Name: "ngram_indexes", Type: AttrInts, Required: true},
			{Name: "pool_int64s", Type: AttrInts},
			{Name: "pool_strings", Type: AttrStrings},
			{Name: "weights", Type: AttrFloats},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "X"); err != nil {
				return nil, err
			}
			strs, size, err := tfIdfCheck(a)
			if err != nil {
				return nil, err
			}
			if strs && x.DType != String || !strs && x.DType != Int32 && x.DType != Int64 {
				pool := map[bool]string{true: "pool_strings", false: "pool_int64s"}[strs]
				return nil, fmt.Errorf("X is %s, but the n-grams are %s (%s wants %s)", x.DType, pool, pool,
					map[bool]string{true: "strings", false: "int32 or int64"}[strs])
			}
			switch len(x.Shape) {
			case 0, 1:
				return []Meta{{DType: Float32, Shape: []int{size}}}, nil
			case 2:
				if x.Shape[0] == 0 {
					// ONNX Runtime refuses it too.
					return nil, fmt.Errorf("X has shape %v: a batch must have at least one row", x.Shape)
				}
				return []Meta{{DType: Float32, Shape: []int{x.Shape[0], size}}}, nil
			}
			return nil, fmt.Errorf("X must have shape [C] or [N, C], got %v", x.Shape)
		},
		Kernel: tfIdfK,
	})
}

// TfIdfVectorizer counts, in every row of x ([C] or [N, C], int32, int64
// or strings), the n-grams of the attribute pool and weighs the counts;
// attrs are the ONNX attributes (mode, min_gram_length, max_gram_length,
// max_skip_count, ngram_counts, ngram_indexes, pool_int64s or
// pool_strings, weights). The output is float32 [max(ngram_indexes)+1],
// or [N, max(ngram_indexes)+1].
func TfIdfVectorizer(x *Node, attrs Attrs) *Node { return Apply1(tfIdfDef, attrs, x) }

// tfIdfCheck checks the attributes (as ONNX Runtime does, and so that no
// pool n-gram maps outside ngram_indexes or weights) and returns whether
// the pool holds strings and the output's row length.
func tfIdfCheck(a Attrs) (strs bool, size int, err error) {
	switch m := a.String("mode"); m {
	case "TF", "IDF", "TFIDF":
	default:
		return false, 0, fmt.Errorf("mode must be TF, IDF or TFIDF, got %q", m)
	}
	lo, hi, skip := a.Int("min_gram_length"), a.Int("max_gram_length"), a.Int("max_skip_count")
	counts, idx := a.Ints("ngram_counts"), a.Ints("ngram_indexes")
	switch {
	case lo < 1:
		return false, 0, fmt.Errorf("min_gram_length must be at least 1, got %d", lo)
	case hi < lo:
		return false, 0, fmt.Errorf("max_gram_length %d is less than min_gram_length %d", hi, lo)
	case skip < 0:
		return false, 0, fmt.Errorf("max_skip_count must not be negative, got %d", skip)
	case hi > int64(len(counts)):
		return false, 0, fmt.Errorf("max_gram_length %d is beyond ngram_counts, which covers %d n-gram lengths", hi, len(counts))
	case len(idx) == 0:
		return false, 0, fmt.Errorf("ngram_indexes is empty")
	}
	for i, v := range idx {
		if _, err := dimOf(v, "ngram_indexes"); err != nil {
			return false, 0, fmt.Errorf("ngram_indexes[%d] = %d is out of range", i, v)
		}
		size = max(size, int(v)+1)
	}
	ps, pi := a.Has("pool_strings"), a.Has("pool_int64s")
	var total int
	switch {
	case ps && pi:
		return false, 0, fmt.Errorf("both pool_strings and pool_int64s are set; give one")
	case ps:
		total = len(a.Strings("pool_strings"))
	case pi:
		total = len(a.Ints("pool_int64s"))
	default:
		return false, 0, fmt.Errorf("neither pool_strings nor pool_int64s is set")
	}
	if total == 0 {
		return false, 0, fmt.Errorf("the pool is empty")
	}
	used, err := tfIdfLevels(counts, total, int(lo), int(hi), nil)
	if err != nil {
		return false, 0, err
	}
	if used > len(idx) {
		return false, 0, fmt.Errorf("the pool holds at least %d n-grams, but ngram_indexes only %d", used, len(idx))
	}
	if a.Has("weights") {
		w := a.Floats("weights")
		if len(w) != len(idx) {
			return false, 0, fmt.Errorf("weights has %d values, ngram_indexes %d; they must be as long", len(w), len(idx))
		}
		// ONNX Runtime (and ONNX's reference) weigh output column j by
		// weights[j], so every column needs one.
		if size > len(w) {
			return false, 0, fmt.Errorf("the output has %d columns (max(ngram_indexes)+1), but weights only %d values", size, len(w))
		}
	}
	return ps, size, nil
}

// tfIdfLevels walks the pool's n-gram lengths (ngram_counts[i] is where
// the (i+1)-grams start among total items), calling add for every n-gram
// of a length in [lo, hi] with its id (its position among all the pool's
// n-grams) and its first item. It returns one past the last id passed to
// add.
func tfIdfLevels(counts []int64, total, lo, hi int, add func(id, first, n int) error) (int, error) {
	id, used := 0, 0
	for i, start := range counts {
		n := i + 1
		end := int64(total)
		if i+1 < len(counts) {
			end = counts[i+1]
		}
		if start < 0 || end < start || end > int64(total) {
			return 0, fmt.Errorf("ngram_counts %v: the %d-grams (items %d to %d) are outside the pool of %d items", counts, n, start, end, total)
		}
		items := int(end - start)
		if items%n != 0 {
			return 0, fmt.Errorf("ngram_counts: %d items do not make whole %d-grams", items, n)
		}
		for k := 0; k < items/n; k++ {
			if n >= lo && n <= hi {
				if add != nil {
					if err := add(id, int(start)+k*n, n); err != nil {
						return 0, err
					}
				}
				used = id + 1
			}
			id++
		}
	}
	return used, nil
}

// tfIdfTable is a compiled pool: n-gram keys (their items' bytes, see
// appendGramKey) to ids.
type tfIdfTable struct {
	ids map[string]int
}

// appendGramKey appends one n-gram item to key: 8 bytes for an integer
// (int32 widened), or the length then the bytes for a string.
func appendGramKey(key []byte, x *Tensor, i int) []byte {
	switch x.DType {
	case String:
		s := x.S[i]
		key = binaryAppendUvarint(key, uint64(len(s)))
		return append(key, s...)
	case Int32:
		return binaryAppend64(key, uint64(int64(Data[int32](x)[i])))
	}
	return binaryAppend64(key, uint64(x.I[i]))
}

func binaryAppend64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func binaryAppendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func compileTfIdf(a Attrs) (*tfIdfTable, error) {
	var pool *Tensor
	if a.Has("pool_strings") {
		ps := a.Strings("pool_strings")
		pool = &Tensor{DType: String, Shape: []int{len(ps)}, S: ps}
	} else {
		pi := a.Ints("pool_int64s")
		pool = &Tensor{DType: Int64, Shape: []int{len(pi)}, I: pi}
	}
	t := &tfIdfTable{ids: map[string]int{}}
	var key []byte
	_, err := tfIdfLevels(a.Ints("ngram_counts"), pool.Len(), int(a.Int("min_gram_length")), int(a.Int("max_gram_length")),
		func(id, first, n int) error {
			key = key[:0]
			for j := first; j < first+n; j++ {
				key = appendGramKey(key, pool, j)
			}
			if _, dup := t.ids[string(key)]; dup {
				return fmt.Errorf("the pool repeats a %d-gram (at item %d)", n, first)
			}
			t.ids[string(key)] = id
			return nil
		})
	return t, err
}

// tfIdfCacheKey identifies a pool by the storage of its attribute slices
// (never modified once an op holds them; see labelCacheKey).
type tfIdfCacheKey struct {
	pool, counts   unsafe.Pointer
	np, nc, lo, hi int
}

var tfIdfCache = struct {
	sync.Mutex
	m map[tfIdfCacheKey]*tfIdfTable
}{m: map[tfIdfCacheKey]*tfIdfTable{}}

func tfIdfTableOf(a Attrs) (*tfIdfTable, error) {
	var k tfIdfCacheKey
	if a.Has("pool_strings") {
		k.pool, k.np = sliceKey(a["pool_strings"])
	} else {
		k.pool, k.np = sliceKey(a["pool_int64s"])
		k.np = -k.np - 1 // not the same key as strings at the same address
	}
	k.counts, k.nc = sliceKey(a["ngram_counts"])
	k.lo, k.hi = int(a.Int("min_gram_length")), int(a.Int("max_gram_length"))
	tfIdfCache.Lock()
	t := tfIdfCache.m[k]
	tfIdfCache.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := compileTfIdf(a)
	if err != nil {
		return nil, err
	}
	tfIdfCache.Lock()
	if len(tfIdfCache.m) >= labelCacheSize {
		tfIdfCache.m = map[tfIdfCacheKey]*tfIdfTable{}
	}
	tfIdfCache.m[k] = t
	tfIdfCache.Unlock()
	return t, nil
}

// tfIdfK counts n-grams as ONNX Runtime does: every item that is a pool
// 1-gram once (when min_gram_length is 1), then, for each skip distance d
// from 1 to max_skip_count+1, the n-grams of items i, i+d, i+2d, ... of
// every length in [max(min_gram_length, 2), max_gram_length] at every
// start i. An n-gram's count goes to Y[ngram_indexes[its id]]. TF
// outputs the counts; IDF 1 (or weights[j] for column j) where a count is
// positive; TFIDF the counts times weights[j] (column j's weight, as in
// ONNX Runtime and ONNX's reference).
func tfIdfK(in []*Tensor, a Attrs, out []*Tensor) error {
	x, y := in[0], out[0]
	if _, _, err := tfIdfCheck(a); err != nil {
		return err
	}
	t, err := tfIdfTableOf(a)
	if err != nil {
		return err
	}
	idx := a.Ints("ngram_indexes")
	lo, hi := int(a.Int("min_gram_length")), int(a.Int("max_gram_length"))
	skip := a.Int("max_skip_count")
	size := y.Shape[len(y.Shape)-1]
	rows, c := 1, x.Len()
	if len(x.Shape) == 2 {
		rows, c = x.Shape[0], x.Shape[1]
	}
	var w []float32
	if a.Has("weights") {
		w = a.Floats("weights")
	}
	mode := a.String("mode")
	counts := make([]uint32, size)
	var key []byte
	hit := func(id int) {
		counts[idx[id]]++
	}
	for r := 0; r < rows; r++ {
		clear(counts)
		base := r * c
		start := lo
		if lo == 1 {
			for i := 0; i < c; i++ {
				key = appendGramKey(key[:0], x, base+i)
				if id, ok := t.ids[string(key)]; ok {
					hit(id)
				}
			}
			start = 2
		}
		if start <= hi && c > 1 {
			// Distances of c or more fit no 2-gram in the row.
			dmax := c - 1
			if skip < int64(dmax) {
				dmax = int(skip) + 1
			}
			for d := 1; d <= dmax; d++ {
				for i := 0; i+d*(start-1) < c; i++ {
					key = key[:0]
					for n, j := 1, i; n <= hi && j < c; n, j = n+1, j+d {
						key = appendGramKey(key, x, base+j)
						if n >= start {
							if id, ok := t.ids[string(key)]; ok {
								hit(id)
							}
						}
					}
				}
			}
		}
		o := y.F[r*size : (r+1)*size]
		for j, n := range counts {
			switch {
			case mode == "TF" || mode == "TFIDF" && w == nil:
				o[j] = float32(n)
			case mode == "TFIDF":
				o[j] = float32(n) * w[j]
			case n == 0: // IDF
				o[j] = 0
			case w == nil:
				o[j] = 1
			default:
				o[j] = w[j]
			}
		}
	}
	return nil
}
