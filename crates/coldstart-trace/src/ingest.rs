//! Ingest: every table of a release into a Parquet store, with a manifest of what was read
//! and a report of every rejected row.
//!
//! One Parquet file per input CSV, so files are written in parallel and a file that fails is
//! dropped whole; [`crate::layout`] owns the store's layout.
//!
//! The store is built in a staging folder beside STORE and swapped into place in one atomic
//! exchange only when complete ([`outdir::Staging`]): at every instant STORE holds the old
//! store or the whole new one, an ingest that fails (every input rejected, a full disk, an
//! interrupt) leaves the old store as it was, and running ingest again on the same input gives
//! the same store. STORE is replaced only when it is a store (`.made-by` says
//! `coldstart ingest`, or a manifest from before markers) or empty, unless `force`.
//!
//! Memory: each worker holds one CSV buffer (1 MiB), one Arrow batch (`batch_rows`) and one
//! Parquet row group being encoded (`row_group_rows`), so peak memory is bounded by
//! `threads × ~(batch + row group)` whatever the size of the input (about 100 MiB per
//! worker with the defaults).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use arrow::array::RecordBatch;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::Error;
use crate::parse::{clip, parse_file, FileCounts, Issue, Sink};
use crate::schema::Family;
use crate::source::{discover, InputFile, Skip, Skipped};

pub use crate::layout::{FORMAT_VERSION, MANIFEST, REJECTS};
/// The owner named in a store's `.made-by` marker.
pub const OWNER: &str = "coldstart ingest";

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Stop at the first problem instead of skipping and counting it.
    pub strict: bool,
    /// Worker threads (0: all cores).
    pub threads: usize,
    pub batch_rows: usize,
    pub row_group_rows: usize,
    pub progress: bool,
    /// Replace STORE even when it is not a store that ingest made.
    pub force: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            strict: false,
            threads: 0,
            batch_rows: 64 * 1024,
            row_group_rows: 512 * 1024,
            progress: true,
            force: false,
        }
    }
}

/// What happened to one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    pub family: Family,
    pub table: &'static str,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minute_table: Option<String>,
    pub bytes: u64,
    #[serde(flatten)]
    pub counts: FileCounts,
    pub warnings: Vec<String>,
    /// Set when the file could not be read at all; its rows are all counted as rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first rejected row: its line, column and why (all of them are in `_rejects`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_reject: Option<String>,
    /// Parquet file written, relative to the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    pub output_rows: u64,
    /// When its reading started and ended, in seconds from the start of the ingest.
    pub started: f64,
    pub ended: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    pub table: &'static str,
    pub files: usize,
    pub rows: u64,
    pub regions: Vec<String>,
}

/// The manifest written to `STORE/_manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format_version: u32,
    pub created_by: String,
    pub inputs: Vec<String>,
    pub tables: Vec<TableSummary>,
    pub files: Vec<FileReport>,
    /// Files found and not read, each with why (not release tables, duplicates, problems).
    pub skipped: Vec<Skipped>,
    /// Table files that could not be read at all or only in part (their rows are rejects).
    pub files_failed: usize,
    /// Entries of `skipped` that are problems (data that could not be read as placed).
    pub files_skipped_problems: usize,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub cells_rejected: u64,
    pub bytes_read: u64,
    pub seconds: f64,
}

/// Reads every table of the release under `inputs` into `store`.
pub fn ingest(
    inputs: &[PathBuf],
    store: &Path,
    opts: &IngestOptions,
) -> std::result::Result<Manifest, Error> {
    run(inputs, store, opts).map_err(Error::classify)
}

fn run(inputs: &[PathBuf], store: &Path, opts: &IngestOptions) -> Result<Manifest> {
    let start = Instant::now();
    let pool = worker_pool(opts.threads)?;
    // A store made before ownership markers is recognised by its manifest.
    let legacy = store.join(MANIFEST).is_file() && outdir::owner_of(store).is_none();
    // A second ingest into the same store is refused here, before it reads anything.
    let lock = outdir::lock(store, OWNER)?;
    outdir::check_dest(store, OWNER, opts.force || legacy)?;
    let found = discover(inputs)?;
    if opts.strict {
        if let Some(p) = found.problems().next() {
            return Err(Error::Unsupported {
                file: p.file.clone(),
                kind: p.kind,
                reason: p.reason.clone(),
            }
            .into());
        }
    }
    if found.files.is_empty() {
        let mut msg = format!(
            "no tables of the release found in {} (expected cold_start/R*/, per_request/R*/, \
             runtime_triggerType/ or quantiles/R*/<table>/ with CSV files, or their zip archives)",
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for s in found.skipped.iter().take(5) {
            msg.push_str(&format!("\n  not read {}: {}", s.file, s.reason));
        }
        return Err(Error::NoTables { message: msg }.into());
    }
    let staging = outdir::Staging::locked(lock, store, OWNER, opts.force || legacy)?;
    fs::create_dir_all(staging.path().join("_rejects"))
        .with_context(|| format!("{}: cannot create", staging.path().display()))?;

    let total_bytes: u64 = found.files.iter().map(|f| f.size).sum();
    let bar = if opts.progress {
        ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "ingest [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} \
             {binary_bytes_per_sec} eta {eta} {msg}",
        )
        .expect("valid template"),
    );
    let rows_done = AtomicU64::new(0);
    let ctx = Ctx {
        staging: staging.path(),
        opts,
        bar: &bar,
        rows_done: &rows_done,
        start,
    };
    let reports: Vec<Result<FileReport>> = pool.install(|| {
        found
            .files
            .par_iter()
            .enumerate()
            .map(|(i, f)| ingest_file(&ctx, i, f))
            .collect()
    });
    bar.finish_and_clear();
    let reports = reports.into_iter().collect::<Result<Vec<_>>>()?;

    let manifest = build_manifest(inputs, found.skipped, reports, start);
    if manifest.rows_accepted == 0 {
        // Nothing to store: the old store (if any) stays, and the caller hears why.
        let mut msg = format!(
            "no row of the {} input file{} was accepted ({} rows read, {} rejected); {} was not written",
            manifest.files.len(),
            if manifest.files.len() == 1 { "" } else { "s" },
            manifest.rows_read,
            manifest.rows_rejected,
            store.display()
        );
        for f in manifest.files.iter().take(10) {
            let line = match (&f.error, f.warnings.first()) {
                // The error names the file already.
                (Some(e), _) => e.clone(),
                (None, Some(w)) => format!("{}: {w}", f.file),
                (None, None) => format!(
                    "{}: {} rows rejected, {} accepted{}",
                    f.file,
                    f.counts.rows_rejected,
                    f.counts.rows_accepted,
                    f.first_reject
                        .as_ref()
                        .map(|r| format!(" (first: {r})"))
                        .unwrap_or_default()
                ),
            };
            msg.push_str(&format!("\n  {}", clip(&line, 400)));
        }
        if manifest.files.len() > 10 {
            msg.push_str(&format!("\n  and {} more files", manifest.files.len() - 10));
        }
        return Err(Error::NothingAccepted {
            store: store.to_path_buf(),
            rows_read: manifest.rows_read,
            message: msg,
        }
        .into());
    }
    merge_rejects(staging.path())?;
    outdir::write_file(
        &staging.path().join(MANIFEST),
        serde_json::to_vec_pretty(&manifest)?.as_slice(),
    )?;
    staging.commit()?;
    Ok(manifest)
}

/// Marks an error of writing the store (a full disk, say), which stops the ingest, apart from
/// errors of reading an input, which reject that input.
#[derive(Debug)]
struct WriteFailed(String);

impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}", self.0)
    }
}

fn write_failed<E>(path: &Path) -> impl FnOnce(E) -> anyhow::Error + '_
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| anyhow::Error::new(e).context(WriteFailed(path.display().to_string()))
}

struct Ctx<'a> {
    staging: &'a Path,
    opts: &'a IngestOptions,
    bar: &'a ProgressBar,
    rows_done: &'a AtomicU64,
    start: Instant,
}

/// Where one input's Parquet file goes.
fn output_name(i: usize, f: &InputFile) -> String {
    crate::layout::StoreLayout::parquet_file(f.family, &f.region, f.table.as_deref(), &f.display, i)
}

struct FileSink<'a> {
    display: &'a str,
    strict: bool,
    writer: Option<ArrowWriter<File>>,
    path: PathBuf,
    props: WriterProperties,
    rejects: Option<csv::Writer<BufWriter<File>>>,
    rejects_path: PathBuf,
    warnings: Vec<String>,
    first_reject: Option<String>,
    rows: u64,
    bar: &'a ProgressBar,
    rows_done: &'a AtomicU64,
    start: Instant,
}

impl Sink for FileSink<'_> {
    fn batch(&mut self, batch: RecordBatch) -> Result<()> {
        if self.writer.is_none() {
            fs::create_dir_all(self.path.parent().expect("has parent"))
                .map_err(write_failed(&self.path))?;
            let file = File::create(&self.path).map_err(write_failed(&self.path))?;
            self.writer = Some(
                ArrowWriter::try_new(file, batch.schema(), Some(self.props.clone()))
                    .map_err(write_failed(&self.path))?,
            );
        }
        let n = batch.num_rows() as u64;
        self.writer
            .as_mut()
            .expect("created")
            .write(&batch)
            .map_err(write_failed(&self.path))?;
        self.rows += n;
        let done = self.rows_done.fetch_add(n, Ordering::Relaxed) + n;
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "{done} rows ({:.2} M rows/s)",
            done as f64 / secs / 1e6
        ));
        Ok(())
    }

    fn issue(&mut self, issue: Issue) -> Result<()> {
        if self.strict {
            // The caller puts the file's path in front.
            return Err(issue.into());
        }
        if self.first_reject.is_none() {
            self.first_reject = Some(clip(&issue.to_string(), 300));
        }
        if self.rejects.is_none() {
            let f = File::create(&self.rejects_path).map_err(write_failed(&self.rejects_path))?;
            self.rejects = Some(csv::Writer::from_writer(BufWriter::new(f)));
        }
        let w = self.rejects.as_mut().expect("created");
        w.write_record([
            self.display,
            &issue.line.to_string(),
            &issue.column,
            &issue.value,
            &issue.reason,
        ])
        .map_err(write_failed(&self.rejects_path))?;
        Ok(())
    }

    fn warning(&mut self, message: String) {
        // Bounded: a header of a million unknown columns does not make a million warnings.
        const MAX_WARNINGS: usize = 20;
        match self.warnings.len() {
            n if n < MAX_WARNINGS => self.warnings.push(clip(&message, 300)),
            MAX_WARNINGS => self
                .warnings
                .push("more warnings left out (at most 20 per file)".into()),
            _ => {}
        }
    }
}

/// Dictionaries only where values repeat (names, pools, small integers, pods of requests):
/// timestamps, costs and request IDs are near-unique and a dictionary there only costs time.
fn writer_properties(family: Family, row_group_rows: usize) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_max_row_group_row_count(Some(row_group_rows));
    let mut repeated = vec![
        "region",
        "day",
        "clusterName",
        "funcName",
        "userID",
        "funcID",
        "poolName",
        "cpu_limit",
        "memory_limit",
        "cpu_request",
        "runtime",
        "triggerType-invocationType",
        "trigger_type",
        "invocation_type",
        "trigger_count",
        "minute",
        "metric",
        "stat",
    ];
    if family == Family::Request {
        repeated.push("podID");
    }
    for c in repeated {
        b = b.set_column_dictionary_enabled(ColumnPath::from(c), true);
    }
    b.build()
}

/// Counts bytes as they are read, for the progress bar.
struct Counting<'a> {
    inner: &'a mut dyn std::io::Read,
    bar: &'a ProgressBar,
    read: u64,
}

impl std::io::Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

fn ingest_file(ctx: &Ctx, i: usize, f: &InputFile) -> Result<FileReport> {
    let started = ctx.start.elapsed().as_secs_f64();
    let output = output_name(i, f);
    let mut sink = FileSink {
        display: &f.display,
        strict: ctx.opts.strict,
        writer: None,
        path: ctx.staging.join(&output),
        props: writer_properties(f.family, ctx.opts.row_group_rows),
        rejects: None,
        rejects_path: ctx.staging.join("_rejects").join(format!("{i:07}.csv")),
        warnings: Vec::new(),
        first_reject: None,
        rows: 0,
        bar: ctx.bar,
        rows_done: ctx.rows_done,
        start: ctx.start,
    };
    let mut counts = FileCounts::default();
    let mut consumed = 0;
    let result = f.read_with(|r| {
        let mut counting = Counting {
            inner: r,
            bar: ctx.bar,
            read: 0,
        };
        let res = parse_file(
            f,
            &mut counting,
            ctx.opts.batch_rows,
            &mut sink,
            &mut counts,
        );
        consumed = counting.read;
        res
    });
    ctx.bar.inc(f.size.saturating_sub(consumed));
    let mut report = FileReport {
        file: f.display.clone(),
        family: f.family,
        table: f.family.table_name(),
        region: f.region.clone(),
        minute_table: f.table.clone(),
        bytes: f.size,
        counts,
        warnings: std::mem::take(&mut sink.warnings),
        error: None,
        first_reject: sink.first_reject.take(),
        output: None,
        output_rows: 0,
        started,
        ended: ctx.start.elapsed().as_secs_f64(),
    };
    if let Some(mut w) = sink.rejects.take() {
        w.flush().map_err(write_failed(&sink.rejects_path))?;
    }
    match result {
        Ok(()) => {
            if let Some(w) = sink.writer.take() {
                w.close().map_err(write_failed(&sink.path))?;
                report.output = Some(output);
                report.output_rows = sink.rows;
            } else if report.counts.rows_read == 0 {
                report.warnings.push("no data rows (header only)".into());
            }
            Ok(report)
        }
        Err(e) if e.downcast_ref::<WriteFailed>().is_some() => Err(e),
        Err(e) => {
            let file = f.display.clone();
            if ctx.opts.strict {
                return Err(match e.downcast::<Issue>() {
                    Ok(issue) => Error::Rejected { file, issue },
                    Err(e) => Error::FileRejected {
                        file,
                        reason: format!("{e:#}"),
                    },
                }
                .into());
            }
            let msg = format!("{file}: {}", clip(&format!("{e:#}"), 500));
            // The file is dropped whole: its partial output goes, and every row it holds
            // is counted as rejected (with the lines a failed read did not reach counted too).
            drop(sink.writer.take());
            let _ = fs::remove_file(&sink.path);
            let unread = count_remaining_lines(f, report.counts.rows_read);
            report.counts.rows_read += unread;
            report.counts.rows_rejected = report.counts.rows_read;
            report.counts.rows_accepted = 0;
            report.counts.cells_accepted = 0;
            report.error = Some(msg.clone());
            let mut w = csv::Writer::from_path(&sink.rejects_path)
                .map_err(write_failed(&sink.rejects_path))?;
            w.write_record([
                f.display.as_str(),
                "",
                "",
                "",
                &format!("whole file rejected: {}", clip(&format!("{e:#}"), 500)),
            ])
            .and_then(|_| w.flush().map_err(Into::into))
            .map_err(write_failed(&sink.rejects_path))?;
            Ok(report)
        }
    }
}

/// Data lines of a file that a failed parse did not get to (best effort: a corrupt stream
/// is counted up to where it breaks).
fn count_remaining_lines(f: &InputFile, already: u64) -> u64 {
    let lines = f
        .read_with(|r| {
            let mut n = 0u64;
            let mut buf = vec![0u8; 1 << 16];
            let mut last = b'\n';
            loop {
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => {
                        n += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64;
                        last = buf[k - 1];
                    }
                    Err(_) => break,
                }
            }
            if last != b'\n' {
                n += 1;
            }
            Ok(n)
        })
        .unwrap_or(0);
    lines.saturating_sub(1).saturating_sub(already)
}

fn merge_rejects(staging: &Path) -> Result<()> {
    let dir = staging.join("_rejects");
    let mut parts: Vec<PathBuf> = fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    parts.sort();
    let mut out = BufWriter::new(File::create(staging.join(REJECTS))?);
    out.write_all(b"file,line,column,value,reason\n")?;
    for p in parts {
        std::io::copy(&mut File::open(&p)?, &mut out)?;
    }
    out.flush()?;
    fs::remove_dir_all(&dir)?;
    Ok(())
}

fn build_manifest(
    inputs: &[PathBuf],
    skipped: Vec<Skipped>,
    files: Vec<FileReport>,
    start: Instant,
) -> Manifest {
    let tables = Family::ALL
        .iter()
        .map(|fam| {
            let of: Vec<&FileReport> = files.iter().filter(|r| r.family == *fam).collect();
            let mut regions: Vec<String> = of
                .iter()
                .filter(|r| r.output.is_some())
                .map(|r| r.region.clone())
                .collect();
            regions.sort();
            regions.dedup();
            TableSummary {
                table: fam.table_name(),
                files: of.iter().filter(|r| r.output.is_some()).count(),
                rows: of.iter().map(|r| r.output_rows).sum(),
                regions,
            }
        })
        .collect();
    let sum = |f: fn(&FileReport) -> u64| files.iter().map(f).sum::<u64>();
    Manifest {
        format_version: FORMAT_VERSION,
        created_by: format!("coldstart-trace {}", env!("CARGO_PKG_VERSION")),
        inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
        tables,
        rows_read: sum(|r| r.counts.rows_read),
        rows_accepted: sum(|r| r.counts.rows_accepted),
        rows_rejected: sum(|r| r.counts.rows_rejected),
        cells_rejected: sum(|r| r.counts.cells_rejected),
        bytes_read: sum(|r| r.bytes),
        files_failed: files.iter().filter(|f| f.error.is_some()).count(),
        files_skipped_problems: skipped.iter().filter(|s| s.kind == Skip::Problem).count(),
        files,
        skipped,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// A pool of `threads` workers (0: one per core; refused above 4 per core, or 64).
pub fn worker_pool(threads: usize) -> Result<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Each worker holds its buffers (about 100 MiB at most); far more workers than cores only
    // multiplies memory.
    let most = (4 * cores).max(64);
    let threads = match threads {
        0 => cores,
        n if n > most => bail!(
            "--threads {n} is more than this machine can use: at most {most} ({cores} cores); 0 uses one per core"
        ),
        n => n,
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")
}

/// A summary of an ingest for a person: one line per table, the files with rejects or errors,
/// what was not read, and the totals; with `verbose`, one line per file too.
pub struct Summary<'a> {
    pub manifest: &'a Manifest,
    pub store: &'a Path,
    pub verbose: bool,
}

/// The end of `s` in at most `width` characters (a path's tail says most).
fn tail(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_owned();
    }
    let skip = n - (width - 1);
    format!("…{}", s.chars().skip(skip).collect::<String>())
}

impl std::fmt::Display for Summary<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.manifest;
        let mb = |b: u64| b as f64 / 1e6;
        if self.verbose {
            writeln!(
                out,
                "{:<70} {:>10} {:>10} {:>9}",
                "file", "rows read", "accepted", "rejected"
            )?;
            for f in &m.files {
                writeln!(
                    out,
                    "{:<70} {:>10} {:>10} {:>9}",
                    tail(&f.file, 70),
                    f.counts.rows_read,
                    f.counts.rows_accepted,
                    f.counts.rows_rejected
                )?;
            }
            writeln!(out)?;
        }
        writeln!(
            out,
            "{:<15} {:>6} {:>13} {:>10} {:>9} {:>8}  regions",
            "table", "files", "rows", "rejected", "MB", "MB/s"
        )?;
        for t in &m.tables {
            let of: Vec<&FileReport> = m.files.iter().filter(|f| f.table == t.table).collect();
            if of.is_empty() {
                continue;
            }
            let bytes: u64 = of.iter().map(|f| f.bytes).sum();
            let span = of.iter().map(|f| f.ended).fold(0.0, f64::max)
                - of.iter().map(|f| f.started).fold(f64::INFINITY, f64::min);
            let rejected: u64 = of.iter().map(|f| f.counts.rows_rejected).sum();
            writeln!(
                out,
                "{:<15} {:>6} {:>13} {:>10} {:>9.1} {:>8.1}  {}",
                t.table,
                of.len(),
                t.rows,
                rejected,
                mb(bytes),
                mb(bytes) / span.max(1e-6),
                t.regions.join(",")
            )?;
        }
        let troubled: Vec<&FileReport> = m
            .files
            .iter()
            .filter(|f| f.error.is_some() || f.counts.rows_rejected + f.counts.cells_rejected > 0)
            .collect();
        if !troubled.is_empty() {
            writeln!(out, "\nfiles with rejects ({}):", troubled.len())?;
            for f in troubled
                .iter()
                .take(if self.verbose { usize::MAX } else { 20 })
            {
                write!(
                    out,
                    "  {}: {} of {} rows rejected",
                    f.file, f.counts.rows_rejected, f.counts.rows_read
                )?;
                if f.counts.cells_rejected > 0 {
                    write!(out, ", {} per-minute cells", f.counts.cells_rejected)?;
                }
                match &f.error {
                    Some(e) => writeln!(out, "\n    error: {e}")?,
                    None => writeln!(out)?,
                }
            }
            if !self.verbose && troubled.len() > 20 {
                writeln!(
                    out,
                    "  and {} more (--verbose lists all)",
                    troubled.len() - 20
                )?;
            }
        }
        let warned = m.files.iter().filter(|f| !f.warnings.is_empty()).count();
        if warned > 0 {
            writeln!(
                out,
                "\n{warned} files have warnings (unknown columns and the like):"
            )?;
            for f in m.files.iter().filter(|f| !f.warnings.is_empty()).take(5) {
                writeln!(out, "  {}: {}", f.file, f.warnings[0])?;
            }
        }
        let mut not_tables = 0;
        for sk in &m.skipped {
            match sk.kind {
                Skip::NotATable => not_tables += 1,
                Skip::Duplicate => writeln!(out, "read once: {}: {}", sk.file, sk.reason)?,
                Skip::Problem => writeln!(out, "NOT READ: {}: {}", sk.file, sk.reason)?,
            }
        }
        if not_tables > 0 {
            writeln!(
                out,
                "{not_tables} files are not tables of the release (listed in {})",
                self.store.join(MANIFEST).display()
            )?;
        }
        writeln!(
            out,
            "\nread {} rows ({:.1} MB) in {:.1} s ({:.1} MB/s): {} accepted, {} rejected{}; store {}",
            m.rows_read,
            mb(m.bytes_read),
            m.seconds,
            mb(m.bytes_read) / m.seconds.max(1e-6),
            m.rows_accepted,
            m.rows_rejected,
            if m.cells_rejected > 0 {
                format!(", {} per-minute cells rejected", m.cells_rejected)
            } else {
                String::new()
            },
            self.store.display()
        )?;
        if m.rows_rejected > 0 || m.cells_rejected > 0 {
            writeln!(out, "rejects: {}", self.store.join(REJECTS).display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_tails_cut_at_characters() {
        let long = format!("/data/{}/cold_start/R1/day_00.csv", "é".repeat(80));
        let t = super::tail(&long, 70);
        assert_eq!(t.chars().count(), 70);
        assert!(t.starts_with('…') && t.ends_with("day_00.csv"));
        assert_eq!(super::tail("short.csv", 70), "short.csv");
    }
}
