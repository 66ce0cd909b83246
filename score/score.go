package score

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/train"
)

// DefaultBatch is the rows per model call unless Options.Batch says otherwise.
const DefaultBatch = 4096

// OutputRowGroupRows is the row group size of Parquet outputs.
const OutputRowGroupRows = 16384

// Options control File.
type Options struct {
	// Runtime is Native (the default), ORT or Reference.
	Runtime string
	// Threads is ONNX Runtime's intra-op thread count (0: its default).
	Threads int
	// Batch is the number of rows read and scored at a time (default
	// DefaultBatch); memory grows with it, not with the file.
	Batch int
	// Shard and Shards select the rows r (0-based, in file order) with
	// r mod Shards == Shard. Shards 0 or 1 scores every row.
	Shard, Shards int
	// Indices also writes sub_<h>, bucket_<h>, margin_sub_<h> and
	// margin_bucket_<h> (the model must have those outputs: export with
	// --indices, or score a model directory).
	Indices bool
	// Distributions also writes o_<h>_<j>, the probability of bucket j.
	Distributions bool
	// IDColumn overrides the model's id column; "-" carries none. When the
	// data has no id column, the output gets "row", the 0-based row of the
	// input file, so that shard outputs can be joined back.
	IDColumn string
	// QM also writes ltv_qm_<h>, the batch quantile-matched EV over the
	// scored rows (train.QMSketch), in a second pass over the first pass's
	// output: memory stays flat, the sketch's bound applies (see
	// train.QMSketch). The model needs o_<h> and v_<h> (export with
	// --distributions, or score the model directory).
	QM bool
	// Progress, when set, receives a progress bar.
	Progress io.Writer
}

// Stats summarize a File run.
type Stats struct {
	Rows    int64 // data rows read
	Scored  int64 // rows scored (the shard's)
	Columns []string
	Elapsed time.Duration
}

// RowColumn is the output column holding the input row (0-based) when the
// data has no id column.
const RowColumn = "row"

// File streams the table at in (.csv or .parquet) through the model
// and writes the predictions to out (.csv or .parquet, by extension): the
// id column (or RowColumn), then ltv_<h> and ltv_ev_<h> per horizon h, plus
// what opts adds. Rows stay in input order. The output is written to a
// temporary file and renamed over out at the end, so it never exists half
// written; on any error out is left as it was.
//
// Memory is bounded by a few batches whatever the file's size: one batch
// being parsed ahead while one is scored and written.
func File(ctx context.Context, m *Model, in, out string, opts Options) (Stats, error) {
	if !opts.QM {
		return scoreFile(ctx, m, in, out, opts, nil)
	}
	t0 := time.Now()
	if len(m.Horizons) == 0 {
		return Stats{}, fmt.Errorf("%s: the model does not name its horizons, so QM cannot find its distributions", m.Path)
	}
	sk := make([]*train.QMSketch, len(m.Horizons))
	for t := range sk {
		sk[t] = train.NewQMSketch()
	}
	first, err := passFile(out)
	if err != nil {
		return Stats{}, err
	}
	defer os.Remove(first)
	st, err := scoreFile(ctx, m, in, first, opts, sk)
	if err != nil {
		return st, err
	}
	cols, err := qmPass(ctx, m, first, out, sk, opts.Batch)
	if err != nil {
		return st, err
	}
	st.Columns = cols
	st.Elapsed = time.Since(t0)
	return st, nil
}

// passFile is a fresh temporary file beside out, with out's extension,
// for the first pass's output.
func passFile(out string) (string, error) {
	ext := filepath.Ext(out)
	f, err := os.CreateTemp(filepath.Dir(out), "."+strings.TrimSuffix(filepath.Base(out), ext)+".pass1-*"+ext)
	if err != nil {
		return "", err
	}
	name := f.Name()
	return name, f.Close()
}

// qmPass reads the first pass's output (first), adds ltv_qm_<h> from the
// sketches' maps (running maximum across horizons) and writes out.
func qmPass(ctx context.Context, m *Model, first, out string, sk []*train.QMSketch, batch int) ([]string, error) {
	maps := make([]*train.QMMap, len(sk))
	for t, s := range sk {
		mp, err := s.Map()
		if err != nil {
			return nil, fmt.Errorf("%s: QM, horizon %d: %w", first, m.Horizons[t], err)
		}
		maps[t] = mp
	}
	names, err := data.FileColumns(first)
	if err != nil {
		return nil, err
	}
	hs := m.HorizonNames(len(m.Horizons))
	var cols []data.ColumnRequest
	var kinds []data.Kind
	evCol := make([]int, len(hs))
	for i := range evCol {
		evCol[i] = -1
	}
	for j, n := range names {
		k := data.Float
		if j == 0 && n != RowColumn {
			k = data.String
		}
		cols = append(cols, data.ColumnRequest{Name: n, Kind: k})
		kinds = append(kinds, k)
		for t, h := range hs {
			if n == "ltv_ev_"+h {
				evCol[t] = j
			}
		}
	}
	for t, c := range evCol {
		if c < 0 {
			return nil, fmt.Errorf("%s: no ltv_ev_%s column", first, hs[t])
		}
	}
	outNames := append([]string{}, names...)
	for _, h := range hs {
		outNames = append(outNames, "ltv_qm_"+h)
		kinds = append(kinds, data.Float)
	}
	r, err := data.OpenReader(first, cols, data.ChunkRows(batch))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	w, err := data.NewWriter(out, outNames, kinds, data.RowGroupRows(OutputRowGroupRows))
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			w.Abort()
		}
	}()
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := t.Rows()
		qm := make([][]float64, len(hs))
		for k := range qm {
			qm[k] = make([]float64, n)
		}
		for i := 0; i < n; i++ {
			prev := math.Inf(-1)
			for k, c := range evCol {
				// Back to the float32 the model gave, as the sketch saw it.
				ev := float64(float32(t.Num[t.Col(names[c])][i]))
				// float32 like the other outputs (and like eval's QM).
				v := max(float64(float32(maps[k].Apply(ev))), prev)
				qm[k][i], prev = Float32To64(float32(v)), v
			}
		}
		ot := data.NewTable(nil, nil)
		for j, n := range names {
			if kinds[j] == data.String {
				ot.AddString(n, t.Str[t.Col(n)])
			} else {
				ot.AddFloat(n, t.Num[t.Col(n)])
			}
		}
		for k, h := range hs {
			ot.AddFloat("ltv_qm_"+h, qm[k])
		}
		if err := w.Write(ot); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	ok = true
	return outNames, nil
}

// scoreFile is one scoring pass; with sketches it also adds every scored
// user's EV and predicted mixture to them.
func scoreFile(ctx context.Context, m *Model, in, out string, opts Options, sketches []*train.QMSketch) (Stats, error) {
	t0 := time.Now()
	var st Stats
	var err error
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Shards <= 0 {
		opts.Shards = 1
	}
	if opts.Shard < 0 || opts.Shard >= opts.Shards {
		return st, fmt.Errorf("shard %d/%d: want 0 <= shard < %d", opts.Shard, opts.Shards, opts.Shards)
	}
	var sess runtime.Session
	if opts.Runtime == Native || opts.Runtime == "" {
		// Scoring graphs treat rows independently: with several cores a
		// batch runs as row blocks at once, each with one-thread kernels.
		sess, err = native.New(m.graph, native.Options{SplitRows: true})
	} else {
		sess, err = m.Session(opts.Runtime, SessionOptions{Threads: opts.Threads})
	}
	if err != nil {
		return st, err
	}
	defer sess.Close()

	// Columns: the features, plus the id column when the data has it.
	feeder := NewFeeder(m.Inputs)
	cols := feeder.Columns()
	have, err := data.FileColumns(in)
	if err != nil {
		return st, err
	}
	idCol := m.IDColumn
	if opts.IDColumn != "" {
		idCol = opts.IDColumn
	}
	if idCol == "-" {
		idCol = ""
	}
	if idCol != "" && !slices.Contains(have, idCol) {
		if opts.IDColumn != "" {
			return st, fmt.Errorf("%s: no id column %q", in, idCol)
		}
		idCol = ""
	}
	for _, c := range cols {
		if c.Name == idCol {
			idCol = "" // an id that is also a feature is not carried twice
		}
	}
	if idCol != "" {
		cols = append(cols, data.ColumnRequest{Name: idCol, Kind: data.String})
	}
	r, err := data.OpenReader(in, cols, data.ChunkRows(opts.Batch))
	if err != nil {
		return st, err
	}
	defer r.Close()

	layout, err := m.outputLayout(opts)
	if err != nil {
		return st, err
	}
	if sketches != nil {
		for _, h := range m.Horizons {
			for _, o := range []string{train.DistOutput(h), train.ValuesOutput(h)} {
				if !m.HasOutput(o) {
					return st, fmt.Errorf("%s: the model has no %s output, which QM needs: export it with --distributions (or score the model directory)", m.Path, o)
				}
				if !slices.Contains(layout.outputs, o) {
					layout.outputs = append(layout.outputs, o)
				}
			}
		}
	}
	names := []string{RowColumn}
	kinds := []data.Kind{data.Float}
	if idCol != "" {
		names, kinds = []string{idCol}, []data.Kind{data.String}
	}
	for _, c := range layout.cols {
		names = append(names, c.name)
		kinds = append(kinds, data.Float)
	}
	st.Columns = names
	// Parquet row groups are buffered whole: keep them small next to a
	// data set (the writer's default is 131,072 rows).
	var f32 []string
	for _, c := range layout.cols {
		if c.f32 {
			f32 = append(f32, c.name)
		}
	}
	w, err := data.NewWriter(out, names, kinds, data.RowGroupRows(OutputRowGroupRows), data.Float32Columns(f32...))
	if err != nil {
		return st, err
	}
	ok := false
	defer func() {
		if !ok {
			w.Abort()
		}
	}()

	var bar *progressbar.ProgressBar
	if opts.Progress != nil {
		total := -1
		if n, err := data.CountRows(in); err == nil {
			total = n
		}
		bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(opts.Progress),
			progressbar.OptionSetDescription("scoring"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		defer bar.Finish()
	}

	// Parse one chunk ahead of the one being scored.
	type chunk struct {
		t   *data.Table
		err error
	}
	chunks := make(chan chunk, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(chunks)
		for {
			t, err := r.Next()
			if err == io.EOF {
				return
			}
			select {
			case chunks <- chunk{t, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	// Write (format the predictions, write them) one batch behind the one
	// being scored.
	type result struct {
		t    *data.Table
		res  map[string]*graph.Tensor
		sel  []int
		base int64
		k    int
	}
	results := make(chan result, 1)
	written := make(chan error, 1) // the writer's outcome, when results is closed
	failed := make(chan struct{})  // closed at the writer's first error
	go func() {
		var err error
		for r := range results {
			if err != nil {
				continue // drain
			}
			ot := data.NewTable(nil, nil)
			if idCol != "" {
				src := r.t.Str[r.t.Col(idCol)]
				ids := make([]string, r.k)
				for i := range ids {
					ids[i] = src[rowAt(r.sel, i)]
				}
				ot.AddString(idCol, ids)
			} else {
				pos := make([]float64, r.k)
				for i := range pos {
					pos[i] = float64(r.base + int64(rowAt(r.sel, i)))
				}
				ot.AddFloat(RowColumn, pos)
			}
			if err = layout.fill(ot, r.res, r.k); err == nil {
				err = w.Write(ot)
			}
			if err != nil {
				close(failed)
			}
		}
		written <- err
	}()
	var werr error
	sent := false
	finish := func() error { // the writer's outcome, once
		if sent {
			return werr
		}
		sent = true
		close(results)
		werr = <-written
		return werr
	}
	defer finish()

	for c := range chunks {
		if c.err != nil {
			return st, c.err
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		t := c.t
		n := t.Rows()
		base := st.Rows
		st.Rows += int64(n)
		var sel []int
		if opts.Shards > 1 {
			for i := 0; i < n; i++ {
				if (base+int64(i))%int64(opts.Shards) == int64(opts.Shard) {
					sel = append(sel, i)
				}
			}
			if len(sel) == 0 {
				continue
			}
		}
		feed, err := feeder.Feed(t, sel)
		if err != nil {
			return st, fmt.Errorf("%s: %w", in, err)
		}
		res, err := sess.Run(feed, layout.outputs...)
		if err != nil {
			return st, fmt.Errorf("%s: rows %d-%d: %w", in, base+1, base+int64(n), err)
		}
		k := n
		if sel != nil {
			k = len(sel)
		}
		if sketches != nil {
			if err := addToSketches(sketches, m.Horizons, res, k); err != nil {
				return st, fmt.Errorf("%s: rows %d-%d: %w", in, base+1, base+int64(n), err)
			}
		}
		select {
		case results <- result{t: t, res: res, sel: sel, base: base, k: k}:
		case <-failed:
			return st, finish()
		}
		st.Scored += int64(k)
		if bar != nil {
			_ = bar.Set64(st.Rows)
		}
	}
	if err := finish(); err != nil {
		return st, err
	}
	if err := w.Close(); err != nil {
		return st, err
	}
	ok = true
	st.Elapsed = time.Since(t0)
	return st, nil
}

// addToSketches adds k scored users (their ltv_ev, o_<h> and v_<h>) to
// the QM sketches.
func addToSketches(sk []*train.QMSketch, hs []int, res map[string]*graph.Tensor, k int) error {
	ev := res[train.OutLTVEV]
	T := len(hs)
	if ev == nil || len(ev.F) != k*T {
		return fmt.Errorf("ltv_ev: got %v, want [%d, %d]", ev, k, T)
	}
	var mass, val []float64
	for t, h := range hs {
		o, v := res[train.DistOutput(h)], res[train.ValuesOutput(h)]
		if o == nil || v == nil || len(o.Shape) != 2 || o.Shape[0] != k || !slices.Equal(o.Shape, v.Shape) {
			return fmt.Errorf("%s and %s: got %v and %v, want [%d, M] each", train.DistOutput(h), train.ValuesOutput(h), o, v, k)
		}
		M := o.Shape[1]
		if cap(mass) < M {
			mass, val = make([]float64, M), make([]float64, M)
		}
		mass, val = mass[:M], val[:M]
		for i := 0; i < k; i++ {
			for j := 0; j < M; j++ {
				mass[j], val[j] = float64(o.F[i*M+j]), float64(v.F[i*M+j])
			}
			sk[t].AddUser(float64(ev.F[i*T+t]), mass, val)
		}
	}
	return nil
}

func rowAt(sel []int, i int) int {
	if sel == nil {
		return i
	}
	return sel[i]
}

// isQuantileOutput reports whether an output is an interval quantile.
func isQuantileOutput(name string) bool {
	_, ok := train.ParseQuantileOutput(name)
	return ok
}

// outCol is one output column: column j of model output src.
type outCol struct {
	name string
	src  string
	j    int
	f32  bool // the output is float32 (else int64)
}

func (c outCol) dtype() graph.DType {
	if c.f32 {
		return graph.Float32
	}
	return graph.Int64
}

type layout struct {
	outputs []string // model outputs to compute
	cols    []outCol
}

// outputLayout decides the output columns.
func (m *Model) outputLayout(opts Options) (*layout, error) {
	width := func(name string) (int, error) {
		for _, o := range m.graph.Outputs() {
			if o.Name == name {
				s := o.Node.Shape()
				if len(s) != 2 || s[1] < 0 {
					return 0, fmt.Errorf("%s: output %s has shape %v; want [N, k] with k known", m.Path, name, s)
				}
				return s[1], nil
			}
		}
		return 0, fmt.Errorf("%s: the model has no output %q", m.Path, name)
	}
	l := &layout{}
	T, err := width(train.OutLTV)
	if err != nil {
		return nil, err
	}
	hs := m.HorizonNames(T)
	add := func(output, prefix string) error {
		k, err := width(output)
		if err != nil {
			return err
		}
		if k != T {
			return fmt.Errorf("%s: output %s has %d columns, ltv %d", m.Path, output, k, T)
		}
		l.outputs = append(l.outputs, output)
		for j := 0; j < T; j++ {
			l.cols = append(l.cols, outCol{name: prefix + hs[j], src: output, j: j})
		}
		return nil
	}
	if err := add(train.OutLTV, "ltv_"); err != nil {
		return nil, err
	}
	if err := add(train.OutLTVEV, "ltv_ev_"); err != nil {
		return nil, err
	}
	// The decodes the model has: frozen QM and the interval quantiles.
	for _, o := range m.Outputs {
		if o == train.OutFQM || isQuantileOutput(o) {
			if err := add(o, o+"_"); err != nil {
				return nil, err
			}
		}
	}
	if opts.Indices {
		for _, o := range []string{train.OutSub, train.OutBucket, train.OutMarginSub, train.OutMarginBucket} {
			if !m.HasOutput(o) {
				return nil, fmt.Errorf("%s: the model has no %s output: export it with --indices (or score the model directory)", m.Path, o)
			}
			if err := add(o, o+"_"); err != nil {
				return nil, err
			}
		}
	}
	if opts.Distributions {
		if len(m.Horizons) != T {
			return nil, fmt.Errorf("%s: the model does not name its horizons, so its distributions cannot be found", m.Path)
		}
		for _, h := range m.Horizons {
			o := train.DistOutput(h)
			if !m.HasOutput(o) {
				return nil, fmt.Errorf("%s: the model has no %s output: export it with --distributions (or score the model directory)", m.Path, o)
			}
			k, err := width(o)
			if err != nil {
				return nil, err
			}
			l.outputs = append(l.outputs, o)
			for j := 0; j < k; j++ {
				l.cols = append(l.cols, outCol{name: fmt.Sprintf("%s_%d", o, j), src: o, j: j})
			}
		}
	}
	for i, c := range l.cols {
		for _, o := range m.graph.Outputs() {
			if o.Name != c.src {
				continue
			}
			switch dt := o.Node.DType(); dt {
			case graph.Float32:
				l.cols[i].f32 = true
			case graph.Int64:
			default:
				return nil, fmt.Errorf("%s: output %s is %s; want float32 or int64", m.Path, c.src, dt)
			}
		}
	}
	return l, nil
}

// fill adds the prediction columns of k rows to t: float32 outputs
// widened exactly (the writer prints them in float32's shortest form,
// data.Float32Columns), integer ones as they are.
func (l *layout) fill(t *data.Table, res map[string]*graph.Tensor, k int) error {
	for _, c := range l.cols {
		x := res[c.src]
		if x == nil || len(x.Shape) != 2 || x.Shape[0] != k {
			return fmt.Errorf("output %s: got %v, want %d rows", c.src, x, k)
		}
		w := x.Shape[1]
		v := make([]float64, k)
		switch {
		case x.DType == graph.Float32 && c.f32:
			for i := range v {
				v[i] = float64(x.F[i*w+c.j])
			}
		case x.DType == graph.Int64 && !c.f32:
			for i := range v {
				v[i] = float64(x.I[i*w+c.j])
			}
		default:
			return fmt.Errorf("output %s is %s, the model declares %s", c.src, x.DType, c.dtype())
		}
		t.AddFloat(c.name, v)
	}
	return nil
}

// Float32To64 converts f to the float64 with the same shortest decimal
// form (data.Float32To64).
func Float32To64(f float32) float64 { return data.Float32To64(f) }

// PeakRSS returns the process's peak resident set size in bytes (VmHWM
// of /proc/self/status), or an error where there is none.
func PeakRSS() (int64, error) { return peakRSS() }
