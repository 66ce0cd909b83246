#!/usr/bin/env bash
# fetch-ort.sh puts the ONNX Runtime shared library at .cache/ort/libonnxruntime.so.1.
#
# The library comes from the npm package onnxruntime-node, which ships
# prebuilt libonnxruntime.so.1 files for linux x64 and arm64. We only
# download the package tarball (`npm pack`): nothing is installed and no
# install scripts run. Idempotent: when the library is already present and
# non-empty the script returns at once.
#
# Override the version with ORT_NPM_VERSION (then also check that
# github.com/yalue/onnxruntime_go's required C API version is still provided).
set -euo pipefail

ORT_NPM_VERSION="${ORT_NPM_VERSION:-1.24.3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST_DIR="$ROOT/.cache/ort"
DEST="$DEST_DIR/libonnxruntime.so.1"

if [[ -s "$DEST" ]]; then
	exit 0
fi

case "$(uname -m)" in
x86_64 | amd64) ARCH=x64 ;;
aarch64 | arm64) ARCH=arm64 ;;
*)
	echo "fetch-ort.sh: no prebuilt ONNX Runtime for $(uname -m) in onnxruntime-node" >&2
	exit 1
	;;
esac
if [[ "$(uname -s)" != Linux ]]; then
	echo "fetch-ort.sh: only Linux is supported (got $(uname -s))" >&2
	exit 1
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "fetch-ort.sh: npm not found; install it (apt-get install npm) or run 'make deps'" >&2
	exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetch-ort.sh: downloading onnxruntime-node@$ORT_NPM_VERSION" >&2
(cd "$TMP" && npm pack --silent --ignore-scripts "onnxruntime-node@$ORT_NPM_VERSION" >/dev/null)
TGZ="$TMP/onnxruntime-node-$ORT_NPM_VERSION.tgz"
if [[ ! -s "$TGZ" ]]; then
	echo "fetch-ort.sh: npm pack did not produce $TGZ" >&2
	exit 1
fi

MEMBER="package/bin/napi-v6/linux/$ARCH/libonnxruntime.so.1"
if ! tar xzf "$TGZ" -C "$TMP" "$MEMBER"; then
	echo "fetch-ort.sh: $MEMBER not found in onnxruntime-node@$ORT_NPM_VERSION (layout changed?)" >&2
	exit 1
fi
if [[ ! -s "$TMP/$MEMBER" ]]; then
	echo "fetch-ort.sh: extracted $MEMBER is empty" >&2
	exit 1
fi

mkdir -p "$DEST_DIR"
# Move into place atomically so a concurrent reader never sees a partial file.
cp "$TMP/$MEMBER" "$DEST.tmp.$$"
chmod 0644 "$DEST.tmp.$$"
mv -f "$DEST.tmp.$$" "$DEST"
echo "fetch-ort.sh: wrote $DEST ($(stat -c %s "$DEST") bytes)" >&2
