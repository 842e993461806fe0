#!/usr/bin/env bash
# Builds coldstart and times `coldstart synth` on one release (scale 0.05 by default), three
# runs; `--baseline BIN` alternates with another build and prints the ratio. Extra arguments go
# to synth_bench.py (--scale, --runs, --baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p coldstart
exec python3 bench/synth_bench.py --bin target/release/coldstart "$@"
