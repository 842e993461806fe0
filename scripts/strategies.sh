#!/usr/bin/env bash
# Builds coldstart and runs the paper's strategies on every synthetic region, keeping the
# trade-off charts of the region where each pays most and least: bash scripts/strategies.sh OUT
# [--scale 0.2] [--days 4] [--seed 1] [--sweep-points 8]. Everything is written under OUT;
# about 5 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --locked -p coldstart --manifest-path "$root/Cargo.toml"
exec python3 "$root/scripts/strategies.py" --bin "$root/target/release/coldstart" "$@"
