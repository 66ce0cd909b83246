// Package report renders evaluation results of odmn models: text and
// Markdown tables, a JSON document, and PNG plots.
//
// # Tables
//
// [EvalTable] prints one row per model (or decode: "ODMN argmax", "ODMN EV")
// and horizon, in the column order of the ODMN paper's Table 1 (NRMSE, NMAE,
// AMBE, Mutual Gini, Gini*), followed by what spec section 5b says must be
// read beside Mutual Gini: the label Gini, the normalized model Gini,
// Spearman, and the prediction and label means (a low Mutual Gini alone is
// no evidence of a better model). Rows are grouped by horizon as in the
// paper, or by model ([Group]). [MarkBest] marks the best value of each
// horizon (bold in Markdown, '*' in text); Gini* is never marked, since the
// paper shows it but does not treat it as a performance measure. Metrics
// that are null in a [metrics.Report] print as "n/a" and the row's notes
// become footnotes.
//
// [Aggregate] turns the rows of several seeds into mean ± sample standard
// deviation ([AggRow]), which [AggTable] prints; [AggregateMonotonicity]
// and [AggMonoTable] do the same for the monotonicity violation rates. [DecileTable] prints the
// calibration by prediction decile of one row, [MonotonicityLines] the
// monotonicity violation rate of each model.
//
// # JSON
//
// [EvalDoc] is the document `odmn eval --json` prints: model, data, and for
// each decode the [metrics.MultiReport]. Its layout is versioned by
// [EvalSchema]; fields are added, never changed, within a version.
//
// # Plots
//
// [LorenzPlot], [DecilePlot] and [CurvePlot] draw PNG files with
// gonum.org/v1/plot: one panel per horizon (a 2x2 grid for four horizons).
// Lorenz curves are descending, as in the paper's figure 4: x is the share
// of users sorted by value, highest first, y their share of the total.
// Every file is written atomically through [WriteAtomic] (a temporary file
// renamed into place), so a failed plot leaves no file and never a
// half-written one; invalid input fails before any file is created.
package report
