package graph

import (
	"fmt"
	"math"
	"strings"
)

// This file holds the recurrent ops LSTM, GRU and RNN (forward, reverse
// and bidirectional; layout 0 and 1; optional sequence_lens, initial_h,
// initial_c and LSTM peepholes; GRU's linear_before_reset; clip). The
// input projection of every time step is one GEMM before the recurrence,
// and each step's hidden projection one more, both through Sgemm for
// float32 (the generic GEMM for float64; float16 via float32).
//
// Activations: the defaults (Sigmoid, Tanh, Tanh) and any of the ONNX
// activation functions that take no parameters (Sigmoid, Tanh, Relu,
// Softsign, Softplus); ones that take alpha or beta, and LSTM's
// input_forget, are refused as unsupported.
//
// With sequence_lens, steps past a sequence's length leave its state as
// is and give zeros in Y; the reverse direction runs each sequence from
// its own last step (as ONNX Runtime).

type rnnKind int

const (
	kindRNN rnnKind = iota
	kindGRU
	kindLSTM
)

func (k rnnKind) String() string { return [...]string{"RNN", "GRU", "LSTM"}[k] }

// gates is the number of gate blocks in W and R.
func (k rnnKind) gates() int { return [...]int{1, 3, 4}[k] }

// defaultActs is the number of activation functions per direction and
// their defaults.
func (k rnnKind) defaultActs() []string {
	return [...][]string{{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}}[k]
}

var rnnActs = map[string]func(float64) float64{
	"sigmoid":  func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
	"tanh":     math.Tanh,
	"relu":     func(x float64) float64 { return math.Max(x, 0) },
	"softsign": func(x float64) float64 { return x / (1 + math.Abs(x)) },
	"softplus": func(x float64) float64 {
		if x > 30 {
			return x
		}
		return math.Log1p(math.Exp(x))
	},
}

func rnnAttrs(k rnnKind) []AttrSpec {
	a := []AttrSpec{
		{Name: "activation_alpha", Type: AttrFloats},
		{Name: "activation_beta", Type: AttrFloats},
		{Name: "activations", Type: AttrStrings},
		{Name: "clip", Type: AttrFloat},
		{Name: "direction", Type: AttrString, Default: "forward"},
		{Name: "hidden_size", Type: AttrInt},
		{Name: "layout", Type: AttrInt, Default: int64(0)},
	}
	switch k {
	case kindGRU:
		a = append(a, AttrSpec{Name: "linear_before_reset", Type: AttrInt, Default: int64(0)})
	case kindLSTM:
		a = append(a, AttrSpec{Name: "input_forget", Type: AttrInt, Default: int64(0)})
	}
	return a
}

// rnnShape is what shape inference learns of a recurrent node.
type rnnShape struct {
	seq, batch, input, hidden, dirs int
	layout                          int
}

func rnnDirs(a Attrs) (int, error) {
	switch a.String("direction") {
	case "forward", "reverse":
		return 1, nil
	case "bidirectional":
		return 2, nil
	}
	return 0, fmt.Errorf("direction %q is not forward, reverse or bidirectional", a.String("direction"))
}

// rnnActivations resolves the activation functions of every direction.
func rnnActivations(k rnnKind, a Attrs, dirs int) ([]func(float64) float64, error) {
	if a.Has("activation_alpha") || a.Has("activation_beta") {
		return nil, unsupported(k.String(), "activation_alpha and activation_beta")
	}
	names := k.defaultActs()
	per := len(names)
	var list []string
	for d := 0; d < dirs; d++ {
		list = append(list, names...)
	}
	if a.Has("activations") {
		list = a.Strings("activations")
		if len(list) != per*dirs {
			return nil, fmt.Errorf("activations has %d names, want %d (%d per direction)", len(list), per*dirs, per)
		}
	}
	fs := make([]func(float64) float64, len(list))
	for i, n := range list {
		f, ok := rnnActs[strings.ToLower(n)]
		if !ok {
			return nil, unsupported(k.String(), "activation %q", n)
		}
		fs[i] = f
	}
	return fs, nil
}

func rnnInfer(k rnnKind) func([]Meta, Attrs) ([]Meta, error) {
	return func(in []Meta, a Attrs) ([]Meta, error) {
		s, err := rnnCheck(k, in, a)
		if err != nil {
			return nil, err
		}
		dt := in[0].DType
		y := []int{s.seq, s.dirs, s.batch, s.hidden}
		h := []int{s.dirs, s.batch, s.hidden}
		if s.layout == 1 {
			y = []int{s.batch, s.seq, s.dirs, s.hidden}
			h = []int{s.batch, s.dirs, s.hidden}
		}
		out := []Meta{{DType: dt, Shape: y}, {DType: dt, Shape: h}}
		if k == kindLSTM {
			out = append(out, Meta{DType: dt, Shape: h})
		}
		return out, nil
	}
}

// rnnCheck validates the inputs' dtypes and shapes and the attributes.
func rnnCheck(k rnnKind, in []Meta, a Attrs) (rnnShape, error) {
	var s rnnShape
	dirs, err := rnnDirs(a)
	if err != nil {
		return s, err
	}
	s.dirs = dirs
	if _, err := rnnActivations(k, a, dirs); err != nil {
		return s, err
	}
	if k == kindLSTM && a.Int("input_forget") != 0 {
		return s, unsupported("LSTM", "input_forget=1")
	}
	if a.Has("clip") && !(a.Float("clip") > 0) {
		return s, fmt.Errorf("clip %v must be positive", a.Float("clip"))
	}
	s.layout = int(a.Int("layout"))
	if s.layout != 0 && s.layout != 1 {
		return s, fmt.Errorf("layout %d must be 0 or 1", s.layout)
	}
	x, w, r := in[0], in[1], in[2]
	if !x.DType.IsFloat() {
		return s, &DTypeError{Input: 0, DType: x.DType}
	}
	for i := range in {
		m, ok := optIn(in, i)
		if !ok {
			continue
		}
		want := x.DType
		if i == 4 {
			want = Int32
		}
		if m.DType != want {
			return s, fmt.Errorf("input %d is %s, want %s", i, m.DType, want)
		}
	}
	if len(x.Shape) != 3 || len(w.Shape) != 3 || len(r.Shape) != 3 {
		return s, fmt.Errorf("X, W and R must have rank 3, got shapes %v, %v, %v", x.Shape, w.Shape, r.Shape)
	}
	s.seq, s.batch, s.input = x.Shape[0], x.Shape[1], x.Shape[2]
	if s.layout == 1 {
		s.seq, s.batch = s.batch, s.seq
	}
	s.hidden = r.Shape[2]
	if a.Has("hidden_size") {
		if hs := a.Int("hidden_size"); s.hidden >= 0 && hs != int64(s.hidden) {
			return s, fmt.Errorf("hidden_size %d but R has shape %v", hs, r.Shape)
		} else if s.hidden < 0 {
			s.hidden = int(hs)
		}
	}
	G, H := k.gates(), s.hidden
	check := func(name string, m Meta, want []int) error {
		if len(m.Shape) != len(want) {
			return fmt.Errorf("%s must have shape %v, got %v", name, want, m.Shape)
		}
		for i, d := range want {
			if d >= 0 && m.Shape[i] >= 0 && m.Shape[i] != d {
				return fmt.Errorf("%s must have shape %v, got %v", name, want, m.Shape)
			}
		}
		return nil
	}
	gh := -1
	if H >= 0 {
		gh = G * H
	}
	if err := check("W", w, []int{dirs, gh, s.input}); err != nil {
		return s, err
	}
	if err := check("R", r, []int{dirs, gh, H}); err != nil {
		return s, err
	}
	hs := []int{dirs, s.batch, H}
	if s.layout == 1 {
		hs = []int{s.batch, dirs, H}
	}
	names := []string{"", "", "", "B", "sequence_lens", "initial_h", "initial_c", "P"}
	for i := 3; i < len(in); i++ {
		m, ok := optIn(in, i)
		if !ok {
			continue
		}
		var want []int
		switch i {
		case 3:
			want = []int{dirs, 2 * gh}
			if gh < 0 {
				want[1] = -1
			}
		case 4:
			want = []int{s.batch}
		case 5, 6:
			want = hs
		case 7:
			want = []int{dirs, 3 * H}
			if H < 0 {
				want[1] = -1
			}
		}
		if err := check(names[i], m, want); err != nil {
			return s, err
		}
	}
	return s, nil
}

func rnnKernel[T Float](k rnnKind) Kernel {
	return func(in []*Tensor, a Attrs, out []*Tensor) error {
		metas := make([]Meta, len(in))
		for i, t := range in {
			metas[i] = tMeta(t)
		}
		s, err := rnnCheck(k, metas, a)
		if err != nil {
			return err
		}
		acts, _ := rnnActivations(k, a, s.dirs)
		clip := 0.0
		if a.Has("clip") {
			clip = float64(a.Float("clip"))
		}
		lbr := k == kindGRU && a.Int("linear_before_reset") != 0
		seq, batch, inp, H, dirs := s.seq, s.batch, s.input, s.hidden, s.dirs
		G := k.gates()
		gemm := gemmFor[T]()

		// X as [seq, batch, input].
		xs := Data[T](in[0])
		if s.layout == 1 {
			xs = transpose01(xs, batch, seq, inp)
		}
		lens := make([]int, batch)
		for b := range lens {
			lens[b] = seq
		}
		if sl := optT(in, 4); sl != nil {
			for b, v := range Data[int32](sl) {
				if v < 0 || int(v) > seq {
					return fmt.Errorf("sequence_lens[%d] = %d is outside [0, %d]", b, v, seq)
				}
				lens[b] = int(v)
			}
		}
		// Outputs in layout 0, permuted at the end for layout 1.
		y := make([]T, seq*dirs*batch*H)
		yh := make([]T, dirs*batch*H)
		yc := make([]T, dirs*batch*H)
		initH, initC := stateIn[T](optT(in, 5), s), stateIn[T](optT(in, 6), s)

		ws, rs := Data[T](in[1]), Data[T](in[2])
		var bs, ps []T
		if b := optT(in, 3); b != nil {
			bs = Data[T](b)
		}
		if p := optT(in, 7); p != nil {
			ps = Data[T](p)
		}
		xw := make([]T, seq*batch*G*H)
		hr := make([]T, batch*G*H)
		hprev := make([]T, batch*H)
		cprev := make([]T, batch*H)
		rh := make([]T, batch*H) // GRU: r ⊙ H
		hg := make([]T, batch*H) // GRU: the h gate's hidden projection
		for d := 0; d < dirs; d++ {
			reverse := a.String("direction") == "reverse" || d == 1
			f := acts[d*len(k.defaultActs()):]
			wd, rd := ws[d*G*H*inp:(d+1)*G*H*inp], rs[d*G*H*H:(d+1)*G*H*H]
			var wb, rb, pd []T
			if bs != nil {
				wb, rb = bs[d*2*G*H:d*2*G*H+G*H], bs[d*2*G*H+G*H:(d+1)*2*G*H]
			}
			if ps != nil {
				pd = ps[d*3*H : (d+1)*3*H]
			}
			// All steps' input projections at once: [seq·batch, G·H].
			gemm(false, true, seq*batch, G*H, inp, 1, xs, inp, wd, inp, 0, xw, G*H)
			copy(hprev, initH[d*batch*H:(d+1)*batch*H])
			copy(cprev, initC[d*batch*H:(d+1)*batch*H])
			for t := 0; t < seq; t++ {
				// Hidden projection of every gate but GRU's h gate when it
				// is applied after the reset.
				ng := G
				if k == kindGRU && !lbr {
					ng = 2
				}
				gemm(false, true, batch, ng*H, H, 1, hprev, H, rd, H, 0, hr, G*H)
				if k == kindGRU && !lbr {
					for b := 0; b < batch; b++ {
						tt := t
						if reverse {
							tt = lens[b] - 1 - t
						}
						if t >= lens[b] {
							continue
						}
						for j := 0; j < H; j++ {
							pre := float64(xw[(tt*batch+b)*G*H+H+j]) + float64(hr[b*G*H+H+j])
							if wb != nil {
								pre += float64(wb[H+j]) + float64(rb[H+j])
							}
							rh[b*H+j] = T(float64(hprev[b*H+j]) * f[0](clipTo(pre, clip)))
						}
					}
					gemm(false, true, batch, H, H, 1, rh, H, rd[2*H*H:], H, 0, hg, H)
				}
				for b := 0; b < batch; b++ {
					if t >= lens[b] {
						continue
					}
					tt := t
					if reverse {
						tt = lens[b] - 1 - t
					}
					gx := xw[(tt*batch+b)*G*H : (tt*batch+b+1)*G*H]
					gh := hr[b*G*H : (b+1)*G*H]
					pre := func(g, j int) float64 {
						v := float64(gx[g*H+j]) + float64(gh[g*H+j])
						if wb != nil {
							v += float64(wb[g*H+j]) + float64(rb[g*H+j])
						}
						return v
					}
					hp, cp := hprev[b*H:(b+1)*H], cprev[b*H:(b+1)*H]
					for j := 0; j < H; j++ {
						switch k {
						case kindRNN:
							hp[j] = T(f[0](clipTo(pre(0, j), clip)))
						case kindGRU:
							z := f[0](clipTo(pre(0, j), clip))
							var hc float64
							if lbr {
								r := f[0](clipTo(pre(1, j), clip))
								v := float64(gx[2*H+j]) + r*float64(gh[2*H+j])
								if wb != nil {
									v += float64(wb[2*H+j]) + r*float64(rb[2*H+j])
								}
								hc = f[1](clipTo(v, clip))
							} else {
								v := float64(gx[2*H+j]) + float64(hg[b*H+j])
								if wb != nil {
									v += float64(wb[2*H+j]) + float64(rb[2*H+j])
								}
								hc = f[1](clipTo(v, clip))
							}
							hp[j] = T((1-z)*hc + z*float64(hp[j]))
						case kindLSTM:
							c0 := float64(cp[j])
							pi, po, pf := pre(0, j), pre(1, j), pre(2, j)
							if pd != nil {
								pi += float64(pd[j]) * c0
								pf += float64(pd[2*H+j]) * c0
							}
							ig := f[0](clipTo(pi, clip))
							fg := f[0](clipTo(pf, clip))
							cg := f[1](clipTo(pre(3, j), clip))
							c := fg*c0 + ig*cg
							if pd != nil {
								po += float64(pd[H+j]) * c
							}
							og := f[0](clipTo(po, clip))
							cp[j] = T(c)
							hp[j] = T(og * f[2](c))
						}
					}
					copy(y[((tt*dirs+d)*batch+b)*H:], hp)
				}
			}
			copy(yh[d*batch*H:], hprev)
			copy(yc[d*batch*H:], cprev)
		}
		outs := [][]T{y, yh, yc}
		for i := range out {
			if out[i] == nil {
				continue
			}
			dst := Data[T](out[i])
			switch {
			case s.layout == 0:
				copy(dst, outs[i])
			case i == 0: // [seq, dirs, batch, H] -> [batch, seq, dirs, H]
				for t := 0; t < seq; t++ {
					for d := 0; d < dirs; d++ {
						for b := 0; b < batch; b++ {
							copy(dst[((b*seq+t)*dirs+d)*H:((b*seq+t)*dirs+d+1)*H], y[((t*dirs+d)*batch+b)*H:])
						}
					}
				}
			default: // [dirs, batch, H] -> [batch, dirs, H]
				copy(dst, transpose01(outs[i], dirs, batch, H))
			}
		}
		return nil
	}
}

func clipTo(v, c float64) float64 {
	if c > 0 {
		return math.Max(-c, math.Min(c, v))
	}
	return v
}

// transpose01 swaps the first two dimensions of an [a, b, c] array.
func transpose01[T Number](x []T, a, b, c int) []T {
	out := make([]T, len(x))
	for i := 0; i < a; i++ {
		for j := 0; j < b; j++ {
			copy(out[(j*a+i)*c:(j*a+i+1)*c], x[(i*b+j)*c:(i*b+j+1)*c])
		}
	}
	return out
}

// stateIn reads initial_h or initial_c as [dirs, batch, H] (zeros when
// absent).
func stateIn[T Float](t *Tensor, s rnnShape) []T {
	if t == nil {
		return make([]T, s.dirs*s.batch*s.hidden)
	}
	v := Data[T](t)
	if s.layout == 1 {
		return transpose01(v, s.batch, s.dirs, s.hidden)
	}
	return v
}

var rnnDef, gruDef, lstmDef *OpDef

func regRNN(k rnnKind, since int, compat []int, maxIn, outputs int) *OpDef {
	return Register(&OpDef{
		Type: k.String(), Since: since, Compat: compat,
		MinInputs: 3, MaxInputs: maxIn, Outputs: outputs,
		Attrs:  rnnAttrs(k),
		Types:  []DType{Float32, Float64, Float16, Int32},
		Infer:  rnnInfer(k),
		Kernel: Dispatch{Float32: rnnKernel[float32](k), Float64: rnnKernel[float64](k), Float16: halfVia32(rnnKernel[float32](k))}.On(0),
	})
}

func init() {
	rnnDef = regRNN(kindRNN, 14, []int{7, 22}, 6, 2)
	gruDef = regRNN(kindGRU, 14, []int{7, 22}, 6, 2)
	lstmDef = regRNN(kindLSTM, 14, []int{7, 22}, 8, 3)
}

// rnnInputs lists a recurrent op's inputs, dropping trailing nil ones.
func rnnInputs(ins ...*Node) []*Node {
	for len(ins) > 0 && ins[len(ins)-1] == nil {
		ins = ins[:len(ins)-1]
	}
	return ins
}

// LSTM runs an LSTM over x (ONNX inputs X, W, R, B, sequence_lens,
// initial_h, initial_c, P; nil for absent optional ones) with the ONNX
// attributes in attrs. It returns Y, Y_h and Y_c.
func LSTM(attrs Attrs, x, w, r, b, seqLens, initH, initC, p *Node) (y, yh, yc *Node) {
	out := MustApply(lstmDef, attrs, rnnInputs(x, w, r, b, seqLens, initH, initC, p)...)
	return out[0], out[1], out[2]
}

// GRU runs a GRU over x (ONNX inputs X, W, R, B, sequence_lens,
// initial_h; nil for absent optional ones). It returns Y and Y_h.
func GRU(attrs Attrs, x, w, r, b, seqLens, initH *Node) (y, yh *Node) {
	out := MustApply(gruDef, attrs, rnnInputs(x, w, r, b, seqLens, initH)...)
	return out[0], out[1]
}

// RNN runs a simple recurrent layer over x (ONNX inputs X, W, R, B,
// sequence_lens, initial_h). It returns Y and Y_h.
func RNN(attrs Attrs, x, w, r, b, seqLens, initH *Node) (y, yh *Node) {
	out := MustApply(rnnDef, attrs, rnnInputs(x, w, r, b, seqLens, initH)...)
	return out[0], out[1]
}
