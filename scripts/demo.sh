#!/usr/bin/env bash
# The newcomer's first command: installs what is needed, builds, starts the local Zerobus
# server, streams a sample dataset into it through the C API and prints what was acknowledged.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release -DZB_BUILD_TESTS=OFF -DZB_BUILD_BENCH=OFF

log=$(mktemp)
build/src/cli/zerobus serve --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$log"' EXIT

# The server prints its address once it listens.
endpoint=
for _ in $(seq 1 100); do
  endpoint=$(grep -o 'http://[0-9.:]*' "$log" | head -n 1 || true)
  [ -n "$endpoint" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "the local server did not start:"; cat "$log"; exit 1; }
echo "local Zerobus server at $endpoint"

# The local server speaks plaintext, which the SDK speaks only when asked to.
build/examples/ingest_jsonl "$endpoint" main.default.sensor_readings \
  examples/data/sensor_readings.jsonl transport.plaintext=true
