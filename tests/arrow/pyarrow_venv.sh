# Sourced by the pyarrow tests: makes sure "$work/venv-pyarrow-$version" holds pyarrow from PyPI
# (installed once; reused while the version stays) and sets $venv to it. Never skips: when
# pyarrow cannot be installed (no network, no PyPI) it fails and says why.
#
#   work=DIR; source pyarrow_venv.sh "test name"
version=${ZB_PYARROW_VERSION:-26.0.1}
venv=$work/venv-pyarrow-$version

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyarrow' 2>/dev/null; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv"; then
    echo "$1: FAILED: cannot create a Python virtual environment (python3 -m venv)" >&2
    exit 1
  fi
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "pyarrow==$version"; then
    echo "$1: FAILED: cannot install pyarrow==$version from PyPI" >&2
    rm -rf "$venv"
    exit 1
  fi
fi
