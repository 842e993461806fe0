"""Loss curves of rewarm's bf16 precisions against its f32 path on real text: the demo's two
corpora (`rewarm demo` writes and tokenises them), the same model, data order and schedule,
N steps each. Prints, per precision, the largest |loss difference| of single steps and of
10-step means over the whole run, and of the final validation losses, with a verdict against
a tolerance (0.02 nats by default), and each run's tokens/s.

  python3 bench/precision_check.py --bin target/release/rewarm --work bench/out/precision \
      --device cuda --preset 160m --batch 8 --seq 512 --steps 300 --precisions "bf16-full bf16"
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def train(a, tokens, precision):
    out = os.path.abspath(os.path.join(a.work, f"run-{precision}"))
    run(["rm", "-rf", out])
    cfg = os.path.join(a.work, f"{precision}.toml")
    up, down = (os.path.abspath(os.path.join(tokens, d)) for d in ("upstream", "downstream"))
    with open(cfg, "w") as f:
        f.write(f"""[model]
preset = "{a.preset}"
seed = 1
[data]
seq_len = {a.seq}
batch_size = {a.batch}
seed = 0
train = [{{ name = "upstream", path = "{up}" }}, {{ name = "downstream", path = "{down}" }}]
val = [{{ name = "upstream", path = "{up}" }}, {{ name = "downstream", path = "{down}" }}]
eval_sequences = 64
[schedule]
kind = "cosine"
max_lr = {a.lr}
warmup_fraction = 0.05
[run]
steps = {a.steps}
out = "{out}"
log_every = 1
eval_every = {max(1, a.steps // 3)}
device = "{a.device}"
precision = "{precision}"
""")
    run([a.bin, "--quiet", "train", "--config", cfg])
    log = [json.loads(l) for l in open(os.path.join(out, "log.jsonl"))]
    losses = np.array([l["loss"] for l in log if "loss" in l])
    final = {e["name"]: e["loss"] for e in log[-1]["eval"]}
    tput = [json.loads(l) for l in open(os.path.join(out, "throughput.jsonl"))]
    return losses, final, tput[-1]["tokens_per_second"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--preset", default="160m")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--precisions", default="bf16-full bf16")
    p.add_argument("--tolerance", type=float, default=0.02)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    demo = os.path.join(a.work, "demo")
    if not os.path.exists(os.path.join(demo, "tokens", "downstream", "val", "index.json")):
        run([a.bin, "--quiet", "demo", "--out", demo, "--upstream-steps", "1", "--downstream-steps", "1", "--force"])
    tokens = os.path.join(demo, "tokens")
    base, base_final, base_tps = train(a, tokens, "f32")
    print(f"precision check: Pythia-{a.preset} shape on the demo's two corpora, {a.batch} x {a.seq}, "
          f"{a.steps} steps, cosine to {a.lr:g}, {a.device}; f32 {base_tps:.0f} tok/s, final validation "
          + ", ".join(f"{k} {v:.4f}" for k, v in base_final.items()))
    ok = True
    for prec in a.precisions.split():
        losses, final, tps = train(a, tokens, prec)
        d = np.abs(losses - base)
        k = min(10, len(losses))
        means = np.abs(np.convolve(losses - base, np.ones(k) / k, mode="valid"))
        dv = max(abs(final[n] - base_final[n]) for n in base_final)
        good = means.max() <= a.tolerance and dv <= a.tolerance
        ok &= good
        print(f"  {prec:<10} {tps:>9.0f} tok/s ({tps / base_tps:.2f}x f32) | max |loss - f32|: step "
              f"{d.max():.4f} (at {int(d.argmax()) + 1}), {k}-step mean {means.max():.4f}, final validation {dv:.4f} "
              f"(last loss {losses[-1]:.4f} vs {base[-1]:.4f}) | within {a.tolerance}: {'yes' if good else 'NO'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
