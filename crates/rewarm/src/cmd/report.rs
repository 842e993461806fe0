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
            if out != dir {
                _lock = Some(outdir::claim_dir(&out, study::report::OWNER, false)?);
            }
            study::report::write_report(&out, &dir, &plan)?.0
        }
        (None, Some(run)) => {
            if !run.join(crate::run_dir::RUN_TOML).exists() {
                bail!("{}: not a run folder (no run.toml)", run.display());
            }
            _lock = Some(outdir::claim_dir(&out, study::report::OWNER, false)?);
            study::report::write_run_report(&run, &out)?
        }
        _ => bail!("give --study DIR or --run DIR"),
    };
    outln!("report: {}", page.display());
    Ok(())
}
