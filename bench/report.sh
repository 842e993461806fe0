#!/usr/bin/env bash
# Builds coldstart, installs pandas into bench/.venv, and runs the report benchmark.
# Shares bench/out/release with bench/ingest.sh (about 19 GB, plus about 8 GB of store).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p coldstart
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet pandas
fi
exec bench/.venv/bin/python bench/report_bench.py "$@"
