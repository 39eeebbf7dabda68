#!/usr/bin/env bash
# Builds and tests the Rust binding against the libzerobus installed in PREFIX:
#
#   bash bindings/rust/test.sh PREFIX
#
# The crates find the library through pkg-config (PREFIX/lib/pkgconfig) and load it from
# PREFIX/lib; the tests run PREFIX/bin/zerobus serve (ZEROBUS_SERVE_BIN). Runs rustfmt, clippy
# with warnings as errors, rustdoc with warnings as errors, every test, the examples (each
# against a zerobus serve of its own, stored rows checked by ../../examples/run_example.py, with
# python3), and the blocking bench; all with every feature (tokio's async opens) on. The async
# bench (examples/bench_async.rs) runs in bench/bindings.sh only: its release build of tokio
# would cost CI half a minute more.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
prefix=$(cd "$1" && pwd)
cd "$(dirname "$0")"

for tool in cargo rustfmt cargo-clippy pkg-config cc python3; do
  command -v "$tool" >/dev/null || { echo "rust binding: $tool is not installed" >&2; exit 1; }
done
export ZEROBUS_SERVE_BIN="$prefix/bin/zerobus"
if [ ! -x "$ZEROBUS_SERVE_BIN" ]; then
  echo "rust binding: no zerobus binary at $ZEROBUS_SERVE_BIN" >&2
  exit 1
fi
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "--- rust: crates from Cargo.lock"
cargo fetch --locked
echo "--- rust: cargo fmt --check"
cargo fmt --all --check
echo "--- rust: cargo clippy -D warnings"
cargo clippy --locked --all-targets --all-features -- -D warnings
echo "--- rust: cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --all-features --quiet
echo "--- rust: cargo test"
test_log=$(mktemp)
trap 'rm -f "$test_log"' EXIT
# The tests bound their own waits; the timeout only stops a hung run.
timeout 600 cargo test --locked --all-features 2>&1 | tee "$test_log"
awk '/^test result:/ { passed += $4; failed += $6 }
     END { printf "rust: %d passed, %d failed\n", passed, failed }' "$test_log"
echo "--- rust: examples, each against its own zerobus serve, stored rows checked"
cargo build --locked --all-features --examples
run_example() {
  python3 ../../examples/run_example.py --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- "$@"
}
run_example target/debug/examples/ingest_json {endpoint} main.default.events 1000
run_example target/debug/examples/ingest_proto {endpoint} 1000
run_example target/debug/examples/ingest_async {endpoint} main.default.events 1000
run_example target/debug/examples/ingest_arrow {endpoint} main.default.events 1000 64
echo "--- rust: bench, 1,000,000 records of 100 bytes into zerobus serve --null-sink"
cargo build --locked --release --example bench
target/release/examples/bench 1000000 100
