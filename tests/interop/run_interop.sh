#!/usr/bin/env bash
# The official-SDK interoperability test: installs databricks-zerobus-ingest-sdk from PyPI into a
# virtual environment under the build directory (once; reused while the version stays), then
# runs interop_test.py against `zerobus serve`.
#
#   run_interop.sh ZEROBUS_CLI WORK_DIR
#
# It never skips: when the SDK cannot be installed (no network, no PyPI), it fails and says why.
# ZB_INTEROP_SDK_VERSION picks another SDK release than the one this test was written against.
set -euo pipefail
cli=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
version=${ZB_INTEROP_SDK_VERSION:-1.10.0}
venv=$work/venv-$version

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import zerobus.sdk.sync' 2>/dev/null; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv"; then
    echo "interop: FAILED: cannot create a Python virtual environment (python3 -m venv)" >&2
    exit 1
  fi
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "databricks-zerobus-ingest-sdk==$version"; then
    echo "interop: FAILED: cannot install databricks-zerobus-ingest-sdk==$version from PyPI" >&2
    rm -rf "$venv"
    exit 1
  fi
fi
# The SDK logs every stream at INFO on stderr; warnings are enough here.
export RUST_LOG=${RUST_LOG:-warn}
exec "$venv/bin/python" "$here/interop_test.py" "$cli" "$work"
