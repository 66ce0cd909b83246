package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/odmn/odmn/data"
)

// FeaturesOptions configure Features.
type FeaturesOptions struct {
	In []string // transaction log files (globs expanded)
	// Customer, Time, Value, Count, DateFormat: as data.BuildOptions.
	Customer, Time, Value, Count, DateFormat string
	// AsOf is the last day of the log: later transactions are ignored.
	AsOf     time.Time
	Window   int   // default data.DefaultWindow
	Horizons []int // default data.DefaultHorizons
	// Labels builds the training table (customers whose horizons are
	// complete too); without it, the scoring set.
	Labels bool
	Bins   int
	// Out is the output prefix: PREFIX-SSSSS-of-NNNNN.parquet, the spec
	// PREFIX.spec.json, bad rows PREFIX-bad-SSSSS-of-NNNNN.csv (one per
	// input file that has any).
	Out string
	// Shards is the number of output shards (default: one per input file).
	Shards int
	// MaxBad is the largest share of bad rows tolerated (default
	// DefaultMaxBad; negative: none).
	MaxBad float64
	// Runner, Endpoint: see ScoreOptions.
	Runner, Endpoint string
}

// DefaultMaxBad is the share of bad rows past which a run fails.
const DefaultMaxBad = 0.001

// FeaturesResult reports a features run.
type FeaturesResult struct {
	Shards   []string         `json:"shards"`
	Spec     string           `json:"spec"`
	BadFiles []string         `json:"bad_files,omitempty"`
	Counters map[string]int64 `json:"counters"`
	Written  int64            `json:"written"` // customers in the shards
	Bad      int64            `json:"bad"`     // rows in the bad-row files
	Elapsed  time.Duration    `json:"elapsed_ns"`
}

// tx is one good transaction on its way to its customer: its place in the
// log (file, line) orders the sums as data.BuildFromTransactions adds them.
type tx struct {
	Day          int64
	Value, Count float64
	File         int
	Line         int64
}

// logFile is one element of the features pipeline: a whole input file.
type logFile struct {
	Path  string
	Index int
	Bad   string // where its bad rows go
}

var (
	featRowsRead   = beam.NewCounter("odmn", "rows_read")
	featBad        = beam.NewCounter("odmn", "bad")
	featLate       = beam.NewCounter("odmn", "after_as_of")
	featCustomers  = beam.NewCounter("odmn", "customers")
	featIncomplete = beam.NewCounter("odmn", "incomplete")
	featWritten    = beam.NewCounter("odmn", "written")
)

func init() {
	beam.RegisterType(reflect.TypeOf((*tx)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*logFile)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*data.Row)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*data.Decimals)(nil)).Elem())
	register.DoFn4x1[context.Context, logFile, func(string, tx), func(data.Decimals), error](&readLogFn{})
	register.Emitter2[string, tx]()
	register.Emitter1[data.Decimals]()
	register.DoFn5x0[context.Context, string, func(*tx) bool, data.Decimals, func(int, data.Row)](&customerFn{})
	register.Iter1[tx]()
	register.Emitter2[int, data.Row]()
	register.DoFn4x1[context.Context, int, func(*bool) bool, func(*data.Row) bool, error](&writeShardFn{})
	register.Iter1[bool]()
	register.Iter1[data.Row]()
	register.Function2x1[data.Decimals, data.Decimals, data.Decimals](mergeDecimals)
	register.Function1x2[int, int, bool](shardKey)
}

// readLogFn parses one log file: good transactions keyed by customer, bad
// rows to the file's bad-row CSV, and the file's decimals.
type readLogFn struct {
	Customer, Time, Value, Count, DateFormat string
	AsOf                                     int64
}

func (f *readLogFn) ProcessElement(ctx context.Context, lf logFile, emit func(string, tx), emitDec func(data.Decimals)) error {
	r, err := data.OpenLog(lf.Path, data.LogOptions{Customer: f.Customer, Time: f.Time, Value: f.Value, Count: f.Count, DateFormat: f.DateFormat})
	if err != nil {
		return err
	}
	defer r.Close()
	bad := newBadWriter(lf.Bad)
	defer bad.abort()
	var dec data.Decimals
	for {
		t, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *data.RowError
			if !errors.As(err, &re) {
				return err
			}
			featRowsRead.Inc(ctx, 1)
			featBad.Inc(ctx, 1)
			if err := bad.add(lf.Path, line, re.Column, re.Reason); err != nil {
				return err
			}
			continue
		}
		featRowsRead.Inc(ctx, 1)
		if t.Day > f.AsOf {
			featLate.Inc(ctx, 1)
			continue
		}
		dec.Add(t)
		emit(t.Customer, tx{Day: t.Day, Value: t.Value, Count: t.Count, File: lf.Index, Line: line})
	}
	emitDec(dec)
	return bad.commit()
}

func mergeDecimals(a, b data.Decimals) data.Decimals {
	a.Merge(b)
	return a
}

// customerFn computes one customer's row with data.Features, the
// definition data.BuildFromTransactions uses.
type customerFn struct {
	Window   int
	Horizons []int
	Labels   bool
	AsOf     int64
	Shards   int
}

func (f *customerFn) ProcessElement(ctx context.Context, id string, txs func(*tx) bool, dec data.Decimals, emit func(int, data.Row)) {
	var all []tx
	var t tx
	for txs(&t) {
		all = append(all, t)
	}
	featCustomers.Inc(ctx, 1)
	sort.Slice(all, func(i, j int) bool {
		if all[i].File != all[j].File {
			return all[i].File < all[j].File
		}
		return all[i].Line < all[j].Line
	})
	first := all[0].Day
	for _, t := range all {
		first = min(first, t.Day)
	}
	fs := &data.Features{Window: f.Window, Horizons: f.Horizons, Labels: f.Labels, Decimals: dec}
	if !fs.Complete(first, f.AsOf) {
		featIncomplete.Inc(ctx, 1)
		return
	}
	c := fs.NewCustomer(id, first)
	for _, t := range all {
		c.Add(data.Transaction{Customer: id, Day: t.Day, Value: t.Value, Count: t.Count})
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	emit(int(h.Sum32()%uint32(f.Shards)), c.Row())
}

// shardKey keys the list of shard numbers, so that every shard is written
// (empty when no customer hashes to it).
func shardKey(i int) (int, bool) { return i, true }

// writeShardFn writes one output shard atomically.
type writeShardFn struct {
	Prefix   string
	Shards   int
	Window   int
	Horizons []int
	Labels   bool
}

// writeBatch is the rows per Table handed to the writer.
const writeBatch = 4096

func (f *writeShardFn) ProcessElement(ctx context.Context, shard int, _ func(*bool) bool, rows func(*data.Row) bool) error {
	fs := &data.Features{Window: f.Window, Horizons: f.Horizons, Labels: f.Labels}
	names, kinds := fs.Columns()
	w, err := data.NewWriter(shardPath(f.Prefix, shard, f.Shards, "parquet"), names, kinds)
	if err != nil {
		return err
	}
	var buf []data.Row
	var r data.Row
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := w.Write(fs.Table(buf))
		featWritten.Inc(ctx, int64(len(buf)))
		buf = buf[:0]
		return err
	}
	for rows(&r) {
		buf = append(buf, r)
		r = data.Row{}
		if len(buf) == writeBatch {
			if err := flush(); err != nil {
				w.Abort()
				return err
			}
		}
	}
	if err := flush(); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

func shardPath(prefix string, i, n int, ext string) string {
	return fmt.Sprintf("%s-%05d-of-%05d.%s", prefix, i, n, ext)
}

func badPath(prefix string, i, n int) string {
	return fmt.Sprintf("%s-bad-%05d-of-%05d.csv", prefix, i, n)
}

// Features builds the customer table of data.BuildFromTransactions from
// many log files as a Beam pipeline. The program must have called
// beam.Init.
func Features(ctx context.Context, o FeaturesOptions) (*FeaturesResult, error) {
	t0 := time.Now()
	if len(o.In) == 0 {
		return nil, fmt.Errorf("no transaction log files")
	}
	if o.Customer == "" || o.Time == "" || o.Value == "" {
		return nil, fmt.Errorf("the customer, time and value columns are required")
	}
	if o.AsOf.IsZero() {
		return nil, fmt.Errorf("no as-of date")
	}
	if o.Out == "" {
		return nil, fmt.Errorf("no output prefix")
	}
	if o.Window == 0 {
		o.Window = data.DefaultWindow
	}
	if o.Horizons == nil {
		o.Horizons = data.DefaultHorizons
	}
	if o.Shards <= 0 {
		o.Shards = len(o.In)
	}
	if o.MaxBad == 0 {
		o.MaxBad = DefaultMaxBad
	}
	fs := &data.Features{Window: o.Window, Horizons: o.Horizons, Labels: o.Labels, Bins: o.Bins}
	spec := fs.Spec()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	// Fail on the driver for a file that cannot be opened or lacks a column.
	for _, p := range o.In {
		r, err := data.OpenLog(p, data.LogOptions{Customer: o.Customer, Time: o.Time, Value: o.Value, Count: o.Count, DateFormat: o.DateFormat})
		if err != nil {
			return nil, err
		}
		r.Close()
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return nil, err
	}
	y, m, d := o.AsOf.Date()
	asOf := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400

	res := &FeaturesResult{Spec: data.SpecPathFor(o.Out + ".parquet"), Counters: map[string]int64{}}
	var files []logFile
	for i, p := range o.In {
		files = append(files, logFile{Path: p, Index: i, Bad: badPath(o.Out, i, len(o.In))})
	}
	shards := make([]int, o.Shards)
	for i := range shards {
		shards[i] = i
		res.Shards = append(res.Shards, shardPath(o.Out, i, o.Shards, "parquet"))
	}

	p, s := beam.NewPipelineWithRoot()
	elems := beam.Reshuffle(s, beam.CreateList(s, files))
	txs, decs := beam.ParDo2(s, &readLogFn{Customer: o.Customer, Time: o.Time, Value: o.Value, Count: o.Count, DateFormat: o.DateFormat, AsOf: asOf}, elems)
	dec := beam.Combine(s, mergeDecimals, decs)
	rows := beam.ParDo(s, &customerFn{Window: o.Window, Horizons: o.Horizons, Labels: o.Labels, AsOf: asOf, Shards: o.Shards},
		beam.GroupByKey(s, txs), beam.SideInput{Input: dec})
	keys := beam.ParDo(s, shardKey, beam.CreateList(s, shards))
	beam.ParDo0(s, &writeShardFn{Prefix: o.Out, Shards: o.Shards, Window: o.Window, Horizons: o.Horizons, Labels: o.Labels},
		beam.CoGroupByKey(s, keys, rows))

	if err := run(ctx, p, o.Runner, o.Endpoint, res.Counters); err != nil {
		return nil, err
	}
	c := res.Counters
	for _, f := range files {
		if _, err := os.Stat(f.Bad); err == nil {
			res.BadFiles = append(res.BadFiles, f.Bad)
		}
	}
	var err error
	if res.Written, err = sumRows(res.Shards, false); err != nil {
		return res, err
	}
	if res.Bad, err = sumRows(res.BadFiles, true); err != nil {
		return res, err
	}
	if err := checkBad(res.Bad, max(c["rows_read"], res.Bad), o.MaxBad, res.BadFiles); err != nil {
		removeAll(res.Shards)
		return res, err
	}
	if res.Written == 0 && c["rows_read"]-c["bad"]-c["after_as_of"] == 0 {
		removeAll(res.Shards)
		return res, fmt.Errorf("no transactions on or before %s in %d files", o.AsOf.Format("2006-01-02"), len(o.In))
	}
	if err := spec.Save(res.Spec); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// checkBad fails a run whose share of bad rows is past maxBad.
func checkBad(bad, read int64, maxBad float64, files []string) error {
	if bad == 0 || maxBad < 0 {
		return nil
	}
	if float64(bad) > maxBad*float64(read) {
		return fmt.Errorf("%d bad rows of %d read (%.4g%%), more than --max-bad %g: see %v", bad, read, 100*float64(bad)/float64(read), maxBad, files)
	}
	return nil
}

func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// badWriter collects one element's bad rows into a CSV (file, line,
// column, reason), written atomically at commit; with no bad row, commit
// removes a stale file from an earlier run.
type badWriter struct {
	path string
	tab  *data.Table
	w    *data.Writer
}

func newBadWriter(path string) *badWriter { return &badWriter{path: path} }

func (b *badWriter) add(file string, line int64, column, reason string) error {
	if b.w == nil {
		w, err := data.NewWriter(b.path, []string{"file", "line", "column", "reason"}, []data.Kind{data.String, data.String, data.String, data.String})
		if err != nil {
			return err
		}
		b.w = w
	}
	t := data.NewTable(nil, nil)
	t.AddString("file", []string{file})
	t.AddString("line", []string{strconv.FormatInt(line, 10)})
	t.AddString("column", []string{column})
	t.AddString("reason", []string{reason})
	return b.w.Write(t)
}

func (b *badWriter) commit() error {
	if b.w == nil {
		if err := os.Remove(b.path); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	w := b.w
	b.w = nil
	return w.Close()
}

func (b *badWriter) abort() {
	if b.w != nil {
		b.w.Abort()
	}
}
