package bench

import (
	"bufio"
	"encoding/json"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/odmn/odmn/graph"
)

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// WriteJSON writes v, indented, to path (through a temporary file, so a
// failed write leaves no half file).
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// setThreads runs everything on t threads: GOMAXPROCS and the kernels.
func setThreads(t int) {
	goruntime.GOMAXPROCS(t)
	graph.SetThreads(t)
}

// sgemmRate is the best GFLOP/s of C = A·B over about sec seconds.
func sgemmRate(threads, m, n, k int, sec float64) float64 {
	setThreads(threads)
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%13) * 0.01
	}
	for i := range b {
		b[i] = float32(i%7) * 0.01
	}
	graph.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	best := 0.0
	end := time.Now().Add(time.Duration(sec * float64(time.Second)))
	for time.Now().Before(end) {
		reps := max(1, int(2e8/float64(2*m*n*k)))
		t0 := time.Now()
		for range reps {
			graph.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		}
		best = max(best, float64(2*m*n*k*reps)/time.Since(t0).Seconds()/1e9)
	}
	return best
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return goruntime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return goruntime.GOARCH
}
