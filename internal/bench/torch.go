package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/odmn/odmn/train"
)

// torchLayout is scripts/bench_torch.py's input: the model's shape.
func torchLayout(m *train.Model, threads, batch int) map[string]any {
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
		"mono": c.MonoDim, "tasks": tasks, "batch": batch, "threads": threads, "serve": true}
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

// torchNote says how PyTorch runs.
const torchNote = "scripts/bench_torch.py: the same layers, losses and Adam in PyTorch on CPU, OPENBLAS_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE (unless set), torch.set_num_threads(k), one process per thread count, its windows interleaved with odmn's"

// torchServer is a bench_torch.py process in serve mode: it has built the
// model and trains for a window on request.
type torchServer struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	threads int
	batch   int
	params  int
	version string
}

// startTorch starts a server for t threads, or says why it cannot.
func startTorch(m *train.Model, t, batch int) (*torchServer, string) {
	script := torchScript()
	if script == "" {
		return nil, "scripts/bench_torch.py not found (run from the odmn repository)"
	}
	if err := exec.Command(torchPython, "-c", "import torch").Run(); err != nil {
		return nil, "not measured: " + torchPython + " has no torch (apt-get install python3-torch)"
	}
	f, err := os.CreateTemp("", "odmn-bench-torch-*.json")
	if err != nil {
		return nil, err.Error()
	}
	defer os.Remove(f.Name())
	if err := json.NewEncoder(f).Encode(torchLayout(m, t, batch)); err != nil {
		f.Close()
		return nil, err.Error()
	}
	f.Close()
	cmd := exec.Command(torchPython, script, f.Name())
	// OpenBLAS threads inside PyTorch's own threads oversubscribe the
	// cores (measured: 2 threads slower than 1 by 10x); PyTorch runs its
	// intra-op parallelism itself.
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
	if os.Getenv("OMP_WAIT_POLICY") == "" {
		// OpenMP threads that spin at barriers lose whole time slices
		// on a shared machine; passive waiting is PyTorch's best case there.
		cmd.Env = append(cmd.Env, "OMP_WAIT_POLICY=PASSIVE")
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err.Error()
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err.Error()
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Sprintf("bench_torch.py: %v", err)
	}
	s := &torchServer{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	var ready struct {
		Ready   bool   `json:"ready"`
		Threads int    `json:"threads"`
		Batch   int    `json:"batch"`
		Params  int    `json:"params"`
		Torch   string `json:"torch"`
	}
	if err := s.read(&ready); err != nil || !ready.Ready {
		s.close()
		return nil, fmt.Sprintf("bench_torch.py did not start: %v", err)
	}
	s.threads, s.batch, s.params, s.version = ready.Threads, ready.Batch, ready.Params, ready.Torch
	return s, ""
}

func (s *torchServer) read(v any) error {
	if !s.out.Scan() {
		if err := s.out.Err(); err != nil {
			return err
		}
		return io.ErrUnexpectedEOF
	}
	return json.Unmarshal(s.out.Bytes(), v)
}

// window trains for sec seconds and returns rows/s.
func (s *torchServer) window(sec float64) (float64, error) {
	if _, err := fmt.Fprintf(s.in, "%g\n", sec); err != nil {
		return 0, fmt.Errorf("bench_torch.py: %w", err)
	}
	var r struct {
		Rows float64 `json:"rows_per_s"`
	}
	if err := s.read(&r); err != nil {
		return 0, fmt.Errorf("bench_torch.py: %w", err)
	}
	return r.Rows, nil
}

func (s *torchServer) close() {
	s.in.Close()
	_ = s.cmd.Wait()
}
