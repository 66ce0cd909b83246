package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/odmn/odmn/cache"
)

// gateStore answers user "uN" with scores N, after the gate opens, and
// records the users of each round trip.
type gateStore struct {
	gate  chan struct{}
	fail  error
	mu    sync.Mutex
	trips [][]string
	vers  []string
}

func (g *gateStore) Current(context.Context, string) (*cache.Version, error) { return nil, nil }

func (g *gateStore) Get(_ context.Context, v *cache.Version, users []string) ([]cache.Scores, []bool, error) {
	g.mu.Lock()
	g.trips = append(g.trips, append([]string(nil), users...))
	g.vers = append(g.vers, v.Version)
	g.mu.Unlock()
	<-g.gate
	if g.fail != nil {
		return nil, nil, g.fail
	}
	sc := make([]cache.Scores, len(users))
	found := make([]bool, len(users))
	for i, u := range users {
		var n float32
		if _, err := fmt.Sscanf(u, "u%g", &n); err == nil {
			sc[i], found[i] = cache.Scores{LTV: []float32{n}, LTVEV: []float32{n + 0.5}}, true
		}
	}
	return sc, found, nil
}

// waitTrips waits until the store has seen n round trips.
func (g *gateStore) waitTrips(t *testing.T, n int) {
	t.Helper()
	for t0 := time.Now(); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		k := len(g.trips)
		g.mu.Unlock()
		if k >= n {
			return
		}
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("%d round trips, want %d", k, n)
		}
	}
}

func TestCoalescerBatchesWhileBusy(t *testing.T) {
	g := &gateStore{gate: make(chan struct{})}
	c := &coalescer{store: g, timeout: time.Second, max: 1}
	v1, v2 := &cache.Version{Version: "d1"}, &cache.Version{Version: "d2"}
	type answer struct {
		user  string
		sc    cache.Scores
		found bool
		err   error
	}
	out := make(chan answer, 64)
	ask := func(v *cache.Version, u string) {
		sc, f, err := c.get(v, u)
		out <- answer{u, sc, f, err}
	}
	go ask(v1, "u0") // takes the only round trip, held at the gate
	g.waitTrips(t, 1)
	const n = 30
	for i := 1; i <= n; i++ {
		v := v1
		if i > 20 {
			v = v2 // a switch in the middle of the queue
		}
		go ask(v, fmt.Sprintf("u%d", i))
	}
	user := "nobody"
	go ask(v2, user)
	for t0 := time.Now(); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		q := len(c.queue)
		c.mu.Unlock()
		if q == n+1 {
			break
		}
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("%d lookups queued, want %d", q, n+1)
		}
	}
	close(g.gate)
	got := map[string]answer{}
	for range n + 2 {
		a := <-out
		got[a.user] = a
	}
	for i := 0; i <= n; i++ {
		a := got[fmt.Sprintf("u%d", i)]
		if a.err != nil || !a.found || a.sc.LTV[0] != float32(i) || a.sc.LTVEV[0] != float32(i)+0.5 {
			t.Errorf("u%d: %+v", i, a)
		}
	}
	if a := got[user]; a.err != nil || a.found {
		t.Errorf("unknown user: %+v", a)
	}
	// The first round trip, then the whole queue in one batch: one Get
	// per version it holds, in queue order.
	total := 0
	for i, trip := range g.trips {
		total += len(trip)
		if i > 0 && len(trip) < 2 {
			t.Errorf("round trip %d of %d lookups %v: the queue was not batched", i, len(trip), trip)
		}
	}
	if total != n+2 || len(g.trips) > 1+4 {
		t.Errorf("%d lookups in %d round trips %v", total, len(g.trips), g.trips)
	}
	if c.inflight != 0 || len(c.queue) != 0 {
		t.Errorf("left %d in flight, %d queued", c.inflight, len(c.queue))
	}
}

func TestCoalescerError(t *testing.T) {
	g := &gateStore{gate: make(chan struct{}), fail: errors.New("redis: connection refused")}
	c := &coalescer{store: g, timeout: time.Second, max: 1}
	v := &cache.Version{Version: "d1"}
	errs := make(chan error, 8)
	go func() { _, _, err := c.get(v, "u0"); errs <- err }()
	g.waitTrips(t, 1)
	for i := 1; i < 8; i++ {
		go func() { _, _, err := c.get(v, fmt.Sprintf("u%d", i)); errs <- err }()
	}
	for t0 := time.Now(); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		q := len(c.queue)
		c.mu.Unlock()
		if q == 7 {
			break
		}
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("%d queued", q)
		}
	}
	close(g.gate)
	for range 8 {
		if err := <-errs; err == nil || err.Error() != "redis: connection refused" {
			t.Errorf("error %v", err)
		}
	}
}
