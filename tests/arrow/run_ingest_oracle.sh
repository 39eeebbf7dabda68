#!/usr/bin/env bash
# `zerobus ingest` of Arrow IPC files and streams, with pyarrow (in the virtual environment the
# arrow oracle uses, pyarrow_venv.sh) writing the inputs and checking the stored rows:
# ingest_oracle_test.py against ZEROBUS.
#
#   run_ingest_oracle.sh ZEROBUS WORK_DIR
set -euo pipefail
zerobus=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pyarrow_venv.sh
source "$here/pyarrow_venv.sh" "ingest oracle"
exec "$venv/bin/python" "$here/ingest_oracle_test.py" "$zerobus" "$here/../support"
