"""Runs `coldstart synth` over seeds and scales and tabulates every calibration check: its
tolerance, the range measured over the seeds at each scale, and on how many seeds it was
inside. Writes the table into docs/coldstart.md (between the `bench:calibration` markers).
    python3 bench/calibration_bench.py --bin target/debug/coldstart [--scales 0.05 1 1:published]
        [--seeds 3]
A scale written `S:published` is run with `--volume published` (the paper's 85 billion
requests at scale 1, so the volume checks are claimed there) and without per-request rows
(`--request-days none`: at that volume R1's day 30 alone is hundreds of millions of rows; the
release still counts them for its checks).
"""
import argparse
import json
import os
import shutil

from benchlib import ROOT, markdown_table, run, splice


def summary(binary, work, column, seed):
    """The checks of `coldstart synth --scale SCALE --seed SEED` (kept in WORK between runs),
    COLUMN being SCALE or SCALE:published."""
    scale, _, volume = column.partition(":")
    if volume not in ("", "published"):
        raise SystemExit(f"--scales {column}: write a scale as S or S:published")
    published = volume == "published"
    out = os.path.join(work, f"scale{scale}{'-published' if published else ''}-seed{seed}")
    path = os.path.join(out, "synth_summary.json")
    if not os.path.exists(path):
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(work, exist_ok=True)
        volume = ["--volume", "published", "--request-days", "none"] if published else []
        secs, peak, _ = run([binary, "synth", "--out", out, "--scale", str(scale), "--seed", str(seed),
                             "--quantiles", "none", "--no-check"] + volume)
        print(f"scale {scale}{' published' if published else ''} seed {seed}: {secs:.0f} s, "
              f"peak {peak:.0f} MiB")
        # Only the summary is kept: a scale-1 release is gigabytes.
        keep = open(path).read()
        shutil.rmtree(out)
        os.makedirs(out)
        open(path, "w").write(keep)
    return json.load(open(path))


def fmt(v):
    if v != v:
        return "NaN"
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.2f}" if a >= 1 else f"{v:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--scales", nargs="+", default=["0.05"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--work", default="bench/out/calibration")
    args = ap.parse_args()
    seeds = list(range(1, args.seeds + 1))
    runs = {(s, k): summary(args.bin, args.work, s, k)["checks"] for s in args.scales for k in seeds}
    names = [c["name"] for c in runs[(args.scales[0], 1)]]
    targets = {c["name"]: c["target"].split(" (claimed")[0] for c in runs[(args.scales[0], 1)]}
    rows = []
    tally = {s: [0, 0] for s in args.scales}
    for name in names:
        row = [name, targets[name]]
        for s in args.scales:
            cs = [c for k in seeds for c in runs[(s, k)] if c["name"] == name]
            if not cs:
                # Not measured at this scale (R1's per-request rows where none are written).
                row.append("not measured")
                continue
            vals = [c["measured"] for c in cs]
            inside = sum(c["pass"] for c in cs)
            claimed = all(c["claimed"] for c in cs)
            lo, hi = min(vals), max(vals)
            span = fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}"
            row.append(f"{span} ({inside}/{len(seeds)}{'' if claimed else ', not claimed'})")
            if claimed:
                tally[s][0] += inside == len(seeds)
                tally[s][1] += 1
        rows.append(row)
    named = {s: f"scale {s.partition(':')[0]}" +
             (" at the published volume" if s.endswith(":published") else "") for s in args.scales}
    header = ["check", "target"] + [f"{named[s]}, seeds 1–{args.seeds}" for s in args.scales]
    notes = "; ".join(f"{named[s]}: {a} of {b} claimed checks inside on every seed"
                      for s, (a, b) in tally.items())
    print(notes)
    body = (markdown_table(header, rows) + "\n\n" + notes +
            ". Each cell: the range over the seeds, then on how many seeds the check was inside its"
            " tolerance; `not claimed` where the release is too small to measure it.")
    cmd = "bash bench/calibration.sh" + "".join(
        [f" --scales {' '.join(args.scales)}" if args.scales != ["0.05"] else "",
         f" --seeds {args.seeds}" if args.seeds != 3 else ""])
    splice("calibration", body, cmd, page=os.path.join(ROOT, "docs", "coldstart.md"))


if __name__ == "__main__":
    main()
