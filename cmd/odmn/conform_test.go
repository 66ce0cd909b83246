package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
)

func runConform(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"conform", "nodes"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

var summary = regexp.MustCompile(`^\d+ passed, \d+ failed$`)

func TestConformNodes(t *testing.T) {
	dir := testenv.RequireNodeTestData(t)
	out, err := runConform(t, "--dir", dir, "--run", `^test_(relu|add|bitshift_left_uint8)$`, "--verbose")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := lastLine(out); got != "2 passed, 0 failed" || !summary.MatchString(got) {
		t.Fatalf("last line %q\n%s", got, out)
	}
	for _, want := range []string{"op ", "not applicable", "Relu", "total ", "test_bitshift_left_uint8: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A test whose expected output is wrong must fail the command.
func TestConformNodesFailure(t *testing.T) {
	dir := t.TempDir()
	test := filepath.Join(dir, "test_fake_relu")
	set := filepath.Join(test, "test_data_set_0")
	if err := os.MkdirAll(set, 0o755); err != nil {
		t.Fatal(err)
	}
	g := graph.New("fake")
	x := g.Input("x", graph.Float32, 3)
	g.SetOutput("y", graph.Relu(x))
	if err := export.WriteFile(filepath.Join(test, "model.onnx"), g, export.Options{}); err != nil {
		t.Fatal(err)
	}
	write := func(name string, v *graph.Tensor) {
		p, err := export.TensorToProto("", v)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := proto.Marshal(p)
		if err := os.WriteFile(filepath.Join(set, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("input_0.pb", graph.F32([]int{3}, []float32{-1, 0, 2}))
	write("output_0.pb", graph.F32([]int{3}, []float32{0, 0, 3}))
	out, err := runConform(t, "--dir", dir)
	if err == nil {
		t.Fatalf("a failing test did not fail the command:\n%s", out)
	}
	if got := lastLine(out); got != "0 passed, 1 failed" {
		t.Fatalf("last line %q\n%s", got, out)
	}
	if !strings.Contains(out, "test_fake_relu: test_data_set_0: output \"y\": 1 of 3 values differ") {
		t.Fatalf("failure reason missing:\n%s", out)
	}
	if _, err := runConform(t, "--dir", filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing directory did not fail")
	}
}
