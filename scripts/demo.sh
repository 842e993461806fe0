#!/usr/bin/env bash
# The quick start: coldstart generates a small synthetic release, ingests it, queries it,
# writes the report of the paper's analyses and compares cold-start policies on its R2
# requests; rewarm runs its two-domain re-warming demo and the micro study (the whole grid).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_DIR:-target/demo}
bash scripts/setup-torch.sh
cargo build --release --locked -p coldstart -p rewarm
bin=target/release/coldstart
"$bin" synth --out "$out/release" --scale 0.02 --days 31 --seed 1
"$bin" ingest "$out/release" --store "$out/store"
"$bin" tables --store "$out/store"
"$bin" sql --store "$out/store" "
  SELECT region, count(*) AS cold_starts,
         round(approx_median(totalCost_cold_start), 3) AS median_s,
         round(avg(totalCost_cold_start), 3) AS mean_s
  FROM cold_starts GROUP BY region ORDER BY region"
"$bin" sql --store "$out/store" "
  SELECT f.runtime, count(*) AS cold_starts
  FROM cold_starts c JOIN functions f ON c.funcID = f.funcID
  GROUP BY f.runtime ORDER BY cold_starts DESC"
"$bin" report --store "$out/store" --out "$out/report"
echo "open $out/report/index.html"
"$bin" simulate --store "$out/store" --region R2 --out "$out/simulate"
target/release/rewarm demo --out "$out/rewarm"
target/release/rewarm study --preset micro --out "$out/rewarm-study"
