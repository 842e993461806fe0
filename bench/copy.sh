#!/usr/bin/env bash
# Builds coldstart, installs pandas, pyarrow, polars and DuckDB into bench/.venv, and runs the
# columnar-copy benchmark (coldstart ingest against each of them). Extra arguments go to
# copy_bench.py (--scale, --repeat, --tools). A scale-0.25 release takes about 3 GB under
# bench/out/copy, and each copy up to 1.5 GB more while it runs.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
bench/.venv/bin/pip install --quiet --disable-pip-version-check \
  pandas==3.1.1 pyarrow==24.0.0 polars==1.40.1 duckdb==1.5.2
exec bench/.venv/bin/python bench/copy_bench.py "$@"
