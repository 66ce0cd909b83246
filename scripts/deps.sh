#!/usr/bin/env bash
# deps.sh installs everything odmn needs to build and test. Idempotent and
# fast when all is present: apt-get runs only if a package is missing.
#
#   - Debian packages: protoc, the ONNX proto and C++ headers, Python's onnx
#     (reference checks), the ONNX node test data, OpenBLAS, XGBoost's C
#     library and headers (train/twostage links it through cgo), PyTorch
#     (fixtures/foreign/make_fixtures.py exports the foreign-model fixtures;
#     odmn bench trains the same network with it, beside odmn), Redis
#     (redis-server and redis-cli: the cache and serve tests start their own
#     servers on loopback ports; CI=true makes a missing one a failure).
#   - The ONNX Runtime shared library (scripts/fetch-ort.sh, via npm).
#   - Go modules (go mod download).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(
	protobuf-compiler
	libonnx-dev
	python3-onnx
	libonnx-testdata
	libopenblas-dev
	libxgboost-dev
	python3-torch
	redis-server
	jq
)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
# fetch-ort.sh needs npm; the machine image ships it with Node.js. Only if it
# is absent do we take Debian's.
if ! command -v npm >/dev/null 2>&1; then
	missing+=(npm)
fi

if ((${#missing[@]} > 0)); then
	echo "deps.sh: installing ${missing[*]}" >&2
	SUDO=()
	if [[ "$(id -u)" != 0 ]]; then
		SUDO=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq
	"${SUDO[@]}" apt-get install -y -qq "${missing[@]}"
fi

"$ROOT/scripts/fetch-ort.sh"

go mod download
