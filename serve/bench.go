package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/score"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	// Cache receives Users synthetic users under name BenchName (loaded
	// once, reused by later runs).
	Cache *cache.Cache
	Users int
	// Model and Data: POST /v1/score sends single rows taken from the
	// first 1000 rows of Data.
	Model *score.Model
	Data  string
	// GetRate and PostRate are the target requests per second of each
	// phase, which lasts Duration.
	GetRate, PostRate int
	Duration          time.Duration
	// Warmup precedes each phase at its rate, unrecorded (LoadOptions).
	Warmup time.Duration
	// Command, when set, makes the server under test a child process: it
	// returns the command that serves BenchName from the same cache (and
	// the model, for POST) on the loopback address addr. Bench starts it,
	// loads it from this process and stops it with SIGTERM. Without it the
	// Server runs inside this process, sharing its Go runtime with the
	// generator.
	Command func(addr string) *exec.Cmd
}

// BenchName is the cache name Bench writes.
const BenchName = "odmn-serve-bench"

// BenchReport is the outcome of each phase.
type BenchReport struct {
	Users int         `json:"users"`
	Get   *LoadResult `json:"get"`
	Post  *LoadResult `json:"post"`
}

// Bench starts a server on a loopback port (a child process with
// o.Command, else a Server in this process), then loads it open-loop from
// this process: cached GET /v1/ltv/{user} of random users at GetRate,
// then POST /v1/score of one row at PostRate. The load generator shares
// the cores with the server.
func Bench(ctx context.Context, o BenchOptions) (*BenchReport, error) {
	rep := &BenchReport{Users: o.Users}
	if err := benchUsers(ctx, o.Cache, o.Users); err != nil {
		return nil, err
	}
	bodies, err := RowBodies(o.Model, o.Data, 1000)
	if err != nil {
		return nil, err
	}
	var base string
	if o.Command != nil {
		stop, addr, err := startChild(o.Command)
		if err != nil {
			return nil, err
		}
		defer stop()
		base = "http://" + addr
	} else {
		s, err := New(Config{Store: o.Cache, Name: BenchName, Model: o.Model, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return nil, err
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(sctx, l, 5*time.Second) }()
		defer func() {
			stop()
			<-done
		}()
		base = "http://" + l.Addr().String()
	}
	// Ready, and serving the bench version (a child polls the pointer).
	for t0 := time.Now(); ; {
		if resp, err := http.Get(base + "/v1/ltv/u1"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if time.Since(t0) > 10*time.Second {
			return nil, errors.New("serve-bench: the server did not answer GET /v1/ltv/u1 within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := rand.New(rand.NewPCG(1, 1))
	rep.Get, err = Load(ctx, LoadOptions{Rate: o.GetRate, Duration: o.Duration, Warmup: o.Warmup, Request: func(int) (*http.Request, error) {
		return http.NewRequest("GET", base+"/v1/ltv/u"+strconv.Itoa(1+r.IntN(o.Users)), nil)
	}})
	if err != nil {
		return nil, err
	}
	rep.Post, err = Load(ctx, LoadOptions{Rate: o.PostRate, Duration: o.Duration, Warmup: o.Warmup, Request: func(i int) (*http.Request, error) {
		req, err := http.NewRequest("POST", base+"/v1/score", bytes.NewReader(bodies[i%len(bodies)]))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}})
	return rep, err
}

// benchUsers loads users u1..uN with random scores, unless a complete
// version of that size is there already, and switches to it.
func benchUsers(ctx context.Context, c *cache.Cache, n int) error {
	ver := "users-" + strconv.Itoa(n)
	if v, err := c.Version(ctx, BenchName, ver); err == nil && v.Complete() {
		_, err := c.Switch(ctx, BenchName, ver)
		return err
	}
	hs := []string{"30", "90", "180", "365"}
	if _, err := c.Begin(ctx, BenchName, ver, cache.BeginOptions{Horizons: hs, Expected: int64(n), Source: "odmn serve-bench"}); err != nil {
		return err
	}
	w, err := c.Writer(ctx, BenchName, ver)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(2, 2))
	ltv, ev := make([]float32, 4), make([]float32, 4)
	for u := 1; u <= n; u++ {
		for j := range ltv {
			ltv[j], ev[j] = float32(r.IntN(8)*10), r.Float32()*100
		}
		if err := w.Put(ctx, "u"+strconv.Itoa(u), ltv, ev); err != nil {
			return err
		}
	}
	if err := w.Flush(ctx); err != nil {
		return err
	}
	if _, err := c.Finish(ctx, BenchName, ver, 0); err != nil {
		return err
	}
	_, err = c.Switch(ctx, BenchName, ver)
	return err
}

// RowBodies reads up to n rows of a table as /v1/score bodies of one row
// each (missing numbers as null; rows holding infinities, which JSON
// cannot carry, are skipped).
func RowBodies(m *score.Model, path string, n int) ([][]byte, error) {
	f := score.NewFeeder(m.Inputs)
	r, err := data.OpenReader(path, f.Columns(), data.ChunkRows(n))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	t, err := r.Next()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out [][]byte
	for i := 0; i < t.Rows() && len(out) < n; i++ {
		row := map[string]any{}
		ok := true
		for c, name := range t.Names {
			switch {
			case t.Kinds[c] == data.String:
				row[name] = t.Str[c][i]
			case math.IsNaN(t.Num[c][i]):
				row[name] = nil
			case math.IsInf(float64(float32(t.Num[c][i])), 0):
				ok = false
			default:
				row[name] = float32(t.Num[c][i])
			}
		}
		if !ok {
			continue
		}
		b, err := json.Marshal(map[string]any{"rows": []any{row}})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no row to send", path)
	}
	return out, nil
}

// startChild picks a free loopback port, starts the server command on it
// and returns how to stop it (SIGTERM, then a kill after 10s).
func startChild(command func(addr string) *exec.Cmd) (stop func(), addr string, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr = l.Addr().String()
	l.Close()
	cmd := command(addr)
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("serve-bench: starting the server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	// A child that dies at once (bad flags, port taken) fails fast.
	select {
	case err := <-exited:
		return nil, "", fmt.Errorf("serve-bench: the server exited at start: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	return stop, addr, nil
}
