#!/usr/bin/env bash
# The mini-scale re-warming study on real text, end to end on CPU: English upstream, German
# downstream (a strong language shift, as in Ibrahim et al. 2024's English-to-German setting),
# from freely licensed text in Debian's packages; a byte-level BPE trained on both; a small
# GPT-NeoX pre-trained on English; then the whole grid of `rewarm study` and its report.
#
#   bash scripts/study.sh                  # everything, 3 seeds (about 3 hours on 2 cores)
#   bash scripts/study.sh --seeds 1        # one seed: intervals from a paired bootstrap (63 minutes,
#                                          # docs/study-mini.md)
#   bash scripts/study.sh --dry-run        # the corpora, tokens and the grid with a time estimate
#   STUDY_DIR=DIR bash scripts/study.sh    # another folder (default target/study)
#
# The study resumes: interrupted, the same command goes on from the last checkpoints.
#
# Corpora (Debian 12 packages, downloaded with apt-get download, unpacked with dpkg-deb -x,
# nothing installed):
#   English: debian-reference-en (the Debian Reference, plain-text edition), jargon-text
#            (the Jargon File 4.4.7), fortunes (the non-offensive fortune files, UTF-8).
#   German:  debian-reference-de (its German translation), fortunes-de (UTF-8 files).
# Documents are paragraphs (blank-line separated; fortunes are split at their `%` lines);
# 5 % of the documents of each language are held out for validation.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${STUDY_DIR:-target/study}
extra=("$@")
bash scripts/setup-torch.sh
cargo build --release --locked -p rewarm
bin=$PWD/target/release/rewarm

debs=$dir/debs
if [ ! -f "$debs/.done" ]; then
    mkdir -p "$debs/root"
    pkgs=(debian-reference-en jargon-text fortunes debian-reference-de fortunes-de)
    if ! apt-cache show "${pkgs[@]}" >/dev/null 2>&1; then
        apt-get update -qq
    fi
    (cd "$debs" && apt-get download -qq "${pkgs[@]}" 2>&1 | grep -v "unsandboxed" || true)
    for f in "$debs"/*.deb; do dpkg-deb -x "$f" "$debs/root"; done
    touch "$debs/.done"
fi
root=$debs/root/usr/share
text=$dir/text
mkdir -p "$text/en" "$text/de"
zcat "$root/debian-reference/debian-reference.en.txt.gz" >"$text/en/debian-reference.txt"
zcat "$root/doc/jargon-text/jargon.txt.gz" >"$text/en/jargon.txt"
for f in "$root"/games/fortunes/*.u8; do sed 's/^%$//' "$f"; done >"$text/en/fortunes.txt"
zcat "$root/debian-reference/debian-reference.de.txt.gz" >"$text/de/debian-reference.txt"
for f in "$root"/games/fortunes/de/*.u8; do sed 's/^%$//' "$f"; done >"$text/de/fortunes.txt"
wc -c "$text"/en/*.txt "$text"/de/*.txt

tok=$dir/tokens
if [ ! -f "$tok/en/train/index.json" ] || [ ! -f "$tok/de/train/index.json" ]; then
    # One tokenizer for both languages, trained on both.
    "$bin" tokenize --train-bpe 4096 --input "$text/en" "$text/de" --out "$tok/bpe" --force
    for lang in en de; do
        "$bin" tokenize --tokenizer "$tok/bpe/tokenizer.json" --input "$text/$lang" \
            --out "$tok/$lang" --val-fraction 0.05 --seed 1 --force
    done
fi

cat >"$dir/study.toml" <<'EOF'
# The mini-scale study: a 4-layer GPT-NeoX (hidden 128, 1.84 M parameters with its 4,096-token
# vocabulary) pre-trained on English, continued on German.
[model]
hidden_size = 128
num_hidden_layers = 4
num_attention_heads = 4
intermediate_size = 512
seed = 0

[data]
seq_len = 128
batch_size = 16
seed = 1
eval_sequences = 64
upstream = { train = "tokens/en/train", val = "tokens/en/val" }
downstream = { train = "tokens/de/train", val = "tokens/de/val" }

[upstream]
steps = 1600
max_lr = 3e-3
warmup_fraction = 0.01
min_ratio = 0.1
branch = [0.25, 1.0]

[downstream]
steps = 400
evals = 20

[grid]
# At 400 steps the paper's 0.5-2 % warmups are 2-8 steps.
warmup = [0.0, 0.005, 0.01, 0.02]
max_lr = [0.5, 1.0, 2.0]
replay = [0.0, 0.01, 0.05, 0.25]
schedule = ["cosine", "wsd", "infinite"]
moments = ["reset", "keep"]
baselines = ["constant", "scratch", "union", "same-data"]
# Every run but the upstream one three times, so each finding has a 95 % interval.
seeds = [1, 2, 3]

[run]
device = "cpu"
jobs = 2
threads = 1
EOF
"$bin" study --config "$dir/study.toml" --out "$dir/out" "${extra[@]}"
