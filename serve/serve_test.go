package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/redistest"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/serve"
	"github.com/odmn/odmn/train"
)

const (
	goldenModel  = "../fixtures/golden/golden.onnx"
	goldenInputs = "../fixtures/golden/inputs.csv"
)

var hs = []string{"30", "90", "180", "365"}

func loadModel(t testing.TB) *score.Model {
	t.Helper()
	m, err := score.Load(goldenModel, train.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// goldenRows reads the golden inputs as JSON rows (NaN as null) and scores
// them directly, for comparison. Rows with infinities, which JSON cannot
// carry, are left out.
func goldenRows(t testing.TB, m *score.Model) (rows []map[string]any, ltv, ev [][]float32) {
	t.Helper()
	f := score.NewFeeder(m.Inputs)
	tab, err := data.ReadFile(goldenInputs, f.Columns())
	if err != nil {
		t.Fatal(err)
	}
	var keep []int
	for i := 0; i < tab.Rows(); i++ {
		row := map[string]any{}
		inf := false
		for c, name := range tab.Names {
			if tab.Kinds[c] == data.String {
				row[name] = tab.Str[c][i]
			} else if v := tab.Num[c][i]; math.IsNaN(v) {
				row[name] = nil
			} else {
				inf = inf || math.IsInf(float64(float32(v)), 0)
				row[name] = float32(v)
			}
		}
		if !inf {
			rows = append(rows, row)
			keep = append(keep, i)
		}
	}
	sess, err := m.Session(score.Native, score.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	feed, err := f.Feed(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Run(feed, train.OutLTV, train.OutLTVEV)
	if err != nil {
		t.Fatal(err)
	}
	T := out[train.OutLTV].Shape[1]
	for _, i := range keep {
		ltv = append(ltv, out[train.OutLTV].F[i*T:(i+1)*T])
		ev = append(ev, out[train.OutLTVEV].F[i*T:(i+1)*T])
	}
	return rows, ltv, ev
}

type running struct {
	s      *serve.Server
	url    string
	cancel context.CancelFunc
	done   chan error
}

func start(t testing.TB, cfg serve.Config) *running {
	t.Helper()
	s, err := serve.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, url: "http://" + l.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx, l, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func get(t testing.TB, url string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func post(t testing.TB, url string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body %q: %v", req.Method, req.URL, b, err)
		}
	} else {
		m = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, m
}

func loadVersion(t testing.TB, c *cache.Cache, ver string, n int, base float32) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Begin(ctx, "ltv", ver, cache.BeginOptions{Horizons: hs, Expected: int64(n)}); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Writer(ctx, "ltv", ver)
	for i := 0; i < n; i++ {
		x := base + float32(i)
		if err := w.Put(ctx, fmt.Sprintf("u%d", i), []float32{x, x, x, x}, []float32{x / 2, x / 2, x / 2, x / 2}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(ctx, "ltv", ver, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Switch(ctx, "ltv", ver); err != nil {
		t.Fatal(err)
	}
}

func openCache(t testing.TB, url string) *cache.Cache {
	t.Helper()
	c, err := cache.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLookupSwitchAndRedisDown(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	c := openCache(t, rs.URL()+"?dial_timeout=200ms")
	loadVersion(t, c, "d1", 100, 0)
	m := loadModel(t)
	r := start(t, serve.Config{Store: c, Name: "ltv", Model: m})

	code, body := get(t, r.url+"/v1/ltv/u7")
	if code != 200 || body["version"] != "d1" || body["user"] != "u7" {
		t.Fatalf("GET u7: %d %v", code, body)
	}
	h := body["horizons"].([]any)[1].(map[string]any)
	if h["horizon"] != "90" || h["ltv"].(float64) != 7 || h["ltv_ev"].(float64) != 3.5 {
		t.Fatalf("GET u7 horizons: %v", body)
	}
	if code, body := get(t, r.url+"/v1/ltv/nobody"); code != 404 || !strings.Contains(body["error"].(string), "nobody") {
		t.Fatalf("unknown user: %d %v", code, body)
	}
	code, body = get(t, r.url+"/v1/ltv?user=u1&user=nobody&user=u99")
	res := body["results"].([]any)
	if code != 200 || len(res) != 3 || res[1].(map[string]any)["found"] != false || res[2].(map[string]any)["found"] != true {
		t.Fatalf("batch: %d %v", code, body)
	}
	if code, _ := get(t, r.url+"/readyz"); code != 200 {
		t.Fatalf("readyz: %d", code)
	}

	// A switch is served within a second, without restart.
	loadVersion(t, c, "d2", 100, 1000)
	t0 := time.Now()
	for {
		_, body := get(t, r.url+"/v1/ltv/u7")
		if body["version"] == "d2" {
			break
		}
		if time.Since(t0) > time.Second {
			t.Fatalf("still serving %v a second after the switch", body["version"])
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Redis down: lookups 503, not ready, scoring still works.
	rs.Kill()
	code, body = get(t, r.url+"/v1/ltv/u7")
	if code != 503 || !strings.Contains(body["error"].(string), "cache unavailable") {
		t.Fatalf("GET with redis down: %d %v", code, body)
	}
	time.Sleep(600 * time.Millisecond) // a poll or two
	if code, body := get(t, r.url+"/readyz"); code != 503 || !strings.Contains(body["error"].(string), "unreachable") {
		t.Fatalf("readyz with redis down: %d %v", code, body)
	}
	rows, _, _ := goldenRows(t, m)
	b, _ := json.Marshal(map[string]any{"rows": rows[:1]})
	if code, body := post(t, r.url+"/v1/score", b); code != 200 {
		t.Fatalf("POST with redis down: %d %v", code, body)
	}
	// Back up (empty: reload and switch); served again by itself.
	rs.Restart()
	loadVersion(t, c, "d3", 100, 2000)
	t0 = time.Now()
	for {
		code, body := get(t, r.url+"/v1/ltv/u7")
		if code == 200 && body["version"] == "d3" {
			break
		}
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("not recovered 5s after redis came back: %d %v", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get(t, r.url+"/readyz"); code != 200 {
		t.Fatalf("readyz after recovery: %d", code)
	}
	code, body = get(t, r.url+"/metrics")
	raw := body["raw"].(string)
	for _, want := range []string{`odmn_serve_requests_total{code="503",route="ltv_user"}`, `odmn_serve_version{name="ltv",version="d3"} 1`, `odmn_serve_cache_lookups_total{result="hit"}`, "odmn_serve_request_duration_seconds_bucket"} {
		if code != 200 || !strings.Contains(raw, want) {
			t.Fatalf("metrics lack %s:\n%s", want, raw)
		}
	}
}

func TestScore(t *testing.T) {
	m := loadModel(t)
	rows, ltv, ev := goldenRows(t, m)
	r := start(t, serve.Config{Model: m, MaxRows: 100})
	// Many concurrent one-row requests (micro-batched) and one of 50 rows
	// give the direct scores.
	var wg sync.WaitGroup
	errs := make(chan string, len(rows))
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b, err := json.Marshal(map[string]any{"rows": rows[i : i+1]})
			if err != nil {
				errs <- err.Error()
				return
			}
			code, body := post(t, r.url+"/v1/score", b)
			if code != 200 {
				errs <- fmt.Sprintf("row %d: %d %v", i, code, body)
				return
			}
			if msg := check(body, ltv[i:i+1], ev[i:i+1]); msg != "" {
				errs <- fmt.Sprintf("row %d: %s", i, msg)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	b, _ := json.Marshal(map[string]any{"rows": rows[:50]})
	code, body := post(t, r.url+"/v1/score", b)
	if code != 200 {
		t.Fatal(code, body)
	}
	if msg := check(body, ltv[:50], ev[:50]); msg != "" {
		t.Fatal(msg)
	}
	if code, body := get(t, r.url+"/v1/ltv/u1"); code != 404 || !strings.Contains(body["error"].(string), "no cache") {
		t.Fatalf("lookup without a cache: %d %v", code, body)
	}

	// Bad bodies: 4xx naming the field.
	first := func(edit func(map[string]any)) []byte {
		row := map[string]any{}
		for k, v := range rows[0] {
			row[k] = v
		}
		edit(row)
		b, _ := json.Marshal(map[string]any{"rows": []any{row}})
		return b
	}
	cases := []struct {
		body []byte
		code int
		want string
	}{
		{first(func(r map[string]any) { delete(r, "channel") }), 400, `rows[0]: missing field "channel"`},
		{first(func(r map[string]any) { r["channel"] = 3 }), 400, "rows[0].channel: want a string"},
		{first(func(r map[string]any) { r["spend_7d"] = "x" }), 400, "rows[0].spend_7d: want a number"},
		{first(func(r map[string]any) { r["spend_7d"] = 1e300 }), 400, "rows[0].spend_7d: number"},
		{first(func(r map[string]any) { r["chanel"] = "x" }), 400, "rows[0].chanel: unknown field"},
		{[]byte(`{"rows": []}`), 400, "rows: no rows"},
		{[]byte(`{"rows": {}}`), 400, "rows to be an array"},
		{[]byte(`[1,2]`), 400, "body: want an object"},
		{[]byte(`{"rows": [1]}`), 400, "rows[0]"},
		{[]byte(`{"rows": [{}`), 400, "rows[0]: missing field"},
		{[]byte(`{"rows": [null]}`), 400, "rows[0]: want an object"},
		{[]byte(`{"rows": []} x`), 400, "body: "},
		{[]byte(`{"other": 1}`), 400, `unknown field "other"`},
		{[]byte(`{"rows": [` + strings.Repeat(`{},`, 200) + `{}]}`), 400, "rows[0]: missing field"},
		{[]byte(strings.Repeat(" ", 2<<20)), 413, "larger than"},
	}
	for _, c := range cases {
		code, body := post(t, r.url+"/v1/score", c.body)
		msg, _ := body["error"].(string)
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("body %.60q: %d %q, want %d %q", c.body, code, msg, c.code, c.want)
		}
	}
	many := make([]any, 101)
	for i := range many {
		many[i] = rows[0]
	}
	b, _ = json.Marshal(map[string]any{"rows": many})
	if code, body := post(t, r.url+"/v1/score", b); code != 400 || !strings.Contains(body["error"].(string), "more than 100 rows") {
		t.Fatalf("101 rows: %d %v", code, body)
	}
}

func check(body map[string]any, ltv, ev [][]float32) string {
	res, _ := body["results"].([]any)
	if len(res) != len(ltv) {
		return fmt.Sprintf("%d results, want %d", len(res), len(ltv))
	}
	for i, r := range res {
		for j, h := range r.(map[string]any)["horizons"].([]any) {
			hm := h.(map[string]any)
			if d := math.Abs(hm["ltv"].(float64) - float64(ltv[i][j])); d > 1e-4*(1+math.Abs(float64(ltv[i][j]))) {
				return fmt.Sprintf("result %d horizon %d: ltv %v, want %v", i, j, hm["ltv"], ltv[i][j])
			}
			if d := math.Abs(hm["ltv_ev"].(float64) - float64(ev[i][j])); d > 1e-4*(1+math.Abs(float64(ev[i][j]))) {
				return fmt.Sprintf("result %d horizon %d: ltv_ev %v, want %v", i, j, hm["ltv_ev"], ev[i][j])
			}
		}
	}
	return ""
}

func TestAuth(t *testing.T) {
	r := start(t, serve.Config{Store: &fakeStore{}, Name: "ltv", Token: "t0ken"})
	if code, _ := get(t, r.url+"/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	for _, p := range []string{"/v1/ltv/u1", "/metrics", "/readyz"} {
		if code, _ := get(t, r.url+p); code != 401 {
			t.Fatalf("%s without token: %d", p, code)
		}
		if code, _ := get(t, r.url+p, "Authorization", "Bearer wrong"); code != 401 {
			t.Fatalf("%s with a wrong token: %d", p, code)
		}
	}
	if code, body := get(t, r.url+"/v1/ltv/u1", "Authorization", "Bearer t0ken"); code != 200 {
		t.Fatalf("with token: %d %v", code, body)
	}
}

// TestDrain: cancelling Run (what SIGTERM does in odmn serve) lets a
// request in flight finish.
func TestDrain(t *testing.T) {
	fs := &fakeStore{delay: 400 * time.Millisecond}
	r := start(t, serve.Config{Store: fs, Name: "ltv", CacheTimeout: 2 * time.Second})
	got := make(chan int, 1)
	go func() {
		code, _ := get(t, r.url+"/v1/ltv/u1")
		got <- code
	}()
	time.Sleep(150 * time.Millisecond)
	r.cancel()
	if code := <-got; code != 200 {
		t.Fatalf("in-flight request during shutdown: %d", code)
	}
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	r.done <- nil // for Cleanup
	if _, err := http.Get(r.url + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// fakeStore serves version v1 with every user u<n> found.
type fakeStore struct {
	delay time.Duration
}

func (f *fakeStore) Current(ctx context.Context, name string) (*cache.Version, error) {
	return &cache.Version{Name: name, Version: "v1", Horizons: hs, Buckets: 1, State: cache.Complete}, nil
}

func (f *fakeStore) Get(ctx context.Context, v *cache.Version, users []string) ([]cache.Scores, []bool, error) {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	sc := make([]cache.Scores, len(users))
	found := make([]bool, len(users))
	for i, u := range users {
		if strings.HasPrefix(u, "u") {
			found[i] = true
			sc[i] = cache.Scores{LTV: make([]float32, len(hs)), LTVEV: make([]float32, len(hs))}
		}
	}
	return sc, found, nil
}
