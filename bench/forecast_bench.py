#!/usr/bin/env python3
"""The hybrid histogram's forecaster against an ARIMA: one-step forecasts of a function's
next idle time where the policy's forecasting branch is used (most of its idle times longer
than the histogram's 4 hours).

Three forecasters see the same histories (the last 32 idle times, on their logarithms):
- `ar1`: the policy's, an AR(1) with a constant fitted by conditional least squares, the
  coefficient held inside (-0.99, 0.99), a constant series forecasting itself and fewer than
  3 idle times the last one (crates/coldstart-sim/src/policy/hybrid_histogram.rs, held to
  statsmodels' AutoReg by its unit test);
- `arima`: statsmodels' ARIMA fitted by maximum likelihood, the order chosen by AIC among
  (1,0,0), (0,1,1) and (1,1,1) (fewer than 8 idle times: the last one);
- `last`: the last idle time.
A forecast `f` is a warm start when the next idle time falls in the policy's window, from
0.85 f to 1.15 f (unloaded until 85 % of the forecast, kept for 30 % of it). The histories come
from a synthetic release's per-request rows (every day, so a month of idle times) and from
processes the synthetic model does not have: weekday-only timers, a drifting random walk, an
AR(2), independent log-normal gaps and regime switches. The table goes into
docs/benchmarks.md. Run it through bench/forecast.sh."""
import argparse
import math
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np
import pandas as pd

from benchlib import markdown_table, splice

RANGE = 4 * 3600.0
HISTORY = 32
OOB = 0.5


def ar1(idle):
    x = np.log(np.maximum(idle, 1e-3))
    if len(x) < 3:
        return float(np.exp(x[-1]))
    z, y = x[:-1], x[1:]
    zbar, ybar = z.mean(), y.mean()
    szz = ((z - zbar) ** 2).sum()
    phi = float(np.clip(((z - zbar) * (y - ybar)).sum() / szz, -0.99, 0.99)) if szz > 1e-12 else 0.0
    return float(np.exp(ybar - phi * zbar + phi * x[-1]))


def arima(idle):
    from statsmodels.tsa.arima.model import ARIMA
    x = np.log(np.maximum(idle, 1e-3))
    if len(x) < 8 or np.ptp(x) < 1e-9:
        return float(np.exp(x[-1]))
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for order in [(1, 0, 0), (0, 1, 1), (1, 1, 1)]:
            try:
                r = ARIMA(x, order=order).fit()
            except Exception:
                continue
            if np.isfinite(r.aic) and (best is None or r.aic < best.aic):
                best = r
    if best is None:
        return float(np.exp(x[-1]))
    return float(np.exp(best.forecast(1)[0]))


def last(idle):
    return float(idle[-1])


FORECASTERS = {"ar1": ar1, "arima": arima, "last": last}


def points(series, per_series, rng):
    """(history, next) pairs where the branch is used: at least half of the idle times so far
    beyond the range, two of them at least; `per_series` at most from each series."""
    out = []
    for s in series:
        s = np.asarray(s, dtype=float)
        ok = [i for i in range(3, len(s))
              if (s[:i] > RANGE).sum() >= max(2, OOB * i)]
        for i in rng.permutation(ok)[:per_series]:
            out.append((s[max(0, i - HISTORY):i], s[i]))
    return out


def structured(rng, n=30, length=60):
    """Idle-time series the synthetic model does not make (seconds)."""
    day = 86400.0
    kinds = {}
    # A timer on weekdays only: four gaps of a day, then one of three.
    kinds["weekday timer"] = [
        [(3 * day if (k + o) % 5 == 4 else day) - rng.uniform(0, 2) for k in range(length)]
        for o in range(n)]
    # The log gap as a random walk from 6 h (sd 0.3 a step).
    kinds["drifting"] = [np.exp(np.log(6 * 3600) + np.cumsum(rng.normal(0, 0.3, length)))
                         for _ in range(n)]

    def ar2():
        x = [0.0, 0.0]
        for _ in range(length):
            x.append(0.5 * x[-1] + 0.3 * x[-2] + rng.normal(0, 0.4))
        return np.exp(np.log(8 * 3600) + np.array(x[2:]))
    kinds["AR(2)"] = [ar2() for _ in range(n)]
    kinds["i.i.d. log-normal"] = [rng.lognormal(math.log(8 * 3600), 0.5, length)
                                  for _ in range(n)]
    kinds["regime switch"] = [[(5 if (k // 10) % 2 == 0 else 12) * 3600 * rng.uniform(0.95, 1.05)
                               for k in range(length)] for _ in range(n)]
    return kinds


def synthetic(binary, work, regions, functions, days, seed):
    """Each function's idle times (from the end of a request to the next arrival) in a
    synthetic release with per-request rows on every day."""
    rel = os.path.join(work, "release")
    shutil.rmtree(rel, ignore_errors=True)
    subprocess.run([binary, "synth", "--out", rel, "--regions", ",".join(regions),
                    "--functions", str(functions), "--days", str(days), "--seed", str(seed),
                    "--request-days", "all", "--quantiles", "none", "--no-check"],
                   check=True, stdout=subprocess.DEVNULL)
    series = {}
    for region in regions:
        folder = os.path.join(rel, "per_request", region)
        df = pd.concat([pd.read_csv(os.path.join(folder, name),
                                    usecols=["time_worker", "funcName", "totalCost_worker"])
                        for name in sorted(os.listdir(folder))])
        df["end"] = df["time_worker"] + df["totalCost_worker"]
        df = df.sort_values(["funcName", "time_worker"])
        for _, g in df.groupby("funcName", sort=True):
            t, e = g["time_worker"].to_numpy(), g["end"].to_numpy()
            # Idle: from the latest end so far to the next arrival, where it comes after it.
            gap = t[1:] - np.maximum.accumulate(e)[:-1]
            idle = gap[gap > 0]
            if len(idle) >= 4:
                series.setdefault(f"synthetic {region}", []).append(idle)
    shutil.rmtree(rel, ignore_errors=True)
    return series


def score(args):
    name, history, nxt = args
    f = FORECASTERS[name](history)
    return name, 0.85 * f <= nxt <= 1.15 * f, abs(math.log(max(nxt, 1e-3) / max(f, 1e-3)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--regions", default="R2,R4")
    ap.add_argument("--functions", type=int, default=60)
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--points", type=int, default=150, help="forecasts scored per source")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    work = tempfile.mkdtemp(prefix="forecast-")
    try:
        sources = synthetic(os.path.abspath(a.bin), work, a.regions.split(","), a.functions,
                            a.days, a.seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sources.update(structured(rng))
    rows = []
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        for source, series in sources.items():
            pts = points(series, 5, rng)
            pts = [pts[i] for i in rng.permutation(len(pts))[:a.points]]
            if not pts:
                print(f"{source}: no history uses the forecasting branch")
                continue
            jobs = [(name, h, n) for h, n in pts for name in FORECASTERS]
            got = {}
            for name, warm, err in pool.map(score, jobs, chunksize=8):
                got.setdefault(name, []).append((warm, err))
            cells = []
            for name in FORECASTERS:
                warm = 100.0 * sum(w for w, _ in got[name]) / len(got[name])
                med = float(np.median([e for _, e in got[name]]))
                cells.append(f"{warm:.0f} % / {med:.3f}")
            users = sum(1 for s in series if points([s], 1, rng))
            rows.append([source, str(users), str(len(pts))] + cells)
            print(f"{source}: {len(pts)} forecasts; " + "; ".join(
                f"{n} {c}" for n, c in zip(FORECASTERS, cells)), flush=True)
    body = markdown_table(["idle times", "series using the branch", "forecasts"] +
                          [f"`{n}`: warm / median abs. log error" for n in FORECASTERS], rows)
    body += ("\n\nWarm: the next idle time within 0.85 to 1.15 of the forecast, the window the "
             "policy keeps a pod loaded in. Synthetic rows: "
             f"{a.functions} functions a region, {a.days} days, seed {a.seed}.")
    splice("forecast", body,
           f"bash bench/forecast.sh --regions {a.regions} --functions {a.functions} "
           f"--days {a.days} --points {a.points}")


if __name__ == "__main__":
    main()
