#!/usr/bin/env bash
# Installs the official Databricks Zerobus SDK (the prebuilt Node addon pinned, with its
# integrity hash, by package.json and package-lock.json beside this script) into DIR, from
# npm, so that official_bench.js can load it with --modules DIR/node_modules. The SDK is a
# reference for the benchmarks only: it is installed at bench time and never committed.
#
#   bench/official/install.sh DIR
#
# Idempotent: when DIR already holds exactly the pinned versions nothing is downloaded.
# Prints the installed versions, one "name version" line each, on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$(realpath -m "$1")
case "$dir/" in
"$here"/*)
  echo "$0: DIR must be outside the source tree ($here)" >&2
  exit 2
  ;;
esac
mkdir -p "$dir"

# npm records what it installed in node_modules/.package-lock.json; when that matches the
# pinned lock file (same packages, versions and hashes) the install is current.
installed_matches_lock() {
  [[ -f $dir/node_modules/.package-lock.json ]] &&
    cmp -s "$here/package.json" "$dir/package.json" &&
    node -e '
      const [lockFile, installedFile] = process.argv.slice(1);
      const strip = (file) => {
        const { packages } = require(file);
        delete packages[""];
        return JSON.stringify(packages);
      };
      process.exit(strip(lockFile) === strip(installedFile) ? 0 : 1);
    ' "$here/package-lock.json" "$dir/node_modules/.package-lock.json"
}

if ! installed_matches_lock; then
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

node -e '
  const { packages } = require(process.argv[1]);
  for (const [path, meta] of Object.entries(packages)) {
    if (path) console.log(path.replace(/^node_modules\//, ""), meta.version);
  }
' "$dir/node_modules/.package-lock.json"
