//! `coldstart`: read the Huawei Cloud 2025 cold-start trace, store it columnar, query it
//! with SQL, and generate synthetic releases.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use coldstart_sim::{synth, SynthOptions};
use coldstart_trace::{ingest, IngestOptions};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use outdir::outln;

use coldstart::analysis::{self, By, Cx, Options};
use coldstart::fit::{fit_all, fit_panel, fits_table, samples, What};
use coldstart::store::Store;

#[derive(Parser)]
#[command(
    name = "coldstart",
    version,
    about = "Serverless cold-start analytics on the Huawei Cloud 2025 trace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic release in the published layout.
    Synth {
        #[arg(long)]
        out: PathBuf,
        /// Regions to generate (comma separated).
        #[arg(long, value_delimiter = ',', default_value = "R1,R2,R3,R4,R5")]
        regions: Vec<String>,
        #[arg(long, default_value_t = 31)]
        days: u32,
        /// Functions per region (overrides --scale).
        #[arg(long)]
        functions: Option<u32>,
        /// Size relative to the published release (1.0: R2 has 2418 functions and about
        /// 2 million cold starts).
        #[arg(long, default_value_t = 0.05)]
        scale: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Pack each region into zip archives as the publishers ship them.
        #[arg(long)]
        zip: bool,
        /// Regions that get per-minute tables (default: all generated regions; `none` for none).
        #[arg(long, value_delimiter = ',')]
        quantiles: Option<Vec<String>>,
        /// Worker threads (0: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Replace OUT even if it is not a folder that `coldstart synth` made.
        #[arg(long)]
        force: bool,
    },
    /// Read a release (folders or zip archives) into a Parquet store.
    Ingest {
        /// Release folders, CSV files or zip archives.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
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
    },
    /// Run a query (SELECT, WITH, EXPLAIN) on a store (tables: cold_starts, requests,
    /// functions, minute_metrics). The session is read-only: no DDL, DML, COPY or SET.
    Sql {
        #[arg(long)]
        store: PathBuf,
        query: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the result here instead of standard output (required for parquet).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Replace the --output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// List the tables of a store with their schemas and row counts.
    Tables {
        #[arg(long)]
        store: PathBuf,
    },
    /// Every analysis of the paper: CSV tables, SVG charts and one index.html.
    Report {
        #[arg(long)]
        store: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Only this region.
        #[arg(long)]
        region: Option<String>,
        /// Replace OUT even if it is not a folder that `coldstart report` made.
        #[arg(long)]
        force: bool,
    },
    /// Print one analysis's table (e.g. fig10a, fig17; `list` names them all).
    Analyze {
        name: String,
        #[arg(long)]
        store: Option<PathBuf>,
        #[arg(long)]
        region: Option<String>,
        /// Grouping, for the analyses that take one (fig10a, fig15, fig16, fig17).
        #[arg(long, value_enum)]
        by: Option<By>,
        #[arg(long, value_enum, default_value_t = TableFormat::Table)]
        format: TableFormat,
        /// Which of the analysis's tables to print (default: all for `table`, the first
        /// otherwise).
        #[arg(long)]
        table: Option<String>,
    },
    /// CDF of any numeric column, streamed from the store (log-binned, exact at bin edges).
    Cdf {
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
    },
    /// Maximum-likelihood LogNormal, Weibull, gamma and exponential fits, with KS distances.
    Fit {
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
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Table,
    Csv,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
    Parquet,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if outdir::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldstart: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Synth {
            out,
            regions,
            days,
            functions,
            scale,
            seed,
            zip,
            quantiles,
            threads,
            force,
        } => {
            let opts = SynthOptions {
                out: out.clone(),
                regions,
                days,
                functions,
                scale,
                seed,
                zip,
                quantile_regions: quantiles,
                threads,
                force,
                ..SynthOptions::default()
            };
            let s = synth(&opts)?;
            outln!("wrote {} in {:.1} s", out.display(), s.seconds);
            write!(std::io::stdout(), "{s}")?;
            Ok(())
        }
        Command::Ingest {
            inputs,
            store,
            strict,
            threads,
            force,
            verbose,
        } => {
            let opts = IngestOptions {
                strict,
                threads,
                force,
                ..IngestOptions::default()
            };
            let m = ingest(&inputs, &store, &opts)?;
            write!(
                std::io::stdout(),
                "{}",
                coldstart_trace::ingest::Summary {
                    manifest: &m,
                    store: &store,
                    verbose,
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
        Command::Sql {
            store,
            query,
            format,
            output,
            force,
        } => runtime()?.block_on(sql(store, query, format, output, force)),
        Command::Tables { store } => runtime()?.block_on(tables(store)),
        Command::Report {
            store,
            out,
            region,
            force,
        } => {
            let s = coldstart::report::report(&store, &out, Options { region, by: None }, force)?;
            let failed: Vec<&str> = s
                .entries
                .iter()
                .filter(|e| e.status == coldstart::report::Status::Failed)
                .map(|e| e.id.as_str())
                .collect();
            let skipped = s
                .entries
                .iter()
                .filter(|e| e.status == coldstart::report::Status::Skipped)
                .count();
            outln!(
                "wrote {} ({} analyses, {} skipped, {} failed) in {:.1} s",
                out.join("index.html").display(),
                s.entries.len(),
                skipped,
                failed.len(),
                s.seconds
            );
            if !failed.is_empty() {
                bail!("analyses failed: {}", failed.join(", "));
            }
            Ok(())
        }
        Command::Analyze {
            name,
            store,
            region,
            by,
            format,
            table,
        } => analyze(&name, store, region, by, format, table),
        Command::Fit {
            store,
            what,
            by,
            region,
            chart,
            force,
        } => fit(&store, what, by, region, ChartFile::new(chart, force)),
        Command::Cdf {
            store,
            table,
            column,
            by_region,
            region,
            format,
            chart,
            force,
        } => cdf(
            &store,
            &table,
            &column,
            by_region,
            region,
            format,
            ChartFile::new(chart, force),
        ),
    }
}

fn analyze(
    name: &str,
    store: Option<PathBuf>,
    region: Option<String>,
    by: Option<By>,
    format: TableFormat,
    table: Option<String>,
) -> Result<()> {
    if name == "list" {
        for a in analysis::all() {
            let by = a
                .default_grouping()
                .map_or(String::new(), |g| format!(" [--by; default: {g}]"));
            outln!("{:<7} {}{by}\n        {}", a.id(), a.title(), a.caption());
        }
        return Ok(());
    }
    let a = analysis::find(name)?;
    if by.is_some() && a.default_grouping().is_none() {
        bail!(
            "{} takes no --by (these do: fig10a, fig15, fig16, fig17)",
            a.id()
        );
    }
    let store = store.context("--store is required")?;
    let cx = Cx::open(&store, Options { region, by })?;
    let out = a.run(&cx)?;
    for note in &out.skipped {
        eprintln!("note: {note}");
    }
    let chosen: Vec<&(String, coldstart::table::Table)> = match (&table, format) {
        (Some(t), _) => vec![out.tables.iter().find(|(n, _)| n == t).with_context(|| {
            let names: Vec<&str> = out.tables.iter().map(|(n, _)| n.as_str()).collect();
            format!(
                "{} has no table '{t}' (it has {})",
                a.id(),
                names.join(", ")
            )
        })?],
        (None, TableFormat::Table) => out.tables.iter().collect(),
        (None, _) => out.tables.iter().take(1).collect(),
    };
    let mut stdout = std::io::stdout();
    for (n, t) in chosen {
        let batch = t.to_batch()?;
        match format {
            TableFormat::Table => {
                outln!("{} {n} ({} rows)", a.id(), batch.num_rows());
                outln!("{}", pretty_format_batches(&[batch])?);
            }
            TableFormat::Csv => stdout.write_all(&t.to_csv()?)?,
            TableFormat::Json => stdout.write_all(&t.to_json()?)?,
        }
    }
    if matches!(format, TableFormat::Table) && !out.numbers.is_empty() {
        outln!("key numbers (measured | published):");
        for k in &out.numbers {
            outln!("  {:<60} {:>14} | {}", k.what, k.measured, k.published);
        }
    }
    Ok(())
}

fn cdf(
    store: &std::path::Path,
    table: &str,
    column: &str,
    by_region: bool,
    region: Option<String>,
    format: TableFormat,
    chart: Option<ChartFile>,
) -> Result<()> {
    let family = coldstart_trace::Family::ALL
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
    let cx = Cx::open(store, Options { region, by: None })?;
    let group = if by_region { "region" } else { "'all'" };
    let started = std::time::Instant::now();
    let hists = cx.hists(
        &format!(
            "SELECT {group}, \"{column}\" FROM {table} WHERE true {}",
            cx.region_filter("region")
        ),
        || coldstart::stats::LogHist::new(-9, 12, 20),
    )?;
    let secs = started.elapsed().as_secs_f64();
    let rows: u64 = hists.values().map(|h| h.total()).sum();
    eprintln!(
        "{rows} values in {secs:.2} s ({:.1} M rows/s)",
        rows as f64 / secs / 1e6
    );
    let (t, series) =
        analysis::cdf_table(if by_region { "region" } else { "group" }, column, &hists);
    match format {
        TableFormat::Csv => std::io::stdout().write_all(&t.to_csv()?)?,
        TableFormat::Json => std::io::stdout().write_all(&t.to_json()?)?,
        TableFormat::Table => {
            outln!(
                "{:<8} {:>12} {:>12} {:>12} {:>12} {:>12}",
                "group",
                "values",
                "p50",
                "p90",
                "p99",
                "p99.9"
            );
            for (g, h) in &hists {
                outln!(
                    "{:<8} {:>12} {:>12} {:>12} {:>12} {:>12}",
                    g,
                    h.total(),
                    analysis::num(h.quantile(0.5)),
                    analysis::num(h.quantile(0.9)),
                    analysis::num(h.quantile(0.99)),
                    analysis::num(h.quantile(0.999))
                );
            }
            outln!("(quantiles are bin edges: within 12 % of the exact value)");
        }
    }
    if let Some(chart) = chart {
        let panel =
            coldstart::chart::Panel::lines(&format!("{table}.{column}"), column, "CDF", series)
                .log_x();
        let svg = coldstart::chart::render(&[panel], 1, (700, 450))?;
        chart.write(&svg)?;
    }
    Ok(())
}

fn fit(
    store: &std::path::Path,
    what: What,
    by: Option<By>,
    region: Option<String>,
    chart: Option<ChartFile>,
) -> Result<()> {
    let by_region = match by {
        None => false,
        Some(By::Region) => true,
        Some(b) => bail!("fit groups only by region, not by {}", b.label()),
    };
    let cx = Cx::open(store, Options { region, by: None })?;
    let s = samples(&cx, what, by_region)?;
    if s.is_empty() {
        bail!("{}: no cold-start rows to fit", store.display());
    }
    let mut rows = Vec::new();
    let mut dropped = std::collections::BTreeMap::new();
    let mut panels = Vec::new();
    for (g, sample) in &s {
        let fits = fit_all(&sample.sorted);
        dropped.insert(g.clone(), sample.dropped);
        panels.push(fit_panel(
            &format!("{g}: {}", what.label()),
            what.label(),
            sample,
            &fits,
        ));
        rows.extend(fits.into_iter().map(|f| (g.clone(), f)));
    }
    let t = fits_table(&rows, &dropped);
    outln!("{}", pretty_format_batches(&[t.to_batch()?])?);
    for (g, n) in &dropped {
        if *n > 0 {
            outln!("{g}: {n} non-positive values left out of the fits");
        }
    }
    if let Some(chart) = chart {
        let svg = coldstart::chart::render(&panels, panels.len().min(3), (560, 400))?;
        chart.write(&svg)?;
        outln!("chart: {}", chart.path.display());
    }
    Ok(())
}

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

async fn sql(
    store: PathBuf,
    query: String,
    format: Format,
    output: Option<PathBuf>,
    force: bool,
) -> Result<()> {
    let store = Store::open(&store)?;
    // Checked before the query runs, so a refusal comes first.
    let file = match (&output, format) {
        (Some(p), _) => Some(outdir::NewFile::create(p, force)?),
        (None, Format::Parquet) => bail!("--format parquet needs --output FILE"),
        (None, _) => None,
    };
    let ctx = store.session().await?;
    let df = coldstart::store::query(&ctx, &query).await?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    match file {
        Some(mut f) => {
            write_result(&mut f, format, schema, &batches)?;
            f.commit()
        }
        None => write_result(&mut std::io::stdout(), format, schema, &batches),
    }
}

fn write_result(
    out: &mut (dyn Write + Send),
    format: Format,
    schema: datafusion::arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    match format {
        Format::Table => writeln!(out, "{}", pretty_format_batches(batches)?)?,
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut *out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            w.write_batches(&refs)?;
            w.finish()?;
            writeln!(out)?;
        }
        Format::Parquet => {
            let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(&mut *out, schema, None)?;
            for b in batches {
                w.write(b)?;
            }
            w.close()?;
        }
    }
    out.flush()?;
    Ok(())
}

async fn tables(store: PathBuf) -> Result<()> {
    let store = Store::open(&store)?;
    let ctx = store.session().await?;
    for family in coldstart_trace::Family::ALL {
        let name = family.table_name();
        let df = ctx
            .sql(&format!("SELECT count(*) AS n FROM {name}"))
            .await?;
        let batches = df.collect().await?;
        let n = batches
            .first()
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Int64Array>()
                    .map(|a| a.value(0))
            })
            .unwrap_or(0);
        outln!("{name} ({n} rows)");
        for f in family.stored_schema().fields() {
            outln!(
                "  {:<28} {:<8}{}",
                f.name(),
                f.data_type().to_string(),
                if f.is_nullable() { " nullable" } else { "" }
            );
        }
    }
    Ok(())
}
