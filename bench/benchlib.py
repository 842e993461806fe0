"""Helpers the benchmark scripts share: run a child and measure it, generate a release once."""
import os
import shutil
import subprocess
import time


def run(cmd, capture=False):
    """Runs cmd; returns (seconds, the child's own peak resident memory in MiB, its stdout
    when `capture`, else "")."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    out = proc.stdout.read().decode() if capture else ""
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{cmd} failed with status {status}")
    return secs, usage.ru_maxrss / 1024.0, out


def synth_once(binary, work, scale, quantiles="R2", seed=1):
    """`coldstart synth` into WORK/release unless one with these parameters is there; returns
    its path."""
    release = os.path.join(work, "release")
    stamp = os.path.join(work, "release.params")
    params = f"scale={scale} quantiles={quantiles} seed={seed}"
    if not (os.path.exists(stamp) and open(stamp).read() == params):
        shutil.rmtree(release, ignore_errors=True)
        os.makedirs(work, exist_ok=True)
        t, peak, _ = run([binary, "synth", "--out", release, "--scale", str(scale),
                          "--quantiles", quantiles, "--seed", str(seed)])
        print(f"synth: {t:.1f} s, peak memory {peak:.0f} MiB")
        open(stamp, "w").write(params)
    return release
