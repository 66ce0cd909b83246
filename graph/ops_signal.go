package graph

import (
	"fmt"
	"math"
	"math/bits"
	"math/cmplx"
)

// Signal ops: the cosine-sum windows (HannWindow, HammingWindow,
// BlackmanWindow), DFT, STFT and MelWeightMatrix. Every transform is
// computed in float64 whatever the element type (float16, float32 or
// float64), then rounded once to the output's type: a radix-2 FFT for
// power-of-two lengths, a direct DFT for short other lengths, and
// Bluestein's chirp-z algorithm (a power-of-two convolution) for long
// ones, so that any length costs O(n log n).

// ---------- shared helpers ----------

// float64sOf returns a float (or integer) tensor's values as float64.
func float64sOf(t *Tensor) []float64 {
	out := make([]float64, t.Len())
	switch t.DType {
	case Float32:
		for i, v := range t.F {
			out[i] = float64(v)
		}
	case Float64:
		copy(out, Data[float64](t))
	case Float16:
		for i, v := range Data[Half](t) {
			out[i] = float64(v.Float32())
		}
	default:
		for i := range out {
			out[i] = t.Float(i)
		}
	}
	return out
}

// storeFloats writes v into t, rounding to t's element type (integer
// types convert as Cast does: truncation toward zero).
func storeFloats(t *Tensor, v []float64) error {
	switch t.DType {
	case Float32:
		for i, x := range v {
			t.F[i] = float32(x)
		}
	case Float64:
		copy(Data[float64](t), v)
	case Float16:
		h := Data[Half](t)
		for i, x := range v {
			h[i] = F16(float32(x))
		}
	default:
		return castKernel([]*Tensor{FromSlice(t.Shape, v)}, nil, []*Tensor{t})
	}
	return nil
}

// scalarIntInput checks an int32 or int64 input holding one value (a
// scalar or a 1-element 1-D tensor) and returns the value when known.
func scalarIntInput(m Meta, what string) (v int64, known bool, err error) {
	if err := checkData(m, what); err != nil {
		return 0, false, err
	}
	if !isIndexType(m.DType) {
		return 0, false, fmt.Errorf("%s must be int32 or int64, got %s", what, m.DType)
	}
	if len(m.Shape) > 1 || len(m.Shape) == 1 && m.Shape[0] >= 0 && m.Shape[0] != 1 {
		return 0, false, fmt.Errorf("%s must be a scalar, got shape %v", what, m.Shape)
	}
	if m.Value == nil {
		return 0, false, nil
	}
	if m.Value.Len() != 1 {
		return 0, false, fmt.Errorf("%s must hold one value, got %d", what, m.Value.Len())
	}
	return m.Value.Int(0), true, nil
}

// scalarFloatInput is scalarIntInput for a float input.
func scalarFloatInput(m Meta, what string) (v float64, known bool, err error) {
	if err := checkData(m, what); err != nil {
		return 0, false, err
	}
	if !m.DType.IsFloat() {
		return 0, false, fmt.Errorf("%s must be a float tensor, got %s", what, m.DType)
	}
	if len(m.Shape) > 1 || len(m.Shape) == 1 && m.Shape[0] >= 0 && m.Shape[0] != 1 {
		return 0, false, fmt.Errorf("%s must be a scalar, got shape %v", what, m.Shape)
	}
	if m.Value == nil {
		return 0, false, nil
	}
	if m.Value.Len() != 1 {
		return 0, false, fmt.Errorf("%s must hold one value, got %d", what, m.Value.Len())
	}
	return m.Value.Float(0), true, nil
}

// outputDType resolves an output_datatype attribute to a numeric dtype.
func outputDType(a Attrs) (DType, error) {
	code := a.Int("output_datatype")
	dt, ok := DTypeFromONNX(int32(code))
	if !ok || int64(int32(code)) != code || !dt.IsNumeric() {
		return Invalid, fmt.Errorf("output_datatype %s not supported", onnxTypeName(code))
	}
	return dt, nil
}

// ---------- FFT ----------

// fftPlan transforms complex vectors of one length n (unnormalized, sign
// -1 forward, +1 inverse).
type fftPlan struct {
	n      int
	tw     []complex128 // radix-2: exp(-2πik/n), k < n/2; direct: exp(-2πik/n), k < n
	rev    []int        // radix-2 bit reversal
	chirp  []complex128 // Bluestein: exp(-πik²/n)
	inner  *fftPlan     // Bluestein: the power-of-two convolution plan
	bfft   []complex128 // Bluestein: the transformed conjugate chirp
	buf    []complex128
	direct bool
}

// directMax is the longest non-power-of-two length transformed directly
// (O(n²)); longer ones use Bluestein.
const directMax = 32

// cis returns exp(-2πi k/n) with k reduced mod n first, for accuracy.
func cis(k, n int) complex128 {
	s, c := math.Sincos(-2 * math.Pi * float64(k%n) / float64(n))
	return complex(c, s)
}

func newFFTPlan(n int) *fftPlan {
	p := &fftPlan{n: n}
	switch {
	case n <= 1:
	case n&(n-1) == 0:
		p.tw = make([]complex128, n/2)
		for k := range p.tw {
			p.tw[k] = cis(k, n)
		}
		p.rev = make([]int, n)
		shift := bits.UintSize - bits.Len(uint(n-1))
		for i := range p.rev {
			p.rev[i] = int(bits.Reverse(uint(i)) >> shift)
		}
	case n <= directMax:
		p.direct = true
		p.tw = make([]complex128, n)
		for k := range p.tw {
			p.tw[k] = cis(k, n)
		}
		p.buf = make([]complex128, n)
	default:
		m := 1 << bits.Len(uint(2*n-2))
		p.inner = newFFTPlan(m)
		p.chirp = make([]complex128, n)
		for k := range p.chirp {
			// exp(-πik²/n) = exp(-2πi (k² mod 2n) / 2n)
			k2 := (k * k) % (2 * n)
			p.chirp[k] = cis(k2, 2*n)
		}
		p.bfft = make([]complex128, m)
		p.bfft[0] = cmplx.Conj(p.chirp[0])
		for k := 1; k < n; k++ {
			c := cmplx.Conj(p.chirp[k])
			p.bfft[k], p.bfft[m-k] = c, c
		}
		p.inner.transform(p.bfft, false)
		p.buf = make([]complex128, m)
	}
	return p
}

// transform replaces x (of length n) with its DFT (inverse: the
// unnormalized inverse DFT).
func (p *fftPlan) transform(x []complex128, inverse bool) {
	n := p.n
	if n <= 1 {
		return
	}
	if inverse { // ifft(x) = conj(fft(conj(x)))
		for i := range x {
			x[i] = cmplx.Conj(x[i])
		}
		p.transform(x, false)
		for i := range x {
			x[i] = cmplx.Conj(x[i])
		}
		return
	}
	switch {
	case p.direct:
		for k := 0; k < n; k++ {
			var s complex128
			for j, v := range x {
				s += v * p.tw[(k*j)%n]
			}
			p.buf[k] = s
		}
		copy(x, p.buf)
	case p.inner != nil:
		m := p.inner.n
		a := p.buf
		for k := 0; k < n; k++ {
			a[k] = x[k] * p.chirp[k]
		}
		for k := n; k < m; k++ {
			a[k] = 0
		}
		p.inner.transform(a, false)
		for k := range a {
			a[k] *= p.bfft[k]
		}
		p.inner.transform(a, true)
		for k := 0; k < n; k++ {
			x[k] = a[k] * p.chirp[k] / complex(float64(m), 0)
		}
	default:
		for i, r := range p.rev {
			if i < r {
				x[i], x[r] = x[r], x[i]
			}
		}
		for size := 2; size <= n; size <<= 1 {
			half, step := size/2, n/size
			for start := 0; start < n; start += size {
				for k := 0; k < half; k++ {
					t := x[start+k+half] * p.tw[k*step]
					x[start+k+half] = x[start+k] - t
					x[start+k] += t
				}
			}
		}
	}
}

// ---------- windows ----------

var hannDef, hammingDef, blackmanDef *OpDef

// windowDef defines a cosine-sum window op: w[i] = a0 - a1 cos(2πi/N) +
// a2 cos(4πi/N), N = size (periodic) or size-1 (symmetric).
func windowDef(typ string, a0, a1, a2 float64) *OpDef {
	return Register(&OpDef{
		Type: typ, Since: 17,
		MinInputs: 1, MaxInputs: 1,
		Types:           []DType{Int32, Int64},
		ShapeFromValues: true,
		Attrs: []AttrSpec{
			{Name: "output_datatype", Type: AttrInt, Default: int64(1)},
			{Name: "periodic", Type: AttrInt, Default: int64(1)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			dt, err := outputDType(a)
			if err != nil {
				return nil, err
			}
			n, known, err := scalarIntInput(in[0], "size")
			if err != nil {
				return nil, err
			}
			d := -1
			if known {
				if d, err = dimOf(n, "size"); err != nil {
					return nil, err
				}
			}
			return []Meta{{DType: dt, Shape: []int{d}}}, nil
		},
		Kernel: func(_ []*Tensor, a Attrs, out []*Tensor) error {
			n := out[0].Shape[0]
			den := float64(n)
			if a.Int("periodic") == 0 {
				den = float64(n - 1)
			}
			w := make([]float64, n)
			for i := range w {
				t := 2 * math.Pi * float64(i) / den
				w[i] = a0 - a1*math.Cos(t)
				if a2 != 0 {
					w[i] += a2 * math.Cos(2*t)
				}
			}
			return storeFloats(out[0], w)
		},
	})
}

func init() {
	hannDef = windowDef("HannWindow", 0.5, 0.5, 0)
	hammingDef = windowDef("HammingWindow", 25.0/46, 21.0/46, 0)
	blackmanDef = windowDef("BlackmanWindow", 0.42, 0.5, 0.08)
}

func windowAttrs(dt DType, periodic bool) Attrs {
	p := int64(0)
	if periodic {
		p = 1
	}
	return Attrs{"output_datatype": int64(dt.ONNX()), "periodic": p}
}

// HannWindow returns the Hann window of length size (int64 scalar) as dt,
// periodic (length size+1, first size points) or symmetric.
func HannWindow(size *Node, dt DType, periodic bool) *Node {
	return Apply1(hannDef, windowAttrs(dt, periodic), size)
}

// HammingWindow is HannWindow's Hamming (a0 = 25/46) counterpart.
func HammingWindow(size *Node, dt DType, periodic bool) *Node {
	return Apply1(hammingDef, windowAttrs(dt, periodic), size)
}

// BlackmanWindow is HannWindow's Blackman counterpart.
func BlackmanWindow(size *Node, dt DType, periodic bool) *Node {
	return Apply1(blackmanDef, windowAttrs(dt, periodic), size)
}

// ---------- DFT ----------

var dftDef *OpDef

// dftShape computes DFT's output shape; axis is normalized.
func dftShape(x []int, axis int, n int64, nKnown, onesided, inverse bool) ([]int, error) {
	out := append([]int{}, x...)
	r := len(x)
	if onesided && !inverse {
		if x[r-1] == 2 {
			return nil, fmt.Errorf("onesided forward DFT takes a real input (last dimension 1), got %v", x)
		}
	}
	if onesided && inverse && x[r-1] == 1 {
		return nil, fmt.Errorf("onesided inverse DFT takes a complex input (last dimension 2), got %v", x)
	}
	d := x[axis]
	if !nKnown {
		switch {
		case d < 0:
			n = -1
		case onesided && inverse:
			n = 2 * int64(d-1)
		default:
			n = int64(d)
		}
	}
	if nKnown || n >= 0 {
		if n <= 0 {
			return nil, fmt.Errorf("dft_length must be positive, got %d", n)
		}
		if n > maxElements {
			return nil, fmt.Errorf("dft_length %d too large", n)
		}
	}
	switch {
	case n < 0:
		out[axis] = -1
	case onesided && !inverse:
		out[axis] = int(n/2 + 1)
	default:
		out[axis] = int(n)
	}
	out[r-1] = 2
	if onesided && inverse {
		out[r-1] = 1
	}
	return out, nil
}

func init() {
	dftDef = Register(&OpDef{
		Type: "DFT", Since: 20,
		// DFT-17 takes the axis as an attribute (default 1); the importer
		// rewrites it into the axis input.
		MinInputs: 1, MaxInputs: 3,
		Types:           []DType{Float32, Float64, Float16, Int32, Int64},
		ShapeFromValues: true,
		Attrs: []AttrSpec{
			{Name: "inverse", Type: AttrInt, Default: int64(0)},
			{Name: "onesided", Type: AttrInt, Default: int64(0)},
		},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "input"); err != nil {
				return nil, err
			}
			if !x.DType.IsFloat() {
				return nil, fmt.Errorf("input must be a float tensor, got %s", x.DType)
			}
			r := len(x.Shape)
			if r < 2 {
				return nil, fmt.Errorf("input must have rank at least 2 ([..., signal, 1 or 2]), got shape %v", x.Shape)
			}
			if c := x.Shape[r-1]; c >= 0 && c != 1 && c != 2 {
				return nil, fmt.Errorf("input's last dimension must be 1 (real) or 2 (complex), got %v", x.Shape)
			}
			inv, one := a.Int("inverse"), a.Int("onesided")
			if inv != 0 && inv != 1 || one != 0 && one != 1 {
				return nil, fmt.Errorf("inverse and onesided must be 0 or 1, got %d and %d", inv, one)
			}
			var n int64
			nKnown := false
			if len(in) > 1 && in[1].DType != Invalid {
				var err error
				if n, nKnown, err = scalarIntInput(in[1], "dft_length"); err != nil {
					return nil, err
				}
				if !nKnown {
					out := unknownDims(r)
					return []Meta{{DType: x.DType, Shape: out}}, nil
				}
			}
			axis := int64(-2)
			if len(in) > 2 && in[2].DType != Invalid {
				if in[2].DType != Int64 {
					return nil, fmt.Errorf("axis must be int64, got %s", in[2].DType)
				}
				v, known, err := scalarIntInput(in[2], "axis")
				if err != nil {
					return nil, err
				}
				if !known {
					return []Meta{{DType: x.DType, Shape: unknownDims(r)}}, nil
				}
				axis = v
			}
			ax, err := dftAxis(axis, r)
			if err != nil {
				return nil, err
			}
			if x.Shape[r-1] < 0 {
				return []Meta{{DType: x.DType, Shape: unknownDims(r)}}, nil
			}
			out, err := dftShape(x.Shape, ax, n, nKnown, one == 1, inv == 1)
			if err != nil {
				return nil, err
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x := in[0]
			axis := int64(-2)
			if len(in) > 2 && in[2] != nil {
				axis = in[2].Int(0)
			}
			ax, err := dftAxis(axis, len(x.Shape))
			if err != nil {
				return err
			}
			onesided, inverse := a.Int("onesided") == 1, a.Int("inverse") == 1
			n := x.Shape[ax]
			switch {
			case len(in) > 1 && in[1] != nil:
				n = int(in[1].Int(0))
			case onesided && inverse:
				n = 2 * (n - 1)
			}
			y, err := dftCompute(float64sOf(x), x.Shape, ax, n, onesided, inverse, nil, out[0].Shape)
			if err != nil {
				return err
			}
			return storeFloats(out[0], y)
		},
	})
}

// dftAxis normalizes a DFT axis, which may not be the last (complex) one.
func dftAxis(axis int64, r int) (int, error) {
	ax, err := normAxis(axis, r)
	if err != nil {
		return 0, err
	}
	if ax == r-1 {
		return 0, fmt.Errorf("axis %d is the last (real/imaginary) dimension", axis)
	}
	return ax, nil
}

// dftCompute transforms x (shape xs, last dim 1 or 2) along axis ax with
// length n and returns the output of shape ys. window, when not nil,
// multiplies the (truncated or padded) signal first.
func dftCompute(x []float64, xs []int, ax, n int, onesided, inverse bool, window []float64, ys []int) ([]float64, error) {
	r := len(xs)
	xc, yc := xs[r-1], ys[r-1]
	outer := Size(xs[:ax])
	d := xs[ax]
	inner := Size(xs[ax+1 : r-1])
	m := ys[ax]
	if n <= 0 {
		return nil, fmt.Errorf("dft_length must be positive, got %d", n)
	}
	if m > n || len(x) != Size(xs) {
		return nil, fmt.Errorf("output shape %v does not fit dft_length %d (a stale shape inference)", ys, n)
	}
	y := make([]float64, Size(ys))
	if len(y) == 0 {
		return y, nil
	}
	p := newFFTPlan(n)
	v := make([]complex128, n)
	scale := 1.0
	if inverse {
		scale = 1 / float64(n)
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			for k := range v {
				v[k] = 0
			}
			read := func(j int) complex128 {
				base := ((o*d+j)*inner + i) * xc
				if xc == 2 {
					return complex(x[base], x[base+1])
				}
				return complex(x[base], 0)
			}
			if onesided && inverse {
				// Hermitian completion of the one-sided spectrum.
				for k := 0; k <= n/2 && k < d; k++ {
					v[k] = read(k)
				}
				for k := n/2 + 1; k < n; k++ {
					v[k] = cmplx.Conj(v[n-k])
				}
			} else {
				for j := 0; j < n && j < d; j++ {
					v[j] = read(j)
				}
			}
			if window != nil {
				for j := range v {
					v[j] *= complex(window[j], 0)
				}
			}
			p.transform(v, inverse)
			for k := 0; k < m; k++ {
				base := ((o*m+k)*inner + i) * yc
				y[base] = real(v[k]) * scale
				if yc == 2 {
					y[base+1] = imag(v[k]) * scale
				}
			}
		}
	}
	return y, nil
}

// DFT transforms x ([..., signal dims..., 1 or 2]: real or complex) along
// axis (nil: -2); dftLength (nil: the axis' size, or 2*(size-1) for the
// one-sided inverse) pads or truncates the signal.
func DFT(x, dftLength, axis *Node, inverse, onesided bool) *Node {
	a := Attrs{"inverse": int64(0), "onesided": int64(0)}
	if inverse {
		a["inverse"] = int64(1)
	}
	if onesided {
		a["onesided"] = int64(1)
	}
	args := []*Node{x, dftLength, axis}
	for len(args) > 1 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	return Apply1(dftDef, a, args...)
}

// ---------- STFT ----------

var stftDef *OpDef

func init() {
	stftDef = Register(&OpDef{
		Type: "STFT", Since: 17,
		MinInputs: 2, MaxInputs: 4,
		Types:           []DType{Float32, Float64, Float16, Int32, Int64},
		ShapeFromValues: true,
		Attrs:           []AttrSpec{{Name: "onesided", Type: AttrInt, Default: int64(1)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			x := in[0]
			if err := checkData(x, "signal"); err != nil {
				return nil, err
			}
			if !x.DType.IsFloat() {
				return nil, fmt.Errorf("signal must be a float tensor, got %s", x.DType)
			}
			if len(x.Shape) != 3 {
				return nil, fmt.Errorf("signal must have shape [batch, length, 1 or 2], got %v", x.Shape)
			}
			if c := x.Shape[2]; c >= 0 && c != 1 && c != 2 {
				return nil, fmt.Errorf("signal's last dimension must be 1 (real) or 2 (complex), got %v", x.Shape)
			}
			one := a.Int("onesided")
			if one != 0 && one != 1 {
				return nil, fmt.Errorf("onesided must be 0 or 1, got %d", one)
			}
			if one == 1 && x.Shape[2] == 2 {
				return nil, fmt.Errorf("onesided STFT takes a real signal, got shape %v", x.Shape)
			}
			step, stepKnown, err := scalarIntInput(in[1], "frame_step")
			if err != nil {
				return nil, err
			}
			if stepKnown && step <= 0 {
				return nil, fmt.Errorf("frame_step must be positive, got %d", step)
			}
			flen, flenKnown := int64(-1), false
			if len(in) > 2 && in[2].DType != Invalid {
				w := in[2]
				if w.DType != x.DType {
					return nil, fmt.Errorf("window is %s, signal is %s", w.DType, x.DType)
				}
				if len(w.Shape) != 1 {
					return nil, fmt.Errorf("window must be 1-D, got shape %v", w.Shape)
				}
				if w.Shape[0] >= 0 {
					flen, flenKnown = int64(w.Shape[0]), true
				}
			}
			if len(in) > 3 && in[3].DType != Invalid {
				v, known, err := scalarIntInput(in[3], "frame_length")
				if err != nil {
					return nil, err
				}
				if known {
					if flenKnown && v != flen {
						return nil, fmt.Errorf("frame_length %d differs from the window's length %d", v, flen)
					}
					flen, flenKnown = v, true
				} else {
					flenKnown = false
				}
			} else if len(in) < 3 || in[2].DType == Invalid {
				return nil, fmt.Errorf("STFT needs a window or a frame_length")
			}
			out := []int{x.Shape[0], -1, -1, 2}
			if flenKnown {
				if flen <= 0 {
					return nil, fmt.Errorf("frame_length must be positive, got %d", flen)
				}
				if x.Shape[1] >= 0 && flen > int64(x.Shape[1]) {
					return nil, fmt.Errorf("frame_length %d exceeds the signal's length %d", flen, x.Shape[1])
				}
				if flen > maxElements {
					return nil, fmt.Errorf("frame_length %d too large", flen)
				}
				out[2] = int(flen)
				if one == 1 {
					out[2] = int(flen/2 + 1)
				}
				if stepKnown && x.Shape[1] >= 0 {
					out[1] = int((int64(x.Shape[1])-flen)/step + 1)
				}
			}
			return []Meta{{DType: x.DType, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, a Attrs, out []*Tensor) error {
			x, o := in[0], out[0]
			step := int(in[1].Int(0))
			var window []float64
			flen := 0
			if len(in) > 2 && in[2] != nil {
				window = float64sOf(in[2])
				flen = len(window)
			}
			if len(in) > 3 && in[3] != nil {
				flen = int(in[3].Int(0))
			}
			batch, length, c := x.Shape[0], x.Shape[1], x.Shape[2]
			frames, bins := o.Shape[1], o.Shape[2]
			xv := float64sOf(x)
			y := make([]float64, o.Len())
			if window != nil && len(window) != flen {
				return fmt.Errorf("frame_length %d differs from the window's length %d", flen, len(window))
			}
			frame := make([]float64, flen*c)
			for b := 0; b < batch; b++ {
				for f := 0; f < frames; f++ {
					start := f * step
					if start+flen > length {
						return fmt.Errorf("frame %d runs past the signal (a stale shape inference)", f)
					}
					copy(frame, xv[(b*length+start)*c:(b*length+start+flen)*c])
					fy, err := dftCompute(frame, []int{1, flen, c}, 1, flen, a.Int("onesided") == 1, false, window, []int{1, bins, 2})
					if err != nil {
						return err
					}
					copy(y[(b*frames+f)*bins*2:], fy)
				}
			}
			return storeFloats(o, y)
		},
	})
}

// STFT computes the short-time Fourier transform of signal ([batch,
// length, 1 or 2]) with frames frameStep apart, weighted by window (nil:
// none) and of length frameLength (nil: the window's).
func STFT(signal, frameStep, window, frameLength *Node, onesided bool) *Node {
	o := int64(0)
	if onesided {
		o = 1
	}
	args := []*Node{signal, frameStep, window, frameLength}
	for len(args) > 2 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	return Apply1(stftDef, Attrs{"onesided": o}, args...)
}

// ---------- MelWeightMatrix ----------

var melDef *OpDef

// melMaxBins bounds num_mel_bins (the kernel keeps num_mel_bins+2
// frequency points).
const melMaxBins = 1 << 24

func init() {
	melDef = Register(&OpDef{
		Type: "MelWeightMatrix", Since: 17,
		MinInputs: 5, MaxInputs: 5,
		Types:           []DType{Int32, Int64, Float32, Float64, Float16},
		ShapeFromValues: true,
		Attrs:           []AttrSpec{{Name: "output_datatype", Type: AttrInt, Default: int64(1)}},
		Infer: func(in []Meta, a Attrs) ([]Meta, error) {
			dt, err := outputDType(a)
			if err != nil {
				return nil, err
			}
			names := []string{"num_mel_bins", "dft_length", "sample_rate"}
			vals := make([]int64, 3)
			known := true
			for i, nm := range names {
				v, k, err := scalarIntInput(in[i], nm)
				if err != nil {
					return nil, err
				}
				if k && v <= 0 {
					return nil, fmt.Errorf("%s must be positive, got %d", nm, v)
				}
				vals[i], known = v, known && k
			}
			if in[0].DType != in[1].DType || in[0].DType != in[2].DType {
				return nil, fmt.Errorf("num_mel_bins, dft_length and sample_rate must have one type, got %s, %s, %s", in[0].DType, in[1].DType, in[2].DType)
			}
			for i, nm := range []string{"lower_edge_hertz", "upper_edge_hertz"} {
				if _, _, err := scalarFloatInput(in[3+i], nm); err != nil {
					return nil, err
				}
			}
			if in[3].DType != in[4].DType {
				return nil, fmt.Errorf("lower_edge_hertz is %s, upper_edge_hertz %s", in[3].DType, in[4].DType)
			}
			out := []int{-1, -1}
			if in[1].Value != nil {
				if vals[1] > maxElements {
					return nil, fmt.Errorf("dft_length %d too large", vals[1])
				}
				out[0] = int(vals[1]/2 + 1)
			}
			if in[0].Value != nil {
				if vals[0] > melMaxBins {
					return nil, fmt.Errorf("num_mel_bins %d too large", vals[0])
				}
				out[1] = int(vals[0])
			}
			if known && in[3].Value != nil && in[4].Value != nil {
				if _, err := melBins(vals[0], vals[1], vals[2], in[3].Value.Float(0), in[4].Value.Float(0)); err != nil {
					return nil, err
				}
			}
			return []Meta{{DType: dt, Shape: out}}, nil
		},
		Kernel: func(in []*Tensor, _ Attrs, out []*Tensor) error {
			nmel, dftLen, rate := in[0].Int(0), in[1].Int(0), in[2].Int(0)
			fb, err := melBins(nmel, dftLen, rate, in[3].Float(0), in[4].Float(0))
			if err != nil {
				return err
			}
			nspec := int(dftLen/2 + 1)
			nm := int(nmel)
			w := make([]float64, nspec*nm)
			for i := 0; i < nm; i++ {
				lo, ce, hi := fb[i], fb[i+1], fb[i+2]
				if ce == lo {
					w[ce*nm+i] = 1
				} else {
					for j := lo; j <= ce; j++ {
						w[j*nm+i] = float64(j-lo) / float64(ce-lo)
					}
				}
				for j := ce; j < hi; j++ {
					w[j*nm+i] = float64(hi-j) / float64(hi-ce)
				}
			}
			return storeFloats(out[0], w)
		},
	})
}

// melBins returns the num_mel_bins+2 spectrogram bin indices of the
// triangles' edges and centers: equally spaced on the mel scale from
// lower to upper, step (upper-lower)/(num_mel_bins+2) as in ONNX's
// reference and ONNX Runtime, each mapped to floor((dft_length+1) hz /
// sample_rate).
func melBins(nmel, dftLen, rate int64, lower, upper float64) ([]int, error) {
	if nmel <= 0 || dftLen <= 0 || rate <= 0 {
		return nil, fmt.Errorf("num_mel_bins, dft_length and sample_rate must be positive, got %d, %d, %d", nmel, dftLen, rate)
	}
	if nmel > melMaxBins {
		return nil, fmt.Errorf("num_mel_bins %d too large", nmel)
	}
	nspec := dftLen/2 + 1
	toMel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	lo, hi := toMel(lower), toMel(upper)
	step := (hi - lo) / float64(nmel+2)
	fb := make([]int, nmel+2)
	for i := range fb {
		hz := 700 * (math.Pow(10, (lo+step*float64(i))/2595) - 1)
		b := math.Floor(float64(dftLen+1) * hz / float64(rate))
		if !(b >= 0 && b < float64(nspec)) {
			return nil, fmt.Errorf("lower_edge_hertz %g and upper_edge_hertz %g give a mel band outside the %d spectrogram bins of dft_length %d at sample_rate %d", lower, upper, nspec, dftLen, rate)
		}
		fb[i] = int(b)
	}
	return fb, nil
}

// MelWeightMatrix returns the [dft_length/2+1, num_mel_bins] matrix of
// triangular mel filters (dt: the output type).
func MelWeightMatrix(numMelBins, dftLength, sampleRate, lowerHz, upperHz *Node, dt DType) *Node {
	return Apply1(melDef, Attrs{"output_datatype": int64(dt.ONNX())}, numMelBins, dftLength, sampleRate, lowerHz, upperHz)
}
