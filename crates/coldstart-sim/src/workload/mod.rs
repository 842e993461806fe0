//! A workload as data: the functions and their invocations, in time order, handed out a day
//! at a time so memory follows one day's invocations, not the whole trace. Adapters produce
//! it: the synthetic workload model ([`synthetic`]), a store's per-request rows or per-minute
//! counts ([`minute_counts`]; reading a store is in `coldstart`, which owns the query engine),
//! the Azure Functions 2019 and 2021 traces ([`azure2019`], [`azure2021`]), or a [`Trace`]
//! built by hand. Every policy
//! replays the same invocations: the engine never draws from the workload's random streams.

use std::ops::Range;

use anyhow::Result;
use coldstart_trace::paper::SECONDS_PER_DAY;

pub mod app_scope;
pub mod azure2019;
pub mod azure2021;
pub mod csv_input;
pub mod huawei2023;
pub mod memory;
pub mod minute_counts;
pub mod synthetic;
pub mod within_minute;

/// The most invocations one function's minute may hold in a per-minute input (1,000 a second;
/// the busiest function-minutes of the public traces hold tens of thousands). A count above it
/// is a bad row, rejected and counted, so a typo cannot allocate billions of invocations.
pub const MAX_PER_MINUTE: u32 = 60_000;

/// What the engine and the policies know of a function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The function's id in its source (funcID, or a name for hand-built traces).
    pub name: String,
    pub region: String,
    /// `triggerType-invocationType` of the trigger that drives it (`TIMER-A`), or `unknown`.
    pub trigger: String,
    pub runtime: String,
    pub cpu_millis: u32,
    pub memory_mb: u32,
    /// Requests one pod serves at once.
    pub concurrency: u32,
}

impl Function {
    /// A function with the platform's usual defaults (300 mCPU, 128 MB, one request per pod).
    pub fn new(name: impl Into<String>, trigger: &str) -> Self {
        Self {
            name: name.into(),
            region: "R1".into(),
            trigger: trigger.into(),
            runtime: "unknown".into(),
            cpu_millis: 300,
            memory_mb: 128,
            concurrency: 1,
        }
    }

    pub fn is_timer(&self) -> bool {
        self.trigger.starts_with("TIMER")
    }

    /// Asynchronous invocations (`-A`) may be delayed; synchronous ones (`-S`) never are.
    pub fn is_async(&self) -> bool {
        self.trigger.ends_with("-A")
    }

    /// Whether its pods come from a pre-warmed pool of its CPU-memory configuration (Custom
    /// and http runtimes are built from scratch; spec section 2).
    pub fn has_pool(&self) -> bool {
        !matches!(self.runtime.as_str(), "Custom" | "http")
    }

    pub fn memory_gb(&self) -> f64 {
        f64::from(self.memory_mb) / 1024.0
    }
}

/// One request: when it arrives, which function, and how long it runs once on a pod.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Invocation {
    pub t: f64,
    pub func: u32,
    pub exec: f64,
}

/// A workload: functions, and each day's invocations sorted by time.
pub trait Workload: Send {
    fn functions(&self) -> &[Function];
    /// The days it covers.
    fn days(&self) -> Range<u32>;
    /// The invocations arriving on `day`, sorted by time, then function.
    fn day(&mut self, day: u32) -> Result<Vec<Invocation>>;
    /// The invocations arriving on `day` in an order that keeps each function's own in time
    /// order, though not necessarily across functions: what a replay whose every policy
    /// decides per function needs ([`crate::policy::Policy::per_function`]). A workload that
    /// can group them function by function cheaply does (its engines then keep one function's
    /// pods in the cache for a run of requests); by default, [`Workload::day`].
    fn day_per_function(&mut self, day: u32) -> Result<Vec<Invocation>> {
        self.day(day)
    }
    /// Takes back a day's invocations once they are replayed, so that a workload that draws
    /// its days may write the next one into the same memory, its pages already mapped (by
    /// default they are dropped).
    fn recycle(&mut self, _day: Vec<Invocation>) {}
    /// What the adapter had to assume or leave out, for the report.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// About how many invocations `day` holds, known before they are drawn or read (None:
    /// not known in advance); [`memory::check`] uses it.
    fn size_hint(&self, _day: u32) -> Option<u64> {
        None
    }
    /// Whether the functions that are never idle come minute by minute, through
    /// [`Workload::fluid_day`] and out of [`Workload::day`] (`true`), or request by request in
    /// [`Workload::day`]; returns whether the workload has any such function. Asked before the
    /// first day, by a replay whose every policy only keeps idle pods a fixed time.
    fn set_fluid(&mut self, _on: bool) -> bool {
        false
    }
    /// The days of the functions given minute by minute, after [`Workload::day`] for the same
    /// day (none unless [`Workload::set_fluid`] turned them on).
    fn fluid_day(&mut self, _day: u32) -> Vec<crate::engine::FluidDay> {
        Vec::new()
    }
}

/// A workload held in memory.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub functions: Vec<Function>,
    /// Sorted by [`sort`].
    pub invocations: Vec<Invocation>,
    pub notes: Vec<String>,
}

impl Trace {
    /// A trace of `invocations` (sorted here).
    pub fn new(functions: Vec<Function>, mut invocations: Vec<Invocation>) -> Self {
        sort(&mut invocations);
        Self {
            functions,
            invocations,
            notes: Vec::new(),
        }
    }
}

/// Time order, ties by function, then execution time: a total order, so a trace read in any
/// row order replays the same.
pub fn sort(v: &mut [Invocation]) {
    // Unstable is the same: invocations equal in the order are equal in every field.
    v.sort_unstable_by(order);
}

/// The order [`sort`] puts invocations in.
#[inline]
pub fn order(a: &Invocation, b: &Invocation) -> std::cmp::Ordering {
    a.t.total_cmp(&b.t)
        .then(a.func.cmp(&b.func))
        .then(a.exec.total_cmp(&b.exec))
}

/// Slices of a day merged apart, on every core.
const MERGE_SLICES: usize = 64;
/// Bins of the counting sort per second of the day (a few invocations each at the busiest).
const MERGE_BINS_PER_SECOND: f64 = 8.0;

/// One day's invocations of functions 0, 1, … (`runs[f]`: function `f`'s, in time order, all
/// within the day that starts at second `from`) in the workload's order: by time, then
/// function. A counting sort on the eighth of a second of arrival, then each bin's few
/// invocations sorted by time, stably, so that ties stay in function order; the day is cut
/// into slices merged apart on every core. Linear in the invocations, where sorting them all
/// is not (about half the time of drawing an R2 day).
pub fn merge_day(runs: &[Vec<Invocation>], from: f64) -> Vec<Invocation> {
    use rayon::prelude::*;
    let bins = (SECONDS_PER_DAY * MERGE_BINS_PER_SECOND) as usize;
    let per = bins.div_ceil(MERGE_SLICES);
    let bin =
        |i: &Invocation| (((i.t - from) * MERGE_BINS_PER_SECOND).max(0.0) as usize).min(bins - 1);
    // cut[f][k]: where function f's slice k begins in its run.
    let cut: Vec<Vec<usize>> = runs
        .iter()
        .map(|r| {
            (0..=MERGE_SLICES)
                .map(|k| r.partition_point(|i| bin(i) < k * per))
                .collect()
        })
        .collect();
    let sizes: Vec<usize> = (0..MERGE_SLICES)
        .map(|k| cut.iter().map(|c| c[k + 1] - c[k]).sum())
        .collect();
    let Some(any) = runs.iter().find_map(|r| r.first()) else {
        return Vec::new();
    };
    let mut out = vec![*any; sizes.iter().sum()];
    let mut slices = Vec::with_capacity(MERGE_SLICES);
    let mut rest = out.as_mut_slice();
    for n in &sizes {
        let (a, b) = rest.split_at_mut(*n);
        slices.push(a);
        rest = b;
    }
    slices.into_par_iter().enumerate().for_each(|(k, dest)| {
        let first = k * per;
        let mut start = vec![0usize; per + 1];
        let parts = || runs.iter().zip(&cut).flat_map(|(r, c)| &r[c[k]..c[k + 1]]);
        for i in parts() {
            start[bin(i) - first + 1] += 1;
        }
        for s in 1..=per {
            start[s] += start[s - 1];
        }
        let mut next = start.clone();
        for i in parts() {
            let s = bin(i) - first;
            dest[next[s]] = *i;
            next[s] += 1;
        }
        for s in 0..per {
            dest[start[s]..start[s + 1]].sort_by(|a, b| a.t.total_cmp(&b.t));
        }
    });
    out
}

impl Workload for Trace {
    fn functions(&self) -> &[Function] {
        &self.functions
    }

    fn days(&self) -> Range<u32> {
        match (self.invocations.first(), self.invocations.last()) {
            (Some(a), Some(b)) => {
                (a.t / SECONDS_PER_DAY).floor() as u32..(b.t / SECONDS_PER_DAY).floor() as u32 + 1
            }
            _ => 0..0,
        }
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        let (d0, d1) = (
            f64::from(day) * SECONDS_PER_DAY,
            f64::from(day + 1) * SECONDS_PER_DAY,
        );
        let a = self.invocations.partition_point(|i| i.t < d0);
        let b = self.invocations.partition_point(|i| i.t < d1);
        Ok(self.invocations[a..b].to_vec())
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        let (d0, d1) = (
            f64::from(day) * SECONDS_PER_DAY,
            f64::from(day + 1) * SECONDS_PER_DAY,
        );
        let a = self.invocations.partition_point(|i| i.t < d0);
        let b = self.invocations.partition_point(|i| i.t < d1);
        Some((b - a) as u64)
    }
}
