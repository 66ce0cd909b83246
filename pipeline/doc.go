// Package pipeline runs odmn's batch work as Apache Beam pipelines, so that
// the same code runs on Beam's embedded prism runner on one machine and on
// any portable runner (Flink, Spark, a standalone prism job server) through
// --runner universal --endpoint HOST:PORT.
//
// It lives in its own Go module: Beam pulls many modules, and odmn's core
// packages and the odmn binary must not. Build the odmn-pipeline binary with
// `make pipeline`; `odmn pipeline ...` finds it beside odmn or in PATH.
//
// Score: elements are file ranges, never single rows: the rows r of a file
// with r mod n = i (score.Options' sharding rule), each scored by
// score.File with the model session built once per DoFn instance (Setup)
// and written atomically to its own Parquet shard,
// PREFIX-SSSSS-of-NNNNN.parquet. A retried element rewrites the same shard,
// so every row is written exactly once.
//
// Features: each log file is one element; transactions are grouped by
// customer and each row is computed by data.Features and data.Customer, the
// definition data.BuildFromTransactions uses, with the log's decimals as a
// side input, so the table equals `odmn dataset from-transactions`' on the
// same log.
//
// Both skip bad rows into PREFIX-bad-SSSSS-of-NNNNN.csv with their file,
// line, column and reason, fail past a share of bad rows (MaxBad), and
// check their balance on the files they wrote.
package pipeline
