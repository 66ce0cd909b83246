// Package data reads and writes user tables (CSV, Parquet, transaction
// logs), describes their columns with a Spec, and encodes features into the
// compact ids the models embed.
package data
