//! What `synth` measures of each region as it writes it, for its summary and checks.

use super::*;
use crate::correlation::spearman_rho;

/// Collects what the calibration checks need, as the days go by.
pub(super) struct Accumulator {
    /// Cold start times in small pools and in large ones; when each cold start came (seconds).
    totals_small: Vec<f32>,
    totals_large: Vec<f32>,
    times: Vec<f64>,
    sum_total: f64,
    sum_components: [f64; 4],
    runtimes: Vec<&'static str>,
    triggers: Vec<String>,
    func_runtime: Vec<usize>,
    func_trigger: Vec<usize>,
    /// Cold start times per runtime and per trigger.
    totals_by_runtime: Vec<Vec<f32>>,
    totals_by_trigger: Vec<Vec<f32>>,
    /// Pod utility ratios per runtime and per trigger.
    utilities: Vec<Vec<f32>>,
    trigger_utilities: Vec<Vec<f32>>,
    /// Pod-minutes and days per day kind (weekday, weekend, holiday); timers' pod-minutes.
    pod_minutes: [u64; 3],
    days: [u32; 3],
    /// Whether each function had a pod whose utility was measured.
    with_pods: Vec<bool>,
    timer_pod_minutes: u64,
    is_timer: Vec<bool>,
    /// Requests in each minute of the day, summed over the days.
    minute_requests: Vec<u64>,
    /// Pod-minutes per primary trigger; requests by execution time.
    trigger_pod_minutes: Vec<u64>,
    exec_histogram: Vec<u64>,
    /// Per minute of the release: cold starts, and the sums of their total, allocation and
    /// scheduling times (Fig 12, day 23).
    per_minute: Vec<(u32, f64, f64, f64)>,
}

pub(super) fn kind_index(day: u32) -> usize {
    match day_kind(day) {
        DayKind::Weekday => 0,
        DayKind::Weekend => 1,
        DayKind::Holiday => 2,
    }
}

pub(super) fn share_below(v: &[f32], x: f32) -> f64 {
    v.iter().filter(|u| **u < x).count() as f64 / v.len().max(1) as f64
}

pub(super) fn group_utilities<S: ToString>(
    names: &[S],
    utilities: &[Vec<f32>],
    functions: &[u64],
) -> Vec<GroupUtility> {
    names
        .iter()
        .zip(utilities)
        .zip(functions)
        .map(|((g, v), n)| GroupUtility {
            group: g.to_string(),
            pods: v.len() as u64,
            functions: *n,
            below_1: share_below(v, 1.0),
            above_100: 1.0 - share_below(v, 100.0),
        })
        .collect()
}

pub(super) fn median_of(v: &mut [f32]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable_by(f32::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    }
}

/// The hour of day (0 to 24) at which requests per minute peak: the largest value of their
/// centred moving average over `window` minutes, taken around the clock (Fig 5 smooths over
/// 15 minutes). NaN without requests.
pub(crate) fn peak_hour(per_minute: &[u64], window: usize) -> f64 {
    let n = per_minute.len();
    if n == 0 || per_minute.iter().all(|v| *v == 0) {
        return f64::NAN;
    }
    let half = window / 2;
    let mut best = (0, f64::NEG_INFINITY);
    for m in 0..n {
        let sum: u64 = (0..window)
            .map(|k| per_minute[(m + n + k - half) % n])
            .sum();
        let v = sum as f64;
        if v > best.1 {
            best = (m, v);
        }
    }
    (best.0 as f64 + 0.5) * 24.0 / n as f64
}

/// Shares of functions by their set of triggers ("APIG-S+TIMER-A"), largest first.
pub(crate) fn trigger_combinations(specs: &[FunctionSpec]) -> Vec<(String, f64)> {
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    for s in specs {
        let mut set: Vec<String> = s.triggers.iter().map(|(t, i)| format!("{t}-{i}")).collect();
        set.sort();
        set.dedup();
        *counts.entry(set.join("+")).or_default() += 1;
    }
    let n = specs.len().max(1) as f64;
    let mut out: Vec<(String, f64)> = counts.into_iter().map(|(k, c)| (k, c as f64 / n)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

impl Accumulator {
    /// A group's requests per minute of one day, and its function-minutes by mean execution
    /// time.
    pub(super) fn add_requests(&mut self, minutes: &[u64], exec_histogram: &[u64]) {
        for (a, m) in self.minute_requests.iter_mut().zip(minutes) {
            *a += m;
        }
        for (a, c) in self.exec_histogram.iter_mut().zip(exec_histogram) {
            *a += c;
        }
    }

    pub(super) fn new(specs: &[FunctionSpec], days: u32) -> Self {
        let mut runtimes: Vec<&'static str> = specs.iter().map(|s| s.runtime).collect();
        runtimes.sort();
        runtimes.dedup();
        let mut triggers: Vec<String> = specs.iter().map(FunctionSpec::primary_trigger).collect();
        triggers.sort();
        triggers.dedup();
        let func_runtime = specs
            .iter()
            .map(|s| {
                runtimes
                    .iter()
                    .position(|r| *r == s.runtime)
                    .expect("listed")
            })
            .collect();
        let func_trigger = specs
            .iter()
            .map(|s| {
                let t = s.primary_trigger();
                triggers.iter().position(|x| *x == t).expect("listed")
            })
            .collect();
        let trigger_count = triggers.len();
        let mut day_counts = [0u32; 3];
        for d in 0..days {
            day_counts[kind_index(d)] += 1;
        }
        Self {
            totals_small: Vec::new(),
            totals_large: Vec::new(),
            times: Vec::new(),
            sum_total: 0.0,
            sum_components: [0.0; 4],
            totals_by_runtime: vec![Vec::new(); runtimes.len()],
            totals_by_trigger: vec![Vec::new(); triggers.len()],
            utilities: vec![Vec::new(); runtimes.len()],
            trigger_utilities: vec![Vec::new(); triggers.len()],
            runtimes,
            triggers,
            func_runtime,
            func_trigger,
            pod_minutes: [0; 3],
            days: day_counts,
            timer_pod_minutes: 0,
            with_pods: vec![false; specs.len()],
            minute_requests: vec![0; 1440],
            trigger_pod_minutes: vec![0; trigger_count],
            exec_histogram: vec![0; crate::release::EXEC_BINS],
            is_timer: specs.iter().map(|s| s.triggers[0].0 == "TIMER").collect(),
            per_minute: vec![(0, 0.0, 0.0, 0.0); days as usize * 1440],
        }
    }

    pub(super) fn add(&mut self, specs: &[FunctionSpec], cold: &[ColdStart]) {
        for c in cold {
            let f = c.func as usize;
            let total = c.costs[0] as f32;
            self.sum_total += c.costs[0];
            for k in 0..4 {
                self.sum_components[k] += c.costs[k + 1];
            }
            if specs[f].is_small_pool() {
                self.totals_small.push(total);
            } else {
                self.totals_large.push(total);
            }
            self.times.push(c.time);
            self.totals_by_runtime[self.func_runtime[f]].push(total);
            self.totals_by_trigger[self.func_trigger[f]].push(total);
            let m = (c.time / 60.0).floor().max(0.0) as usize;
            if let Some(x) = self.per_minute.get_mut(m) {
                x.0 += 1;
                x.1 += c.costs[0];
                x.2 += c.costs[1];
                x.3 += c.costs[4];
            }
        }
    }

    /// One function's pod-minutes of one day.
    pub(super) fn add_pods(&mut self, func: u32, day: u32, pod_minutes: u64) {
        self.pod_minutes[kind_index(day)] += pod_minutes;
        self.trigger_pod_minutes[self.func_trigger[func as usize]] += pod_minutes;
        if self.is_timer[func as usize] {
            self.timer_pod_minutes += pod_minutes;
        }
    }

    /// Utility ratios of one function's pods.
    pub(super) fn add_utilities(&mut self, func: u32, utilities: &[f32]) {
        let f = func as usize;
        self.with_pods[f] |= !utilities.is_empty();
        self.utilities[self.func_runtime[f]].extend_from_slice(utilities);
        self.trigger_utilities[self.func_trigger[f]].extend_from_slice(utilities);
    }

    pub(super) fn finish(
        self,
        region: &str,
        specs: &[FunctionSpec],
    ) -> (RegionMeasures, Vec<f32>, f64) {
        let mut runtime_functions = vec![0u64; self.runtimes.len()];
        let mut trigger_functions = vec![0u64; self.triggers.len()];
        for (f, _) in self.with_pods.iter().enumerate().filter(|(_, p)| **p) {
            runtime_functions[self.func_runtime[f]] += 1;
            trigger_functions[self.func_trigger[f]] += 1;
        }
        let (mut small, mut large) = (self.totals_small, self.totals_large);
        let small_cold_starts = small.len();
        let large_over_small_median = median_of(&mut large) / median_of(&mut small);
        let mut sorted = small;
        sorted.append(&mut large);
        let n = sorted.len() as u64;
        let median = median_of(&mut sorted);
        let median_inter_arrival_s = median_gap(self.times);
        let nf = n.max(1) as f64;
        let timers = self.is_timer.iter().filter(|t| **t).count();
        let share_of = |prefix: &str| {
            self.triggers
                .iter()
                .zip(&self.totals_by_trigger)
                .filter(|(t, _)| t.starts_with(prefix))
                .map(|(_, v)| v.len())
                .sum::<usize>() as f64
                / nf
        };
        let mut all_utilities: Vec<f32> = self.utilities.iter().flatten().copied().collect();
        let utility_below_1 = share_below(&all_utilities, 1.0);
        let pods_total: u64 = self.pod_minutes.iter().sum();
        let per_day = |k: usize| {
            if self.days[k] == 0 {
                f64::NAN
            } else {
                self.pod_minutes[k] as f64 / f64::from(self.days[k])
            }
        };
        let m = RegionMeasures {
            region: region.to_owned(),
            functions: specs.len() as u64,
            cold_starts: n,
            median,
            mean: self.sum_total / nf,
            mean_components: self.sum_components.map(|s| s / nf),
            small_pool_share: small_cold_starts as f64 / nf,
            timer_function_share: timers as f64 / specs.len().max(1) as f64,
            timer_cold_start_share: share_of("TIMER"),
            workflow_cold_start_share: share_of("workflow"),
            timer_pod_share: self.timer_pod_minutes as f64 / pods_total.max(1) as f64,
            pod_minutes_per_day: [per_day(0), per_day(1), per_day(2)],
            peak_hour: peak_hour(
                &self.minute_requests,
                coldstart_trace::paper::FIG5_SMOOTHING_MINUTES,
            ),
            median_exec_s: crate::release::exec_median(&self.exec_histogram),
            pod_share_by_trigger: self
                .triggers
                .iter()
                .zip(&self.trigger_pod_minutes)
                .map(|(t, p)| (t.clone(), *p as f64 / pods_total.max(1) as f64))
                .collect(),
            trigger_combinations: trigger_combinations(specs),
            utility_below_1,
            utility_median: median_of(&mut all_utilities),
            utility_pods: all_utilities.len() as u64,
            by_runtime: self
                .runtimes
                .iter()
                .zip(&self.totals_by_runtime)
                .map(|(r, v)| (r.to_string(), v.len() as u64))
                .collect(),
            median_by_runtime: self
                .runtimes
                .iter()
                .zip(self.totals_by_runtime)
                .map(|(r, mut v)| (r.to_string(), median_of(&mut v)))
                .collect(),
            utility_by_runtime: group_utilities(
                &self.runtimes,
                &self.utilities,
                &runtime_functions,
            ),
            utility_by_trigger: group_utilities(
                &self.triggers,
                &self.trigger_utilities,
                &trigger_functions,
            ),
            by_trigger: self
                .triggers
                .iter()
                .zip(&self.totals_by_trigger)
                .map(|(t, v)| (t.clone(), v.len() as u64))
                .collect(),
            median_by_trigger: self
                .triggers
                .into_iter()
                .zip(self.totals_by_trigger)
                .map(|(t, mut v)| (t, median_of(&mut v)))
                .collect(),
            fig12: fig12(&self.per_minute),
            day23_ratio: day23_ratio(&self.per_minute),
            large_over_small_median,
            median_inter_arrival_s,
            ..Default::default()
        };
        (m, sorted, self.sum_total)
    }
}

/// The median time between consecutive cold starts (gaps of simultaneous ones are 0 s), as
/// the report's Fig 10c takes it; NaN with fewer than two.
fn median_gap(mut times: Vec<f64>) -> f64 {
    times.sort_unstable_by(f64::total_cmp);
    let mut gaps: Vec<f32> = times.windows(2).map(|w| (w[1] - w[0]) as f32).collect();
    median_of(&mut gaps)
}

/// Per region, from each function's (owner, requests): the share of users that own a single
/// function, and of users whose functions took more than 1,000 requests.
pub(super) fn user_shares(functions: impl Iterator<Item = (i64, u64)>) -> (f64, f64) {
    let mut users: std::collections::HashMap<i64, (u32, u64)> = Default::default();
    for (user, n) in functions {
        let u = users.entry(user).or_default();
        u.0 += 1;
        u.1 += n;
    }
    let all = users.len().max(1) as f64;
    let single = users.values().filter(|u| u.0 == 1).count() as f64 / all;
    let over = users.values().filter(|u| u.1 > 1000).count() as f64 / all;
    (single, over)
}

/// Fig 12's last row: Spearman's rho of the number of cold starts per minute with their mean
/// total, allocation and scheduling times, over the minutes with a cold start.
fn fig12(per_minute: &[(u32, f64, f64, f64)]) -> [f64; 3] {
    let busy: Vec<_> = per_minute.iter().filter(|m| m.0 > 0).collect();
    let n: Vec<f64> = busy.iter().map(|m| f64::from(m.0)).collect();
    let mean = |f: fn(&(u32, f64, f64, f64)) -> f64| -> Vec<f64> {
        busy.iter().map(|m| f(m) / f64::from(m.0)).collect()
    };
    [
        spearman_rho(&n, &mean(|m| m.1)),
        spearman_rho(&n, &mean(|m| m.2)),
        spearman_rho(&n, &mean(|m| m.3)),
    ]
}

/// The mean cold-start time on day 23, the first working day after the holiday, over its mean
/// on the working days before the holiday (NaN where the release lacks either).
fn day23_ratio(per_minute: &[(u32, f64, f64, f64)]) -> f64 {
    let mean = |days: &mut dyn Iterator<Item = u32>| {
        let (mut n, mut sum) = (0u64, 0.0);
        for d in days {
            for m in per_minute.iter().skip(d as usize * 1440).take(1440) {
                n += u64::from(m.0);
                sum += m.1;
            }
        }
        sum / n as f64
    };
    let first = *coldstart_trace::paper::HOLIDAY.start();
    let after = first + coldstart_trace::paper::HOLIDAY.clone().count() as u32;
    let before = mean(&mut (0..first).filter(|d| kind_index(*d) == 0));
    mean(&mut std::iter::once(after)) / before
}

#[cfg(test)]
mod tests {
    use super::{median_gap, peak_hour, user_shares};

    #[test]
    fn gaps_and_users_by_hand() {
        // Cold starts at 0, 0, 1, 4, 4.5 s (given out of order): gaps 0, 1, 3, 0.5, whose
        // median is 0.75.
        assert_eq!(median_gap(vec![4.0, 0.0, 1.0, 0.0, 4.5]), 0.75);
        assert!(median_gap(vec![3.0]).is_nan());
        // Users 1 (one function, 1,001 requests), 2 (two: 600 + 500) and 3 (one: 1,000):
        // two of three own a single function; users 1 and 2 are above 1,000.
        let (single, over) = user_shares([(1, 1001), (2, 600), (3, 1000), (2, 500)].into_iter());
        assert!((single - 2.0 / 3.0).abs() < 1e-12 && (over - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_peak_hour_is_the_smoothed_maximum_around_the_clock() {
        let mut v = vec![10u64; 1440];
        // One tall minute at 03:00 loses to a 15-minute swell centred on 21:00.
        v[180] = 100;
        v[1253..1268].fill(20);
        assert!(
            (peak_hour(&v, 15) - 21.0083).abs() < 1e-3,
            "{}",
            peak_hour(&v, 15)
        );
        // Unsmoothed, the single minute wins: the midpoint of minute 180.
        assert!((peak_hour(&v, 1) - 3.0083).abs() < 1e-3);
        // A swell across midnight is found there.
        let mut w = vec![1u64; 1440];
        w[1435..].fill(5);
        w[..10].fill(5);
        assert!(peak_hour(&w, 15) < 0.1, "{}", peak_hour(&w, 15));
        assert!(peak_hour(&[0; 1440], 15).is_nan());
    }
}
