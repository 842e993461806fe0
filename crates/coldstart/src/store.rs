//! Opens an ingested store as DataFusion tables: `cold_starts`, `requests`, `functions` and
//! `minute_metrics`, each a listing of its Parquet files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use coldstart_trace::ingest::MANIFEST;
use coldstart_trace::source::walk;
use coldstart_trace::Family;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext};

/// A store on disk, checked to be complete (its manifest is written last).
pub struct Store {
    pub root: PathBuf,
}

impl Store {
    pub fn open(root: &Path) -> Result<Self> {
        let path = root.join(MANIFEST);
        if !root.is_dir() {
            bail!(
                "{}: no such store (run `coldstart ingest` first)",
                root.display()
            );
        }
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "{}: not a complete coldstart store (no {MANIFEST}); re-run `coldstart ingest`",
                root.display()
            )
        })?;
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .with_context(|| format!("{}: manifest is not valid JSON", path.display()))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// A DataFusion session with the four tables registered. Identifiers keep their case, so
    /// the release's column names (`totalCost_cold_start`) work unquoted.
    pub async fn session(&self) -> Result<SessionContext> {
        let mut config = SessionConfig::new().with_information_schema(true);
        config.options_mut().sql_parser.enable_ident_normalization = false;
        let ctx = SessionContext::new_with_config(config);
        for family in Family::ALL {
            let name = family.table_name();
            let dir = self.root.join(name);
            let schema = family.stored_schema();
            if has_parquet(&dir) {
                let url = ListingTableUrl::parse(format!("{}/", dir.canonicalize()?.display()))?;
                let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                    .with_file_extension(".parquet");
                let config = ListingTableConfig::new(url)
                    .with_listing_options(options)
                    .with_schema(schema);
                ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
            } else {
                ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![vec![]])?))?;
            }
        }
        Ok(ctx)
    }
}

/// Runs a query in read-only mode: DDL (`CREATE EXTERNAL TABLE` could read any file), DML
/// (`INSERT` would change the store, `COPY` writes files) and statements (`SET`) are refused.
/// Nothing but the store's four tables is reachable: file paths as table names are off.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    let read_only = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    ctx.sql_with_options(sql, read_only).await.map_err(|e| {
        let msg = e.to_string();
        if msg.contains("not supported")
            && (msg.contains("DDL") || msg.contains("DML") || msg.contains("Statement"))
        {
            anyhow::anyhow!(
                "{msg}\n`coldstart sql` only asks questions of the store (SELECT, WITH, EXPLAIN); \
                 use --output FILE to save a result"
            )
        } else {
            anyhow::Error::new(e).context("SQL error")
        }
    })
}

fn has_parquet(dir: &Path) -> bool {
    let mut files = Vec::new();
    dir.is_dir()
        && walk(dir, &mut files).is_ok()
        && files
            .iter()
            .any(|p| p.extension().is_some_and(|x| x == "parquet"))
}
