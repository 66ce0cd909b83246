package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/score"
)

// Store is what serve needs from the cache; *cache.Cache is one.
type Store interface {
	Current(ctx context.Context, name string) (*cache.Version, error)
	Get(ctx context.Context, v *cache.Version, users []string) ([]cache.Scores, []bool, error)
}

// Config configures a Server. Zero values take the defaults.
type Config struct {
	// Store and Name: the cache and the name whose current version is
	// served. Store may be nil when only /v1/score is wanted.
	Store Store
	Name  string
	// Model, when set, enables POST /v1/score.
	Model *score.Model
	// Token, when set, is required as "Authorization: Bearer TOKEN" on
	// every route but /healthz.
	Token string
	// Poll is how often the pointer is read (250ms).
	Poll time.Duration
	// CacheTimeout bounds each Redis call of a request (250ms).
	CacheTimeout time.Duration
	// MaxUsers bounds a batch lookup (1000).
	MaxUsers int
	// MaxRoundTrips bounds the concurrent Redis round trips of single-user
	// lookups (GOMAXPROCS); lookups arriving past it are sent together as
	// one pipeline when a round trip ends.
	MaxRoundTrips int
	// MaxBodyBytes bounds a /v1/score body (1 MiB); MaxRows its rows (1000).
	MaxBodyBytes int64
	MaxRows      int
	// MaxBatch bounds the rows of one model call (1024); Workers is the
	// number of model sessions scoring batches in parallel (2).
	MaxBatch, Workers int
	// Log receives warnings (slog.Default()).
	Log *slog.Logger
}

// Server answers the routes of the package comment.
type Server struct {
	cfg     Config
	m       *metrics
	cur     atomic.Pointer[cache.Version]
	up      atomic.Bool
	lastErr atomic.Pointer[string]
	scorer  *scorer
	co      *coalescer
	mux     *http.ServeMux
}

// New checks cfg and builds a Server; Run starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil && cfg.Model == nil {
		return nil, errors.New("serve: nothing to serve: no cache and no model")
	}
	if cfg.Store != nil {
		if err := cache.CheckName("name", cfg.Name); err != nil {
			return nil, err
		}
	}
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&cfg.MaxUsers, 1000)
	def(&cfg.MaxRows, 1000)
	def(&cfg.MaxBatch, 1024)
	def(&cfg.Workers, 2)
	def(&cfg.MaxRoundTrips, runtime.GOMAXPROCS(0))
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.CacheTimeout <= 0 {
		cfg.CacheTimeout = 250 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, m: newMetrics(), mux: http.NewServeMux()}
	if cfg.Store != nil {
		s.co = &coalescer{store: cfg.Store, timeout: cfg.CacheTimeout, max: cfg.MaxRoundTrips,
			observe: func(n int) { s.m.roundTrip.Observe(float64(n)) }}
	}
	if cfg.Model != nil {
		sc, err := newScorer(cfg.Model, cfg.Workers, cfg.MaxBatch, s.m)
		if err != nil {
			return nil, err
		}
		s.scorer = sc
	}
	s.route("GET /healthz", "healthz", false, s.healthz)
	s.route("GET /readyz", "readyz", true, s.readyz)
	s.mux.Handle("GET /metrics", s.auth(s.instrument("metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))))
	s.route("GET /v1/ltv/{user}", "ltv_user", true, s.getUser)
	s.route("GET /v1/ltv", "ltv_batch", true, s.getBatch)
	s.route("POST /v1/score", "score", true, s.postScore)
	s.mux.Handle("/", s.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no route %s %s (see /v1/ltv/{user}, /v1/ltv?user=, /v1/score, /healthz, /readyz, /metrics)", r.Method, r.URL.Path)
	})))
	return s, nil
}

// Handler is the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) route(pattern, name string, auth bool, h http.HandlerFunc) {
	var hh http.Handler = s.instrument(name, h)
	if auth {
		hh = s.auth(hh)
	}
	s.mux.Handle(pattern, hh)
}

// statusWriter records the status code for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) instrument(route string, h http.Handler) http.Handler {
	obs := s.m.latency.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		obs.Observe(time.Since(t0).Seconds())
		s.m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

func (s *Server) auth(h http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return h
	}
	want := []byte("Bearer " + s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="odmn"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Store == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	if !s.up.Load() {
		msg := "cache unreachable"
		if e := s.lastErr.Load(); e != nil {
			msg += ": " + *e
		}
		writeError(w, http.StatusServiceUnavailable, "%s", msg)
		return
	}
	v := s.cur.Load()
	if v == nil {
		writeError(w, http.StatusServiceUnavailable, "no version of %s switched to yet", s.cfg.Name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "name": v.Name, "version": v.Version})
}

// Run serves on l until ctx is done, then stops accepting, drains the
// requests in flight (up to drain), and returns.
func (s *Server) Run(ctx context.Context, l net.Listener, drain time.Duration) error {
	fctx, stopFollow := context.WithCancel(context.Background())
	defer stopFollow()
	if s.cfg.Store != nil {
		s.poll(fctx)
		go s.follow(fctx)
	}
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		s.close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.close()
	if err != nil {
		return fmt.Errorf("draining: %w", err)
	}
	return nil
}

func (s *Server) close() {
	if s.scorer != nil {
		s.scorer.close()
	}
}

// follow polls the pointer until ctx is done.
func (s *Server) follow(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.poll(ctx)
		}
	}
}

// poll reads the pointer once and records the outcome.
func (s *Server) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.CacheTimeout)
	defer cancel()
	v, err := s.cfg.Store.Current(ctx, s.cfg.Name)
	if err != nil {
		if errors.Is(err, cache.ErrNoCurrent) {
			s.up.Store(true)
			s.m.cacheUp.Set(1)
			return
		}
		if ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
			return // shutting down
		}
		if s.up.Swap(false) {
			s.cfg.Log.Warn("cache unreachable", "err", err)
		}
		msg := err.Error()
		s.lastErr.Store(&msg)
		s.m.cacheUp.Set(0)
		return
	}
	if !s.up.Swap(true) {
		s.cfg.Log.Info("cache reachable")
	}
	s.m.cacheUp.Set(1)
	old := s.cur.Load()
	if old == nil || old.Version != v.Version || old.Created != v.Created {
		s.cur.Store(v)
		s.m.version.Reset()
		s.m.version.WithLabelValues(v.Name, v.Version).Set(1)
		if old != nil {
			s.cfg.Log.Info("switched", "name", v.Name, "from", old.Version, "to", v.Version)
		}
	}
}

// Result is one user's answer.
type Result struct {
	User     string    `json:"user"`
	Name     string    `json:"name,omitempty"`
	Version  string    `json:"version,omitempty"`
	Found    *bool     `json:"found,omitempty"`
	Horizons []Horizon `json:"horizons,omitempty"`
}

// Horizon is the predictions for one horizon.
type Horizon struct {
	Horizon string  `json:"horizon"`
	LTV     float32 `json:"ltv"`
	LTVEV   float32 `json:"ltv_ev"`
}

func horizons(names []string, sc cache.Scores) []Horizon {
	out := make([]Horizon, len(names))
	for i, h := range names {
		out[i] = Horizon{Horizon: h, LTV: sc.LTV[i], LTVEV: sc.LTVEV[i]}
	}
	return out
}

// lookup reads users from the current version; it writes the error
// response itself and returns ok=false on failure.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, users []string) (*cache.Version, []cache.Scores, []bool, bool) {
	if s.cfg.Store == nil {
		writeError(w, http.StatusNotFound, "no cache configured (serve was started without --cache)")
		return nil, nil, nil, false
	}
	v := s.cur.Load()
	if v == nil {
		if !s.up.Load() {
			writeError(w, http.StatusServiceUnavailable, "cache unavailable: no version known yet and Redis is unreachable")
		} else {
			writeError(w, http.StatusServiceUnavailable, "no version of %s switched to yet", s.cfg.Name)
		}
		return nil, nil, nil, false
	}
	var (
		sc    []cache.Scores
		found []bool
		err   error
	)
	if len(users) == 1 {
		var one cache.Scores
		var f bool
		one, f, err = s.co.get(v, users[0])
		sc, found = []cache.Scores{one}, []bool{f}
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CacheTimeout)
		sc, found, err = s.cfg.Store.Get(ctx, v, users)
		cancel()
	}
	if err != nil {
		s.m.lookups.WithLabelValues("error").Add(float64(len(users)))
		writeError(w, http.StatusServiceUnavailable, "cache unavailable: %v", err)
		return nil, nil, nil, false
	}
	var hit int
	for _, f := range found {
		if f {
			hit++
		}
	}
	s.m.lookups.WithLabelValues("hit").Add(float64(hit))
	s.m.lookups.WithLabelValues("miss").Add(float64(len(users) - hit))
	return v, sc, found, true
}

func checkUser(u string) error {
	if u == "" {
		return errors.New("empty user id")
	}
	if len(u) > 256 {
		return fmt.Errorf("user id of %d bytes; at most 256", len(u))
	}
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u := r.PathValue("user")
	if err := checkUser(u); err != nil {
		writeError(w, http.StatusBadRequest, "user: %v", err)
		return
	}
	v, sc, found, ok := s.lookup(w, r, []string{u})
	if !ok {
		return
	}
	if !found[0] {
		writeError(w, http.StatusNotFound, "user %q not in %s version %s", u, v.Name, v.Version)
		return
	}
	writeJSON(w, http.StatusOK, Result{User: u, Name: v.Name, Version: v.Version, Horizons: horizons(v.Horizons, sc[0])})
}

func (s *Server) getBatch(w http.ResponseWriter, r *http.Request) {
	users := r.URL.Query()["user"]
	if len(users) == 0 {
		writeError(w, http.StatusBadRequest, "user: give one or more ?user= parameters")
		return
	}
	if len(users) > s.cfg.MaxUsers {
		writeError(w, http.StatusBadRequest, "user: %d users; at most %d per request", len(users), s.cfg.MaxUsers)
		return
	}
	for i, u := range users {
		if err := checkUser(u); err != nil {
			writeError(w, http.StatusBadRequest, "user[%d]: %v", i, err)
			return
		}
	}
	v, sc, found, ok := s.lookup(w, r, users)
	if !ok {
		return
	}
	out := struct {
		Name    string   `json:"name"`
		Version string   `json:"version"`
		Results []Result `json:"results"`
	}{Name: v.Name, Version: v.Version, Results: make([]Result, len(users))}
	for i, u := range users {
		f := found[i]
		out.Results[i] = Result{User: u, Found: &f}
		if f {
			out.Results[i].Horizons = horizons(v.Horizons, sc[i])
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func cacheScores(ltv, ev []float32) cache.Scores { return cache.Scores{LTV: ltv, LTVEV: ev} }
