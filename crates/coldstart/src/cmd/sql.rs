//! `coldstart sql`: run a read-only query on a store and print or write its result.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::ValueEnum;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::store::{query, Store};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(clap::Args)]
pub struct Args {
    /// The store to read (a folder `coldstart ingest` made).
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
}

pub fn run(a: Args) -> Result<()> {
    super::runtime()?.block_on(sql(a))
}

async fn sql(a: Args) -> Result<()> {
    let store = Store::open(&a.store)?;
    // Checked before the query runs, so a refusal comes first.
    let file = match (&a.output, a.format) {
        (Some(p), _) => Some(outdir::NewFile::create(p, a.force)?),
        (None, Format::Parquet) => bail!("--format parquet needs --output FILE"),
        (None, _) => None,
    };
    let ctx = store.session().await?;
    let df = query(&ctx, &a.query).await?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    match file {
        Some(mut f) => {
            write_result(&mut f, a.format, schema, &batches)?;
            f.commit()
        }
        None => write_result(&mut std::io::stdout(), a.format, schema, &batches),
    }
}

fn write_result(
    out: &mut (dyn Write + Send),
    format: Format,
    schema: SchemaRef,
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
