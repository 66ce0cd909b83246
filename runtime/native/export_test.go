package native

// FoldRuns is the number of runs of folded embedding chains so far.
func FoldRuns() int64 { return foldRuns.Load() }
