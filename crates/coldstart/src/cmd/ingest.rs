//! `coldstart ingest`: read a release (folders or zip archives) into a Parquet store.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use coldstart_trace::ingest::{ingest, IngestOptions, Summary};

#[derive(clap::Args)]
pub struct Args {
    /// Release folders, CSV files or zip archives.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Folder for the Parquet store (replaced only when `coldstart ingest` made it).
    #[arg(long)]
    store: PathBuf,
    /// Stop at the first bad row or file instead of skipping and counting it.
    #[arg(long)]
    strict: bool,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Replace STORE even if it is not a store that `coldstart ingest` made.
    #[arg(long)]
    force: bool,
    /// List every input file (the store's _manifest.json has them all in any case).
    #[arg(long)]
    verbose: bool,
}

pub fn run(a: Args) -> Result<()> {
    let opts = IngestOptions {
        strict: a.strict,
        threads: a.threads,
        force: a.force,
        ..IngestOptions::default()
    };
    let m = ingest(&a.inputs, &a.store, &opts)?;
    write!(
        std::io::stdout(),
        "{}",
        Summary {
            manifest: &m,
            store: &a.store,
            verbose: a.verbose,
        }
    )?;
    if m.files_failed > 0 || m.files_skipped_problems > 0 {
        eprintln!(
            "coldstart: warning: {} files could not be read and {} were not read (above); \
             --strict makes this an error",
            m.files_failed, m.files_skipped_problems
        );
    }
    Ok(())
}
