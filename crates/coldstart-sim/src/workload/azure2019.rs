//! The Azure Functions 2019 trace (AzurePublicDataset, `AzureFunctionsDataset2019.md`) as a
//! workload, read from the folder of its extracted CSV files:
//!
//! - `invocations_per_function_md.anon.dNN.csv` (NN = 01..14, day NN is day NN-1 here):
//!   HashOwner, HashApp, HashFunction, Trigger, then columns `1`..`1440` with the invocations
//!   per minute. A minute's invocations arrive at seeded uniform times within it, as dslab-faas
//!   spreads them (the trace counts an invocation at the end of its execution; that shift is
//!   not undone).
//! - `function_durations_percentiles.anon.dNN.csv`: execution time percentiles 0, 1, 25, 50,
//!   75, 99 and 100 (ms, cold starts excluded). Each invocation's execution time is drawn
//!   piecewise-linearly between them, from that day's statistics or, for a day without them,
//!   the function's nearest day's. Functions with no statistics on any day are left out and
//!   counted; functions whose average is 0 ms are kept (they run for their percentiles).
//! - `app_memory_percentiles.anon.dNN.csv` (d01..d12 only): a function's pods hold its app's
//!   mean `AverageAllocatedMb` over the days read (the app is what Azure loads); apps without
//!   memory statistics take the median app's, and are counted.
//!
//! Triggers map to the engine's `trigger-invocation` form: `http` is synchronous (`http-S`),
//! `timer` is `TIMER-A`, and `queue`, `event`, `storage`, `orchestration` and `others` are
//! asynchronous (`queue-A`, ...). The trace has no concurrency: each pod serves one request.
//! Duplicate rows (the same owner, app and function twice in one day's file) keep the first
//! and are counted; rows with a bad field are rejected, counted, and named (file, line, field).
//! A minute holds at most [`MAX_PER_MINUTE`] invocations of one function (the trace's busiest
//! function-minutes hold tens of thousands); a row above it is rejected like a bad one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::csv_input::{field, line, number, CsvFile, Rejects};
use super::{sort, Function, Invocation, Workload};
use crate::rng::{mix, unit};
use coldstart_trace::parse::clip;

const INVOCATIONS: &str = "invocations_per_function_md.anon.d";
const DURATIONS: &str = "function_durations_percentiles.anon.d";
const MEMORY: &str = "app_memory_percentiles.anon.d";

/// The percentiles the durations file gives, as quantiles.
const QUANTILES: [f64; 7] = [0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0];
const PERCENTILE_COLUMNS: [&str; 7] = [
    "percentile_Average_0",
    "percentile_Average_1",
    "percentile_Average_25",
    "percentile_Average_50",
    "percentile_Average_75",
    "percentile_Average_99",
    "percentile_Average_100",
];

pub use super::MAX_PER_MINUTE;

/// `a/b/...` of the fields at `cols`, or why the row is too short.
fn key(r: &csv::StringRecord, cols: &[usize]) -> std::result::Result<String, String> {
    let parts = cols
        .iter()
        .map(|&i| field(r, i))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(parts.join("/"))
}

/// Region name the engine's functions carry.
pub const REGION: &str = "azure2019";

/// The Azure 2019 trace's days as a workload.
pub struct Azure2019 {
    functions: Vec<Function>,
    /// Per function: (day, execution-time percentiles in seconds) of the days with statistics.
    durations: Vec<Vec<(u32, [f64; 7])>>,
    /// Functions left out (no duration statistics).
    left_out: Vec<bool>,
    /// The invocations file of each day read.
    files: BTreeMap<u32, PathBuf>,
    /// Per day, the records (0 = first after the header) that are not read: duplicates and
    /// rejected rows.
    skip: HashMap<u32, HashSet<u64>>,
    index: HashMap<String, u32>,
    seed: u64,
    notes: Vec<String>,
    /// Invocations per day, counted as the files were checked.
    per_day: BTreeMap<u32, u64>,
}

/// The day files `PREFIX NN .csv` in `dir`: day NN-1 -> path.
fn day_files(dir: &Path, prefix: &str) -> Result<BTreeMap<u32, PathBuf>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(nn) = name
            .strip_prefix(prefix)
            .and_then(|s| s.strip_suffix(".csv"))
        else {
            continue;
        };
        match nn.parse::<u32>() {
            Ok(d @ 1..=99) => {
                out.insert(d - 1, e.path());
            }
            _ => bail!(
                "{}: expected {prefix}NN.csv with a day number NN from 01",
                e.path().display()
            ),
        }
    }
    Ok(out)
}

/// `http` -> `http-S`, `timer` -> `TIMER-A`, the others asynchronous.
pub fn trigger(azure: &str) -> String {
    match azure.trim() {
        "http" => "http-S".into(),
        "timer" => "TIMER-A".into(),
        "" => "unknown".into(),
        t => format!("{t}-A"),
    }
}

impl Azure2019 {
    /// Reads the trace in `dir`, the days in `days` (0-based; all when `None`).
    pub fn open(dir: &Path, days: Option<Range<u32>>, seed: u64) -> Result<Self> {
        let mut files = day_files(dir, INVOCATIONS)?;
        if files.is_empty() {
            bail!(
                "{}: no {INVOCATIONS}NN.csv files (expected the extracted Azure Functions 2019 trace)",
                dir.display()
            );
        }
        if let Some(r) = &days {
            files.retain(|d, _| r.contains(d));
            if files.is_empty() {
                bail!(
                    "{}: no invocation file for days {}..{} (d{:02} to d{:02})",
                    dir.display(),
                    r.start,
                    r.end,
                    r.start + 1,
                    r.end
                );
            }
        }
        let mut notes = Vec::new();

        // Memory per app, over every day that has it.
        let mut app_mb: HashMap<String, (f64, u32)> = HashMap::new();
        let mut mem_rejects = Rejects::default();
        let mem_files = day_files(dir, MEMORY)?;
        for path in mem_files.values() {
            let mut f = CsvFile::open(path)?;
            let ends = f.end;
            let [o, a, m] = f.columns(["HashOwner", "HashApp", "AverageAllocatedMb"])?;
            for r in f.reader.records() {
                let r = r.with_context(|| format!("cannot read {}", path.display()))?;
                let app = match key(&r, &[o, a]) {
                    Ok(k) => k,
                    Err(e) => {
                        mem_rejects.add(path, line(&r, ends), "HashOwner/HashApp", e);
                        continue;
                    }
                };
                match number(&r, m) {
                    Ok(mb) if mb > 0.0 => {
                        let e = app_mb.entry(app).or_default();
                        e.0 += mb;
                        e.1 += 1;
                    }
                    Ok(_) => mem_rejects.add(path, line(&r, ends), "AverageAllocatedMb", "0 MB"),
                    Err(e) => mem_rejects.add(path, line(&r, ends), "AverageAllocatedMb", e),
                }
            }
        }
        let mut app_means: Vec<f64> = app_mb.values().map(|(s, n)| s / f64::from(*n)).collect();
        app_means.sort_by(f64::total_cmp);
        let median_mb = app_means.get(app_means.len() / 2).copied().unwrap_or(128.0);
        notes.extend(mem_rejects.note("app memory rows"));

        // Duration percentiles per function and day, over every day that has them.
        let mut durations_of: HashMap<String, Vec<(u32, [f64; 7])>> = HashMap::new();
        let mut dur_rejects = Rejects::default();
        let mut average_zero = HashSet::new();
        for (&day, path) in &day_files(dir, DURATIONS)? {
            let mut f = CsvFile::open(path)?;
            let ends = f.end;
            let [o, a, fu, avg] = f.columns(["HashOwner", "HashApp", "HashFunction", "Average"])?;
            let pc = f.columns(PERCENTILE_COLUMNS)?;
            'rows: for r in f.reader.records() {
                let r = r.with_context(|| format!("cannot read {}", path.display()))?;
                let mut p = [0.0; 7];
                for (k, &i) in pc.iter().enumerate() {
                    match number(&r, i) {
                        Ok(ms) => p[k] = ms / 1e3,
                        Err(e) => {
                            dur_rejects.add(path, line(&r, ends), PERCENTILE_COLUMNS[k], e);
                            continue 'rows;
                        }
                    }
                }
                // Percentiles of 30-second averages go up; a step down is clamped.
                for k in 1..7 {
                    p[k] = p[k].max(p[k - 1]);
                }
                let key = match key(&r, &[o, a, fu]) {
                    Ok(k) => k,
                    Err(e) => {
                        dur_rejects.add(path, line(&r, ends), "HashOwner/HashApp/HashFunction", e);
                        continue 'rows;
                    }
                };
                if matches!(number(&r, avg), Ok(x) if x == 0.0) {
                    average_zero.insert(key.clone());
                }
                let v = durations_of.entry(key).or_default();
                if !v.iter().any(|(d, _)| *d == day) {
                    v.push((day, p));
                }
            }
        }
        notes.extend(dur_rejects.note("duration rows"));

        // The functions of the days read, each row checked once.
        let mut functions = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut skip: HashMap<u32, HashSet<u64>> = HashMap::new();
        let mut rejects = Rejects::default();
        let mut duplicates = 0u64;
        let mut no_memory = HashSet::new();
        let mut invocations_of: Vec<u64> = Vec::new();
        let mut per_day: BTreeMap<u32, u64> = BTreeMap::new();
        for (&day, path) in &files {
            let mut f = CsvFile::open(path)?;
            let ends = f.end;
            let [o, a, fu, tr] = f.columns(["HashOwner", "HashApp", "HashFunction", "Trigger"])?;
            let first = minute_columns(&f)?;
            let skipped = skip.entry(day).or_default();
            let mut seen = HashSet::new();
            for (rec, r) in f.reader.records().enumerate() {
                let r = r.with_context(|| format!("cannot read {}", path.display()))?;
                let rec = rec as u64;
                let mut n = 0u64;
                let mut bad = None;
                for m in 0..1440 {
                    match count(&r, first + m) {
                        Ok(c) => n += u64::from(c),
                        Err(e) => {
                            bad = Some((m + 1, e));
                            break;
                        }
                    }
                }
                if let Some((m, e)) = bad {
                    rejects.add(path, line(&r, ends), &format!("minute {m}"), e);
                    skipped.insert(rec);
                    continue;
                }
                let [ow, ap, fun, trig] = match [o, a, fu, tr].map(|i| field(&r, i)) {
                    [Ok(w), Ok(x), Ok(y), Ok(z)] => [w, x, y, z],
                    fields => {
                        let e = fields.into_iter().find_map(Result::err).unwrap_or_default();
                        rejects.add(
                            path,
                            line(&r, ends),
                            "HashOwner/HashApp/HashFunction/Trigger",
                            e,
                        );
                        skipped.insert(rec);
                        continue;
                    }
                };
                let key = format!("{ow}/{ap}/{fun}");
                if !seen.insert(key.clone()) {
                    duplicates += 1;
                    skipped.insert(rec);
                    continue;
                }
                let fi = *index.entry(key).or_insert_with(|| {
                    let app = format!("{ow}/{ap}");
                    let mut f = Function::new(format!("{ap}/{fun}"), &trigger(trig));
                    f.region = REGION.into();
                    let mb = app_mb.get(&app).map(|(s, n)| s / f64::from(*n));
                    if mb.is_none() {
                        no_memory.insert(app);
                    }
                    f.memory_mb = mb.unwrap_or(median_mb).round().max(1.0) as u32;
                    functions.push(f);
                    invocations_of.push(0);
                    functions.len() as u32 - 1
                });
                invocations_of[fi as usize] += n;
                *per_day.entry(day).or_default() += n;
            }
        }
        // Keys in function order, for the durations.
        let mut keys = vec![String::new(); functions.len()];
        for (k, &i) in &index {
            keys[i as usize] = k.clone();
        }
        let durations: Vec<Vec<(u32, [f64; 7])>> = keys
            .iter()
            .map(|k| durations_of.remove(k).unwrap_or_default())
            .collect();
        let left_out: Vec<bool> = durations.iter().map(Vec::is_empty).collect();
        let (lf, li) = left_out
            .iter()
            .zip(&invocations_of)
            .filter(|(l, _)| **l)
            .fold((0u64, 0u64), |a, (_, n)| (a.0 + 1, a.1 + n));
        if left_out.iter().all(|l| *l) {
            let first = rejects
                .examples
                .first()
                .map(|x| format!("; first rejected row: {x}"))
                .unwrap_or_default();
            bail!(
                "{}: no function to replay: {} functions read from {} invocation files, {} with \
                 duration statistics ({} duration files); {} invocation rows rejected{first}",
                dir.display(),
                functions.len(),
                files.len(),
                left_out.iter().filter(|l| !**l).count(),
                day_files(dir, DURATIONS)?.len(),
                rejects.count
            );
        }
        let zero = keys.iter().filter(|k| average_zero.contains(*k)).count();
        let first = files.keys().next().copied().unwrap_or(0);
        let last = files.keys().last().copied().unwrap_or(0);
        notes.insert(
            0,
            format!(
                "Azure Functions 2019: {} day files (d{:02} to d{:02}), {} functions; a minute's \
                 invocations arrive at seeded uniform times within it; execution times are drawn \
                 between the published percentiles (0/1/25/50/75/99/100) of their day or the \
                 nearest day with them; pods hold their app's mean AverageAllocatedMb ({} memory \
                 files); one request per pod",
                files.len(),
                first + 1,
                last + 1,
                functions.len(),
                mem_files.len()
            ),
        );
        if lf > 0 {
            let names: Vec<&str> = functions
                .iter()
                .zip(&left_out)
                .filter(|(_, l)| **l)
                .take(5)
                .map(|(f, _)| f.name.as_str())
                .collect();
            notes.push(format!(
                "{lf} functions have no duration statistics on any day and are left out, with \
                 their {li} invocations (first: {})",
                names.join(", ")
            ));
        }
        if zero > 0 {
            notes.push(format!(
                "{zero} functions have an average duration of 0 ms on some day (kept; they run \
                 for their percentiles)"
            ));
        }
        if !no_memory.is_empty() {
            notes.push(format!(
                "{} apps have no memory statistics; their pods take the median app's {median_mb:.0} MB",
                no_memory.len()
            ));
        }
        if duplicates > 0 {
            notes.push(format!(
                "{duplicates} duplicate rows (the same function twice in a day's file) skipped; \
                 the first row of each is read"
            ));
        }
        notes.extend(rejects.note("invocation rows"));
        Ok(Self {
            functions,
            durations,
            left_out,
            files,
            skip,
            index,
            seed,
            notes,
            per_day,
        })
    }

    /// The function index of `owner/app/function`.
    pub fn function(&self, key: &str) -> Option<u32> {
        self.index.get(key).copied()
    }

    /// An execution time of function `fi` on `day`, at quantile `u`.
    fn exec(&self, fi: usize, day: u32, u: f64) -> f64 {
        let v = &self.durations[fi];
        let p = v
            .iter()
            .min_by_key(|(d, _)| (d.abs_diff(day), *d))
            .map(|(_, p)| p)
            .expect("functions without durations are left out");
        quantile(p, u)
    }
}

/// The position of column `1`; columns `1`..`1440` must follow it in order.
fn minute_columns(f: &CsvFile) -> Result<usize> {
    let first = f.columns(["1"])?[0];
    for m in 1..1440 {
        if f.header.get(first + m).map(str::trim) != Some(&(m + 1).to_string()) {
            bail!(
                "{}: expected minute columns 1 to 1440 in order; column {} is not {}",
                f.path.display(),
                first + m + 1,
                m + 1
            );
        }
    }
    Ok(first)
}

/// A minute's invocation count.
fn count(r: &csv::StringRecord, i: usize) -> std::result::Result<u32, String> {
    let s = r.get(i).ok_or("missing")?.trim();
    match s.parse::<u32>() {
        Ok(n) if n <= MAX_PER_MINUTE => Ok(n),
        Ok(n) => Err(format!(
            "{n} invocations in one minute is above the limit of {MAX_PER_MINUTE} (1,000 a second)"
        )),
        Err(_) => Err(format!("'{}' is not a count of invocations", clip(s, 40))),
    }
}

/// The value at quantile `u` of the piecewise-linear distribution through `p` at [`QUANTILES`].
pub fn quantile(p: &[f64; 7], u: f64) -> f64 {
    let u = u.clamp(0.0, 1.0);
    let k = QUANTILES[1..].partition_point(|q| *q < u).min(5);
    let (q0, q1) = (QUANTILES[k], QUANTILES[k + 1]);
    p[k] + (p[k + 1] - p[k]) * (u - q0) / (q1 - q0)
}

impl Workload for Azure2019 {
    fn functions(&self) -> &[Function] {
        &self.functions
    }

    fn days(&self) -> Range<u32> {
        let first = self.files.keys().next().copied().unwrap_or(0);
        let last = self.files.keys().last().copied().unwrap_or(0);
        first..last + 1
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        let Some(path) = self.files.get(&day) else {
            return Ok(Vec::new());
        };
        let mut f = CsvFile::open(path)?;
        let [o, a, fu] = f.columns(["HashOwner", "HashApp", "HashFunction"])?;
        let first = minute_columns(&f)?;
        let skip = self.skip.get(&day);
        let mut out = Vec::new();
        for (rec, r) in f.reader.records().enumerate() {
            let r = r.with_context(|| format!("cannot read {}", path.display()))?;
            if skip.is_some_and(|s| s.contains(&(rec as u64))) {
                continue;
            }
            let key = key(&r, &[o, a, fu])
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}: changed while it was read", path.display()))?;
            let fi = self
                .function(&key)
                .with_context(|| format!("{}: changed while it was read", path.display()))?;
            if self.left_out[fi as usize] {
                continue;
            }
            for m in 0..1440u32 {
                let n = count(&r, first + m as usize)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("{}: changed while it was read", path.display()))?;
                let minute = day * 1440 + m;
                let base = mix(self.seed ^ mix((u64::from(fi) << 32) | u64::from(minute)));
                for k in 0..u64::from(n) {
                    out.push(Invocation {
                        t: (f64::from(minute) + unit(base ^ (2 * k))) * 60.0,
                        func: fi,
                        exec: self.exec(fi as usize, day, unit(base ^ (2 * k + 1))),
                    });
                }
            }
        }
        sort(&mut out);
        Ok(out)
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        Some(self.per_day.get(&day).copied().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_the_percentiles() {
        let p = [0.0, 1.0, 25.0, 50.0, 75.0, 99.0, 100.0];
        for (u, want) in [
            (0.0, 0.0),
            (0.005, 0.5),
            (0.5, 50.0),
            (0.625, 62.5),
            (1.0, 100.0),
        ] {
            assert!((quantile(&p, u) - want).abs() < 1e-9, "{u}");
        }
        assert_eq!(trigger("http"), "http-S");
        assert_eq!(trigger("timer"), "TIMER-A");
        assert_eq!(trigger("queue"), "queue-A");
    }
}
