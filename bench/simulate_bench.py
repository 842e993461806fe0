#!/usr/bin/env python3
"""Simulator benchmark: `coldstart simulate --synth` on an R2-sized workload (scale 1: 2,418
functions) for 31 days under each policy, with the child's peak resident memory. The
simulator prints each policy's engine rate (invocations per second on one core; policies run
in parallel); this script adds the wall time and memory, and the same workload at a quarter of
the days, to show memory does not grow with invocations. With --baseline BIN, the policies both
binaries know run on 8 days under each, alternating, and the engine rates are printed as
ratios (this build / baseline). A fixed 10-minute keep-alive alone (the engine split over
every core) gives the single-policy rate. Run it through bench/simulate.sh."""
import argparse
import os
import statistics
import sys

from benchlib import run

COMMON = ["fixed-keepalive:ttl=60s", "hybrid-histogram", "timer-prewarm"]
NEW = ["pool-predict", "cross-region:latency=50ms"]


def rates(out):
    """policy -> engine M invocations/s, from the simulator's table."""
    r = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 8 and ":" in parts[0] and parts[0] != "workload:":
            try:
                r[parts[0]] = float(parts[-1])
            except ValueError:
                pass
    return r


def command(binary, args, days, policies):
    cmd = [binary, "simulate", "--synth", "--region", args.region, "--scale",
           str(args.scale), "--days", str(days), "--out", args.work, "--force"]
    for p in policies:
        cmd += ["--policy", p]
    return cmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--baseline", help="another coldstart build to compare engine rates with")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default="bench/out/simulate")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--region", default="R2")
    args = ap.parse_args()
    if args.baseline:
        got = {args.bin: [], args.baseline: []}
        for _ in range(args.rounds):
            for b in (args.bin, args.baseline):
                secs, _, out = run(command(b, args, 8, COMMON), capture=True)
                got[b].append((secs, rates(out)))
        print(f"--- this build / baseline, 8 days, median of {args.rounds} alternating runs")
        for p in sorted(got[args.bin][0][1]):
            new = statistics.median(r[p] for _, r in got[args.bin])
            old = statistics.median(r.get(p, float("nan")) for _, r in got[args.baseline])
            print(f"{p:<58} {new:8.2f} / {old:8.2f} M inv/s = {new / old:.3f}")
        new = statistics.median(s for s, _ in got[args.bin])
        old = statistics.median(s for s, _ in got[args.baseline])
        print(f"{'wall':<58} {new:8.1f} / {old:8.1f} s = {new / old:.3f}")
    # One policy alone: a per-function policy is split over every core.
    one = ["fixed-keepalive:ttl=10m"]
    for b in [args.bin] + ([args.baseline] if args.baseline else []):
        secs, peak, out = run(command(b, args, 31, one), capture=True)
        r = rates(out)
        label = "this build" if b == args.bin else "baseline"
        print(f"--- one policy alone, 31 days, {label}: wall {secs:.1f} s, peak memory "
              f"{peak:.0f} MiB, engine {r.get('fixed-keepalive:ttl=10m,restart=yes', 0):.2f} M inv/s")
    for days in (8, 31):
        secs, peak, out = run(command(args.bin, args, days, COMMON + NEW), capture=True)
        print(f"--- {days} days: wall {secs:.1f} s, peak memory {peak:.0f} MiB")
        print(out.rstrip())
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    sys.exit(main())
