"""Times `coldstart synth` (wall, peak memory, rows written) on one release, alternating with a
baseline build when given, and prints medians and the ratio.
    python3 bench/synth_bench.py --bin target/release/coldstart [--baseline OTHER] [--scale S]
"""
import argparse
import os
import shutil
import statistics

from benchlib import markdown_table, run, splice


def rows(release):
    """Data rows in the release's cold-start CSVs (header lines left out)."""
    n = 0
    for root, _, files in os.walk(os.path.join(release, "cold_start")):
        for f in files:
            if f.endswith(".csv"):
                with open(os.path.join(root, f), "rb") as fh:
                    n += max(sum(1 for _ in fh) - 1, 0)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--baseline", help="another coldstart build, run alternately")
    ap.add_argument("--scale", default="0.05")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="bench/out/synth")
    args = ap.parse_args()
    bins = [args.bin] + ([args.baseline] if args.baseline else [])
    got = {b: [] for b in bins}
    for k in range(args.runs):
        for i, b in enumerate(bins):
            out = os.path.join(args.work, f"release-{i}")
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(args.work, exist_ok=True)
            secs, peak, _ = run([b, "synth", "--out", out, "--scale", args.scale])
            got[b].append((secs, peak))
            print(f"run {k + 1}: {b}: {secs:.2f} s, peak {peak:.0f} MiB, "
                  f"{rows(out)} cold-start rows")
    med = {b: statistics.median(s for s, _ in got[b]) for b in bins}
    for b in bins:
        print(f"{b}: median {med[b]:.2f} s, peak {max(p for _, p in got[b]):.0f} MiB")
    if args.baseline:
        print(f"this build / baseline time: {med[args.bin] / med[args.baseline]:.3f}")
    names = {args.bin: "this build", args.baseline: f"baseline `{args.baseline}`"}
    table = markdown_table(
        ["build", f"median of {args.runs} runs", "peak memory", "cold-start rows", "time / this build"],
        [[names[b], f"{med[b]:.1f} s", f"{max(p for _, p in got[b]):.0f} MiB",
          f"{rows(os.path.join(args.work, f'release-{i}')):,}", f"{med[b] / med[args.bin]:.2f}x"]
         for i, b in enumerate(bins)])
    cmd = "bash bench/synth.sh" + (f" --scale {args.scale}" if args.scale != "0.05" else "") + \
        (" --baseline BIN" if args.baseline else "")
    splice("synth", f"`coldstart synth --scale {args.scale}`, all five regions, 31 days:\n\n" + table, cmd)


if __name__ == "__main__":
    main()
