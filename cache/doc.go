// Package cache keeps a model's daily scores in Redis for online lookup,
// one version per model and day, with an atomic pointer naming the version
// served.
//
// Layout, for a cache name N and a version V (the prefix is "odmn"):
//
//	odmn:{N}:current     string  the version served (the pointer)
//	odmn:{N}:versions    zset    every version, scored by creation time
//	odmn:{N}:meta:V      hash    buckets, horizons, expected, written,
//	                             state (loading|complete), created, updated, source
//	odmn:N:V:<b>         hash    bucket b: user -> the user's values
//
// A user's value packs the H ltv then the H ltv_ev predictions: a bit mask
// of ceil(2H/8) bytes saying which are not zero, then those as
// little-endian float32 (lossless; a zero costs one bit).
//
// A user's bucket is FNV-1a(user) mod buckets; the bucket count is fixed
// when the version begins, from the expected row count, so that a bucket
// holds about three quarters of the server's hash-max-listpack-entries
// (512 by default) and stays in Redis' compact listpack encoding: a user
// then costs its id, its values and a few bytes, instead of the ~100 bytes
// of one key per user.
//
// The pointer, the version list and the metadata share the hash tag {N},
// so that under Redis Cluster they live in one slot and Switch checks and
// flips the pointer in one server-side script; the buckets carry no tag and
// spread over the cluster's slots.
//
// A version is complete when its written row count (the users found in its
// buckets, counted when the writer finishes) equals the expected count the
// writer recorded. Switch refuses anything else. Data of a version never
// changes after it completes, so a reader that resolved the pointer once
// reads one version only, whatever switches happen meanwhile.
package cache
