#!/usr/bin/env bash
# Installs libtorch 2.11 for the rewarm crate from PyPI's torch wheel into .venv (idempotent)
# and links it at .venv/libtorch, where .cargo/config.toml points the tch build.
# Also the Python baseline for bench/rewarm.sh and the fixture generator.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=2.11.0
PY=${PYTHON:-python3}
if [ -x .venv/bin/python ] && [ -e .venv/libtorch/lib/libtorch.so ] \
    && [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null)" = "$TORCH_VERSION" ]; then
    exit 0
fi
echo "setup-torch: installing torch==$TORCH_VERSION from PyPI into .venv (about 4.6 GB, once)" >&2
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" numpy
dir=$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
ln -sfn "${dir#"$PWD"/.venv/}" .venv/libtorch
echo "setup-torch: libtorch at $(readlink .venv/libtorch)" >&2
