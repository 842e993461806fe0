"""Times `coldstart synth` (wall, peak memory, rows written) on one release, alternating with a
baseline build when given, and prints medians and the ratio.
    python3 bench/synth_bench.py --bin target/release/coldstart [--baseline OTHER] [--scale S]
"""
import argparse
import json
import os
import shutil
import statistics

from benchlib import markdown_table, run, splice


def rows_of(release):
    """Data rows in the release's cold-start CSVs (header lines left out)."""
    n = 0
    for root, _, files in os.walk(os.path.join(release, "cold_start")):
        for f in files:
            if f.endswith(".csv"):
                with open(os.path.join(root, f), "rb") as fh:
                    n += max(sum(1 for _ in fh) - 1, 0)
    return n


def disk_bytes(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


# The published volume against the light one, in the same script: (scale, volume, regions,
# per-request days). Beyond scale 0.01 the per-request day of all regions is left out (at 0.05
# it is about 20 GB, mostly R1's); at scale 1 one region's (R5) is written.
VOLUME_RUNS = [
    ("0.01", "light", "R1,R2,R3,R4,R5", "last"),
    ("0.01", "published", "R1,R2,R3,R4,R5", "last"),
    ("0.1", "light", "R1,R2,R3,R4,R5", "none"),
    ("0.1", "published", "R1,R2,R3,R4,R5", "none"),
    ("1", "light", "R1,R2,R3,R4,R5", "none"),
    ("1", "published", "R1,R2,R3,R4,R5", "none"),
    ("1", "published", "R5", "last"),
]


def volumes(binary, work):
    """Each of VOLUME_RUNS once: wall, peak memory, requests, cold starts and per-request rows
    (from the release's summary) and bytes written; the table goes to docs/benchmarks.md."""
    rows = []
    for scale, volume, regions, days in VOLUME_RUNS:
        out = os.path.join(work, "volume")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(work, exist_ok=True)
        secs, peak, _ = run([binary, "synth", "--out", out, "--scale", scale, "--volume", volume,
                             "--regions", regions, "--request-days", days, "--no-check"])
        summary = json.load(open(os.path.join(out, "synth_summary.json")))
        requests = sum(r["requests"] for r in summary["regions"])
        cold = sum(r["cold_starts"] for r in summary["regions"])
        day_rows = sum(r["requests_last_day"] for r in summary["regions"])
        size = disk_bytes(out)
        # Without the last day's rows the summary counts that day's requests instead.
        rows_text = f"{day_rows:,} day-30 rows" if days == "last" else "no per-request rows"
        print(f"scale {scale} {volume} {regions}: {secs:.1f} s, peak {peak:.0f} MiB, "
              f"{requests / 1e9:.2f} billion requests, {cold:,} cold starts, {rows_text}, "
              f"{size / 1e9:.2f} GB")
        rows.append([scale, volume, "all five" if "," in regions else regions,
                     f"{day_rows:,} (day 30)" if days == "last" else "none", f"{secs:.1f} s",
                     f"{peak:,.0f} MiB", f"{requests / 1e9:.3g} billion", f"{cold:,}",
                     f"{size / 1e9:.2f} GB"])
        shutil.rmtree(out)
    table = markdown_table(
        ["--scale", "--volume", "regions", "per-request rows", "wall", "peak memory",
         "requests", "cold starts", "written"], rows)
    splice("synth-volume", "`coldstart synth` with the light and the published volume, 31 days, "
           "one run each:\n\n" + table, "bash bench/synth.sh --volumes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--baseline", help="another coldstart build, run alternately")
    ap.add_argument("--scale", default="0.05")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="bench/out/synth")
    ap.add_argument("--volumes", action="store_true",
                    help="the published volume against the light one at scales 0.01, 0.1, 1")
    args = ap.parse_args()
    if args.volumes:
        return volumes(args.bin, args.work)
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
                  f"{rows_of(out)} cold-start rows")
    med = {b: statistics.median(s for s, _ in got[b]) for b in bins}
    for b in bins:
        print(f"{b}: median {med[b]:.2f} s, peak {max(p for _, p in got[b]):.0f} MiB")
    if args.baseline:
        print(f"this build / baseline time: {med[args.bin] / med[args.baseline]:.3f}")
    names = {args.bin: "this build", args.baseline: f"baseline `{args.baseline}`"}
    table = markdown_table(
        ["build", f"median of {args.runs} runs", "peak memory", "cold-start rows", "time / this build"],
        [[names[b], f"{med[b]:.1f} s", f"{max(p for _, p in got[b]):.0f} MiB",
          f"{rows_of(os.path.join(args.work, f'release-{i}')):,}", f"{med[b] / med[args.bin]:.2f}x"]
         for i, b in enumerate(bins)])
    cmd = "bash bench/synth.sh" + (f" --scale {args.scale}" if args.scale != "0.05" else "") + \
        (" --baseline BIN" if args.baseline else "")
    splice("synth", f"`coldstart synth --scale {args.scale}`, all five regions, 31 days:\n\n" + table, cmd)


if __name__ == "__main__":
    main()
