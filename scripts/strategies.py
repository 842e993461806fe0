#!/usr/bin/env python3
"""The paper's strategies, each where it pays most and where it pays least.

For each strategy (timer pre-warming, pool prediction, peak shaving, forecasting pre-warm,
cross-region scheduling, per-function concurrency) and each synthetic region R1..R5, one `coldstart simulate --synth`
run replays the region under the strategy, the platform's 60 s keep-alive and a sweep of the
strategy's own knob (for timer pre-warming, of the keep-alive it competes with), with the
trade-off chart drawn on the strategy's own axes (`--tradeoff`). The change each makes against
the 60 s keep-alive in the same run, on the metric the strategy is meant to lower, at its best
setting (the best point of its own sweep, or its defaults where the sweep is of the policy it
competes with), picks the region where the strategy is at its best and the one where it is at
its worst; their charts are copied to OUT/figures/STRATEGY-best.svg and STRATEGY-worst.svg, and
OUT/strategies.md has the table of every region, and that of the what-ifs of the cold start's
own cost (`--scale-component`: scheduling twice as fast, no dependency deployment) against the
60 s keep-alive without them. Everything is written under OUT. Run it through
scripts/strategies.sh."""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import time

# name, the policy, how to find its row in summary.csv, the sweep, the chart's axes, the metric
# it is meant to lower, what that metric is called in the table, the share of --scale it runs
# at, and what only the strategy's own rows (its defaults and its sweep) have in their names.
STRATEGIES = [
    ("timer-prewarm", "timer-prewarm", "timer-prewarm:", "fixed-keepalive:ttl=10s..2h",
     "cold_start_pct", "cold_starts", "cold starts", 1.0, "timer-prewarm:"),
    ("pool-predict", "pool-predict", "pool-predict:window=1h,quantile=0.95,",
     "pool-predict:quantile=0.5..0.999", "cold_start_seconds", "cold_start_seconds",
     "cold-start seconds", 1.0, "pool-predict:"),
    ("peak-shave", "peak-shave", "peak-shave:max-delay=30s,",
     "peak-shave:max-delay=1s..6h", "peak_running_pods,held_mean_s", "peak_running_pods",
     "peak running pods", 1.0, "peak-shave:"),
    ("forecast-prewarm", "forecast-prewarm", "forecast-prewarm:ttl=60s,min-rpm=10,",
     "forecast-prewarm:min-rpm=1..1000", "cold_start_pct", "cold_starts", "cold starts", 1.0,
     "forecast-prewarm:"),
    ("cross-region", "cross-region", "cross-region:latency=50ms,ttl=60s,capacity=1,",
     "cross-region:capacity=0.01..0.5", "cold_start_seconds,remote_cold_starts",
     "cold_start_seconds", "cold-start seconds", 1.0, "cross-region:"),
    ("concurrency", "fixed-keepalive:concurrency=4",
     "fixed-keepalive:ttl=60s,restart=yes,concurrency=4", "fixed-keepalive:concurrency=1..16",
     "cold_start_pct", "cold_starts", "cold starts", 1.0, "concurrency="),
]
# What-ifs of the cold start's own cost (`--scale-component`), each against the 60 s keep-alive
# without it: a name, and the flags.
WHAT_IFS = [
    ("scheduling twice as fast", ["--scale-component", "scheduling=0.5"]),
    ("no dependency deployment", ["--scale-component", "dependency=0"]),
]
REGIONS = ["R1", "R2", "R3", "R4", "R5"]
KEEPALIVE = "fixed-keepalive:ttl=60s,restart=yes"


def summary(folder):
    with open(os.path.join(folder, "summary.csv"), newline="") as f:
        return list(csv.DictReader(f))


def row(rows, prefix):
    """The row named `prefix`, else the one row whose name starts with it."""
    exact = [r for r in rows if r["policy"] == prefix]
    found = exact or [r for r in rows if r["policy"].startswith(prefix)]
    if len(found) != 1:
        raise SystemExit(f"{len(found)} rows of summary.csv start with {prefix!r}")
    return found[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="folder for every run, the figures and strategies.md")
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--days", type=int, default=4, help="days replayed (the first warms up)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sweep-points", type=int, default=8)
    args = ap.parse_args()
    if os.path.exists(args.out) and not os.path.exists(os.path.join(args.out, ".strategies")):
        raise SystemExit(f"{args.out} exists and was not made by scripts/strategies.sh; "
                         "give a new folder")
    os.makedirs(os.path.join(args.out, "figures"), exist_ok=True)
    open(os.path.join(args.out, ".strategies"), "w").close()
    lines = [f"Synthetic regions, {args.days} days (the first warms the policies up), seed "
             f"{args.seed}; change against the 60 s keep-alive in the same run, at the "
             "strategy's defaults (and in brackets at the best point of its own sweep; best "
             "and worst regions by that).",
             "", "| strategy | scale | metric | " + " | ".join(REGIONS) + " | best | worst |",
             "|---|---|---|" + "---|" * (len(REGIONS) + 2)]
    t0 = time.perf_counter()
    for name, policy, prefix, sweep, axes, metric, label, share, mark in STRATEGIES:
        scale = args.scale * share
        change, at_best = {}, {}
        for region in REGIONS:
            folder = os.path.join(args.out, name, region)
            cmd = [args.bin, "simulate", "--synth", "--region", region, "--scale",
                   f"{scale:g}", "--days", str(args.days), "--seed", str(args.seed),
                   "--warmup-days", "1", "--policy", "fixed-keepalive", "--policy", policy,
                   "--sweep", sweep, "--sweep-points", str(args.sweep_points),
                   "--tradeoff", axes, "--out", folder, "--force"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            rows = summary(folder)
            base = float(row(rows, KEEPALIVE)[metric])
            ours = float(row(rows, prefix)[metric])
            # The strategy's own rows: its defaults and, where the sweep is of its own
            # parameter, every point of the sweep.
            own = [float(r[metric]) for r in rows if mark in r["policy"]]
            pct = lambda v: (v - base) / base * 100.0 if base else float("nan")
            change[region] = pct(ours)
            at_best[region] = pct(min(own))
            print(f"{name} {region}: {label} {ours:.6g} against {base:.6g} "
                  f"({change[region]:+.1f} %; {at_best[region]:+.1f} % at the sweep's best), "
                  f"{time.perf_counter() - t0:.0f} s in all", flush=True)
        # Where it pays most and least at its best setting.
        best = min(at_best, key=at_best.get)
        worst = max(at_best, key=at_best.get)
        for which, region in (("best", best), ("worst", worst)):
            shutil.copyfile(os.path.join(args.out, name, region, "tradeoff.svg"),
                            os.path.join(args.out, "figures", f"{name}-{which}.svg"))
        cells = " | ".join(f"{change[r]:+.1f} % ({at_best[r]:+.1f} %)" for r in REGIONS)
        lines.append(f"| `{name}` | {scale:g} | {label} | {cells} | {best} | {worst} |")
    lines += ["", "What-ifs of the cold start's cost, each against the 60 s keep-alive without it "
              "(same seed): change in cold-start seconds (and in cold starts).", "",
              "| what-if | flags | " + " | ".join(REGIONS) + " |",
              "|---|---|" + "---|" * len(REGIONS)]
    plain = {}
    for what, flags in [("as it is", [])] + WHAT_IFS:
        cells = []
        for region in REGIONS:
            folder = os.path.join(args.out, "what-if", region, what.replace(" ", "-"))
            cmd = [args.bin, "simulate", "--synth", "--region", region, "--scale",
                   f"{args.scale:g}", "--days", str(args.days), "--seed", str(args.seed),
                   "--warmup-days", "1", "--policy", "fixed-keepalive", "--out", folder,
                   "--force"] + flags
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            r = row(summary(folder), KEEPALIVE)
            got = (float(r["cold_start_seconds"]), float(r["cold_starts"]))
            if not flags:
                plain[region] = got
                continue
            base = plain[region]
            pct = [(g - b) / b * 100.0 if b else float("nan") for g, b in zip(got, base)]
            cells.append(f"{pct[0]:+.1f} % ({pct[1]:+.1f} %)")
            print(f"{what} {region}: cold-start seconds {got[0]:.6g} against {base[0]:.6g}, "
                  f"cold starts {got[1]:.6g} against {base[1]:.6g}", flush=True)
        if flags:
            lines.append(f"| {what} | `{' '.join(flags)}` | " + " | ".join(cells) + " |")
    finish(args.out, "strategies.md", lines, t0)


def finish(out, name, lines, t0):
    """Writes the table's `lines` to OUT/name and prints them."""
    table = "\n".join(lines) + "\n"
    with open(os.path.join(out, name), "w") as f:
        f.write(table)
    print(table)
    print(f"wrote {out}/{name} and {out}/figures/ ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
