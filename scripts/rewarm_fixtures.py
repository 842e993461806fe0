"""Fixture generator for the rewarm tests: reference answers from Hugging Face `transformers`,
PyTorch and `tokenizers`. Run through scripts/make-rewarm-fixtures.sh; the outputs are committed
so the tests never need Python.

For each tiny GPTNeoXForCausalLM (random init, fixed seed):
  MODEL/config.json, MODEL/model.safetensors          the checkpoint as transformers saves it
  MODEL/expected.safetensors                          input_ids, labels-loss, logits, and the
                                                      parameters after 2 AdamW steps (clip 0.5,
                                                      decay on matrices only, as nanoGPT)
Variants: parallel and sequential residual, tied embeddings, no attention bias, gelu_new, and a
bf16 checkpoint (weights stored in bf16; logits from transformers running in bf16 and from the
same weights in f32). Plus a sharded save (index + shards) and a byte-level BPE tokenizer.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

out = sys.argv[1]
torch.manual_seed(0)
torch.use_deterministic_algorithms(True)


def build(name, **kw):
    cfg = GPTNeoXConfig(
        vocab_size=64,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        rotary_pct=kw.pop("rotary_pct", 0.25),
        hidden_act=kw.pop("hidden_act", "gelu"),
        attention_dropout=0.0,
        hidden_dropout=0.0,
        **kw,
    )
    bf16 = kw_bf16.pop(name, False)
    torch.manual_seed(1234)
    model = GPTNeoXForCausalLM(cfg).float().eval()
    # Non-trivial norms and biases, so a loader that skipped them would fail.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("bias") or "norm" in n:
                p.add_(torch.randn_like(p) * 0.1)
    d = os.path.join(out, name)
    g = torch.Generator().manual_seed(99)
    ids = torch.randint(0, cfg.vocab_size, (2, 17), generator=g)
    if bf16:
        # The checkpoint holds bf16 weights; the reference runs them in f32 (what rewarm's
        # loader does: it trains in f32) and, for the record, in bf16.
        model = model.to(torch.bfloat16)
        model.save_pretrained(d, safe_serialization=True)
        with torch.no_grad():
            res_bf16 = model(input_ids=ids, labels=ids)
        model = model.float()
    else:
        model.save_pretrained(d, safe_serialization=True)
    with torch.no_grad():
        res = model(input_ids=ids, labels=ids)
    expected = {
        "input_ids": ids.to(torch.int64),
        "logits": res.logits.float().contiguous(),
        "loss": res.loss.float().reshape(1),
    }
    if bf16:
        expected["logits_bf16"] = res_bf16.logits.float().contiguous()
    # Two AdamW steps as a trainer would take them.
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-2, betas=(0.9, 0.95), eps=1e-8, foreach=False,
    )
    norms = []
    for lr in (1e-2, 5e-3):
        for grp in opt.param_groups:
            grp["lr"] = lr
        opt.zero_grad()
        loss = model(input_ids=ids[:, :-1], labels=ids[:, :-1]).loss
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5).reshape(1))
        opt.step()
    expected["grad_norms"] = torch.cat(norms).float()
    for n, p in model.named_parameters():
        # transformers >= 5 calls the output embedding lm_head in memory, embed_out on disk.
        n = "embed_out.weight" if n == "lm_head.weight" else n
        expected["after." + n] = p.detach().float().contiguous()
    save_file(expected, os.path.join(d, "expected.safetensors"))
    return model


kw_bf16 = {"neox-tiny-bf16": True}
build("neox-tiny")
build("neox-tiny-seq", use_parallel_residual=False, rotary_pct=0.5)
build("neox-tiny-tied", tie_word_embeddings=True)
build("neox-tiny-nobias", attention_bias=False)
build("neox-tiny-gelu-new", hidden_act="gelu_new")
build("neox-tiny-bf16")

# The same model saved in shards with an index, as large checkpoints are.
m = GPTNeoXForCausalLM.from_pretrained(os.path.join(out, "neox-tiny"))
m.save_pretrained(os.path.join(out, "neox-tiny-sharded"), safe_serialization=True, max_shard_size="40KB")

# A byte-level BPE tokenizer and the ids it gives, for the tokenize pipeline.
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

docs = [
    "The quiet river follows the misty hill at dawn.",
    "ERROR gateway-3 timeout waiting for lock latency=512ms",
    "Step 2: whisk 30 grams of flour. Ünïcödé and emoji 🚀 survive bytes.",
]
corpus = docs * 20 + ["The ancient owl watches the green valley in early spring."] * 10
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=300, min_frequency=2, special_tokens=["<|endoftext|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train_from_iterator(corpus, trainer)
tok.save(os.path.join(out, "tokenizer.json"))
enc = [tok.encode(d).ids for d in docs]
with open(os.path.join(out, "tokenizer_expected.json"), "w") as f:
    json.dump({"docs": docs, "ids": enc, "eod": tok.token_to_id("<|endoftext|>")}, f, ensure_ascii=False)
import transformers, tokenizers
print("fixtures written with torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__)


def generation_fixtures(out, names=("neox-tiny", "neox-tiny-seq", "neox-tiny-gen")):
    """neox-tiny-gen: neox-tiny's shape with weights drawn 20x wider (std 0.4), whose greedy
    continuations vary from token to token (the std-0.02 models repeat one token).
    MODEL/generate.json: greedy continuations by `generate(do_sample=False)` (the model's
    eos ends a sequence; its new tokens are kept up to and including eos) for single prompts,
    a left-padded batch of prompts of different lengths, and a repetition penalty, as token ids
    (the fixture models have 64-token vocabularies and no tokenizer)."""
    g = torch.Generator().manual_seed(7)
    lengths = [[9], [5, 11, 3], [10], [4, 8]]
    prompt_sets = [[torch.randint(3, 64, (n,), generator=g).tolist() for n in ls] for ls in lengths]
    cases = [("single", prompt_sets[0], 1.0), ("batch_left_padded", prompt_sets[1], 1.0),
             ("repetition_penalty", prompt_sets[2], 1.3), ("batch_repetition_penalty", prompt_sets[3], 1.5)]
    max_new = 20
    cfg = GPTNeoXConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, rotary_pct=0.25,
                        attention_dropout=0.0, hidden_dropout=0.0, initializer_range=0.4)
    torch.manual_seed(4321)
    GPTNeoXForCausalLM(cfg).float().save_pretrained(os.path.join(out, "neox-tiny-gen"), safe_serialization=True)
    for name in names:
        model = GPTNeoXForCausalLM.from_pretrained(os.path.join(out, name)).float().eval()
        eos = model.generation_config.eos_token_id
        pad = 1
        records = []
        for case, prompts, penalty in cases:
            width = max(len(p) for p in prompts)
            ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
            mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
            with torch.no_grad():
                seq = model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                     max_new_tokens=max_new, repetition_penalty=penalty,
                                     pad_token_id=pad, eos_token_id=eos)
            new = []
            for row in seq[:, width:].tolist():
                kept = []
                for t in row:
                    kept.append(t)
                    if t == eos:
                        break
                new.append(kept)
            records.append({"case": case, "prompts": prompts, "pad": pad, "repetition_penalty": penalty, "new": new})
        with open(os.path.join(out, name, "generate.json"), "w") as f:
            json.dump({"max_new_tokens": max_new, "eos": eos, "cases": records}, f, indent=1)


generation_fixtures(out)
