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


def release(binary, work, world, seed, functions, days, regions):
    """A release of `regions` with per-request rows on every day, ingested; its store."""
    rel, store = os.path.join(work, "rel"), os.path.join(work, "store")
    for p in (rel, store):
        shutil.rmtree(p, ignore_errors=True)
    run([binary, "synth", "--out", rel, "--regions", ",".join(regions), "--functions",
         str(functions), "--days", str(days), "--seed", str(seed), "--arrivals", world,
         "--request-days", "all", "--no-check"])
    run([binary, "ingest", rel, "--store", store])
    shutil.rmtree(rel)
    return store


def check(binary, work, store, region, seed):
    """Per policy: {expansion: (total error, share within, correlation)} and the truth's total."""
    out = os.path.join(work, "check")
    shutil.rmtree(out, ignore_errors=True)
    args = [binary, "simulate", "--store", store, "--region", region, "--against-requests",
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
    ap.add_argument("--regions", default="R2", help="comma separated (R1 to R5)")
    a = ap.parse_args()
    regions = a.regions.split(",")
    binary = os.path.abspath(a.bin)
    work = tempfile.mkdtemp(prefix="month-check-")
    # (world, region, policy, expansion) -> per seed (error, share, correlation, met)
    got = {}
    for world in ("structured", "paper"):
        for seed in range(1, a.seeds + 1):
            store = release(binary, work, world, seed, a.functions, a.days, regions)
            for region in regions:
                res, secs = check(binary, work, store, region, seed)
                print(f"{world} seed {seed} {region}: {secs:.1f} s")
                for policy, e in res.items():
                    for x in ("learned", "uniform"):
                        err, share, r = e[x]
                        ok = (abs(err) <= 0.10 and (share != share or share >= 0.8)
                              and r >= 0.9)
                        key = (world, region, policy.split(",")[0], x)
                        got.setdefault(key, []).append((err, share, r, ok))
                        print(f"  {policy.split(',')[0]} {x}: truth {e['truth']}, "
                              f"{err * 100:+.1f} %, {share * 100:.0f} %, {r:.3f}, "
                              f"{'met' if ok else 'NOT met'}")
    shutil.rmtree(work, ignore_errors=True)
    rows = []
    met = {"learned": [0, 0], "uniform": [0, 0]}
    for (world, region, policy, x), v in got.items():
        errs = [e for e, _, _, _ in v]
        met[x][0] += sum(ok for *_, ok in v)
        met[x][1] += len(v)
        rows.append([world, region, policy, x,
                     f"{min(errs) * 100:+.1f} to {max(errs) * 100:+.1f} %",
                     f"{min(sh for _, sh, _, _ in v) * 100:.0f} %",
                     f"{min(r for _, _, r, _ in v):.3f}",
                     f"{sum(ok for *_, ok in v)}/{len(v)}"])
    body = markdown_table(
        ["world", "region", "policy", "within the minute", "total vs truth (±10 %)",
         "functions within ±25 %, lowest (≥ 80 %)", "daily correlation, lowest (≥ 0.9)",
         "seeds meeting all three"], rows)
    body += (f"\n\nAll three targets met: learned {met['learned'][0]} of {met['learned'][1]} "
             f"replays, uniform {met['uniform'][0]} of {met['uniform'][1]}. Seeds 1 to "
             f"{a.seeds}, {a.functions} functions a region, {a.days} days, arrivals learned "
             f"from the last day's rows.")
    cmd = (f"bash bench/month_check.sh --functions {a.functions} --days {a.days} "
           f"--seeds {a.seeds} --regions {a.regions}")
    splice("month-check", body, cmd, page=os.path.join(ROOT, "docs", "coldstart.md"))


if __name__ == "__main__":
    main()
