#!/usr/bin/env bash
# The hybrid histogram's forecaster (an AR(1) on log idle times) against statsmodels' ARIMA,
# on a synthetic month's idle times and on processes the model does not have; the table goes
# into docs/benchmarks.md. Installs numpy, pandas and statsmodels into target/forecast-venv. Arguments
# go to forecast_bench.py: --regions R2,R4, --functions 60, --days 21, --points 150.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p coldstart
venv=target/forecast-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check numpy==2.4.6 pandas==3.1.1 statsmodels==0.15.0
fi
exec "$venv/bin/python" bench/forecast_bench.py --bin target/release/coldstart "$@"
