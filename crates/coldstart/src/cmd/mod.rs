//! The `coldstart` subcommands, one file each: its arguments (clap) and what it runs. The
//! binary only parses and dispatches.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;

pub mod analyze;
pub mod cdf;
pub mod fit;
pub mod ingest;
pub mod report;
pub mod simulate;
pub mod sql;
pub mod synth;
pub mod tables;

/// How a table goes to standard output.
#[derive(Clone, Copy, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

/// A Tokio runtime for the commands that query the store directly.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Where `--chart` goes: an existing file is replaced only with `--force`; written whole.
struct ChartFile {
    path: PathBuf,
    force: bool,
}

impl ChartFile {
    fn new(path: Option<PathBuf>, force: bool) -> Option<Self> {
        path.map(|path| Self { path, force })
    }

    fn write(&self, svg: &str) -> Result<()> {
        let mut f = outdir::NewFile::create(&self.path, self.force)?;
        f.write_all(svg.as_bytes())
            .with_context(|| format!("writing {}", self.path.display()))?;
        f.commit()
    }
}
