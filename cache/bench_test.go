package cache_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/internal/redistest"
)

// BenchmarkLoad1M loads one million users with 4 horizons (synthetic ids
// u1..u1000000, random values) into a fresh redis-server and reports the
// memory per user (INFO memory used_memory after minus before, over the
// users) and the load time, Begin to Finish. Run it alone:
//
//	go test -run '^$' -bench Load1M -benchtime 1x ./cache/
func BenchmarkLoad1M(b *testing.B) {
	const users = 1_000_000
	s := redistest.Start(b, redistest.Options{})
	c := open(b, s.URL())
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	ltv, ev := make([]float32, 4), make([]float32, 4)
	var perUser, secs float64
	for i := 0; i < b.N; i++ {
		ver := "v" + strconv.Itoa(i)
		before, err := c.MemoryUsed(ctx)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := c.Begin(ctx, "bench", ver, cache.BeginOptions{Horizons: horizons, Expected: users}); err != nil {
			b.Fatal(err)
		}
		w, err := c.Writer(ctx, "bench", ver)
		if err != nil {
			b.Fatal(err)
		}
		for u := 1; u <= users; u++ {
			for j := range ltv {
				ltv[j], ev[j] = float32(r.IntN(8)*100), r.Float32()*1000
			}
			if err := w.Put(ctx, "u"+strconv.Itoa(u), ltv, ev); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Finish(ctx, "bench", ver, 0); err != nil {
			b.Fatal(err)
		}
		secs = time.Since(t0).Seconds()
		after, err := c.MemoryUsed(ctx)
		if err != nil {
			b.Fatal(err)
		}
		perUser = float64(after-before) / users
		if i+1 < b.N {
			if err := c.Drop(ctx, "bench", ver); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(perUser, "bytes/user")
	b.ReportMetric(secs, "load-s")
	b.ReportMetric(0, "ns/op")
}
