// Package pipeline runs odmn's batch scoring as an Apache Beam pipeline, so
// that the same code runs on Beam's embedded prism runner on one machine
// and on any portable runner (Flink, Spark, a standalone prism job server)
// through --runner universal --endpoint HOST:PORT.
//
// It lives in its own Go module: Beam pulls many modules, and odmn's core
// packages and the odmn binary must not. Build the odmn-pipeline binary with
// `make pipeline`; `odmn pipeline ...` finds it beside odmn or in PATH.
//
// Elements are file ranges, never single rows: the rows r of a file with
// r mod n = i (score.Options' sharding rule), each scored by score.ScoreFile
// with the model session built once per DoFn instance (Setup) and written
// atomically to its own Parquet shard, PREFIX-SSSSS-of-NNNNN.parquet. A
// retried element rewrites the same shard, so every row is written exactly
// once.
package pipeline
