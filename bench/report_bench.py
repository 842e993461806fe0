#!/usr/bin/env python3
"""Report benchmark (issue 4): `coldstart report` and the publishers' four notebook
computations, each timed here against pandas on the same release, in this one script.

Uses (or generates once) the synthetic release of bench/ingest.sh (scale 1.25: 21 million
cold starts in five regions, R2 alone 3.5 million over 31 days with 3,000 functions, and
58 million request rows of day 30), ingests it once, then prints:
  * the full report's wall time, each analysis's time and the report's peak memory;
  * the four computations of the publishers' notebook, by coldstart on its store and by
    pandas reading the release's CSV files as the notebook does, with the ratios:
      1. CDF of cold start time per region
      2. R2 cold starts joined with the runtime table, counted per runtime
      3. CDF of totalCost_worker over all per-request rows (rows/s)
      4. distinct pods and requests per funcID over all per-request rows
Run it through bench/report.sh.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import time


def run(cmd, out=subprocess.DEVNULL):
    """Runs cmd; returns (seconds, the child's own peak resident memory in MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{cmd} failed with status {status}")
    return secs, usage.ru_maxrss / 1024.0


def csvs(release, family, region="R*"):
    return sorted(glob.glob(os.path.join(release, family, region, "*.csv")))


def regions(release, family):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(release, family, "R*")))


def pandas_cold_start_cdf(release):
    import numpy as np
    import pandas as pd
    out = {}
    for r in regions(release, "cold_start"):
        df = pd.concat([pd.read_csv(f) for f in csvs(release, "cold_start", r)])
        x = np.sort(df["totalCost_cold_start"].values)
        out[r] = (x, np.arange(1, len(x) + 1) / len(x))
    return sum(len(v[0]) for v in out.values())


def func_id(df):
    pool = df["podID"].str.rsplit("-", n=1).str[0]
    return df["funcName"].astype(str) + "---" + df["userID"].astype(str) + "---" + pool


def pandas_runtime_counts(release):
    import pandas as pd
    df = pd.concat([pd.read_csv(f) for f in csvs(release, "cold_start", "R2")])
    df["funcID"] = func_id(df)
    rt = pd.read_csv(os.path.join(release, "runtime_triggerType", "df_funcID_runtime_triggerType.csv"))
    return df.merge(rt, on="funcID")["runtime"].value_counts()


def pandas_request_cdf(release):
    import numpy as np
    import pandas as pd
    n = 0
    for r in regions(release, "per_request"):
        df = pd.concat([pd.read_csv(f, usecols=["totalCost_worker"]) for f in csvs(release, "per_request", r)])
        x = np.sort(df["totalCost_worker"].values)
        _ = np.arange(1, len(x) + 1) / len(x)
        n += len(x)
    return n


def pandas_pods_per_function(release):
    import pandas as pd
    parts = []
    for r in regions(release, "per_request"):
        df = pd.concat([pd.read_csv(f, usecols=["funcName", "userID", "podID"])
                        for f in csvs(release, "per_request", r)])
        df["funcID"] = func_id(df)
        parts.append(df.groupby("funcID").agg(pods=("podID", "nunique"), requests=("podID", "size")))
    return sum(len(p) for p in parts)


def timed(f, *a):
    t0 = time.perf_counter()
    v = f(*a)
    return time.perf_counter() - t0, v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/coldstart")
    ap.add_argument("--work", default="bench/out")
    ap.add_argument("--scale", type=float, default=1.25)
    ap.add_argument("--skip-pandas", action="store_true")
    args = ap.parse_args()
    release = os.path.join(args.work, "release")
    store = os.path.join(args.work, "store")
    stamp = os.path.join(args.work, "release.params")
    params = f"scale={args.scale} quantiles=R2 seed=1"
    if not (os.path.exists(stamp) and open(stamp).read() == params):
        shutil.rmtree(release, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)
        os.makedirs(args.work, exist_ok=True)
        t, _ = run([args.bin, "synth", "--out", release, "--scale", str(args.scale),
                    "--quantiles", "R2", "--seed", "1"])
        print(f"synth: {t:.1f} s")
        open(stamp, "w").write(params)
    manifest = os.path.join(store, "_manifest.json")
    if not os.path.exists(manifest) or os.path.getmtime(manifest) < os.path.getmtime(stamp):
        t, peak = run([args.bin, "ingest", release, "--store", store])
        print(f"ingest (once): {t:.1f} s, peak {peak:.0f} MiB")
    m = json.load(open(manifest))
    for t in m["tables"]:
        print(f"  {t['table']:<15} {t['rows']:>13,} rows  regions {','.join(t['regions'])}")

    report = os.path.join(args.work, "report")
    t, peak = run([args.bin, "report", "--store", store, "--out", report, "--force"])
    print(f"\nfull report: {t:.1f} s (target < 120 s), peak memory {peak:.0f} MiB")
    rep_t, rep_peak, rep_n = t, peak, None
    s = json.load(open(os.path.join(report, "report.json")))
    for e in s["entries"]:
        print(f"  {e['id']:<7} {e['status']:<8} {e['seconds']:7.2f} s  {e['title']}")
    rep_n = len(s["entries"])

    out = os.path.join(args.work, "bench-tmp")
    os.makedirs(out, exist_ok=True)
    ours = {}
    ours["1. cold-start CDF per region"] = run(
        [args.bin, "cdf", "--store", store, "--table", "cold_starts", "--column", "totalCost_cold_start",
         "--by-region", "--format", "csv"])[0]
    ours["2. R2 cold starts per runtime (join)"] = run(
        [args.bin, "sql", "--store", store, "--format", "csv", "--force", "--output", os.path.join(out, "rt.csv"),
         "SELECT f.runtime, count(*) AS n FROM cold_starts c JOIN functions f "
         "ON c.funcID = f.funcID AND c.region = f.region WHERE c.region = 'R2' GROUP BY f.runtime"])[0]
    ours["3. per-request CDF of totalCost_worker"] = run(
        [args.bin, "cdf", "--store", store, "--table", "requests", "--column", "totalCost_worker",
         "--by-region", "--format", "csv"])[0]
    ours["4. pods and requests per funcID"] = run(
        [args.bin, "sql", "--store", store, "--format", "csv", "--force", "--output", os.path.join(out, "pods.csv"),
         "SELECT region, funcID, count(DISTINCT podID) AS pods, count(*) AS requests "
         "FROM requests GROUP BY region, funcID"])[0]
    reqs = sum(t["rows"] for t in m["tables"] if t["table"] == "requests")
    print(f"\nper-request CDF: {reqs:,} rows in {ours['3. per-request CDF of totalCost_worker']:.2f} s "
          f"= {reqs / ours['3. per-request CDF of totalCost_worker'] / 1e6:.1f} M rows/s (target > 20)")
    if args.skip_pandas:
        for k, v in ours.items():
            print(f"  {k:<42} coldstart {v:7.2f} s")
        return
    theirs = {
        "1. cold-start CDF per region": timed(pandas_cold_start_cdf, release)[0],
        "2. R2 cold starts per runtime (join)": timed(pandas_runtime_counts, release)[0],
        "3. per-request CDF of totalCost_worker": timed(pandas_request_cdf, release)[0],
        "4. pods and requests per funcID": timed(pandas_pods_per_function, release)[0],
    }
    print("\nthe notebook's four computations (coldstart on its store, pandas on the CSV release):")
    for k in ours:
        print(f"  {k:<42} coldstart {ours[k]:7.2f} s   pandas {theirs[k]:8.2f} s   "
              f"{theirs[k] / ours[k]:6.1f}x (target >= 10x)")
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from benchlib import markdown_table, splice
    cold = sum(t["rows"] for t in m["tables"] if t["table"] == "cold_starts")
    cdf = ours["3. per-request CDF of totalCost_worker"]
    splice("report", f"A scale-{args.scale:g} release ({cold / 1e6:.1f} M cold starts, {reqs / 1e6:.1f} M "
           f"request rows): the full report ({rep_n} analyses) in {rep_t:.1f} s with a peak of "
           f"{rep_peak:,.0f} MiB; the per-request CDF streams {reqs / 1e6:.1f} M rows in {cdf:.2f} s "
           f"({reqs / cdf / 1e6:.0f} M rows/s).\n\n" + markdown_table(
               ["notebook computation", "coldstart", "pandas", "ratio"],
               [[k.split(". ", 1)[1], f"{ours[k]:.2f} s", f"{theirs[k]:.1f} s", f"{theirs[k] / ours[k]:.0f}x"]
                for k in ours]),
           "bash bench/report.sh" + (f" --scale {args.scale:g}" if args.scale != 1.25 else ""))


if __name__ == "__main__":
    main()
