#!/usr/bin/env bash
# Create (or refresh) the Python virtualenv holding Confluent's official client,
# which kcodec uses as its byte-level reference (see tools/oracle/README.md).
#
#   tools/python-env.sh            # venv at <repo root>/.venv
#   KCODEC_VENV=/some/dir tools/python-env.sh
#   PYTHON=python3.11 tools/python-env.sh   # interpreter used to create the venv
#
# Idempotent: when the venv already matches tools/oracle/requirements.txt
# (a stamp file records its hash) it exits at once without touching the network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$ROOT/tools/oracle/requirements.txt"
VENV="${KCODEC_VENV:-$ROOT/.venv}"
STAMP="$VENV/.kcodec-requirements.sha256"

if [[ -z "${PYTHON:-}" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi

want="$( (cat "$REQ"; "$PYTHON" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -d' ' -f1)"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
   && "$VENV/bin/python" -c 'import confluent_kafka, grpc_tools, fastavro, google.protobuf, jsonschema' >/dev/null 2>&1; then
  echo "python-env: $VENV is up to date"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "python-env: creating $VENV with $("$PYTHON" --version 2>&1)"
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV"; then
    echo "python-env: '$PYTHON -m venv' failed; on Debian/Ubuntu install python3-venv (apt-get install -y python3-venv)" >&2
    exit 1
  fi
fi

echo "python-env: installing pinned packages from tools/oracle/requirements.txt"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
"$VENV/bin/python" -c 'import confluent_kafka, grpc_tools, fastavro, google.protobuf, jsonschema'
echo "$want" > "$STAMP"
echo "python-env: ready: $VENV/bin/python (confluent-kafka $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("confluent-kafka"))'))"
