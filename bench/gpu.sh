#!/usr/bin/env bash
# The GPU check of rewarm, one prepared script (about six minutes on one H100/H200):
#   1. the Hugging Face parity tests (logits, loss, two fused-AdamW steps through the trainer's
#      chunked head) on CUDA;
#   2. the loss curves of bf16-full and bf16 against f32 over 300 steps on the demo's corpora
#      (bench/precision_check.py, tolerance 0.02 nats);
#   3. training tokens/s, MFU and peak GPU memory of rewarm against PyTorch + transformers
#      (GPTNeoXForCausalLM, sdpa, fused AdamW), rewarm's bf16-full and bf16 (auto on CUDA):
#      at 160m (8 x 2048) against eager with bf16 autocast, with eval and the 1-rank
#      data-parallel path (`rewarm launch --nproc 1`, NCCL); at 410m (16 x 2048) against eager
#      autocast, eager with bf16 parameters, torch.compile with autocast and compiled with bf16
#      parameters, all in the same run, same checkpoint, data, batch and sequence length
#      (bench/rewarm_bench.py);
#   4. greedy `rewarm generate` tokens/s against transformers' generate (KV cache, bf16
#      weights on both sides) at 70m and 410m, 1, 8 and 32 prompts x 128 new tokens, with the
#      prompts whose new ids are identical (bench/rewarm_generate.py).
#
#   bash bench/gpu.sh                    # on a GPU machine with a Rust toolchain: builds, then runs
#   bash bench/gpu.sh --pack DIR         # on a machine without a GPU: builds and packs the binaries
#   bash bench/gpu.sh --prebuilt DIR     # on a GPU machine without Rust: runs the packed binaries
#                                        # against that machine's python3 torch 2.11 (+ transformers)
# SKIP="parity precision 160m 410m generate" leaves parts out; WORK=DIR is the scratch folder.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}
dir=${2:-}
SKIP=${SKIP:-}
WORK=${WORK:-bench/out/gpu}
skip() { [[ " $SKIP " == *" $1 "* ]]; }

pack() {
    set -e
    bash scripts/setup-torch.sh
    cargo build --release --locked -p rewarm
    local test_bin
    test_bin=$(cargo test --release --locked -p rewarm --test integration --no-run --message-format=json 2>/dev/null \
        | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "integration" and m.get("executable"):
        print(m["executable"])')
    mkdir -p "$1"
    cp target/release/rewarm "$1/rewarm"
    cp "$test_bin" "$1/parity"
    strip "$1/rewarm" "$1/parity"
    ls -l "$1"
}

case "$mode" in
--pack)
    [ -n "$dir" ] || { echo "usage: bash bench/gpu.sh --pack DIR" >&2; exit 2; }
    pack "$dir"
    exit 0
    ;;
--prebuilt)
    [ -x "$dir/rewarm" ] || { echo "$dir/rewarm missing: make it with bash bench/gpu.sh --pack $dir" >&2; exit 2; }
    PY=python3
    # The packed binaries find the machine's libtorch (the torch wheel's lib folder).
    torch_lib=$($PY -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') || exit 2
    export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    bin=$dir/rewarm
    parity=$dir/parity
    ;;
build)
    pack target/gpu
    PY=.venv/bin/python
    .venv/bin/pip install -q --disable-pip-version-check "transformers==5.24.0"
    bin=target/gpu/rewarm
    parity=target/gpu/parity
    ;;
*)
    echo "usage: bash bench/gpu.sh [--pack DIR | --prebuilt DIR]" >&2
    exit 2
    ;;
esac

status=0
echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader || status=1
$PY -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__, "cuda", torch.version.cuda)'
if ! skip parity; then
    echo "== parity with transformers on CUDA (f32)"
    REWARM_TEST_DEVICE=cuda REWARM_FIXTURES="$PWD/crates/rewarm/tests/fixtures" \
        "$parity" parity:: --test-threads 1 --nocapture 2>&1 | grep -v "^$" || status=1
fi
if ! skip precision; then
    echo "== loss curves against f32 on the demo's corpora"
    PYTHONUNBUFFERED=1 $PY bench/precision_check.py --bin "$bin" --work "$WORK/precision" --device cuda \
        --preset 160m --batch 8 --seq 512 --steps 300 --precisions "bf16-full bf16" || status=1
fi
echo "== throughput: rewarm vs PyTorch + transformers (sdpa, fused AdamW)"
if ! skip 160m; then
    PYTHONUNBUFFERED=1 PRECISIONS="bf16-full bf16" VARIANTS=eager DP=1 $PY bench/rewarm_bench.py --bin "$bin" \
        --work "$WORK" --device cuda --shapes 160m || status=1
fi
if ! skip 410m; then
    PYTHONUNBUFFERED=1 PRECISIONS="bf16-full bf16" VARIANTS="eager eager-bf16 compiled compiled-bf16" \
        $PY bench/rewarm_bench.py --bin "$bin" --work "$WORK" --device cuda --shapes 410m-b16 || status=1
fi
if ! skip generate; then
    echo "== generate: rewarm vs transformers (greedy, KV cache, bf16 weights)"
    PYTHONUNBUFFERED=1 $PY bench/rewarm_generate.py --bin "$bin" --work "$WORK/generate" \
        --tokenizer crates/rewarm/tests/fixtures/tokenizer.json --device cuda --precision bf16-full \
        --shapes "70m 410m" --batches "1 8 32" --new 128 --repeats 3 || status=1
fi
exit $status
