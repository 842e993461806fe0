#!/usr/bin/env bash
# Builds coldstart and times `coldstart synth` on one release (scale 0.05 by default), three
# runs; `--baseline BIN` alternates with another build and prints the ratio. Extra arguments go
# to synth_bench.py (--scale, --runs, --baseline; --volumes: the published volume beside the
# light one at scales 0.01, 0.1 and 1, about 15 minutes and 10 GB of disk).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p coldstart
exec python3 bench/synth_bench.py --bin target/release/coldstart "$@"
