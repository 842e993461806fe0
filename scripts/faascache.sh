#!/usr/bin/env bash
# Builds coldstart and tests FaasCache's claim (Greedy-Dual against LRU and TTL at the same
# memory) on every synthetic region: bash scripts/faascache.sh OUT [--scale 0.2] [--days 4]
# [--seed 1] [--low 0.7] [--high 1.0] [--sweep-points 5]. Everything is written under OUT;
# about a minute on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --locked -p coldstart --manifest-path "$root/Cargo.toml"
exec python3 "$root/scripts/faascache.py" --bin "$root/target/release/coldstart" "$@"
