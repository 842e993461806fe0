#!/usr/bin/env bash
# Builds coldstart, installs pandas into bench/.venv, and runs the ingest benchmark.
# Needs about 25 GB of disk under bench/out. Extra arguments go to ingest_bench.py.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
exec bench/.venv/bin/python bench/ingest_bench.py "$@"
