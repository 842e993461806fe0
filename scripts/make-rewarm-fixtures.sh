#!/usr/bin/env bash
# Regenerates crates/rewarm/tests/fixtures from transformers / torch / tokenizers (PyPI).
# The outputs are committed; the tests themselves never run Python.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-torch.sh
.venv/bin/pip install -q --disable-pip-version-check "transformers==5.24.0"
out=crates/rewarm/tests/fixtures
rm -rf "$out" && mkdir -p "$out"
.venv/bin/python scripts/rewarm_fixtures.py "$out"
.venv/bin/pip install -q --disable-pip-version-check "tensorboard==2.20.0"
.venv/bin/python scripts/tensorboard_fixture.py "$out"
# rewarm eval --task against lm-evaluation-harness (its hf model needs accelerate).
.venv/bin/pip install -q --disable-pip-version-check "lm-eval==0.4.13" "accelerate==1.16.0"
HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 .venv/bin/python scripts/rewarm_task_fixtures.py "$out/tasks"
