"""`rewarm study` against the same runs as bare `rewarm train` processes, then the same study on
two data-parallel ranks (see bench/study.sh)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

STUDY = """[model]
hidden_size = 64
num_hidden_layers = 2
num_attention_heads = 2
intermediate_size = 256
seed = 0
[data]
seq_len = 64
batch_size = 8
seed = 1
eval_sequences = 16
upstream = {{ train = "{d}/upstream/train", val = "{d}/upstream/val" }}
downstream = {{ train = "{d}/downstream/train", val = "{d}/downstream/val" }}
[upstream]
steps = 300
max_lr = 3e-3
branch = [0.5, 1.0]
[downstream]
steps = 100
evals = 10
[grid]
warmup = [0.0, 0.05, 0.1, 0.2]
reference = {{ warmup = 0.1 }}
[run]
device = "cpu"
jobs = 1
threads = 1
"""


def timed(cmd, env=None):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def final_losses(run):
    """(upstream, downstream) validation loss at the last evaluation of a run folder."""
    last = [json.loads(l) for l in open(f"{run}/log.jsonl")][-1]
    ev = {e["name"]: e["loss"] for e in last["eval"]}
    return ev["upstream"], ev["downstream"]


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return repr(v)


def write_toml(cfg, path):
    with open(path, "w") as f:
        for section, table in cfg.items():
            f.write(f"[{section}]\n")
            for k, v in table.items():
                f.write(f"{k} = {toml_value(v)}\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    # The micro preset's generated corpora and tokenizer (a dry run writes only them).
    subprocess.run([a.bin, "--quiet", "study", "--preset", "micro", "--out", f"{a.work}/preset", "--dry-run"],
                   check=True, stdout=subprocess.DEVNULL)
    data = os.path.abspath(f"{a.work}/preset/data/tokens")
    with open(f"{a.work}/study.toml", "w") as f:
        f.write(STUDY.format(d=data))
    study_wall = timed([a.bin, "--quiet", "study", "--config", f"{a.work}/study.toml", "--out", f"{a.work}/study"])
    runs = sorted(os.listdir(f"{a.work}/study/runs"))
    # The upstream run first: the others read its checkpoints (from the study's folder).
    runs.sort(key=lambda r: r != "upstream")
    bare_wall, same, rows = 0.0, 0, []
    for r in runs:
        src = f"{a.work}/study/runs/{r}"
        with open(f"{src}/run.toml", "rb") as f:
            cfg = tomllib.load(f)
        cfg["run"]["out"] = os.path.abspath(f"{a.work}/bare/{r}")
        write_toml(cfg, f"{a.work}/{r}.toml")
        bare_wall += timed([a.bin, "--quiet", "train", "--config", f"{a.work}/{r}.toml"])
        same += open(f"{src}/log.jsonl").read() == open(f"{a.work}/bare/{r}/log.jsonl").read()
        tput = [json.loads(l) for l in open(f"{src}/throughput.jsonl")]
        rows.append((r, cfg["run"]["steps"], tput[-1]["tokens_per_second"], tput[-1]["seconds"]))
    print(f"{'run':<20} {'steps':>6} {'tokens/s':>10} {'train s':>8}")
    for r, steps, tps, secs in rows:
        print(f"{r:<20} {steps:>6} {tps:>10.0f} {secs:>8.2f}")
    print(f"study: {len(runs)} runs in {study_wall:.1f} s (planning, state checks, runs, report, one process)")
    print(f"bare:  the same runs as {len(runs)} `rewarm train` processes in {bare_wall:.1f} s")
    print(f"study / bare = {study_wall / bare_wall:.3f} (runner overhead {100 * (study_wall / bare_wall - 1):+.1f} %); "
          f"{same} of {len(runs)} bare runs logged byte-identical log.jsonl")

    # The same study on two ranks of one thread each (`rewarm launch`, Gloo over loopback),
    # against one process running one, then two runs at a time on one thread each: the ways to
    # spend two cores on a study. In f32, where 2 ranks and 1 process differ only by rounding
    # (bf16 matmuls, `auto` on CPUs with AMX, round every product).
    with open(f"{a.work}/study-f32.toml", "w") as f:
        f.write(STUDY.format(d=data) + 'precision = "f32"\n')
    env = dict(os.environ, OMP_NUM_THREADS="1")
    study = [a.bin, "--quiet", "study", "--config", f"{a.work}/study-f32.toml", "--out"]
    one_wall = timed(study + [f"{a.work}/f32-1job"], env=env)
    dp_wall = timed([a.bin, "--quiet", "launch", "--nproc", "2", "--"] + study[2:] + [f"{a.work}/f32-2ranks"],
                    env=env)
    jobs_wall = timed(study + [f"{a.work}/f32-2jobs", "--jobs", "2"], env=env)
    worst = max(abs(x - y) for r in runs
                for x, y in zip(final_losses(f"{a.work}/f32-1job/runs/{r}"),
                                final_losses(f"{a.work}/f32-2ranks/runs/{r}")))
    print(f"f32: 2 ranks (data-parallel, 1 thread each) {dp_wall:.1f} s; one process, --jobs 1: {one_wall:.1f} s, "
          f"--jobs 2: {jobs_wall:.1f} s")
    print(f"2 ranks / --jobs 1 = {dp_wall / one_wall:.3f}, 2 ranks / --jobs 2 = {dp_wall / jobs_wall:.3f}; "
          f"largest |final validation loss, 2 ranks - 1 process| over all runs and both sets: {worst:.2e}")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from benchlib import markdown_table, splice
    splice("study", markdown_table(
        ["what", "wall", "ratio"],
        [[f"the study: {len(runs)} runs in one process, one at a time", f"{study_wall:.1f} s", ""],
         [f"the same runs as {len(runs)} bare `rewarm train` processes", f"{bare_wall:.1f} s",
          f"study / bare {study_wall / bare_wall:.2f}"],
         ["f32, one process, one run at a time", f"{one_wall:.1f} s", ""],
         ["f32, 2 data-parallel ranks of one thread (`rewarm launch --nproc 2 -- study`)", f"{dp_wall:.1f} s",
          f"{dp_wall / one_wall:.2f}x one process"],
         ["f32, one process, `--jobs 2`", f"{jobs_wall:.1f} s", f"2 ranks take {dp_wall / jobs_wall:.2f}x as long"]])
        + f"\n\n{same} of {len(runs)} bare runs logged byte-identical `log.jsonl` files; every run's final "
        f"validation losses on two ranks were within {worst:.1e} of one process's.", "bash bench/study.sh")

if __name__ == "__main__":
    main()
