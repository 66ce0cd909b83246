package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
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
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
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
//
// The generator is lean on purpose, since it shares the cores with the
// server it measures: each in-flight request owns one keep-alive
// connection and one goroutine that writes the request and reads the
// answer itself (no http.Transport, whose per-connection reader and
// writer goroutines cost several wake-ups per request). A request due
// while every connection is busy gets a new connection, up to
// MaxInFlight; past that it is dropped. Latency runs from the first byte
// written to the last byte read; the lag from the schedule is reported
// apart.
func Load(ctx context.Context, o LoadOptions) (*LoadResult, error) {
	if o.Rate <= 0 || o.Duration <= 0 {
		return nil, fmt.Errorf("load: rate %d/s for %s: want both > 0", o.Rate, o.Duration)
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 512
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
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
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		workers int
		jobs    = make(chan loadJob) // unbuffered: a send succeeds only to an idle worker
	)
	merge := func(w *loadWorker) {
		mu.Lock()
		defer mu.Unlock()
		res.OK += w.ok
		res.Errors += w.errors
		for c, n := range w.codes {
			res.Codes[c] += n
		}
		res.Latency = append(res.Latency, w.lat...)
		lags = append(lags, w.lag...)
	}
	// Cancelling ctx closes the connections, so requests in flight end
	// now rather than at their timeout.
	conns := &connSet{open: map[net.Conn]bool{}}
	defer context.AfterFunc(ctx, conns.closeAll)()
	interval := time.Second / time.Duration(o.Rate)
	timer := time.NewTimer(0)
	<-timer.C
	t0 := time.Now()
	var err error
loop:
	for i := 0; i < total; i++ {
		due := t0.Add(time.Duration(i) * interval)
		// Long waits on a timer, up to a millisecond before (its
		// granularity), the rest with nanosleep.
		if d := time.Until(due); d > 2*time.Millisecond {
			timer.Reset(d - time.Millisecond)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break loop
			}
		}
		if d := time.Until(due); d > 0 {
			if ctx.Err() != nil {
				break loop
			}
			preciseSleep(d)
		}
		req, rerr := o.Request(i)
		if rerr != nil {
			err = rerr
			break
		}
		if req.URL.Scheme != "http" {
			err = fmt.Errorf("load: %s: only http:// URLs", req.URL)
			break
		}
		res.Requests++
		j := loadJob{due: due, req: req}
		select {
		case jobs <- j:
			continue
		default:
		}
		if workers == o.MaxInFlight {
			res.Dropped++
			continue
		}
		workers++
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &loadWorker{codes: map[int]int{}, timeout: o.Timeout, conns: conns}
			defer merge(w)
			defer w.close()
			w.do(ctx, j)
			for j := range jobs {
				w.do(ctx, j)
			}
		}()
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(t0)
	res.Rate = float64(res.Requests) / res.Elapsed.Seconds()
	res.P50, res.P90, res.P99, res.Max = quantiles(res.Latency)
	res.LagP50, _, res.LagP99, res.LagMax = quantiles(lags)
	return res, nil
}

type loadJob struct {
	due time.Time
	req *http.Request
}

// loadWorker is one keep-alive connection and what was measured on it.
type loadWorker struct {
	conn    net.Conn
	addr    string
	br      *bufio.Reader
	bw      *bufio.Writer
	timeout time.Duration
	conns   *connSet // every open connection of the load

	ok, errors int
	codes      map[int]int
	lat, lag   []time.Duration
}

func (w *loadWorker) close() {
	if w.conn != nil {
		w.conns.remove(w.conn)
		w.conn.Close()
		w.conn = nil
	}
}

// do sends one request on the worker's connection (dialed or redialed as
// needed) and reads the whole answer.
func (w *loadWorker) do(ctx context.Context, j loadJob) {
	start := time.Now()
	w.lag = append(w.lag, max(0, start.Sub(j.due)))
	if ctx.Err() != nil {
		w.errors++
		return
	}
	code, err := w.roundTrip(j.req, start)
	if err != nil {
		w.close()
		w.errors++
		return
	}
	w.lat = append(w.lat, time.Since(start))
	w.codes[code]++
	if code == http.StatusOK {
		w.ok++
	}
}

func (w *loadWorker) roundTrip(req *http.Request, start time.Time) (int, error) {
	if w.conn != nil && w.addr != req.URL.Host {
		w.close()
	}
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", req.URL.Host, w.timeout)
		if err != nil {
			return 0, err
		}
		if !w.conns.add(c) {
			c.Close()
			return 0, context.Canceled
		}
		w.conn, w.addr = c, req.URL.Host
		if w.br == nil {
			w.br, w.bw = bufio.NewReaderSize(c, 16<<10), bufio.NewWriterSize(c, 16<<10)
		} else {
			w.br.Reset(c)
			w.bw.Reset(c)
		}
	}
	if err := w.conn.SetDeadline(start.Add(w.timeout)); err != nil {
		return 0, err
	}
	if err := req.Write(w.bw); err != nil {
		return 0, err
	}
	if err := w.bw.Flush(); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(w.br, req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.Close {
		w.close()
	}
	return resp.StatusCode, nil
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

// connSet is the load's open connections; once closeAll has run (the
// load was cancelled) it closes them all and refuses new ones, so a
// connection dialed during the cancellation cannot outlive it.
type connSet struct {
	mu     sync.Mutex
	closed bool
	open   map[net.Conn]bool
}

func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.open[c] = true
	return true
}

func (s *connSet) remove(c net.Conn) {
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.open {
		c.Close()
	}
}
