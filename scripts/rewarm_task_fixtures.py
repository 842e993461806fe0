"""Fixtures for `rewarm eval --task`: a small GPT-NeoX checkpoint with its tokenizer files, a
multiple-choice and a last-word task (JSON lines), and what lm-evaluation-harness makes of them.
Run through scripts/make-rewarm-fixtures.sh (or alone: .venv/bin/python
scripts/rewarm_task_fixtures.py crates/rewarm/tests/fixtures/tasks). The outputs are committed.

expected.json holds, per task, lm-eval's own scores (`lm_eval.simple_evaluate` with
`--model hf` on a local YAML task over the JSONL) and, per example, the log-likelihood of each
continuation as lm-eval's HFLM computes it (`loglikelihood` on the same requests), so the Rust
test checks both the aggregate and every number behind it.
"""
import json
import os
import sys
import tempfile

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, PreTrainedTokenizerFast

out = os.path.abspath(sys.argv[1])
os.makedirs(out, exist_ok=True)
model_dir = os.path.join(out, "model")

corpus = [
    "The quiet river follows the misty hill at dawn.",
    "The ancient owl watches the green valley in early spring.",
    "A small boat drifts past the old stone bridge.",
    "The farmer carries water to the thirsty cows.",
    "Bright stars shine over the cold mountain lake.",
] * 30
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=320, min_frequency=2,
                              special_tokens=["<|endoftext|>", "<|padding|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train_from_iterator(corpus, trainer)
vocab = 384  # padded to a multiple of 128, as rewarm pads
torch.manual_seed(5)
cfg = GPTNeoXConfig(vocab_size=vocab, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=256, max_position_embeddings=64, rotary_pct=0.25,
                    use_parallel_residual=True, tie_word_embeddings=False,
                    bos_token_id=0, eos_token_id=0, initializer_range=0.02)
model = GPTNeoXForCausalLM(cfg).float()
# A little training on the corpus, so that the model prefers its sentences and the tasks have
# right and wrong answers (a random model would be near chance on every example).
ids = []
for line in corpus[:5]:
    ids += tok.encode(line).ids + [tok.token_to_id("<|endoftext|>")]
data = torch.tensor(ids * 4)
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
for step in range(15):
    starts = torch.randint(0, len(data) - 33, (8,))
    batch = torch.stack([data[i:i + 33] for i in starts])
    loss = model(batch[:, :-1], labels=batch[:, :-1]).loss
    opt.zero_grad()
    loss.backward()
    opt.step()
print("fixture model trained to loss", float(loss))
model.save_pretrained(model_dir, safe_serialization=True)
fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                               eos_token="<|endoftext|>", pad_token="<|padding|>")
fast.save_pretrained(model_dir)

mc = [
    ("The quiet river follows the", ["misty hill", "green valley", "cold lake"], 0),
    ("The ancient owl watches the", ["green valley", "stone bridge"], 0),
    ("A small boat drifts past the", ["old stone bridge", "thirsty cows", "misty hill"], 0),
    ("The farmer carries water to the", ["thirsty cows", "mountain lake"], 0),
    ("Bright stars shine over the", ["cold mountain lake", "old bridge", "green owl"], 0),
    ("The green valley in early", ["spring", "dawn", "water"], 0),
    ("The misty hill at", ["dawn", "spring"], 0),
    ("", ["The quiet river", "The cold boat"], 0),
    ("The owl ", ["watches", "carries"], 0),
    ("Water to the thirsty", ["cows", "stars", "river", "bridge"], 0),
    ("The old stone", ["bridge", "bridge bridge bridge", "valley"], 0),
    ("Bright", ["stars", "owl watches the cold mountain lake at dawn"], 0),
]
# The gold choice moves around: rotated to position i mod the number of choices.
mc = [(q, c[-(i % len(c)):] + c[:-(i % len(c))] if i % len(c) else c, i % len(c))
      for i, (q, c, _) in enumerate(mc)]
with open(os.path.join(out, "choice.jsonl"), "w") as f:
    for q, c, g in mc:
        f.write(json.dumps({"query": q, "choices": c, "gold": g}) + "\n")
lw = [
    "The quiet river follows the misty hill at dawn.",
    "The ancient owl watches the green valley in early spring",
    "A small boat drifts past the old stone bridge",
    "The farmer carries water to the thirsty cows",
    "Bright stars shine over the cold mountain lake",
    "The owl watches the river",
    # Longer than the model's 64 positions: lm-eval keeps the last tokens.
    " ".join(corpus[:4]) + " stars",
]
with open(os.path.join(out, "lastword.jsonl"), "w") as f:
    for t in lw:
        f.write(json.dumps({"text": t}) + "\n")

import lm_eval
from lm_eval.models.huggingface import HFLM
from lm_eval.api.instance import Instance
from lm_eval_tasks import evaluate, write_yaml

lm = HFLM(pretrained=model_dir, dtype="float32", device="cpu", batch_size=1)


def lls(requests):
    inst = [Instance(request_type="loglikelihood", doc={}, arguments=r, idx=i)
            for i, r in enumerate(requests)]
    return [[float(ll), bool(g)] for ll, g in lm.loglikelihood(inst)]


per_example = {
    "choice": [lls([(q, " " + c) for c in cs]) for q, cs, _ in mc],
    "lastword": lls([(t.rsplit(" ", 1)[0], " " + t.rsplit(" ", 1)[1]) for t in lw]),
}

yaml_dir = tempfile.mkdtemp()
write_yaml(yaml_dir, "rewarm_choice", os.path.join(out, "choice.jsonl"), "choice")
write_yaml(yaml_dir, "rewarm_lastword", os.path.join(out, "lastword.jsonl"), "lastword")
# One task a call (see lm_eval_tasks.evaluate): evaluated together, this fixture's last-word
# perplexity moved from 10,670 to 68,591.
r = evaluate(lm, yaml_dir, ["rewarm_choice", "rewarm_lastword"])
expected = {
    "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "",
    "choice": {"acc": r["rewarm_choice"]["acc,none"], "acc_norm": r["rewarm_choice"]["acc_norm,none"],
               "examples": per_example["choice"]},
    "lastword": {"acc": r["rewarm_lastword"]["acc,none"],
                 "perplexity": r["rewarm_lastword"]["perplexity,none"],
                 "examples": per_example["lastword"]},
}
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(json.dumps({k: {m: v for m, v in d.items() if m != "examples"} if isinstance(d, dict) else d
                  for k, d in expected.items()}))
