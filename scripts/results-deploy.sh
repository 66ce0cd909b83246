#!/usr/bin/env bash
# Measures the deployment figures of docs/deployment.md into
# docs/results/deploy.md (and deploy-serve.json): odmn pipeline score on
# embedded prism against odmn score on the same users, interleaved rounds,
# the two outputs compared row by row with odmn score-diff; then
# odmn serve-bench against a private redis-server on a loopback port.
# Run by `make results-deploy` (after make build pipeline). Environment:
# USERS (default 1000000), ROUNDS (3), DURATION (10s), SERVE_ROUNDS (3 runs
# of serve-bench, each reported, with the median).
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-1000000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
SERVE_ROUNDS=${SERVE_ROUNDS:-3}
odmn=bin/odmn
out=out/results-deploy
mkdir -p "$out" docs/results

if [[ ! -f $out/model.onnx ]]; then
	$odmn gen --users 50000 --seed 3 --out "$out/train50k.parquet"
	$odmn train --data "$out/train50k.parquet" --out "$out/model" --epochs 3 -q
	$odmn export --model "$out/model" --out "$out/model.onnx"
fi
users=$out/users-$USERS.parquet
[[ -f $users ]] || $odmn gen --users "$USERS" --seed 1 --out "$users"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print b / a}'; }
declare -a ts tp
for ((r = 0; r < ROUNDS; r++)); do
	rm -f "$out"/s.parquet "$out"/p-*
	t0=$(now)
	$odmn score --model "$out/model.onnx" --data "$users" --out "$out/s.parquet" -q
	t1=$(now)
	$odmn pipeline score --model "$out/model.onnx" --data "$users" --out "$out/p" >/dev/null
	t2=$(now)
	ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
	tp+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN {print b - a}')")
	echo "round $((r + 1)): score ${ts[r]} s, pipeline ${tp[r]} s" >&2
done
diffout=$($odmn score-diff "$out/s.parquet" "$out/p-*-of-*.parquet" --json)
load=$(cut -d' ' -f1-3 /proc/loadavg)

# A private Redis for serve-bench.
rdir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$rdir" \
	--daemonize yes --pidfile "$rdir/redis.pid" >/dev/null
trap 'kill "$(cat "$rdir/redis.pid")" 2>/dev/null || true; rm -rf "$rdir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
rm -f "$out"/serve-*.json
for ((r = 1; r <= SERVE_ROUNDS; r++)); do
	$odmn serve-bench --cache "redis://127.0.0.1:$port" --model "$out/model.onnx" --data "$users" \
		--users "$USERS" --duration "$DURATION" --json > "$out/serve-$r.json"
	echo "serve-bench run $r: GET p99 $(jq '.get.p99_ns/1e6' "$out/serve-$r.json") ms" >&2
done
jq -s . "$out"/serve-[0-9]*.json > docs/results/deploy-serve.json

{
	echo "Made by \`make results-deploy\` on $(date -u +%Y-%m-%d) ($(nproc) cores, load average before the serve phase: $load)."
	echo
	echo "## odmn pipeline score (embedded prism) against odmn score, $USERS users, $ROUNDS interleaved rounds"
	echo
	echo "| round | odmn score | odmn pipeline score | ratio |"
	echo "|---|---|---|---|"
	for ((r = 0; r < ROUNDS; r++)); do
		printf '| %d | %.1f s | %.1f s | %.2f |\n' $((r + 1)) "${ts[r]}" "${tp[r]}" "$(ratio "${ts[r]}" "${tp[r]}")"
	done
	printf '| median | %.1f s | %.1f s | %.2f |\n' \
		"$(printf '%s\n' "${ts[@]}" | median)" "$(printf '%s\n' "${tp[@]}" | median)" \
		"$(for ((r = 0; r < ROUNDS; r++)); do ratio "${ts[r]}" "${tp[r]}"; done | median)"
	echo
	echo "Same predictions (\`odmn score-diff\`, atol 1e-6): $(jq -r '"ok=\(.ok), rows \(.rows_a) vs \(.rows_b), only in one side \(.only_a)+\(.only_b), largest difference over \(.columns|length) columns \([.columns[].max_abs // 0]|max)"' <<<"$diffout")."
	echo
	echo "## odmn serve-bench, $USERS users in the cache, $DURATION per phase, generator sharing the cores"
	echo
	echo "| run | phase | target rate | achieved | ok | errors | dropped | p50 | p99 | generator lag p99 |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	jq -r 'to_entries[] | .key as $k | [["GET /v1/ltv/{user}", .value.get, 5000], ["POST /v1/score, 1 row", .value.post, 500]][] |
		"| \($k + 1) | \(.[0]) | \(.[2])/s | \(.[1].achieved_rate|floor)/s | \(.[1].ok) | \(.[1].errors) | \(.[1].dropped) | \(.[1].p50_ns/1e6*100|round/100) ms | \(.[1].p99_ns/1e6*100|round/100) ms | \(.[1].lag_p99_ns/1e6*100|round/100) ms |"' docs/results/deploy-serve.json
	echo
	jq -r 'def med: sort | .[(length - 1) / 2 | floor];
		"Median of the \(length) runs: GET p99 \([.[].get.p99_ns] | med / 1e6 * 100 | round / 100) ms (runs \([.[].get.p99_ns] | min / 1e6 * 100 | round / 100)-\([.[].get.p99_ns] | max / 1e6 * 100 | round / 100) ms), POST p99 \([.[].post.p99_ns] | med / 1e6 * 100 | round / 100) ms (runs \([.[].post.p99_ns] | min / 1e6 * 100 | round / 100)-\([.[].post.p99_ns] | max / 1e6 * 100 | round / 100) ms)."' docs/results/deploy-serve.json
} > docs/results/deploy.md.tmp
mv docs/results/deploy.md.tmp docs/results/deploy.md
cat docs/results/deploy.md
