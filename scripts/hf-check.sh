#!/usr/bin/env bash
# A checkpoint folder written by `rewarm train` loads in transformers: AutoTokenizer encodes as
# rewarm does, pipeline("text-generation") generates batched with left padding
# and lm-evaluation-harness scores tasks as `rewarm eval --task` does (scripts/hf_check.py).
# Needs scripts/setup-torch.sh and scripts/setup-transformers.sh first.
# The rewarm binary: $REWARM_BIN, else target/debug/rewarm (built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything is local: nothing is fetched from the Hugging Face hub.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
bin=${REWARM_BIN:-target/debug/rewarm}
if [ ! -x "$bin" ]; then
    cargo build -p rewarm --locked
    bin=target/debug/rewarm
fi
.venv/bin/python scripts/hf_check.py "$bin"
