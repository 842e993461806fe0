#!/usr/bin/env bash
# Builds coldstart, installs pandas into bench/.venv, and runs the ingest benchmark.
# Needs about 25 GB of disk under bench/out. Extra arguments go to ingest_bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p coldstart
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet pandas
fi
exec bench/.venv/bin/python bench/ingest_bench.py "$@"
