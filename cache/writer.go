package cache

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrComplete is returned by Begin for a version that is already complete.
var ErrComplete = errors.New("version already complete")

// BeginOptions describe a new version.
type BeginOptions struct {
	// Horizons name the H columns (e.g. "30", "90", "180", "365").
	Horizons []string
	// Expected is the number of users the version will hold; it sets the
	// bucket count, and Finish checks the written count against it.
	Expected int64
	// Source says where the scores come from (model, data), for people.
	Source string
	// BucketUsers is the mean number of users per bucket; 0 means three
	// quarters of the server's hash-max-listpack-entries (384 with Redis'
	// default 512), which keeps nearly every bucket in listpack encoding.
	BucketUsers int
}

// Begin creates version ver of name in the loading state, or restarts a
// version left loading (its buckets are dropped first: a killed load
// reruns from scratch). It refuses a complete version with ErrComplete.
func (c *Cache) Begin(ctx context.Context, name, ver string, opts BeginOptions) (*Version, error) {
	if err := CheckName("name", name); err != nil {
		return nil, err
	}
	if err := CheckName("version", ver); err != nil {
		return nil, err
	}
	if opts.Expected <= 0 {
		return nil, fmt.Errorf("%s version %s: expected row count %d, want > 0", name, ver, opts.Expected)
	}
	if len(opts.Horizons) == 0 {
		return nil, fmt.Errorf("%s version %s: no horizons", name, ver)
	}
	for _, h := range opts.Horizons {
		if h == "" || strings.Contains(h, ",") {
			return nil, fmt.Errorf("%s version %s: bad horizon name %q", name, ver, h)
		}
	}
	if old, err := c.Version(ctx, name, ver); err == nil {
		if old.State == Complete {
			return nil, fmt.Errorf("%s version %s: %w", name, ver, ErrComplete)
		}
		if err := c.dropBuckets(ctx, name, ver); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, ErrNoVersion) {
		return nil, err
	}
	per := opts.BucketUsers
	if per <= 0 {
		per = c.listpackEntries(ctx) * 3 / 4
	}
	buckets := (opts.Expected + int64(per) - 1) / int64(per)
	now := time.Now().UnixNano()
	pipe := c.rdb.TxPipeline()
	pipe.Del(ctx, metaKey(name, ver))
	pipe.HSet(ctx, metaKey(name, ver),
		"state", Loading,
		"horizons", strings.Join(opts.Horizons, ","),
		"buckets", buckets,
		"expected", opts.Expected,
		"written", 0,
		"created", now,
		"updated", now,
		"source", opts.Source)
	pipe.ZAdd(ctx, versionsKey(name), redis.Z{Score: float64(now), Member: ver})
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("%s version %s: %w", name, ver, err)
	}
	return c.Version(ctx, name, ver)
}

// listpackEntries is the server's hash-max-listpack-entries (128 when it
// cannot be read: low enough for any server).
func (c *Cache) listpackEntries(ctx context.Context) int {
	m, err := c.rdb.ConfigGet(ctx, "hash-max-listpack-entries").Result()
	if err == nil {
		if n, err := strconv.Atoi(m["hash-max-listpack-entries"]); err == nil && n >= 8 {
			return n
		}
	}
	return 128
}

// Finish counts the users written to ver (HLEN over its buckets), records
// the count and, when it equals expected (0: the count given to Begin),
// marks the version complete. An incomplete version is an error that says
// both counts; it stays loading and Switch refuses it.
func (c *Cache) Finish(ctx context.Context, name, ver string, expected int64) (*Version, error) {
	v, err := c.Version(ctx, name, ver)
	if err != nil {
		return nil, err
	}
	if expected <= 0 {
		expected = v.Expected
	}
	var written int64
	const chunk = 4096
	for lo := 0; lo < v.Buckets; lo += chunk {
		pipe := c.rdb.Pipeline()
		var cmds []*redis.IntCmd
		for b := lo; b < v.Buckets && b < lo+chunk; b++ {
			cmds = append(cmds, pipe.HLen(ctx, bucketKey(name, ver, b)))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
		for _, cmd := range cmds {
			written += cmd.Val()
		}
	}
	state := Loading
	if written == expected {
		state = Complete
	}
	err = c.rdb.HSet(ctx, metaKey(name, ver), "expected", expected, "written", written,
		"state", state, "updated", time.Now().UnixNano()).Err()
	if err != nil {
		return nil, err
	}
	if state != Complete {
		return nil, fmt.Errorf("%s version %s incomplete: %d users written, %d expected", name, ver, written, expected)
	}
	return c.Version(ctx, name, ver)
}

// DefaultFlushRows is how many users a Writer buffers before it sends them.
const DefaultFlushRows = 16384

// Writer sends users' scores to a loading version, pipelined: rows are
// buffered and flushed as one HSET per bucket touched. A Writer is not
// safe for concurrent use; open one per goroutine or worker.
type Writer struct {
	c       *Cache
	v       *Version
	pending []entry
	// FlushRows is the buffer size (DefaultFlushRows).
	FlushRows int
	rows      int64
}

type entry struct {
	bucket int
	user   string
	val    []byte
}

// Writer opens a writer on a version that Begin created.
func (c *Cache) Writer(ctx context.Context, name, ver string) (*Writer, error) {
	v, err := c.Version(ctx, name, ver)
	if err != nil {
		return nil, err
	}
	if v.State != Loading {
		return nil, fmt.Errorf("%s version %s is %s, not loading: Begin it first", name, ver, v.State)
	}
	return &Writer{c: c, v: v, FlushRows: DefaultFlushRows}, nil
}

// Put buffers one user's scores (len(ltv) == len(ev) == the horizons).
func (w *Writer) Put(ctx context.Context, user string, ltv, ev []float32) error {
	h := len(w.v.Horizons)
	if len(ltv) != h || len(ev) != h {
		return fmt.Errorf("user %q: %d ltv and %d ltv_ev values, want %d each", user, len(ltv), len(ev), h)
	}
	if user == "" {
		return fmt.Errorf("empty user id")
	}
	w.pending = append(w.pending, entry{bucketOf(user, w.v.Buckets), user, encode(make([]byte, 0, 1+8*h), ltv, ev)})
	if len(w.pending) >= w.FlushRows {
		return w.Flush(ctx)
	}
	return nil
}

// Rows is the number of rows flushed so far.
func (w *Writer) Rows() int64 { return w.rows }

// Flush sends the buffered rows in one pipeline.
func (w *Writer) Flush(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	sort.Slice(w.pending, func(i, j int) bool { return w.pending[i].bucket < w.pending[j].bucket })
	pipe := w.c.rdb.Pipeline()
	args := make([]any, 0, 64)
	for i := 0; i < len(w.pending); {
		b := w.pending[i].bucket
		args = args[:0]
		for ; i < len(w.pending) && w.pending[i].bucket == b; i++ {
			args = append(args, w.pending[i].user, w.pending[i].val)
		}
		pipe.HSet(ctx, bucketKey(w.v.Name, w.v.Version, b), append([]any(nil), args...)...)
	}
	pipe.HSet(ctx, metaKey(w.v.Name, w.v.Version), "updated", time.Now().UnixNano())
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%s version %s: writing %d users: %w", w.v.Name, w.v.Version, len(w.pending), err)
	}
	w.rows += int64(len(w.pending))
	w.pending = w.pending[:0]
	return nil
}
