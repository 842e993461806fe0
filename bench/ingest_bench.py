#!/usr/bin/env python3
"""Ingest benchmark (issue 2): coldstart ingest against pandas read_csv on the same files.

Generates (once) a synthetic release with >= 12 million cold starts and >= 50 million
day-30 request rows, then measures in this one script:
  * `coldstart ingest` of the cold-start table, of the request table, and of everything,
    each as rows/s and MB/s, with the child's peak memory (ru_maxrss);
  * pandas `read_csv` of the same cold-start and request files, one file at a time, the
    way the publishers' notebook reads them;
and prints the ratios. Run it through bench/ingest.sh, which builds and installs pandas.
"""
import argparse
import glob
import json
import os
import shutil
import sys
import time

from benchlib import markdown_table, run, splice, synth_once


def files_of(release, family):
    return sorted(glob.glob(os.path.join(release, family, "R*", "*.csv")))


def pandas_read(files, limit_s):
    import pandas as pd

    rows = 0
    nbytes = 0
    t0 = time.perf_counter()
    done = 0
    for f in files:
        df = pd.read_csv(f)
        rows += len(df)
        nbytes += os.path.getsize(f)
        done += 1
        del df
        if time.perf_counter() - t0 > limit_s:
            break
    secs = time.perf_counter() - t0
    return rows, nbytes, secs, done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--work", default="bench/out")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--pandas-limit-s", type=float, default=240.0,
                    help="stop pandas after this many seconds per table (rows/s stays exact)")
    args = ap.parse_args()
    release = synth_once(args.bin, args.work, args.scale)
    summary = json.load(open(os.path.join(release, "synth_summary.json")))
    cold = sum(r["cold_starts"] for r in summary["regions"])
    reqs = sum(r["requests_last_day"] for r in summary["regions"])
    print(f"release: {cold:,} cold-start rows, {reqs:,} request rows")

    results = {}
    for family, table in [("cold_start", "cold_starts"), ("per_request", "requests")]:
        files = files_of(release, family)
        nbytes = sum(os.path.getsize(f) for f in files)
        rows = cold if family == "cold_start" else reqs
        store = os.path.join(args.work, f"store-{table}")
        secs, peak, _ = run([args.bin, "ingest", os.path.join(release, family), "--store", store])
        shutil.rmtree(store, ignore_errors=True)
        p_rows, p_bytes, p_secs, p_files = pandas_read(files, args.pandas_limit_s)
        results[table] = dict(
            rows=rows, mb=nbytes / 1e6, secs=secs, peak_mib=peak,
            rows_s=rows / secs, mb_s=nbytes / 1e6 / secs,
            pandas_rows_s=p_rows / p_secs, pandas_mb_s=p_bytes / 1e6 / p_secs,
            pandas_files=f"{p_files}/{len(files)}",
        )

    store = os.path.join(args.work, "store-all")
    all_secs, all_peak, _ = run([args.bin, "ingest", release, "--store", store])
    manifest = json.load(open(os.path.join(store, "_manifest.json")))
    shutil.rmtree(store, ignore_errors=True)

    print()
    print(f"{'table':<12} {'rows':>12} {'MB':>9} {'ingest s':>9} {'rows/s':>12} {'MB/s':>8} "
          f"{'peak MiB':>9} {'pandas rows/s':>14} {'pandas MB/s':>12} {'ratio':>7}")
    for t, r in results.items():
        print(f"{t:<12} {r['rows']:>12,} {r['mb']:>9.0f} {r['secs']:>9.1f} {r['rows_s']:>12,.0f} "
              f"{r['mb_s']:>8.1f} {r['peak_mib']:>9.0f} {r['pandas_rows_s']:>14,.0f} "
              f"{r['pandas_mb_s']:>12.1f} {r['rows_s'] / r['pandas_rows_s']:>6.1f}x"
              f"   (pandas read {r['pandas_files']} files)")
    print(f"whole release: {manifest['rows_read']:,} rows, {manifest['bytes_read'] / 1e6:,.0f} MB "
          f"in {all_secs:.1f} s ({manifest['bytes_read'] / 1e6 / all_secs:.0f} MB/s), "
          f"peak memory {all_peak:.0f} MiB")
    print(f"cores: {os.cpu_count()}")
    rows = [[t, f"{r['rows']:,}", f"{r['mb']:,.0f}",
             f"{r['rows_s'] / 1e6:.2f} M rows/s, {r['mb_s']:.0f} MB/s",
             f"{r['pandas_rows_s'] / 1e6:.2f} M rows/s, {r['pandas_mb_s']:.0f} MB/s",
             f"{r['rows_s'] / r['pandas_rows_s']:.1f}x"] for t, r in results.items()]
    splice("ingest", markdown_table(
        ["table", "rows", "MB", "coldstart ingest", "pandas `read_csv`", "ratio"], rows) +
        f"\n\nThe whole release ({manifest['rows_read']:,} rows, "
        f"{manifest['bytes_read'] / 1e6:,.0f} MB) in {all_secs:.1f} s "
        f"({manifest['bytes_read'] / 1e6 / all_secs:.0f} MB/s), peak memory {all_peak:.0f} MiB.",
        f"bash bench/ingest.sh --scale {args.scale:g}")


if __name__ == "__main__":
    sys.exit(main())
