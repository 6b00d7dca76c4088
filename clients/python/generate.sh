#!/usr/bin/env bash
# Generates the Python stubs from protos/ into the folder given (default: ./gen), with
# Debian's protoc (protobuf-compiler, libprotobuf-dev) and grpc_python_plugin
# (protobuf-compiler-grpc). protoc 3.15 or newer: the protos use proto3 `optional`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/gen}"
mkdir -p "$out"
cd "$root"
protoc -I protos/third_party -I protos -I /usr/include \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  protos/resilience/*/v1/*.proto protos/third_party/google/api/*.proto protos/third_party/google/rpc/*.proto
echo "$out"
