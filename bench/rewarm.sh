#!/usr/bin/env bash
# Training and eval throughput of rewarm against PyTorch + transformers at the same shapes,
# data and thread count, run by one script; prints tokens/s, ratios and peak memory.
#   bash bench/rewarm.sh            # CPU: Pythia-14m shape (8k vocab) and 70m shape
#   SHAPES="160m 410m" DEVICE=cuda bash bench/rewarm.sh   # on a GPU machine (also prints MFU)
# On CPU each shape also gets data-parallel scaling (2 ranks over Gloo vs 1 process, rewarm and
# PyTorch DDP); BF16=1 adds bf16 matmuls vs f32 (rewarm precision = "bf16", PyTorch autocast).
# GENERATE=1 adds `rewarm generate` against transformers' generate (greedy, KV cache, CPU);
# ONLY=generate runs that part alone (GEN_SHAPES="14m", GEN_BATCHES="1 8", GEN_TOKENS=64).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-torch.sh
.venv/bin/pip install -q --disable-pip-version-check "transformers==5.24.0"
cargo build --release --locked -p rewarm
if [ "${ONLY:-}" != generate ]; then
  .venv/bin/python bench/rewarm_bench.py --bin target/release/rewarm --work bench/out/rewarm "$@"
fi
if [ -n "${GENERATE:-}" ] || [ "${ONLY:-}" = generate ]; then
  .venv/bin/python bench/rewarm_generate.py --bin target/release/rewarm --work bench/out/rewarm \
    --tokenizer crates/rewarm/tests/fixtures/tokenizer.json
fi
