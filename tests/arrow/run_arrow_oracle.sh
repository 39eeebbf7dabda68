#!/usr/bin/env bash
# The pyarrow oracle test of the Arrow codec: installs pyarrow from PyPI into a virtual
# environment under the build directory (once; reused while the version stays), then runs
# arrow_oracle_test.py on the codec's test library.
#
#   run_arrow_oracle.sh LIBRARY WORK_DIR
#
# It never skips: when pyarrow cannot be installed (no network, no PyPI), it fails and says why.
# Under AddressSanitizer the sanitizer's runtime is preloaded into python, which the library
# needs to load (LD_PRELOAD is set by CMake in ZB_ARROW_ORACLE_PRELOAD).
set -euo pipefail
library=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pyarrow_venv.sh
source "$here/pyarrow_venv.sh" "arrow oracle"
if [ -n "${ZB_ARROW_ORACLE_PRELOAD:-}" ]; then
  export LD_PRELOAD=$ZB_ARROW_ORACLE_PRELOAD
  # Python's own allocations are not ours to account for (the unit tests check the codec's).
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
exec "$venv/bin/python" "$here/arrow_oracle_test.py" "$library"
