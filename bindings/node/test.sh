#!/usr/bin/env bash
# Builds the Node binding against an installed libzerobus and runs its checks and tests:
#   bash bindings/node/test.sh PREFIX
# PREFIX holds lib/pkgconfig/zerobus.pc and bin/zerobus (the server every test runs against).
# Needs node (>= 20) with its headers installed beside it (include/node), npm, pkg-config, a
# C++ compiler and python3 (../../examples/run_example.py checks the rows the examples store); the npm packages come from the registry (npm ci). Exits non-zero on any
# failure.
set -euo pipefail

prefix=${1:?usage: test.sh PREFIX}
prefix=$(cd "$prefix" && pwd)
cd "$(dirname "$0")"

fail() {
  echo "bindings/node/test.sh: $*" >&2
  exit 1
}

command -v node >/dev/null || fail "node is not installed"
command -v npm >/dev/null || fail "npm is not installed"
command -v pkg-config >/dev/null || fail "pkg-config is not installed"
command -v python3 >/dev/null || fail "python3 is not installed"
export ZEROBUS_SERVE_BIN="$prefix/bin/zerobus"
[ -x "$ZEROBUS_SERVE_BIN" ] || fail "no server binary at $ZEROBUS_SERVE_BIN"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists zerobus || fail "pkg-config finds no zerobus.pc under $prefix/lib/pkgconfig"
# The headers of the running node, never downloaded: node-gyp reads them from here.
nodedir=$(node -p 'require("node:path").resolve(process.execPath, "..", "..")')
[ -f "$nodedir/include/node/node_api.h" ] ||
  fail "no Node headers at $nodedir/include/node (Debian: apt-get install libnode-dev)"

echo "=== npm ci"
npm ci --ignore-scripts --no-audit --no-fund

echo "=== build the addon (node-gyp, headers from $nodedir, libzerobus from $prefix, -Werror)"
# Warnings are errors here, not in a user's npm install (binding.gyp reads the variable).
ZEROBUS_NODE_WERROR=1 npx --no-install node-gyp rebuild --nodedir="$nodedir" -j 2

echo "=== prettier --check"
npx --no-install prettier --check index.js index.d.ts lib test example bench README.md

echo "=== tsc --noEmit: index.d.ts and a typed usage file"
npx --no-install tsc -p tsconfig.json

echo "=== tsc --noEmit --checkJs: the JavaScript of the package, tests, example and bench"
npx --no-install tsc -p tsconfig.js.json

echo "=== node --test (the example runs in test/example.test.js)"
node --test test/*.test.js

echo "=== examples, each against its own zerobus serve, stored rows checked"
python3 ../../examples/run_example.py --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  node example/ingest.js {endpoint} main.default.events 1000
python3 ../../examples/run_example.py --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  node example/ingest-proto.js {endpoint} 1000
python3 ../../examples/run_example.py --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  node example/ingest-arrow.js {endpoint} main.default.events 1000 64
python3 ../../examples/run_example.py --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
  node example/persistent.js {endpoint} main.default.events 1000

echo "=== bench: 100,000 records (the full figure: node bench/bench.js)"
node bench/bench.js 100000
