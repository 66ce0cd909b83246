package train

import (
	"fmt"
	"runtime"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
)

// Data-parallel synchronous training: a batch is split into contiguous
// row blocks, one per worker; each worker fills its own feed (ids and
// targets, in parallel), runs forward and backward on its block with
// single-threaded kernels and its own run state, and copies its gradients
// out. The loss divides by statistics of the whole batch (the norms input),
// so the batch gradient is exactly the sum of the workers' gradients; the
// sum is taken in worker order, so a fixed thread count and seed give the
// same bits on every run. The embedding gradient stays sparse: each worker
// returns the gradient of the rows it gathered, and the rows are added into
// the table's gradient in worker and row order (only the rows touched are
// cleared and written), each worker adding and updating the rows of its
// share of the features.

// worker is one block's buffers.
type worker struct {
	rows     []int
	feed     map[string]*g.Tensor
	ids      *g.Tensor
	targets  []*g.Tensor
	baseline *g.Tensor
	norms    *g.Tensor
	lab      []float64
	part     []float64 // this block's sums of the norm columns
	grad     []float32 // dense gradients, every parameter end to end
	embIdx   []int32   // table row of every (row, slot) of the block
	embGrad  []float32 // gradient of the gathered rows [n, F, D]
	outs     []float64 // the values of the scalar outputs asked for
	err      error
}

// defaultWorkers is the number of training workers when Config.Threads
// is 0: GOMAXPROCS.
func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// setWorkers makes n workers (at least 1).
func (tr *trainer) setWorkers(n int) {
	n = max(1, n)
	for len(tr.workers) < n {
		w := &worker{feed: map[string]*g.Tensor{}, ids: &g.Tensor{}, baseline: &g.Tensor{},
			norms: g.NewTensor(g.Float32, []int{len(tr.norms)}), lab: make([]float64, len(tr.m.Horizons)),
			part: make([]float64, len(tr.norms)), grad: make([]float32, tr.gradLen)}
		for range tr.m.Tasks {
			w.targets = append(w.targets, &g.Tensor{})
		}
		tr.workers = append(tr.workers, w)
	}
	tr.nworkers = n
}

// split assigns rows to the workers in contiguous blocks and returns the
// workers that have rows.
func (tr *trainer) split(rows []int) []*worker {
	W := min(tr.nworkers, len(rows))
	ws := tr.workers[:max(W, 1)]
	for k, w := range ws {
		w.rows = rows[k*len(rows)/len(ws) : (k+1)*len(rows)/len(ws)]
	}
	return ws
}

// parallel runs f(0), ..., f(n-1) at once on the trainer's team.
func (tr *trainer) parallel(n int, f func(k int)) {
	if tr.team == nil || tr.team.n != n {
		tr.team = newTeam(n)
	}
	tr.team.run(f)
}

// fill writes a worker's feed for its rows and the partial sums of the
// norm columns.
func (tr *trainer) fill(ds *data.Dataset, w *worker) {
	m := tr.m
	rows := w.rows
	F := ds.F
	w.ids.Reset(g.Int64, []int{len(rows), F})
	for i, r := range rows {
		ds.RowInt64(r, w.ids.I[i*F:(i+1)*F])
	}
	w.feed[InputIDs] = w.ids
	w.feed[InputNorms] = w.norms
	if len(m.Tasks) == 0 { // baseline heads
		T := len(m.Horizons)
		tt := w.baseline
		tt.Reset(g.Float32, []int{len(rows), 3 * T})
		for i, r := range rows {
			for t, li := range m.Labels {
				w.lab[t] = float64(ds.Y[r*ds.T+li])
			}
			m.baselineTarget(tt.F[i*3*T:(i+1)*3*T], w.lab)
		}
		w.feed[BaselineTarget] = tt
	} else {
		for t := range m.Tasks {
			l := &tr.layouts[t]
			tt := w.targets[t]
			tt.Reset(g.Float32, []int{len(rows), l.width})
			li := m.Labels[t]
			for i, r := range rows {
				l.fill(tt.F[i*l.width:(i+1)*l.width], &m.Tasks[t], float64(ds.Y[r*ds.T+li]))
			}
			w.feed[m.TargetInput(t)] = tt
		}
	}
	for k, s := range tr.norms {
		if s.task < 0 {
			w.part[k] = float64(len(rows))
			continue
		}
		tt := w.targets[s.task]
		width := tt.Shape[1]
		var sum float64
		for i := range rows {
			for _, v := range tt.F[i*width+s.col : i*width+s.col+s.width] {
				sum += float64(v)
			}
		}
		w.part[k] = sum
	}
}

// prepare fills every worker's feed (in parallel) and sets the norms of
// the whole batch.
func (tr *trainer) prepare(ds *data.Dataset, rows []int) []*worker {
	ws := tr.split(rows)
	tr.parallel(len(ws), func(k int) { tr.fill(ds, ws[k]) })
	for k, s := range tr.norms {
		var v float64
		for _, w := range ws {
			v += w.part[k]
		}
		if s.task >= 0 {
			v = max(v, 1)
		}
		for _, w := range ws {
			w.norms.F[k] = float32(v)
		}
	}
	return ws
}

// run runs the graph on every worker's block with single-threaded
// kernels; fn copies what it keeps from the outputs.
func (tr *trainer) run(ws []*worker, names []string, fn func(w *worker, outs []*g.Tensor) error) error {
	prev := g.SetThreads(1)
	defer g.SetThreads(prev)
	tr.parallel(len(ws), func(k int) {
		w := ws[k]
		w.err = tr.sess.RunWith(w.feed, names, func(outs []*g.Tensor) error { return fn(w, outs) })
	})
	for _, w := range ws {
		if w.err != nil {
			return w.err
		}
	}
	return nil
}

// keepGrads is step's copy of a worker's outputs: the loss, the dense
// gradients end to end, and the gathered rows' gradient with their table
// rows. An id outside its feature's categories (which the Gather would
// read from the next feature's rows) is an error.
func (tr *trainer) keepGrads(w *worker, outs []*g.Tensor) error {
	w.outs = append(w.outs[:0], float64(outs[0].F[0]))
	for i := range tr.params {
		copy(w.grad[tr.gradOff[i]:tr.gradOff[i+1]], outs[1+i].F)
	}
	if tr.emb == nil {
		return nil
	}
	eg := outs[len(outs)-1].F
	w.embGrad = append(w.embGrad[:0], eg...)
	F := len(tr.offsets) - 1
	w.embIdx = w.embIdx[:0]
	for i, id := range w.ids.I {
		f := i % F
		if id < 0 || id >= int64(tr.offsets[f+1]-tr.offsets[f]) {
			return fmt.Errorf("train: row %d, feature %s: id %d is outside its %d categories",
				w.rows[i/F], tr.m.Features[f].Name, id, tr.offsets[f+1]-tr.offsets[f])
		}
		w.embIdx = append(w.embIdx, int32(id)+tr.offsets[f])
	}
	return nil
}

// reduce sums the workers' dense gradients into the first worker's buffer
// and scatters the embedding rows into the table's gradient (reduceWith
// without an update).
func (tr *trainer) reduce(ws []*worker) { tr.reduceWith(ws, nil) }

// reduceWith sums the workers' gradients and, when update is set, hands
// every summed range to it (Adam.Update) right away, while it is in cache:
// in one parallel pass over the workers, worker k taking the k-th element
// range of the dense gradients (summed in worker order, so the bits do not
// depend on the split) and the k-th range of the embedding's features
// (their table rows, added in worker and row order, then updated). update
// gets the index of the parameter in tr.adamParams order, the first
// element and the gradient.
func (tr *trainer) reduceWith(ws []*worker, update func(i, lo int, gr []float32)) {
	n := tr.gradLen
	F := len(tr.offsets) - 1
	if tr.emb != nil {
		tr.prepareScatter(len(ws))
	}
	tr.parallel(len(ws), func(k int) {
		if tr.emb != nil {
			f0, f1 := k*F/len(ws), (k+1)*F/len(ws)
			tr.scatterEmbedding(ws, k, f0, f1)
			if update != nil && f0 < f1 {
				D := tr.m.Cfg.EmbedDim
				lo, hi := int(tr.offsets[f0])*D, int(tr.offsets[f1])*D
				update(len(tr.params), lo, tr.embGrad.F[lo:hi])
			}
		}
		lo, hi := k*n/len(ws), (k+1)*n/len(ws)
		dst := ws[0].grad
		if len(ws) > 1 {
			for _, o := range ws[1:] {
				for i, v := range o.grad[lo:hi] {
					dst[lo+i] += v
				}
			}
		}
		if update == nil {
			return
		}
		// the parameters overlapping [lo, hi)
		for i := range tr.params {
			a, b := max(lo, tr.gradOff[i]), min(hi, tr.gradOff[i+1])
			if a < b {
				update(i, a-tr.gradOff[i], dst[a:b])
			}
		}
	})
}

// scatterEmbedding adds the workers' gathered-row gradients of features
// [f0, f1) into the table's gradient, clearing first the rows that part
// k wrote last step. A feature's ids index its own block of table rows
// (keepGrads checks), so workers given disjoint feature ranges write
// disjoint rows, and each row's sum is taken in worker and then row order
// whatever the split. prepareScatter must have run for this split.
func (tr *trainer) scatterEmbedding(ws []*worker, k, f0, f1 int) {
	D := tr.m.Cfg.EmbedDim
	F := len(tr.offsets) - 1
	eg := tr.embGrad.F
	mark := tr.mark
	t := tr.touched[k].rows // a local header: the parts' headers share cache lines
	for _, r := range t {
		clear(eg[int(r)*D : (int(r)+1)*D])
		mark[r] = false
	}
	t = t[:0]
	for _, w := range ws {
		// entry j is feature j mod F: one pass in memory order
		for i := 0; i < len(w.embIdx); i += F {
			for j := i + f0; j < i+f1; j++ {
				r := w.embIdx[j]
				if !mark[r] {
					mark[r] = true
					t = append(t, r)
				}
				dst := eg[int(r)*D : (int(r)+1)*D]
				for d, v := range w.embGrad[j*D : (j+1)*D] {
					dst[d] += v
				}
			}
		}
	}
	tr.touched[k].rows = t
}

// prepareScatter makes one touched-row list per worker; when the number
// of workers changed since the last step, the rows the old lists hold are
// cleared here first, before the workers split the features anew.
func (tr *trainer) prepareScatter(n int) {
	if len(tr.touched) == n {
		return
	}
	D := tr.m.Cfg.EmbedDim
	for _, p := range tr.touched {
		for _, r := range p.rows {
			clear(tr.embGrad.F[int(r)*D : (int(r)+1)*D])
			tr.mark[r] = false
		}
	}
	tr.touched = make([]touchedRows, n)
}

// touchedRows is one worker's list, padded to its own cache line.
type touchedRows struct {
	rows []int32
	_    [40]byte
}

// checkWorkers validates a thread count.
func checkWorkers(n int) error {
	if n < 0 {
		return fmt.Errorf("train: threads must be positive (0: GOMAXPROCS), got %d", n)
	}
	return nil
}
