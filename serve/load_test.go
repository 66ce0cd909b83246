package serve_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/odmn/odmn/serve"
)

func TestLoad(t *testing.T) {
	var posted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"ok":true}`))
		case "/post":
			b, _ := io.ReadAll(r.Body)
			if string(b) == `{"rows":[1]}` {
				posted.Add(1)
			}
			w.Write(bytes.Repeat([]byte("x"), 70000)) // longer than the read buffer
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	res, err := serve.Load(ctx, serve.LoadOptions{Rate: 400, Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond,
		Request: func(i int) (*http.Request, error) {
			if i%4 == 3 {
				return http.NewRequest("GET", srv.URL+"/missing", nil)
			}
			return http.NewRequest("GET", srv.URL+"/ok", nil)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.OK != 150 || res.Codes[404] != 50 || res.Errors != 0 || res.Dropped != 0 || len(res.Latency) != 200 {
		t.Fatalf("GET load: %s", res)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.Rate < 300 || res.Rate > 410 {
		t.Fatalf("GET load figures: %s", res)
	}

	res, err = serve.Load(ctx, serve.LoadOptions{Rate: 200, Duration: 250 * time.Millisecond, Request: func(int) (*http.Request, error) {
		return http.NewRequest("POST", srv.URL+"/post", strings.NewReader(`{"rows":[1]}`))
	}})
	if err != nil || res.OK != 50 || posted.Load() != 50 {
		t.Fatalf("POST load: %v %v, %d bodies arrived", res, err, posted.Load())
	}

	// Past MaxInFlight requests are dropped, not queued.
	res, err = serve.Load(ctx, serve.LoadOptions{Rate: 100, Duration: 200 * time.Millisecond, MaxInFlight: 3, Request: func(int) (*http.Request, error) {
		return http.NewRequest("GET", srv.URL+"/slow", nil)
	}})
	if err != nil || res.Requests != 20 || res.OK+res.Dropped != 20 || res.OK > 6 || res.Dropped == 0 {
		t.Fatalf("slow server: %v %v", res, err)
	}

	// A server that is gone: every request an error, none lost.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := "http://" + l.Addr().String()
	l.Close()
	res, err = serve.Load(ctx, serve.LoadOptions{Rate: 100, Duration: 100 * time.Millisecond, Request: func(int) (*http.Request, error) {
		return http.NewRequest("GET", gone+"/ok", nil)
	}})
	if err != nil || res.Errors != 10 || res.OK != 0 {
		t.Fatalf("no server: %v %v", res, err)
	}

	if _, err := serve.Load(ctx, serve.LoadOptions{Rate: 10, Duration: 100 * time.Millisecond, Request: func(int) (*http.Request, error) {
		return http.NewRequest("GET", "https://127.0.0.1:1/", nil)
	}}); err == nil || !strings.Contains(err.Error(), "only http://") {
		t.Fatalf("https: %v", err)
	}
	if _, err := serve.Load(ctx, serve.LoadOptions{Rate: 0, Duration: time.Second}); err == nil {
		t.Fatal("rate 0 accepted")
	}
}

// TestLoadCancel: cancelling the load ends requests in flight at once
// (their connections are closed), not at their timeout.
func TestLoadCancel(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	t0 := time.Now()
	res, err := serve.Load(ctx, serve.LoadOptions{Rate: 50, Duration: 2 * time.Second, Request: func(int) (*http.Request, error) {
		return http.NewRequest("GET", srv.URL+"/", nil)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 2*time.Second || res.OK != 0 || res.Errors == 0 {
		t.Fatalf("after %s: %v", el, res)
	}
}
