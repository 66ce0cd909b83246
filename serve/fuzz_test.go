package serve_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/odmn/odmn/serve"
)

// FuzzHandlers sends arbitrary methods, paths and bodies to every route:
// the answer is a well-formed JSON (or metrics) response with a status
// below 500, never a panic.
func FuzzHandlers(f *testing.F) {
	m := loadModel(f)
	rows, _, _ := goldenRows(f, m)
	one, _ := json.Marshal(map[string]any{"rows": rows[:1]})
	for _, seed := range []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/v1/score", one},
		{"POST", "/v1/score", []byte(`{"rows":[{"channel":1}]}`)},
		{"POST", "/v1/score", []byte(`{"rows":[[],{},null,"x",1e999]}`)},
		{"GET", "/v1/ltv/u1", nil},
		{"GET", "/v1/ltv?user=u1&user=x&user=", nil},
		{"GET", "/v1/ltv/%00", nil},
		{"GET", "/readyz", nil},
		{"DELETE", "/v1/ltv/u1", nil},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	r := start(f, serve.Config{Store: &fakeStore{}, Name: "ltv", Model: m, MaxRows: 50, MaxBodyBytes: 64 << 10})
	h := r.s.Handler()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) { // the follower's first poll
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code == 200 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		switch method {
		case "GET", "POST", "PUT", "DELETE", "HEAD":
		default:
			method = "POST"
		}
		req, err := http.NewRequest(method, "http://x"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if method != "HEAD" && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: invalid JSON %q", method, path, rec.Body)
		}
	})
}
