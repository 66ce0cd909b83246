// Package daily runs one day of the paper's deployment end to end: from
// transaction logs to a switched score cache, each step restartable.
//
// A day (Run) is eight steps, each writing into DIR/DATE/ and marking
// itself done with DIR/DATE/<step>.done (its result, JSON, written
// atomically after the step's output is in place):
//
//	features  the log cut at the day (transactions dated after it left
//	          out); the training table (customers whose window and longest
//	          horizon ended by the day: first day + window + max horizon - 1
//	          <= DATE) and the scoring set (customers whose window ended by
//	          the day), both by data.BuildFromTransactions
//	train     warm from the latest earlier day's model in DIR (train.Warm:
//	          its bins, label layout and weights), cold when there is none
//	export    the ONNX file
//	conform   native runtime and ONNX Runtime against the Go reference on a
//	          seeded sample of the scoring set; a disagreement stops the day
//	drift     PSI of every input feature, scoring set against the training
//	          table, through the model's bins; over MaxPSI stops the day
//	score     the whole scoring set, by odmn-pipeline (Beam) or in process
//	load      the scores into cache version NAME-YYYYMMDD (not switched)
//	switch    the cache pointer of NAME to that version
//
// Nothing reaches the cache before both gates pass. A rerun skips the
// steps that are done, so a finished day changes nothing and a killed one
// resumes at its first unfinished step; half-written outputs are never
// taken for finished ones. The drift gate is applied again on every run
// (with that run's limit); a day is never switched back over a later
// day's version.
package daily
