#!/usr/bin/env bash
# Runs `coldstart synth` on seeds 1..N at each scale and writes the table of every calibration
# check (tolerance, range over the seeds, seeds inside) into docs/coldstart.md. Arguments go to
# calibration_bench.py: --scales 0.05 1 1:published (default 0.05; S:published is scale S with
# --volume published, 85 billion requests at scale 1), --seeds N (default 3). Scale 1 takes
# about 10 minutes a seed on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p coldstart
exec python3 bench/calibration_bench.py --bin target/debug/coldstart "$@"
