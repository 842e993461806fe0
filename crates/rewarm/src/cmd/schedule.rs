//! `rewarm schedule`: the learning rate per step of a run config, printed and drawn; or the
//! schedule families there are (`--kinds`).

use crate::{report, run_config, schedule};
use anyhow::Result;
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A run config (TOML).
    #[arg(long, required_unless_present = "kinds")]
    config: Option<PathBuf>,
    /// List the schedule families: the `kind` of a run config's `[schedule]`, the names a
    /// study's `grid.schedule` takes, the keys each reads and what it does.
    #[arg(long, conflicts_with_all = ["config", "every", "svg"])]
    kinds: bool,
    /// Print every Nth step (default: about 20 lines).
    #[arg(long, value_parser = super::at_least_one::<u64>)]
    every: Option<u64>,
    /// Write the curve as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let Some(config) = a.config else {
        return kinds();
    };
    let cfg = run_config::RunConfig::load(&config)?;
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

/// The registry of schedule families, one block each.
fn kinds() -> Result<()> {
    for f in schedule::FAMILIES {
        outln!("{}: {}", f.name, f.description);
        if !f.parameters.is_empty() {
            outln!("  keys: {}", f.parameters.join(", "));
        }
        if !f.study.is_empty() {
            let names: Vec<&str> = f.study.iter().map(|v| v.name).collect();
            outln!("  in a study's grid.schedule: {}", names.join(", "));
        }
    }
    Ok(())
}
