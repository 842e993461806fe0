//! `coldstart fit`: maximum-likelihood fits of cold start times or of the gaps between cold
//! starts, the same routine as figures 10b and 10d.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use outdir::outln;

use super::ChartFile;
use crate::analysis::fits::{Fits, What};
use crate::query::{By, Cx, Options};

#[derive(clap::Args)]
pub struct Args {
    /// The store to read (a folder `coldstart ingest` made).
    #[arg(long)]
    store: PathBuf,
    #[arg(long, value_enum, default_value_t = What::ColdStartTime)]
    what: What,
    /// `region`: one fit per region instead of one over all.
    #[arg(long, value_enum)]
    by: Option<By>,
    #[arg(long)]
    region: Option<String>,
    /// Write the empirical CDF against the fits as SVG here.
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Replace the --chart file if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let by_region = match a.by {
        None => false,
        Some(By::Region) => true,
        Some(b) => bail!("fit groups only by region, not by {}", b.label()),
    };
    let cx = Cx::open(&a.store, Options::region(a.region))?;
    let fits = Fits::compute(&cx, a.what, by_region)?;
    if fits.groups.is_empty() {
        bail!("{}: no cold-start rows to fit", a.store.display());
    }
    write!(std::io::stdout(), "{fits}")?;
    if let Some(chart) = ChartFile::new(a.chart, a.force) {
        let panels = fits.panels(|g| format!("{g}: {}", a.what.label()));
        let svg = crate::chart::render(&panels, panels.len().min(3), (560, 400))?;
        chart.write(&svg)?;
        outln!("chart: {}", chart.path.display());
    }
    Ok(())
}
