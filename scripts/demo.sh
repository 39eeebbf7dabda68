#!/usr/bin/env bash
# The newcomer's first command: installs what is needed, builds, and streams a sample dataset
# into a table with `zerobus ingest`, which runs a local Zerobus server of its own (no
# workspace needed), then reads a few of the stored rows back with `zerobus rows`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh
# Every option named: build/ may have been configured before, by scripts/test.sh say.
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release -DZB_BUILD_TESTS=OFF -DZB_BUILD_BENCH=OFF \
  -DZB_BUILD_FUZZ=OFF -DZB_SANITIZE= -DZB_WERROR=OFF

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
table=main.default.sensor_readings
# Declaring the table makes the server check every record against its columns, as the
# service does.
build/src/cli/zerobus ingest --data-dir "$data" \
  --table-ddl "$table (id BIGINT, device STRING, temp DOUBLE, ts TIMESTAMP)" \
  examples/data/sensor_readings.jsonl
build/src/cli/zerobus rows "$table" --data-dir "$data" --limit 3
