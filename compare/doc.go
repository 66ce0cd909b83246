// Package compare runs the ODMN paper's evaluation (section 5): ODMN, its
// baselines (Two-Stage XGBoost, ZILN, an MSE-trained MLP) and optionally its
// ablations (Tables 2 and 3), trained and evaluated on the same held-out
// users for each of several seeds, summarized as mean ± standard deviation
// over the seeds. `odmn compare` is its command line.
//
// # What one seed does
//
// For seed s, [Run]
//
//  1. holds out Options.TestFrac of the table's rows (data.Split with seed
//     s; the same seed always holds out the same users);
//  2. fits one feature encoder (vocabularies, equal-frequency bins) on the
//     remaining training rows and encodes the table with it;
//  3. trains every model on the training rows with seed s: the neural
//     models (ODMN, the ablations, ZILN, MSE-MLP) with train.Fit and the
//     same configuration (Options.Config; one embedding and share-bottom
//     layout for all), which holds out Config.ValFrac of them (seeded by s)
//     for early stopping; Two-Stage with twostage.Fit on the same training
//     and validation rows;
//  4. scores the held-out rows with every model and computes the paper's
//     metrics per horizon (package metrics).
//
// # Decodes
//
// Spec note 5b: report argmax and EV side by side, and compare models on
// the same kind of decode. Each model gives one or two predictions:
//
//   - mean-type (an estimate of E[y | x]): ODMN's EV decode (the expected
//     value of its bucket distribution), ZILN's mean, the MSE-MLP's output,
//     and Two-Stage's P(pay) * E[y | pay] (its default combination);
//   - point-type (a decision, then a value): ODMN's argmax decode (Eq. 7-8:
//     the likeliest sub-distribution, its likeliest bucket, plus the bucket
//     bias) and Two-Stage "hard" (Drachen et al.'s rule: E[y | pay] if
//     P(pay) > 0.5, else 0), computed from the same Two-Stage model.
//
// The tables ([Result.Tables]) keep the two kinds apart: Table 1 compares
// the mean-type predictions of all models and, separately, the point-type
// ones; the ablation tables (Table 2: NM, NMB, NMO, MDME at the longest
// horizon; Table 3: S, SM, SC, ODMN at every horizon) come once per decode.
// The best value of each metric and horizon is marked within a table.
//
// The tables' ± mixes model variation with the variation of the held-out
// users between seeds. [Result.Paired] removes the latter: for ODMN's EV
// decode against each mean-type baseline and its argmax decode against
// Two-Stage hard, per metric and horizon, the number of seeds in which
// ODMN is better on the same held-out users and the mean difference.
//
// # Determinism
//
// Everything is seeded: the split, the encoder's samples, initialization,
// shuffling, the validation split and XGBoost. The same data, options and
// seeds give the same [Result], apart from Result.Timings, which are wall
// clock times.
package compare
