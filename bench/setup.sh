# Sourced by the benchmark scripts: builds coldstart and installs pandas into bench/.venv.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked -p coldstart
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet pandas
fi
