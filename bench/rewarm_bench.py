"""rewarm vs PyTorch (transformers' GPTNeoXForCausalLM + torch.optim.AdamW) training and eval
throughput at equal shape, data, batch, sequence length and threads. Both start from the same
checkpoint, written by `rewarm init` and loaded by transformers (so this also checks that a
rewarm checkpoint loads in transformers). Each side runs in its own process for a clean peak RSS.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SHAPES = {  # name: (preset, vocab, seq_len, batch, steps)
    "14m": ("14m", 8192, 512, 8, 40),
    "70m": ("70m", 50304, 512, 4, 12),
    "160m": ("160m", 50304, 2048, 8, 30),
    "410m": ("410m", 50304, 2048, 8, 20),
    "410m-b16": ("410m", 50304, 2048, 16, 20),
    "410m-b32": ("410m", 50304, 2048, 32, 16),
}
EVAL_BATCHES = 8
EVAL_ROUNDS = 3
WARMUP = 3  # steps excluded (allocator and kernel warm-up); rates use the median step time

# Peak dense bf16 FLOP/s per GPU, for MFU.
PEAK = {"H100": 989e12, "H200": 989e12}


def write_tokens(d, vocab, n, seed):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    dt = np.uint16 if vocab <= 65536 else np.uint32
    rng.integers(0, vocab, n, dtype=np.int64).astype(dt).tofile(os.path.join(d, "shard-00000.bin"))
    json.dump({"format": "rewarm-tokens-v1", "dtype": "u16" if dt == np.uint16 else "u32", "vocab_size": vocab,
               "eod_id": 0, "tokens": n, "documents": 1, "shards": [{"file": "shard-00000.bin", "tokens": n}]},
              open(os.path.join(d, "index.json"), "w"))


def torch_side(a):
    import torch
    from transformers import GPTNeoXForCausalLM
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    model = GPTNeoXForCausalLM.from_pretrained(a.ckpt, attn_implementation="sdpa").to(dev)
    # bf16 parameters (and AdamW state) without autocast: PyTorch's fastest eager bf16, with no
    # f32 master weights; else f32 parameters under autocast.
    model = model.to(torch.bfloat16) if a.bf16_params else model.float()
    model.train()
    if a.compile:
        # The compiled peer (TorchInductor): what stacks such as llm-foundry run; eager is the
        # like-for-like baseline of rewarm.
        model = torch.compile(model)
    toks = np.fromfile(os.path.join(a.data, "shard-00000.bin"), dtype=np.uint16 if a.vocab <= 65536 else np.uint32)
    n_seq = (len(toks) - 1) // a.seq
    rng = np.random.default_rng(0)
    nd = lambda n: n.endswith(".bias") or "layernorm" in n or "layer_norm" in n
    groups = [{"params": [p for n, p in model.named_parameters() if not nd(n)], "weight_decay": 0.01},
              {"params": [p for n, p in model.named_parameters() if nd(n)], "weight_decay": 0.0}]
    # PyTorch's fastest AdamW on the GPU (fused); its default (foreach) on CPU.
    opt = torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, fused=a.device == "cuda" or None)
    # Under torch.distributed.run: DistributedDataParallel over Gloo, each rank a slice of the
    # global batch (the peer of `rewarm launch`); training only.
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_rank = a.batch // world
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo")
        rng = np.random.default_rng(dist.get_rank())
        model = torch.nn.parallel.DistributedDataParallel(model)
    def batch():
        idx = rng.integers(0, n_seq, per_rank)
        b = np.stack([toks[i * a.seq:(i + 1) * a.seq + 1].astype(np.int64) for i in idx])
        return torch.from_numpy(b).to(dev)
    if a.device == "cuda":
        autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=not a.bf16_params)
    else:
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    def train_step():
        b = batch()
        opt.zero_grad(set_to_none=False)
        with autocast:
            logits = model(input_ids=b[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), b[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
    times = []
    for step in range(a.steps):
        t0 = time.perf_counter()
        train_step()
        sync()
        times.append(time.perf_counter() - t0)
    train_tps = a.batch * a.seq / float(np.median(times[WARMUP:]))
    if world > 1:
        if dist.get_rank() == 0:
            print(json.dumps({"train_tps": train_tps}))
        dist.destroy_process_group()
        return
    if a.compile or a.bf16 or a.bf16_params:
        peak = torch.cuda.max_memory_allocated() / 2**20 if a.device == "cuda" else None
        print(json.dumps({"train_tps": train_tps, "eval_tps": None, "gpu_peak_mib": peak,
                          "first_step_s": times[0]}))
        return
    model.eval()
    # Eval = mean next-token loss over EVAL_BATCHES batches, as `rewarm eval` computes it: one
    # untimed pass, then EVAL_ROUNDS timed passes over the same batches; the median is kept.
    n_eval = min(n_seq, EVAL_BATCHES * a.batch)
    rates = []
    with torch.no_grad(), autocast:
        for r in range(EVAL_ROUNDS + 1):
            sync()
            t0 = time.perf_counter()
            for i in range(0, n_eval, a.batch):
                b = torch.from_numpy(np.stack([toks[j * a.seq:(j + 1) * a.seq + 1].astype(np.int64) for j in range(i, min(i + a.batch, n_eval))])).to(dev)
                logits = model(input_ids=b[:, :-1]).logits
                torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), b[:, 1:].reshape(-1)).item()
            sync()
            if r > 0:
                rates.append(n_eval * a.seq / (time.perf_counter() - t0))
    eval_tps = float(np.median(rates))
    peak = torch.cuda.max_memory_allocated() / 2**20 if a.device == "cuda" else None
    if a.profile:
        # Where a training step's device time goes (kernels by total time), for the record.
        from torch.profiler import profile, ProfilerActivity
        model.train()
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if a.device == "cuda" else [])
        with profile(activities=acts) as prof:
            for _ in range(3):
                train_step()
            sync()
        key = "self_cuda_time_total" if a.device == "cuda" else "self_cpu_time_total"
        with open(a.profile, "w") as f:
            f.write(prof.key_averages().table(sort_by=key, row_limit=15, max_name_column_width=60))
    print(json.dumps({"train_tps": train_tps, "eval_tps": eval_tps, "gpu_peak_mib": peak}))


def child(cmd):
    """Runs cmd; returns (stdout, peak RSS in MiB of that process alone, via wait4)."""
    # stderr to a file: a child that writes much to both pipes cannot block on either.
    with tempfile.TemporaryFile(mode="w+") as errf:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        errf.seek(0)
        err = errf.read()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{err}")
    return out, ru.ru_maxrss / 1024


def like_pytorch(a):
    """rewarm's precision for the like-for-like rows: PyTorch's side runs f32 on CPU (autocast
    only in the BF16 rows) and bf16 autocast on GPU, which are rewarm's f32 and auto there."""
    return "f32" if a.device == "cpu" else "auto"


def rust_train(a, shape, work, data, nproc=1, threads=None, launch=False, precision=None, steps=None,
               bin=None, extra="", tag=""):
    """Trains `steps` steps of `shape` with `bin` (a.bin by default; `extra`: more [run] lines;
    under `rewarm launch --nproc` when nproc > 1 or `launch`, one process per rank with
    `threads` threads each); returns (median training tokens/s over the global batch, run
    folder, peak RSS MiB of the command)."""
    precision = precision or like_pytorch(a)
    preset, vocab, seq, batch, shape_steps = SHAPES[shape]
    steps = steps or shape_steps
    run = os.path.join(work, f"run-{shape}-{nproc}p{'-launched' if launch else ''}-{precision}{tag}")
    subprocess.run(["rm", "-rf", run], check=True)
    cfg = os.path.join(work, f"{shape}.toml")
    with open(cfg, "w") as f:
        f.write(f"""[model]
checkpoint = "{os.path.abspath(os.path.join(work, 'ck-' + shape))}"
[data]
seq_len = {seq}
batch_size = {batch}
seed = 0
train = [{{ name = "bench", path = "{os.path.abspath(data)}" }}]
[schedule]
kind = "constant"
max_lr = 1e-4
[optim]
weight_decay = 0.01
[run]
steps = {steps}
out = "{os.path.abspath(run)}"
log_every = 1
device = "{a.device}"
precision = "{precision}"
threads = {threads or a.threads}
{extra}
""")
    cmd = [bin or a.bin, "--quiet", "train", "--config", cfg]
    if nproc > 1 or launch:
        cmd = [bin or a.bin, "--quiet", "launch", "--nproc", str(nproc), "--"] + cmd[2:]
    _, train_rss = child(cmd)
    rows = [json.loads(l) for l in open(os.path.join(run, "throughput.jsonl"))]
    step_times = np.diff([r["seconds"] for r in rows])[WARMUP - 1:]
    return batch * seq / float(np.median(step_times)), run, train_rss


def rust_side(a, shape, work, data):
    preset, vocab, seq, batch, steps = SHAPES[shape]
    train_tps, _, train_rss = rust_train(a, shape, work, data)
    # EVAL_BATCHES batches in one process: a first untimed pass over the data (kernel selection,
    # allocator warm-up), then EVAL_ROUNDS timed passes; the median is kept, as on the PyTorch side.
    runs = [f"r{r}={data}" for r in range(EVAL_ROUNDS + 1)]
    out, _ = child([a.bin, "eval", "--checkpoint", os.path.join(work, "ck-" + shape)]
                   + [x for r in runs for x in ("--data", r)]
                   + ["--seq-len", str(seq), "--batch-size", str(batch),
                      "--sequences", str(EVAL_BATCHES * batch), "--device", a.device,
                      "--precision", like_pytorch(a)])
    rates = [float(l.split("(")[1].split()[0]) for l in out.strip().splitlines()[-EVAL_ROUNDS:]]
    eval_tps = float(np.median(rates))
    return train_tps, eval_tps, train_rss


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin")
    p.add_argument("--work")
    p.add_argument("--shapes", default=os.environ.get("SHAPES", "14m 70m"))
    p.add_argument("--device", default=os.environ.get("DEVICE", "cpu"))
    p.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", os.cpu_count())))
    p.add_argument("--torch-side", action="store_true")
    p.add_argument("--ckpt"); p.add_argument("--data"); p.add_argument("--vocab", type=int)
    p.add_argument("--seq", type=int); p.add_argument("--batch", type=int); p.add_argument("--steps", type=int)
    p.add_argument("--bf16", action="store_true",
                   help="CPU: also time training with bf16 matmuls (rewarm precision = \"bf16\", PyTorch CPU "
                        "autocast) against f32, with the loss after the same steps")
    p.add_argument("--bf16-params", action="store_true",
                   help="with --torch-side: bf16 parameters and AdamW state, no autocast (train only)")
    p.add_argument("--variants", default=os.environ.get("VARIANTS", "eager"),
                   help="GPU: the PyTorch peers to time, of eager (bf16 autocast, with eval), eager-bf16 "
                        "(bf16 parameters), compiled (torch.compile + autocast), compiled-bf16")
    p.add_argument("--precisions", default=os.environ.get("PRECISIONS", "auto"),
                   help="GPU: rewarm's [run] precision values to time (the first also evaluates)")
    p.add_argument("--dp", action="store_true", default=bool(os.environ.get("DP")),
                   help="GPU: also the 1-rank data-parallel path (NCCL group of one) against the plain run")
    p.add_argument("--baseline", default=os.environ.get("BASELINE"),
                   help="CPU: also train with this other rewarm build, in the same script")
    p.add_argument("--checkpointing", type=int, default=int(os.environ.get("CHECKPOINTING", "0")),
                   help="CPU: also train with [run] activation_checkpointing = N")
    p.add_argument("--compile", action="store_true",
                   help="also time PyTorch's training step under torch.compile (train only; a third column)")
    p.add_argument("--profile", default=os.environ.get("PROFILE"),
                   help="with --torch-side: write a torch.profiler table of 3 training steps to this file; "
                        "else any value profiles the PyTorch side of every shape and prints the tables")
    a = p.parse_args()
    if a.torch_side:
        return torch_side(a)
    a.compile = a.compile or bool(os.environ.get("COMPILE"))
    a.bf16 = a.bf16 or bool(os.environ.get("BF16"))
    os.makedirs(a.work, exist_ok=True)
    import torch
    gpu = torch.cuda.get_device_name(0) if a.device == "cuda" else None
    print(f"device {a.device}{' (' + gpu + ')' if gpu else ''}, {a.threads} threads, torch {torch.__version__}")
    if gpu:
        for shape in a.shapes.split():
            gpu_shape(a, shape, gpu)
        return
    print(f"{'shape':<6} {'params':>7} {'vocab':>6} {'batch x seq':>11} | {'train tok/s':>23} {'ratio':>6} | {'eval tok/s':>23} {'ratio':>6} | {'peak RSS MiB':>15}")
    print(f"{'':<6} {'':>7} {'':>6} {'':>11} | {'rewarm':>11} {'pytorch':>11} {'':>6} | {'rewarm':>11} {'pytorch':>11} {'':>6} | {'rewarm':>7} {'pytorch':>7}")
    md_cpu, md_dp, md_bf16 = [], [], []
    for shape in a.shapes.split():
        preset, vocab, seq, batch, steps = SHAPES[shape]
        ck, params, data = prepare(a, shape)
        rt, re_, r_rss = rust_side(a, shape, a.work, data)
        out, p_rss = child([sys.executable, __file__, "--torch-side", "--ckpt", ck, "--data", data, "--vocab", str(vocab),
                            "--seq", str(seq), "--batch", str(batch), "--steps", str(steps), "--device", a.device,
                            "--threads", str(a.threads)]
                           + (["--profile", os.path.join(a.work, f"profile-{shape}.txt")] if a.profile else []))
        t = json.loads(out.strip().splitlines()[-1])
        print(f"{shape:<6} {params/1e6:>6.1f}M {vocab:>6} {batch:>4} x {seq:<5} | {rt:>11.0f} {t['train_tps']:>11.0f} {rt/t['train_tps']:>5.2f}x |"
              f" {re_:>11.0f} {t['eval_tps']:>11.0f} {re_/t['eval_tps']:>5.2f}x | {r_rss:>7.0f} {p_rss:>7.0f}")
        md = [f"Pythia-{shape}", f"{params / 1e6:.1f} M", f"{vocab:,}", f"{batch} x {seq}",
              f"{rt:,.0f} / {t['train_tps']:,.0f}", f"{rt / t['train_tps']:.2f}x",
              f"{re_:,.0f} / {t['eval_tps']:,.0f}", f"{re_ / t['eval_tps']:.2f}x", f"{r_rss:,.0f} / {p_rss:,.0f}"]
        md_cpu.append(md)
        if a.baseline:
            # The same training run with another build, alternating, in this script.
            ours, base = [rt], []
            for i in range(2):
                tps, _, b_rss = rust_train(a, shape, a.work, data, bin=a.baseline, tag="-baseline")
                base.append(tps)
                if i == 0:
                    ours.append(rust_train(a, shape, a.work, data)[0])
            print(f"       this build vs {a.baseline}: train {np.median(ours):.0f} vs {np.median(base):.0f} tok/s "
                  f"({np.median(ours) / np.median(base):.2f}x, medians of {len(ours)} and {len(base)} runs); "
                  f"peak RSS {r_rss:.0f} vs {b_rss:.0f} MiB")
            md.append(f"{np.median(ours):,.0f} / {np.median(base):,.0f} ({np.median(ours) / np.median(base):.2f}x), "
                      f"peak RSS {b_rss:,.0f} MiB")
        if a.checkpointing:
            ck_tps, _, ck_rss = rust_train(a, shape, a.work, data, tag=f"-ac{a.checkpointing}",
                                           extra=f"activation_checkpointing = {a.checkpointing}")
            print(f"       activation_checkpointing = {a.checkpointing}: train {ck_tps:.0f} vs {rt:.0f} tok/s "
                  f"({ck_tps / rt:.2f}x), peak RSS {ck_rss:.0f} vs {r_rss:.0f} MiB")
            md.append(f"{ck_tps / rt:.2f}x, {ck_rss:,.0f} MiB")
        if gpu:
            fpt = flops_per_token(preset, vocab, seq)
            peak = next((v for k, v in PEAK.items() if k in gpu), None)
            if peak:
                print(f"       MFU: rewarm {rt * fpt / peak:.1%}, pytorch {t['train_tps'] * fpt / peak:.1%} (bf16 peak {peak/1e12:.0f} TFLOP/s)")
        if a.compile:
            out, _ = child([sys.executable, __file__, "--torch-side", "--compile", "--ckpt", ck, "--data", data,
                            "--vocab", str(vocab), "--seq", str(seq), "--batch", str(batch), "--steps", str(steps),
                            "--device", a.device, "--threads", str(a.threads)])
            c = json.loads(out.strip().splitlines()[-1])
            line = (f"       PyTorch + torch.compile: train {c['train_tps']:.0f} tok/s, rewarm / compiled "
                    f"{rt / c['train_tps']:.2f}x (first step {c['first_step_s']:.0f} s)")
            if gpu and peak:
                line += f", MFU {c['train_tps'] * fpt / peak:.1%}"
            print(line)
        if gpu:
            # The data-parallel path (c10d NCCL group of one, Reducer) against the plain one.
            dp, run, _ = rust_train(a, shape, a.work, data, launch=True)
            losses = lambda r: [json.loads(l).get("loss") for l in open(os.path.join(r, "log.jsonl"))]
            plain = losses(os.path.join(a.work, f"run-{shape}-1p-{like_pytorch(a)}"))
            diff = max(abs(x - y) for x, y in zip(plain, losses(run)) if x is not None)
            print(f"       1-rank data-parallel (NCCL, Reducer) {dp:.0f} tok/s vs {rt:.0f} ({dp / rt:.2f}x); "
                  f"max |loss difference| {diff:.1e} over {len(plain)} steps")
        if a.device == "cpu" and a.bf16:
            n = WARMUP + 6
            last = lambda r: [json.loads(l) for l in open(os.path.join(r, "log.jsonl"))][-1]["loss"]
            rb, run_b, _ = rust_train(a, shape, a.work, data, precision="bf16", steps=n)
            rf, run_f, _ = rust_train(a, shape, a.work, data, precision="f32", steps=n)
            outs = []
            for extra in ([], ["--bf16"]):
                out, _ = child([sys.executable, __file__, "--torch-side", "--ckpt", ck, "--data", data,
                                "--vocab", str(vocab), "--seq", str(seq), "--batch", str(batch), "--steps", str(n),
                                "--device", "cpu", "--threads", str(a.threads)] + extra)
                outs.append(json.loads(out.strip().splitlines()[-1])["train_tps"])
            print(f"       CPU bf16 ({n} steps): rewarm bf16 {rb:.0f} vs f32 {rf:.0f} tok/s ({rb / rf:.2f}x), loss after "
                  f"{n} steps {last(run_b):.4f} vs {last(run_f):.4f}; PyTorch autocast bf16 {outs[1]:.0f} vs f32 "
                  f"{outs[0]:.0f} tok/s ({outs[1] / outs[0]:.2f}x)")
            md_bf16.append([f"Pythia-{shape}", f"{rb:,.0f} / {rf:,.0f}", f"{rb / rf:.2f}x",
                            f"{last(run_b):.4f} / {last(run_f):.4f}", f"{outs[1]:,.0f} / {outs[0]:,.0f}",
                            f"{outs[1] / outs[0]:.2f}x"])
        if a.device == "cpu" and a.threads >= 2 and batch % 2 == 0:
            half = a.threads // 2
            dp, _, _ = rust_train(a, shape, a.work, data, nproc=2, threads=half)
            out, _ = child([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                            "--master-port", str(29500 + os.getpid() % 1000), __file__, "--torch-side",
                            "--ckpt", ck, "--data", data, "--vocab", str(vocab), "--seq", str(seq),
                            "--batch", str(batch), "--steps", str(steps), "--device", a.device,
                            "--threads", str(half)])
            pdp = json.loads(out.strip().splitlines()[-1])["train_tps"]
            print(f"       data-parallel, 2 ranks x {half} thread(s) over Gloo vs 1 process x {2 * half} threads: "
                  f"rewarm {dp:.0f} vs {rt:.0f} tok/s ({dp / rt:.2f}x), PyTorch DDP {pdp:.0f} vs "
                  f"{t['train_tps']:.0f} tok/s ({pdp / t['train_tps']:.2f}x); rewarm / DDP {dp / pdp:.2f}x")
            md_dp.append([f"Pythia-{shape}", f"{dp:,.0f} / {rt:,.0f}", f"{dp / rt:.2f}x",
                          f"{pdp:,.0f} / {t['train_tps']:,.0f}", f"{pdp / t['train_tps']:.2f}x", f"{dp / pdp:.2f}x"])
        if a.profile:
            print(f"PyTorch training step profile, {shape} (3 steps):")
            print(open(os.path.join(a.work, f"profile-{shape}.txt")).read())
        sys.stdout.flush()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from benchlib import markdown_table, splice
    env = " ".join(f"{k}={os.environ[k]}" for k in ("BASELINE", "CHECKPOINTING", "BF16", "SHAPES")
                   if os.environ.get(k))
    cmd = (env + " " if env else "") + "bash bench/rewarm.sh"
    head = ["shape", "params", "vocab", "batch x seq", "train tok/s rewarm / PyTorch", "ratio",
            "eval tok/s rewarm / PyTorch", "ratio", "peak RSS MiB rewarm / PyTorch"]
    if a.baseline:
        head.append("this build / previous build, train tok/s; its peak RSS")
    if a.checkpointing:
        head.append(f"`activation_checkpointing = {a.checkpointing}`: tok/s ratio, peak RSS")
    splice("rewarm-cpu", f"f32 on CPU, {a.threads} threads:\n\n" + markdown_table(head, md_cpu), cmd)
    if md_dp:
        splice("rewarm-dp", "Two ranks over Gloo against one process, same global batch:\n\n" + markdown_table(
            ["shape", "rewarm 2 ranks / 1 process tok/s", "scaling", "PyTorch DDP 2 ranks / 1 process tok/s",
             "scaling", "rewarm / DDP, 2 ranks"], md_dp), cmd)
    if md_bf16:
        splice("rewarm-bf16", markdown_table(
            ["shape", "rewarm bf16 / f32 tok/s", "ratio", f"loss after {WARMUP + 6} steps bf16 / f32",
             "PyTorch autocast bf16 / f32 tok/s", "ratio"], md_bf16), cmd)


TORCH_VARIANTS = {  # name: (extra --torch-side flags, label)
    "eager": ([], "PyTorch eager, bf16 autocast"),
    "eager-bf16": (["--bf16-params"], "PyTorch eager, bf16 parameters"),
    "compiled": (["--compile"], "PyTorch torch.compile, autocast"),
    "compiled-bf16": (["--compile", "--bf16-params"], "PyTorch torch.compile, bf16 parameters"),
}


def prepare(a, shape):
    """The shape's fresh checkpoint (written by `rewarm init`, read by both sides) and random
    token folder: (checkpoint, parameters, data)."""
    preset, vocab = SHAPES[shape][:2]
    ck = os.path.join(a.work, "ck-" + shape)
    init, _ = child([a.bin, "init", "--preset", preset, "--vocab-size", str(vocab), "--out", ck, "--force"])
    data = os.path.join(a.work, f"tokens-{vocab}")
    if not os.path.exists(os.path.join(data, "index.json")):
        write_tokens(data, vocab, 4_000_000, 1)
    return ck, int(init.split()[0]), data


def gpu_shape(a, shape, gpu):
    """One shape on the GPU: training tokens/s, MFU and peak GPU memory (max allocated) of each
    rewarm precision and each PyTorch variant, with rewarm's first precision over each; eval
    tokens/s of rewarm against PyTorch eager; optionally the 1-rank data-parallel path."""
    preset, vocab, seq, batch, steps = SHAPES[shape]
    ck, params, data = prepare(a, shape)
    fpt = flops_per_token(preset, vocab, seq)
    peak_flops = next((v for k, v in PEAK.items() if k in gpu), None)
    mfu = lambda tps: f"{tps * fpt / peak_flops:.1%}" if peak_flops else "-"
    print(f"\n{shape}: {params / 1e6:.1f}M parameters, vocab {vocab}, {batch} x {seq}, {steps} steps "
          f"(median step after {WARMUP})")
    print(f"  {'':<56} {'train tok/s':>11} {'MFU':>6} {'peak GiB':>8} {'rewarm / this':>13}")
    rows = []
    first_run = torch_eval = None

    def row(label, tps, peak):
        # Printed as it comes, so a run cut short still shows what it measured.
        rows.append((label, tps, peak))
        ours = rows[0][1] if rows[0][0].startswith("rewarm") else None
        ratio = f"{ours / tps:.2f}x" if ours else "-"
        print(f"  {label:<56} {tps:>11.0f} {mfu(tps):>6} {peak:>8.1f} {ratio:>13}", flush=True)

    for prec in a.precisions.split():
        try:
            tps, run, _ = rust_train(a, shape, a.work, data, precision=prec)
        except SystemExit as e:
            print(f"  rewarm {prec}: FAILED {e}", flush=True)
            continue
        first_run = first_run or run
        tput = [json.loads(l) for l in open(os.path.join(run, "throughput.jsonl"))]
        row(f"rewarm, precision {prec}", tps, max((r.get("gpu_peak_mib") or 0) for r in tput) / 1024)
    for v in a.variants.split():
        flags, label = TORCH_VARIANTS[v]
        try:
            out, _ = child([sys.executable, __file__, "--torch-side", "--ckpt", ck, "--data", data,
                            "--vocab", str(vocab), "--seq", str(seq), "--batch", str(batch), "--steps", str(steps),
                            "--device", a.device, "--threads", str(a.threads)] + flags)
        except SystemExit as e:
            print(f"  {label}: FAILED {e}", flush=True)
            continue
        t = json.loads(out.strip().splitlines()[-1])
        if v == "eager":
            torch_eval = t["eval_tps"]
        if "first_step_s" in t and "--compile" in flags:
            label += f" (first step {t['first_step_s']:.0f} s)"
        row(label, t["train_tps"], (t["gpu_peak_mib"] or 0) / 1024)
    if first_run and torch_eval:
        prec = a.precisions.split()[0]
        runs = [f"r{r}={data}" for r in range(EVAL_ROUNDS + 1)]
        out, _ = child([a.bin, "eval", "--checkpoint", ck] + [x for r in runs for x in ("--data", r)]
                       + ["--seq-len", str(seq), "--batch-size", str(batch), "--sequences", str(EVAL_BATCHES * batch),
                          "--device", a.device, "--precision", prec])
        rates = [float(l.split("(")[1].split()[0]) for l in out.strip().splitlines()[-EVAL_ROUNDS:]]
        re_ = float(np.median(rates))
        print(f"  eval tok/s: rewarm ({prec}) {re_:.0f}, PyTorch eager autocast {torch_eval:.0f} ({re_ / torch_eval:.2f}x)")
    if a.dp and first_run:
        prec = a.precisions.split()[0]
        dp, run, _ = rust_train(a, shape, a.work, data, launch=True, precision=prec)
        losses = lambda r: [json.loads(l).get("loss") for l in open(os.path.join(r, "log.jsonl"))]
        plain = losses(first_run)
        diff = max(abs(x - y) for x, y in zip(plain, losses(run)) if x is not None)
        print(f"  1-rank data-parallel (NCCL) {dp:.0f} tok/s vs {rows[0][1]:.0f} ({dp / rows[0][1]:.2f}x); "
              f"max |loss difference| {diff:.1e} over {len(plain)} steps")
    sys.stdout.flush()
    if rows:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from benchlib import markdown_table, splice
        ours = rows[0][1] if rows[0][0].startswith("rewarm") else None
        note = f"Pythia-{shape} shape, {batch} x {seq}, {steps} steps (median step after {WARMUP}):"
        if first_run and torch_eval:
            note += f" eval {re_:,.0f} tok/s against PyTorch eager autocast {torch_eval:,.0f} ({re_ / torch_eval:.2f}x)."
        splice(f"rewarm-gpu-{shape}", note + "\n\n" + markdown_table(
            ["run", "train tok/s", "MFU", "peak GiB", "rewarm / this"],
            [[label, f"{tps:,.0f}", mfu(tps), f"{peak:.1f}", f"{ours / tps:.2f}x" if ours else "-"]
             for label, tps, peak in rows]), f"bash bench/gpu.sh (rewarm_bench.py --shapes {shape})")


def flops_per_token(preset, vocab, seq):
    h, l, _, i = {"14m": (128, 6, 4, 512), "70m": (512, 6, 8, 2048), "160m": (768, 12, 12, 3072),
                  "410m": (1024, 24, 16, 4096), "1b": (2048, 16, 8, 8192)}[preset]
    n = l * (4 * h * h + 2 * h * i) + vocab * h  # matmul parameters incl. the output head
    return 6 * n + 12 * l * h * seq


if __name__ == "__main__":
    main()
