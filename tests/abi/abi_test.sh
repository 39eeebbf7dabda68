#!/usr/bin/env bash
# The packaging and ABI checks, each against the tree that `cmake --install` produced:
#   abi_test.sh CHECK
# where CHECK names one of the run_CHECK functions below. tests/abi/CMakeLists.txt runs each as
# the ctest test abi.CHECK and sets the environment:
#   ZB_SOURCE_DIR ZB_BINARY_DIR  the source and build trees
#   ZB_PREFIX                    where abi.install installs the build tree
#   ZB_LIBDIR ZB_INCLUDEDIR ZB_BINDIR  the install directories, relative to ZB_PREFIX
#   ZB_WORK                      scratch space; each check uses ZB_WORK/CHECK
#   ZB_VERSION ZB_SOVERSION      the project's version and the SONAME's major
#   ZB_BUILD_TYPE ZB_CMAKE_GENERATOR CC CXX  how the build tree was configured
set -euo pipefail

src=$ZB_SOURCE_DIR
libdir=$ZB_PREFIX/$ZB_LIBDIR
includedir=$ZB_PREFIX/$ZB_INCLUDEDIR
soname=libzerobus.so.$ZB_SOVERSION
library=$libdir/$soname
# What a careful consumer compiles with; the header must not trip any of it.
strict=(-Wall -Wextra -Werror -pedantic)

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# The local server from the installed tree, on a free loopback port; sets $endpoint and stops
# the server when the check exits.
start_server() {
  local log=$work/serve.log
  "$ZB_PREFIX/$ZB_BINDIR/zerobus" serve --listen 127.0.0.1:0 >"$log" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
  endpoint=
  for _ in $(seq 1 100); do
    endpoint=$(grep -o 'http://[0-9.:]*' "$log" | head -n 1 || true)
    [ -n "$endpoint" ] && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log" >&2
  fail "the installed zerobus serve did not start"
}

# A program linked against the shared library must load the installed copy.
expect_linked_to_installed() {
  local program=$1 resolved
  resolved=$(ldd "$program" | awk -v name="$soname" '$1 == name { print $3 }')
  [ -n "$resolved" ] || fail "$program does not link $soname"
  [ "$(realpath "$resolved")" = "$(realpath "$library")" ] ||
    fail "$program loads $resolved, not the installed $library"
}

expect_not_linked() {
  local program=$1
  if readelf -d "$program" | grep -q 'NEEDED.*libzerobus'; then
    fail "$program needs a shared libzerobus, yet it should carry the library or dlopen it"
  fi
}

# Installs the build tree into a fresh prefix; every other check depends on it.
run_install() {
  rm -rf "$ZB_PREFIX"
  cmake --install "$ZB_BINARY_DIR" --prefix "$ZB_PREFIX"
}

# Exactly these files are installed, and the library's links point where they should.
run_installed_files() {
  local config=${ZB_BUILD_TYPE,,}
  local cmakedir=$ZB_LIBDIR/cmake/zerobus
  sort >"$work/expected" <<EOF
$ZB_BINDIR/zerobus
$ZB_INCLUDEDIR/zerobus/arrow_c_data.h
$ZB_INCLUDEDIR/zerobus/zerobus.h
$ZB_INCLUDEDIR/zerobus/zerobus.hpp
$ZB_LIBDIR/libzerobus.a
$ZB_LIBDIR/libzerobus.so
$ZB_LIBDIR/libzerobus.so.$ZB_SOVERSION
$ZB_LIBDIR/libzerobus.so.$ZB_VERSION
$ZB_LIBDIR/pkgconfig/zerobus-static.pc
$ZB_LIBDIR/pkgconfig/zerobus.pc
$cmakedir/zerobusConfig.cmake
$cmakedir/zerobusConfigVersion.cmake
$cmakedir/zerobusStaticTargets-$config.cmake
$cmakedir/zerobusStaticTargets.cmake
$cmakedir/zerobusTargets-$config.cmake
$cmakedir/zerobusTargets.cmake
EOF
  (cd "$ZB_PREFIX" && find . -type f -o -type l) | sed 's|^\./||' | sort >"$work/installed"
  cat "$work/installed"
  diff -u "$work/expected" "$work/installed" ||
    fail "the installed files differ from the list in ${BASH_SOURCE[0]} (+ installed, - expected)"
  [ "$(readlink "$libdir/libzerobus.so")" = "$soname" ] || fail "libzerobus.so does not link to $soname"
  [ "$(readlink "$libdir/$soname")" = "libzerobus.so.$ZB_VERSION" ] ||
    fail "$soname does not link to libzerobus.so.$ZB_VERSION"
}

# The library exports exactly abi/symbols.txt, each at its version node, and nothing else; the
# header declares exactly those functions, each with ZB_API. Also the SONAME and the link flags
# that the design asks for.
run_symbols() {
  local dynamic
  dynamic=$(readelf -d "$library")
  grep -q "Library soname: \[$soname\]" <<<"$dynamic" || fail "the SONAME is not $soname"
  grep -q 'Flags:.*NODELETE' <<<"$dynamic" || fail "the library is not linked with -z nodelete"
  if grep -qE 'RPATH|RUNPATH' <<<"$dynamic"; then fail "the installed library carries an rpath"; fi

  grep -v '^#' "$src/abi/symbols.txt" | sed '/^$/d' | sort >"$work/listed"
  # nm prints "name@@NODE T address size" for a versioned function and "NODE A 0" for each
  # version node.
  nm -D --defined-only --format=posix "$library" | awk -v unexpected="$work/unexpected" '
    $2 == "A" && $1 ~ /^ZB_[0-9]+\.[0-9]+$/ { next }
    $1 ~ /^zb_[a-z0-9_]+@@ZB_[0-9]+\.[0-9]+$/ { split($1, part, "@@"); print part[1], part[2]; next }
    { print $1 > unexpected }' | sort >"$work/exported"
  if [ -s "$work/unexpected" ]; then
    cat "$work/unexpected" >&2
    fail "the library exports the symbols above, which are not zb_* functions at a version node"
  fi
  diff -u "$work/listed" "$work/exported" ||
    fail "the exports differ from abi/symbols.txt (- listed, not exported; + exported, not listed)"

  local header=$includedir/zerobus/zerobus.h
  # clang-format puts a declaration's return type and name on its first line, at column 0.
  grep -E '^[A-Za-z_].*\<zb_[a-z0-9_]+\(' "$header" | grep -vE '^(ZB_API |typedef |#)' \
    >"$work/unmarked" || true
  if [ -s "$work/unmarked" ]; then
    cat "$work/unmarked" >&2
    fail "the declarations above lack ZB_API"
  fi
  grep -E '^ZB_API ' "$header" | grep -oE '\<zb_[a-z0-9_]+\(' | tr -d '(' | sort >"$work/declared"
  cut -d' ' -f1 "$work/listed" | diff -u - "$work/declared" ||
    fail "zerobus.h declares other functions than abi/symbols.txt lists (- listed, + declared)"
  echo "$(wc -l <"$work/exported") symbols exported, as abi/symbols.txt lists and zerobus.h declares"
}

abidiff_options=(--drop-private-types --exported-interfaces-only)

# No incompatible change against the baseline abi/libzerobus.abi. Added functions are allowed
# (abi.symbols governs the list), and so are fields appended to a growable struct
# (abi/libzerobus.abignore).
run_abidiff() {
  type -P abidiff >/dev/null ||
    fail "abidiff not found: scripts/install-deps.sh installs it (Debian's abigail-tools)"
  local status=0
  abidiff "${abidiff_options[@]}" --no-added-syms --fail-no-debug-info \
    --suppressions "$src/abi/libzerobus.abignore" --headers-dir2 "$includedir/zerobus" \
    "$src/abi/libzerobus.abi" "$library" || status=$?
  [ "$status" -eq 0 ] || fail "abidiff exit status $status: the ABI changed incompatibly against" \
    "abi/libzerobus.abi (or, with status 1, the library lacks debug info). If the change is" \
    "deliberate, README.md (Packaging and ABI) says what to do."
  echo "no incompatible change against abi/libzerobus.abi"
}

# Writes abi/libzerobus.abi from the build tree's library: only when a release fixes the ABI
# (`ninja abi-baseline`; README.md, Packaging and ABI).
run_baseline() {
  abidw "${abidiff_options[@]}" --headers-dir "$src/include/zerobus" --no-corpus-path \
    --no-comp-dir-path --short-locs --no-elf-needed --out-file "$src/abi/libzerobus.abi" \
    "$ZB_BINARY_DIR/src/c_api/$soname"
  echo "wrote $src/abi/libzerobus.abi"
}

run_header_c99() {
  "$CC" -std=c99 "${strict[@]}" -Wstrict-prototypes -I"$includedir" -c \
    "$src/tests/abi/header_check.c" -o "$work/header_check.o"
}

run_header_c11() {
  "$CC" -std=c11 "${strict[@]}" -Wstrict-prototypes -I"$includedir" -c \
    "$src/tests/abi/header_check.c" -o "$work/header_check.o"
}

run_header_cxx17() {
  "$CXX" -x c++ -std=c++17 "${strict[@]}" -I"$includedir" -c "$src/tests/abi/header_check.c" \
    -o "$work/header_check.o"
}

run_header_hpp() {
  "$CXX" -std=c++17 "${strict[@]}" -Wshadow -I"$includedir" -c "$src/tests/abi/hpp_check.cc" \
    -o "$work/hpp_check.o"
}

use_installed_pkgconfig() {
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  local module=$1
  [ "$(realpath "$(pkg-config --variable=pcfiledir "$module")")" = "$(realpath "$libdir/pkgconfig")" ] ||
    fail "pkg-config finds another $module.pc than the installed one"
  [ "$(pkg-config --modversion "$module")" = "$ZB_VERSION" ] ||
    fail "$module.pc says version $(pkg-config --modversion "$module"), not $ZB_VERSION"
}

# A C program built with `pkg-config --cflags --libs zerobus` ingests into the local server.
run_pkgconfig() {
  use_installed_pkgconfig zerobus
  # shellcheck disable=SC2046 # pkg-config's output is a list of words
  "$CC" -std=c99 "${strict[@]}" "$src/tests/abi/consumer.c" $(pkg-config --cflags --libs zerobus) \
    -Wl,-rpath,"$(pkg-config --variable=libdir zerobus)" -o "$work/consumer"
  expect_linked_to_installed "$work/consumer"
  start_server
  "$work/consumer" "$endpoint"
}

# The same program built against the build tree, as the bindings are from a checkout: with
# build/pkgconfig on the path, pkg-config takes zerobus-uninstalled.pc over zerobus.pc.
run_pkgconfig_uninstalled() {
  export PKG_CONFIG_PATH=$ZB_BINARY_DIR/pkgconfig
  local built=$ZB_BINARY_DIR/src/c_api/$soname resolved
  [ "$(pkg-config --modversion zerobus)" = "$ZB_VERSION" ] ||
    fail "zerobus-uninstalled.pc says version $(pkg-config --modversion zerobus)"
  # shellcheck disable=SC2046 # pkg-config's output is a list of words
  "$CC" -std=c99 "${strict[@]}" "$src/tests/abi/consumer.c" $(pkg-config --cflags --libs zerobus) \
    -o "$work/consumer"
  resolved=$(ldd "$work/consumer" | awk -v name="$soname" '$1 == name { print $3 }')
  [ "$(realpath "$resolved")" = "$(realpath "$built")" ] ||
    fail "the program loads ${resolved:-no libzerobus}, not the build tree's $built"
  start_server
  "$work/consumer" "$endpoint"
}

# The same program built with `pkg-config --cflags --libs zerobus-static` carries the library.
run_pkgconfig_static() {
  use_installed_pkgconfig zerobus-static
  # shellcheck disable=SC2046 # pkg-config's output is a list of words
  "$CC" -std=c99 "${strict[@]}" "$src/tests/abi/consumer.c" \
    $(pkg-config --cflags --libs zerobus-static) -o "$work/consumer"
  expect_not_linked "$work/consumer"
  start_server
  "$work/consumer" "$endpoint"
}

# A CMake project with find_package(zerobus 0.1 COMPONENTS static) builds the program against
# zerobus::zerobus and zerobus::zerobus_static; both ingest. Asking for 1.0 must fail.
run_find_package() {
  local project=$src/tests/abi/find_package
  local configure=(-G "$ZB_CMAKE_GENERATOR" -S "$project" -DCMAKE_PREFIX_PATH="$ZB_PREFIX"
    -DCMAKE_BUILD_TYPE="$ZB_BUILD_TYPE" -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX"
    -DCMAKE_C_FLAGS="${strict[*]}")
  cmake "${configure[@]}" -B "$work/build"
  local found
  found=$(sed -n 's/^zerobus_DIR:PATH=//p' "$work/build/CMakeCache.txt")
  [ "$(realpath "$found")" = "$(realpath "$libdir/cmake/zerobus")" ] ||
    fail "find_package found zerobus in $found, not in the installed tree"
  cmake --build "$work/build"
  expect_linked_to_installed "$work/build/consumer_shared"
  expect_not_linked "$work/build/consumer_static"
  start_server
  "$work/build/consumer_shared" "$endpoint"
  "$work/build/consumer_static" "$endpoint"

  if cmake "${configure[@]}" -B "$work/build-1.0" -DZB_WANTED_VERSION=1.0 >"$work/1.0.log" 2>&1; then
    fail "find_package(zerobus 1.0) accepted version $ZB_VERSION"
  fi
  grep -q 'zerobus' "$work/1.0.log" || fail "find_package(zerobus 1.0) failed for another reason"
  echo "find_package(zerobus 1.0) refuses $ZB_VERSION, as it should"
}

# A C program that links nothing of libzerobus dlopen()s it by SONAME, resolves every symbol
# with dlsym(), ingests into the local server and dlclose()s it (tests/abi/dlopen_consumer.c).
run_dlopen() {
  "$CC" -std=c99 "${strict[@]}" -I"$includedir" "$src/tests/abi/dlopen_consumer.c" -ldl \
    -o "$work/dlopen_consumer"
  expect_not_linked "$work/dlopen_consumer"
  start_server
  LD_LIBRARY_PATH=$libdir "$work/dlopen_consumer" "$soname" "$libdir" "$src/abi/symbols.txt" \
    "$endpoint"
}

check=${1:?usage: abi_test.sh CHECK}
declare -F "run_$check" >/dev/null || fail "no check named '$check'"
work=$ZB_WORK/$check
rm -rf "$work"
mkdir -p "$work"
"run_$check"
