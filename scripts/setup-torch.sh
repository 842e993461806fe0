#!/usr/bin/env bash
# Installs libtorch 2.11 for the rewarm crate from PyPI's torch wheel into .venv (idempotent)
# and links it at .venv/libtorch, where .cargo/config.toml points the tch build.
# Also the Python baseline for bench/rewarm.sh and the fixture generator.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=2.11.0
# Headers the CUDA wheel leaves out but c10d's ProcessGroupNCCL.hpp needs (rewarm's NCCL shim
# compiles against them; a few MB). Only for the CUDA 13 wheel, matching its runtime.
CUDA_HEADERS=("nvidia-cuda-crt==13.0.88" "nvidia-cuda-cccl==13.0.85")
PY=${PYTHON:-python3}
torch_ok() {
    [ -x .venv/bin/python ] && [ -e .venv/libtorch/lib/libtorch.so ] \
        && [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null)" = "$TORCH_VERSION" ]
}
cuda_headers_ok() {
    local inc=.venv/libtorch/../nvidia/cu13/include
    [ ! -d "$inc" ] || { [ -e "$inc/crt/host_config.h" ] && [ -e "$inc/nv/target" ]; }
}
if torch_ok && cuda_headers_ok; then
    exit 0
fi
if ! torch_ok; then
    echo "setup-torch: installing torch==$TORCH_VERSION from PyPI into .venv (about 4.6 GB, once)" >&2
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    .venv/bin/pip install -q --no-cache-dir --disable-pip-version-check "torch==$TORCH_VERSION" numpy
    dir=$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
    ln -sfn "${dir#"$PWD"/.venv/}" .venv/libtorch
    echo "setup-torch: libtorch at $(readlink .venv/libtorch)" >&2
fi
if ! cuda_headers_ok; then
    echo "setup-torch: installing the CUDA headers of the NCCL shim: ${CUDA_HEADERS[*]}" >&2
    .venv/bin/pip install -q --no-cache-dir --disable-pip-version-check "${CUDA_HEADERS[@]}"
fi
