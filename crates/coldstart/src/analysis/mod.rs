//! The paper's analyses (spec section 3), one file per figure. Each analysis reads the store
//! through SQL, finishes the statistics in Rust, and returns the tables behind its figure,
//! the figure's panels, its key numbers beside the published ones, and what it had to skip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::chart::Panel;
use crate::stats::LogHist;
use crate::store::Store;
use crate::table::Table;

mod fig03;
mod fig04;
mod fig05;
mod fig06;
mod fig07;
mod fig08;
mod fig09;
mod fig10;
mod fig11;
mod fig12;
mod fig13;
mod fig14;
mod fig15;
mod fig16;
mod fig17;

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
    pub fn expr(self) -> &'static str {
        match self {
            By::Region => "c.region",
            By::Runtime => "f.runtime",
            By::Trigger => "concat(f.trigger_type, '-', f.invocation_type)",
            By::PoolSize => SMALL_POOL_CASE,
        }
    }

    /// Whether the group needs the functions table (R2 only in the release).
    pub fn needs_functions(self) -> bool {
        matches!(self, By::Runtime | By::Trigger)
    }
}

/// Small pools as the paper defines them: at most 400 millicores and 256 MB.
pub const SMALL_POOL_CASE: &str =
    "CASE WHEN c.cpu_limit <= 400 AND c.memory_limit <= 256 THEN 'small' ELSE 'large' END";

/// The four components of a cold start, as the release names them.
pub const COMPONENTS: [&str; 4] = [
    "podAllocationCost",
    "deployCodeCost",
    "deployDependencyCost",
    "schedulingCost",
];

/// Cold start time and its four components.
pub const COLD_START_METRICS: [&str; 5] = [
    "totalCost_cold_start",
    COMPONENTS[0],
    COMPONENTS[1],
    COMPONENTS[2],
    COMPONENTS[3],
];

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

/// One figure's result.
#[derive(Default)]
pub struct Output {
    /// The numbers behind the figure (file stem suffix, table); the first is the main one.
    pub tables: Vec<(String, Table)>,
    pub panels: Vec<Panel>,
    pub cols: usize,
    pub numbers: Vec<KeyNumber>,
    /// Parts left out and why (a region without per-request rows, say).
    pub skipped: Vec<String>,
}

impl Output {
    /// No numbers at all: the analysis had nothing to work on.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|(_, t)| t.rows() == 0)
    }
}

/// A measured number beside the paper's.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyNumber {
    pub what: String,
    pub measured: String,
    pub published: String,
}

pub fn key(what: impl Into<String>, measured: impl Into<String>, published: &str) -> KeyNumber {
    KeyNumber {
        what: what.into(),
        measured: measured.into(),
        published: published.into(),
    }
}

pub trait Analysis: Sync {
    /// Figure id as the paper numbers it (`fig10a`).
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    /// One line saying what the chart shows.
    fn caption(&self) -> &'static str;
    /// What it groups by without `--by`; `None`: the analysis takes no `--by`.
    fn default_grouping(&self) -> Option<&'static str> {
        None
    }
    fn run(&self, cx: &Cx) -> Result<Output>;
}

/// Every analysis of spec section 3, in the paper's order.
pub fn all() -> Vec<Box<dyn Analysis>> {
    let mut v: Vec<Box<dyn Analysis>> = Vec::new();
    v.extend(fig03::analyses());
    v.extend(fig04::analyses());
    v.extend(fig05::analyses());
    v.extend(fig06::analyses());
    v.extend(fig07::analyses());
    v.extend(fig08::analyses());
    v.extend(fig09::analyses());
    v.extend(fig10::analyses());
    v.extend(fig11::analyses());
    v.extend(fig12::analyses());
    v.extend(fig13::analyses());
    v.extend(fig14::analyses());
    v.extend(fig15::analyses());
    v.extend(fig16::analyses());
    v.extend(fig17::analyses());
    v
}

pub fn find(id: &str) -> Result<Box<dyn Analysis>> {
    let norm = id.to_ascii_lowercase().replace("fig0", "fig");
    all().into_iter().find(|a| a.id() == norm).with_context(|| {
        let ids: Vec<_> = all().iter().map(|a| a.id()).collect();
        format!("no analysis '{id}'; known: {}", ids.join(", "))
    })
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

    /// Regions with the functions table (runtimes, triggers); none: a note why the analysis
    /// is skipped.
    pub fn function_regions(&self, out: &mut Output) -> Option<Vec<String>> {
        let regions = self.regions("functions");
        if regions.is_empty() {
            out.skipped
                .push("no functions table (runtime, trigger types: R2 only in the release)".into());
            return None;
        }
        Some(regions)
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
        let batches = self.sql(query)?;
        let mut cols = Columns::default();
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

/// Long CDF table (group, x, cdf) from histograms, and the matching chart series.
pub fn cdf_table(
    group_name: &str,
    x_name: &str,
    hists: &BTreeMap<String, LogHist>,
) -> (Table, Vec<crate::chart::Series>) {
    long_cdf(group_name, x_name, hists.iter().map(|(g, h)| (g, h.cdf())))
}

fn long_cdf<'a>(
    group_name: &str,
    x_name: &str,
    curves: impl Iterator<Item = (&'a String, Vec<(f64, f64)>)>,
) -> (Table, Vec<crate::chart::Series>) {
    let (mut g, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new());
    let mut series = Vec::new();
    for (name, pts) in curves {
        for (a, b) in &pts {
            g.push(name.clone());
            x.push(*a);
            y.push(*b);
        }
        series.push(crate::chart::Series::new(name.clone(), pts));
    }
    (
        Table::new().str(group_name, g).f64(x_name, x).f64("cdf", y),
        series,
    )
}

/// Formats seconds (or any number) compactly for the key-number table.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// A share as a percentage; "n/a (no data)" where there is nothing to share (NaN).
pub fn pct(v: f64) -> String {
    if v.is_finite() {
        // `+ 0.0` turns an empty sum's -0.0 into 0.0.
        format!("{:.1} %", v * 100.0 + 0.0)
    } else {
        "n/a (no data)".into()
    }
}

/// Exact empirical CDF of sorted data at its distinct values, thinned to about `max_points`
/// (the last point of each kept value is exact; the final point is always kept).
pub fn ecdf_points(sorted: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let mut pts = Vec::new();
    for i in 0..n {
        if i + 1 == n || sorted[i + 1] != sorted[i] {
            pts.push((sorted[i], (i + 1) as f64 / n as f64));
        }
    }
    if pts.len() > max_points {
        let step = pts.len().div_ceil(max_points);
        let last = *pts.last().expect("non-empty");
        pts = pts.into_iter().step_by(step).collect();
        if pts.last() != Some(&last) {
            pts.push(last);
        }
    }
    pts
}

/// Long exact-CDF table (group, x, cdf) from sorted samples per group.
pub fn ecdf_table(
    group_name: &str,
    x_name: &str,
    samples: &BTreeMap<String, Vec<f64>>,
) -> (Table, Vec<crate::chart::Series>) {
    long_cdf(
        group_name,
        x_name,
        samples.iter().map(|(g, v)| (g, ecdf_points(v, 2000))),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn shares_without_data_say_so() {
        assert_eq!(super::pct(0.25), "25.0 %");
        assert_eq!(super::pct([0.0f64; 0].iter().sum()), "0.0 %");
        assert_eq!(super::pct(f64::NAN), "n/a (no data)");
    }
}
