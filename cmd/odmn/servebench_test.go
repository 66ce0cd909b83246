package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/internal/redistest"
	"github.com/odmn/odmn/serve"
)

// TestServeBench runs serve-bench briefly against a real redis-server,
// with the server as a child process (this test binary running odmn
// serve) and inside the process.
func TestServeBench(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	prev := serveChild
	t.Cleanup(func() { serveChild = prev })
	var started []string
	serveChild = func(ctx context.Context, args ...string) *exec.Cmd {
		started = append(started, strings.Join(args, " "))
		c := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		c.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
		return c
	}
	golden := filepath.Join("..", "..", "fixtures", "golden")
	for _, mode := range [][]string{nil, {"--in-process"}} {
		out, err := runOdmn(t, append([]string{"serve-bench", "--cache", srv.URL(), "--model", filepath.Join(golden, "golden.onnx"),
			"--data", filepath.Join(golden, "inputs.csv"), "--users", "2000", "--get-rate", "400", "--post-rate", "100",
			"--duration", "1s", "--warmup", "200ms", "--json"}, mode...)...)
		if err != nil {
			t.Fatalf("serve-bench %v: %v\n%s", mode, err, out)
		}
		var rep serve.BenchReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("serve-bench %v --json: %v\n%s", mode, err, out)
		}
		for _, ph := range []struct {
			name string
			r    *serve.LoadResult
			n    int
		}{{"GET", rep.Get, 400}, {"POST", rep.Post, 100}} {
			if r := ph.r; r == nil || r.Requests != ph.n || r.OK != ph.n || r.Errors != 0 || r.Dropped != 0 || r.P99 <= 0 {
				t.Errorf("serve-bench %v, %s: %+v", mode, ph.name, r)
			}
		}
	}
	if len(started) != 1 || !strings.HasPrefix(started[0], "serve --cache "+srv.URL()+" --name "+serve.BenchName) {
		t.Errorf("server children: %q", started)
	}
}
