#!/usr/bin/env bash
# The example outputs quoted in docs/: runs each command at demo scale (the demo's release:
# `coldstart synth --scale 0.02 --days 31 --seed 1`, ingested) in a scratch folder and writes
# what it printed between the page's `<!-- example:NAME -->` markers, so the figures the guides
# quote are what this build prints. Rewrites docs/coldstart.md (faithfulness, peak-shave,
# pool-predict) and docs/store.md (tables). About half a minute once built.
#
#   bash scripts/docs-examples.sh            # rewrite the pages
#   bash scripts/docs-examples.sh --dry-run  # print the blocks, write nothing
# The release build, brought up to date first; COLDSTART_BIN=PATH uses that binary instead
# (a debug build prints the same).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${COLDSTART_BIN:-}" ]; then
    cargo build --release --locked -p coldstart
    export COLDSTART_BIN=target/release/coldstart
fi
exec python3 - "$@" <<'PY'
import os, re, subprocess, sys, tempfile

sys.path.insert(0, "bench")
import benchlib

dry = "--dry-run" in sys.argv[1:]
BIN = os.path.abspath(os.environ["COLDSTART_BIN"])
work = tempfile.mkdtemp(prefix="docs-examples-")


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, cwd=work)
    if p.returncode != 0:
        raise SystemExit(f"coldstart {' '.join(args)} failed:\n{p.stderr}")
    return p.stdout


run("synth", "--out", "release", "--scale", "0.02", "--days", "31", "--seed", "1")
run("ingest", "release", "--store", "store")


def simulate(name, source, policies):
    args = ["simulate", "--store", "store", "--region", "R2", "--out", name]
    if source:
        args += ["--source", source]
    for p in policies:
        args += ["--policy", p]
    out = run(*args)
    shown = " ".join(a.replace("store", "STORE", 1) if a == "store" else a for a in args)
    shown = shown.replace(f"--out {name}", "--out sim")
    rows = {}
    with open(os.path.join(work, name, "summary.csv")) as f:
        import csv
        for r in csv.DictReader(f):
            rows[r["policy"]] = r
    # Without the engine's rate (the last column), which is a timing and moves from run to run.
    table = "\n".join(re.sub(r"\s+(M inv/s|\S+)$", "", l) for l in out.splitlines()
                      if not l.startswith(("wrote ", "workload:", "faithfulness:")))
    return f"coldstart {shown}", out, table, rows


def block(cmd, table):
    return f"```text\n$ {cmd}\n{table}\n```"


def n(x):
    return f"{float(x):,.0f}"


pages = {"docs/coldstart.md": {}, "docs/store.md": {}}

# The store's default-policy line against the trace, from both sources.
body = []
for src in ("per-request", "per-minute"):
    cmd, out, _, _ = simulate(f"faith-{src}", src, ["fixed-keepalive:ttl=60s"])
    line = next(l for l in out.splitlines() if l.startswith("faithfulness:"))
    body.append(f"```text\n$ {cmd}\n...\n{line}\n```")
pages["docs/coldstart.md"]["faithfulness"] = (
    "The default policy against the trace, from the per-request rows (one day) and from the "
    "per-minute counts (31 days):\n\n" + "\n\n".join(body))

# peak-shave against the 60 s keep-alive.
cmd, out, table, rows = simulate("peak", None, ["fixed-keepalive:ttl=60s", "peak-shave"])
base = rows["fixed-keepalive:ttl=60s,restart=yes"]
ps = next(v for k, v in rows.items() if k.startswith("peak-shave"))
verb = "rise" if int(ps["cold_starts"]) > int(base["cold_starts"]) else "fall"
pages["docs/coldstart.md"]["peak-shave"] = (
    f"`peak-shave` with the learned limit against the 60 s keep-alive: cold starts {verb} from "
    f"{n(base['cold_starts'])} to {n(ps['cold_starts'])}, cold-start seconds from "
    f"{n(base['cold_start_seconds'])} to {n(ps['cold_start_seconds'])}, "
    + (f"the peak stays at {ps['peak_running_pods']} running pods"
       if ps["peak_running_pods"] == base["peak_running_pods"]
       else f"the peak from {base['peak_running_pods']} to {ps['peak_running_pods']} running pods")
    + ".\n\n" + block(cmd, table))

# pool-predict: the default quantile, the hour's maximum and a fixed size.
cmd, out, table, rows = simulate("pool", None, ["fixed-keepalive:ttl=60s", "pool-predict",
                                                "pool-predict:quantile=1", "pool-predict:size=3"])
base = rows["fixed-keepalive:ttl=60s,restart=yes"]
pp = [v for k, v in rows.items() if k.startswith("pool-predict")]
def pct(r):
    return (float(r["cold_start_seconds"]) / float(base["cold_start_seconds"]) - 1) * 100
def mem(r):
    return float(r["idle_gb_seconds"]) / float(base["idle_gb_seconds"])
pages["docs/coldstart.md"]["pool-predict"] = (
    f"`pool-predict` against the 60 s keep-alive: cold-start seconds {n(pp[0]['cold_start_seconds'])} "
    f"against {n(base['cold_start_seconds'])} ({pct(pp[0]):+.0f} %) at the default 95th percentile, "
    f"whose pools are mostly empty here; the hour's maximum (`quantile=1`) {pct(pp[1]):+.0f} % at "
    f"{mem(pp[1]):.1f}x the idle memory, `size=3` {pct(pp[2]):+.0f} % at {mem(pp[2]):.1f}x.\n\n"
    + block(cmd, table))

pages["docs/store.md"]["tables"] = "```text\n$ coldstart tables --store STORE\n" + \
    run("tables", "--store", "store").rstrip() + "\n```"

for page, blocks in pages.items():
    text = open(page).read()
    for key, body in blocks.items():
        start, end = f"<!-- example:{key} -->", f"<!-- /example:{key} -->"
        if dry:
            print(f"{page}:\n{start}\n{body}\n{end}\n")
            continue
        text = benchlib.splice_text(text, key, body, prefix="example")
    if not dry:
        with open(page + ".tmp", "w") as f:
            f.write(text)
        os.replace(page + ".tmp", page)
        print(f"rewrote {', '.join(blocks)} in {page}")
subprocess.run(["rm", "-rf", work])
PY
