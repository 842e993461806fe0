//! `rewarm schedule`: the learning rate per step of a run config, printed and drawn.

use crate::{report, run_config};
use anyhow::Result;
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A run config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Print every Nth step (default: about 20 lines).
    #[arg(long, value_parser = super::at_least_one::<u64>)]
    every: Option<u64>,
    /// Write the curve as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let cfg = run_config::RunConfig::load(&a.config)?;
    let total = cfg.run.steps;
    let s = cfg.schedule.build(total)?;
    outln!("# {}", s.describe());
    let every = a.every.unwrap_or((total / 20).max(1));
    outln!("step\tlr");
    let mut t = 0;
    while t <= total {
        outln!("{t}\t{:.6e}", s.lr(t));
        t += every;
    }
    if let Some(svg) = a.svg {
        let pts: Vec<(f64, f64)> = (0..=total).map(|t| (t as f64, s.lr(t))).collect();
        report::draw_schedule(&pts, &s.describe(), &svg)?;
        eprintln!("wrote {}", svg.display());
    }
    Ok(())
}
