#!/usr/bin/env bash
# Checks the month replayed from per-minute counts against the truth: for each world
# (structured: timers at a fixed second, millisecond bursts, sub-minute polling; paper: the
# calibrated model) and seed, a release (R2 unless --regions) with per-request rows on every day is replayed
# from its per-minute tables (arrivals learned from the last day, and spread uniformly) and
# from all its rows, and the table of targets goes into docs/coldstart.md. Arguments go to
# month_check_bench.py: --functions 60, --days 31, --seeds 3, --regions R2 (comma separated).
# About 20 s a region and seed once built.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p coldstart
exec python3 bench/month_check_bench.py --bin target/debug/coldstart "$@"
