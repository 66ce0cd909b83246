package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
)

func odmn(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		out.WriteString("odmn: " + err.Error() + "\n")
	}
	return out.String(), conform.ExitCodeOf(err)
}

func gatherModel(t *testing.T, dir string) string {
	t.Helper()
	g := graph.New("gather")
	err := graph.Catch(func() {
		ids := g.Input("ids", graph.Int64, -1)
		table := graph.NewTensor(graph.Float32, []int{5, 2})
		for i := range table.F {
			table.F[i] = float32(i)
		}
		g.SetOutput("y", graph.Tanh(graph.Gather(g.Initializer("table", table), ids, 0)))
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "gather.onnx")
	if err := export.WriteFile(p, g, export.Options{}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectCmd(t *testing.T) {
	p := gatherModel(t, t.TempDir())
	out, code := odmn(t, "inspect", p)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"IR version: ", "ai.onnx ", "ids INT64[", "y FLOAT[", "Gather-13", "runs", "native runtime: yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	out, code = odmn(t, "inspect", p, "--json")
	var info conform.ModelInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != 0 || !info.Runs || len(info.Ops) != 2 {
		t.Errorf("inspect --json: %v exit %d\n%s", err, code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(bad, []byte{0xff, 0xff, 0xff}, 0o644)
	if out, code := odmn(t, "inspect", bad); code == 0 || !strings.Contains(out, "bad.onnx") {
		t.Errorf("bad file: exit %d\n%s", code, out)
	}
}

func TestRunAndConformCmd(t *testing.T) {
	testenv.RequireLib(t)
	dir := t.TempDir()
	p := gatherModel(t, dir)
	in := filepath.Join(dir, "in")
	if err := conform.WriteTensors(in, conform.FormatNPY, map[string]*graph.Tensor{"ids": graph.I64([]int{3}, []int64{4, 0, 2})}, nil); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{"native", "ort"} {
		out, code := odmn(t, "run", "--model", p, "--inputs", in, "--out", filepath.Join(dir, rt), "--runtime", rt)
		if code != 0 {
			t.Fatalf("run %s: exit %d\n%s", rt, code, out)
		}
		y, err := conform.ReadTensorFile(filepath.Join(dir, rt, "y.npy"))
		if err != nil {
			t.Fatal(err)
		}
		if y.Len() != 6 || y.F[0] != float32(tanh(8)) {
			t.Errorf("%s: y = %v", rt, y)
		}
	}
	junit := filepath.Join(dir, "r.xml")
	js := filepath.Join(dir, "r.json")
	out, code := odmn(t, "conform", "--model", p, "--random", "50", "--dim", "N=3", "--junit", junit, "--json", js)
	if code != 0 || !strings.Contains(out, "integers in [0, 5)") || !strings.Contains(out, "PASS") {
		t.Fatalf("conform: exit %d\n%s", code, out)
	}
	b, _ := os.ReadFile(junit)
	var doc conform.JUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Tests != 1 {
		t.Errorf("JUnit %+v %v\n%s", doc, err, b)
	}
	b, _ = os.ReadFile(js)
	var rep conform.ModelReport
	if err := json.Unmarshal(b, &rep); err != nil || rep.Sets != 50 {
		t.Errorf("JSON: %v\n%s", err, b)
	}
	if out, code := odmn(t, "conform", "--model", p, "--int-range", "5:1"); code != conform.ExitCannotRun {
		t.Errorf("bad --int-range: exit %d\n%s", code, out)
	}
	if out, code := odmn(t, "conform", "--model", filepath.Join(dir, "missing.onnx"), "--junit", junit); code != conform.ExitCannotRun || !strings.Contains(out, "missing.onnx") {
		t.Errorf("missing model: exit %d\n%s", code, out)
	}
	b, _ = os.ReadFile(junit)
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Errors != 1 {
		t.Errorf("JUnit of a check that cannot run: %+v %v\n%s", doc, err, b)
	}
}

func tanh(x float64) float64 { return math.Tanh(x) }

func TestConformNodesReports(t *testing.T) {
	dir := testenv.RequireNodeTestData(t)
	tmp := t.TempDir()
	js, junit := filepath.Join(tmp, "n.json"), filepath.Join(tmp, "n.xml")
	out, code := odmn(t, "conform", "nodes", "--dir", dir, "--run", `^test_(relu|add|bitshift_left_uint8)$`, "--json", js, "--junit", junit)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep struct {
		Total    conform.OpStats `json:"total"`
		ByReason map[string]int  `json:"not_applicable_by_reason"`
		Results  []struct {
			Name, Status string
		} `json:"results"`
	}
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &rep); err != nil || rep.Total.Tests != 3 || rep.Total.Passed != 2 || len(rep.ByReason) != 1 || rep.Results[0].Status != "passed" {
		t.Errorf("JSON %+v (%v)", rep, err)
	}
	b, _ = os.ReadFile(junit)
	var doc conform.JUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Tests != 3 || doc.Skipped != 1 || doc.Failures != 0 {
		t.Errorf("JUnit %+v (%v)\n%s", doc, err, b)
	}
}
