//! `coldstart`: read the Huawei Cloud 2025 cold-start trace, store it columnar, query it
//! with SQL, and generate synthetic releases.

mod store;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use coldstart_sim::{synth, SynthOptions};
use coldstart_trace::{ingest, IngestOptions};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::store::Store;

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
    },
    /// Run SQL on a store (tables: cold_starts, requests, functions, minute_metrics).
    Sql {
        #[arg(long)]
        store: PathBuf,
        query: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the result here instead of standard output (required for parquet).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// List the tables of a store with their schemas and row counts.
    Tables {
        #[arg(long)]
        store: PathBuf,
    },
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
                ..SynthOptions::default()
            };
            let s = synth(&opts)?;
            println!("wrote {} in {:.1} s", out.display(), s.seconds);
            println!(
                "{:<6} {:>9} {:>12} {:>14} {:>14}",
                "region", "functions", "cold starts", "requests", "day-30 rows"
            );
            for r in &s.regions {
                println!(
                    "{:<6} {:>9} {:>12} {:>14} {:>14}",
                    r.region, r.functions, r.cold_starts, r.requests, r.requests_last_day
                );
            }
            println!("\ncalibration against the paper (spec section 4):");
            let mut failed = 0;
            for c in &s.checks {
                if !c.pass {
                    failed += 1;
                }
                println!(
                    "  [{}] {:<62} {:>9.4}  target {}",
                    if c.pass { "ok" } else { "!!" },
                    c.name,
                    c.measured,
                    c.target
                );
            }
            println!(
                "{} of {} checks within tolerance",
                s.checks.len() - failed,
                s.checks.len()
            );
            Ok(())
        }
        Command::Ingest {
            inputs,
            store,
            strict,
            threads,
        } => {
            let opts = IngestOptions {
                strict,
                threads,
                ..IngestOptions::default()
            };
            let m = ingest(&inputs, &store, &opts)?;
            println!(
                "{:<70} {:>10} {:>10} {:>9}",
                "file", "rows read", "accepted", "rejected"
            );
            for f in &m.files {
                let name = if f.file.len() > 70 {
                    format!("…{}", &f.file[f.file.len() - 69..])
                } else {
                    f.file.clone()
                };
                println!(
                    "{:<70} {:>10} {:>10} {:>9}{}",
                    name,
                    f.counts.rows_read,
                    f.counts.rows_accepted,
                    f.counts.rows_rejected,
                    if f.counts.cells_rejected > 0 {
                        format!(" ({} cells rejected)", f.counts.cells_rejected)
                    } else {
                        String::new()
                    }
                );
                for w in &f.warnings {
                    println!("    warning: {w}");
                }
                if let Some(e) = &f.error {
                    println!("    error: {e}");
                }
            }
            for i in &m.ignored {
                println!("ignored {}: {}", i.file, i.reason);
            }
            println!();
            for t in &m.tables {
                println!(
                    "{:<15} {:>12} rows in {:>5} files  regions {}",
                    t.table,
                    t.rows,
                    t.files,
                    t.regions.join(",")
                );
            }
            println!(
                "read {} rows ({:.1} MB) in {:.1} s: {} accepted, {} rejected{}; store {}",
                m.rows_read,
                m.bytes_read as f64 / 1e6,
                m.seconds,
                m.rows_accepted,
                m.rows_rejected,
                if m.cells_rejected > 0 {
                    format!(", {} per-minute cells rejected", m.cells_rejected)
                } else {
                    String::new()
                },
                store.display()
            );
            if m.rows_rejected > 0 || m.cells_rejected > 0 {
                println!(
                    "rejects: {}",
                    store.join(coldstart_trace::ingest::REJECTS).display()
                );
            }
            Ok(())
        }
        Command::Sql {
            store,
            query,
            format,
            output,
        } => runtime()?.block_on(sql(store, query, format, output)),
        Command::Tables { store } => runtime()?.block_on(tables(store)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn sql(store: PathBuf, query: String, format: Format, output: Option<PathBuf>) -> Result<()> {
    let store = Store::open(&store)?;
    let ctx = store.session().await?;
    let df = ctx.sql(&query).await.context("SQL error")?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    let mut out: Box<dyn Write + Send> = match (&output, format) {
        (Some(p), _) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("{}: cannot create", p.display()))?,
        )),
        (None, Format::Parquet) => bail!("--format parquet needs --output FILE"),
        (None, _) => Box::new(std::io::stdout()),
    };
    match format {
        Format::Table => writeln!(out, "{}", pretty_format_batches(&batches)?)?,
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in &batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            w.write_batches(&refs)?;
            w.finish()?;
            writeln!(out)?;
        }
        Format::Parquet => {
            let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(&mut out, schema, None)?;
            for b in &batches {
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
        println!("{name} ({n} rows)");
        for f in family.stored_schema().fields() {
            println!(
                "  {:<28} {:<8}{}",
                f.name(),
                f.data_type().to_string(),
                if f.is_nullable() { " nullable" } else { "" }
            );
        }
    }
    Ok(())
}
