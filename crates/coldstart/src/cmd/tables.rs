//! `coldstart tables`: the tables of a store with their schemas and row counts.

use std::path::PathBuf;

use anyhow::Result;
use coldstart_trace::Family;
use datafusion::arrow::array::Int64Array;
use outdir::outln;

use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// The store to read (a folder `coldstart ingest` made).
    #[arg(long)]
    store: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    super::runtime()?.block_on(tables(a.store))
}

async fn tables(store: PathBuf) -> Result<()> {
    let store = Store::open(&store)?;
    let ctx = store.session().await?;
    for family in Family::ALL {
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
                    .downcast_ref::<Int64Array>()
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
