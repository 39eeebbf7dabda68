#!/usr/bin/env bash
# The pyarrow.flight test of `zerobus serve`'s DoPut: pyarrow in the virtual environment the
# arrow oracle uses (pyarrow_venv.sh), running flight_oracle_test.py against ZEROBUS.
#
#   run_flight_oracle.sh ZEROBUS WORK_DIR
set -euo pipefail
zerobus=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pyarrow_venv.sh
source "$here/pyarrow_venv.sh" "flight oracle"
exec "$venv/bin/python" "$here/flight_oracle_test.py" "$zerobus" "$here/../support"
