#!/usr/bin/env bash
# Builds coldstart and runs the simulator benchmark (an R2-sized synthetic workload, 31 days,
# each policy). Extra arguments go to simulate_bench.py (--scale, --region).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p coldstart
exec python3 bench/simulate_bench.py "$@"
