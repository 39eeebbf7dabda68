#!/usr/bin/env bash
# Tests the Java binding against the libzerobus installed in PREFIX: one Maven run compiles it
# (-Xlint:all -Werror) and runs the JUnit tests, which start PREFIX/bin/zerobus serve
# themselves and load PREFIX's libzerobus.so.0 by its SONAME; then the examples run, each
# against a zerobus serve of its own with the rows it stored checked
# (../../examples/run_example.py, with python3), and the bench briefly. Java 22 or newer:
# JAVA_HOME, or the machine's Temurin 25 (java-home.sh). Maven packages come
# from Maven Central.
#
#   bash bindings/java/test.sh PREFIX
set -euo pipefail
prefix=$(cd "${1:?usage: bindings/java/test.sh PREFIX}" && pwd)
cd "$(dirname "$0")"

JAVA_HOME=$(bash java-home.sh)
export JAVA_HOME
for tool in mvn pkg-config python3; do
  command -v "$tool" >/dev/null || { echo "java binding: $tool is not installed" >&2; exit 1; }
done
java=$JAVA_HOME/bin/java

pc_dirs="$prefix/lib/pkgconfig:$prefix/lib64/pkgconfig$(printf ':%s' "$prefix"/lib/*/pkgconfig)"
export PKG_CONFIG_PATH="$pc_dirs${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists zerobus || { echo "pkg-config finds no zerobus under $prefix" >&2; exit 1; }
ZEROBUS_LIBDIR=$(pkg-config --variable=libdir zerobus)
export ZEROBUS_LIBDIR # for the test that loads the library by its path
export LD_LIBRARY_PATH="$ZEROBUS_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ZEROBUS_SERVE_BIN="$prefix/bin/zerobus"
[ -x "$ZEROBUS_SERVE_BIN" ] || { echo "$ZEROBUS_SERVE_BIN: not found" >&2; exit 1; }
# Maven's own libraries use sun.misc.Unsafe, which Java 24+ warns about on every run.
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"

started=$SECONDS
echo "--- java: $("$java" -version 2>&1 | head -1), libzerobus $(pkg-config --modversion zerobus) from $prefix"
echo "--- java: mvn test (compile with -Werror, JUnit against zerobus serve)"
status=0
rm -rf target/surefire-reports # counted below: only this run's
mvn -B -q -Dstyle.color=never test || status=$?
# -q keeps Surefire's summary quiet: count its reports instead.
count() {
  cat target/surefire-reports/TEST-*.xml 2>/dev/null | grep -oE "<testsuite [^>]*" |
    grep -oE " $1=\"[0-9]+\"" | grep -oE '[0-9]+' | awk '{ n += $1 } END { print n + 0 }'
}
tests=$(count tests)
failed=$(($(count failures) + $(count errors)))
echo # Maven 3.8 writes colour resets without a newline, even with -B -q
echo "java: $((tests - failed - $(count skipped))) passed, $failed failed"
[ "$status" -eq 0 ] || exit "$status"
[ "$tests" -gt 0 ] || { echo "java binding: no test ran" >&2; exit 1; }

echo "--- java: examples, each against its own zerobus serve, stored rows checked"
run_example() {
  python3 ../../examples/run_example.py --zerobus "$ZEROBUS_SERVE_BIN" --records 1000 -- \
    "$java" --enable-native-access=ALL-UNNAMED -cp target/classes "$@" {endpoint} 1000
}
run_example examples/IngestJson.java
run_example examples/IngestProto.java
run_example examples/IngestPersistent.java

echo "--- java: bench, 200,000 records of 100 bytes from 4 threads (the full figure: bench/bindings.sh)"
python3 ../../tests/support/zerobus_serve.py "$ZEROBUS_SERVE_BIN" --null-sink \
  --listen 127.0.0.1:0 --table 'bench.default.events (id BIGINT, payload STRING)' -- \
  "$java" --enable-native-access=ALL-UNNAMED -cp target/classes bench/Bench.java \
  {endpoint} 200000 4 2>/dev/null
echo "java: done in $((SECONDS - started)) s"
