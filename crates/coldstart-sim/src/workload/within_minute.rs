//! How a function's requests fall within a minute, learned from per-request rows, to expand
//! per-minute counts into arrivals.
//!
//! A per-minute table says how many requests a function got in each minute, not when. Spread
//! uniformly over the minute, a timer that fires at second 12 of every minute becomes a random
//! gap of 0 to 120 s (cold about half the time under a 60 s keep-alive; never, as it fired),
//! and a burst of ten requests within milliseconds becomes ten requests seconds apart (one pod
//! where the platform loaded ten). What the rows of a day show instead is kept as it is: each
//! function's minutes, by request count, with every request's offset into its minute and its
//! execution time. A minute of the month with `n` requests takes one of the function's learned
//! minutes with `n` requests (drawn by a seeded key): the same second, the same burst, the
//! same polling period. Where none has exactly `n`, the nearest count is used: a larger minute
//! thinned to `n` requests (a seeded subset), or a smaller one with further minutes laid over
//! it for the rest, each moved round the minute by a seeded shift. Past the largest learned
//! minute, a function whose requests come in bursts repeats each request of its largest minute
//! (the burst grows in place); any other lays further minutes over it. Execution times are
//! scaled so that the minute's median is the per-minute table's own (`totalCost` quantile
//! 0.5) where it has one.
//!
//! A function with no rows on the learning days borrows the minutes of the function most like
//! it: the same trigger and runtime (else the same trigger, else any), the nearest mean
//! requests per active minute. Nothing here assumes a shape (period, burst law, rate): the
//! minutes are replayed as observed, so any structure the rows hold is kept.

use std::collections::HashMap;

use super::{Function, Invocation};
use crate::rng::{mix, unit};

/// One function's minutes as its per-request rows show them.
#[derive(Debug, Clone, Default)]
pub struct LearnedMinutes {
    /// (requests, where its requests start in `offsets`), sorted by requests.
    minutes: Vec<(u32, u32)>,
    /// Each request's seconds into its minute, minute by minute, in time order.
    offsets: Vec<f32>,
    /// Each request's execution time, seconds.
    exec: Vec<f32>,
    /// Each minute's median execution time (as `minutes`).
    median_exec: Vec<f32>,
    /// Whether the function's requests come in bursts: at least half the gaps between
    /// consecutive requests within its learned minutes are under [`BURST_GAP`].
    bursty: bool,
}

/// A gap between requests within a minute under which they belong to one burst, seconds.
const BURST_GAP: f32 = 1.0;

impl LearnedMinutes {
    /// The learned minutes of `rows` (one function's requests, in time order).
    pub fn learn(rows: &[Invocation]) -> Self {
        // Each minute's (offset, execution time) of its requests.
        let mut by_minute: Vec<Vec<(f32, f32)>> = Vec::new();
        let mut current = i64::MIN;
        for r in rows {
            let m = (r.t / 60.0).floor() as i64;
            if m != current {
                by_minute.push(Vec::new());
                current = m;
            }
            let last = by_minute.last_mut().expect("pushed");
            last.push(((r.t - m as f64 * 60.0) as f32, r.exec as f32));
        }
        // By count, ties in time order (a stable sort).
        by_minute.sort_by_key(Vec::len);
        let mut out = Self::default();
        let (mut short, mut gaps) = (0usize, 0usize);
        for v in &by_minute {
            for w in v.windows(2) {
                gaps += 1;
                short += usize::from(w[1].0 - w[0].0 < BURST_GAP);
            }
        }
        out.bursty = gaps > 0 && 2 * short >= gaps;
        for v in by_minute {
            let mut e: Vec<f32> = v.iter().map(|x| x.1).collect();
            e.sort_by(f32::total_cmp);
            out.median_exec.push(e[(e.len() - 1) / 2]);
            out.minutes.push((v.len() as u32, out.offsets.len() as u32));
            for (o, x) in v {
                out.offsets.push(o.clamp(0.0, 59.999_999));
                out.exec.push(x);
            }
        }
        out
    }

    /// The learned minute that `n` requests take (by `key` among equals): one with `n`, else
    /// the nearest count (the larger one on a tie, to be thinned).
    fn pick(&self, n: u32, key: u64) -> usize {
        let lo = self.minutes.partition_point(|m| m.0 < n);
        let hi = self.minutes.partition_point(|m| m.0 <= n);
        let (lo, hi) = if lo < hi {
            (lo, hi)
        } else {
            let above = (lo < self.minutes.len()).then(|| self.minutes[lo].0);
            let below = (lo > 0).then(|| self.minutes[lo - 1].0);
            let c = match (above, below) {
                (Some(a), Some(b)) if a - n <= n - b => a,
                (Some(a), None) => a,
                (_, Some(b)) => b,
                (None, None) => unreachable!("picked from an empty set"),
            };
            (
                self.minutes.partition_point(|m| m.0 < c),
                self.minutes.partition_point(|m| m.0 <= c),
            )
        };
        lo + (unit(key) * (hi - lo) as f64) as usize % (hi - lo)
    }

    /// The requests of learned minute `i`: offsets and execution times.
    fn minute(&self, i: usize) -> (&[f32], &[f32]) {
        let a = self.minutes[i].1 as usize;
        let b = self
            .minutes
            .get(i + 1)
            .map_or(self.offsets.len(), |m| m.1 as usize);
        (&self.offsets[a..b], &self.exec[a..b])
    }

    /// Appends the `n` requests of function `func` in `minute` (absolute minute number) to
    /// `out`: learned minutes drawn by `key`, execution times scaled to `median_exec` where it
    /// is a positive number.
    pub fn expand(
        &self,
        func: u32,
        minute: u32,
        n: u32,
        median_exec: f32,
        key: u64,
        out: &mut Vec<Invocation>,
    ) {
        let start = f64::from(minute) * 60.0;
        let largest = self.minutes.last().map_or(0, |m| m.0);
        if n > largest && self.bursty {
            // More than any learned minute of a function whose requests come in bursts: the
            // largest, each request repeated, so that bursts grow where they were (more of a
            // burst, not another one elsewhere).
            let i = self.pick(largest, key);
            let (offsets, exec) = self.minute(i);
            let scale = exec_scale(median_exec, self.median_exec[i]);
            let m = offsets.len() as u32;
            // n % m of them (a seeded choice) once more than the others.
            let mut order: Vec<(u64, u32)> =
                (0..m).map(|j| (mix(key ^ u64::from(j + 1)), j)).collect();
            order.sort_unstable();
            let mut extra = vec![0u32; m as usize];
            for (_, j) in order.iter().take((n % m) as usize) {
                extra[*j as usize] = 1;
            }
            for j in 0..m {
                let copies = n / m + extra[j as usize];
                for c in 0..copies {
                    out.push(Invocation {
                        t: start
                            + (f64::from(offsets[j as usize]) + f64::from(c) * REPEAT_GAP)
                                .min(59.999_999),
                        func,
                        exec: f64::from(exec[j as usize]) * scale,
                    });
                }
            }
            return;
        }
        let mut left = n;
        let mut round = 0u64;
        while left > 0 {
            let k = mix(key ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            round += 1;
            let i = self.pick(left, k);
            let (offsets, exec) = self.minute(i);
            let scale = exec_scale(median_exec, self.median_exec[i]);
            let m = offsets.len() as u32;
            // The first learned minute in place; those laid over it for the rest are moved
            // round the minute by a seeded shift (as spacing within them stays), so that a
            // minute drawn twice does not put two requests on the same instant.
            let shift = if round == 1 {
                0.0
            } else {
                unit(k ^ 0x5A17) * 60.0
            };
            // Offsets and shift are under 60 s, so wrapping round the minute is one
            // subtraction (exact, as `% 60.0` is, without its libm call per request).
            let push = |out: &mut Vec<Invocation>, j: usize| {
                let at = f64::from(offsets[j]) + shift;
                out.push(Invocation {
                    t: start + if at >= 60.0 { at - 60.0 } else { at },
                    func,
                    exec: f64::from(exec[j]) * scale,
                });
            };
            if m <= left {
                (0..offsets.len()).for_each(|j| push(out, j));
                left -= m;
            } else {
                // A seeded subset of `left` of its `m` requests (a partial Fisher-Yates).
                let mut idx: Vec<u32> = (0..m).collect();
                for s in 0..left as usize {
                    let r = s + (unit(k ^ (s as u64 + 1)) * (m as usize - s) as f64) as usize;
                    idx.swap(s, r.min(m as usize - 1));
                }
                let mut chosen = idx[..left as usize].to_vec();
                chosen.sort_unstable();
                chosen.into_iter().for_each(|j| push(out, j as usize));
                left = 0;
            }
        }
    }
}

/// Seconds between the copies of a request repeated to grow a minute past the largest learned.
const REPEAT_GAP: f64 = 0.001;

/// The factor that takes a learned minute's median execution time to `want` (1 where either
/// is not a positive number).
fn exec_scale(want: f32, learned: f32) -> f64 {
    if want > 0.0 && want.is_finite() && learned > 0.0 {
        f64::from(want) / f64::from(learned)
    } else {
        1.0
    }
}

/// The groups a lender is looked for in, closest first: the same trigger and runtime, the
/// same trigger, any function.
fn lender_keys(f: &Function) -> [(String, String); 3] {
    [
        (f.trigger.clone(), f.runtime.clone()),
        (f.trigger.clone(), String::new()),
        (String::new(), String::new()),
    ]
}

/// Every function's learned minutes, a function without rows borrowing another's.
#[derive(Debug, Clone, Default)]
pub struct WithinMinute {
    learned: Vec<LearnedMinutes>,
    /// Each function's index into `learned` (None: no function has rows to borrow).
    of: Vec<Option<u32>>,
    /// Functions that borrow another's minutes.
    pub borrowed: usize,
    /// Functions whose own rows were learned.
    pub own: usize,
}

impl WithinMinute {
    /// Learns from `rows` (the learning days' requests of `functions`, any order) and finds a
    /// lender for every function without rows: the same trigger and runtime (else trigger,
    /// else any) and the nearest mean requests per active minute, `mean_count[f]` being that of
    /// function `f` in the per-minute counts.
    pub fn learn(functions: &[Function], rows: &[Invocation], mean_count: &[f64]) -> Self {
        let mut per: Vec<Vec<Invocation>> = vec![Vec::new(); functions.len()];
        for r in rows {
            if let Some(v) = per.get_mut(r.func as usize) {
                v.push(*r);
            }
        }
        let mut learned = Vec::new();
        let mut of = vec![None; functions.len()];
        for (f, mut v) in per.into_iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            v.sort_by(|a, b| a.t.total_cmp(&b.t));
            of[f] = Some(learned.len() as u32);
            learned.push(LearnedMinutes::learn(&v));
        }
        let own = learned.len();
        // Lenders by (trigger, runtime), then trigger, then all.
        let mut groups: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (f, func) in functions.iter().enumerate() {
            if of[f].is_some() {
                for key in lender_keys(func) {
                    groups.entry(key).or_default().push(f);
                }
            }
        }
        let mut borrowed = 0;
        for f in 0..functions.len() {
            if of[f].is_some() {
                continue;
            }
            let candidates = lender_keys(&functions[f])
                .into_iter()
                .find_map(|k| groups.get(&k));
            let Some(candidates) = candidates else {
                continue;
            };
            let want = mean_count.get(f).copied().unwrap_or(1.0).max(1e-9).ln();
            let lender = candidates
                .iter()
                .min_by(|a, b| {
                    let d = |g: usize| (mean_count[g].max(1e-9).ln() - want).abs();
                    d(**a).total_cmp(&d(**b)).then(a.cmp(b))
                })
                .copied()
                .expect("groups are non-empty");
            of[f] = of[lender];
            borrowed += 1;
        }
        Self {
            learned,
            of,
            borrowed,
            own,
        }
    }

    /// Function `f`'s learned minutes (its own or its lender's), if any.
    pub fn of(&self, f: u32) -> Option<&LearnedMinutes> {
        self.of
            .get(f as usize)
            .copied()
            .flatten()
            .map(|i| &self.learned[i as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(t: f64, exec: f64) -> Invocation {
        Invocation { t, func: 0, exec }
    }

    #[test]
    fn a_timer_at_a_fixed_second_keeps_its_second() {
        // Fires at second 12 of every minute for an hour.
        let rows: Vec<Invocation> = (0..60).map(|m| inv(m as f64 * 60.0 + 12.0, 0.5)).collect();
        let l = LearnedMinutes::learn(&rows);
        assert_eq!(l.minutes.len(), 60);
        let mut out = Vec::new();
        for minute in 1000..1010 {
            l.expand(0, minute, 1, f32::NAN, mix(u64::from(minute)), &mut out);
        }
        assert_eq!(out.len(), 10);
        for (k, i) in out.iter().enumerate() {
            assert!(
                (i.t - ((1000 + k) as f64 * 60.0 + 12.0)).abs() < 1e-4,
                "{i:?}"
            );
            assert_eq!(i.exec, 0.5);
        }
    }

    #[test]
    fn a_burst_stays_a_burst_and_counts_are_met() {
        // Bursts of 5 within 10 ms at second 30; some minutes with 1 request at second 3.
        let mut rows = Vec::new();
        for m in 0..20 {
            let s = m as f64 * 60.0;
            if m % 2 == 0 {
                rows.extend((0..5).map(|j| inv(s + 30.0 + j as f64 * 0.002, 1.0)));
            } else {
                rows.push(inv(s + 3.0, 2.0));
            }
        }
        let l = LearnedMinutes::learn(&rows);
        for (n, want) in [(5u32, 5usize), (1, 1), (3, 3), (12, 12), (7, 7)] {
            let mut out = Vec::new();
            l.expand(0, 500, n, f32::NAN, 42 + u64::from(n), &mut out);
            assert_eq!(out.len(), want, "n = {n}");
            for i in &out {
                let o = i.t - 500.0 * 60.0;
                assert!((0.0..60.0).contains(&o));
            }
        }
        // Exactly 5: the burst, all within 10 ms of second 30.
        let mut out = Vec::new();
        l.expand(0, 500, 5, f32::NAN, 7, &mut out);
        assert!(out.iter().all(|i| (i.t - 30_030.0).abs() < 0.01), "{out:?}");
        // 3 (nearest counts 1 and 5: 5 is 2 away, 1 is 2 away; the larger, thinned): 3 of the
        // burst's requests.
        let mut out = Vec::new();
        l.expand(0, 500, 3, f32::NAN, 9, &mut out);
        assert!(out.iter().all(|i| (i.t - 30_030.0).abs() < 0.01), "{out:?}");
        assert!(l.bursty);
        // 12, more than any learned minute: the burst grows (each request 2 or 3 times, 1 ms
        // apart), it does not become a second burst elsewhere.
        let mut out = Vec::new();
        l.expand(0, 500, 12, f32::NAN, 11, &mut out);
        assert!(out.iter().all(|i| (i.t - 30_030.0).abs() < 0.02), "{out:?}");
        // 2 (nearest 1: one request, then another 1 laid over it): the first in place, the
        // second moved round the minute, not on the same instant.
        let mut out = Vec::new();
        l.expand(0, 500, 2, f32::NAN, 13, &mut out);
        assert_eq!(out.len(), 2);
        let at_3 = out.iter().filter(|i| (i.t - 30_003.0).abs() < 1e-4).count();
        assert_eq!(at_3, 1, "{out:?}");
        assert!(out.iter().all(|i| (30_000.0..30_060.0).contains(&i.t)));
    }

    #[test]
    fn a_spread_function_grows_by_more_minutes_not_by_repeats() {
        // Two requests 20 s apart in each learned minute: no bursts.
        let rows: Vec<Invocation> = (0..10)
            .flat_map(|m| {
                [
                    inv(m as f64 * 60.0 + 5.0, 1.0),
                    inv(m as f64 * 60.0 + 25.0, 1.0),
                ]
            })
            .collect();
        let l = LearnedMinutes::learn(&rows);
        assert!(!l.bursty);
        let mut out = Vec::new();
        l.expand(0, 100, 6, f32::NAN, 3, &mut out);
        assert_eq!(out.len(), 6);
        let mut t: Vec<f64> = out.iter().map(|i| i.t).collect();
        t.sort_by(f64::total_cmp);
        // Three learned minutes laid over each other, two of them shifted: no two requests
        // within a millisecond (a repeat would put them 1 ms apart).
        assert!(t.windows(2).all(|w| w[1] - w[0] > 0.01), "{t:?}");
        assert!(t.iter().all(|x| (6000.0..6060.0).contains(x)));
    }

    #[test]
    fn execution_times_take_the_minutes_median() {
        let rows = vec![inv(1.0, 1.0), inv(2.0, 2.0), inv(3.0, 3.0)];
        let l = LearnedMinutes::learn(&rows);
        let mut out = Vec::new();
        l.expand(0, 10, 3, 4.0, 1, &mut out);
        let e: Vec<f64> = out.iter().map(|i| i.exec).collect();
        assert_eq!(e, vec![2.0, 4.0, 6.0]);
    }

    #[test]
    fn functions_without_rows_borrow_the_nearest_like_them() {
        let mut fs = vec![
            Function::new("a", "TIMER-A"),
            Function::new("b", "APIG-S"),
            Function::new("c", "APIG-S"),
            Function::new("d", "APIG-S"),
            Function::new("e", "OBS-A"),
        ];
        fs[3].runtime = "Java".into();
        let rows = vec![
            Invocation {
                t: 5.0,
                func: 0,
                exec: 1.0,
            },
            Invocation {
                t: 65.0,
                func: 1,
                exec: 1.0,
            },
            Invocation {
                t: 66.0,
                func: 2,
                exec: 1.0,
            },
        ];
        // d is APIG-S but Java: no APIG-S Java lender, so an APIG-S one, the nearest in mean
        // count (b: 1.0, c: 10.0; d: 8.0 -> c). e (OBS) has none of its trigger: any, nearest.
        let mean = [1.0, 1.0, 10.0, 8.0, 1.2];
        let w = WithinMinute::learn(&fs, &rows, &mean);
        assert_eq!((w.own, w.borrowed), (3, 2));
        let off = |f: u32| w.of(f).expect("learned").offsets[0];
        assert_eq!(off(3), 6.0);
        assert_eq!(off(4), 5.0);
    }
}
