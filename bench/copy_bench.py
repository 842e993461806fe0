#!/usr/bin/env python3
"""Columnar-copy benchmark: `coldstart ingest` against what a user would otherwise run to get
a Parquet copy of the release, all on the same files in this one script:

  * pandas  `read_csv` + `to_parquet` (pyarrow), file by file;
  * polars  `read_csv` + `write_parquet`, file by file;
  * DuckDB  `COPY (SELECT * FROM read_csv('FOLDER/*.csv')) TO 'x.parquet'`, folder by folder
            (a region of a table, or one per-minute table of a region).

Each runs in its own child process, so its peak resident memory (ru_maxrss) is its own; each
is run `--repeat` times, alternating the tools, and the median time is kept. coldstart does
more than copy (it checks every field, converts the wide per-minute tables to long form and
writes a manifest), the others copy as they parse. Run it through bench/copy.sh, which builds
coldstart and installs the pinned peers into bench/.venv.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import sys

from benchlib import markdown_table, run, splice, synth_once

TOOLS = ["coldstart", "pandas", "polars", "duckdb"]


def csv_files(release):
    return sorted(glob.glob(os.path.join(release, "**", "*.csv"), recursive=True))


def folders(release):
    """The folders that hold CSV files: one table of one region each."""
    return sorted({os.path.dirname(f) for f in csv_files(release)})


def child(tool, release, out):
    """Copies the release to Parquet under `out` with `tool`; prints the data rows read."""
    os.makedirs(out, exist_ok=True)
    rows = 0
    if tool == "pandas":
        import pandas as pd

        for i, f in enumerate(csv_files(release)):
            df = pd.read_csv(f)
            df.to_parquet(os.path.join(out, f"{i:05}.parquet"), engine="pyarrow")
            rows += len(df)
    elif tool == "polars":
        import polars as pl

        for i, f in enumerate(csv_files(release)):
            df = pl.read_csv(f, infer_schema_length=10000)
            df.write_parquet(os.path.join(out, f"{i:05}.parquet"))
            rows += df.height
    elif tool == "duckdb":
        import duckdb

        con = duckdb.connect()
        for i, d in enumerate(folders(release)):
            target = os.path.join(out, f"{i:05}.parquet")
            src = os.path.join(d, "*.csv").replace("'", "''")
            n = con.execute(
                f"COPY (SELECT * FROM read_csv('{src}', union_by_name = true)) "
                f"TO '{target}' (FORMAT parquet)"
            ).fetchone()[0]
            rows += n
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(rows)


def copy(tool, args, release, out):
    shutil.rmtree(out, ignore_errors=True)
    if tool == "coldstart":
        secs, peak, _ = run([args.bin, "ingest", release, "--store", out])
        m = json.load(open(os.path.join(out, "_manifest.json")))
        rows = m["rows_read"]
    else:
        secs, peak, text = run([sys.executable, __file__, "--child", tool, release, out],
                               capture=True)
        rows = int(text.strip().splitlines()[-1])
    size = sum(os.path.getsize(f) for f in glob.glob(os.path.join(out, "**", "*.parquet"),
                                                    recursive=True))
    shutil.rmtree(out, ignore_errors=True)
    return secs, peak, rows, size


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(*sys.argv[2:5])
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--work", default="bench/out/copy")
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    args = ap.parse_args()
    tools = args.tools.split(",")
    release = synth_once(args.bin, args.work, args.scale)
    files = csv_files(release)
    mb = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"release: {len(files)} CSV files in {len(folders(release))} folders, {mb:,.0f} MB "
          f"(scale {args.scale}, per-minute tables for R2)")

    results = {t: [] for t in tools}
    for r in range(args.repeat):
        for t in tools:
            secs, peak, rows, size = copy(t, args, release, os.path.join(args.work, f"out-{t}"))
            results[t].append((secs, peak, rows, size))
            print(f"  round {r + 1}: {t:<9} {secs:7.1f} s  peak {peak:6.0f} MiB  {rows:,} rows  "
                  f"{size / 1e6:,.0f} MB of Parquet", flush=True)

    base = statistics.median(s for s, *_ in results[tools[0]])
    print()
    print(f"{'tool':<10} {'median s':>9} {'MB/s':>7} {'peak MiB':>9} {'Parquet MB':>11} "
          f"{'time / ' + tools[0]:>16}")
    table = []
    for t in tools:
        secs = statistics.median(s for s, *_ in results[t])
        peak = max(p for _, p, _, _ in results[t])
        size = results[t][-1][3]
        print(f"{t:<10} {secs:>9.1f} {mb / secs:>7.0f} {peak:>9.0f} {size / 1e6:>11,.0f} "
              f"{secs / base:>15.2f}x")
        table.append([t, f"{secs:.1f} s", f"{mb / secs:.0f}", f"{peak:,.0f} MiB", f"{size / 1e6:,.0f} MB",
                      f"{secs / base:.2f}x"])
    print(f"cores: {os.cpu_count()}")
    rows = results[tools[0]][-1][2]
    splice("copy", f"A scale-{args.scale:g} release with R2's per-minute tables ({len(files)} CSV files, "
           f"{mb:,.0f} MB, {rows:,} rows), median of {args.repeat} rounds:\n\n" +
           markdown_table(["tool", "time", "MB/s", "peak memory", "Parquet written",
                           f"time / {tools[0]}"], table),
           "bash bench/copy.sh" + (f" --scale {args.scale:g}" if args.scale != 0.25 else ""))


if __name__ == "__main__":
    sys.exit(main())
