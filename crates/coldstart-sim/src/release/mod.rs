//! The published layout, written from a run of the platform engine: [`Recorder`] watches the
//! engine's events and turns them into the release's rows (every cold-start row is a pod the
//! engine started, every request names a pod that exists, every per-minute cell aggregates the
//! events of its minute), and the writers put them in the release's files: cold starts per
//! day, per-request part files, the per-minute tables, the function table, zip archives.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use coldstart_trace::paper::SECONDS_PER_DAY;
use coldstart_trace::schema::Family;
use coldstart_trace::source::walk;

use crate::catalog::FunctionSpec;
use crate::costs::{ln_sample, micros};
use crate::engine::{ColdStartEvent, Events, FluidMinuteEvent, PodEndEvent, ServedEvent};
use crate::profile::LogNormal;
use crate::rng::{mix, stream};

mod fluid;

/// Share of a function's pods started in its home cluster (the others in any of clusters 1-4).
const HOME_CLUSTER: f64 = 0.85;

/// Per-minute tables the generator writes, in this order (see [`Cell::values`]).
pub const MINUTE_TABLES: [&str; 24] = [
    "requests",
    "num_pods",
    "num_cold_starts",
    "totalCost_avg",
    "totalCost_quantile_050",
    "totalCost_quantile_099",
    "cpu_usage_avg",
    "cpu_usage_quantile_050",
    "cpu_usage_quantile_099",
    "totalCost_cold_start_avg",
    "totalCost_cold_start_quantile_050",
    "totalCost_cold_start_quantile_099",
    "podAllocationCost_avg",
    "podAllocationCost_quantile_050",
    "podAllocationCost_quantile_099",
    "deployCodeCost_avg",
    "deployCodeCost_quantile_050",
    "deployCodeCost_quantile_099",
    "deployDependencyCost_avg",
    "deployDependencyCost_quantile_050",
    "deployDependencyCost_quantile_099",
    "schedulingCost_avg",
    "schedulingCost_quantile_050",
    "schedulingCost_quantile_099",
];

/// One cold start.
#[derive(Debug, Clone)]
pub struct ColdStart {
    pub time: f64,
    pub func: u32,
    pub cluster: u8,
    pub request_id: u128,
    pub pod_serial: u64,
    /// total, podAllocation, deployCode, deployDependency, scheduling.
    pub costs: [f64; 5],
}

/// One function's minute: the values of [`MINUTE_TABLES`] (NaN where empty).
#[derive(Debug, Clone)]
pub struct Cell {
    pub func: u32,
    pub minute_of_day: u16,
    pub values: [f64; 24],
}

#[derive(Default)]
struct MinuteAgg {
    minute: i64,
    requests: u64,
    /// Execution seconds of its requests.
    exec: f64,
    pods: u32,
    cold: u32,
    total_cost: Vec<f64>,
    cpu: Vec<f64>,
    cs: [Vec<f64>; 5],
}

/// What a group of functions produced in one day.
#[derive(Default)]
pub struct DayOutput {
    pub cold_starts: Vec<ColdStart>,
    pub cells: Vec<Cell>,
    /// Per-request CSV rows (no header) of each function, when asked for this day, and how
    /// many rows each function has in the per-request table today (those of functions
    /// replayed minute by minute go to the recorder's sink as they are made).
    pub request_rows: Vec<Vec<u8>>,
    pub rows: Vec<u64>,
    /// Per function: requests, and pods serving requests summed over the day's minutes (the
    /// `num_pods` table's sum).
    pub requests: Vec<u64>,
    pub pod_minutes: Vec<u64>,
    /// Requests of all the group's functions in each minute of the day (Fig 5's curve).
    pub minute_requests: Vec<u64>,
    /// Each function's minutes with requests by their mean execution time (Fig 3b), in the
    /// bins of [`exec_bin`].
    pub exec_histogram: Vec<u64>,
    /// Per function: utility ratios (spec section 3, fig 17) of the pods that ended.
    pub utilities: Vec<Vec<f32>>,
}

impl DayOutput {
    fn new(functions: usize) -> Self {
        Self {
            request_rows: vec![Vec::new(); functions],
            rows: vec![0; functions],
            requests: vec![0; functions],
            pod_minutes: vec![0; functions],
            minute_requests: vec![0; 1440],
            exec_histogram: vec![0; EXEC_BINS],
            utilities: vec![Vec::new(); functions],
            ..Default::default()
        }
    }
}

/// Bins of the execution-time histogram: 40 a decade from 10 us to 10,000 s (the first and
/// last also take what lies below and above).
pub const EXEC_BINS: usize = 360;
const EXEC_BIN_FLOOR_LOG10: f64 = -5.0;
const EXEC_BINS_PER_DECADE: f64 = 40.0;

/// The histogram bin of an execution time of `secs` seconds.
pub fn exec_bin(secs: f64) -> usize {
    let x = (secs.max(1e-12).log10() - EXEC_BIN_FLOOR_LOG10) * EXEC_BINS_PER_DECADE;
    (x.max(0.0) as usize).min(EXEC_BINS - 1)
}

/// The median of a histogram of [`exec_bin`]'s bins (the geometric middle of the bin that
/// holds it), NaN when empty.
pub fn exec_median(histogram: &[u64]) -> f64 {
    let n: u64 = histogram.iter().sum();
    if n == 0 {
        return f64::NAN;
    }
    let mut seen = 0;
    for (b, c) in histogram.iter().enumerate() {
        seen += c;
        if 2 * seen >= n {
            return 10f64.powf(EXEC_BIN_FLOOR_LOG10 + (b as f64 + 0.5) / EXEC_BINS_PER_DECADE);
        }
    }
    f64::NAN
}

/// The most pods of a function whose requests the per-request table holds: the publishers
/// released the top 100 pods of each function (spec section 1), which is why R1's day 30 has
/// 364 million rows of its billion requests.
pub const RELEASED_PODS: usize = 100;

/// Where the per-request rows of never-idle functions go as they are made (shared by the
/// groups replayed in parallel; a day of them would not fit in memory).
pub type RowSink = std::sync::Arc<std::sync::Mutex<PartWriter>>;

/// Rows kept before they go to the [`RowSink`].
const SINK_BYTES: usize = 4 << 20;

/// A function replayed minute by minute ([`FluidMinuteEvent`]): what the recorder needs to
/// write its requests.
#[derive(Default)]
struct FluidRows {
    /// Its loaded pods, in the order they are sent requests (spread routing: round robin).
    ring: std::collections::VecDeque<u64>,
    /// This minute's cold starts (time, pod, request index, wait) and pods that ended (time,
    /// pod), told before the minute.
    born: Vec<(f64, u64, u64, f64)>,
    died: Vec<(f64, u64)>,
    /// The pods whose requests are released today (at most [`RELEASED_PODS`]).
    released: Vec<u64>,
    day: i64,
    rows: Vec<u8>,
}

/// Turns the engine's events for a group of functions (numbered from 0 in the engine) into
/// release rows. What the engine does not decide (the cluster a pod lands in, request ids,
/// worker overheads, CPU and memory use, frontend costs) is drawn from each function's own
/// stream, apart from the workload's and the cost model's.
pub struct Recorder<'a> {
    specs: &'a [FunctionSpec],
    rng: Vec<ChaCha8Rng>,
    id_salt: Vec<u64>,
    /// Each function's pods' clusters, by serial.
    clusters: Vec<Vec<u8>>,
    aggs: Vec<MinuteAgg>,
    cells: bool,
    /// The days whose requests are written row by row.
    rows_days: std::ops::Range<u32>,
    fmt: RowFormatter,
    day: DayOutput,
    /// Per function replayed minute by minute.
    fluid: Vec<Option<Box<FluidRows>>>,
    sink: RowSink,
    /// The first error writing to the sink (told at the end of the day).
    error: Option<anyhow::Error>,
}

impl<'a> Recorder<'a> {
    /// `cells`: whether the region gets per-minute tables; `rows_days`: the days whose
    /// requests are written row by row (the release's per-request day, its last); `sink`:
    /// where the rows of functions replayed minute by minute go as they are made.
    pub fn new(
        specs: &'a [FunctionSpec],
        region_index: u64,
        seed: u64,
        cells: bool,
        rows_days: std::ops::Range<u32>,
        sink: RowSink,
    ) -> Self {
        Self {
            rng: specs
                .iter()
                .map(|s| stream(seed, region_index, u64::from(s.index)))
                .collect(),
            id_salt: specs
                .iter()
                .map(|s| mix(seed ^ mix(region_index) ^ mix(u64::from(s.index) + 1)))
                .collect(),
            clusters: vec![Vec::new(); specs.len()],
            aggs: (0..specs.len())
                .map(|_| MinuteAgg {
                    minute: -1,
                    ..Default::default()
                })
                .collect(),
            cells,
            rows_days,
            fmt: RowFormatter::default(),
            day: DayOutput::new(specs.len()),
            fluid: (0..specs.len()).map(|_| None).collect(),
            sink,
            error: None,
            specs,
        }
    }

    /// The day ends: its last minutes are aggregated and everything it produced handed over.
    pub fn end_day(&mut self) -> Result<DayOutput> {
        for f in 0..self.specs.len() {
            self.close_minute(f);
            if let Some(fr) = self.fluid[f].as_mut() {
                let rows = std::mem::take(&mut fr.rows);
                self.send(rows);
            }
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(std::mem::replace(
            &mut self.day,
            DayOutput::new(self.specs.len()),
        ))
    }

    /// Rows of never-idle functions to the sink (nothing more once a write failed: the error
    /// ends the day).
    fn send(&mut self, rows: Vec<u8>) {
        if rows.is_empty() || self.error.is_some() {
            return;
        }
        let n = rows.iter().filter(|b| **b == b'\n').count() as u64;
        let mut w = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = w.write(&rows, n) {
            self.error = Some(e);
        }
    }

    fn close_minute(&mut self, f: usize) {
        let agg = &mut self.aggs[f];
        if agg.requests > 0 {
            self.day.exec_histogram[exec_bin(agg.exec / agg.requests as f64)] += 1;
        }
        if self.cells && agg.minute >= 0 {
            self.day.cells.push(flush(agg, self.specs[f].index));
        }
        agg.requests = 0;
        agg.exec = 0.0;
        agg.minute = -1;
    }

    /// Moves function `f`'s aggregate to the minute of `t`.
    fn minute(&mut self, f: usize, t: f64) {
        let m = (t / 60.0).floor() as i64;
        if self.aggs[f].minute != m {
            self.close_minute(f);
            self.aggs[f].minute = m;
        }
    }
}

impl Events for Recorder<'_> {
    fn cold_start(&mut self, e: &ColdStartEvent) {
        let f = e.func as usize;
        self.minute(f, e.t);
        if self.specs[f].kind == crate::catalog::Kind::Steady {
            let fr = self.fluid[f].get_or_insert_with(Default::default);
            fr.born.push((e.t, e.pod, e.k, e.costs[0]));
        }
        let spec = &self.specs[f];
        let rng = &mut self.rng[f];
        let cluster = if rng.gen::<f64>() < HOME_CLUSTER {
            spec.home_cluster
        } else {
            rng.gen_range(1..=4)
        };
        debug_assert_eq!(self.clusters[f].len() as u64, e.pod);
        self.clusters[f].push(cluster);
        self.day.cold_starts.push(ColdStart {
            time: e.t,
            func: spec.index,
            cluster,
            request_id: request_id(self.id_salt[f], e.k),
            pod_serial: pod_serial(spec, e.pod),
            costs: e.costs,
        });
        let agg = &mut self.aggs[f];
        agg.cold += 1;
        if self.cells {
            for (v, c) in agg.cs.iter_mut().zip(e.costs) {
                v.push(c);
            }
        }
    }

    fn served(&mut self, e: &ServedEvent) {
        let f = e.func as usize;
        self.minute(f, e.t);
        let spec = &self.specs[f];
        let rng = &mut self.rng[f];
        let (worker_cost, total_worker, cpu, mem) = worker_draws(rng, spec, e.exec);
        let agg = &mut self.aggs[f];
        agg.requests += 1;
        agg.exec += e.exec;
        self.day.requests[f] += 1;
        let minute = ((e.t % SECONDS_PER_DAY) / 60.0) as usize;
        self.day.minute_requests[minute.min(1439)] += 1;
        if e.first_in_minute {
            agg.pods += 1;
            self.day.pod_minutes[f] += 1;
        }
        if self.cells {
            agg.total_cost.push(total_worker);
            agg.cpu.push(cpu);
        }
        if self
            .rows_days
            .contains(&((e.t / SECONDS_PER_DAY).floor() as u32))
        {
            let facts = RequestFacts {
                t: e.t,
                rid: request_id(self.id_salt[f], e.k),
                cluster: self.clusters[f][e.pod as usize],
                serial: pod_serial(spec, e.pod),
                total_worker,
                worker_cost,
                exec: e.exec,
                wait: e.start - e.t,
                cpu,
                mem,
            };
            let rng = &mut self.rng[f];
            self.fmt
                .row(&mut self.day.request_rows[f], rng, spec, facts);
            self.day.rows[f] += 1;
        }
    }

    fn pod_end(&mut self, e: &PodEndEvent) {
        if let Some(u) = e.utility {
            self.day.utilities[e.func as usize].push(u as f32);
        }
        if let Some(fr) = self.fluid[e.func as usize].as_mut() {
            fr.died.push((e.t, e.pod));
        }
    }

    fn fluid_minute(&mut self, e: &FluidMinuteEvent) {
        self.fluid_minute_rows(e);
    }
}

/// A request's id: its function's salt and its index among the function's requests.
fn request_id(salt: u64, k: u64) -> u128 {
    let a = mix(salt ^ k);
    let b = mix(a ^ 0xA5A5_5A5A_0F0F_F0F0);
    ((a as u128) << 64) | b as u128
}

/// The pod id's number as the release prints it after the pool name.
fn pod_serial(spec: &FunctionSpec, pod: u64) -> u64 {
    u64::from(spec.index) * 1_000_000 + pod % 1_000_000
}

/// What the worker adds to a request of `exec` seconds, drawn from the function's stream:
/// the worker's own cost, the worker's total, CPU use (cores) and memory (MB).
fn worker_draws(rng: &mut ChaCha8Rng, spec: &FunctionSpec, exec: f64) -> (f64, f64, f64, f64) {
    let worker_cost = micros(ln_sample(
        rng,
        LogNormal {
            median: WORKER_MEDIAN_S,
            sigma: 0.5,
        },
        1.0,
    ));
    let total_worker = micros(exec + worker_cost);
    let cpu = micros(cpu_at(spec, rng.sample(StandardNormal)));
    let mem_limit = spec.memory_limit as f64;
    let mem = micros(
        (mem_limit * spec.mem_share * (0.1 * rng.sample::<f64, _>(StandardNormal)).exp())
            .min(mem_limit),
    );
    (worker_cost, total_worker, cpu, mem)
}

/// Median seconds the worker adds to a request.
const WORKER_MEDIAN_S: f64 = 0.0002;

/// A request's CPU use (cores) at standard normal `z`.
fn cpu_at(spec: &FunctionSpec, z: f64) -> f64 {
    let cpu_limit = spec.cpu_limit as f64 / 1000.0;
    (cpu_limit * spec.cpu_share * (0.3 * z).exp()).min(cpu_limit)
}

fn flush(agg: &mut MinuteAgg, func: u32) -> Cell {
    let mut values = [f64::NAN; 24];
    values[0] = agg.requests as f64;
    values[1] = agg.pods as f64;
    if agg.cold > 0 {
        values[2] = agg.cold as f64;
    }
    let mut put = |slot: usize, v: &mut Vec<f64>| {
        if !v.is_empty() {
            let [a, q50, q99] = stats(v);
            values[slot] = a;
            values[slot + 1] = q50;
            values[slot + 2] = q99;
            v.clear();
        }
    };
    put(3, &mut agg.total_cost);
    put(6, &mut agg.cpu);
    for (k, v) in agg.cs.iter_mut().enumerate() {
        put(9 + 3 * k, v);
    }
    let minute_of_day = agg.minute.rem_euclid(1440) as u16;
    agg.requests = 0;
    agg.pods = 0;
    agg.cold = 0;
    Cell {
        func,
        minute_of_day,
        values,
    }
}

/// Mean and the 0.5 and 0.99 quantiles with linear interpolation (pandas' default).
pub fn stats(v: &mut [f64]) -> [f64; 3] {
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    v.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (n - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(n - 1);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    [mean, q(0.5), q(0.99)]
}

struct RequestFacts {
    t: f64,
    rid: u128,
    cluster: u8,
    serial: u64,
    total_worker: f64,
    worker_cost: f64,
    exec: f64,
    wait: f64,
    cpu: f64,
    mem: f64,
}

#[derive(Default)]
struct RowFormatter {
    ryu: ryu::Buffer,
    itoa: itoa::Buffer,
}

impl RowFormatter {
    fn f(&mut self, out: &mut Vec<u8>, v: f64) {
        out.extend_from_slice(self.ryu.format_finite(v).as_bytes());
    }

    fn i(&mut self, out: &mut Vec<u8>, v: i64) {
        out.extend_from_slice(self.itoa.format(v).as_bytes());
    }

    fn row(
        &mut self,
        out: &mut Vec<u8>,
        rng: &mut ChaCha8Rng,
        spec: &FunctionSpec,
        r: RequestFacts,
    ) {
        use std::io::Write;
        // Frontend logs are missing for internal invocations and for a few others.
        let frontend = spec.via_frontend && rng.gen::<f64>() > 0.03;
        let fe = if frontend {
            let ln = |rng: &mut ChaCha8Rng, m: f64, s: f64| {
                micros(ln_sample(
                    rng,
                    LogNormal {
                        median: m,
                        sigma: s,
                    },
                    1.0,
                ))
            };
            Some([
                ln(rng, 0.0004, 0.5),
                ln(rng, 0.002, 0.6),
                ln(rng, 0.00002, 0.8),
                ln(rng, 0.00001, 0.8),
            ])
        } else {
            None
        };
        self.f(out, r.t);
        out.push(b',');
        if let Some([fc, bc, _, _]) = fe {
            self.f(out, micros((r.t - fc - bc).max(0.0)));
        }
        let _ = write!(out, ",{:032x},{},", r.rid, r.cluster);
        self.i(out, spec.func_name);
        let _ = write!(out, ",{}-{:010},", spec.pool_name, r.serial);
        self.i(out, spec.user_id);
        out.push(b',');
        self.f(out, r.total_worker);
        out.push(b',');
        self.f(out, r.worker_cost);
        out.push(b',');
        self.f(out, r.exec);
        out.push(b',');
        if let Some([fc, bc, rb, wr]) = fe {
            self.f(out, micros(fc + bc + rb + wr + r.wait + r.total_worker));
            for v in [fc, bc, rb, wr] {
                out.push(b',');
                self.f(out, v);
            }
        } else {
            out.extend_from_slice(b",,,,");
        }
        out.push(b',');
        self.f(out, r.cpu);
        out.push(b',');
        self.f(out, r.mem);
        out.push(b',');
        if frontend {
            let size = ln_sample(
                rng,
                LogNormal {
                    median: spec.body_median,
                    sigma: 0.8,
                },
                1.0,
            )
            .round() as i64;
            self.i(out, size);
        }
        out.push(b'\n');
    }
}

fn fmt_f(buf: &mut ryu::Buffer, out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(buf.format_finite(v).as_bytes());
}

/// `cold_start/R?/day_NN.csv`: one row per cold start, in the order given.
pub fn write_cold_starts(
    path: &Path,
    day: u32,
    specs: &[FunctionSpec],
    cold: &[ColdStart],
) -> Result<()> {
    cold_starts_to(path, day, specs, cold).with_context(|| format!("writing {}", path.display()))
}

fn cold_starts_to(path: &Path, day: u32, specs: &[FunctionSpec], cold: &[ColdStart]) -> Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    // Values below are written in the schema's column order.
    w.write_all(Family::ColdStart.csv_header().as_bytes())?;
    let mut line = Vec::with_capacity(256);
    let mut r = ryu::Buffer::new();
    for c in cold {
        let s = &specs[c.func as usize];
        line.clear();
        write!(line, "{day},")?;
        fmt_f(&mut r, &mut line, c.time);
        write!(
            line,
            ",{},{},{},{:032x}",
            c.cluster, s.func_name, s.user_id, c.request_id
        )?;
        for v in c.costs {
            line.push(b',');
            fmt_f(&mut r, &mut line, v);
        }
        writeln!(line, ",{}-{:010}", s.pool_name, c.pod_serial)?;
        w.write_all(&line)?;
    }
    w.flush()?;
    Ok(())
}

/// Rolls per-request rows over part files of at most `max_rows` rows (at function bounds).
pub struct PartWriter {
    dir: PathBuf,
    region: String,
    max_rows: u64,
    current: Option<BufWriter<File>>,
    rows: u64,
    parts: u32,
}

impl PartWriter {
    pub fn new(dir: &Path, region: &str, max_rows: u64) -> Self {
        Self {
            dir: dir.to_path_buf(),
            region: region.to_owned(),
            max_rows: max_rows.max(1),
            current: None,
            rows: 0,
            parts: 0,
        }
    }

    /// The part file being written (or last written).
    fn part_path(&self) -> PathBuf {
        self.dir.join(format!(
            "{}_{:05}.csv",
            self.region,
            self.parts.saturating_sub(1)
        ))
    }

    pub fn write(&mut self, bytes: &[u8], rows: u64) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        if self.current.is_none() || self.rows >= self.max_rows {
            if let Some(mut w) = self.current.take() {
                w.flush()
                    .with_context(|| format!("writing {}", self.part_path().display()))?;
            }
            self.parts += 1;
            let path = self.part_path();
            let mut w = BufWriter::with_capacity(
                1 << 20,
                File::create(&path).with_context(|| format!("creating {}", path.display()))?,
            );
            w.write_all(Family::Request.csv_header().as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            self.current = Some(w);
            self.rows = 0;
        }
        let path = self.part_path();
        self.current
            .as_mut()
            .expect("open")
            .write_all(bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        self.rows += rows;
        Ok(())
    }

    pub fn finish(mut self) -> Result<u32> {
        if let Some(mut w) = self.current.take() {
            w.flush()
                .with_context(|| format!("writing {}", self.part_path().display()))?;
        }
        Ok(self.parts)
    }
}

/// `quantiles/R?/TABLE/day_NN.csv` for every table of [`MINUTE_TABLES`]: a row per minute, a
/// column per function.
pub fn write_minute_tables(
    root: &Path,
    region: &str,
    day: u32,
    specs: &[FunctionSpec],
    cells: &mut [Cell],
) -> Result<()> {
    cells.sort_by_key(|c| (c.minute_of_day, c.func));
    let mut header = b"day,time".to_vec();
    for s in specs {
        header.push(b',');
        header.extend_from_slice(s.func_id.as_bytes());
    }
    header.push(b'\n');
    let mut r = ryu::Buffer::new();
    for (k, table) in MINUTE_TABLES.iter().enumerate() {
        let dir = root
            .join(Family::MinuteMetric.release_dir())
            .join(region)
            .join(table);
        let path = dir.join(Family::day_file(day));
        let written = (|| -> Result<usize> {
            fs::create_dir_all(&dir)?;
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
            w.write_all(&header)?;
            let mut line = Vec::with_capacity(specs.len() * 2 + 32);
            let mut ci = 0;
            for minute in 0..1440u16 {
                line.clear();
                let time = day as f64 * SECONDS_PER_DAY + minute as f64 * 60.0;
                write!(line, "{day},")?;
                fmt_f(&mut r, &mut line, time);
                let mut next_func = 0u32;
                while ci < cells.len() && cells[ci].minute_of_day == minute {
                    let c = &cells[ci];
                    let v = c.values[k];
                    if !v.is_nan() {
                        line.extend(std::iter::repeat_n(b',', (c.func + 1 - next_func) as usize));
                        fmt_f(&mut r, &mut line, v);
                        next_func = c.func + 1;
                    }
                    ci += 1;
                }
                line.extend(std::iter::repeat_n(
                    b',',
                    (specs.len() as u32).saturating_sub(next_func) as usize,
                ));
                line.push(b'\n');
                w.write_all(&line)?;
            }
            w.flush()?;
            Ok(ci)
        })()
        .with_context(|| format!("writing {}", path.display()))?;
        // Every table walks the same cells.
        debug_assert_eq!(written, cells.len());
    }
    Ok(())
}

/// `runtime_triggerType/df_funcID_runtime_triggerType.csv`, R2 only as in the release.
pub fn write_functions(root: &Path, specs: &[FunctionSpec]) -> Result<()> {
    let path = root
        .join(Family::Function.release_dir())
        .join(coldstart_trace::schema::FUNCTIONS_FILE);
    functions_to(&path, specs).with_context(|| format!("writing {}", path.display()))
}

fn functions_to(path: &Path, specs: &[FunctionSpec]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(Family::Function.release_columns().iter().map(|c| c.name))?;
    for s in specs {
        let req =
            coldstart_trace::pool::cpu_request_for_limit(s.cpu_limit).unwrap_or(s.cpu_limit / 3);
        w.write_record([
            s.func_id.as_str(),
            &req.to_string(),
            s.runtime,
            &s.trigger_field(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Packs a region's CSVs as the publishers ship them: `cold_start/R1.zip`,
/// `per_request/R1/R1_00000_00009.zip` (ten parts each) and `quantiles/R1.zip`.
pub fn zip_region(root: &Path, region: &str, with_cells: bool) -> Result<()> {
    let cold_root = root.join(Family::ColdStart.release_dir());
    let cold = cold_root.join(region);
    zip_dir(&cold, &cold_root.join(format!("{region}.zip")), region)?;
    fs::remove_dir_all(&cold)?;
    let req = root.join(Family::Request.release_dir()).join(region);
    let mut parts: Vec<PathBuf> = fs::read_dir(&req)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    parts.sort();
    for (g, group) in parts.chunks(10).enumerate() {
        let (a, b) = (g * 10, g * 10 + 9);
        let path = req.join(format!("{region}_{a:05}_{b:05}.zip"));
        (|| -> Result<()> {
            let mut zw = zip::ZipWriter::new(BufWriter::new(File::create(&path)?));
            for p in group {
                let name = format!(
                    "{region}/{}",
                    p.file_name().and_then(|n| n.to_str()).unwrap_or("part.csv")
                );
                zw.start_file(name, zip_options())?;
                std::io::copy(&mut File::open(p)?, &mut zw)?;
                fs::remove_file(p)?;
            }
            zw.finish()?;
            Ok(())
        })()
        .with_context(|| format!("writing {}", path.display()))?;
    }
    if with_cells {
        let q_root = root.join(Family::MinuteMetric.release_dir());
        let q = q_root.join(region);
        zip_dir(&q, &q_root.join(format!("{region}.zip")), region)?;
        fs::remove_dir_all(&q)?;
    }
    Ok(())
}

fn zip_options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
}

fn zip_dir(dir: &Path, dest: &Path, prefix: &str) -> Result<()> {
    zip_dir_to(dir, dest, prefix).with_context(|| format!("writing {}", dest.display()))
}

fn zip_dir_to(dir: &Path, dest: &Path, prefix: &str) -> Result<()> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    let mut zw = zip::ZipWriter::new(BufWriter::new(File::create(dest)?));
    for f in files {
        let rel = f
            .strip_prefix(dir)
            .expect("inside")
            .to_string_lossy()
            .replace('\\', "/");
        zw.start_file(format!("{prefix}/{rel}"), zip_options())?;
        std::io::copy(&mut File::open(&f)?, &mut zw)?;
    }
    zw.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_names_the_file() {
        // /dev/full takes opens and refuses every write with ENOSPC, as a full disk does.
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let e = format!("{:#}", write_cold_starts(full, 0, &[], &[]).unwrap_err());
        assert!(
            e.contains("writing /dev/full") && e.contains("No space left"),
            "{e}"
        );
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.csv"), "x").unwrap();
        let e = format!("{:#}", zip_dir(d.path(), full, "R1").unwrap_err());
        assert!(e.contains("writing /dev/full"), "{e}");
    }

    #[test]
    fn quantiles_match_pandas_linear_interpolation() {
        // pandas.Series([1, 2, 3, 4, 10]).quantile([0.5, 0.99]) == [3.0, 9.76]
        let mut v = vec![10.0, 2.0, 4.0, 1.0, 3.0];
        let [mean, q50, q99] = stats(&mut v);
        assert!((mean - 4.0).abs() < 1e-12);
        assert!((q50 - 3.0).abs() < 1e-12);
        assert!((q99 - 9.76).abs() < 1e-12);
        let [m, a, b] = stats(&mut [7.0]);
        assert_eq!((m, a, b), (7.0, 7.0, 7.0));
    }
}
