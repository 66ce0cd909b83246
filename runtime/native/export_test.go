package native

// FoldRuns is the number of runs of folded embedding chains so far.
func FoldRuns() int64 { return foldRuns.Load() }

// PackedRuns is the number of products run on packed weights so far.
func PackedRuns() int64 { return packedRuns.Load() }

// FoldedRows is the number of folded table rows made so far.
func FoldedRows() int64 { return foldedRows.Load() }
