//! `rewarm tokenize`: text, JSON lines or Parquet into packed token shards.

use crate::tokenize;
use anyhow::{bail, Result};
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A Hugging Face tokenizer.json.
    #[arg(long, conflicts_with = "train_bpe")]
    tokenizer: Option<PathBuf>,
    /// Train a byte-level BPE tokenizer of this vocabulary size on the inputs instead
    /// (at least 257: the 256 bytes and the end-of-document token; at most 1,048,576).
    #[arg(long, value_parser = bpe_vocab)]
    train_bpe: Option<usize>,
    /// Files or folders.
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// The token folder to write (train/ and, with --val-fraction, val/).
    #[arg(long)]
    out: PathBuf,
    /// JSON / Parquet field with the text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// Plain text documents: paragraph, line or file.
    #[arg(long, default_value = "paragraph", value_parser = ["paragraph", "line", "file"])]
    text_docs: String,
    /// Share of documents held out into OUT/val, in [0, 1).
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    val_fraction: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Tokens per shard file.
    #[arg(long, default_value_t = 1 << 28, value_parser = super::at_least_one::<u64>)]
    shard_tokens: u64,
    /// Replace OUT even if it is not a folder that `rewarm tokenize` made.
    #[arg(long)]
    force: bool,
}

/// A BPE vocabulary size within [`tokenize::check_bpe_vocab`]'s bounds, for `--train-bpe`.
fn bpe_vocab(s: &str) -> std::result::Result<usize, String> {
    let v: usize = s.parse().map_err(|e| format!("{e}"))?;
    tokenize::check_bpe_vocab(v)?;
    Ok(v)
}

/// A share in [0, 1), for `--val-fraction`.
fn share(s: &str) -> std::result::Result<f64, String> {
    let x: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{x} is not in [0, 1)"))
    }
}

pub fn run(a: Args, progress: bool) -> Result<()> {
    outdir::check_dest(&a.out, tokenize::OWNER, a.force)?;
    let (files, unused) = tokenize::expand_inputs(&a.input)?;
    for u in &unused {
        eprintln!("not read: {}: {}", u.file.display(), u.reason);
    }
    let opts = tokenize::ReadOptions {
        text_field: a.text_field,
        text_docs: a.text_docs,
    };
    let tok = match (a.tokenizer, a.train_bpe) {
        (Some(t), None) => tokenize::load_tokenizer(&t)?,
        (None, Some(v)) => tokenize::train_bpe(&files, &opts, v)?,
        _ => bail!("give --tokenizer FILE or --train-bpe VOCAB"),
    };
    let s = tokenize::tokenize(&tokenize::TokenizeJob {
        files: &files,
        opts: &opts,
        tokenizer: &tok,
        out: &a.out,
        val_fraction: a.val_fraction,
        seed: a.seed,
        shard_tokens: a.shard_tokens,
        progress,
        force: a.force,
        unused: &unused,
    })?;
    let val_tokens = s.val.as_ref().map_or(0, |v| v.tokens);
    outln!(
        "{} files, {} documents, {} skipped; train {} tokens in {} shards ({}), val {} tokens; {:.1} s, {:.0} tokens/s, {:.1} MB/s",
        files.len(),
        s.stats.documents,
        s.stats.skipped.len(),
        s.train.tokens,
        s.train.shards.len(),
        s.train.dtype,
        val_tokens,
        s.seconds,
        (s.train.tokens + val_tokens) as f64 / s.seconds,
        s.stats.bytes as f64 / 1e6 / s.seconds
    );
    for k in s.stats.skipped.iter().take(5) {
        eprintln!("skipped {}:{}: {}", k.file.display(), k.line, k.reason);
    }
    if s.stats.skipped.len() > 5 {
        eprintln!(
            "... {} more, all listed in {}",
            s.stats.skipped.len() - 5,
            a.out.join("skipped.tsv").display()
        );
    }
    Ok(())
}
