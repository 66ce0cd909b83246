package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/odmn/odmn/train"
)

// torchLayout is scripts/bench_torch.py's input: the model's shape.
func torchLayout(m *train.Model, threads, batch int, sec float64) map[string]any {
	var card []int
	for _, f := range m.Features {
		card = append(card, f.Cardinality)
	}
	var tasks [][]map[string]int
	for _, tb := range m.Tasks {
		var subs []map[string]int
		for _, s := range tb.Subs {
			subs = append(subs, map[string]int{"m": len(s.Buckets), "r": s.Intervals()})
		}
		tasks = append(tasks, subs)
	}
	c := m.Cfg
	return map[string]any{"cardinalities": card, "embed_dim": c.EmbedDim, "bottom": c.Bottom, "tower": c.Tower,
		"mono": c.MonoDim, "tasks": tasks, "batch": batch, "threads": threads, "seconds": sec, "windows": benchWindows}
}

// torchScript finds scripts/bench_torch.py: beside the working directory's
// odmn module root, or the binary's (bin/odmn -> ../scripts).
func torchScript() string {
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(filepath.Dir(exe)))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "scripts", "bench_torch.py")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

const torchPython = "/usr/bin/python3" // Debian's, where python3-torch installs

func torchRates(m *train.Model, threadSet []int, batch int, sec float64, logf func(string, ...any)) ([]TorchRate, string) {
	script := torchScript()
	if script == "" {
		return nil, "scripts/bench_torch.py not found (run from the odmn repository)"
	}
	if err := exec.Command(torchPython, "-c", "import torch").Run(); err != nil {
		return nil, "not measured: " + torchPython + " has no torch (apt-get install python3-torch)"
	}
	var out []TorchRate
	for _, t := range threadSet {
		logf("PyTorch, %d thread(s) ...", t)
		layout, _ := json.Marshal(torchLayout(m, t, batch, sec))
		cmd := exec.Command(torchPython, script, "-")
		cmd.Stdin = bytes.NewReader(layout)
		// OpenBLAS threads inside PyTorch's own threads oversubscribe the
		// cores (measured: 2 threads slower than 1 by 10x); PyTorch runs
		// its intra-op parallelism itself.
		cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
		res, err := cmd.Output()
		if err != nil {
			return out, fmt.Sprintf("bench_torch.py failed: %v", err)
		}
		var r struct {
			Rows    float64 `json:"rows_per_s"`
			Threads int     `json:"threads"`
			Batch   int     `json:"batch"`
			Params  int     `json:"params"`
			Torch   string  `json:"torch"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			return out, fmt.Sprintf("bench_torch.py: %v", err)
		}
		out = append(out, TorchRate{Threads: r.Threads, Batch: r.Batch, Rows: r.Rows, Params: r.Params, Version: r.Torch})
	}
	return out, "scripts/bench_torch.py: the same layers, losses and Adam in PyTorch on CPU, OPENBLAS_NUM_THREADS=1, torch.set_num_threads(k)"
}
