// Package serve is odmn's online endpoint: it answers lifetime-value
// lookups from the score cache (package cache), following the cache's
// pointer so that a day's switch is served within a poll interval without
// a restart, and optionally scores raw feature rows live with the native
// runtime, micro-batching concurrent requests into one model call.
//
// Routes:
//
//	GET  /v1/ltv/{user}         one user's scores (404 when unknown)
//	GET  /v1/ltv?user=a&user=b  several users (found: false for unknown ones)
//	POST /v1/score              {"rows": [{feature: value, ...}, ...]} scored live
//	GET  /healthz               the process is up
//	GET  /readyz                Redis answers and a version is known
//	GET  /metrics               Prometheus metrics
//
// When Redis is unreachable the lookups answer 503 with a JSON error and
// /readyz fails, while /v1/score keeps working; both recover by themselves
// when Redis is back (the client reconnects, the follower polls on).
package serve
