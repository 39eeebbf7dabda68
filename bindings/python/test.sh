#!/usr/bin/env bash
# Builds and tests the Python binding against the libzerobus installed in PREFIX:
#
#   bash bindings/python/test.sh PREFIX
#
# Makes a venv beside PREFIX (PREFIX/../python-venv, in the build directory, never committed)
# with the pinned packages of requirements-dev.txt, pip-installs this folder into it (the
# extension built by scikit-build-core against PREFIX's libzerobus, found with pkg-config),
# then runs ruff, mypy (the package, its stubs, the tests and the examples) and pytest, whose
# tests start PREFIX/bin/zerobus serve themselves, and the examples, each against a zerobus
# serve of its own with the rows it stored checked (../../examples/run_example.py); then builds
# a wheel that carries libzerobus and checks that it loads its own copy; and runs the bench
# briefly.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
prefix=$(cd "$1" && pwd)
cd "$(dirname "$0")"
here=$(pwd)

for tool in python3 pkg-config cmake cc; do
  command -v "$tool" >/dev/null || { echo "python binding: $tool is not installed" >&2; exit 1; }
done
export ZEROBUS_SERVE_BIN="$prefix/bin/zerobus"
[ -x "$ZEROBUS_SERVE_BIN" ] || { echo "python binding: no zerobus at $ZEROBUS_SERVE_BIN" >&2; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists zerobus || { echo "pkg-config finds no zerobus under $prefix" >&2; exit 1; }

scratch=$(dirname "$prefix")
venv="$scratch/python-venv"
started=$SECONDS
echo "--- python: venv $venv, packages of requirements-dev.txt"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

echo "--- python: pip install bindings/python (libzerobus $(pkg-config --modversion zerobus) from $prefix)"
# No build isolation: the backend is the pinned one of the venv. The CMake tree stays in the
# build directory too.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps --config-settings=build-dir="$scratch/python-build/{wheel_tag}" \
  --config-settings=cmake.define.ZB_PYTHON_WERROR=ON .

echo "--- python: ruff check, ruff format --check"
"$venv/bin/ruff" check src tests examples bench.py
"$venv/bin/ruff" format --check src tests examples bench.py

echo "--- python: mypy --strict (package, stubs, tests, examples)"
"$venv/bin/mypy"

echo "--- python: mypy.stubtest: the stubs against the installed extension"
(cd "$scratch" && "$venv/bin/python" -m mypy.stubtest libzerobus._native libzerobus.errors)

echo "--- python: pytest"
# From another directory, so that the installed package is imported, not src/.
(cd "$scratch" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests")

echo "--- python: examples, each against its own zerobus serve, stored rows checked"
run_example() {
  "$venv/bin/python" ../../examples/run_example.py --zerobus "$ZEROBUS_SERVE_BIN" \
    --records 1000 -- "$venv/bin/python" "$@"
}
run_example examples/ingest_json.py {endpoint} 1000
run_example examples/ingest_proto.py {endpoint} 1000
run_example examples/ingest_persistent.py {endpoint} 1000
echo "--- python: a wheel that carries libzerobus, imported from a venv of its own"
wheels="$scratch/python-wheels"
rm -rf "$wheels" "$scratch/python-wheel-venv"
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-build-isolation \
  --no-deps -w "$wheels" --config-settings=build-dir="$scratch/python-build/bundled" \
  --config-settings=cmake.define.ZB_PYTHON_BUNDLE_LIBRARY=ON .
python3 -m venv "$scratch/python-wheel-venv"
"$scratch/python-wheel-venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "$wheels"/libzerobus-*.whl
# The library the module loaded must be the wheel's own copy, not PREFIX's.
(cd "$scratch" && env -u LD_LIBRARY_PATH "$scratch/python-wheel-venv/bin/python" -c '
import os, libzerobus
package = os.path.dirname(libzerobus.__file__)
loaded = {line.split()[-1] for line in open("/proc/self/maps") if "libzerobus.so" in line}
assert loaded == {os.path.join(package, "libzerobus.so.0")}, loaded
print("wheel:", os.path.basename(os.path.dirname(package)), "loads", *loaded)')

echo "--- python: bench, 200,000 records of 100 bytes (the full figure: bench.py ZEROBUS)"
"$venv/bin/python" bench.py "$ZEROBUS_SERVE_BIN" 200000 2>/dev/null
echo "python: done in $((SECONDS - started)) s"
