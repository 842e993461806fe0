"""`rewarm generate` against transformers' `generate`: greedy decoding tokens/s at equal
checkpoint (written by `rewarm init`), prompts, batch, new tokens, threads, device and precision,
both with a key-value cache, the fastest of GEN_REPEATS runs per side; also counts the prompts
whose new token ids are identical. Run by bench/rewarm.sh on CPU (GENERATE=1, or
ONLY=generate) and by bench/gpu.sh on CUDA (--device cuda --precision bf16-full); the table goes into
docs/benchmarks.md (rewarm-generate, or rewarm-generate-gpu).
"""
import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = {"14m": ("14m", 8192), "70m": ("70m", 50304), "410m": ("410m", 50304)}
# rewarm's precision and the dtype transformers' weights are cast to for it.
DTYPES = {"f32": "float32", "bf16-full": "bfloat16"}
WORDS = ("the quiet river follows misty hill at dawn gateway timeout waiting for lock latency "
         "whisk grams of flour ancient owl watches green valley in early spring").split()


def prompts(n, words=12):
    """n prompts of `words` words each, the same every run."""
    return [" ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(words)) for i in range(n)]


def torch_side(a):
    import torch
    from tokenizers import Tokenizer
    from transformers import GPTNeoXForCausalLM
    torch.set_num_threads(a.threads)
    tok = Tokenizer.from_file(a.tokenizer)
    dtype = getattr(torch, DTYPES[a.precision])
    model = GPTNeoXForCausalLM.from_pretrained(a.ckpt).to(a.device, dtype).eval()
    ps = [tok.encode(p).ids for p in prompts(a.batch)]
    width = max(map(len, ps))
    ids = torch.tensor([[0] * (width - len(p)) + p for p in ps], device=a.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in ps], device=a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    kw = dict(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=a.new, min_new_tokens=a.new,
              pad_token_id=0)
    with torch.no_grad():
        model.generate(**{**kw, "max_new_tokens": 4, "min_new_tokens": 4})  # warm-up
        secs = []
        for _ in range(a.repeats):
            sync()
            t0 = time.perf_counter()
            out = model.generate(**kw)
            sync()
            secs.append(time.perf_counter() - t0)
        secs = min(secs)
    print(json.dumps({"tps": a.batch * a.new / secs, "ids": out[:, width:].tolist()}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin"); p.add_argument("--work"); p.add_argument("--tokenizer")
    p.add_argument("--shapes", default=os.environ.get("GEN_SHAPES", "14m 70m"))
    p.add_argument("--batches", default=os.environ.get("GEN_BATCHES", "1 8"))
    p.add_argument("--new", type=int, default=int(os.environ.get("GEN_TOKENS", "64")))
    p.add_argument("--repeats", type=int, default=int(os.environ.get("GEN_REPEATS", "3")),
                   help="timed runs per side; the fastest counts")
    p.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", os.cpu_count())))
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--precision", default="f32", choices=sorted(DTYPES))
    p.add_argument("--torch-side", action="store_true")
    p.add_argument("--ckpt"); p.add_argument("--batch", type=int)
    a = p.parse_args()
    if a.torch_side:
        return torch_side(a)
    os.makedirs(a.work, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads)}
    rows = []
    for shape in a.shapes.split():
        preset, vocab = SHAPES[shape]
        ck = os.path.join(a.work, "gen-" + shape)
        subprocess.run([a.bin, "init", "--preset", preset, "--vocab-size", str(vocab), "--out", ck, "--force"],
                       check=True, capture_output=True, env=env)
        for batch in map(int, a.batches.split()):
            pf = os.path.join(a.work, f"prompts-{batch}.txt")
            with open(pf, "w") as f:
                f.write("\n".join(prompts(batch)) + "\n")
            out = os.path.join(a.work, f"gen-{shape}-{batch}.jsonl")
            rust_tps = 0.0
            for _ in range(a.repeats):
                r = subprocess.run([a.bin, "generate", "--checkpoint", ck, "--tokenizer", a.tokenizer, "--device",
                                    a.device, "--precision", a.precision, "--prompts", pf, "--max-new-tokens", str(a.new), "--ignore-eos", "--batch-size",
                                    str(batch), "--out", out, "--force"], check=True, capture_output=True, text=True,
                                   env=env)
                rust_tps = max(rust_tps, float(r.stderr.strip().splitlines()[-1].split("(")[-1].split()[0]))
            rust_ids = [json.loads(l)["new_ids"] for l in open(out)]
            t = subprocess.run([sys.executable, __file__, "--torch-side", "--ckpt", ck, "--tokenizer", a.tokenizer,
                                "--batch", str(batch), "--new", str(a.new), "--threads", str(a.threads),
                                "--repeats", str(a.repeats), "--device", a.device, "--precision", a.precision],
                               check=True, capture_output=True, text=True, env=env)
            torch_res = json.loads(t.stdout.strip().splitlines()[-1])
            same = sum(x == y for x, y in zip(rust_ids, torch_res["ids"]))
            print(f"generate {shape} batch {batch} x {a.new} new tokens: rewarm {rust_tps:,.0f} tok/s, "
                  f"transformers {torch_res['tps']:,.0f} tok/s ({rust_tps / torch_res['tps']:.2f}x); "
                  f"identical ids {same}/{batch}")
            rows.append([f"Pythia-{shape}", f"{vocab:,}", f"{batch} x {a.new}", f"{rust_tps:,.0f} / {torch_res['tps']:,.0f}",
                         f"{rust_tps / torch_res['tps']:.2f}x", f"{same} / {batch}"])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from benchlib import markdown_table, splice
    env_s = " ".join(f"{k}={os.environ[k]}" for k in ("GEN_SHAPES", "GEN_BATCHES", "GEN_TOKENS", "GEN_REPEATS", "THREADS")
                     if os.environ.get(k))
    if a.device == "cuda":
        key, cmd = "rewarm-generate-gpu", "bash bench/gpu.sh"
        where = f"{a.precision} on CUDA"
    else:
        key, cmd = "rewarm-generate", ("ONLY=generate " + env_s + " bash bench/rewarm.sh").strip()
        where = f"{a.precision} on CPU, {a.threads} threads"
    splice(key, f"Greedy decoding, {where}, prompts of 12 words:\n\n"
           + markdown_table(["shape", "vocab", "prompts x new tokens", "tok/s rewarm / transformers", "ratio",
                             "prompts with identical ids"], rows), cmd)


if __name__ == "__main__":
    main()
