//! `rewarm init`: a randomly initialised Hugging Face checkpoint from a preset or config.json.

use crate::tokenize::{self, hf};
use crate::{checkpoint, config::ModelConfig, model::GptNeox};
use anyhow::{bail, Result};
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    #[arg(long)]
    config: Option<PathBuf>,
    /// Rows of the embedding (default: the tokenizer's vocabulary padded to a multiple of 128,
    /// else Pythia's 50,304).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=crate::tokenize::MAX_VOCAB as i64))]
    vocab_size: Option<i64>,
    /// The tokenizer.json the model is for, written into the checkpoint folder with its
    /// tokenizer_config.json, special_tokens_map.json and generation_config.json (a padding
    /// token is added when it has none).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    seed: i64,
    /// The checkpoint folder to write.
    #[arg(long)]
    out: PathBuf,
    /// Replace OUT even if it is not a checkpoint folder that rewarm made.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> Result<()> {
    outdir::check_dest(
        &a.out,
        checkpoint::OWNER,
        a.force || checkpoint::made_here(&a.out),
    )?;
    let tok = match &a.tokenizer {
        Some(p) => {
            let mut t = tokenize::load_tokenizer(p)?;
            if hf::ensure_pad(&mut t) {
                eprintln!(
                    "{}: no padding token; the checkpoint's tokenizer adds {} as id {}",
                    p.display(),
                    hf::PAD,
                    t.get_vocab_size(true) - 1
                );
            }
            Some(t)
        }
        None => None,
    };
    let tok_vocab = tok.as_ref().map(|t| t.get_vocab_size(true) as i64);
    let vocab = a
        .vocab_size
        .unwrap_or_else(|| tok_vocab.map_or(50304, hf::padded_vocab));
    let cfg = match (a.preset, a.config) {
        (Some(p), None) => ModelConfig::preset(&p, vocab)?,
        (None, Some(c)) => ModelConfig::load(&c)?,
        _ => bail!("give --preset or --config"),
    };
    if let Some(v) = tok_vocab.filter(|&v| v > cfg.vocab_size) {
        bail!(
            "the tokenizer has {v} tokens but the model's vocab_size is {}; give --vocab-size {} or more",
            cfg.vocab_size,
            hf::padded_vocab(v)
        );
    }
    let model = GptNeox::new(&cfg, tch::Device::Cpu, a.seed)?;
    checkpoint::save(&a.out, &model, tok.as_ref(), a.force)?;
    outln!(
        "{} parameters written to {}{}",
        model.params.numel(),
        a.out.display(),
        match &a.tokenizer {
            Some(p) => format!(" with the tokenizer of {}", p.display()),
            None => " (no tokenizer: the folder holds no tokenizer.json; give --tokenizer FILE to include one)".into(),
        }
    );
    Ok(())
}
