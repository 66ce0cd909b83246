package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/serve"
	"github.com/odmn/odmn/train"
)

func newServeCmd() *cobra.Command {
	var f cacheFlags
	var cfg serve.Config
	var model, listen, tokenFile string
	var noCache bool
	var drain time.Duration
	cmd := &cobra.Command{
		Use:   "serve --cache URL --name NAME [--model model.onnx] [--listen 127.0.0.1:8080]",
		Short: "Serve cached scores (and live scoring) over HTTP",
		Long: `serve answers lifetime-value lookups from the score cache and, with --model,
scores raw feature rows live with the native runtime:

  GET  /v1/ltv/{user}          the current version's scores (404: unknown user)
  GET  /v1/ltv?user=a&user=b   several users (found: false for unknown ones)
  POST /v1/score               {"rows": [{"feature": value, ...}]}; null is a
                               missing number; 400 names the bad field
  GET  /healthz                the process is up
  GET  /readyz                 503 while Redis is unreachable or no version is set
  GET  /metrics                Prometheus metrics

The cache pointer is polled every --poll: a switch (odmn cache switch) is
served within that, without restart. When Redis is unreachable, lookups
answer 503 with a JSON error and /v1/score keeps working; service resumes by
itself when Redis is back. SIGTERM or Ctrl-C stops accepting and drains the
requests in flight (up to --drain). serve binds loopback unless --listen
says otherwise; --token-file requires "Authorization: Bearer TOKEN" on every
route but /healthz.`,
		Example: `  odmn serve --cache redis://127.0.0.1:6379 --name ltv --model model.onnx
  curl -s localhost:8080/v1/ltv/u42`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("--token-file: %w", err)
				}
				cfg.Token = strings.TrimSpace(string(b))
				if cfg.Token == "" || strings.ContainsAny(cfg.Token, " \t\r\n") {
					return fmt.Errorf("--token-file %s: want one token on one line", tokenFile)
				}
			}
			if model != "" {
				m, err := score.Load(model, train.InferOptions{})
				if err != nil {
					return err
				}
				cfg.Model = m
			}
			if !noCache {
				cfg.Name = f.name
				c, err := f.open(ctx)
				if err != nil {
					return err
				}
				defer c.Close()
				cfg.Store = c
			} else if model == "" {
				return fmt.Errorf("--no-cache needs --model")
			}
			s, err := serve.New(cfg)
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			cfg.Log.Info("serving", "listen", l.Addr().String(), "name", cfg.Name, "model", model, "auth", cfg.Token != "")
			return s.Run(ctx, l, drain)
		},
	}
	f.add(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "", "ONNX file or model directory for POST /v1/score")
	fl.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&tokenFile, "token-file", "", "file holding a bearer token every route but /healthz requires")
	fl.BoolVar(&noCache, "no-cache", false, "serve /v1/score only, without Redis")
	fl.DurationVar(&cfg.Poll, "poll", 250*time.Millisecond, "how often the cache pointer is read")
	fl.DurationVar(&cfg.CacheTimeout, "cache-timeout", 250*time.Millisecond, "bound on each Redis call of a request")
	fl.DurationVar(&drain, "drain", 10*time.Second, "how long SIGTERM waits for requests in flight")
	fl.IntVar(&cfg.MaxUsers, "max-users", 1000, "users per batch lookup")
	fl.IntVar(&cfg.MaxRows, "max-rows", 1000, "rows per /v1/score request")
	fl.Int64Var(&cfg.MaxBodyBytes, "max-body", 1<<20, "bytes per /v1/score body")
	fl.IntVar(&cfg.MaxBatch, "max-batch", 1024, "rows per model call (concurrent requests are batched)")
	fl.IntVar(&cfg.Workers, "workers", 2, "model sessions scoring in parallel")
	return cmd
}

func newServeBenchCmd() *cobra.Command {
	var f cacheFlags
	o := serve.BenchOptions{Users: 100000, GetRate: 5000, PostRate: 500, Duration: 10 * time.Second, Warmup: 2 * time.Second}
	var model string
	var inProcess bool
	cmd := &cobra.Command{
		Use:   "serve-bench --cache URL --model model.onnx --data FILE",
		Short: "Load-test odmn serve on loopback: cached GET and one-row POST latency",
		Long: `serve-bench writes --users synthetic users to the cache (name
` + serve.BenchName + `, reused by later runs), starts odmn serve as a child
process on a loopback port (--in-process: inside this process) and loads it
open-loop from this process, the generator sharing the cores: GET
/v1/ltv/{user} of random users at --get-rate for --duration, then POST
/v1/score of one row (taken from --data) at --post-rate for --duration. Each
phase is preceded by --warmup of the same load, not recorded. It prints the
achieved rate, errors and the latency quantiles of each phase.`,
		Example: `  odmn serve-bench --cache redis://127.0.0.1:6379 --model model.onnx --data users.parquet`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			m, err := score.Load(model, train.InferOptions{})
			if err != nil {
				return err
			}
			o.Model = m
			f.name = serve.BenchName
			c, err := f.open(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			o.Cache = c
			if !inProcess {
				o.Command = func(addr string) *exec.Cmd {
					return serveChild(ctx, "serve", "--cache", f.url, "--name", serve.BenchName,
						"--model", model, "--listen", addr, "--poll", "100ms")
				}
			}
			rep, err := serve.Bench(ctx, o)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "GET  /v1/ltv/{user} at %d/s: %s\n", o.GetRate, rep.Get)
			fmt.Fprintf(cmd.OutOrStdout(), "POST /v1/score 1 row at %d/s: %s\n", o.PostRate, rep.Post)
			return nil
		},
	}
	f.add(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "", "ONNX file or model directory")
	fl.StringVar(&o.Data, "data", "", "table whose first rows are POSTed")
	fl.IntVar(&o.Users, "users", o.Users, "synthetic users in the cache")
	fl.IntVar(&o.GetRate, "get-rate", o.GetRate, "GET requests per second")
	fl.IntVar(&o.PostRate, "post-rate", o.PostRate, "POST requests per second")
	fl.DurationVar(&o.Duration, "duration", o.Duration, "length of each phase")
	fl.BoolVar(&inProcess, "in-process", false, "run the server inside this process, sharing its Go runtime with the generator")
	fl.DurationVar(&o.Warmup, "warmup", o.Warmup, "unrecorded load at the phase's rate before each phase (connection pools fill)")
	return cmd
}

// serveChild is the command serve-bench runs as its server: this
// executable with args (tests point it at their own binary).
var serveChild = func(ctx context.Context, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.CommandContext(ctx, exe, args...)
}
