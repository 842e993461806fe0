#!/usr/bin/env bash
# Builds coldstart, installs pandas into bench/.venv, and runs the report benchmark.
# Shares bench/out/release with bench/ingest.sh (about 19 GB, plus about 8 GB of store).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
exec bench/.venv/bin/python bench/report_bench.py "$@"
