//! Cold-start cost under load (the paper's Fig 12 and day 23). A region's pools are sized for
//! their usual demand, not for its peaks: when more cold starts hit a pool in a few minutes
//! than it usually sees, more of them miss its reserved pods and build theirs from scratch,
//! builds take longer, and scheduling contends for the same hosts. So cold-start time rises
//! with the number of cold starts, in phase with the daily cycle, and most on the first
//! working day after the holiday, when a week of low demand has left the pools small.
//!
//! The load is the platform's own: the cold starts per pool and minute that the platform's
//! default policy makes on the workload, with costs free of load (a first replay). A pool's
//! pressure at minute `m` is its cold starts over the [`WINDOW`] minutes up to `m` against
//! their mean over the [`HISTORY`] days before (both plus one, so a quiet pool is not
//! overreacted to); 1 on the first day, which has no history. Both windows look back only, so
//! a replay of the first `n` days sees the same pressures as one of the whole month. How much
//! each region slows under pressure is its profile's `load_alloc` and `load_sched`.

use std::ops::Range;

/// Minutes of cold starts a pool's pressure counts (the current one and those before).
pub const WINDOW: u32 = 10;

/// Days of history a pool's usual demand is the mean over.
pub const HISTORY: u32 = 7;

/// The highest chance of a pool miss under pressure (the region's `load_alloc` sets how fast
/// the chance rises; see [`Pressure::effect`]).
pub const MAX_MISS: f64 = 0.95;

/// What a pool's pressure does to one cold start: its chance of a pool miss, the time of a
/// pod built from scratch, and its scheduling time are multiplied by these.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    pub miss: f64,
    pub build: f64,
    pub scheduling: f64,
}

impl Effect {
    pub const NONE: Effect = Effect {
        miss: 1.0,
        build: 1.0,
        scheduling: 1.0,
    };
}

/// Each pool's pressure per minute, and each function's pool.
#[derive(Debug, Clone)]
pub struct Pressure {
    pool_of: Vec<u16>,
    /// Per pool, per minute from 0: its pressure.
    by_minute: Vec<Vec<f32>>,
    /// The exponents of the pressure on the chance of a miss and on scheduling.
    exponents: (f64, f64),
    /// Per pool, the mean of `pressure ^ exponent` over the cold starts each effect applies
    /// to (miss, build, scheduling): the effects are divided by them, so that the pool's
    /// misses, builds and scheduling time over the replay stay what the profile says and load
    /// only moves them to its busy minutes.
    norm: Vec<[f64; 3]>,
}

impl Pressure {
    /// The pressures of `pools` pools over `days` days from the cold starts `(pool, minute,
    /// built)` of a replay (`built`: a function whose pods are always built from scratch), for
    /// functions whose pool is `pool_of`; a miss and a build go as `pressure ^ exponents.0`,
    /// scheduling as `pressure ^ exponents.1`.
    pub fn from_cold_starts(
        pool_of: Vec<u16>,
        pools: usize,
        days: Range<u32>,
        exponents: (f64, f64),
        cold_starts: impl IntoIterator<Item = (u16, u32, bool)>,
    ) -> Self {
        let minutes = days.end as usize * 1440;
        // Per pool and minute: cold starts, and those of functions built from scratch.
        let mut counts = vec![vec![(0u32, 0u32); minutes]; pools];
        for (p, m, built) in cold_starts {
            if let Some(c) = counts
                .get_mut(p as usize)
                .and_then(|v| v.get_mut(m as usize))
            {
                c.0 += 1;
                c.1 += u32::from(built);
            }
        }
        let by_minute: Vec<Vec<f32>> = counts
            .iter()
            .map(|c| pressures(&c.iter().map(|x| x.0).collect::<Vec<_>>()))
            .collect();
        // Each effect's mean over the cold starts it applies to: a miss to those searched in
        // the pool, a build to those built from scratch, scheduling to all.
        let norm = counts
            .iter()
            .zip(&by_minute)
            .map(|(c, p)| {
                let mean = |weight: fn(&(u32, u32)) -> u32, e: f64| {
                    let n: f64 = c.iter().map(|x| f64::from(weight(x))).sum();
                    if n == 0.0 {
                        return 1.0;
                    }
                    c.iter()
                        .zip(p)
                        .map(|(k, x)| f64::from(weight(k)) * f64::from(*x).powf(e))
                        .sum::<f64>()
                        / n
                };
                [
                    mean(|x| x.0 - x.1, exponents.0),
                    mean(|x| x.1, exponents.0),
                    mean(|x| x.0, exponents.1),
                ]
            })
            .collect();
        Self {
            pool_of,
            by_minute,
            exponents,
            norm,
        }
    }

    /// The pressure on `func`'s pool at time `t` (1 outside the replayed days).
    pub fn at(&self, func: u32, t: f64) -> f64 {
        self.pool_minute(func, t)
            .map_or(1.0, |(p, m)| f64::from(self.by_minute[p][m]))
    }

    /// What the pressure on `func`'s pool at `t` does to a cold start (nothing outside the
    /// replayed days).
    pub fn effect(&self, func: u32, t: f64) -> Effect {
        let Some((p, m)) = self.pool_minute(func, t) else {
            return Effect::NONE;
        };
        let x = f64::from(self.by_minute[p][m]);
        let [miss, build, sched] = self.norm[p];
        let a = x.powf(self.exponents.0);
        Effect {
            miss: a / miss,
            build: a / build,
            scheduling: x.powf(self.exponents.1) / sched,
        }
    }

    fn pool_minute(&self, func: u32, t: f64) -> Option<(usize, usize)> {
        let m = (t / 60.0).floor().max(0.0) as usize;
        let p = *self.pool_of.get(func as usize)? as usize;
        (m < self.by_minute.get(p)?.len()).then_some((p, m))
    }
}

/// One pool's pressure per minute from its cold starts per minute.
fn pressures(counts: &[u32]) -> Vec<f32> {
    let w = WINDOW as usize;
    let day = 1440usize;
    let span = HISTORY as usize * day;
    // Prefix sums: cold starts before minute i.
    let mut before = Vec::with_capacity(counts.len() + 1);
    before.push(0u64);
    for c in counts {
        before.push(before.last().expect("seeded") + u64::from(*c));
    }
    let sum = |a: usize, b: usize| (before[b] - before[a]) as f64;
    (0..counts.len())
        .map(|m| {
            let from = (m + 1).saturating_sub(w);
            let now = sum(from, m + 1);
            // The days before today's first minute, at most HISTORY of them.
            let today = m - m % day;
            if today == 0 {
                return 1.0;
            }
            let start = today.saturating_sub(span);
            let usual = sum(start, today) / (today - start) as f64 * w as f64;
            ((now + 1.0) / (usual + 1.0)) as f32
        })
        .collect()
}

/// The allocation-stage chances `(first, second)` (the rest misses and builds from scratch)
/// of a pool whose usual chances are `p0` and `p1`, its chance of a miss multiplied by
/// `factor` ([`Effect::miss`]).
pub fn stage_chances(p0: f64, p1: f64, factor: f64) -> (f64, f64) {
    let miss = (1.0 - p0 - p1).max(0.0);
    if factor == 1.0 || p0 + p1 <= 0.0 {
        return (p0, p1);
    }
    let m = (miss * factor).min(MAX_MISS.max(miss));
    let keep = (1.0 - m) / (p0 + p1);
    (p0 * keep, p1 * keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_busier_than_its_last_week_is_under_pressure() {
        // Two days: 1 cold start every minute on day 0; on day 1, 4 a minute from minute 600
        // of the day for an hour, else 1.
        let mut c = vec![1u32; 2 * 1440];
        c[1440 + 600..1440 + 660].fill(4);
        let p = pressures(&c);
        // Day 0: no history.
        assert!(p[..1440].iter().all(|x| *x == 1.0));
        // Day 1 before the burst: 10 in the window against a usual 10: (10+1)/(10+1).
        assert!((p[1440 + 300] - 1.0).abs() < 1e-6);
        // Ten minutes into the burst: 40 against 10: 41 / 11.
        assert!(
            (p[1440 + 609] - 41.0 / 11.0).abs() < 1e-6,
            "{}",
            p[1440 + 609]
        );
        // Five minutes in: 5 x 4 + 5 x 1 = 25 against 10.
        assert!((p[1440 + 604] - 26.0 / 11.0).abs() < 1e-6);
    }

    #[test]
    fn pressure_moves_chances_from_the_pool_to_scratch() {
        let (a, b) = stage_chances(0.6, 0.3, 1.0);
        assert_eq!((a, b), (0.6, 0.3));
        // Miss 0.1 -> 0.3 at a factor of 3; the rest 0.7 split 2:1.
        let (a, b) = stage_chances(0.6, 0.3, 3.0);
        assert!((a - 0.7 * 2.0 / 3.0).abs() < 1e-12 && (b - 0.7 / 3.0).abs() < 1e-12);
        // Bounded: never more than 95 % misses.
        let (a, b) = stage_chances(0.6, 0.3, 100.0);
        assert!((1.0 - a - b - MAX_MISS).abs() < 1e-12);
        // Under 1: fewer misses than usual.
        let (a, b) = stage_chances(0.6, 0.3, 0.5);
        assert!((1.0 - a - b - 0.05).abs() < 1e-12);
    }
}

#[cfg(test)]
mod effect_tests {
    use super::*;

    #[test]
    fn effects_average_out_over_a_pools_cold_starts() {
        // One pool, two days: 1 cold start a minute, 5 a minute for an hour of day 1; function
        // 1, built from scratch, once a minute in the calm first 300 minutes of day 1.
        let mut cs = Vec::new();
        for m in 0..2 * 1440u32 {
            let n = if (1440 + 600..1440 + 660).contains(&m) {
                5
            } else {
                1
            };
            cs.extend(std::iter::repeat_n((0u16, m, false), n));
            if (1440..1440 + 300).contains(&m) {
                cs.push((0, m, true));
            }
        }
        let p = Pressure::from_cold_starts(vec![0, 0], 1, 0..2, (2.0, 1.0), cs.iter().copied());
        // Each effect's mean over the cold starts it applies to is 1.
        let (mut miss, mut build, mut sched) = (0.0, 0.0, 0.0);
        let (mut searched, mut built) = (0.0, 0.0);
        for (_, m, b) in &cs {
            let e = p.effect(u32::from(*b), f64::from(*m) * 60.0 + 1.0);
            sched += e.scheduling;
            if *b {
                build += e.build;
                built += 1.0;
            } else {
                miss += e.miss;
                searched += 1.0;
            }
        }
        let n = cs.len() as f64;
        assert!((miss / searched - 1.0).abs() < 1e-9, "{}", miss / searched);
        assert!((build / built - 1.0).abs() < 1e-9, "{}", build / built);
        assert!((sched / n - 1.0).abs() < 1e-9);
        // The builds come at calm minutes: there their effect is about 1, not below.
        assert!(p.effect(1, (1440.0 + 100.0) * 60.0).build > 0.9);
        // Inside the burst the effect is largest; on day 0 it is below 1 (its minutes were
        // never under pressure, and the month's mean is above 1).
        let burst = p.effect(0, (1440.0 + 650.0) * 60.0);
        let calm = p.effect(0, 100.0 * 60.0);
        assert!(burst.miss > 2.0 && calm.miss < 1.0, "{burst:?} {calm:?}");
        assert!(burst.scheduling > calm.scheduling && burst.miss > burst.scheduling);
        // Past the replayed days, or for a function without a pool: no effect.
        assert_eq!(p.effect(0, 3.0 * 86_400.0), Effect::NONE);
        assert_eq!(p.effect(7, 60.0), Effect::NONE);
    }
}
