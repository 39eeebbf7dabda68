#!/usr/bin/env bash
# Prints the JAVA_HOME the Java binding builds and runs with: $JAVA_HOME when its java is 22 or
# newer (java.lang.foreign is final since 22), else the machine's Temurin 25. Exits non-zero,
# saying why, when neither has a java.
#
#   export JAVA_HOME=$(bash bindings/java/java-home.sh)
set -euo pipefail
temurin=/usr/lib/jvm/temurin-25-jdk-amd64
candidate=$temurin
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] &&
  "$JAVA_HOME/bin/java" -version 2>&1 | head -1 | grep -qE 'version "(2[2-9]|[3-9][0-9])'; then
  candidate=$JAVA_HOME
fi
if [ ! -x "$candidate/bin/java" ]; then
  echo "java binding: no Java 22+: JAVA_HOME (${JAVA_HOME:-unset}) is older or absent, and $temurin is not there" >&2
  exit 1
fi
echo "$candidate"
