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


# --- The benchmarks page: each script writes the tables it measures into docs/benchmarks.md,
# between `<!-- bench:KEY -->` and `<!-- /bench:KEY -->`, so the page's numbers are the last
# run's. BENCH_DOCS=FILE writes another page; BENCH_DOCS=- prints the block and writes nothing.

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "benchmarks.md")


def machine():
    """The machine in words: CPU model, cores, and the GPU when there is one."""
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    words = f"{cpu}, {os.cpu_count()} cores"
    try:
        gpu = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if gpu:
            words += f", {gpu.splitlines()[0]}"
    except (OSError, subprocess.SubprocessError):
        pass
    return words


def markdown_table(header, rows):
    """A markdown table: header is a list of column names, rows lists of cells (str() each)."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def splice_text(text, key, body, prefix="bench"):
    """text with the part between the markers `<!-- PREFIX:KEY -->` and `<!-- /PREFIX:KEY -->`
    replaced by body; the markers must be there, once each."""
    start, end = f"<!-- {prefix}:{key} -->", f"<!-- /{prefix}:{key} -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise SystemExit(f"expected one {start} ... {end} pair")
    a = text.index(start) + len(start)
    b = text.index(end)
    return text[:a] + "\n" + body.strip("\n") + "\n" + text[b:]


def splice(key, body, command, page=None):
    """Writes body (markdown: tables and notes) between the `bench:KEY` markers of the
    benchmarks page, after a line naming the command, the machine and the date."""
    import datetime
    stamp = (f"Measured by `{command}` on {machine()}, "
             f"{datetime.date.today().isoformat()}:\n\n")
    block = stamp + body.strip("\n")
    page = page or os.environ.get("BENCH_DOCS", PAGE)
    if page == "-":
        print(f"<!-- bench:{key} -->\n{block}\n<!-- /bench:{key} -->")
        return
    text = open(page).read()
    try:
        new = splice_text(text, key, block)
    except SystemExit as e:
        # A run's figures are not lost for want of a marker: printed for copying by hand.
        print(f"{e}; not written into {page}:\n<!-- bench:{key} -->\n{block}\n<!-- /bench:{key} -->")
        return
    tmp = page + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, page)
    print(f"wrote the {key} table into {os.path.relpath(page)}")
