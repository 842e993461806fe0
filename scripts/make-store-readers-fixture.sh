#!/usr/bin/env bash
# Regenerates crates/coldstart/tests/fixtures/store_readers.json: pandas, pyarrow, polars and
# DuckDB reading a store of the hand-built release. Committed; tests never run Python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/readers-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pandas==3.1.1 pyarrow==24.0.0 polars==1.40.1 duckdb==1.5.2
fi
cargo build --locked -p coldstart
store=$(mktemp -d)/store
trap 'rm -rf "$(dirname "$store")"' EXIT
target/debug/coldstart ingest crates/coldstart/tests/fixtures/hand/release --store "$store" > /dev/null
"$venv/bin/python" crates/coldstart/tests/fixtures/store_readers.py "$store"
echo "wrote crates/coldstart/tests/fixtures/store_readers.json"
