//! `rewarm train`: one run from a run config, from scratch or continued, resumable.

use crate::{dist, run_config, train};
use anyhow::Result;
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A run config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Continue the run in [run] out from its latest checkpoint.
    #[arg(long)]
    resume: bool,
    /// Write the run here instead of the config's [run] out (re-running a saved run.toml,
    /// e.g. a study run's, into a new folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: Args, progress: bool) -> Result<()> {
    let mut cfg = run_config::RunConfig::load(&a.config)?;
    if let Some(out) = a.out {
        cfg.run.out = out;
    }
    let s = train::train(&cfg, a.resume, progress)?;
    // In a data-parallel run the other ranks' summaries would repeat rank 0's.
    if dist::World::from_env()?.is_some_and(|w| w.rank != 0) {
        return Ok(());
    }
    outln!(
        "{} steps, {} tokens, {:.1} s, {:.0} tokens/s; run folder {}",
        s.steps,
        s.tokens,
        s.seconds,
        s.tokens_per_second,
        s.out.display()
    );
    for e in &s.final_eval {
        outln!(
            "{:<16} loss {:.4}  perplexity {:.3}",
            e.name,
            e.loss,
            e.perplexity
        );
    }
    Ok(())
}
