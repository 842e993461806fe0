#!/usr/bin/env python3
"""Simulator benchmark: `coldstart simulate --synth` on an R2-sized workload (scale 1: 2,418
functions) for 31 days under each policy, with the child's peak resident memory. The
simulator prints each policy's engine rate (invocations per second on one core; policies run
in parallel); this script adds the wall time and memory, and the same workload at a quarter of
the days, to show memory does not grow with invocations. Run it through bench/simulate.sh."""
import argparse
import os
import sys

from benchlib import run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--work", default="bench/out/simulate")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--region", default="R2")
    args = ap.parse_args()
    policies = ["fixed-keepalive:ttl=60s", "hybrid-histogram", "timer-prewarm"]
    for days in (8, 31):
        cmd = [args.bin, "simulate", "--synth", "--region", args.region, "--scale",
               str(args.scale), "--days", str(days), "--out", args.work, "--force"]
        for p in policies:
            cmd += ["--policy", p]
        secs, peak, out = run(cmd, capture=True)
        print(f"--- {days} days: wall {secs:.1f} s, peak memory {peak:.0f} MiB")
        print(out.rstrip())
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    sys.exit(main())
