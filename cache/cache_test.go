package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/internal/redistest"
)

var horizons = []string{"30", "90", "180", "365"}

func open(t testing.TB, url string) *cache.Cache {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cache.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// load writes users u0..u<n-1> with ltv = base+i+j/10 and ltv_ev = -ltv,
// and finishes the version.
func load(t testing.TB, c *cache.Cache, name, ver string, n int, base float32) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Begin(ctx, name, ver, cache.BeginOptions{Horizons: horizons, Expected: int64(n)}); err != nil {
		t.Fatal(err)
	}
	w, err := c.Writer(ctx, name, ver)
	if err != nil {
		t.Fatal(err)
	}
	w.FlushRows = 1000
	for i := 0; i < n; i++ {
		ltv, ev := values(i, base)
		if err := w.Put(ctx, fmt.Sprintf("u%d", i), ltv, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(ctx, name, ver, 0); err != nil {
		t.Fatal(err)
	}
}

func values(i int, base float32) (ltv, ev []float32) {
	for j := range horizons {
		ltv = append(ltv, base+float32(i)+float32(j)/10)
		ev = append(ev, -(base + float32(i) + float32(j)/10))
	}
	return ltv, ev
}

func TestLifecycle(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	testLifecycle(t, open(t, s.URL()))
}

func testLifecycle(t *testing.T, c *cache.Cache) {
	ctx := context.Background()
	if _, err := c.Current(ctx, "m"); !errors.Is(err, cache.ErrNoCurrent) {
		t.Fatalf("Current before any switch: %v, want ErrNoCurrent", err)
	}
	load(t, c, "m", "d1", 1000, 0)
	if _, err := c.Switch(ctx, "m", "d1"); err != nil {
		t.Fatal(err)
	}
	v, err := c.Current(ctx, "m")
	if err != nil || v.Version != "d1" || v.Written != 1000 || v.Expected != 1000 || !v.Complete() {
		t.Fatalf("current: %+v %v", v, err)
	}
	users := []string{"u0", "u999", "nobody", "u500"}
	sc, found, err := c.Get(ctx, v, users)
	if err != nil {
		t.Fatal(err)
	}
	for k, u := range users {
		if u == "nobody" {
			if found[k] {
				t.Fatal("unknown user found")
			}
			continue
		}
		var i int
		fmt.Sscanf(u, "u%d", &i)
		ltv, ev := values(i, 0)
		if !found[k] || fmt.Sprint(sc[k].LTV) != fmt.Sprint(ltv) || fmt.Sprint(sc[k].LTVEV) != fmt.Sprint(ev) {
			t.Fatalf("%s: %v %v, want %v %v", u, found[k], sc[k], ltv, ev)
		}
	}
	// One user alone takes the single-command path.
	if sc, found, err := c.Get(ctx, v, []string{"u7"}); err != nil || !found[0] || sc[0].LTV[0] != 7 {
		t.Fatalf("single get: %v %v %v", sc, found, err)
	}

	// An incomplete version: 999 of 1000 users.
	if _, err := c.Begin(ctx, "m", "d2", cache.BeginOptions{Horizons: horizons, Expected: 1000}); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Writer(ctx, "m", "d2")
	for i := 0; i < 999; i++ {
		ltv, ev := values(i, 1)
		w.Put(ctx, fmt.Sprintf("u%d", i), ltv, ev)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(ctx, "m", "d2", 0); err == nil || !strings.Contains(err.Error(), "999 users written, 1000 expected") {
		t.Fatalf("finish of an incomplete version: %v", err)
	}
	if _, err := c.Switch(ctx, "m", "d2"); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("switch to an incomplete version: %v", err)
	}
	if _, err := c.Switch(ctx, "m", "nope"); err == nil {
		t.Fatal("switch to a missing version succeeded")
	}
	if cur, _ := c.CurrentVersion(ctx, "m"); cur != "d1" {
		t.Fatalf("current %q after refused switches", cur)
	}
	// A killed load reruns from scratch: Begin again, write all, finish.
	load(t, c, "m", "d2", 1000, 1)
	// A complete version is not begun again.
	if _, err := c.Begin(ctx, "m", "d2", cache.BeginOptions{Horizons: horizons, Expected: 1000}); !errors.Is(err, cache.ErrComplete) {
		t.Fatalf("Begin of a complete version: %v", err)
	}
	if prev, err := c.Switch(ctx, "m", "d2"); err != nil || prev != "d1" {
		t.Fatalf("switch: %q %v", prev, err)
	}
	load(t, c, "m", "d3", 10, 2)
	if _, err := c.Begin(ctx, "m", "d4", cache.BeginOptions{Horizons: horizons, Expected: 5}); err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(ctx, "m")
	if err != nil || len(vs) != 4 {
		t.Fatalf("versions: %v %v", vs, err)
	}
	// Keep 1: the current d2 counts; d1 and d3 go, d4 is loading (spared
	// within the grace period).
	dropped, err := c.GC(ctx, "m", cache.GCOptions{Keep: 1})
	if err != nil || strings.Join(dropped, ",") != "d3,d1" {
		t.Fatalf("gc dropped %v (%v), want d3,d1", dropped, err)
	}
	dropped, err = c.GC(ctx, "m", cache.GCOptions{Keep: 1, Grace: time.Nanosecond})
	if err != nil || strings.Join(dropped, ",") != "d4" {
		t.Fatalf("gc dropped %v (%v), want d4", dropped, err)
	}
	if err := c.Drop(ctx, "m", "d2"); err == nil {
		t.Fatal("dropped the current version")
	}
	if _, err := c.Version(ctx, "m", "d1"); !errors.Is(err, cache.ErrNoVersion) {
		t.Fatalf("d1 after gc: %v", err)
	}
}

// TestAtomicSwitch: readers resolving the pointer and reading a batch of
// users while the pointer flips see one version's values, never a mix.
func TestAtomicSwitch(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := open(t, s.URL())
	ctx := context.Background()
	const n = 2000
	load(t, c, "m", "old", n, 0)
	load(t, c, "m", "new", n, 100000)
	base := map[string]float32{"old": 0, "new": 100000}
	if _, err := c.Switch(ctx, "m", "old"); err != nil {
		t.Fatal(err)
	}
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf("u%d", i*37)
	}
	var stop atomic.Bool
	var reads atomic.Int64
	seen := sync.Map{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				v, err := c.Current(ctx, "m")
				if err != nil {
					errs <- err
					return
				}
				sc, found, err := c.Get(ctx, v, users)
				if err != nil {
					errs <- err
					return
				}
				for k := range users {
					want, _ := values(k*37, base[v.Version])
					if !found[k] || sc[k].LTV[0] != want[0] {
						errs <- fmt.Errorf("version %s user %s: %v (found %v), want ltv %v: a mix", v.Version, users[k], sc[k].LTV, found[k], want[0])
						return
					}
				}
				seen.Store(v.Version, true)
				reads.Add(1)
			}
		}()
	}
	for i := 0; i < 200; i++ {
		to := []string{"new", "old"}[i%2]
		if _, err := c.Switch(ctx, "m", to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, o := seen.Load("old")
	_, nw := seen.Load("new")
	if !o || !nw || reads.Load() < 50 {
		t.Fatalf("readers saw old=%v new=%v in %d reads; want both", o, nw, reads.Load())
	}
}

func TestCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	c := open(t, cl.URL())
	if !c.Cluster() {
		t.Fatal("cluster URL did not give a cluster client")
	}
	testLifecycle(t, c)
	load(t, c, "k", "v1", 3000, 0)
	if _, err := c.Switch(context.Background(), "k", "v1"); err != nil {
		t.Fatal(err)
	}
	// The buckets spread over every node; the pointer is found from any
	// node's URL (cluster mode is detected).
	for _, node := range cl.Nodes {
		out, err := node.Do("dbsize")
		if err != nil || out == "0" {
			t.Fatalf("node %s holds %q keys (%v); want the buckets spread", node.Addr, out, err)
		}
		cn := open(t, node.URL())
		if !cn.Cluster() {
			t.Fatalf("%s: cluster not detected", node.URL())
		}
		v, err := cn.Current(context.Background(), "k")
		if err != nil || v.Version != "v1" {
			t.Fatalf("%s: current %v %v", node.Addr, v, err)
		}
		sc, found, err := cn.Get(context.Background(), v, []string{"u1", "u2999"})
		if err != nil || !found[0] || !found[1] || sc[1].LTV[0] != 2999 {
			t.Fatalf("%s: get %v %v %v", node.Addr, sc, found, err)
		}
	}
}

func TestACLAndTLS(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	if out, err := s.Do("acl", "setuser", "scorer", "on", ">s3cret", "~odmn:*", "+@all"); err != nil || out != "OK" {
		t.Fatalf("acl setuser: %q %v", out, err)
	}
	if out, err := s.Do("config", "set", "requirepass", "adminpw"); err != nil || out != "OK" {
		t.Fatalf("requirepass: %q %v", out, err)
	}
	u := "redis://scorer:s3cret@" + s.Addr
	c := open(t, u)
	load(t, c, "m", "v", 10, 0)
	if _, err := cache.Open(context.Background(), "redis://scorer:wrong@"+s.Addr); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong password: %v (and the message must not show it)", err)
	}

	ts := redistest.Start(t, redistest.Options{TLS: true})
	tc := open(t, ts.URL())
	load(t, tc, "m", "v", 10, 0)
	if _, err := cache.Open(context.Background(), "rediss://"+ts.Addr); err == nil {
		t.Fatal("rediss:// without the CA trusted a self-signed server")
	}
}

func TestRedisDown(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := open(t, s.URL()+"?dial_timeout=200ms&max_retries=0")
	load(t, c, "m", "v", 10, 0)
	c.Switch(context.Background(), "m", "v")
	v, _ := c.Current(context.Background(), "m")
	s.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, _, err := c.Get(ctx, v, []string{"u1"}); err == nil {
		t.Fatal("get with redis down: no error")
	}
	if err := c.Ping(ctx); err == nil {
		t.Fatal("ping with redis down: no error")
	}
	s.Restart()
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
}

func TestBadNames(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := open(t, s.URL())
	ctx := context.Background()
	for _, bad := range []string{"", "a b", "{x}", strings.Repeat("x", 65)} {
		if _, err := c.Begin(ctx, bad, "v", cache.BeginOptions{Horizons: horizons, Expected: 1}); err == nil {
			t.Fatalf("name %q accepted", bad)
		}
	}
	if _, err := cache.Open(ctx, "http://x"); err == nil {
		t.Fatal("http:// accepted")
	}
	w := func() *cache.Writer {
		c.Begin(ctx, "m", "v", cache.BeginOptions{Horizons: horizons, Expected: 1})
		w, err := c.Writer(ctx, "m", "v")
		if err != nil {
			t.Fatal(err)
		}
		return w
	}()
	if err := w.Put(ctx, "u", []float32{1}, []float32{1}); err == nil {
		t.Fatal("wrong value count accepted")
	}
}
