package train

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTeam(t *testing.T) {
	const n, sections = 3, 2000
	tm := newTeam(n)
	var counts [n]atomic.Int64
	for s := range sections {
		tm.run(func(k int) { counts[k].Add(1) })
		for k := range n {
			if got := counts[k].Load(); got != int64(s+1) {
				t.Fatalf("section %d: f(%d) ran %d times in all", s, k, got)
			}
		}
		if s%500 == 0 {
			time.Sleep(2 * teamSpin) // helpers park between some sections
		}
	}
	// Idle helpers exit; the next section starts them again.
	time.Sleep(teamIdle + 500*time.Millisecond)
	tm.mu.Lock()
	alive := tm.alive
	tm.mu.Unlock()
	if alive != 0 {
		t.Fatalf("%d helpers still alive after %s idle", alive, teamIdle)
	}
	var sum atomic.Int64
	tm.run(func(k int) { sum.Add(int64(k + 1)) })
	if sum.Load() != 1+2+3 {
		t.Fatalf("after restart: sum %d", sum.Load())
	}
	one := newTeam(1)
	ran := 0
	one.run(func(k int) { ran += k + 1 })
	if ran != 1 {
		t.Fatalf("team of one: %d", ran)
	}
}

// BenchmarkSection is a parallel section of 2 x 500 µs of work after a
// 50 µs serial gap, as in a training step, started with fresh goroutines
// and on a team; overhead-µs is the time beyond the work and the gap.
func BenchmarkSection(b *testing.B) {
	spin := func(d time.Duration) {
		for t0 := time.Now(); time.Since(t0) < d; {
		}
	}
	const work, gap = 500 * time.Microsecond, 50 * time.Microsecond
	fresh := func(f func(int)) {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); f(1) }()
		f(0)
		wg.Wait()
	}
	tm := newTeam(2)
	for _, c := range []struct {
		name string
		run  func(func(int))
	}{{"goroutines", fresh}, {"team", tm.run}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.run(func(int) { spin(work) })
				spin(gap)
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per-work-gap)/1e3, "overhead-µs")
		})
	}
}
