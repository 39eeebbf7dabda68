#!/usr/bin/env bash
# Tests the Go binding against the libzerobus installed in PREFIX: builds it through
# pkg-config, runs go vet, staticcheck and gofmt, then the tests under the race detector and
# cgo's full pointer checks (cgocheck2), against PREFIX/bin/zerobus, runs the examples against a
# zerobus serve of their own and checks the rows they stored (../../examples/run_example.py,
# with python3), and runs the bench (a few seconds). Go modules (staticcheck among them) come from the module
# proxy.
#
#   bash bindings/go/test.sh PREFIX
set -euo pipefail
prefix=$(cd "${1:?usage: bindings/go/test.sh PREFIX}" && pwd)
cd "$(dirname "$0")"

command -v go >/dev/null || { echo "go: not found; the binding needs a Go toolchain" >&2; exit 1; }
command -v pkg-config >/dev/null || { echo "pkg-config: not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3: not found; the examples' check needs it" >&2; exit 1; }

# The library directory is lib, or lib/<multiarch> on some installs.
pc_dirs="$prefix/lib/pkgconfig:$prefix/lib64/pkgconfig$(printf ':%s' "$prefix"/lib/*/pkgconfig)"
export PKG_CONFIG_PATH="$pc_dirs${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists zerobus || { echo "pkg-config finds no zerobus under $prefix" >&2; exit 1; }
libdir=$(pkg-config --variable=libdir zerobus)
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ZEROBUS_SERVE_BIN="$prefix/bin/zerobus"
[ -x "$ZEROBUS_SERVE_BIN" ] || { echo "$ZEROBUS_SERVE_BIN: not found" >&2; exit 1; }
export CGO_ENABLED=1

echo "--- go $(go env GOVERSION), libzerobus $(pkg-config --modversion zerobus) from $prefix"
go mod download

echo "--- go vet"
go vet ./...

echo "--- staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "--- gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

log=$(mktemp)
examples=$(mktemp -d)
trap 'rm -rf "$log" "$examples"' EXIT

# Runs the tests verbosely into $log, prints the log when they fail and a count either way.
run_tests() {
  local status=0
  "$@" -count=1 -timeout 300s -v ./... >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$log"
  else
    grep -E '^(ok|FAIL|\?) ' "$log"
  fi
  echo "go: $(grep -c -- '--- PASS' "$log") passed, $(grep -c -- '--- FAIL' "$log") failed"
  return "$status"
}

# cgocheck2 checks every pointer store for a Go pointer put into C memory; one build of the
# standard library serves both it and the race detector.
echo "--- go test -race, with GOEXPERIMENT=cgocheck2"
GOEXPERIMENT=cgocheck2 run_tests go test -race

echo "--- go build: examples and bench"
go build -buildvcs=false -o "$examples/" ./examples/...
go build -buildvcs=false -o /dev/null ./cmd/...

echo "--- examples, each against its own zerobus serve, stored rows checked"
run_example=../../examples/run_example.py
python3 "$run_example" --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  "$examples/ingest-json" -table main.default.events -records 1000
python3 "$run_example" --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  "$examples/ingest-proto" -records 1000
python3 "$run_example" --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  "$examples/ingest-arrow" -records 1000 -batch 64
python3 "$run_example" --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  "$examples/ingest-persistent" -records 1000

echo "--- bench: 1,000,000 records of 100 bytes, one Ingest call each, null-sink server"
go run -buildvcs=false ./cmd/zerobus-go-bench -zerobus "$ZEROBUS_SERVE_BIN"
