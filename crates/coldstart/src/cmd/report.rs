//! `coldstart report`: every analysis of the paper as CSV tables, SVG charts and one
//! index.html.

use std::path::PathBuf;

use anyhow::{bail, Result};
use outdir::outln;

use crate::query::Options;
use crate::report::{report, Status};

#[derive(clap::Args)]
pub struct Args {
    /// The store to read (a folder `coldstart ingest` made).
    #[arg(long)]
    store: PathBuf,
    /// Folder for index.html, the charts and CSV files (replaced only when a report made it).
    #[arg(long)]
    out: PathBuf,
    /// Only this region.
    #[arg(long)]
    region: Option<String>,
    /// Replace OUT even if it is not a folder that `coldstart report` made.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let opts = Options::region(a.region);
    let s = report(&a.store, &a.out, opts, a.force)?;
    let failed = s.with_status(Status::Failed);
    outln!(
        "wrote {} ({} analyses, {} skipped, {} failed) in {:.1} s",
        a.out.join("index.html").display(),
        s.entries.len(),
        s.with_status(Status::Skipped).len(),
        failed.len(),
        s.seconds
    );
    outln!(
        "key numbers: {}; store size {}",
        s.verdicts(),
        s.size.text()
    );
    if !failed.is_empty() {
        bail!("analyses failed: {}", failed.join(", "));
    }
    Ok(())
}
