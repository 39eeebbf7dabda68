#!/usr/bin/env bash
# Installs what building and testing libzerobus needs, from Debian's packages only.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcmocka-dev libgtest-dev libgmock-dev libbenchmark-dev
  abigail-tools doxygen
  libsqlite3-dev libcpp-httplib-dev nlohmann-json3-dev libssl-dev libcurl4-openssl-dev
  tinyproxy
  clang libclang-rt-14-dev
  python3 python3-dev python3-venv # python3-dev and -venv: bindings/python/test.sh
  flatbuffers-compiler libflatbuffers-dev liblz4-dev libzstd-dev # the Arrow codec (src/arrow)
  libnghttp2-dev libc-ares-dev # the library's own HTTP/2 client and its name lookups (src/net)
  libsnappy-dev zlib1g-dev # Avro container files in `zerobus ingest` (src/cli/avro_container)
  maven # bindings/java/test.sh; its Java 22+ is the machine's Temurin 25 (bindings/java/java-home.sh)
)

sudo_if_needed=()
if [ "$(id -u)" -ne 0 ]; then sudo_if_needed=(sudo); fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_if_needed[@]}" apt-get update -q
"${sudo_if_needed[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
