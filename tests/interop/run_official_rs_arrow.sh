#!/usr/bin/env bash
# The official Rust core as an Arrow Flight peer of `zerobus serve`: builds bench/official-rs
# (crates.io databricks-zerobus-ingest-sdk 3.1.1 with its arrow-flight feature, every crate
# pinned by its Cargo.lock) with cargo into WORK_DIR, then runs official_rs_arrow_test.py. Fails,
# never skips, when cargo is missing or the build fails.
#
#   run_official_rs_arrow.sh ZEROBUS WORK_DIR
set -euo pipefail
zerobus=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if ! command -v cargo >/dev/null; then
  echo "official-rs arrow: FAILED: cargo is needed to build the official Rust core" >&2
  exit 1
fi
# A debug build: the test sends a few thousand rows, and it compiles in far less time than
# bench/run's release build.
started=$(date +%s)
cargo build --locked --quiet --manifest-path "$root/bench/official-rs/Cargo.toml" \
  --target-dir "$work/official-rs"
echo "official-rs arrow: the core and its driver built in $(($(date +%s) - started)) s"
exec python3 "$here/official_rs_arrow_test.py" "$zerobus" \
  "$work/official-rs/debug/official-rs-bench" "$here/../support"
