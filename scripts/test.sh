#!/usr/bin/env bash
# Installs what is needed, checks the formatting, builds, and runs every test: the whole suite
# in a release build (the packaging and ABI checks, ctest -L abi, among them: they install the
# build into a scratch prefix and test the installed tree), again under AddressSanitizer +
# UndefinedBehaviorSanitizer, the fuzz targets for 30 s each, and the concurrency tests under
# ThreadSanitizer; each language binding's own tests run against the release build installed
# into build/prefix. .ci/run calls this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

# The four builds and the bindings' targets take about 6 GiB. A disk that fills up part way
# stops a build with nothing but a compiler's or ninja's error, so say so first.
free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
echo "=== disk: $((free_kib / 1048576)) GiB free in $root"
if [ "$free_kib" -lt $((8 * 1048576)) ]; then
  echo "warning: the builds need about 6 GiB; with less, they stop on a full disk" >&2
fi

scripts/install-deps.sh

echo "=== clang-format: every C and C++ file as .clang-format wants it"
git ls-files '*.c' '*.cc' '*.h' '*.hpp' | xargs clang-format --dry-run --Werror

# Each build names every option it depends on: a tree configured before by someone else (the
# demo's build/ has no tests) keeps its cache, and ctest would then find nothing to run.
all_parts=(-DZB_BUILD_TESTS=ON -DZB_BUILD_FUZZ=OFF -DZB_WERROR=ON)

echo "=== clang -Wthread-safety -Werror: the library, the server and the command"
# Every member marked ABSL_GUARDED_BY is touched with its mutex held (src/sync/mutex.h). The
# analysis needs only compiling, so no tests and no optimizer: it fails fast and costs little.
CC=clang CXX=clang++ cmake -G Ninja -S . -B build-threads -DCMAKE_BUILD_TYPE=Debug \
  -DZB_THREAD_SAFETY_ANALYSIS=ON -DZB_WERROR=ON -DZB_BUILD_TESTS=OFF -DZB_BUILD_FUZZ=OFF \
  -DZB_BUILD_BENCH=OFF -DZB_SANITIZE= >build-threads.configure.log
ninja -C build-threads zerobus zerobus_static zerobus_server zerobus_cli

echo "=== release build: every test"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${all_parts[@]}" -DZB_BUILD_BENCH=ON \
  -DZB_SANITIZE=
(cd build && ctest --output-on-failure --no-tests=error -j "$jobs")

echo "=== language bindings: each bindings/*/test.sh against the release build, installed"
cmake --install build --prefix "$root/build/prefix" >/dev/null
for binding_test in bindings/*/test.sh; do
  [ -e "$binding_test" ] || continue # no binding yet: the glob matched nothing
  echo "=== $binding_test"
  bash "$binding_test" "$root/build/prefix"
done

echo "=== AddressSanitizer + UndefinedBehaviorSanitizer: every test"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DZB_SANITIZE=address,undefined \
  "${all_parts[@]}" -DZB_BUILD_BENCH=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure --no-tests=error -j "$jobs")

echo "=== libFuzzer: each fuzz target for 30 s (clang, AddressSanitizer + UndefinedBehaviorSanitizer)"
CC=clang CXX=clang++ cmake -G Ninja -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DZB_SANITIZE=address,undefined -DZB_BUILD_TESTS=ON -DZB_BUILD_FUZZ=ON -DZB_BUILD_BENCH=OFF \
  -DZB_WERROR=ON \
  >build-fuzz.configure.log
ninja -C build-fuzz fuzzers # only the fuzz targets and the schema library they test
(cd build-fuzz && ctest --output-on-failure --no-tests=error -j "$jobs" -L fuzz)

echo "=== ThreadSanitizer: the concurrency tests"
scripts/build.sh build-tsan -DCMAKE_BUILD_TYPE=Debug -DZB_SANITIZE=thread "${all_parts[@]}" \
  -DZB_BUILD_BENCH=OFF
# gRPC comes uninstrumented from Debian: tests/tsan.supp says what that costs and why.
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 \
ignore_noninstrumented_modules=1 suppressions=$root/tests/tsan.supp" \
  ctest --output-on-failure --no-tests=error -j "$jobs" -L concurrency)
