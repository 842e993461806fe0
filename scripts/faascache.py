#!/usr/bin/env python3
"""FaasCache's claim, tested: Greedy-Dual against LRU and TTL at the same memory.

Fuerst and Sharma (ASPLOS 2021) keep pods as a cache and evict by Greedy-Dual priority; they
report fewer cold starts than LRU and than a 10-minute TTL at the same memory. For each
synthetic region R1..R5, one `coldstart simulate --synth` run measures the fixed 10-minute
keep-alive's peak loaded memory, and a second one sweeps FaasCache's capacity from a share
--low to --high of that peak under each eviction order (`--sweep` once per order), with the
trade-off chart of cold-start rate against peak loaded memory (requests run above the capacity
when the pods in use alone need more, so a capacity below that peak shows at it).
OUT/faascache.md has, per region and capacity, Greedy-Dual's cold starts against LRU's and
TTL's; the charts of the regions where Greedy-Dual gains most and least on LRU (the mean
change over the capacities) are copied to
OUT/figures/faascache-best.svg and faascache-worst.svg. Everything is written under OUT. Run it
through scripts/faascache.sh."""
import argparse
import os
import shutil
import subprocess
import sys
import time

import strategies
from strategies import finish

REGIONS = ["R1", "R2", "R3", "R4", "R5"]
ORDERS = ["gd", "lru", "ttl"]
FIXED = "fixed-keepalive:ttl=10m,restart=yes"


def summary(folder):
    """summary.csv's rows by policy."""
    return {r["policy"]: r for r in strategies.summary(folder)}


def spec(cap, order):
    return f"faascache:capacity={cap}" + {"gd": "", "lru": ",evict=lru",
                                          "ttl": ",evict=ttl,ttl=10m"}[order]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="folder for every run, the figures and faascache.md")
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--low", type=float, default=0.7, help="smallest capacity, share of the peak")
    ap.add_argument("--high", type=float, default=1.0, help="largest capacity, share of the peak")
    ap.add_argument("--sweep-points", type=int, default=5)
    args = ap.parse_args()
    if not 0 < args.low < args.high:
        raise SystemExit("--low and --high: 0 < low < high (shares of the 10-minute peak)")
    if os.path.exists(args.out) and not os.path.exists(os.path.join(args.out, ".faascache")):
        raise SystemExit(f"{args.out} exists and was not made by scripts/faascache.sh; "
                         "give a new folder")
    os.makedirs(os.path.join(args.out, "figures"), exist_ok=True)
    open(os.path.join(args.out, ".faascache"), "w").close()
    base = [args.bin, "simulate", "--synth", "--scale", f"{args.scale:g}", "--days",
            str(args.days), "--seed", str(args.seed), "--warmup-days", "0", "--force"]
    lines = [f"Synthetic regions at scale {args.scale:g}, {args.days} days, seed {args.seed}. "
             "Capacity as a share of the fixed 10-minute keep-alive's peak loaded memory; "
             "each cell is Greedy-Dual's cold starts against LRU's / against TTL's (10 "
             "minutes, under the same capacity), negative where Greedy-Dual makes fewer.", ""]
    header = None
    gain = {}
    t0 = time.perf_counter()
    for region in REGIONS:
        folder = os.path.join(args.out, region)
        subprocess.run(base + ["--region", region, "--policy", "fixed-keepalive:ttl=10m",
                               "--out", os.path.join(folder, "fixed")],
                       check=True, stdout=subprocess.DEVNULL)
        peak = int(float(summary(os.path.join(folder, "fixed"))[FIXED]["peak_loaded_mb"]))
        lo, hi = int(args.low * peak), int(args.high * peak)
        cmd = base + ["--region", region, "--policy", "fixed-keepalive:ttl=10m",
                      "--sweep-points", str(args.sweep_points), "--tradeoff",
                      "cold_start_pct,peak_loaded_mb", "--out", os.path.join(folder, "sweep")]
        for order in ORDERS:
            cmd += ["--sweep", spec(f"{lo}..{hi}", order)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        rows = summary(os.path.join(folder, "sweep"))
        caps = sorted({int(p.split("=")[1].split(",")[0]) for p in rows
                       if p.startswith("faascache:")})
        cells, vs_lru = [], []
        for cap in caps:
            cold = {o: float(rows[spec(cap, o)]["cold_starts"]) for o in ORDERS}
            vs = lambda o: (cold["gd"] - cold[o]) / cold[o] * 100.0 if cold[o] else 0.0
            cells.append(f"{vs('lru'):+.1f} % / {vs('ttl'):+.1f} %")
            vs_lru.append(vs("lru"))
        gain[region] = sum(vs_lru) / len(vs_lru)
        if header is None:
            shares = [f"{c / peak:.2f}" for c in caps]
            header = shares
            lines += ["| region | 10-min peak MB | " + " | ".join(
                f"capacity {s} of the peak" for s in shares) + " |",
                      "|---|---|" + "---|" * len(caps)]
        lines.append(f"| {region} | {peak} | " + " | ".join(cells) + " |")
        print(f"{region}: peak {peak} MB; GD against LRU / TTL: {', '.join(cells)} "
              f"({time.perf_counter() - t0:.0f} s in all)", flush=True)
    best, worst = min(gain, key=gain.get), max(gain, key=gain.get)
    for which, region in (("best", best), ("worst", worst)):
        shutil.copyfile(os.path.join(args.out, region, "sweep", "tradeoff.svg"),
                        os.path.join(args.out, "figures", f"faascache-{which}.svg"))
    lines += ["", f"Against LRU, Greedy-Dual gains most in {best} ({gain[best]:+.1f} % on "
              f"average over the capacities) and least in {worst} ({gain[worst]:+.1f} %)."]
    finish(args.out, "faascache.md", lines, t0)


if __name__ == "__main__":
    sys.exit(main())
