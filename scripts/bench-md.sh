#!/usr/bin/env bash
# bench-md.sh A.json [B.json ...]: the headline targets of odmn bench --json
# reports side by side as a Markdown table, then each run's machine line and
# extrapolation formulas. Used by `make results-bench`.
set -euo pipefail
(($# > 0)) || { echo "usage: $0 bench.json..." >&2; exit 2; }
echo "| measure | goal |$(for f in "$@"; do printf ' %s |' "$(basename "$f" .json)"; done)"
echo "|---|---|$(for f in "$@"; do printf -- '---|'; done)"
n=$(jq '.targets | length' "$1")
for ((i = 0; i < n; i++)); do
	name=$(jq -r ".targets[$i].name" "$1")
	goal=$(jq -r ".targets[$i] | (if (.name | test(\"minutes|bytes|peak memory\")) then \"<= \" else \">= \" end) + (.target | tostring)" "$1")
	row="| $name | $goal |"
	for f in "$@"; do
		row+=" $(jq -r ".targets[] | select(.name == \"$name\") | (.value * 100 | round / 100 | tostring) + (if .met then \" (met)\" else \"\" end) + (if .note and (.note | startswith(\"rounds\")) then \", \" + .note else \"\" end)" "$f") |"
	done
	echo "$row"
done
for f in "$@"; do
	echo
	echo "## $(basename "$f")"
	echo
	jq -r '"| training, batch \(.train[0].batch) | threads | samples/s (median) | rounds |\n|---|---|---|---|",
		(.train[] | "| odmn | \(.threads) | \(.samples_per_s | round) | \([.rounds[] | round] | join(", ")) |"),
		(.torch[]? | "| PyTorch \(.torch) | \(.threads) | \(.rows_per_s | round) | \([.rounds[] | round] | join(", ")) |"),
		"",
		"| scoring, batch \(.score[0].batch) | threads | native users/s | ONNX Runtime users/s | native over ORT per round |\n|---|---|---|---|---|",
		(.score[] | "| | \(.threads) | \(.native_users_per_s | round) | \(.ort_users_per_s | round) | \([.native_rounds, .ort_rounds] | transpose | map(.[0] / .[1] * 100 | round / 100 | tostring) | join(", ")) |"),
		"",
		"Peak memory (VmHWM of child processes): training \(.memory.train_mib | map(round | tostring) | join(" and ")) MiB at \(.memory.train_users | map(tostring) | join(" and ")) rows (\(.train_bytes_per_row | round) bytes per added row; the encoded table holds \(.memory.table_bytes_per_row) bytes per row); scoring \(.memory.score_100k_mib | round) MiB for 100,000 users, \(.memory.score_1m_mib | round) MiB for 1,000,000, which odmn score (CSV read, scored and written, every core) went through at \(.memory.score_file_users_per_s // 0 | round) users/s. One epoch over \(.epoch.users) users on \(.epoch.threads) threads: \(.epoch.seconds | round) s; GEMM \(.epoch.gemm_share * 100 | round)% of the workers\u0027 time, \(.epoch.outside_kernels_share * 100 | round)% outside the kernels.",
		(.score_profile // empty | "", "A 1-thread native scoring call (batch \(.batch)) by op of the compiled plan: \([.ops[:8][] | "\(.op) \(.share * 100 | round)%"] | join(", ")); \(.outside_kernels_share * 100 | round)% outside the kernels."),
		""' "$f"
	jq -r '"`\(input_filename | split("/") | last)`: \(.date // ""), \(.machine.cpu), \(.machine.cores) cores, \(.machine.go), \(.machine.blas_config), ONNX Runtime \(.machine.ort), \(.rounds) rounds, \(.seconds | round) s.\n\n- \(.epoch_180m.formula)\n- \(.score_1e9.formula)"' "$f"
done
