// Package data reads and writes user tables (CSV, Parquet, transaction
// logs), describes their columns with a Spec, and encodes features into the
// compact ids the models embed.
//
// Files (.csv with a header line, or .parquet, chosen by extension):
//
//   - OpenReader streams the requested columns in chunks (*Table, at most
//     DefaultChunkRows rows unless ChunkRows says otherwise) until io.EOF;
//     ReadFile reads a whole file; FileColumns and CountRows inspect one.
//   - NewWriter / WriteFile write through a temporary file renamed onto
//     the target on Close (Abort discards it).
//   - Errors about a value name the file, the data row (1-based; CSV also
//     gives the line, header = line 1) and the column: see RowPos and
//     Error.
//
// Training input:
//
//   - Fit fits an Encoder for a Spec on (a subset of the rows of) a file:
//     categorical vocabularies and equal-frequency bins; Load encodes a
//     file into a Dataset: an [N × F] int32 feature matrix (slot order:
//     categorical, numeric, then sequences day by day), [N × T] float32
//     labels, and ids. Split makes a deterministic train/validation split.
//
// Transaction logs:
//
//   - BuildFromTransactions turns a log of purchases into one row per
//     customer (first-window features, multi-horizon cumulative labels) and
//     its Spec; the CLI is `odmn dataset from-transactions`.
package data
