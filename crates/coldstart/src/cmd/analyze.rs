//! `coldstart analyze`: print one analysis's tables and key numbers.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use datafusion::arrow::util::pretty::pretty_format_batches;
use outdir::outln;

use super::TableFormat;
use crate::analysis::{self, By, Cx, Options};
use crate::table::Table;

#[derive(clap::Args)]
pub struct Args {
    /// The analysis to run, e.g. fig05 (`coldstart analyze list` lists them all).
    name: String,
    /// The Parquet store to read (made by `coldstart ingest`).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Only this region (R1..R5); all regions when left out.
    #[arg(long)]
    region: Option<String>,
    /// Grouping, for the analyses that take one (fig10a, fig15, fig16, fig17).
    #[arg(long, value_enum)]
    by: Option<By>,
    /// How to print the tables.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
    /// Which of the analysis's tables to print (default: all for `table`, the first
    /// otherwise).
    #[arg(long)]
    table: Option<String>,
}

pub fn run(a: Args) -> Result<()> {
    if a.name == "list" {
        for a in analysis::all() {
            let by = a
                .default_grouping()
                .map_or(String::new(), |g| format!(" [--by; default: {g}]"));
            outln!("{:<7} {}{by}\n        {}", a.id(), a.title(), a.caption());
        }
        return Ok(());
    }
    let an = analysis::find(&a.name)?;
    if a.by.is_some() && an.default_grouping().is_none() {
        bail!(
            "{} takes no --by (these do: fig10a, fig15, fig16, fig17)",
            an.id()
        );
    }
    let store = a.store.context("--store is required")?;
    let cx = Cx::open(
        &store,
        Options {
            region: a.region,
            by: a.by,
        },
    )?;
    let out = an.run(&cx)?;
    for note in &out.skipped {
        eprintln!("note: {note}");
    }
    let chosen: Vec<&(String, Table)> = match (&a.table, a.format) {
        (Some(t), _) => vec![out.tables.iter().find(|(n, _)| n == t).with_context(|| {
            let names: Vec<&str> = out.tables.iter().map(|(n, _)| n.as_str()).collect();
            format!(
                "{} has no table '{t}' (it has {})",
                an.id(),
                names.join(", ")
            )
        })?],
        (None, TableFormat::Table) => out.tables.iter().collect(),
        (None, _) => out.tables.iter().take(1).collect(),
    };
    let mut stdout = std::io::stdout();
    for (n, t) in chosen {
        let batch = t.to_batch()?;
        match a.format {
            TableFormat::Table => {
                outln!("{} {n} ({} rows)", an.id(), batch.num_rows());
                outln!("{}", pretty_format_batches(&[batch])?);
            }
            TableFormat::Csv => stdout.write_all(&t.to_csv()?)?,
            TableFormat::Json => stdout.write_all(&t.to_json()?)?,
        }
    }
    if matches!(a.format, TableFormat::Table) && !out.numbers.is_empty() {
        outln!("key numbers (measured | published):");
        for k in &out.numbers {
            outln!("  {:<60} {:>14} | {}", k.what, k.measured, k.published);
        }
    }
    Ok(())
}
