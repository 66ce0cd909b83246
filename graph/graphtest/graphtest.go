package graphtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// Build makes a graph whose inputs x0, x1, ... have the given tensors'
// dtypes and shapes, and whose outputs are what f returns.
func Build(f func(g *graph.Graph, xs []*graph.Node) []*graph.Node, xs ...*graph.Tensor) (*graph.Graph, error) {
	g := graph.New("test")
	err := graph.Catch(func() {
		in := make([]*graph.Node, len(xs))
		for i, x := range xs {
			in[i] = g.Input(fmt.Sprintf("x%d", i), x.DType, x.Shape...)
		}
		for i, o := range f(g, in) {
			g.SetOutput(fmt.Sprintf("y%d", i), o)
		}
	})
	return g, err
}

// Eval builds f on xs and runs it on the native runtime.
func Eval(f func(g *graph.Graph, xs []*graph.Node) []*graph.Node, xs ...*graph.Tensor) ([]*graph.Tensor, error) {
	g, err := Build(f, xs...)
	if err != nil {
		return nil, err
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		return nil, err
	}
	feed := map[string]*graph.Tensor{}
	for i, x := range xs {
		feed[fmt.Sprintf("x%d", i)] = x
	}
	res, err := s.Run(feed)
	if err != nil {
		return nil, err
	}
	out := make([]*graph.Tensor, len(res))
	for i := range out {
		out[i] = res[fmt.Sprintf("y%d", i)]
	}
	return out, nil
}

// MustEval is Eval that fails the test on error.
func MustEval(t testing.TB, f func(g *graph.Graph, xs []*graph.Node) []*graph.Node, xs ...*graph.Tensor) []*graph.Tensor {
	t.Helper()
	out, err := Eval(f, xs...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Rand returns a float32 tensor of uniform values in [lo, hi).
func Rand(r *rand.Rand, lo, hi float32, shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape)
	for i := range t.F {
		t.F[i] = lo + (hi-lo)*r.Float32()
	}
	return t
}

// GradTol is the tolerance of GradCheck: |numeric - analytic| <= Atol + Rtol*|numeric|.
type GradTol struct {
	Eps, Atol, Rtol float64
}

// DefaultTol suits float32 forward passes of moderate size.
var DefaultTol = GradTol{Eps: 1e-3, Atol: 2e-3, Rtol: 1e-2}

// GradCheck compares the gradient autodiff builds for f (a single output of
// any shape, reduced to a scalar with fixed random weights) against central
// finite differences with respect to every float32 input.
func GradCheck(t testing.TB, tol GradTol, f func(g *graph.Graph, xs []*graph.Node) *graph.Node, xs ...*graph.Tensor) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 11))
	var wts *graph.Tensor
	g, err := Build(func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		y := f(g, in)
		if y.DType() != graph.Float32 {
			panic(&graph.BuildError{Err: fmt.Errorf("output is %s, not float32", y.DType())})
		}
		var wrt []*graph.Node
		for _, n := range in {
			if n.DType() == graph.Float32 {
				wrt = append(wrt, n)
			}
		}
		// The seed has y's shape at run time: feed it as an input.
		seed := g.Input("seed", graph.Float32, y.Shape()...)
		grads, err := graph.VJP([]*graph.Node{y}, []*graph.Node{seed}, wrt)
		if err != nil {
			panic(&graph.BuildError{Err: err})
		}
		out := []*graph.Node{y}
		for i, gr := range grads {
			if gr == nil {
				gr = graph.Mul(wrt[i], graph.ScalarLike(wrt[i], 0))
			}
			out = append(out, gr)
		}
		return out
	}, xs...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := native.New(g, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	feed := map[string]*graph.Tensor{}
	for i, x := range xs {
		feed[fmt.Sprintf("x%d", i)] = x.Clone()
	}
	// First run with a dummy seed to learn y's concrete shape.
	yShape := g.Outputs()[0].Node.Shape()
	concrete := true
	for _, d := range yShape {
		concrete = concrete && d >= 0
	}
	if !concrete {
		t.Fatalf("GradCheck: output shape %v must be static", yShape)
	}
	wts = Rand(r, -1, 1, yShape...)
	feed["seed"] = wts
	res, err := s.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	loss := func() float64 {
		out, err := s.Run(feed, "y0")
		if err != nil {
			t.Fatal(err)
		}
		var l float64
		for i, v := range out["y0"].F {
			l += float64(v) * float64(wts.F[i])
		}
		return l
	}
	k := 1
	for i, x := range xs {
		if x.DType != graph.Float32 {
			continue
		}
		ana := res[fmt.Sprintf("y%d", k)]
		k++
		if !graph.SameShape(ana.Shape, x.Shape) {
			t.Fatalf("gradient of x%d has shape %v, want %v", i, ana.Shape, x.Shape)
		}
		in := feed[fmt.Sprintf("x%d", i)]
		bad := 0
		for j := range in.F {
			orig := in.F[j]
			in.F[j] = orig + float32(tol.Eps)
			lp := loss()
			in.F[j] = orig - float32(tol.Eps)
			lm := loss()
			in.F[j] = orig
			num := (lp - lm) / (2 * tol.Eps)
			got := float64(ana.F[j])
			if math.Abs(num-got) > tol.Atol+tol.Rtol*math.Abs(num) || math.IsNaN(got) {
				if bad < 5 {
					t.Errorf("d/dx%d[%d]: autodiff %.6g, finite differences %.6g", i, j, got, num)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("x%d: %d of %d gradient entries off", i, bad, len(in.F))
		}
	}
}
