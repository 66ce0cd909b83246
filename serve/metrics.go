package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	lookups   *prometheus.CounterVec
	version   *prometheus.GaugeVec
	cacheUp   prometheus.Gauge
	batchRows prometheus.Histogram
	roundTrip prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odmn_serve_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "odmn_serve_request_duration_seconds",
		Help:    "HTTP request latency by route.",
		Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"route"})
	m.lookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odmn_serve_cache_lookups_total", Help: "User lookups by result: hit, miss or error.",
	}, []string{"result"})
	m.version = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "odmn_serve_version", Help: "1 for the cache version being served.",
	}, []string{"name", "version"})
	m.cacheUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "odmn_serve_cache_up", Help: "1 while the last poll of the cache pointer succeeded.",
	})
	m.batchRows = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "odmn_serve_score_batch_rows",
		Help:    "Rows per model call of /v1/score (concurrent requests are batched).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 12),
	})
	m.roundTrip = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "odmn_serve_cache_round_trip_lookups",
		Help:    "Single-user lookups per Redis round trip (concurrent lookups are pipelined together).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 10),
	})
	m.reg.MustRegister(m.requests, m.latency, m.lookups, m.version, m.cacheUp, m.batchRows, m.roundTrip,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
