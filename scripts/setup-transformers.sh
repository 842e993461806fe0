#!/usr/bin/env bash
# Installs transformers (the version scripts/make-rewarm-fixtures.sh pins) and
# lm-evaluation-harness (with accelerate, which its hf model needs) into .venv for
# scripts/hf-check.sh (idempotent; after scripts/setup-torch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=5.24.0
LM_EVAL=0.4.13
ACCELERATE=1.16.0
version() { .venv/bin/python -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true; }
if [ "$(version transformers)" != "$VERSION" ] || [ "$(version lm_eval)" != "$LM_EVAL" ] \
    || [ "$(version accelerate)" != "$ACCELERATE" ]; then
    .venv/bin/pip install -q --no-cache-dir --disable-pip-version-check "transformers==$VERSION" \
        "lm-eval==$LM_EVAL" "accelerate==$ACCELERATE"
fi
