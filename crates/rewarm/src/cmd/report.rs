//! `rewarm report`: a study's report (HTML, SVG charts, findings checked) or one run's curves.

use crate::study;
use anyhow::{bail, Context, Result};
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A study folder (what `rewarm study` wrote).
    #[arg(long, required_unless_present = "run", conflicts_with = "run")]
    study: Option<PathBuf>,
    /// A single run folder.
    #[arg(long)]
    run: Option<PathBuf>,
    /// The report folder to write.
    #[arg(long)]
    out: PathBuf,
    /// Write into OUT even if it is a non-empty folder that `rewarm report` did not make.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let out = a.out;
    let mut _lock = None;
    let page = match (a.study, a.run) {
        (Some(dir), None) => {
            let cfg = study::StudyConfig::load(&dir.join("study.toml")).with_context(|| {
                format!(
                    "{} is not a study folder (rewarm study writes one)",
                    dir.display()
                )
            })?;
            let plan = study::plan::plan(&cfg, &dir, 0)?;
            _lock = Some(if out != dir {
                outdir::claim_dir(&out, study::report::OWNER, a.force)?
            } else {
                // Into the study folder itself: not while a study writes it.
                outdir::lock(&dir, study::report::OWNER)?
            });
            study::report::write_report(&out, &dir, &plan)?.0
        }
        (None, Some(run)) => {
            if !run.join(crate::run_dir::RUN_TOML).exists() {
                bail!("{}: not a run folder (no run.toml)", run.display());
            }
            _lock = Some(outdir::claim_dir(&out, study::report::OWNER, a.force)?);
            study::report::write_run_report(&run, &out)?
        }
        _ => bail!("give --study DIR or --run DIR"),
    };
    outln!("report: {}", page.display());
    Ok(())
}
