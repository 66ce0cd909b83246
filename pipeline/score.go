package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism" // the embedded default
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// Task is one element: the rows r of File with r mod Shards == Shard,
// scored into Out.
type Task struct {
	File          string
	Shard, Shards int
	Out           string
	Bad           string // where its bad rows go
}

// Counters, in namespace "odmn".
var (
	rowsRead    = beam.NewCounter("odmn", "rows_read")
	rowsScored  = beam.NewCounter("odmn", "rows_scored")
	rowsWritten = beam.NewCounter("odmn", "rows_written")
	rowsCached  = beam.NewCounter("odmn", "rows_cached")
	rowsBad     = beam.NewCounter("odmn", "bad")
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Task)(nil)).Elem())
	register.DoFn2x1[context.Context, Task, error](&scoreFn{})
}

// scoreFn scores one Task. Exported fields travel to the workers.
type scoreFn struct {
	Model   string
	Runtime string
	Batch   int
	// CacheURL, Name, Version: also write the scores to this cache version
	// (begun by the driver; never switched here).
	CacheURL, Name, Version string

	m *score.Model
	c *cache.Cache
}

// Setup loads the model and opens the cache once per DoFn instance.
func (f *scoreFn) Setup(ctx context.Context) error {
	m, err := score.Load(f.Model, train.InferOptions{})
	if err != nil {
		return err
	}
	f.m = m
	if f.CacheURL != "" {
		c, err := cache.Open(ctx, f.CacheURL)
		if err != nil {
			return err
		}
		f.c = c
	}
	return nil
}

// Teardown closes the cache.
func (f *scoreFn) Teardown() error {
	if f.c != nil {
		return f.c.Close()
	}
	return nil
}

func (f *scoreFn) ProcessElement(ctx context.Context, t Task) error {
	c, err := checkShard(t.File, f.m, t.Shard, t.Shards)
	if err != nil {
		return err
	}
	if err := writeBad(t.Bad, t.File, c.bad); err != nil {
		return err
	}
	in, opts := t.File, score.Options{Runtime: f.Runtime, Batch: f.Batch, Shard: t.Shard, Shards: t.Shards}
	if c.anyBad {
		// The shard's good rows, alone in a file: score.File refuses a
		// file with a malformed row, whichever shard it falls in.
		good, err := goodRows(t.File, t.Out, f.m, t.Shard, t.Shards, c)
		if err != nil {
			return err
		}
		defer os.Remove(good)
		in, opts.Shard, opts.Shards = good, 0, 1
	}
	st, err := score.File(ctx, f.m, in, t.Out, opts)
	if err != nil {
		return fmt.Errorf("%s shard %d/%d: %w", t.File, t.Shard, t.Shards, err)
	}
	rowsRead.Inc(ctx, c.rows)
	rowsBad.Inc(ctx, int64(len(c.bad)))
	rowsScored.Inc(ctx, st.Scored)
	rowsWritten.Inc(ctx, st.Scored)
	if f.c != nil {
		n, err := cacheShard(ctx, f.c, f.Name, f.Version, t.Out)
		if err != nil {
			return err
		}
		rowsCached.Inc(ctx, n)
	}
	return nil
}

// cacheShard writes one score shard to a loading cache version.
func cacheShard(ctx context.Context, c *cache.Cache, name, ver, path string) (int64, error) {
	w, err := c.Writer(ctx, name, ver)
	if err != nil {
		return 0, err
	}
	cols, err := data.FileColumns(path)
	if err != nil {
		return 0, err
	}
	hs := cache.ScoreHorizons(cols)
	req := []data.ColumnRequest{{Name: cols[0], Kind: data.String}}
	for _, h := range hs {
		req = append(req, data.ColumnRequest{Name: "ltv_" + h, Kind: data.Float})
	}
	for _, h := range hs {
		req = append(req, data.ColumnRequest{Name: "ltv_ev_" + h, Kind: data.Float})
	}
	r, err := data.OpenReader(path, req, data.ChunkRows(cache.DefaultFlushRows))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	H := len(hs)
	ltv, ev := make([]float32, H), make([]float32, H)
	var n int64
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		for i, id := range t.Str[0] {
			for j := 0; j < H; j++ {
				ltv[j], ev[j] = float32(t.Num[1+j][i]), float32(t.Num[1+H+j][i])
			}
			if err := w.Put(ctx, id, ltv, ev); err != nil {
				return n, err
			}
		}
		n += int64(t.Rows())
	}
	return n, w.Flush(ctx)
}

// ScoreOptions configure Score.
type ScoreOptions struct {
	Model string
	Data  []string // files (globs expanded)
	// Out is the output prefix: shards PREFIX-SSSSS-of-NNNNN.parquet.
	Out string
	// ShardsPerFile splits each file into that many elements (default 1).
	ShardsPerFile int
	Runtime       string
	Batch         int
	// Runner is "prism" (embedded, the default) or "universal" with
	// Endpoint a portable job server's HOST:PORT.
	Runner, Endpoint string
	// Cache, Name, Version: also load the scores into this cache version
	// (begun before the run, finished after; never switched).
	Cache, Name, Version string
	// MaxBad is the largest share of bad rows tolerated (default
	// DefaultMaxBad; negative: none). Bad rows are skipped and written to
	// PREFIX-bad-SSSSS-of-NNNNN.csv with their reasons.
	MaxBad float64
}

// ScoreResult reports a run.
type ScoreResult struct {
	Shards   []string         `json:"shards"`
	BadFiles []string         `json:"bad_files,omitempty"`
	Counters map[string]int64 `json:"counters"`
	Rows     int64            `json:"rows"`    // rows in the input files
	Written  int64            `json:"written"` // rows in the output shards
	Bad      int64            `json:"bad"`     // rows in the bad-row files
	Cached   *cache.Version   `json:"cached,omitempty"`
	Elapsed  time.Duration    `json:"elapsed_ns"`
}

// Score builds and runs the scoring pipeline. The program must have called
// beam.Init (after parsing its flags).
func Score(ctx context.Context, o ScoreOptions) (*ScoreResult, error) {
	t0 := time.Now()
	if len(o.Data) == 0 {
		return nil, fmt.Errorf("no data files")
	}
	if o.ShardsPerFile <= 0 {
		o.ShardsPerFile = 1
	}
	if o.MaxBad == 0 {
		o.MaxBad = DefaultMaxBad
	}
	if o.Runtime == "" {
		o.Runtime = score.Native
	}
	m, err := score.Load(o.Model, train.InferOptions{}) // fail early, on the driver
	if err != nil {
		return nil, err
	}
	var total int64
	for _, f := range o.Data {
		n, err := countRows(f)
		if err != nil {
			return nil, err
		}
		total += n
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return nil, err
	}
	n := len(o.Data) * o.ShardsPerFile
	var tasks []Task
	res := &ScoreResult{Rows: total, Counters: map[string]int64{}}
	for i, f := range o.Data {
		for s := 0; s < o.ShardsPerFile; s++ {
			k := i*o.ShardsPerFile + s
			out := fmt.Sprintf("%s-%05d-of-%05d.parquet", o.Out, k, n)
			tasks = append(tasks, Task{File: f, Shard: s, Shards: o.ShardsPerFile, Out: out, Bad: badPath(o.Out, k, n)})
			res.Shards = append(res.Shards, out)
		}
	}
	var c *cache.Cache
	if o.Cache != "" {
		if c, err = cache.Open(ctx, o.Cache); err != nil {
			return nil, err
		}
		defer c.Close()
		hs := m.HorizonNames(len(m.Horizons))
		if len(m.Horizons) == 0 {
			return nil, fmt.Errorf("%s: the model does not name its horizons; the cache needs them", o.Model)
		}
		if _, err := c.Begin(ctx, o.Name, o.Version, cache.BeginOptions{Horizons: hs, Expected: total, Source: filepath.Base(o.Model)}); err != nil {
			return nil, err
		}
	}
	p, s := beam.NewPipelineWithRoot()
	elems := beam.Reshuffle(s, beam.CreateList(s, tasks))
	beam.ParDo0(s, &scoreFn{Model: o.Model, Runtime: o.Runtime, Batch: o.Batch, CacheURL: o.Cache, Name: o.Name, Version: o.Version}, elems)

	if err := run(ctx, p, o.Runner, o.Endpoint, res.Counters); err != nil {
		return nil, err
	}
	for _, t := range tasks {
		if _, err := os.Stat(t.Bad); err == nil {
			res.BadFiles = append(res.BadFiles, t.Bad)
		}
	}
	// The balance is checked on the outputs: the shards' rows and the
	// bad-row files' rows. Beam's counters are reported as the runner
	// gives them (prism has been seen to drop a bundle's counters).
	if res.Written, err = sumRows(res.Shards, false); err != nil {
		return res, err
	}
	if res.Bad, err = sumRows(res.BadFiles, true); err != nil {
		return res, err
	}
	if res.Written+res.Bad != total {
		return res, fmt.Errorf("rows do not balance: %d in the files, %d written + %d bad", total, res.Written, res.Bad)
	}
	if err := checkBad(res.Bad, total, o.MaxBad, res.BadFiles); err != nil {
		removeAll(res.Shards)
		return res, err // the cache version stays loading: switch refuses it
	}
	if c != nil {
		v, err := c.Finish(ctx, o.Name, o.Version, res.Written)
		if err != nil {
			return res, err
		}
		res.Cached = v
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// run runs p on the runner and adds the odmn counters to counters.
func run(ctx context.Context, p *beam.Pipeline, runner, endpoint string, counters map[string]int64) error {
	switch runner {
	case "", "prism":
		// An empty endpoint makes prism start its in-process job server
		// (a previous universal run in this process may have set one).
		runner, *jobopts.Endpoint = "prism", endpoint
	case "universal":
		if endpoint == "" {
			return fmt.Errorf("--runner universal needs --endpoint HOST:PORT (a portable job server)")
		}
		*jobopts.Endpoint = endpoint
		if *jobopts.EnvironmentType == "" {
			*jobopts.EnvironmentType = "loopback"
		}
	default:
		return fmt.Errorf("--runner %q: want prism or universal", runner)
	}
	pr, err := beam.Run(ctx, runner, p)
	if err != nil {
		return fmt.Errorf("the pipeline failed (nothing is switched; a cache version it was loading stays incomplete): %w", err)
	}
	for _, cr := range pr.Metrics().AllMetrics().Counters() {
		if cr.Key.Namespace == "odmn" {
			counters[cr.Key.Name] += cr.Result()
		}
	}
	return nil
}

// sumRows adds up the data rows of files (a bad-row CSV counts CSV records).
func sumRows(files []string, csv bool) (int64, error) {
	var n int64
	for _, f := range files {
		var k int64
		var err error
		if csv {
			k, err = countRows(f)
		} else {
			var m int
			m, err = data.CountRows(f)
			k = int64(m)
		}
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}
