package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Prefix starts every key odmn writes.
const Prefix = "odmn"

// Version states.
const (
	Loading  = "loading"
	Complete = "complete"
)

// ErrNoCurrent is returned by Current when no version of the name was
// switched to yet.
var ErrNoCurrent = errors.New("no current version")

// ErrNoVersion is returned for a version that does not exist.
var ErrNoVersion = errors.New("no such version")

// Cache is a connection to the Redis (single server or cluster) holding
// the scores.
type Cache struct {
	rdb     redis.UniversalClient
	cluster bool
	where   string // the URL without password, for messages
}

func newCache(rdb redis.UniversalClient, cluster bool, where string) *Cache {
	return &Cache{rdb: rdb, cluster: cluster, where: where}
}

// Close closes the connections.
func (c *Cache) Close() error { return c.rdb.Close() }

// Cluster reports whether the cache talks to a Redis Cluster.
func (c *Cache) Cluster() bool { return c.cluster }

// String is the URL without its password.
func (c *Cache) String() string { return c.where }

// Ping checks that Redis answers (every master, under Cluster).
func (c *Cache) Ping(ctx context.Context) error {
	if cc, ok := c.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			return n.Ping(ctx).Err()
		})
	}
	return c.rdb.Ping(ctx).Err()
}

// Client is the underlying go-redis client.
func (c *Cache) Client() redis.UniversalClient { return c.rdb }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CheckName reports whether s can be a cache name or version: 1 to 64
// letters, digits, '.', '_' or '-'.
func CheckName(what, s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("%s %q: want 1 to 64 letters, digits, '.', '_' or '-'", what, s)
	}
	return nil
}

func currentKey(name string) string  { return Prefix + ":{" + name + "}:current" }
func versionsKey(name string) string { return Prefix + ":{" + name + "}:versions" }
func metaKey(name, v string) string  { return Prefix + ":{" + name + "}:meta:" + v }
func bucketKey(name, v string, b int) string {
	return Prefix + ":" + name + ":" + v + ":" + strconv.Itoa(b)
}

// bucketOf is the bucket of user among n.
func bucketOf(user string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(user))
	return int(h.Sum64() % uint64(n))
}

// Version describes one version of a name.
type Version struct {
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	State    string    `json:"state"`
	Horizons []string  `json:"horizons"`
	Buckets  int       `json:"buckets"`
	Expected int64     `json:"expected"`
	Written  int64     `json:"written"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	Source   string    `json:"source,omitempty"`
	Current  bool      `json:"current"`
}

// Complete reports whether the version may be switched to.
func (v *Version) Complete() bool {
	return v.State == Complete && v.Written == v.Expected && v.Expected > 0
}

func parseVersion(name, ver string, m map[string]string) (*Version, error) {
	if len(m) == 0 {
		return nil, fmt.Errorf("%s version %s: %w", name, ver, ErrNoVersion)
	}
	v := &Version{Name: name, Version: ver, State: m["state"], Source: m["source"]}
	var err error
	num := func(k string) int64 {
		x, e := strconv.ParseInt(m[k], 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("%s version %s: metadata %s=%q: %w", name, ver, k, m[k], e)
		}
		return x
	}
	v.Buckets = int(num("buckets"))
	v.Expected = num("expected")
	v.Written = num("written")
	v.Created = time.Unix(0, num("created"))
	v.Updated = time.Unix(0, num("updated"))
	if err != nil {
		return nil, err
	}
	if v.Buckets <= 0 {
		return nil, fmt.Errorf("%s version %s: metadata buckets=%d", name, ver, v.Buckets)
	}
	if m["horizons"] != "" {
		v.Horizons = strings.Split(m["horizons"], ",")
	}
	return v, nil
}

// Version reads one version's metadata.
func (c *Cache) Version(ctx context.Context, name, ver string) (*Version, error) {
	m, err := c.rdb.HGetAll(ctx, metaKey(name, ver)).Result()
	if err != nil {
		return nil, err
	}
	return parseVersion(name, ver, m)
}

// CurrentVersion returns the version the pointer names (ErrNoCurrent if
// none).
func (c *Cache) CurrentVersion(ctx context.Context, name string) (string, error) {
	v, err := c.rdb.Get(ctx, currentKey(name)).Result()
	if err == redis.Nil {
		return "", fmt.Errorf("%s: %w", name, ErrNoCurrent)
	}
	return v, err
}

// Current returns the metadata of the version the pointer names.
func (c *Cache) Current(ctx context.Context, name string) (*Version, error) {
	ver, err := c.CurrentVersion(ctx, name)
	if err != nil {
		return nil, err
	}
	v, err := c.Version(ctx, name, ver)
	if err != nil {
		return nil, err
	}
	v.Current = true
	return v, nil
}

// Versions lists the versions of name, oldest first.
func (c *Cache) Versions(ctx context.Context, name string) ([]*Version, error) {
	vers, err := c.rdb.ZRange(ctx, versionsKey(name), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	cur, err := c.CurrentVersion(ctx, name)
	if err != nil && !errors.Is(err, ErrNoCurrent) {
		return nil, err
	}
	var out []*Version
	for _, ver := range vers {
		v, err := c.Version(ctx, name, ver)
		if err != nil {
			return nil, err
		}
		v.Current = ver == cur
		out = append(out, v)
	}
	return out, nil
}

// switchScript flips the pointer only when the version is complete. KEYS:
// current, meta. ARGV: version. It returns the previous version ("" if
// none) or an error reply saying why not.
var switchScript = redis.NewScript(`
local m = redis.call('HMGET', KEYS[2], 'state', 'expected', 'written')
if not m[1] then return redis.error_reply('no such version') end
if m[1] ~= 'complete' or m[2] ~= m[3] or tonumber(m[2]) == nil or tonumber(m[2]) <= 0 then
  return redis.error_reply('incomplete: state ' .. m[1] .. ', written ' .. tostring(m[3]) .. ' of ' .. tostring(m[2]) .. ' expected rows')
end
local prev = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
if prev then return prev end
return ''
`)

// Switch points name at version, atomically, and returns the previous
// version. It refuses a version that is not complete.
func (c *Cache) Switch(ctx context.Context, name, version string) (string, error) {
	if err := CheckName("name", name); err != nil {
		return "", err
	}
	if err := CheckName("version", version); err != nil {
		return "", err
	}
	prev, err := switchScript.Run(ctx, c.rdb, []string{currentKey(name), metaKey(name, version)}, version).Text()
	if err != nil {
		return "", fmt.Errorf("switch %s to version %s: %w", name, version, err)
	}
	return prev, nil
}

// Scores are one user's predictions.
type Scores struct {
	LTV   []float32 `json:"ltv"`
	LTVEV []float32 `json:"ltv_ev"`
}

// encode packs a user's 2H values: a mask of ceil(2H/8) bytes, bit i set
// when value i (the H ltv, then the H ltv_ev) is not +0, then those values
// as little-endian float32. Zeros are common (an argmax decode of "no
// future value" is exactly 0), and skipping them is lossless.
func encode(buf []byte, ltv, ev []float32) []byte {
	n := len(ltv) + len(ev)
	mb := (n + 7) / 8
	start := len(buf)
	for i := 0; i < mb; i++ {
		buf = append(buf, 0)
	}
	put := func(i int, x float32) {
		if bits := math.Float32bits(x); bits != 0 {
			buf[start+i/8] |= 1 << (i % 8)
			buf = binary.LittleEndian.AppendUint32(buf, bits)
		}
	}
	for i, x := range ltv {
		put(i, x)
	}
	for i, x := range ev {
		put(len(ltv)+i, x)
	}
	return buf
}

func decode(b []byte, h int) (Scores, error) {
	n := 2 * h
	mb := (n + 7) / 8
	if len(b) < mb {
		return Scores{}, fmt.Errorf("value of %d bytes, shorter than its %d-byte mask", len(b), mb)
	}
	set := 0
	for _, m := range b[:mb] {
		set += bits.OnesCount8(m)
	}
	if len(b) != mb+4*set {
		return Scores{}, fmt.Errorf("value of %d bytes, want %d for %d non-zero values", len(b), mb+4*set, set)
	}
	s := Scores{LTV: make([]float32, h), LTVEV: make([]float32, h)}
	p := mb
	for i := 0; i < n; i++ {
		if b[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		x := math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
		p += 4
		if i < h {
			s.LTV[i] = x
		} else {
			s.LTVEV[i-h] = x
		}
	}
	return s, nil
}

// Get looks users up in version v (from Current or Version) in one
// pipelined round trip. found[i] is false for a user v does not have.
func (c *Cache) Get(ctx context.Context, v *Version, users []string) (scores []Scores, found []bool, err error) {
	if len(users) == 0 {
		return nil, nil, nil
	}
	var cmds []*redis.StringCmd
	if len(users) == 1 {
		cmds = []*redis.StringCmd{c.rdb.HGet(ctx, bucketKey(v.Name, v.Version, bucketOf(users[0], v.Buckets)), users[0])}
	} else {
		pipe := c.rdb.Pipeline()
		for _, u := range users {
			cmds = append(cmds, pipe.HGet(ctx, bucketKey(v.Name, v.Version, bucketOf(u, v.Buckets)), u))
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return nil, nil, err
		}
	}
	scores = make([]Scores, len(users))
	found = make([]bool, len(users))
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		s, err := decode(b, len(v.Horizons))
		if err != nil {
			return nil, nil, fmt.Errorf("%s version %s user %q: %w", v.Name, v.Version, users[i], err)
		}
		scores[i], found[i] = s, true
	}
	return scores, found, nil
}

// Drop deletes a version: its buckets, metadata and list entry. It refuses
// the current version.
func (c *Cache) Drop(ctx context.Context, name, ver string) error {
	cur, err := c.CurrentVersion(ctx, name)
	if err != nil && !errors.Is(err, ErrNoCurrent) {
		return err
	}
	if cur == ver {
		return fmt.Errorf("%s: version %s is current; switch away first", name, ver)
	}
	if err := c.dropBuckets(ctx, name, ver); err != nil {
		return err
	}
	if err := c.rdb.Del(ctx, metaKey(name, ver)).Err(); err != nil {
		return err
	}
	return c.rdb.ZRem(ctx, versionsKey(name), ver).Err()
}

// dropBuckets unlinks a version's buckets (the count comes from its
// metadata; nothing when it has none).
func (c *Cache) dropBuckets(ctx context.Context, name, ver string) error {
	s, err := c.rdb.HGet(ctx, metaKey(name, ver), "buckets").Result()
	if err == redis.Nil {
		return nil
	}
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%s version %s: metadata buckets=%q", name, ver, s)
	}
	const chunk = 4096
	for lo := 0; lo < n; lo += chunk {
		pipe := c.rdb.Pipeline()
		for b := lo; b < n && b < lo+chunk; b++ {
			pipe.Unlink(ctx, bucketKey(name, ver, b))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// GCOptions tune GC.
type GCOptions struct {
	// Keep is how many complete versions to keep, newest first; the
	// current version is always kept and counts.
	Keep int
	// Grace spares versions still loading that were written to within it
	// (a load in progress); 0 means 10 minutes.
	Grace time.Duration
}

// GC drops the versions of name beyond the newest opts.Keep complete ones
// (never the current one) and every incomplete version not written to
// within opts.Grace. It returns the versions dropped.
func (c *Cache) GC(ctx context.Context, name string, opts GCOptions) ([]string, error) {
	if opts.Grace == 0 {
		opts.Grace = 10 * time.Minute
	}
	vs, err := c.Versions(ctx, name)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Created.After(vs[j].Created) })
	kept := 0
	for _, v := range vs {
		if v.Current {
			kept++
		}
	}
	var dropped []string
	for _, v := range vs {
		switch {
		case v.Current:
			continue
		case v.Complete():
			if kept < opts.Keep {
				kept++
				continue
			}
		case v.State == Loading && time.Since(v.Updated) < opts.Grace:
			continue
		}
		if err := c.Drop(ctx, name, v.Version); err != nil {
			return dropped, err
		}
		dropped = append(dropped, v.Version)
	}
	return dropped, nil
}

// MemoryUsed sums INFO memory's used_memory over the servers (every master
// under Cluster).
func (c *Cache) MemoryUsed(ctx context.Context) (int64, error) {
	parse := func(info string) (int64, error) {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				return strconv.ParseInt(v, 10, 64)
			}
		}
		return 0, fmt.Errorf("INFO memory has no used_memory")
	}
	if cc, ok := c.rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var total int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			info, err := n.Info(ctx, "memory").Result()
			if err != nil {
				return err
			}
			x, err := parse(info)
			if err != nil {
				return err
			}
			mu.Lock()
			total += x
			mu.Unlock()
			return nil
		})
		return total, err
	}
	info, err := c.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	return parse(info)
}
