package serve

import (
	"context"
	"sync"
	"time"

	"github.com/odmn/odmn/cache"
)

// coalescer turns concurrent single-user lookups into pipelined round
// trips. Up to max round trips run at once, each started by the request
// that needed it; a lookup arriving while all are busy waits in a queue,
// and the round trip that finishes next sends the whole queue as one
// pipeline. Under a light load nothing waits; under a burst (requests
// released together after a stall) the dozens of lookups that would
// queue one by one behind Redis on the same cores share one write, one
// read and one wake-up.
type coalescer struct {
	store   Store
	timeout time.Duration
	max     int
	// observe is told each round trip's size (metrics).
	observe func(n int)

	mu       sync.Mutex
	inflight int
	queue    []*lookupReq
}

// maxCoalesce bounds one pipelined round trip.
const maxCoalesce = 512

type lookupReq struct {
	v     *cache.Version
	user  string
	sc    cache.Scores
	found bool
	err   error
	// done receives nil once answered, or the batch this request leads.
	done chan []*lookupReq
}

// get looks up one user of version v.
func (c *coalescer) get(v *cache.Version, user string) (cache.Scores, bool, error) {
	r := &lookupReq{v: v, user: user}
	c.mu.Lock()
	if c.inflight < c.max {
		c.inflight++
		c.mu.Unlock()
		c.run([]*lookupReq{r})
		return r.sc, r.found, r.err
	}
	r.done = make(chan []*lookupReq, 1)
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	if batch := <-r.done; batch != nil {
		c.run(batch)
	}
	return r.sc, r.found, r.err
}

// run does the round trip of batch (led by batch[0], the caller), answers
// the others, then hands the queue, if any, to its first request.
func (c *coalescer) run(batch []*lookupReq) {
	if c.observe != nil {
		c.observe(len(batch))
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	// One Get per version: all one version but around a switch. A
	// request's v is cleared once it is answered.
	for i := range batch {
		v := batch[i].v
		if v == nil {
			continue
		}
		var group []*lookupReq
		var users []string
		for _, r := range batch[i:] {
			if r.v == v {
				group, users = append(group, r), append(users, r.user)
			}
		}
		sc, found, err := c.store.Get(ctx, v, users)
		for k, r := range group {
			if r.err = err; err == nil {
				r.sc, r.found = sc[k], found[k]
			}
			r.v = nil
		}
	}
	cancel()
	for _, r := range batch[1:] {
		r.done <- nil
	}
	c.mu.Lock()
	if len(c.queue) == 0 {
		c.inflight--
		c.mu.Unlock()
		return
	}
	n := min(len(c.queue), maxCoalesce)
	next := c.queue[:n:n]
	c.queue = append([]*lookupReq(nil), c.queue[n:]...)
	c.mu.Unlock()
	next[0].done <- next
}
