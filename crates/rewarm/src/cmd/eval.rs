//! `rewarm eval`: loss and perplexity of a checkpoint on token folders.

use crate::{checkpoint, eval, run_config, train};
use anyhow::{Context, Result};
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A Hugging Face checkpoint folder (config.json and safetensors).
    #[arg(long)]
    checkpoint: PathBuf,
    /// NAME=DIR, repeatable.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<String>,
    #[arg(long, default_value_t = 2048, value_parser = super::at_least_one::<usize>)]
    seq_len: usize,
    #[arg(long, default_value_t = 8, value_parser = super::at_least_one::<usize>)]
    batch_size: usize,
    /// Sequences per dataset (0: all).
    #[arg(long, default_value_t = 0)]
    sequences: u64,
    /// auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: run_config::DeviceChoice,
    #[arg(long, value_enum, default_value_t = run_config::Precision::Auto)]
    precision: run_config::Precision,
}

pub fn run(a: Args) -> Result<()> {
    let dev = a.device.resolve()?;
    let mut model = checkpoint::load(&a.checkpoint, dev)?;
    model.set_compute(a.precision.compute(dev))?;
    outln!(
        "{:<16} {:>10} {:>12} {:>12}",
        "dataset",
        "loss",
        "perplexity",
        "tokens"
    );
    for d in a.data {
        let (name, dir) = d
            .split_once('=')
            .with_context(|| format!("--data {d:?}: expected NAME=DIR"))?;
        let ds = train::open_val(&PathBuf::from(dir)).with_context(|| format!("--data {name}"))?;
        let t0 = std::time::Instant::now();
        let r = eval::evaluate(&model, name, &ds, a.seq_len, a.batch_size, a.sequences)?;
        outln!(
            "{:<16} {:>10.4} {:>12.3} {:>12}   ({:.0} tokens/s)",
            r.name,
            r.loss,
            r.perplexity,
            r.tokens,
            r.tokens as f64 / t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
