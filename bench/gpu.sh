#!/usr/bin/env bash
# The GPU check of rewarm, one prepared script (a few minutes on one H100/H200):
#   1. the Hugging Face parity tests (logits, loss, two fused-AdamW steps) on CUDA;
#   2. training and eval tokens/s, MFU and GPU memory of rewarm against PyTorch + transformers
#      (GPTNeoXForCausalLM, sdpa, bf16 autocast, fused AdamW) at the 160m and 410m shapes,
#      same checkpoint, data, batch and sequence length, in the same run (bench/rewarm_bench.py);
#   3. per shape, the data-parallel path on this one GPU (`rewarm launch --nproc 1`: c10d's NCCL
#      group and Reducer) against the plain run: tokens/s and the largest loss difference.
#
#   bash bench/gpu.sh                    # on a GPU machine with a Rust toolchain: builds, then runs
#   bash bench/gpu.sh --pack DIR         # on a machine without a GPU: builds and packs the binaries
#   bash bench/gpu.sh --prebuilt DIR     # on a GPU machine without Rust: runs the packed binaries
#                                        # against that machine's python3 torch 2.11 (+ transformers)
# SHAPES (default "160m 410m") picks the shapes; LOG=FILE also writes the output there.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}
dir=${2:-}
SHAPES=${SHAPES:-160m 410m}

pack() {
    set -e
    bash scripts/setup-torch.sh
    cargo build --release --locked -p rewarm
    local test_bin
    test_bin=$(cargo test --release --locked -p rewarm --test parity --no-run --message-format=json 2>/dev/null \
        | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "parity" and m.get("executable"):
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
echo "== parity with transformers on CUDA (f32)"
REWARM_TEST_DEVICE=cuda REWARM_FIXTURES="$PWD/crates/rewarm/tests/fixtures" \
    "$parity" --test-threads 1 --nocapture 2>&1 | grep -v "^$" || status=1
echo "== throughput: rewarm vs PyTorch + transformers (bf16 autocast, sdpa, fused AdamW)"
PYTHONUNBUFFERED=1 $PY bench/rewarm_bench.py --bin "$bin" --work "${WORK:-bench/out/gpu}" --device cuda \
    --shapes "$SHAPES" || status=1
exit $status
