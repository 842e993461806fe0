//! `coldstart cdf`: the CDF of any numeric column, streamed from the store (log-binned, exact
//! at bin edges).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use coldstart_trace::Family;

use super::{ChartFile, TableFormat};
use crate::analysis::{cdf_table, num};
use crate::query::{Cx, Options};
use crate::stats::LogHist;

#[derive(clap::Args)]
pub struct Args {
    /// The store to read (a folder `coldstart ingest` made).
    #[arg(long)]
    store: PathBuf,
    /// cold_starts, requests, functions or minute_metrics.
    #[arg(long)]
    table: String,
    #[arg(long)]
    column: String,
    /// One CDF per region instead of one over all rows.
    #[arg(long)]
    by_region: bool,
    #[arg(long)]
    region: Option<String>,
    /// `table` prints quantiles per group; `csv` prints the whole CDF.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
    /// Write the CDF as SVG here.
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Replace the --chart file if it exists.
    #[arg(long)]
    force: bool,
}

/// Quantiles of each group's histogram, for people.
pub struct Quantiles<'a>(pub &'a BTreeMap<String, LogHist>);

impl fmt::Display for Quantiles<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<8} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "group", "values", "p50", "p90", "p99", "p99.9"
        )?;
        for (g, h) in self.0 {
            writeln!(
                f,
                "{:<8} {:>12} {:>12} {:>12} {:>12} {:>12}",
                g,
                h.total(),
                num(h.quantile(0.5)),
                num(h.quantile(0.9)),
                num(h.quantile(0.99)),
                num(h.quantile(0.999))
            )?;
        }
        writeln!(
            f,
            "(quantiles are bin edges: within 12 % of the exact value)"
        )
    }
}

pub fn run(a: Args) -> Result<()> {
    let (table, column) = (a.table.as_str(), a.column.as_str());
    let family = Family::ALL
        .into_iter()
        .find(|f| f.table_name() == table)
        .with_context(|| {
            format!("no table '{table}' (cold_starts, requests, functions, minute_metrics)")
        })?;
    let schema = family.stored_schema();
    let field = schema
        .field_with_name(column)
        .map_err(|_| anyhow::anyhow!("{table} has no column '{column}'"))?;
    if !field.data_type().is_numeric() {
        bail!("{table}.{column} is not numeric ({})", field.data_type());
    }
    let cx = Cx::open(&a.store, Options::region(a.region))?;
    let group = if a.by_region { "region" } else { "'all'" };
    let started = std::time::Instant::now();
    let hists = cx.hists(
        &format!(
            "SELECT {group}, \"{column}\" FROM {table} WHERE true {}",
            cx.region_filter("region")
        ),
        || LogHist::new(-9, 12, 20),
    )?;
    let secs = started.elapsed().as_secs_f64();
    let rows: u64 = hists.values().map(|h| h.total()).sum();
    eprintln!(
        "{rows} values in {secs:.2} s ({:.1} M rows/s)",
        rows as f64 / secs / 1e6
    );
    let (t, series) = cdf_table(if a.by_region { "region" } else { "group" }, column, &hists);
    let mut stdout = std::io::stdout();
    match a.format {
        TableFormat::Csv => stdout.write_all(&t.to_csv()?)?,
        TableFormat::Json => stdout.write_all(&t.to_json()?)?,
        TableFormat::Table => write!(stdout, "{}", Quantiles(&hists))?,
    }
    if let Some(chart) = ChartFile::new(a.chart, a.force) {
        let panel =
            crate::chart::Panel::lines(&format!("{table}.{column}"), column, "CDF", series).log_x();
        let svg = crate::chart::render(&[panel], 1, (700, 450))?;
        chart.write(&svg)?;
    }
    Ok(())
}
