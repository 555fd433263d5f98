#!/usr/bin/env bash
# Installs what tests/sinks.rs needs to check the OTLP sink against real software, into a
# virtual environment under target/ (nothing system-wide), from PyPI:
#
# - rotel: an OpenTelemetry collector (written in Rust; the PyPI wheel ships its
#   `rotel-agent` binary). It receives OTLP/HTTP JSON on /v1/traces, rejects what
#   breaks the encoding rules with 400, and exports what it accepts as OTLP protobuf.
# - opentelemetry-proto: the protocol's own generated classes, with which
#   tests/otlp/receiver.py decodes what rotel exports (and parses our JSON directly).
#
# Idempotent: does nothing when the environment is already complete.
# Usage: tests/otlp/setup.sh [VENV_DIR]   (default: target/otlp-venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${1:-target/otlp-venv}
rotel_version=0.0.1a15
if [ -x "$venv/bin/python" ] \
    && "$venv/bin/python" -c "import opentelemetry.proto.collector.trace.v1.trace_service_pb2" 2>/dev/null \
    && [ -x "$venv/lib/python3"*/site-packages/rotel/rotel-agent ]; then
    exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "rotel==$rotel_version" "opentelemetry-proto>=1.20,<2"
echo "installed rotel $rotel_version and opentelemetry-proto into $venv"
