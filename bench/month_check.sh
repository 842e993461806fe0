#!/usr/bin/env bash
# Checks the month replayed from per-minute counts against the truth: for each world
# (structured: timers at a fixed second, millisecond bursts, sub-minute polling; paper: the
# calibrated model) and seed, a release (R2 unless --regions) with per-request rows on every day is replayed
# from its per-minute tables (arrivals learned from the last day, and spread uniformly) and
# from all its rows, and the table of targets goes into docs/coldstart.md. Arguments go to
# month_check_bench.py: --functions 60, --days 31, --seeds 3, --regions R2 (comma separated).
# A release build: each world and seed writes and ingests every day's per-request rows (at 240
# functions in each of five regions, 24 GB and about 14 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_INCREMENTAL=0 cargo build --release --locked -p coldstart
exec python3 bench/month_check_bench.py --bin target/release/coldstart "$@"
