// Package twostage is the Two-Stage baseline of the ODMN paper (section
// 5.2; Drachen et al. 2018): per LTV horizon, a gradient-boosted classifier
// that tells whether a user is "premium", followed by a gradient-boosted
// regressor of the value trained on the premium users only. It trains with
// XGBoost through its C API (cgo, Debian's libxgboost-dev 1.7, installed by
// scripts/deps.sh) and exports to ONNX with the ai.onnx.ml tree ensembles,
// the way onnxmltools converts XGBoost models, so that ONNX Runtime and
// odmn's native runtime both run the exported file.
//
// # API
//
//	m, err := twostage.Fit(ds, trainRows, valRows, twostage.Config{Seed: 1})
//	ltv, err := m.Predict(ds, rows)       // [n][T], XGBoost's own predictions
//	det, err := m.PredictDetail(ds, rows) // P(premium), value and ltv
//	g, err := m.Graph()                   // for export.WriteFile
//	err = m.Save(dir); m2, err := twostage.Load(dir)
//	m.Close()                             // frees the boosters (else GC does)
//
// A model directory holds twostage.json (config, feature slots, per-horizon
// stage summaries) and, per horizon H, h<H>-classifier.json and
// h<H>-regressor.json in XGBoost's JSON model format (absent for a
// constant stage); XGBoost's own tools load them.
//
// # Choices
//
// Features. The model reads the encoded dataset (data.Dataset X, one id per
// slot) as numbers: slot j of a row is the float32 value of its id. For
// numeric and sequence features the ids are quantile-bin indices, so their
// order is meaningful and a split "id < 4.0" is a threshold on the raw value.
// Categorical ids are used as numbers too, which is what a plain XGBoost
// baseline does: a tree can still isolate one category with two splits, but
// it sees an arbitrary order. No one-hot expansion is done (it would change
// the ONNX input contract).
//
// Premium. Stage 1 is a binary:logistic classifier of y > threshold, with
// Config.PremiumThreshold 0 by default: "premium" means "pays anything in the
// horizon". Its base_score is the training rate of premium users.
//
// Value. Stage 2 is a reg:squarederror regressor of log1p(y), trained on the
// premium training rows, base_score the mean of log1p(y) over them. Squared
// error on the log scale gives the conditional mean of log(1+y), and
// expm1 of that is a geometric-type mean, lower than E[y | premium] for a
// skewed value. Unless Config.NoSmearing is set, the back-transform uses
// Duan's smearing estimate: E[y | premium] ~ S * exp(r) - 1, where r is the
// regressor's output and S = mean(exp(residual)) over the validation premium
// rows (the training premium rows when there are fewer than 10 of those).
// The value is clipped at 0. reg:tweedie was not chosen: it would estimate
// the conditional mean directly, but log1p + squared error is the common
// Two-Stage recipe, and the smearing factor keeps the combination honest.
//
// Combination. The default rule is the expected value
//
//	ltv = P(premium) * E[y | premium]
//
// With Config.Combine = "hard" it is Drachen's rule: the value when
// P(premium) > 0.5, else 0. With a positive PremiumThreshold the expected
// value leaves out the non-premium users' (small) values.
//
// Horizons. Each horizon is an independent pair of models; nothing makes
// the predictions non-decreasing across horizons (what ODMN adds).
//
// Training. tree_method hist, eta 0.1, max_depth 6, min_child_weight 1,
// subsample 0.8, colsample_bytree 0.8, lambda 1, alpha 0, max_bin 256 by
// default (Config), nthread = Config.Threads (1 by default) and seed =
// Config.Seed. A fit is reproducible for a seed, whatever the thread
// count: each booster trains on one locked OS thread, because XGBoost's
// sampling engine is thread-local. Each booster trains up to
// MaxRounds rounds with early stopping on the validation rows (logloss for
// the classifier, rmse for the regressor on the validation premium rows)
// and keeps the best round's prefix. Without validation rows, a seeded
// ValFraction of the training rows is held out (data.Split). A horizon
// whose training rows are all premium or all not gets a constant
// probability; a regressor with fewer than 10 premium training rows, or
// without validation premium rows and fewer than 20 training ones to hold
// out, is the constant mean of log1p(y).
//
// # ONNX
//
// Graph builds the inference graph, which package export writes:
//
//   - input "features": float32 [N, F], the encoded ids of data.Dataset as
//     float32 (the slot order of the dataset the model was fitted on; NaN
//     is a missing value and follows XGBoost's default direction);
//   - output "ltv": float32 [N, T], the prediction per horizon in
//     increasing horizon order (ODMN's output name and layout);
//   - outputs "p_premium" and "value": float32 [N, T], P(premium) and the
//     value estimate per horizon.
//
// Each horizon's classifier is an ai.onnx.ml TreeEnsembleClassifier (class
// labels [0, 1], every leaf weight on class 0, post_transform LOGISTIC,
// base_values [logit(base_score)]), whose probabilities column 1 is
// P(premium); its regressor is a TreeEnsembleRegressor (post_transform
// NONE, base_values [base_score]). XGBoost's splits "x < threshold" go to
// the "yes" child: nodes are BRANCH_LT, true = yes, and
// nodes_missing_value_tracks_true is 1 when XGBoost's default (missing)
// direction is the yes child. Then Exp, Mul by S, Sub 1, Max with 0, Mul by
// the probability (or Greater/Where for the hard rule), and Concat.
//
// ONNX Runtime computes a binary classifier's probabilities as [1-s, s],
// with no logistic at all, when no class weight is negative; an XGBoost
// classifier whose leaves are all >= 0 would then be exported wrongly. For
// such an ensemble Graph appends a tree that never changes a score: a
// BRANCH_GTE node on feature 0 against -Inf whose true leaf (also taken for
// NaN) weighs 0 and whose unreachable false leaf weighs -1.
package twostage
