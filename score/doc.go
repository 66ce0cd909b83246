// Package score runs odmn's raw-feature models on tables: it loads a model
// (an ONNX file from `odmn export`, or a model directory exported in
// memory), opens it on a runtime (the native Go runtime, ONNX Runtime, or
// the Go training-time forward pass as the reference), feeds it CSV or
// Parquet rows in batches and writes the predictions, and checks runtimes
// against each other (Conform).
//
// The input contract is train's (see train.ExportGraph): one [N] input
// per feature column, named as the column, string for categorical columns
// and float32 for numeric and sequence-day columns.
//
// Sharding: File with Shards = n and Shard = i scores the data rows
// whose 0-based position r in the file has r mod n == i. The rule needs no
// row count, reads the same file the same way on every machine, and n jobs
// with i = 0..n-1 score every row exactly once.
package score
