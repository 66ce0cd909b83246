package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// LoadOptions describe an open-loop load: requests are started at Rate per
// second for Duration whatever the answers' latency (so a slow server is
// seen as latency, not as a lower rate), at most MaxInFlight at a time.
type LoadOptions struct {
	Rate     int
	Duration time.Duration
	// Request makes the i-th request.
	Request func(i int) (*http.Request, error)
	// MaxInFlight bounds the concurrent requests (default 512); a request
	// due while that many are in flight is counted as dropped.
	MaxInFlight int
	Client      *http.Client
	// Warmup runs the same load for this long first, unrecorded: the
	// client's and the server's connection pools fill and the runtime
	// warms up, so the figures describe the steady state, not the start.
	Warmup time.Duration
}

// LoadResult summarizes a load.
type LoadResult struct {
	Requests int             `json:"requests"`
	OK       int             `json:"ok"`
	Errors   int             `json:"errors"`
	Dropped  int             `json:"dropped"`
	Codes    map[int]int     `json:"codes"`
	Rate     float64         `json:"achieved_rate"`
	P50      time.Duration   `json:"p50_ns"`
	P90      time.Duration   `json:"p90_ns"`
	P99      time.Duration   `json:"p99_ns"`
	Max      time.Duration   `json:"max_ns"`
	Elapsed  time.Duration   `json:"elapsed_ns"`
	Latency  []time.Duration `json:"-"`
	// LagP50, LagP99 and LagMax describe the generator itself: how late
	// requests left against their schedule. Requests that leave late leave
	// together, so a large lag shows up as queueing in the latencies.
	LagP50 time.Duration `json:"lag_p50_ns"`
	LagP99 time.Duration `json:"lag_p99_ns"`
	LagMax time.Duration `json:"lag_max_ns"`
}

func (r *LoadResult) String() string {
	return fmt.Sprintf("%d requests (%.0f/s), %d ok, %d errors, %d dropped, codes %v; latency p50 %s p90 %s p99 %s max %s; generator lag p50 %s p99 %s max %s",
		r.Requests, r.Rate, r.OK, r.Errors, r.Dropped, r.Codes, r.P50.Round(time.Microsecond), r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond),
		r.LagP50.Round(time.Microsecond), r.LagP99.Round(time.Microsecond), r.LagMax.Round(time.Microsecond))
}

// Load runs the load and waits for the last answer. It stops by itself
// after Duration (or when ctx is done).
func Load(ctx context.Context, o LoadOptions) (*LoadResult, error) {
	if o.Rate <= 0 || o.Duration <= 0 {
		return nil, fmt.Errorf("load: rate %d/s for %s: want both > 0", o.Rate, o.Duration)
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 512
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: o.MaxInFlight, MaxIdleConnsPerHost: o.MaxInFlight, IdleConnTimeout: time.Minute,
		}}
	}
	if o.Warmup > 0 {
		w := o
		w.Duration, w.Warmup = o.Warmup, 0
		if _, err := Load(ctx, w); err != nil {
			return nil, err
		}
	}
	total := int(float64(o.Rate) * o.Duration.Seconds())
	res := &LoadResult{Codes: map[int]int{}, Latency: make([]time.Duration, 0, total)}
	lags := make([]time.Duration, 0, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.MaxInFlight)
	interval := time.Second / time.Duration(o.Rate)
	t0 := time.Now()
	for i := 0; i < total; i++ {
		due := t0.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				i = total
				continue
			}
		}
		req, err := o.Request(i)
		if err != nil {
			return nil, err
		}
		lags = append(lags, max(0, time.Since(due)))
		res.Requests++
		select {
		case sem <- struct{}{}:
		default:
			res.Dropped++
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			resp, err := o.Client.Do(req.WithContext(ctx))
			code := 0
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			lat := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Errors++
				return
			}
			res.Codes[code]++
			if code == http.StatusOK {
				res.OK++
			}
			res.Latency = append(res.Latency, lat)
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(t0)
	res.Rate = float64(res.Requests) / res.Elapsed.Seconds()
	res.P50, res.P90, res.P99, res.Max = quantiles(res.Latency)
	res.LagP50, _, res.LagP99, res.LagMax = quantiles(lags)
	return res, nil
}

// quantiles sorts d and returns its 50th, 90th and 99th percentiles and
// its maximum (zeros for none).
func quantiles(d []time.Duration) (p50, p90, p99, mx time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return q(0.50), q(0.90), q(0.99), d[len(d)-1]
}
