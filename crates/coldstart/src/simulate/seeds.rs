//! `--seeds N`: the replay repeated with the workload's random parts seeded S, S+1, ... (the
//! synthetic model, the spreading of per-minute counts within their minutes, the draws of
//! cold-start costs), and each policy's every metric summarised over the seeds as its mean and
//! 95 % interval (Student's t with N - 1 degrees of freedom), kept inside the metric's range
//! (0 up; a share of a whole up to 100 %).

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::table::{Col, Table};

/// Summary columns that measure the run, not the policy (left out of the intervals).
const NOT_RESULTS: [&str; 2] = ["sim_seconds", "invocations_per_s"];

/// Shares of a whole, in percent: their intervals end at 100.
const SHARES: [&str; 4] = [
    "cold_start_pct",
    "p75_function_cold_pct",
    "p75_app_cold_pct",
    "pods_utility_below_1_pct",
];

/// [`interval`], the high end clipped at 100 for a share.
fn interval_of(metric: &str, v: &[f64]) -> (f64, f64, f64) {
    let (mean, lo, hi) = interval(v);
    let cap = if SHARES.contains(&metric) {
        100.0
    } else {
        f64::INFINITY
    };
    (mean, lo, hi.min(cap))
}

/// Every policy's metrics over the seeds.
pub struct SeedRuns {
    pub seeds: Vec<u64>,
    pub policies: Vec<String>,
    pub metrics: Vec<String>,
    /// `[policy][metric][seed]`.
    pub values: Vec<Vec<Vec<f64>>>,
}

/// Mean and 95 % interval of `v` (Student's t), the low end clipped at 0 (every metric here
/// is a count, a time, a share or a ratio); the interval is the mean alone for one value.
pub fn interval(v: &[f64]) -> (f64, f64, f64) {
    let (mean, lo, hi) = t_interval(v);
    (mean, lo.max(0.0), hi)
}

/// Mean and 95 % interval of `v` (Student's t with `len - 1` degrees of freedom).
pub fn t_interval(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, mean, mean);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .expect("n - 1 >= 1 degrees of freedom")
        .inverse_cdf(0.975);
    let half = t * (var / n).sqrt();
    (mean, mean - half, mean + half)
}

impl SeedRuns {
    /// From each seed's summary table (one row per policy, in the same order every seed).
    pub fn new(seeds: Vec<u64>, summaries: &[Table]) -> Self {
        let first = &summaries[0];
        let policies: Vec<String> = first.strs("policy").unwrap_or_default().to_vec();
        let metrics: Vec<String> = first
            .columns
            .iter()
            .filter(|(n, c)| !matches!(c, Col::Str(_)) && !NOT_RESULTS.contains(&n.as_str()))
            .map(|(n, _)| n.clone())
            .collect();
        let values = (0..policies.len())
            .map(|p| {
                metrics
                    .iter()
                    .map(|m| {
                        summaries
                            .iter()
                            .map(|t| t.f64s(m).map_or(f64::NAN, |v| v[p]))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Self {
            seeds,
            policies,
            metrics,
            values,
        }
    }

    /// One row per policy and metric: its mean, 95 % interval, range and each seed's value.
    pub fn table(&self) -> Table {
        let (mut policy, mut metric, mut each) = (Vec::new(), Vec::new(), Vec::new());
        let mut cols: [Vec<f64>; 5] = Default::default();
        for (i, p) in self.policies.iter().enumerate() {
            for (j, m) in self.metrics.iter().enumerate() {
                let v = &self.values[i][j];
                let (mean, lo, hi) = interval_of(m, v);
                let min = v.iter().copied().fold(f64::INFINITY, f64::min);
                let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                for (c, x) in cols.iter_mut().zip([mean, lo, hi, min, max]) {
                    c.push(x);
                }
                policy.push(p.clone());
                metric.push(m.clone());
                let seeds: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                each.push(seeds.join(" "));
            }
        }
        let rows = policy.len();
        let [mean, lo, hi, min, max] = cols;
        Table::new()
            .str("policy", policy)
            .str("metric", metric)
            .i64("seeds", vec![self.seeds.len() as i64; rows])
            .f64("mean", mean)
            .f64("ci95_low", lo)
            .f64("ci95_high", hi)
            .f64("min", min)
            .f64("max", max)
            .str("per_seed", each)
    }

    /// The interval of `metric` for policy `i`.
    pub fn of(&self, i: usize, metric: &str) -> Option<(f64, f64, f64)> {
        let j = self.metrics.iter().position(|m| m == metric)?;
        Some(interval_of(metric, &self.values[i][j]))
    }

    /// Metrics that separate nothing here: the same value for every policy on every seed, at
    /// a bound of its range (a share of 0 or 100 %).
    pub fn saturated(&self) -> Vec<String> {
        let on = if self.seeds.len() > 1 {
            " on every seed"
        } else {
            ""
        };
        SHARES
            .iter()
            .filter_map(|r| {
                let j = self.metrics.iter().position(|m| m == r)?;
                let all: Vec<f64> = self.values.iter().flat_map(|p| p[j].clone()).collect();
                let first = *all.first()?;
                let same = all.iter().all(|x| (x - first).abs() < 1e-12);
                (same && (first == 0.0 || first == 100.0)).then(|| {
                    format!("{r} is {first} for every policy{on}: it separates nothing here")
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_students_t() {
        // scipy.stats.t.interval(0.95, df=2, loc=2, scale=stats.sem([1, 2, 3])):
        // (-0.4841377118, 4.4841377118).
        let (m, lo, hi) = t_interval(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((lo + 0.484_137_711_8).abs() < 1e-8, "{lo}");
        assert!((hi - 4.484_137_711_8).abs() < 1e-8, "{hi}");
        assert_eq!(interval(&[5.0]), (5.0, 5.0, 5.0));
        // Clipped at 0 below.
        assert_eq!(interval(&[1.0, 2.0, 3.0]).1, 0.0);
    }

    #[test]
    fn metrics_are_gathered_per_policy_and_saturation_is_named() {
        let run = |cold: Vec<i64>, p75: Vec<f64>| {
            Table::new()
                .str("policy", vec!["a".into(), "b".into()])
                .i64("cold_starts", cold)
                .f64("p75_function_cold_pct", p75)
                .f64("sim_seconds", vec![0.1, 0.2])
        };
        let s = SeedRuns::new(
            vec![1, 2],
            &[
                run(vec![10, 20], vec![100.0, 100.0]),
                run(vec![12, 22], vec![100.0, 100.0]),
            ],
        );
        assert_eq!(s.metrics, ["cold_starts", "p75_function_cold_pct"]);
        assert_eq!(s.values[1][0], [20.0, 22.0]);
        let (m, lo, hi) = s.of(0, "cold_starts").unwrap();
        // mean 11, sd sqrt(2), t(0.975, 1) = 12.7062047362: 11 + 12.706 (the low end clipped).
        assert_eq!(m, 11.0);
        assert!((hi - m - 12.706_204_736_2).abs() < 1e-6, "{hi}");
        assert_eq!(lo, 0.0);
        let (_, lo, hi) = s.of(1, "cold_starts").unwrap();
        assert!((hi + lo - 42.0).abs() < 1e-9 && lo > 8.0, "{lo} {hi}");
        // A share's interval ends at 100: t(0.975, 1) x 5 around 95 would reach 158.
        let shares = SeedRuns::new(
            vec![1, 2],
            &[
                run(vec![1, 1], vec![90.0, 1.0]),
                run(vec![1, 1], vec![100.0, 1.0]),
            ],
        );
        assert_eq!(shares.of(0, "p75_function_cold_pct").unwrap().2, 100.0);
        assert_eq!(s.saturated().len(), 1);
        assert!(s.saturated()[0].starts_with("p75_function_cold_pct is 100"));
        let t = s.table();
        assert_eq!(t.rows(), 4);
        assert_eq!(t.strs("per_seed").unwrap()[0], "10 12");
    }
}
