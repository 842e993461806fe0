"""The month from per-minute counts against the truth, over worlds and seeds: runs
`coldstart simulate --against-requests` on releases with per-request rows on every day and
tabulates, per policy, each expansion's error in total, its share of functions within ±25 %
and its daily correlation, against the targets (±10 %, 80 %, 0.9).
    python3 bench/month_check_bench.py --bin target/debug/coldstart [--functions 60]
        [--days 31] [--seeds 3]
"""
import argparse
import csv
import math
import os
import shutil
import tempfile

from benchlib import ROOT, markdown_table, run, splice

POLICIES = ["fixed-keepalive", "fixed-keepalive:ttl=10m", "hybrid-histogram"]


def check(binary, work, world, seed, functions, days):
    """Per policy: {expansion: (total error, share within, correlation)} and the truth's total."""
    rel, store, out = (os.path.join(work, x) for x in ("rel", "store", "check"))
    for p in (rel, store, out):
        shutil.rmtree(p, ignore_errors=True)
    run([binary, "synth", "--out", rel, "--regions", "R2", "--functions", str(functions),
         "--days", str(days), "--seed", str(seed), "--arrivals", world,
         "--request-days", "all", "--quantiles", "R2", "--no-check"])
    run([binary, "ingest", rel, "--store", store])
    args = [binary, "simulate", "--store", store, "--region", "R2", "--against-requests",
            "--seed", str(seed), "--out", out]
    for p in POLICIES:
        args += ["--policy", p]
    secs, _, _ = run(args)
    per_day, per_fn = {}, {}
    for r in csv.DictReader(open(os.path.join(out, "month_check_days.csv"))):
        per_day.setdefault(r["policy"], []).append(r)
    for r in csv.DictReader(open(os.path.join(out, "month_check_functions.csv"))):
        per_fn.setdefault(r["policy"], []).append(r)
    result = {}
    for policy, rows in per_day.items():
        truth = [int(r["per_request"]) for r in rows]
        entry = {"truth": sum(truth)}
        for e in ("learned", "uniform"):
            col = f"per_minute_{e}"
            got = [int(r[col]) for r in rows]
            fns = [(int(r["per_request"]), int(r[col])) for r in per_fn[policy]]
            counted = [(t, g) for t, g in fns if t >= 10]
            within = sum(abs(g - t) <= 0.25 * t for t, g in counted)
            entry[e] = (sum(got) / max(sum(truth), 1) - 1,
                        within / len(counted) if counted else float("nan"),
                        corr(got, truth))
        result[policy] = entry
    return result, secs


def corr(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    return sab / math.sqrt(saa * sbb) if saa > 0 and sbb > 0 else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--functions", type=int, default=60)
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--seeds", type=int, default=3)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    work = tempfile.mkdtemp(prefix="month-check-")
    rows = []
    met = {"learned": [0, 0], "uniform": [0, 0]}
    for world in ("structured", "paper"):
        for seed in range(1, a.seeds + 1):
            res, secs = check(binary, work, world, seed, a.functions, a.days)
            print(f"{world} seed {seed}: {secs:.1f} s")
            for policy, e in res.items():
                for x in ("learned", "uniform"):
                    err, share, r = e[x]
                    ok = abs(err) <= 0.10 and (share != share or share >= 0.8) and r >= 0.9
                    met[x][0] += ok
                    met[x][1] += 1
                    rows.append([world, seed, policy.split(",")[0], e["truth"], x,
                                 f"{err * 100:+.1f} %", f"{share * 100:.0f} %",
                                 f"{r:.3f}", "met" if ok else "NOT met"])
                    print("  " + " | ".join(str(c) for c in rows[-1]))
    shutil.rmtree(work, ignore_errors=True)
    body = markdown_table(
        ["world", "seed", "policy", "truth (cold starts)", "within the minute",
         "total (±10 %)", "functions within ±25 % (≥ 80 %)", "daily correlation (≥ 0.9)",
         "all three"], rows)
    body += (f"\n\nAll three targets met: learned {met['learned'][0]} of {met['learned'][1]} "
             f"rows, uniform {met['uniform'][0]} of {met['uniform'][1]}. R2, {a.functions} "
             f"functions, {a.days} days, arrivals learned from the last day's rows.")
    cmd = f"bash bench/month_check.sh --functions {a.functions} --days {a.days} --seeds {a.seeds}"
    splice("month-check", body, cmd, page=os.path.join(ROOT, "docs", "coldstart.md"))


if __name__ == "__main__":
    main()
