//! Cold-start cost under load (the paper's Fig 12 and day 23). A region's pools are sized for
//! their usual demand, not for its peaks: when more cold starts hit a pool in a few minutes
//! than it usually sees, more of them miss its reserved pods and build theirs from scratch,
//! and builds take longer; and when more cold starts land on a cluster, their pods contend for
//! its hosts, so deploying their code and dependencies and scheduling them slow down. So cold-start time rises with the number of cold starts, in
//! phase with the daily cycle, and most on the first working day after the holiday, when a
//! week of low demand has left the pools small.
//!
//! The load is the platform's own: the cold starts per pool, per cluster and per minute that
//! the platform's default policy makes on the workload, with costs free of load (a first
//! replay). A group's (pool's or cluster's) pressure at minute `m` is its cold starts over the
//! minutes up to `m` (a pool's [`WINDOW`], a cluster's [`HOST_WINDOW`]) against their mean
//! over the [`HISTORY`] days before (both plus one, so a quiet group is not overreacted to); 1
//! on the first day, which has no history.
//! Both windows look back only, so a replay of the first `n` days sees the same pressures as
//! one of the whole month. How much each region slows under pressure is its profile's
//! `load_alloc` (misses and builds, by the pool's pressure) and `load_host` (the steps on the
//! host: code and dependency deployment and scheduling, by the cluster's).

use std::ops::Range;

/// Minutes of cold starts a pool's pressure counts (the current one and those before): a pool
/// drains over minutes and refills as slowly.
pub const WINDOW: u32 = 10;

/// Minutes of cold starts a cluster's pressure counts: pods contend for hosts with those
/// placed at the same time, so the host's steps feel the current minute only.
pub const HOST_WINDOW: u32 = 1;

/// Days of history a group's usual demand is the mean over.
pub const HISTORY: u32 = 7;

/// The highest chance of a pool miss under pressure (the region's `load_alloc` sets how fast
/// the chance rises; see [`Pressure::effect`]).
pub const MAX_MISS: f64 = 0.95;

/// What pressure does to one cold start: its chance of a pool miss, the time of a pod built
/// from scratch (both by its pool's pressure), and the time of its steps on the host (code
/// and dependency deployment, scheduling; by its cluster's) are multiplied by these.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    pub miss: f64,
    pub build: f64,
    pub host: f64,
}

impl Effect {
    pub const NONE: Effect = Effect {
        miss: 1.0,
        build: 1.0,
        host: 1.0,
    };
}

/// One cold start of the first replay: the pool and cluster of its function, its minute, and
/// whether its function's pods are always built from scratch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColdStartAt {
    pub pool: u16,
    pub cluster: u16,
    pub minute: u32,
    pub built: bool,
}

/// Each pool's and each cluster's pressure per minute, and each function's pool and cluster.
#[derive(Debug, Clone)]
pub struct Pressure {
    /// Per function: its pool and its cluster.
    group_of: Vec<(u16, u16)>,
    /// Per pool, per minute from 0: its pressure.
    pools: Vec<Vec<f32>>,
    /// Per cluster, per minute from 0: its pressure.
    clusters: Vec<Vec<f32>>,
    /// The exponents of the pressure on the chance of a miss and on the host's steps.
    exponents: (f64, f64),
    /// Per pool, the mean of `pressure ^ exponent` over the cold starts each of its effects
    /// applies to (miss, build); per cluster, over all its cold starts (host). The effects are
    /// divided by them, so that a group's misses, builds and host steps' time over
    /// the replay stay what the profile says and load only moves them to its busy minutes.
    pool_norm: Vec<[f64; 2]>,
    cluster_norm: Vec<f64>,
}

impl Pressure {
    /// The pressures over `days` days from the cold starts of a replay, for functions whose
    /// pool and cluster are `group_of`; a miss and a build go as `pressure ^ exponents.0` of
    /// the pool's pressure, the host's steps as `pressure ^ exponents.1` of the cluster's.
    /// `usual_miss` is the region's chance of a pool miss over a month (its profile's); a
    /// minute's chance is capped at [`MAX_MISS`], and the cap is counted when the misses are
    /// kept at `usual_miss` over the replay (see [`capped_norm`]).
    pub fn from_cold_starts(
        group_of: Vec<(u16, u16)>,
        days: Range<u32>,
        exponents: (f64, f64),
        usual_miss: f64,
        cold_starts: &[ColdStartAt],
    ) -> Self {
        let minutes = days.end as usize * 1440;
        let pools = group_of.iter().map(|g| g.0 as usize + 1).max().unwrap_or(0);
        let clusters = group_of.iter().map(|g| g.1 as usize + 1).max().unwrap_or(0);
        // Per pool and minute: cold starts, and those of functions built from scratch; per
        // cluster and minute: cold starts.
        let mut by_pool = vec![vec![(0u32, 0u32); minutes]; pools];
        let mut by_cluster = vec![vec![0u32; minutes]; clusters];
        for c in cold_starts {
            if let Some(x) = by_pool
                .get_mut(c.pool as usize)
                .and_then(|v| v.get_mut(c.minute as usize))
            {
                x.0 += 1;
                x.1 += u32::from(c.built);
            }
            if let Some(x) = by_cluster
                .get_mut(c.cluster as usize)
                .and_then(|v| v.get_mut(c.minute as usize))
            {
                *x += 1;
            }
        }
        let pool_pressure: Vec<Vec<f32>> = by_pool
            .iter()
            .map(|c| pressures(&c.iter().map(|x| x.0).collect::<Vec<_>>(), WINDOW))
            .collect();
        let cluster_pressure: Vec<Vec<f32>> = by_cluster
            .iter()
            .map(|c| pressures(c, HOST_WINDOW))
            .collect();
        // Each effect's mean over the cold starts it applies to: a miss to those searched in
        // the pool, a build to those built from scratch, the host's steps to all of the
        // cluster's.
        let pool_norm = by_pool
            .iter()
            .zip(&pool_pressure)
            .map(|(c, p)| {
                [
                    capped_norm(c.iter().map(|x| x.0 - x.1), p, exponents.0, usual_miss),
                    weighted_mean(c.iter().map(|x| x.1), p, exponents.0),
                ]
            })
            .collect();
        let cluster_norm = by_cluster
            .iter()
            .zip(&cluster_pressure)
            .map(|(c, p)| weighted_mean(c.iter().copied(), p, exponents.1))
            .collect();
        Self {
            group_of,
            pools: pool_pressure,
            clusters: cluster_pressure,
            exponents,
            pool_norm,
            cluster_norm,
        }
    }

    /// What the pressure on `func`'s pool and cluster at `t` does to a cold start (nothing
    /// outside the replayed days or for a function the replay did not know).
    pub fn effect(&self, func: u32, t: f64) -> Effect {
        let Some(&(pool, cluster)) = self.group_of.get(func as usize) else {
            return Effect::NONE;
        };
        let m = (t / 60.0).floor().max(0.0) as usize;
        let (pool, cluster) = (pool as usize, cluster as usize);
        let (Some(x), Some(y)) = (
            self.pools.get(pool).and_then(|v| v.get(m)),
            self.clusters.get(cluster).and_then(|v| v.get(m)),
        ) else {
            return Effect::NONE;
        };
        let [miss, build] = self.pool_norm[pool];
        let a = f64::from(*x).powf(self.exponents.0);
        Effect {
            miss: a / miss,
            build: a / build,
            host: f64::from(*y).powf(self.exponents.1) / self.cluster_norm[cluster],
        }
    }
}

/// The mean of `pressure ^ e` over a group's minutes, each weighted by its cold starts
/// `weights` (1 where there are none).
fn weighted_mean(weights: impl Iterator<Item = u32>, pressure: &[f32], e: f64) -> f64 {
    let (mut n, mut sum) = (0.0, 0.0);
    for (w, x) in weights.zip(pressure) {
        n += f64::from(w);
        sum += f64::from(w) * f64::from(*x).powf(e);
    }
    if n == 0.0 {
        1.0
    } else {
        sum / n
    }
}

/// The divisor `n` of a pool's `pressure ^ e` that keeps its chance of a miss, `usual_miss`
/// times `pressure ^ e / n` capped at [`MAX_MISS`] in each minute, at `usual_miss` over the
/// cold starts `weights` it applies to. Without the cap it is their mean of `pressure ^ e`
/// ([`weighted_mean`]); with it, the minutes of a storm (hundreds of timers at midnight, at a
/// pressure of 50 or more) count as the misses they can make, not as `pressure ^ e`, which
/// would otherwise set the divisor alone and leave the rest of the day without an effect.
fn capped_norm(
    weights: impl Iterator<Item = u32>,
    pressure: &[f32],
    e: f64,
    usual_miss: f64,
) -> f64 {
    let pairs: Vec<(f64, f64)> = weights
        .zip(pressure)
        .filter(|(w, _)| *w > 0)
        .map(|(w, x)| (f64::from(w), f64::from(*x).powf(e)))
        .collect();
    let n: f64 = pairs.iter().map(|p| p.0).sum();
    if n == 0.0 {
        return 1.0;
    }
    let mean = pairs.iter().map(|(w, a)| w * a).sum::<f64>() / n;
    if usual_miss <= 0.0 || usual_miss >= MAX_MISS || mean.is_nan() || mean <= 0.0 {
        return mean.max(f64::MIN_POSITIVE);
    }
    let misses = |d: f64| {
        pairs
            .iter()
            .map(|(w, a)| w * miss_chance(usual_miss, a / d))
            .sum::<f64>()
            / n
    };
    // misses() falls as the divisor rises; at the mean it is at most usual_miss (the cap only
    // takes away), so the divisor lies below the mean: bisect on its logarithm.
    let (mut lo, mut hi) = ((mean * 1e-12).ln(), mean.ln());
    if misses(mean) >= usual_miss * (1.0 - 1e-9) {
        return mean;
    }
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if misses(mid.exp()) > usual_miss {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// One group's pressure per minute from its cold starts per minute, over a window of `window`
/// minutes.
fn pressures(counts: &[u32], window: u32) -> Vec<f32> {
    let w = window as usize;
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

/// A minute's chance of a pool miss: the usual chance `miss` times the pressure's `factor`,
/// at most [`MAX_MISS`] (or `miss` itself where that is higher).
fn miss_chance(miss: f64, factor: f64) -> f64 {
    (miss * factor).min(MAX_MISS.max(miss))
}

/// The allocation-stage chances `(first, second)` (the rest misses and builds from scratch)
/// of a pool whose usual chances are `p0` and `p1`, its chance of a miss multiplied by
/// `factor` ([`Effect::miss`]).
pub fn stage_chances(p0: f64, p1: f64, factor: f64) -> (f64, f64) {
    let miss = (1.0 - p0 - p1).max(0.0);
    if factor == 1.0 || p0 + p1 <= 0.0 {
        return (p0, p1);
    }
    let m = miss_chance(miss, factor);
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
        let p = pressures(&c, WINDOW);
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
    fn a_storm_counts_as_the_misses_it_can_make() {
        // 1,000 cold starts in calm minutes (pressure 1) and 10 in a storm (pressure 100);
        // exponent 2, a usual miss of 0.1. Uncapped, the storm sets the divisor: the mean of
        // pressure^2 is (1,000 + 10 x 10,000) / 1,010 = 100, and a calm minute's chance falls
        // to 0.1 / 100. Capped at 0.95, the storm makes 9.5 misses, so the calm minutes make
        // 101 - 9.5 = 91.5: a divisor of 100 / 91.5.
        let mut w = vec![1u32; 1000];
        w.push(10);
        let mut p = vec![1.0f32; 1000];
        p.push(100.0);
        let uncapped = weighted_mean(w.iter().copied(), &p, 2.0);
        assert!((uncapped - 100.0).abs() < 1e-9, "{uncapped}");
        let d = capped_norm(w.iter().copied(), &p, 2.0, 0.1);
        assert!((d - 100.0 / 91.5).abs() < 1e-9, "{d}");
        // The misses over the cold starts stay the usual 0.1.
        let misses: f64 = w
            .iter()
            .zip(&p)
            .map(|(n, x)| f64::from(*n) * (0.1 * f64::from(*x).powi(2) / d).min(MAX_MISS))
            .sum();
        assert!((misses / 1010.0 - 0.1).abs() < 1e-9);
        // Where nothing reaches the cap, it is the mean.
        let p2 = vec![1.0f32, 2.0];
        let d2 = capped_norm([3u32, 1].into_iter(), &p2, 1.0, 0.1);
        assert!((d2 - 5.0 / 4.0).abs() < 1e-12, "{d2}");
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

    /// `n` cold starts of `pool` and `cluster` at minute `minute`.
    fn at(pool: u16, cluster: u16, minute: u32, built: bool, n: usize) -> Vec<ColdStartAt> {
        let c = ColdStartAt {
            pool,
            cluster,
            minute,
            built,
        };
        vec![c; n]
    }

    #[test]
    fn effects_average_out_over_a_pools_cold_starts() {
        // One pool, one cluster, two days: 1 cold start a minute, 5 a minute for an hour of
        // day 1; function 1, built from scratch, once a minute in the calm first 300 minutes
        // of day 1.
        let mut cs = Vec::new();
        for m in 0..2 * 1440u32 {
            let n = if (1440 + 600..1440 + 660).contains(&m) {
                5
            } else {
                1
            };
            cs.extend(at(0, 0, m, false, n));
            if (1440..1440 + 300).contains(&m) {
                cs.extend(at(0, 0, m, true, 1));
            }
        }
        let p = Pressure::from_cold_starts(vec![(0, 0), (0, 0)], 0..2, (2.0, 1.0), 0.0, &cs);
        // Each effect's mean over the cold starts it applies to is 1.
        let (mut miss, mut build, mut sched) = (0.0, 0.0, 0.0);
        let (mut searched, mut built) = (0.0, 0.0);
        for c in &cs {
            let e = p.effect(u32::from(c.built), f64::from(c.minute) * 60.0 + 1.0);
            sched += e.host;
            if c.built {
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
        assert!(burst.host > calm.host && burst.miss > burst.host);
        // Past the replayed days, or for a function without a pool: no effect.
        assert_eq!(p.effect(0, 3.0 * 86_400.0), Effect::NONE);
        assert_eq!(p.effect(7, 60.0), Effect::NONE);
    }

    #[test]
    fn the_host_follows_the_cluster_and_misses_the_pool() {
        // Two pools on one cluster, two days of 1 cold start a minute each; on day 1 pool 1
        // gets 9 more a minute for an hour. Function 0 is on pool 0, function 1 on pool 1.
        let mut cs = Vec::new();
        for m in 0..2 * 1440u32 {
            cs.extend(at(0, 0, m, false, 1));
            let burst = (1440 + 600..1440 + 660).contains(&m);
            cs.extend(at(1, 0, m, false, if burst { 10 } else { 1 }));
        }
        let p = Pressure::from_cold_starts(vec![(0, 0), (1, 0)], 0..2, (1.0, 1.0), 0.0, &cs);
        let t = (1440.0 + 650.0) * 60.0;
        let (quiet, busy) = (p.effect(0, t), p.effect(1, t));
        // Pool 0 is as usual (pressure 1): its misses are not raised; pool 1's are.
        let usual = p.effect(0, (1440.0 + 100.0) * 60.0);
        assert!(
            (quiet.miss - usual.miss).abs() < 1e-9,
            "{quiet:?} {usual:?}"
        );
        assert!(busy.miss > 3.0 * quiet.miss, "{busy:?} {quiet:?}");
        // Both share the cluster: the same effect on the host's steps, raised by the burst. In a minute
        // of it the cluster places 11 pods against a usual 2: pressure 12 / 3.
        assert_eq!(quiet.host, busy.host);
        let ratio = quiet.host / usual.host;
        assert!((ratio - 12.0 / 3.0).abs() < 1e-3, "{ratio}");
    }
}
