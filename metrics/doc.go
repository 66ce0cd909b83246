// Package metrics evaluates multi-horizon LTV predictions: point errors
// (NRMSE, NMAE, AMBE), distribution fit (Lorenz curves, Gini, Mutual Gini),
// ranking (normalized model Gini, Spearman), calibration by prediction decile,
// and the order between horizons (monotonicity violation rate).
//
// The definitions follow /work/shared/notes/odmn-spec.md section 9 (which
// fixes what the ODMN paper, Li et al., CIKM 2022, section 4 leaves open);
// section 5b of that note explains why the ranking and bias metrics must be
// reported next to Mutual Gini: a decode that maps any score onto the label
// distribution by rank drives Mutual Gini to about 0, so a low Mutual Gini is
// no evidence of a better model on its own. All arithmetic is float64; all
// values are in label units unless normalized.
//
// # Definitions (one horizon; y labels, ŷ predictions, both of length n)
//
//   - NRMSE = sqrt(mean((ŷ-y)²)) / mean(y); NMAE = mean(|ŷ-y|) / mean(y).
//     Both need mean(y) > 0.
//   - AMBE = |mean(ŷ-y)|, in label units (not normalized). It is computed as
//     the mean of the differences, not as mean(ŷ) - mean(y), so a nearly
//     unbiased model does not lose precision to cancellation.
//   - Lorenz curve of a non-negative vector v with sum(v) > 0 (descending, as in
//     the paper's figure 4): L(0) = 0, L(i/n) = (sum of the i largest values) /
//     sum(v), linear in between. [Lorenz] returns its n+1 breakpoints,
//     [LorenzSampled] the exact curve at k+1 evenly spaced x for plotting.
//   - Gini(v) = 2 ∫₀¹ (L(x) - x) dx, integrated exactly over the piecewise-linear
//     curve (trapezoids): Gini = (2 Σ_{i=1..n} L(i/n) - 1)/n - 1. A constant
//     vector gives 0, a one-hot vector (n-1)/n. This is the tables' Gini*.
//   - Mutual Gini (paper Eq. 16) = ∫₀¹ |L_y(x) - L_ŷ(x)| dx, each curve sorted by
//     its own values. Both curves break at i/n, so on each segment the
//     difference d is linear; a segment where d keeps its sign contributes
//     h(|d0|+|d1|)/2, a segment where it changes sign is split at the crossing
//     and contributes h(d0²+d1²)/(2(|d0|+|d1|)). The result is exact, and it is
//     not the difference of the two areas (that would be |Gini_y - Gini_ŷ|/2,
//     which is smaller whenever the curves cross).
//   - Normalized model Gini, as google/lifetime_value (ZILN, Wang et al. 2019)
//     defines it in lifetime_value/metrics.py (cumulative_true, gini_from_gain):
//     the gain curve G_i = (sum of the labels of the i users with the highest
//     predictions) / sum(y), i = 1..n; raw = 2·mean(G) - 1 (a right-endpoint sum,
//     not the trapezoid of Gini above: for the same ordering it is larger by
//     exactly 1/n); normalized = raw(labels ordered by prediction) / raw(labels
//     ordered by themselves). Perfect ranking gives 1, a random ranking about 0.
//     Ties in predictions: google's code leaves the order of tied predictions to
//     pandas' unstable sort. Here a block of tied predictions is averaged
//     instead: every user in the block is credited with the block's mean label,
//     which is the expectation of the gain curve over all orders of the tied
//     users. The result therefore does not depend on input order. Constant
//     predictions give G_i = i/n, raw = 1/n, normalized = 1/(n·raw_truth) — not
//     0, a property of google's right-endpoint formula that vanishes as n grows.
//   - Spearman = Pearson correlation of the ranks, tied values getting the
//     average of the ranks they span. Undefined (error) if either vector is
//     constant.
//   - Deciles: users sorted by prediction DESCENDING (decile 1 holds the
//     highest predictions, as in the paper's descending Lorenz curve; note that
//     google's decile_stats numbers deciles the other way), split into 10
//     consecutive groups; with n = 10q + r the first r deciles hold q+1 users
//     and the rest q, so sizes differ by at most one. Per decile: count, mean
//     label, mean prediction, min and max prediction. A block of tied
//     predictions that straddles a decile boundary contributes its labels in
//     proportion to its overlap with each decile (the expectation over orders
//     of the tied users), so decile label means do not depend on input order;
//     with constant predictions every decile's mean label is the overall mean.
//   - Monotonicity violation rate over an [n][T] matrix: the share of users
//     with ŷ_t > ŷ_{t+1} + tol for some t (tol ≥ 0; 0 by default). With T = 1 it
//     is 0. [ComputeMultiReport] reports it for predictions and, with tol = 0,
//     for labels (labels are cumulative, spec section 1, so a label violation
//     marks bad input).
//
// # Degenerate inputs
//
// The stand-alone functions return a sentinel error (test with errors.Is) and
// never NaN:
//
//   - n = 0: [ErrEmpty]. Mismatched lengths or a ragged matrix: [ErrLength] /
//     [ErrShape]. NaN or ±Inf anywhere in the input: [ErrNonFinite] (the error
//     names the first offending index).
//   - mean(y) <= 0 (all labels zero, or negative labels outweighing positive
//     ones) for NRMSE/NMAE: [ErrNonPositiveMean].
//   - A negative value where a Lorenz curve is needed (Lorenz, Gini, Mutual
//     Gini, and the labels of the normalized Gini): [ErrNegative]. Predictions
//     may be negative for the normalized Gini, Spearman and deciles, which use
//     only their order.
//   - An all-zero vector where a Lorenz curve is needed (its curve is 0/0):
//     [ErrZeroTotal]. So with all labels zero the label Gini, Mutual Gini and
//     normalized Gini are undefined.
//   - Constant input to Spearman: [ErrConstant].
//   - Negative monotonicity tolerance: [ErrTolerance].
//
// [ComputeReport] and [ComputeMultiReport] turn per-metric failures into a
// JSON null (every metric is a *float64) plus an entry in the report's Notes
// naming the metric and the reason, so one undefined metric does not hide the
// others and NaN never reaches JSON. They still fail as a whole, with an
// error, on n = 0, mismatched lengths/shapes and NaN/Inf input. One
// convention departs from the stand-alone functions: all-zero PREDICTIONS
// (the collapsed argmax decode of spec section 5b) get the diagonal Lorenz
// curve, so gini_pred = 0 and mutual_gini = gini_label/2, with a note; set
// [Options].StrictZeroPredictions to get null instead. All-zero LABELS are never
// given a convention: an evaluation set without value cannot rank models.
// Any metric whose arithmetic overflows to ±Inf is likewise reported as null
// with a note.
//
// # Cost
//
// Each horizon costs two O(n log n) sorts of (value, index) pairs plus O(n)
// passes; [ComputeMultiReport] allocates its work buffers (about 56 bytes per
// user) once and reuses them across horizons. Indices are int32, so n is
// limited to 2³¹-1 users per call.
package metrics
