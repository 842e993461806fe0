//! `rewarm init`: a randomly initialised Hugging Face checkpoint from a preset or config.json.

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
    #[arg(long, default_value_t = 50304, value_parser = clap::value_parser!(i64).range(1..=crate::tokenize::MAX_VOCAB as i64))]
    vocab_size: i64,
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
    let cfg = match (a.preset, a.config) {
        (Some(p), None) => ModelConfig::preset(&p, a.vocab_size)?,
        (None, Some(c)) => ModelConfig::load(&c)?,
        _ => bail!("give --preset or --config"),
    };
    let model = GptNeox::new(&cfg, tch::Device::Cpu, a.seed)?;
    checkpoint::save(&a.out, &model, a.force)?;
    outln!(
        "{} parameters written to {}",
        model.params.numel(),
        a.out.display()
    );
    Ok(())
}
