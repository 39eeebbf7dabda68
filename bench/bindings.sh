#!/usr/bin/env bash
# Records/s of the C API and of each language binding, for the same work: 1,000,000 protobuf
# records of 100 bytes, one ingest call per record from one thread, into `zerobus serve
# --null-sink` with the table declared (so the server checks every record, as in each binding's
# bench), each run ending when every record is acknowledged. Each client gets a fresh server
# process of the same binary; the table gives every binding's rate next to the C API's. The row
# rust-async is the Rust binding's async ingest from four tokio tasks into one stream, beside
# rust-official, the official Rust core (bench/official-rs, built into BUILD/official-rs where
# PREFIX is BUILD/prefix) from four tokio tasks into one stream with bench/run's 1,000 requests
# in flight (issue 27's target: rust-async at 5x its rate), and the rows java and java-official are the Java binding's and the official Java SDK's, each from
# four threads into one stream (issue 25's targets: 70% of the C API's, 3x the official's).
# Last, the rust-async ack latency at 1,000 records/s beside the C API's (issue 27's other target).
#
#   bench/bindings.sh PREFIX [RECORDS]
#
# PREFIX is the installed library and `zerobus` (as scripts/test.sh installs it into
# build/prefix); the C API's figure is `zerobus bench`'s. The bindings are built as their
# test.sh builds them.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PREFIX [RECORDS]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(cd "$1" && pwd)
records=${2:-1000000}
zerobus=$prefix/bin/zerobus

# What the Java, Node and Python rows run is what those bindings' test.sh builds; say so before
# the other rows take their minutes.
missing=()
[ -d "$root/bindings/java/target/classes" ] || missing+=("java: bash bindings/java/test.sh $1")
[ -f "$root/bindings/node/build/Release/zerobus.node" ] ||
  missing+=("node: bash bindings/node/test.sh $1")
[ -x "$(dirname "$prefix")/python-venv/bin/python" ] ||
  missing+=("python: bash bindings/python/test.sh $1")
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/bindings.sh: these bindings are not built yet; build each with its test.sh:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
export ZEROBUS_SERVE_BIN=$zerobus
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export LD_LIBRARY_PATH=$prefix/lib

# The rate a command prints last as "records/s: N" (the bindings; the Go bench prints the C
# API's first) or as `zerobus bench` does.
rate_of() { grep -oE '[0-9]+ records/s|records/s: [0-9]+' | grep -oE '[0-9]+' | tail -1; }

c_api() {
  # Declared, as the bindings' benches declare theirs: the server then checks every record.
  python3 "$root/tests/support/zerobus_serve.py" "$zerobus" --null-sink --listen 127.0.0.1:0 \
    --table 'bench.default.events (id BIGINT, payload STRING)' -- \
    "$zerobus" bench --endpoint {endpoint} --records "$records" --size 100
}

declare -A rates
rates[c]=$(c_api | rate_of)
rates[go]=$(cd "$root/bindings/go" && go run ./cmd/zerobus-go-bench -records "$records" | rate_of)
rates[rust]=$(cd "$root/bindings/rust" &&
  cargo run -q --release --example bench -- "$records" 100 | rate_of)
rates[rust-async]=$(cd "$root/bindings/rust" &&
  cargo run -q --release --features tokio --example bench_async -- throughput "$records" 100 4 |
  rate_of)
# The official Rust core, driven natively as bench/run drives it; it counts its own time.
official_rs=$(dirname "$prefix")/official-rs
cargo build -q --release --locked --manifest-path "$root/bench/official-rs/Cargo.toml" \
  --target-dir "$official_rs"
rates[rust-official]=$(python3 "$root/tests/support/zerobus_serve.py" "$zerobus" --null-sink \
  --listen 127.0.0.1:0 --table 'bench.default.events (id BIGINT, payload STRING)' -- \
  "$official_rs/release/official-rs-bench" --endpoint {endpoint} --mode throughput \
  --records "$records" --size 100 --tasks 4 --max-inflight 1000 |
  python3 -c 'import json, sys; f = json.load(sys.stdin); print(round(f["records"] / f["seconds"]))')
# The Java rows: the binding (its classes as bindings/java/test.sh builds them) and the official
# Java SDK (bindings/java/bench/official: its Maven Central jar, on the class path Maven gives),
# each from four threads into one stream.
java_row() {
  (cd "$root/bindings/java" && JAVA_HOME=$(bash java-home.sh) &&
    python3 "$root/tests/support/zerobus_serve.py" "$zerobus" --null-sink --listen 127.0.0.1:0 \
      --table 'bench.default.events (id BIGINT, payload STRING)' -- \
      "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED "$@" {endpoint} "$records" 4 \
      2>/dev/null | rate_of)
}
rates[java]=$(java_row -cp target/classes bench/Bench.java)
official_classpath=$root/bindings/java/target/official-classpath.txt
(cd "$root/bindings/java" && JAVA_HOME=$(bash java-home.sh) \
  MAVEN_OPTS=--sun-misc-unsafe-memory-access=allow mvn -B -q -Dstyle.color=never \
  -f bench/official/pom.xml dependency:build-classpath -Dmdep.outputFile="$official_classpath" \
  >/dev/null)
rates[java-official]=$(java_row -cp "$(cat "$official_classpath")" bench/official/OfficialBench.java)
rates[node]=$(cd "$root/bindings/node" && node bench/bench.js "$records" | rate_of)
# The venv and the installed binding are bindings/python/test.sh's; its first line is the rate
# of one call per record.
rates[python]=$("$(dirname "$prefix")/python-venv/bin/python" "$root/bindings/python/bench.py" \
  "$zerobus" "$records" --declared | awk 'NR == 1' | rate_of)

printf '%-13s %14s %10s\n' client records/s "x C API"
for client in c go rust rust-async rust-official java java-official node python; do
  awk -v name="$client" -v rate="${rates[$client]}" -v c="${rates[c]}" \
    'BEGIN { printf "%-13s %14d %10.2f\n", name, rate, rate / c }'
done
# Issue 27's target: at least 5.
awk -v async="${rates[rust-async]}" -v official="${rates[rust-official]}" \
  'BEGIN { printf "rust-async / rust-official: %.2fx\n", async / official }'

# Issue 27's latency target: the ack latency at 1,000 records/s through wait_for_offset_async()
# at most 1.2x the C API's (zerobus bench --rate, to its ack callback); beside it, the ratio to
# a C caller that waits for its own offset on the thread that ingested (zerobus bench --rate
# --wait), the C form of the same await. Five alternating one-second rounds of each, each
# against a null-sink server of its own, as bindings/python/bench.py times asyncio: a slow
# moment then lands on all sides. Each side's p50 is the median of its rounds'. The server runs
# on a CPU of its own and the client on the others, as bench/run times its paced runs
# (tests/support/zerobus_serve.py, split_cpus(), says why).
p50_of() { grep -oE 'p50[^0-9]*[0-9]+' | grep -oE '[0-9]+$'; }
rust_p50s=() c_p50s=() c_wait_p50s=()
paced() {
  python3 "$root/tests/support/zerobus_serve.py" --own-cpu "$zerobus" --null-sink \
    --listen 127.0.0.1:0 -- "$@" 2>/dev/null | p50_of
}
(cd "$root/bindings/rust" && cargo build -q --release --features tokio --example bench_async)
for _ in 1 2 3 4 5; do
  rust_p50s+=("$(paced "$root/bindings/rust/target/release/examples/bench_async" latency 1000 1 \
    100 multi {endpoint})")
  c_p50s+=("$(paced "$zerobus" bench --endpoint {endpoint} --rate 1000 --seconds 1)")
  c_wait_p50s+=("$(paced "$zerobus" bench --endpoint {endpoint} --rate 1000 --seconds 1 --wait)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
awk -v rust="$(median "${rust_p50s[@]}")" -v c="$(median "${c_p50s[@]}")" \
  -v c_wait="$(median "${c_wait_p50s[@]}")" -v rounds="${rust_p50s[*]} / ${c_p50s[*]}" \
  'BEGIN { printf "rust-async ack latency at 1,000 records/s: p50 %d us against the C API'"'"'s %d us: %.2fx (target 1.2x; rounds %s); C wait_for_offset p50 %d us: %.2fx\n", rust, c, rust / c, rounds, c_wait, rust / c_wait }'
