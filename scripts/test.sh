#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace, closing with one
# "N passed, M failed" line summed over all test binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
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
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
