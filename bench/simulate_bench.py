#!/usr/bin/env python3
"""Simulator benchmark: `coldstart simulate --synth` on an R2-sized workload (scale 1: 2,418
functions) for 31 days under each policy, with the child's peak resident memory. The
simulator prints each policy's engine rate (invocations per second on one core; policies run
in parallel); this script adds the wall time and memory, and the same workload at a quarter of
the days, to show memory does not grow with invocations. With --baseline BIN, the policies both
binaries know run on 8 days under each, alternating, and the engine rates are printed as
ratios (this build / baseline). A fixed 10-minute keep-alive alone (the engine split over
every core) gives the single-policy rate. FaasCache runs beside the fixed 10-minute keep-alive,
one eviction order per run (two policies on two cores, the rates of the same run compared),
at a capacity of 90 % of the fixed 10 minutes' peak loaded memory (measured in a run of its
own, rounded down to whole GiB) unless --capacity says; --faascache-only runs just that
comparison. Last, the month replayed from a synthetic release's per-minute counts of the region
(arrivals within the minute learned from day 30's rows, and spread uniformly), load and replay
timed together; --month-only runs just that. Run it through bench/simulate.sh."""
import argparse
import os
import re
import shutil
import statistics
import sys

from benchlib import markdown_table, run, splice

COMMON = ["fixed-keepalive:ttl=60s", "hybrid-histogram", "timer-prewarm"]
NEW = ["pool-predict", "cross-region:latency=50ms"]
FIXED = "fixed-keepalive:ttl=10m"
FIXED_NAME = "fixed-keepalive:ttl=10m,restart=yes"
EVICT = ["gd", "lru", "freq", "size", "ttl"]


def rows(out):
    """policy -> the simulator's table row, split on blanks."""
    r = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 8 and ":" in parts[0] and parts[0] != "workload:":
            r[parts[0]] = parts
    return r


def rates(out):
    """policy -> engine M invocations/s, from the simulator's table."""
    r = {}
    for p, parts in rows(out).items():
        try:
            r[p] = float(parts[-1])
        except ValueError:
            pass
    return r


def faascache(args):
    """FaasCache under each eviction order beside the fixed 10-minute keep-alive, 31 days."""
    cap = args.capacity
    if not cap:
        _, _, out = run(command(args.bin, args, 31, [FIXED]), capture=True)
        peak = int(rows(out)[FIXED_NAME][-2])
        cap = int(0.9 * peak) // 1024 * 1024
        print(f"--- {FIXED} alone: peak loaded memory {peak} MB; FaasCache's capacity {cap} MB")
    table = []
    for e in EVICT:
        spec = f"faascache:capacity={cap}" + ("" if e == "gd" else f",evict={e}")
        secs, peak, out = run(command(args.bin, args, 31, [FIXED, spec]), capture=True)
        r, got = rates(out), rows(out)
        name = next(p for p in r if p.startswith("faascache:"))
        fixed, fc = r.get(FIXED_NAME, float("nan")), r[name]
        print(f"--- {name} beside {FIXED}, 31 days: wall {secs:.1f} s; engine {fc:.2f} against "
              f"{fixed:.2f} M inv/s ({fixed / fc:.2f}x slower)")
        print(out.rstrip())
        table.append([f"`{name}`", f"{secs:.1f} s", f"{fixed:.1f}", f"{fc:.1f}",
                      f"{fixed / fc:.2f}x", got[name][2], got[FIXED_NAME][2], got[name][-2],
                      got[FIXED_NAME][-2]])
    splice("simulate-faascache",
           markdown_table(["FaasCache run beside the fixed 10 min, 31 days", "wall",
                           "fixed 10 min M inv/s", "FaasCache M inv/s", "fixed / FaasCache",
                           "cold starts", "fixed 10 min cold starts", "peak MB",
                           "fixed 10 min peak MB"], table),
           how(args, "--faascache-only") +
           (f" --capacity {args.capacity}" if args.capacity else ""))


def how(args, only):
    """The command that measured a table: the whole script, or `only` its part."""
    return ("bash bench/simulate.sh" + ("" if args.whole else f" {only}") +
            (f" --scale {args.scale:g}" if args.scale != 1.0 else ""))


def month_command(binary, args, store, within):
    """The month of the region's per-minute counts under the 60 s keep-alive, arrivals within
    the minute `within` (learned or uniform)."""
    return [binary, "simulate", "--store", store, "--region", args.region, "--source",
            "per-minute", "--within-minute", within, "--policy", "fixed-keepalive:ttl=60s",
            "--out", os.path.join(args.work, "month-sim"), "--force"]


def month_replay(args):
    """The month replayed from per-minute counts: a synthetic release of the region (its
    per-minute tables and day 30's per-request rows), ingested, replayed under the 60 s
    keep-alive with arrivals learned from day 30 and spread uniformly."""
    work = os.path.join(args.work, "month")
    release, store = os.path.join(work, "release"), os.path.join(work, "store")
    stamp = os.path.join(work, "params")
    params = f"region={args.region} scale={args.scale}"
    if not (os.path.exists(stamp) and open(stamp).read() == params):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        secs, peak, _ = run([args.bin, "synth", "--out", release, "--regions", args.region,
                             "--scale", str(args.scale), "--quantiles", args.region, "--no-check"])
        print(f"--- synth {args.region} at scale {args.scale:g}: {secs:.0f} s, peak {peak:.0f} MiB")
        secs, peak, _ = run([args.bin, "ingest", release, "--store", store])
        print(f"--- ingest: {secs:.0f} s, peak {peak:.0f} MiB")
        shutil.rmtree(release)
        open(stamp, "w").write(params)
    table = []
    for within in ("learned", "uniform"):
        secs, peak, out = run(month_command(args.bin, args, store, within), capture=True)
        got = rows(out).get("fixed-keepalive:ttl=60s,restart=yes")
        print(f"--- per-minute month, {within}: wall {secs:.1f} s, peak {peak:.0f} MiB")
        print(out.rstrip())
        faith = next((l for l in out.splitlines() if l.startswith("faithfulness")), "")
        # "... where the trace has B on the same days (+x %); W of N functions with ..."
        vs = re.search(r"\(([+-][0-9.]+ %)\)", faith)
        near = re.search(r"; ([0-9]+ of [0-9]+) functions", faith)
        table.append([f"{args.region} per-minute counts, 31 days, arrivals {within}",
                      f"{secs:.1f} s", f"{peak:.0f} MiB", got[1], got[2],
                      vs.group(1) if vs else "—", near.group(1) if near else "—", got[-1]])
    body = markdown_table(["the 60 s keep-alive on", "wall (load and replay)", "peak memory",
                           "invocations", "cold starts", "vs the release's own",
                           "functions within ±10 % of their own", "engine M inv/s"], table)
    if args.baseline:
        body += "\n\n" + month_against(args, store)
    splice("simulate-month", body, how(args, "--month-only") +
           (" --baseline BASELINE" if args.baseline else ""))


def month_against(args, store):
    """The learned month under this build and --baseline, alternating for --rounds rounds on the
    same machine: each one's median wall and peak, the ratio, and whether their cold starts agree."""
    got = {args.bin: [], args.baseline: []}
    for _ in range(args.rounds):
        for b in (args.bin, args.baseline):
            secs, peak, out = run(month_command(b, args, store, "learned"), capture=True)
            cold = rows(out).get("fixed-keepalive:ttl=60s,restart=yes")[2]
            got[b].append((secs, peak, cold))
            print(f"--- learned month, {'this build' if b == args.bin else 'baseline'}: "
                  f"wall {secs:.1f} s, peak {peak:.0f} MiB, {cold} cold starts")
    new, old = ((statistics.median(r[0] for r in got[b]), statistics.median(r[1] for r in got[b]))
                for b in (args.bin, args.baseline))
    same = len({r[2] for r in got[args.bin] + got[args.baseline]}) == 1
    line = (f"The learned month against the baseline build, {args.rounds} alternating rounds "
            f"(medians): this build {new[0]:.1f} s and {new[1]:.0f} MiB, the baseline "
            f"{old[0]:.1f} s and {old[1]:.0f} MiB; wall ratio {new[0] / old[0]:.3f}, "
            f"{'the same' if same else 'different'} cold starts.")
    print(line)
    return line


def command(binary, args, days, policies):
    cmd = [binary, "simulate", "--synth", "--region", args.region, "--scale",
           str(args.scale), "--days", str(days), "--out", args.work, "--force"]
    for p in policies:
        cmd += ["--policy", p]
    return cmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--baseline", help="another coldstart build to compare engine rates with "
                    "(with --month-only: the learned month's wall time, alternating)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default="bench/out/simulate")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--region", default="R2")
    ap.add_argument("--capacity", type=int, help="FaasCache's capacity in MB "
                    "(default 90 %% of the fixed 10 minutes' peak loaded memory)")
    ap.add_argument("--faascache-only", action="store_true",
                    help="only FaasCache's eviction orders beside the fixed 10-minute keep-alive")
    ap.add_argument("--month-only", action="store_true",
                    help="only the month replayed from the region's per-minute counts")
    args = ap.parse_args()
    args.whole = not (args.faascache_only or args.month_only)
    if args.faascache_only:
        return faascache(args)
    if args.month_only:
        return month_replay(args)
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
    table = [["fixed 10 min alone, 31 days (split over every core)", f"{secs:.1f} s", f"{peak:.0f} MiB",
              f"{r.get('fixed-keepalive:ttl=10m,restart=yes', 0):.1f}"]] if not args.baseline else []
    last = ""
    for days in (8, 31):
        secs, peak, out = run(command(args.bin, args, days, COMMON + NEW), capture=True)
        print(f"--- {days} days: wall {secs:.1f} s, peak memory {peak:.0f} MiB")
        print(out.rstrip())
        table.append([f"six policies, {days} days", f"{secs:.1f} s", f"{peak:.0f} MiB",
                      ", ".join(f"{p.split(',')[0]} {v:.1f}" for p, v in rates(out).items())])
        last = out
    print(f"cores: {os.cpu_count()}")
    printed = "\n".join(l for l in last.splitlines() if not l.startswith("wrote "))
    splice("simulate", markdown_table(["run", "wall", "peak memory", "engine M invocations/s"], table) +
           f"\n\nThe 31-day run's table (scale {args.scale:g}, {args.region}):\n\n```text\n{printed}\n```",
           "bash bench/simulate.sh" + (f" --scale {args.scale:g}" if args.scale != 1.0 else ""))
    faascache(args)
    month_replay(args)


if __name__ == "__main__":
    sys.exit(main())
