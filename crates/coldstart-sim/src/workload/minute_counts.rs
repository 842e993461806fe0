//! Per-minute request counts as a workload (the release's `quantiles/R*/requests` tables):
//! the requests of each function-minute arrive as the function's minutes in per-request rows
//! show ([`WithinMinute`]), or at seeded uniform times within the minute where there are none.
//! Memory follows function-minutes, not requests. A function with at least
//! [`NEVER_IDLE_PER_MINUTE`] requests in every minute is never idle a keep-alive long: under a
//! replay whose policies only keep idle pods a fixed time it comes minute by minute, through
//! the fluid model ([`crate::engine::FluidDay`]), not request by request.

use std::ops::Range;
use std::sync::Arc;

use anyhow::Result;

use super::within_minute::WithinMinute;
use rayon::prelude::*;

use super::{order, Function, Invocation, Trace, Workload};
use crate::engine::FluidDay;
use crate::profile::LogNormal;
use crate::rng::{mix, unit};

/// Requests a function needs in every minute of the workload to be replayed minute by minute
/// ([`Workload::set_fluid`]): one a second on average, so that with arrivals at random within
/// the minute (the fluid model's Poisson arrivals) it is never idle for a keep-alive of a
/// minute.
pub const NEVER_IDLE_PER_MINUTE: u32 = 60;

/// A day's requests second by second: `(minute, function) -> [(second of the minute, requests)]`.
pub type SecondsOfDay = std::collections::HashMap<(u32, u32), Vec<(u8, u32)>>;

/// Where per-second request counts come from (the Huawei 2023 private release's
/// `requests_second`), read a day at a time as the replay reaches it.
pub trait SecondCounts: Send {
    /// The counts of `day`, in the workload's function numbering (None: none for that day).
    fn day(&mut self, day: u32) -> Result<Option<SecondsOfDay>>;
    /// What was read and rejected, for the report.
    fn notes(&self) -> Vec<String>;
}

/// A region's per-minute request counts. Each function-minute's requests arrive as learned
/// from per-request rows where `within` has the function's minutes (execution times scaled to
/// the minute's median), else spread over the minute at seeded uniform positions, each running
/// for that minute's median execution time (`totalCost` quantile 0.5; the function's median
/// over its minutes where the minute has none). Memory follows function-minutes, not requests.
pub struct MinuteCounts {
    pub functions: Vec<Function>,
    /// (minute, function, requests, execution seconds), by minute.
    pub counts: Vec<(u32, u32, u32, f32)>,
    pub seed: u64,
    /// Arrivals within the minute learned from per-request rows (None: uniform for all).
    pub within: Option<Arc<WithinMinute>>,
    /// Per-second counts, where the input has them: a function-minute they cover arrives
    /// second by second (uniform within each second), before `within` or uniform spreading.
    pub seconds: Option<Box<dyn SecondCounts>>,
    /// Function-minutes that arrived by their per-second counts, those whose per-second counts
    /// summed below the minute's, per-second cells of minutes the counts do not have, and
    /// function-minutes whose per-second counts summed above the minute's (replayed from the
    /// minute's count: the day's memory is sized from the per-minute counts).
    pub by_seconds: (u64, u64, u64, u64),
    /// What was left out, for the report.
    pub notes: Vec<String>,
    /// Functions replayed minute by minute ([`Workload::set_fluid`]; empty: none).
    fluid: Vec<bool>,
    /// Memory to draw the next day into: the pieces' and the day's of the day before
    /// ([`Workload::recycle`]), so that a month does not map and zero every day's pages anew.
    spare: Spare,
}

/// Buffers of a day drawn before, kept for the next.
#[derive(Default)]
struct Spare {
    pieces: Vec<Vec<Invocation>>,
    day: Vec<Invocation>,
}

impl Spare {
    /// The day's buffer, empty, with room for `n`.
    fn day(&mut self, n: usize) -> Vec<Invocation> {
        let mut v = std::mem::take(&mut self.day);
        v.clear();
        v.reserve(n);
        v
    }

    /// `n` piece buffers, empty.
    fn pieces(&mut self, n: usize) -> Vec<Vec<Invocation>> {
        let mut v = std::mem::take(&mut self.pieces);
        v.resize_with(n.max(v.len()), Vec::new);
        self.pieces = v.split_off(n);
        v
    }
}

impl MinuteCounts {
    /// `counts` of `functions` (by minute, then function), spread uniformly within their
    /// minutes until [`MinuteCounts::learn_within`] or [`MinuteCounts::seconds`] says more.
    pub fn new(
        functions: Vec<Function>,
        counts: Vec<(u32, u32, u32, f32)>,
        seed: u64,
        notes: Vec<String>,
    ) -> Self {
        Self {
            functions,
            counts,
            seed,
            within: None,
            seconds: None,
            by_seconds: (0, 0, 0, 0),
            notes,
            fluid: Vec::new(),
            spare: Spare::default(),
        }
    }

    /// Whether function `f` comes minute by minute.
    fn is_fluid(&self, f: u32) -> bool {
        is_fluid(&self.fluid, f)
    }

    /// The functions with at least [`NEVER_IDLE_PER_MINUTE`] requests in every minute of the
    /// workload's days.
    fn never_idle(&self) -> Vec<bool> {
        let minutes = self.days().len() as u64 * 1440;
        let mut full = vec![0u64; self.functions.len()];
        for c in self.counts.iter().filter(|c| c.2 >= NEVER_IDLE_PER_MINUTE) {
            full[c.1 as usize] += 1;
        }
        full.iter().map(|k| minutes > 0 && *k == minutes).collect()
    }

    /// What a per-minute table of `trace` would hold: each function-minute's requests and
    /// their median execution time (arrivals spread uniformly until [`MinuteCounts::within`]
    /// is set). A per-invocation trace aggregated so can be replayed both ways, the truth
    /// beside the expansion.
    pub fn aggregate(trace: &Trace, seed: u64) -> Self {
        let mut rows: Vec<(u32, u32, f32)> = trace
            .invocations
            .iter()
            .map(|i| ((i.t / 60.0).floor().max(0.0) as u32, i.func, i.exec as f32))
            .collect();
        rows.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
        let mut counts = Vec::new();
        for g in rows.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            counts.push((g[0].0, g[0].1, g.len() as u32, g[(g.len() - 1) / 2].2));
        }
        let note = format!(
            "the per-invocation trace aggregated to {} function-minutes (requests and median \
             execution time per minute)",
            counts.len()
        );
        Self::new(trace.functions.clone(), counts, seed, vec![note])
    }

    /// Learns how requests fall within the minute from `rows` (some days' requests, in this
    /// workload's function numbering), each function without rows borrowing a similar one's
    /// ([`WithinMinute::learn`]); `note` says where the rows came from.
    pub fn learn_within(&mut self, rows: &[Invocation], note: String) {
        let learned = WithinMinute::learn(&self.functions, rows, &self.mean_counts());
        self.within = Some(Arc::new(learned));
        self.notes.push(note);
    }

    /// Each function's mean requests per minute with any.
    pub fn mean_counts(&self) -> Vec<f64> {
        let mut sums = vec![(0u64, 0u64); self.functions.len()];
        for c in &self.counts {
            sums[c.1 as usize].0 += u64::from(c.2);
            sums[c.1 as usize].1 += 1;
        }
        sums.iter()
            .map(|(n, k)| *n as f64 / (*k).max(1) as f64)
            .collect()
    }

    /// The requests of `day` in the order drawn, function-minute by function-minute as
    /// `counts` lists them (by minute, then function), drawn in pieces on every core (each
    /// function-minute's draws are seeded by itself alone, so the pieces are what one core
    /// would draw); a function-minute's requests are not in time order.
    fn draw(&mut self, day: u32) -> Result<Vec<Piece>> {
        let (m0, m1) = (day * 1440, (day + 1) * 1440);
        let a = self.counts.partition_point(|c| c.0 < m0);
        let b = self.counts.partition_point(|c| c.0 < m1);
        let seconds = match self.seconds.as_mut() {
            Some(s) => s.day(day)?,
            None => None,
        };
        let size = (b - a)
            .div_ceil(DRAW_PIECES_PER_CORE * rayon::current_num_threads())
            .max(1);
        let drawer = Drawer {
            seed: self.seed,
            within: self.within.as_deref(),
            fluid: &self.fluid,
        };
        let buffers = self.spare.pieces((b - a).div_ceil(size));
        let pieces: Vec<Piece> = self.counts[a..b]
            .par_chunks(size)
            .zip(buffers)
            .map(|(counts, buffer)| drawer.piece(counts, seconds.as_ref(), buffer))
            .collect();
        let mut used = 0;
        for p in &pieces {
            used += p.used;
            self.by_seconds.0 += p.by_seconds.0;
            self.by_seconds.1 += p.by_seconds.1;
            self.by_seconds.3 += p.by_seconds.2;
        }
        if let Some(s) = &seconds {
            self.by_seconds.2 += (s.len() - used) as u64;
        }
        Ok(pieces)
    }
}

/// Whether function `f` comes minute by minute, by [`MinuteCounts`]'s `fluid` (empty: none).
fn is_fluid(fluid: &[bool], f: u32) -> bool {
    fluid.get(f as usize).copied().unwrap_or(false)
}

/// What drawing a piece of a day reads (on any core).
struct Drawer<'a> {
    seed: u64,
    within: Option<&'a WithinMinute>,
    fluid: &'a [bool],
}

impl Drawer<'_> {
    fn is_fluid(&self, f: u32) -> bool {
        is_fluid(self.fluid, f)
    }

    /// One piece of [`MinuteCounts::draw`], drawn into `buffer`.
    fn piece(
        &self,
        counts: &[(u32, u32, u32, f32)],
        seconds: Option<&SecondsOfDay>,
        mut buffer: Vec<Invocation>,
    ) -> Piece {
        let size = counts
            .iter()
            .filter(|c| !self.is_fluid(c.1))
            .map(|c| c.2 as usize)
            .sum();
        buffer.clear();
        buffer.reserve(size);
        let mut p = Piece {
            out: buffer,
            runs: Vec::with_capacity(counts.len()),
            used: 0,
            by_seconds: (0, 0, 0),
        };
        let out = &mut p.out;
        for &(minute, func, n, exec) in counts {
            if self.is_fluid(func) {
                // Minute by minute (fluid_day); its per-second counts, if any, are not used.
                p.used += usize::from(seconds.is_some_and(|s| s.contains_key(&(minute, func))));
                continue;
            }
            p.runs.push((minute, func, out.len()));
            let key = mix(self.seed ^ mix((u64::from(func) << 32) | u64::from(minute)));
            let per = seconds.and_then(|s| s.get(&(minute, func)));
            let sum = per.map_or(0, |per| per.iter().map(|p| u64::from(p.1)).sum::<u64>());
            if per.is_some() {
                p.used += 1;
            }
            if sum > u64::from(n) {
                p.by_seconds.2 += 1;
            } else if let Some(per) = per {
                p.by_seconds.0 += 1;
                if sum < u64::from(n) {
                    p.by_seconds.1 += 1;
                }
                for &(sec, c) in per {
                    for k in 0..c {
                        let u = unit(key ^ (u64::from(sec) << 32 | u64::from(k)));
                        out.push(Invocation {
                            t: f64::from(minute) * 60.0 + f64::from(sec) + u,
                            func,
                            exec: f64::from(exec),
                        });
                    }
                }
                continue;
            }
            if let Some(learned) = self.within.and_then(|w| w.of(func)) {
                learned.expand(func, minute, n, exec, key, out);
                continue;
            }
            for k in 0..n {
                let u = unit(key ^ u64::from(k));
                out.push(Invocation {
                    t: (f64::from(minute) + u) * 60.0,
                    func,
                    exec: f64::from(exec),
                });
            }
        }
        p
    }
}

/// Pieces of a day drawn per core: enough that a core held up leaves pieces to the others.
const DRAW_PIECES_PER_CORE: usize = 4;

/// Some function-minutes of a day, drawn: their requests, where each function-minute's begin
/// (minute, function, index in `out`), and the per-second counts used, followed and overrun
/// ([`MinuteCounts::by_seconds`]'s first, second and fourth).
struct Piece {
    out: Vec<Invocation>,
    runs: Vec<(u32, u32, usize)>,
    used: usize,
    by_seconds: (u64, u64, u64),
}

impl Piece {
    /// Each function-minute's requests, as (minute, function, slice).
    fn runs(&self) -> impl Iterator<Item = (u32, u32, &[Invocation])> {
        let ends = self
            .runs
            .iter()
            .skip(1)
            .map(|r| r.2)
            .chain([self.out.len()]);
        self.runs
            .iter()
            .zip(ends)
            .map(|(r, end)| (r.0, r.1, &self.out[r.2..end]))
    }
}

/// Sorts each run of `out` (beginning at `starts`, in order) into time order, on every core.
fn sort_runs(out: &mut [Invocation], starts: &[usize]) {
    let mut runs = Vec::with_capacity(starts.len());
    let mut rest = out;
    let mut at = starts.first().copied().unwrap_or(0);
    for &next in starts.iter().skip(1) {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(next - at);
        runs.push(head);
        rest = tail;
        at = next;
    }
    runs.push(rest);
    runs.into_par_iter().for_each(|r| r.sort_unstable_by(order));
}

impl Workload for MinuteCounts {
    fn functions(&self) -> &[Function] {
        &self.functions
    }

    fn days(&self) -> Range<u32> {
        match (self.counts.first(), self.counts.last()) {
            (Some(a), Some(b)) => a.0 / 1440..b.0 / 1440 + 1,
            _ => 0..0,
        }
    }

    /// Rows of the day in time order: every request of a minute falls within it, so sorting
    /// minute by minute (on every core) puts the whole day in order.
    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        let pieces = self.draw(day)?;
        let mut out = self.spare.day(pieces.iter().map(|p| p.out.len()).sum());
        let mut starts: Vec<usize> = Vec::new();
        let mut last = None;
        for p in &pieces {
            for (minute, _, run) in p.runs() {
                if last != Some(minute) {
                    starts.push(out.len());
                    last = Some(minute);
                }
                out.extend_from_slice(run);
            }
        }
        sort_runs(&mut out, &starts);
        self.spare.pieces = pieces.into_iter().map(|p| p.out).collect();
        Ok(out)
    }

    /// Each function-minute sorted on its own (on every core), then the function-minutes
    /// gathered function by function: each function's requests in time order, without
    /// sorting whole minutes of every function's requests together.
    fn day_per_function(&mut self, day: u32) -> Result<Vec<Invocation>> {
        let mut pieces = self.draw(day)?;
        pieces.par_iter_mut().for_each(|p| {
            let starts: Vec<usize> = p.runs.iter().map(|r| r.2).collect();
            sort_runs(&mut p.out, &starts);
        });
        // Function by function, each function's minutes in order (a stable sort of the runs).
        let mut runs: Vec<(u32, &[Invocation])> = pieces
            .iter()
            .flat_map(|p| p.runs().map(|(_, f, run)| (f, run)))
            .collect();
        runs.sort_by_key(|r| r.0);
        let mut out = self.spare.day(runs.iter().map(|r| r.1.len()).sum());
        for (_, run) in runs {
            out.extend_from_slice(run);
        }
        self.spare.pieces = pieces.into_iter().map(|p| p.out).collect();
        Ok(out)
    }

    fn recycle(&mut self, day: Vec<Invocation>) {
        if day.capacity() > self.spare.day.capacity() {
            self.spare.day = day;
        }
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        let (m0, m1) = (day * 1440, (day + 1) * 1440);
        let a = self.counts.partition_point(|c| c.0 < m0);
        let b = self.counts.partition_point(|c| c.0 < m1);
        Some(
            self.counts[a..b]
                .iter()
                .filter(|c| !self.is_fluid(c.1))
                .map(|c| u64::from(c.2))
                .sum(),
        )
    }

    fn set_fluid(&mut self, on: bool) -> bool {
        let never_idle = self.never_idle();
        let any = never_idle.iter().any(|x| *x);
        self.fluid = if on { never_idle } else { Vec::new() };
        any
    }

    fn fluid_day(&mut self, day: u32) -> Vec<FluidDay> {
        if !self.fluid.iter().any(|x| *x) {
            return Vec::new();
        }
        let (m0, m1) = (day * 1440, (day + 1) * 1440);
        let a = self.counts.partition_point(|c| c.0 < m0);
        let b = self.counts.partition_point(|c| c.0 < m1);
        // Each never-idle function's minutes, and its requests' total execution time.
        let mut days: Vec<Option<(Vec<u32>, f64)>> = vec![None; self.functions.len()];
        for &(minute, func, n, exec) in &self.counts[a..b] {
            if self.is_fluid(func) {
                let d = days[func as usize].get_or_insert_with(|| (vec![0; 1440], 0.0));
                d.0[(minute - m0) as usize] = n;
                d.1 += f64::from(n) * f64::from(exec);
            }
        }
        (days.into_iter().enumerate())
            .filter_map(|(f, d)| d.map(|d| (f as u32, d)))
            .map(|(func, (requests, busy))| {
                let total: u64 = requests.iter().map(|n| u64::from(*n)).sum();
                FluidDay {
                    func,
                    day,
                    rates: requests.iter().map(|n| f64::from(*n) / 60.0).collect(),
                    requests,
                    // The day's mean execution time, for every request.
                    exec: LogNormal {
                        median: (busy / total.max(1) as f64).max(1e-6),
                        sigma: 0.0,
                    },
                    seed: mix(self.seed ^ mix((u64::from(func) << 32) | 0xF1_D0)),
                }
            })
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self.notes.clone();
        let fluid = self.fluid.iter().filter(|x| **x).count();
        if fluid > 0 {
            notes.push(format!(
                "{fluid} functions with at least {NEVER_IDLE_PER_MINUTE} requests in every \
                 minute were replayed minute by minute (the fluid model: arrivals at random \
                 within each minute, every request running for the day's mean execution time; \
                 their per-second counts and learned arrivals are not used)"
            ));
        }
        if let Some(s) = &self.seconds {
            let (used, below, outside, above) = self.by_seconds;
            notes.push(format!(
                "per-second counts: {used} function-minutes arrived second by second (uniform \
                 within each second), the rest as below; {below} of them had per-second counts \
                 that summed below the minute's (the seconds were replayed); {above} \
                 function-minutes whose per-second counts summed above the minute's were \
                 replayed from the minute's count, as below; and {outside} per-second \
                 function-minutes had no per-minute count (left out)"
            ));
            notes.extend(s.notes());
        }
        match &self.within {
            Some(w) => notes.push(format!(
                "per-minute counts: each minute's requests arrive as one of the function's \
                 minutes with as many requests in the per-request rows (the nearest count, \
                 thinned or added to, where none has as many), execution times scaled to the \
                 minute's median (totalCost quantile 0.5); {} functions learned from their own \
                 rows, {} from the most similar function's (trigger, runtime, requests per \
                 minute), {} spread uniformly",
                w.own,
                w.borrowed,
                self.functions.len() - w.own - w.borrowed
            )),
            None => notes.push(
                "per-minute counts: each minute's requests arrive at seeded uniform times \
                 within it and run for the minute's median execution time (totalCost quantile \
                 0.5); concurrency 1"
                    .into(),
            ),
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A day sorted minute by minute is the day sorted whole, with uniform and with learned
    /// arrivals, and holds every request of the day's minutes and none of another day's.
    #[test]
    fn a_day_is_in_the_workloads_order() {
        let functions: Vec<Function> = (0..5)
            .map(|i| Function::new(format!("f{i}"), "APIG-S"))
            .collect();
        // Minutes of days 0 and 1, several functions in most of them, up to 40 requests.
        let mut counts = Vec::new();
        for minute in (0..2880u32).step_by(7) {
            for func in 0..5u32 {
                if (minute + func) % 3 != 0 {
                    counts.push((minute, func, 1 + (minute * 7 + func) % 40, 0.01));
                }
            }
        }
        let mut w = MinuteCounts::new(functions.clone(), counts.clone(), 3, Vec::new());
        // Learned from rows bunched at a few seconds of some minutes of function 0 and 1.
        let rows: Vec<Invocation> = (0..600)
            .map(|i| Invocation {
                t: f64::from(i / 10) * 60.0 + f64::from(i % 10) * 0.5,
                func: i % 2,
                exec: 0.02,
            })
            .collect();
        for learned in [false, true] {
            if learned {
                w.learn_within(&rows, "rows".into());
            }
            for day in 0..2 {
                let got = w.day(day).unwrap();
                let mut whole = got.clone();
                super::super::sort(&mut whole);
                assert!(got.iter().zip(&whole).all(|(a, b)| order(a, b).is_eq()));
                let want: u64 = counts
                    .iter()
                    .filter(|c| c.0 / 1440 == day)
                    .map(|c| u64::from(c.2))
                    .sum();
                assert_eq!(got.len() as u64, want);
                let d = f64::from(day) * 86_400.0;
                assert!(got.iter().all(|i| i.t >= d && i.t < d + 86_400.0));
                // Function by function: the day's requests of each function, in the day's
                // order, one function after another in function order.
                let grouped = w.day_per_function(day).unwrap();
                let mut want = got.clone();
                want.sort_by_key(|i| i.func);
                assert_eq!(grouped, want, "day {day}, learned {learned}");
                // Drawn again into the memory of the days before, handed back: the same day.
                w.recycle(grouped);
                let again = w.day(day).unwrap();
                assert_eq!(again, got, "day {day} drawn again, learned {learned}");
                w.recycle(again);
                assert_eq!(w.day_per_function(day).unwrap(), want);
            }
        }
    }
}
