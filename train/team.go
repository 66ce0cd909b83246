package train

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// team runs the parallel sections of a training step: f(0) on the caller,
// f(1..n-1) on helper goroutines that stay spinning for a while after a
// section ends. A step has three sections (fill, forward and backward,
// reduce and Adam) separated by short serial gaps; with goroutines
// started per section, each section began by waking a parked thread,
// about 0.1 ms on these virtual machines, a few percent of a step and
// much of what a second core could give. Helpers that find no work for
// teamIdle exit; the next section starts them again.
type team struct {
	n       int
	f       func(int)
	gen     atomic.Uint64 // one per section
	next    atomic.Int64  // the last index handed out
	pending atomic.Int64  // helpers not yet done with this section
	mu      sync.Mutex
	alive   int // helpers running
	parked  int // helpers blocked on wake
	wake    chan struct{}
}

const (
	teamSpin = 200 * time.Microsecond // spinning before parking
	teamIdle = time.Second            // parked before exiting
)

func newTeam(n int) *team { return &team{n: max(n, 1), wake: make(chan struct{}, max(n, 1))} }

// run calls f(0), ..., f(n-1) at once and returns when all are done.
func (t *team) run(f func(k int)) {
	if t.n == 1 {
		f(0)
		return
	}
	t.f = f
	t.next.Store(0)
	t.pending.Store(int64(t.n - 1))
	t.mu.Lock()
	seen := t.gen.Load()
	for t.alive < t.n-1 {
		t.alive++
		go t.helper(seen)
	}
	t.gen.Add(1)
	for range t.parked {
		t.wake <- struct{}{}
	}
	t.mu.Unlock()
	f(0)
	for i := 0; t.pending.Load() > 0; i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	t.f = nil
}

func (t *team) helper(seen uint64) {
	for t.await(seen) {
		seen = t.gen.Load()
		if k := int(t.next.Add(1)); k < t.n {
			t.f(k)
		}
		t.pending.Add(-1)
	}
}

// await returns true when a section after seen is published, false when
// the helper should exit (idle for teamIdle).
func (t *team) await(seen uint64) bool {
	start := time.Now()
	for i := 0; t.gen.Load() == seen; i++ {
		if i%64 != 63 {
			continue
		}
		if time.Since(start) < teamSpin {
			runtime.Gosched()
			continue
		}
		t.mu.Lock()
		if t.gen.Load() != seen {
			t.mu.Unlock()
			return true
		}
		t.parked++
		t.mu.Unlock()
		idle := time.NewTimer(teamIdle)
		select {
		case <-t.wake:
			idle.Stop()
			t.mu.Lock()
			t.parked--
			t.mu.Unlock()
		case <-idle.C:
			t.mu.Lock()
			t.parked--
			if t.gen.Load() == seen {
				t.alive--
				t.mu.Unlock()
				return false
			}
			t.mu.Unlock()
		}
		start = time.Now()
	}
	return true
}
