//! The query runtime the analyses run on: a DataFusion session over the store on its own
//! Tokio runtime ([`Cx`]), what the store holds, the user's options (region, grouping), and
//! the conversions from Arrow results to plain vectors ([`Columns`], [`floats`], [`strings`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use coldstart_trace::paper::{SMALL_POOL_MAX_CPU, SMALL_POOL_MAX_MEMORY_MB};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::stats::LogHist;
use crate::store::Store;

/// Grouping for the analyses that can be split several ways (`coldstart analyze --by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    Region,
    Runtime,
    Trigger,
    PoolSize,
}

impl By {
    pub fn label(self) -> &'static str {
        match self {
            By::Region => "region",
            By::Runtime => "runtime",
            By::Trigger => "trigger",
            By::PoolSize => "pool size",
        }
    }

    /// SQL expression of the group over `cold_starts c` joined with `functions f`.
    pub fn expr(self) -> String {
        match self {
            By::Region => "c.region".into(),
            By::Runtime => "f.runtime".into(),
            By::Trigger => "concat(f.trigger_type, '-', f.invocation_type)".into(),
            By::PoolSize => format!(
                "CASE WHEN {} THEN 'small' ELSE 'large' END",
                small_pool("c")
            ),
        }
    }

    /// Whether the group needs the functions table (R2 only in the release).
    pub fn needs_functions(self) -> bool {
        matches!(self, By::Runtime | By::Trigger)
    }
}

/// SQL condition: the cold start of table alias `t` is in a small pool as the paper defines it.
pub fn small_pool(t: &str) -> String {
    format!(
        "{t}.cpu_limit <= {SMALL_POOL_MAX_CPU} AND {t}.memory_limit <= {SMALL_POOL_MAX_MEMORY_MB}"
    )
}

/// `'R1', 'R2'` for an SQL `IN (...)` list.
pub fn sql_list(regions: &[String]) -> String {
    regions
        .iter()
        .map(|r| format!("'{}'", r.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The analysis options a user can set.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub region: Option<String>,
    pub by: Option<By>,
}

impl Options {
    /// Only `region` (all regions when None), no grouping.
    pub fn region(region: Option<String>) -> Self {
        Self { region, by: None }
    }
}

/// What the store holds: the regions of each table and the per-minute release tables
/// (`requests`, `cpu_usage_avg`, ...) of each region, as the store's manifest lists them.
pub type Availability = coldstart_trace::layout::Contents;

/// Where analyses run: a DataFusion session over the store, what it holds, and the options.
pub struct Cx {
    rt: tokio::runtime::Runtime,
    pub ctx: SessionContext,
    pub avail: Availability,
    pub opts: Options,
    /// Intermediate results that several figures share (6a/6b, 10c/10d), computed once.
    memo:
        std::cell::RefCell<std::collections::HashMap<&'static str, std::rc::Rc<dyn std::any::Any>>>,
}

impl Cx {
    pub fn open(store: &Path, opts: Options) -> Result<Self> {
        let s = Store::open(store)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let ctx = rt.block_on(s.session())?;
        let avail = s.contents.clone();
        if let Some(r) = &opts.region {
            let known: BTreeSet<&String> = avail.tables.values().flatten().collect();
            if !known.contains(r) {
                bail!(
                    "region '{r}' is not in the store (it has {})",
                    known.into_iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
        Ok(Self {
            rt,
            ctx,
            avail,
            opts,
            memo: Default::default(),
        })
    }

    /// `f()` computed once per report under `key`.
    pub fn memo<T: 'static>(
        &self,
        key: &'static str,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<std::rc::Rc<T>> {
        if let Some(v) = self.memo.borrow().get(key) {
            if let Ok(v) = v.clone().downcast::<T>() {
                return Ok(v);
            }
        }
        let v = std::rc::Rc::new(f()?);
        self.memo.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    /// Regions holding `table`, restricted to `--region` when given.
    pub fn regions(&self, table: &str) -> Vec<String> {
        self.avail
            .tables
            .get(table)
            .into_iter()
            .flatten()
            .filter(|r| self.opts.region.as_ref().is_none_or(|o| o == *r))
            .cloned()
            .collect()
    }

    /// Regions that hold every one of the per-minute release tables named.
    pub fn minute_regions(&self, tables: &[&str]) -> Vec<String> {
        self.regions("minute_metrics")
            .into_iter()
            .filter(|r| {
                self.avail
                    .minute
                    .get(r)
                    .is_some_and(|have| tables.iter().all(|t| have.contains(*t)))
            })
            .collect()
    }

    /// Regions whose requests come from the per-minute `table` (all days), and regions with
    /// only per-request rows (the released day), which analyses fall back on and say so.
    pub fn request_sources(&self, table: &str) -> (Vec<String>, Vec<String>) {
        let minute = self.minute_regions(&[table]);
        let fallback = self
            .regions("requests")
            .into_iter()
            .filter(|r| !minute.contains(r))
            .collect();
        (minute, fallback)
    }

    /// `AND region = 'R'` when a region is chosen, else nothing.
    pub fn region_filter(&self, column: &str) -> String {
        match &self.opts.region {
            Some(r) => format!(" AND {column} = '{}'", r.replace('\'', "''")),
            None => String::new(),
        }
    }

    async fn plan(&self, query: &str) -> Result<datafusion::dataframe::DataFrame> {
        crate::store::query(&self.ctx, query)
            .await
            .with_context(|| format!("planning {query}"))
    }

    pub fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        self.rt.block_on(async {
            let df = self.plan(query).await?;
            df.collect()
                .await
                .with_context(|| format!("running {query}"))
        })
    }

    /// Streams the result batch by batch (constant memory for large scans).
    pub fn for_each(
        &self,
        query: &str,
        mut f: impl FnMut(&RecordBatch) -> Result<()>,
    ) -> Result<()> {
        self.rt.block_on(async {
            let mut stream = self.plan(query).await?.execute_stream().await?;
            while let Some(b) = stream.next().await {
                f(&b.with_context(|| format!("running {query}"))?)?;
            }
            Ok(())
        })
    }

    /// Result columns as vectors: numbers as f64, everything else as strings.
    pub fn columns(&self, query: &str) -> Result<Columns> {
        let (schema, batches) = self.rt.block_on(async {
            let df = self.plan(query).await?;
            let schema = df.schema().inner().clone();
            let batches = df
                .collect()
                .await
                .with_context(|| format!("running {query}"))?;
            anyhow::Ok((schema, batches))
        })?;
        // The columns are named by the plan, so a query without rows has them too.
        let mut cols = Columns::default();
        cols.push(&RecordBatch::new_empty(schema))?;
        for b in &batches {
            cols.push(b)?;
        }
        Ok(cols)
    }

    /// Log-binned histograms of `value` per `group` (first and second result columns), built
    /// from every partition of the scan in parallel.
    pub fn hists(&self, query: &str, make: fn() -> LogHist) -> Result<BTreeMap<String, LogHist>> {
        self.rt.block_on(async {
            let streams = self.plan(query).await?.execute_stream_partitioned().await?;
            let tasks: Vec<_> = streams
                .into_iter()
                .map(|mut stream| {
                    tokio::spawn(async move {
                        let mut out: Vec<(String, LogHist)> = Vec::new();
                        while let Some(b) = stream.next().await {
                            add_batch(&b?, &mut out, make)?;
                        }
                        anyhow::Ok(out)
                    })
                })
                .collect();
            let mut merged: BTreeMap<String, LogHist> = BTreeMap::new();
            for t in tasks {
                for (g, h) in t.await?.with_context(|| format!("running {query}"))? {
                    match merged.get_mut(&g) {
                        Some(m) => m.merge(&h),
                        None => {
                            merged.insert(g, h);
                        }
                    }
                }
            }
            Ok(merged)
        })
    }
}

/// Adds a (group, value) batch to per-group histograms without allocating per row.
fn add_batch(
    b: &RecordBatch,
    out: &mut Vec<(String, LogHist)>,
    make: fn() -> LogHist,
) -> Result<()> {
    let g = cast(b.column(0), &DataType::Utf8)?;
    let g = g.as_string::<i32>();
    let v = cast(b.column(1), &DataType::Float64)?;
    let v = v.as_primitive::<Float64Type>();
    let mut cur = usize::MAX;
    for i in 0..b.num_rows() {
        if v.is_null(i) {
            continue;
        }
        let key = if g.is_null(i) { "" } else { g.value(i) };
        if cur == usize::MAX || out[cur].0 != key {
            cur = match out.iter().position(|(k, _)| k == key) {
                Some(p) => p,
                None => {
                    out.push((key.to_string(), make()));
                    out.len() - 1
                }
            };
        }
        out[cur].1.add(v.value(i));
    }
    Ok(())
}

/// Query results by column.
#[derive(Debug, Default)]
pub struct Columns {
    pub names: Vec<String>,
    pub f: Vec<Vec<f64>>,
    pub s: Vec<Vec<String>>,
}

impl Columns {
    fn push(&mut self, b: &RecordBatch) -> Result<()> {
        if self.names.is_empty() {
            self.names = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            self.f = vec![Vec::new(); self.names.len()];
            self.s = vec![Vec::new(); self.names.len()];
        }
        for (i, c) in b.columns().iter().enumerate() {
            if matches!(
                c.data_type(),
                DataType::Utf8
                    | DataType::Utf8View
                    | DataType::LargeUtf8
                    | DataType::Dictionary(_, _)
            ) {
                self.s[i].extend(strings(c)?);
            } else {
                self.f[i].extend(floats(c)?);
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.f
            .iter()
            .map(Vec::len)
            .chain(self.s.iter().map(Vec::len))
            .max()
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn index(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("query has no column {name}"))
    }

    pub fn f(&self, name: &str) -> &[f64] {
        &self.f[self.index(name)]
    }

    pub fn s(&self, name: &str) -> &[String] {
        &self.s[self.index(name)]
    }
}

/// A numeric column as f64 (nulls as NaN).
pub fn floats(a: &ArrayRef) -> Result<Vec<f64>> {
    let c = cast(a, &DataType::Float64)?;
    let c = c.as_primitive::<Float64Type>();
    Ok((0..c.len())
        .map(|i| if c.is_null(i) { f64::NAN } else { c.value(i) })
        .collect())
}

/// Any column as a string array, read in place: `str_at` borrows each value, with no copy
/// per row as [`strings`] makes (for columns of millions of rows).
pub fn utf8(a: &ArrayRef) -> Result<StringArray> {
    Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
}

/// Row `i` of a [`utf8`] column (nulls as empty).
pub fn str_at(c: &StringArray, i: usize) -> &str {
    if c.is_null(i) {
        ""
    } else {
        c.value(i)
    }
}

/// Any column as strings (nulls as empty).
pub fn strings(a: &ArrayRef) -> Result<Vec<String>> {
    let c = cast(a, &DataType::Utf8)?;
    let c = c.as_string::<i32>();
    Ok((0..c.len())
        .map(|i| {
            if c.is_null(i) {
                String::new()
            } else {
                c.value(i).to_string()
            }
        })
        .collect())
}
