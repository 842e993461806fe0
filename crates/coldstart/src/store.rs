//! Opens an ingested store as DataFusion tables: `cold_starts`, `requests`, `functions` and
//! `minute_metrics`, each a listing of its Parquet files.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use coldstart_trace::layout::{Contents, StoreLayout};
use coldstart_trace::Family;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext};

/// A store on disk, checked to be complete (its manifest is written last) and of this
/// format version.
pub struct Store {
    pub layout: StoreLayout,
    /// Which regions each table holds and the per-minute tables of each region.
    pub contents: Contents,
}

impl Store {
    pub fn open(root: &Path) -> Result<Self> {
        let (layout, contents) = StoreLayout::open(root)?;
        Ok(Self { layout, contents })
    }

    /// A DataFusion session with the four tables registered. Identifiers keep their case, so
    /// the release's column names (`totalCost_cold_start`) work unquoted.
    pub async fn session(&self) -> Result<SessionContext> {
        let mut config = SessionConfig::new().with_information_schema(true);
        config.options_mut().sql_parser.enable_ident_normalization = false;
        // Region folders are plain names (`R1`), not `region=R1`: list them too.
        config
            .options_mut()
            .execution
            .listing_table_ignore_subdirectory = false;
        let ctx = SessionContext::new_with_config(config);
        for family in Family::ALL {
            let name = family.table_name();
            let dir = self.layout.table_dir(family);
            let schema = family.stored_schema();
            if self.contents.tables.contains_key(name) {
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
