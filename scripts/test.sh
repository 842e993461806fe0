#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace, closing with one
# "N passed, M failed" line summed over all test binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
# A clean run needs about 8 GB here: libtorch's wheel in .venv (4.9 GB, no pip cache kept) and
# the debug build (under 3 GB without incremental caches, which a one-off run never reuses).
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
target=${CARGO_TARGET_DIR:-target}
df -h . | awk 'NR == 2 { print "test.sh: " $4 " free on " $6 }'
# libtorch for the rewarm crate (PyPI's torch wheel into .venv; a no-op once installed).
bash scripts/setup-torch.sh
cargo fmt --all --check
# coldstart alone needs no libtorch: nothing in its dependency tree is tch or torch-sys, so
# `cargo build --release -p coldstart` works on a machine without torch.
tree=$(cargo tree -p coldstart -e normal,build --locked --prefix none)
if grep -E '^(tch|torch-sys) ' <<<"$tree"; then
  echo "coldstart depends on libtorch (see above); it must build without it" >&2
  exit 1
fi
cargo clippy --workspace --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
# Every command in README.md and docs/ names subcommands and flags the binaries know, and every
# link resolves (seconds; the debug binaries `cargo test` built).
CHECK_DOCS_BIN="$target/debug" bash scripts/check-docs.sh --flags || status=$?
# A checkpoint folder of `rewarm train` is a complete Hugging Face model: transformers'
# AutoTokenizer encodes as rewarm does and pipeline("text-generation") generates batched.
bash scripts/setup-transformers.sh
REWARM_BIN="$target/debug/rewarm" bash scripts/hf-check.sh || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
