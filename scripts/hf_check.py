"""Checks that a checkpoint folder written by `rewarm train` is a complete Hugging Face model.

Run through scripts/hf-check.sh (which installs transformers into .venv). With the rewarm
binary given, it tokenises a small generated corpus with a BPE tokenizer that rewarm trains
(`--train-bpe`, the case where transformers used to add a padding token past the embedding),
trains a tiny model for a few steps, then checks with transformers:
  - AutoTokenizer loads the folder and encodes a text to the ids rewarm wrote for it;
  - the padding token lies inside the model's (padded) vocabulary;
  - pipeline("text-generation") generates new tokens for a batch of prompts of different
    lengths (left padding), the same tokens as for each prompt alone;
  - lm-evaluation-harness (`lm_eval --model hf`, through its Python API) scores a
    multiple-choice and a last-word task on the folder exactly as `rewarm eval --task` does
    (accuracy, normalised accuracy, perplexity).
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np

rewarm = os.path.abspath(sys.argv[1])
work = tempfile.mkdtemp(prefix="rewarm-hf-check-")


def run(*args):
    subprocess.run([rewarm, *args], check=True, cwd=work, stdout=subprocess.DEVNULL)


# A deterministic corpus: sentences from a small vocabulary, one paragraph per document.
rng = random.Random(7)
words = ("the model learns rewarm data token loss cosine warmup schedule upstream downstream "
         "replay checkpoint batch step rate small large early late again").split()
with open(os.path.join(work, "corpus.txt"), "w") as f:
    for _ in range(400):
        n = rng.randint(2, 5)
        f.write(" ".join(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))).capitalize() + "."
                         for _ in range(n)) + "\n\n")
text = "The model learns again, 42 times: warmup → cosine (über small) <|endoftext|> late."
with open(os.path.join(work, "probe.txt"), "w") as f:
    f.write(text)

run("tokenize", "--train-bpe", "384", "--input", "corpus.txt", "--out", "tok", "--val-fraction", "0.1")
run("tokenize", "--tokenizer", "tok/tokenizer.json", "--input", "probe.txt", "--out", "probe",
    "--text-docs", "file")
with open(os.path.join(work, "run.toml"), "w") as f:
    f.write("""[model]
hidden_size = 32
num_hidden_layers = 2
num_attention_heads = 2
intermediate_size = 64
seed = 1
[data]
seq_len = 32
batch_size = 8
train = [{ name = "demo", path = "tok" }]
val = [{ name = "demo", path = "tok" }]
eval_sequences = 4
[schedule]
kind = "constant"
max_lr = 3e-3
[run]
steps = 60
out = "run"
device = "cpu"
threads = 2
""")
run("train", "--config", "run.toml")
folder = os.path.join(work, "run", "final")

from transformers import AutoConfig, AutoTokenizer, pipeline  # noqa: E402

tok = AutoTokenizer.from_pretrained(folder)
cfg = AutoConfig.from_pretrained(folder)
assert len(tok) == 384, f"AutoTokenizer holds {len(tok)} tokens, the tokenizer 384"
assert cfg.vocab_size == 384 and cfg.vocab_size % 128 == 0, cfg.vocab_size
assert tok.pad_token == "<|padding|>" and tok.pad_token_id is not None, (tok.pad_token, tok.pad_token_id)
assert tok.pad_token_id < cfg.vocab_size, (tok.pad_token_id, cfg.vocab_size)
assert tok.eos_token == "<|endoftext|>" and tok.eos_token_id == 0, tok.eos_token

# The ids rewarm wrote for the probe document (its end-of-document token last).
index = json.load(open(os.path.join(work, "probe", "train", "index.json")))
assert index["dtype"] == "u16"
ids = np.fromfile(os.path.join(work, "probe", "train", index["shards"][0]["file"]), dtype="<u2").tolist()
hf_ids = tok(text)["input_ids"]
assert hf_ids + [tok.eos_token_id] == ids, f"AutoTokenizer {hf_ids} vs rewarm {ids}"
assert tok.decode(hf_ids) == text, tok.decode(hf_ids)

gen = pipeline("text-generation", model=folder, device="cpu")
prompts = ["The model", "Early warmup with a small rate learns the downstream data again and"]
args = dict(max_new_tokens=6, min_new_tokens=2, do_sample=False, return_full_text=False)
batched = gen(prompts, batch_size=2, **args)
alone = [gen(p, **args) for p in prompts]
for p, b, a in zip(prompts, batched, alone):
    out = b[0]["generated_text"]
    new = tok(out, add_special_tokens=False)["input_ids"]
    assert len(new) >= 2, f"{p!r}: no new tokens ({out!r})"
    assert out == a[0]["generated_text"], f"{p!r}: batched {out!r}, alone {a[0]['generated_text']!r}"
    print(f"{p!r} -> {out!r}")
assert gen.tokenizer.padding_side == "left"

# Two small tasks over the corpus's words, scored by rewarm and by lm-eval.
mc_path, lw_path = os.path.join(work, "choice.jsonl"), os.path.join(work, "lastword.jsonl")
with open(mc_path, "w") as f:
    for i in range(16):
        ctx = " ".join(rng.choice(words) for _ in range(rng.randint(0, 6))).capitalize()
        choices = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 3))) for _ in range(3)]
        f.write(json.dumps({"query": ctx, "choices": choices, "gold": i % 3}) + "\n")
with open(lw_path, "w") as f:
    for _ in range(12):
        f.write(json.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randint(3, 40))).capitalize()}) + "\n")
out = subprocess.run([rewarm, "eval", "--checkpoint", folder, "--task", mc_path, "--task", lw_path,
                      "--device", "cpu"], check=True, capture_output=True, text=True).stdout
ours = {}
for line in out.splitlines():
    f = line.split()
    if f and f[0] in ("choice", "lastword"):
        ours[f[0]] = [None if x == "—" else float(x) for x in f[3:6]]

from lm_eval_tasks import evaluate, write_yaml  # noqa: E402

yaml_dir = os.path.join(work, "tasks")
os.makedirs(yaml_dir)
write_yaml(yaml_dir, "choice", mc_path, "choice")
write_yaml(yaml_dir, "lastword", lw_path, "lastword")
results = evaluate("hf", yaml_dir, ["choice", "lastword"],
                   model_args=f"pretrained={folder},dtype=float32", device="cpu")
for name, keys in (("choice", ("acc", "acc_norm", None)), ("lastword", ("acc", None, "perplexity"))):
    r = results[name]
    theirs = [None if k is None else r[f"{k},none"] for k in keys]
    for k, a, b in zip(("acc", "acc_norm", "perplexity"), ours[name], theirs):
        assert (a is None) == (b is None), (name, k, a, b)
        if a is not None:
            # rewarm prints 4 decimals of the accuracies and 3 of the perplexity.
            tol = 1e-3 * b if k == "perplexity" else 5e-5
            assert abs(a - b) <= tol, f"{name} {k}: rewarm {a}, lm-eval {b}"
    print(f"lm_eval {name}: {dict(zip(('acc', 'acc_norm', 'perplexity'), theirs))}; rewarm eval --task agrees")
print("hf_check: AutoTokenizer ids match rewarm's, pipeline generates batched with left padding, "
      "lm_eval scores tasks as rewarm eval --task does")
shutil.rmtree(work)
