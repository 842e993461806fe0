#!/usr/bin/env bash
# The study runner against the bare training loop: a study on the micro preset's data
# (upstream 300 steps, 17 downstream runs of 100 steps), one run at a time, then every one of
# its runs again as a bare `rewarm train` of the same run.toml; prints the study's wall time,
# tokens/s per run, the runner's overhead as a ratio, whether the bare runs logged the same
# numbers, the same study on two data-parallel ranks against one process, and opens the
# report in headless Chromium (bench/check_report_html.sh).
#   bash bench/study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-torch.sh
cargo build --release --locked -p rewarm
python3 bench/study_bench.py --bin target/release/rewarm --work bench/out/study "$@"
bash bench/check_report_html.sh bench/out/study/study/report.html
