#!/usr/bin/env bash
# Runs every test of the workspace. Tests that check bytes against Confluent's official Python
# client need it in .venv: this script sets that up first (tools/python-env.sh, idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x tools/python-env.sh ] && [ "${KCODEC_SKIP_PYTHON:-0}" != 1 ]; then
  tools/python-env.sh
  export KCODEC_REQUIRE_PYTHON=1
fi

# Feature combinations of the facade stay buildable (cargo check only; about a minute cold).
# tests/facade_features.rs uses `kcodec::registry` with each schema codec alone.
for features in "" json json-schema,clients protobuf schemars avro,clients registry-http,registry-server; do
  cargo check -q -p kcodec --no-default-features --features "$features" --lib --tests
done

cargo test --workspace --all-features "$@"

# The README's first command stays true: the quickstart runs to its end.
cargo run -q --example quickstart > /dev/null
