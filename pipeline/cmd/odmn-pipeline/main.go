// Command odmn-pipeline runs odmn's Beam pipelines. odmn finds it
// git-style: `odmn pipeline score ...` runs `odmn-pipeline score ...`.
//
//	odmn-pipeline features --in GLOB --customer COL --time COL --value COL --as-of DATE --out PREFIX [--labels]
//	odmn-pipeline score --model M --data GLOB --out PREFIX [--runner prism|universal --endpoint HOST:PORT]
//	odmn-pipeline job-server --port 8073     a standalone prism job server
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/pipeline"
)

const usage = `usage:
  odmn-pipeline features --in GLOB --customer COL --time COL --value COL [--count COL]
        --as-of DATE [--window 7d] [--horizons 30,90,180,365] [--labels]
        --out PREFIX [--shards N] [--max-bad 0.001] [--runner ...] [--json]
  odmn-pipeline score --model model.onnx|MODEL_DIR --data GLOB --out PREFIX
        [--shards-per-file N] [--runner prism|universal] [--endpoint HOST:PORT]
        [--cache URL --name NAME --version V] [--max-bad 0.001] [--json]
  odmn-pipeline job-server [--port 8073]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "score":
		err = runScore(ctx, os.Args[2:])
	case "features":
		err = runFeatures(ctx, os.Args[2:])
	case "job-server":
		err = runJobServer(ctx, os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		err = fmt.Errorf("unknown command %q\n%s", os.Args[1], usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "odmn-pipeline:", err)
		os.Exit(1)
	}
}

// runScore parses the flags on the global flag set, which also holds
// Beam's own flags (--environment_type, --job_name, ...).
func runScore(ctx context.Context, args []string) error {
	var o pipeline.ScoreOptions
	var dataGlob string
	var asJSON bool
	fs := flag.CommandLine
	fs.StringVar(&o.Model, "model", "", "ONNX file from odmn export, or a model directory")
	fs.StringVar(&dataGlob, "data", "", "tables to score (glob, .csv or .parquet)")
	fs.StringVar(&o.Out, "out", "", "output prefix: PREFIX-SSSSS-of-NNNNN.parquet")
	fs.IntVar(&o.ShardsPerFile, "shards-per-file", 1, "elements per input file (rows r with r mod n = i)")
	fs.StringVar(&o.Runtime, "score_runtime", "native", "scoring runtime: native or ort")
	fs.IntVar(&o.Batch, "batch", 0, "rows scored per model call (0: odmn score's default)")
	fs.StringVar(&o.Cache, "cache", "", "also write the scores to this Redis URL (a new version, not switched)")
	fs.StringVar(&o.Name, "name", "", "cache name")
	fs.StringVar(&o.Version, "version", "", "cache version to write")
	fs.Float64Var(&o.MaxBad, "max-bad", pipeline.DefaultMaxBad, "fail past this share of bad rows (written to PREFIX-bad-*.csv); negative: never")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Runner, o.Endpoint = *runners.Runner, *jobopts.Endpoint
	beam.Init()
	if o.Model == "" || dataGlob == "" || o.Out == "" {
		return fmt.Errorf("--model, --data and --out are required")
	}
	var err error
	if o.Data, err = inputs("data", dataGlob); err != nil {
		return err
	}
	res, err := pipeline.Score(ctx, o)
	if res != nil {
		report(asJSON, res, res.Counters, res.BadFiles)
		if !asJSON && err == nil {
			fmt.Printf("scored %d rows into %d shards (%s-*.parquet) in %s\n", res.Rows, len(res.Shards), o.Out, res.Elapsed.Round(time.Millisecond))
			if res.Cached != nil {
				fmt.Printf("cache %s version %s complete (%d users), not switched\n", o.Name, o.Version, res.Cached.Written)
			}
		}
	}
	return err
}

// runJobServer starts a prism job server on 127.0.0.1:port and waits.
func runJobServer(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("job-server", flag.ContinueOnError)
	port := fs.Int("port", 8073, "job service port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := prism.CreateJobServer(ctx, prism.Options{Port: *port}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "prism job server on localhost:%d\n", *port)
	<-ctx.Done()
	return nil
}

// inputs expands a file flag's glob.
func inputs(flagName, pattern string) ([]string, error) {
	files, err := data.ExpandGlobs([]string{pattern})
	if err != nil {
		return nil, fmt.Errorf("--%s %w", flagName, err)
	}
	return files, nil
}

// report prints a pipeline's result: all of it as JSON, or its counters
// and bad-row files.
func report(asJSON bool, res any, counters map[string]int64, bad []string) {
	if asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		_ = e.Encode(res)
		return
	}
	printCounters(counters)
	for _, f := range bad {
		fmt.Printf("bad rows: %s\n", f)
	}
}

func printCounters(c map[string]int64) {
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("%-13s %d\n", k, c[k])
	}
}

// runFeatures builds the customer table from transaction logs.
func runFeatures(ctx context.Context, args []string) error {
	var o pipeline.FeaturesOptions
	var in, asOf, window, horizons string
	var asJSON bool
	fs := flag.CommandLine
	fs.StringVar(&in, "in", "", "transaction logs (glob; header line; comma, tab or whitespace separated)")
	fs.StringVar(&o.Customer, "customer", "", "customer id column")
	fs.StringVar(&o.Time, "time", "", "transaction date column")
	fs.StringVar(&o.Value, "value", "", "money column (non-negative)")
	fs.StringVar(&o.Count, "count", "", "optional quantity column (default: number of transactions)")
	fs.StringVar(&o.DateFormat, "date-format", "", "Go time layout of the date column (default: detected per file)")
	fs.StringVar(&asOf, "as-of", "", "the day the log ends (YYYY-MM-DD): later transactions are ignored")
	fs.StringVar(&window, "window", "7d", "feature window: days (7d, 7) or weeks (1w)")
	fs.StringVar(&horizons, "horizons", "30,90,180,365", "label horizons after the window, comma-separated days")
	fs.BoolVar(&o.Labels, "labels", false, "build the training table (horizons complete too), not the scoring set")
	fs.StringVar(&o.Out, "out", "", "output prefix: PREFIX-SSSSS-of-NNNNN.parquet and PREFIX.spec.json")
	fs.IntVar(&o.Shards, "shards", 0, "output shards (default: one per input file)")
	fs.Float64Var(&o.MaxBad, "max-bad", pipeline.DefaultMaxBad, "fail past this share of bad rows (written to PREFIX-bad-*.csv); negative: never")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Runner, o.Endpoint = *runners.Runner, *jobopts.Endpoint
	beam.Init()
	if in == "" || o.Out == "" || asOf == "" {
		return fmt.Errorf("--in, --as-of and --out are required")
	}
	t, err := time.Parse("2006-01-02", asOf)
	if err != nil {
		return fmt.Errorf("--as-of %q: want YYYY-MM-DD", asOf)
	}
	o.AsOf = t
	if o.Window, err = data.ParseDays(window); err != nil {
		return fmt.Errorf("--window: %w", err)
	}
	if o.Horizons, err = data.ParseHorizons(horizons); err != nil {
		return fmt.Errorf("--horizons: %w", err)
	}
	if o.In, err = inputs("in", in); err != nil {
		return err
	}
	res, err := pipeline.Features(ctx, o)
	if res != nil {
		report(asJSON, res, res.Counters, res.BadFiles)
		if !asJSON && err == nil {
			fmt.Printf("wrote %d customers into %d shards (%s-*.parquet) and %s in %s\n",
				res.Counters["written"], len(res.Shards), o.Out, res.Spec, res.Elapsed.Round(time.Millisecond))
		}
	}
	return err
}
