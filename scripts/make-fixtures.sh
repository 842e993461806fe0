#!/usr/bin/env bash
# Regenerates the analysis test fixtures with pandas and scipy (the reference implementations).
# The fixtures are committed; tests never run Python. Pinned versions keep them reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/fixtures-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy==2.4.6 scipy==1.17.1 pandas==3.1.1
fi
"$venv/bin/python" crates/coldstart/tests/fixtures/make_fixtures.py
