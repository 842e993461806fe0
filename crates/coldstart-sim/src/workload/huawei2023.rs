//! The Huawei Cloud 2023 traces (Joosen et al., "How does it function?", SoCC 2023; spec
//! section 6) as a workload of per-minute counts. Each metric is a folder of wide CSV files,
//! `<metric>_minute/day_NNN.csv` (`day_NN.csv` in the public release), with columns `day`,
//! `time` (seconds from the trace's start, the minute's first second) and one column per
//! function id, empty where the function had nothing that minute. The private release has 200
//! functions over 235 days (141 of them in files), the public one 5,093 over 26 days; neither
//! is cut to the 2025 trace's 31 days.
//!
//! - `requests_minute` gives the requests (whole numbers, at most [`MAX_PER_MINUTE`] in a
//!   minute), spread uniformly within their minute by [`MinuteCounts`]; where the private
//!   release's `requests_second` (the same layout, a row per second) has the day, each
//!   function-minute's requests arrive in its seconds instead, uniformly within each second,
//!   that day's file read as the replay reaches it.
//! - `function_delay_minute` (private only) gives each minute's execution time: the mean over
//!   the function's pods, in milliseconds. A minute without one takes the function's median;
//!   a function without any takes [`FALLBACK_EXEC_S`].
//! - `memory_limit_minute` over `instances_minute` (private only) gives a pod's memory: the
//!   memory allocated to all the function's pods (MB) over their number, the function's median
//!   minute; 128 MB where either is missing.
//!
//! The traces have no cold starts, triggers or concurrency: cold-start times are drawn as for
//! the Azure traces (`--cold-start` replaces them), every function is synchronous and a pod
//! takes one request at a time (`--concurrency` sets it). Bad rows and cells are rejected,
//! counted and named (file, line, field); a day file with no readable row is an error.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::csv_input::{line, number, CsvFile, Rejects};
use super::minute_counts::{MinuteCounts, SecondCounts, SecondsOfDay};
use super::Function;

/// Region name the engine's functions carry.
pub const REGION: &str = "huawei2023";

/// The most requests one function's minute may hold. The private release's busiest functions
/// take about 70,000 requests a second (4.2 M a minute); a count above this is a bad cell,
/// rejected and counted.
pub const MAX_PER_MINUTE: u32 = 10_000_000;

/// The last day a row may fall on (plus one): a year, above the private release's 235 days.
pub const MAX_DAYS: u32 = 366;

/// Execution time (seconds) of a function whose minutes have no `function_delay_minute`
/// (the public release has none): 100 ms, the largest of the 2025 trace's regional medians
/// (R1's; spec section 7).
pub const FALLBACK_EXEC_S: f64 = 0.1;

/// Which part of the trace to read.
#[derive(Debug, Clone, Default)]
pub struct Select {
    /// Days to read (None: every day file).
    pub days: Option<Range<u32>>,
    /// Function ids (column names) to read (None: every column).
    pub functions: Option<Vec<String>>,
}

/// The folders of one release: its `requests_minute` and, where present, the private
/// release's companions.
struct Layout {
    requests: PathBuf,
    seconds: Option<PathBuf>,
    delay: Option<PathBuf>,
    memory: Option<PathBuf>,
    instances: Option<PathBuf>,
}

impl Layout {
    /// `dir` is the release's folder (holding `requests_minute/`) or `requests_minute` itself.
    fn find(dir: &Path) -> Result<Self> {
        let (root, requests) = if dir.join("requests_minute").is_dir() {
            (dir.to_path_buf(), dir.join("requests_minute"))
        } else if dir.is_dir() && !day_files(dir)?.is_empty() {
            (
                dir.parent().map(Path::to_path_buf).unwrap_or_default(),
                dir.to_path_buf(),
            )
        } else {
            bail!(
                "{}: not a Huawei 2023 release: expected a folder holding requests_minute/ \
                 (with day_NNN.csv files), or that folder itself",
                dir.display()
            );
        };
        let companion = |name: &str| Some(root.join(name)).filter(|p| p.is_dir());
        Ok(Self {
            requests,
            seconds: companion("requests_second"),
            delay: companion("function_delay_minute"),
            memory: companion("memory_limit_minute"),
            instances: companion("instances_minute"),
        })
    }
}

/// The `day_N.csv` files of `dir`, by day.
fn day_files(dir: &Path) -> Result<Vec<(u32, String)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let name = e?.file_name().to_string_lossy().into_owned();
        let day = name
            .strip_prefix("day_")
            .and_then(|s| s.strip_suffix(".csv"))
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok());
        if let Some(d) = day {
            out.push((d, name));
        }
    }
    out.sort();
    Ok(out)
}

/// One wide file read cell by cell: each non-empty cell of a function column that
/// `column` numbers, with its minute (from the trace's start; its second where `step` is
/// [`Step::Second`]), passed to `cell`, which may refuse it. Rows whose `day` is not
/// `file_day`, whose `time` is not the first second of a minute (a whole second) of that day,
/// or that repeat one are rejected.
fn read_wide(
    path: &Path,
    file_day: u32,
    step: Step,
    column: &mut dyn FnMut(&str) -> Option<u32>,
    rejects: &mut Rejects,
    cell: &mut dyn FnMut(u32, u32, f64) -> std::result::Result<(), String>,
) -> Result<u64> {
    let mut f = CsvFile::open(path)?;
    let [dc, tc] = f.columns(["day", "time"])?;
    let funcs: Vec<(usize, u32, String)> = f
        .header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != dc && *i != tc)
        .filter_map(|(i, h)| column(h.trim()).map(|k| (i, k, h.trim().to_string())))
        .collect();
    let end = f.end;
    let mut seen = HashSet::new();
    let mut rows = 0u64;
    for r in f.reader.records() {
        let r = r.with_context(|| format!("cannot read {}", path.display()))?;
        let at = line(&r, end);
        let day = match number(&r, dc) {
            Ok(d) if d == f64::from(file_day) => file_day,
            Ok(d) => {
                rejects.add(
                    path,
                    at,
                    "day",
                    format!("{d} in the file of day {file_day}"),
                );
                continue;
            }
            Err(x) => {
                rejects.add(path, at, "day", x);
                continue;
            }
        };
        let width = step.seconds();
        let minute = match number(&r, tc) {
            Ok(t)
                if t.fract() == 0.0
                    && t % width == 0.0
                    && (t / 86_400.0).floor() == f64::from(day) =>
            {
                (t / width) as u32
            }
            Ok(t) => {
                rejects.add(
                    path,
                    at,
                    "time",
                    format!("{t} s is not {} of day {day}", step.what()),
                );
                continue;
            }
            Err(x) => {
                rejects.add(path, at, "time", x);
                continue;
            }
        };
        if !seen.insert(minute) {
            rejects.add(
                path,
                at,
                "time",
                format!("{} {minute} repeated", step.unit()),
            );
            continue;
        }
        rows += 1;
        for (i, k, name) in &funcs {
            let s = r.get(*i).map(str::trim).unwrap_or("");
            if s.is_empty() || s.eq_ignore_ascii_case("nan") {
                continue;
            }
            let checked = number(&r, *i).and_then(|x| cell(minute, *k, x));
            if let Err(x) = checked {
                rejects.add(path, at, name, x);
            }
        }
    }
    Ok(rows)
}

/// What one row of a wide file covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Minute,
    Second,
}

impl Step {
    fn seconds(self) -> f64 {
        match self {
            Step::Minute => 60.0,
            Step::Second => 1.0,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Step::Minute => "the first second of a minute",
            Step::Second => "a whole second",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Step::Minute => "minute",
            Step::Second => "second",
        }
    }
}

/// The private release's `requests_second` (same wide layout, a row per second), read a day
/// at a time as the replay reaches it: each function-minute's requests arrive in its seconds.
struct Seconds {
    dir: PathBuf,
    files: HashMap<u32, String>,
    index: HashMap<String, u32>,
    rejects: Rejects,
    days: u32,
    missing: u32,
}

impl SecondCounts for Seconds {
    fn day(&mut self, day: u32) -> Result<Option<SecondsOfDay>> {
        let Some(name) = self.files.get(&day) else {
            self.missing += 1;
            return Ok(None);
        };
        let path = self.dir.join(name);
        let mut out = SecondsOfDay::new();
        let index = &self.index;
        read_wide(
            &path,
            day,
            Step::Second,
            &mut |name| index.get(name).copied(),
            &mut self.rejects,
            &mut |second, k, x| {
                if x.fract() != 0.0 || x < 0.0 || x > f64::from(MAX_PER_MINUTE) {
                    return Err(format!(
                        "{x} requests: expected a whole number up to {MAX_PER_MINUTE}"
                    ));
                }
                if x > 0.0 {
                    out.entry((second / 60, k))
                        .or_default()
                        .push(((second % 60) as u8, x as u32));
                }
                Ok(())
            },
        )?;
        self.days += 1;
        Ok(Some(out))
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "requests_second read for {} days of the replay ({} days without a file spread \
             their minutes' requests uniformly)",
            self.days, self.missing
        )];
        notes.extend(self.rejects.note("rows or cells of requests_second"));
        notes
    }
}

/// A companion metric of one day: (minute, function) -> value.
fn read_companion(
    path: &Path,
    file_day: u32,
    index: &HashMap<String, u32>,
    rejects: &mut Rejects,
) -> Result<HashMap<(u32, u32), f32>> {
    let mut out = HashMap::new();
    read_wide(
        path,
        file_day,
        Step::Minute,
        &mut |name| index.get(name).copied(),
        rejects,
        &mut |minute, k, x| {
            out.insert((minute, k), x as f32);
            Ok(())
        },
    )?;
    Ok(out)
}

/// The median of `v` (None if empty).
fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[(v.len() - 1) / 2])
}

/// Reads the release at `dir` (see the module's description) as per-minute counts, `select`ed;
/// `seed` seeds the spreading within minutes.
pub fn open(dir: &Path, select: &Select, seed: u64) -> Result<MinuteCounts> {
    let layout = Layout::find(dir)?;
    let all = day_files(&layout.requests)?;
    let files: Vec<(u32, String)> = all
        .iter()
        .filter(|(d, _)| select.days.as_ref().is_none_or(|r| r.contains(d)))
        .cloned()
        .collect();
    if files.is_empty() {
        let have = match (all.first(), all.last()) {
            (Some(a), Some(b)) => format!("its day files cover days {}..{}", a.0, b.0 + 1),
            _ => "it has no day_NNN.csv file".to_string(),
        };
        bail!(
            "{}: no day file to read ({have}){}",
            layout.requests.display(),
            if select.days.is_some() {
                "; see --days"
            } else {
                ""
            }
        );
    }
    if let Some((d, name)) = files.iter().find(|(d, _)| *d >= MAX_DAYS) {
        bail!(
            "{}: day {d} is beyond the {MAX_DAYS} days a replay may cover; choose --days",
            layout.requests.join(name).display()
        );
    }
    let wanted: Option<HashSet<&str>> = select
        .functions
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut functions: Vec<Function> = Vec::new();
    let mut counts: Vec<(u32, u32, u32, f32)> = Vec::new();
    let mut rejects = Rejects::default();
    let (mut delays, mut pod_mb): (Vec<Vec<f32>>, Vec<Vec<f32>>) = (Vec::new(), Vec::new());
    let mut missing_companions = 0usize;
    let bar = ProgressBar::new(files.len() as u64).with_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} day file {pos}/{len}  ({per_sec}, ETA {eta})",
    )?);
    for (day, name) in &files {
        let path = layout.requests.join(name);
        let mut day_counts: Vec<(u32, u32, u32)> = Vec::new();
        let rows = read_wide(
            &path,
            *day,
            Step::Minute,
            &mut |col| {
                if wanted.as_ref().is_some_and(|w| !w.contains(col)) || col.is_empty() {
                    return None;
                }
                Some(*index.entry(col.to_string()).or_insert_with(|| {
                    let mut g = Function::new(col, "unknown");
                    g.region = REGION.into();
                    functions.push(g);
                    delays.push(Vec::new());
                    pod_mb.push(Vec::new());
                    functions.len() as u32 - 1
                }))
            },
            &mut rejects,
            &mut |minute, k, x| {
                if x.fract() != 0.0 || x > f64::from(MAX_PER_MINUTE) {
                    return Err(format!(
                        "{x} requests: expected a whole number up to {MAX_PER_MINUTE}"
                    ));
                }
                if x > 0.0 {
                    day_counts.push((minute, k, x as u32));
                }
                Ok(())
            },
        )?;
        if rows == 0 {
            bail!(
                "{}: no row read ({} rejected in all so far{})",
                path.display(),
                rejects.count,
                rejects
                    .examples
                    .last()
                    .map(|x| format!("; last: {x}"))
                    .unwrap_or_default()
            );
        }
        let companion = |dir: &Option<PathBuf>| dir.as_ref().map(|d| d.join(name));
        let mut read = |p: Option<PathBuf>, rejects: &mut Rejects| -> Result<Option<_>> {
            match p {
                Some(p) if p.is_file() => Ok(Some(read_companion(&p, *day, &index, rejects)?)),
                Some(_) => {
                    missing_companions += 1;
                    Ok(None)
                }
                None => Ok(None),
            }
        };
        let delay = read(companion(&layout.delay), &mut rejects)?;
        let limit = read(companion(&layout.memory), &mut rejects)?;
        let instances = read(companion(&layout.instances), &mut rejects)?;
        if let (Some(limit), Some(instances)) = (&limit, &instances) {
            for (key, mb) in limit {
                if let Some(n) = instances.get(key).filter(|n| **n >= 1.0) {
                    if *mb > 0.0 {
                        pod_mb[key.1 as usize].push(mb / n);
                    }
                }
            }
        }
        for (minute, k, n) in day_counts {
            let exec = delay
                .as_ref()
                .and_then(|d| d.get(&(minute, k)))
                .filter(|ms| **ms > 0.0)
                .map(|ms| ms / 1000.0);
            if let Some(e) = exec {
                delays[k as usize].push(e);
            }
            counts.push((minute, k, n, exec.unwrap_or(f32::NAN)));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if counts.is_empty() {
        bail!(
            "{}: no requests read from {} day files ({} cells or rows rejected{})",
            layout.requests.display(),
            files.len(),
            rejects.count,
            if wanted.is_some() {
                "; see --huawei2023-functions"
            } else {
                ""
            }
        );
    }
    // Execution times: the minute's own, else the function's median, else the fallback.
    let medians: Vec<Option<f32>> = delays.iter_mut().map(|v| median(v)).collect();
    let (mut own, mut by_median, mut fallback) = (0u64, 0u64, 0u64);
    for c in &mut counts {
        if !c.3.is_nan() {
            own += 1;
        } else if let Some(m) = medians[c.1 as usize] {
            c.3 = m;
            by_median += 1;
        } else {
            c.3 = FALLBACK_EXEC_S as f32;
            fallback += 1;
        }
    }
    let mut sized = 0usize;
    for (f, v) in functions.iter_mut().zip(pod_mb.iter_mut()) {
        if let Some(mb) = median(v) {
            f.memory_mb = (mb.round() as u32).clamp(1, 1 << 20);
            sized += 1;
        }
    }
    counts.sort_unstable_by_key(|c| (c.0, c.1));
    let present: HashSet<u32> = all.iter().map(|(d, _)| *d).collect();
    let (first, last) = (files[0].0, files[files.len() - 1].0);
    let gaps = (first..=last).filter(|d| !present.contains(d)).count();
    let mut notes = vec![format!(
        "Huawei Cloud 2023 trace {}: {} functions, {} function-minutes with requests, days \
         {first}..{} from {} day files{}; no triggers (all synchronous) and one request per pod \
         (--concurrency sets it)",
        dir.display(),
        functions.len(),
        counts.len(),
        last + 1,
        files.len(),
        if gaps > 0 {
            format!(" ({gaps} days in between have no file and are replayed empty)")
        } else {
            String::new()
        }
    )];
    notes.push(format!(
        "execution time: the minute's function_delay_minute (ms, mean over pods) for {own} \
         function-minutes, the function's median for {by_median}, {} ms for {fallback} (no \
         function_delay_minute)",
        FALLBACK_EXEC_S * 1000.0
    ));
    notes.push(format!(
        "memory per pod: memory_limit_minute / instances_minute (the function's median minute) \
         for {sized} functions, 128 MB for {}",
        functions.len() - sized
    ));
    if missing_companions > 0 {
        notes.push(format!(
            "{missing_companions} companion day files (delay, memory, instances) missing beside \
             requests_minute"
        ));
    }
    notes.extend(rejects.note("rows or cells"));
    let mut w = MinuteCounts::new(functions, counts, seed, notes);
    if let Some(dir) = layout.seconds {
        w.seconds = Some(Box::new(Seconds {
            files: day_files(&dir)?.into_iter().collect(),
            dir,
            index,
            rejects: Rejects::default(),
            days: 0,
            missing: 0,
        }));
    }
    Ok(w)
}
