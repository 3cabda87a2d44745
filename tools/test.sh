#!/usr/bin/env bash
# Runs every test of the workspace. Tests that check bytes against Confluent's official Python
# client need it in .venv: this script sets that up first (tools/python-env.sh, idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x tools/python-env.sh ] && [ "${KCODEC_SKIP_PYTHON:-0}" != 1 ]; then
  tools/python-env.sh
  export KCODEC_REQUIRE_PYTHON=1
fi

cargo test --workspace --all-features "$@"
