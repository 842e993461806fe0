//! Measures a synthetic release against the paper's published numbers (spec section 4) and
//! states the tolerance each check uses.

use serde::Serialize;

use crate::profile::RUNTIME_COLD_STARTS_R2;

/// What the generator measured of one region's cold starts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegionMeasures {
    pub region: String,
    pub cold_starts: u64,
    pub median: f64,
    pub mean: f64,
    /// Mean of podAllocation, deployCode, deployDependency, scheduling (seconds).
    pub mean_components: [f64; 4],
    pub small_pool_share: f64,
    pub timer_function_share: f64,
    /// (runtime, cold starts)
    pub by_runtime: Vec<(String, u64)>,
    /// (trigger-invocation, cold starts)
    pub by_trigger: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub measured: f64,
    pub target: String,
    pub pass: bool,
}

/// Maximum-likelihood LogNormal fit: (mean, standard deviation) of the fitted law in seconds.
pub fn lognormal_fit(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut n, mut s, mut s2) = (0.0, 0.0, 0.0);
    for v in values.filter(|v| *v > 0.0) {
        let l = v.ln();
        n += 1.0;
        s += l;
        s2 += l * l;
    }
    let mu = s / n;
    let var = (s2 / n - mu * mu).max(0.0);
    let mean = (mu + var / 2.0).exp();
    (mean, mean * (var.exp() - 1.0).sqrt())
}

const COMPONENTS: [&str; 4] = [
    "podAllocationCost",
    "deployCodeCost",
    "deployDependencyCost",
    "schedulingCost",
];

fn rank(c: &[f64; 4]) -> Vec<usize> {
    let mut idx = vec![0, 1, 2, 3];
    idx.sort_by(|a, b| c[*b].total_cmp(&c[*a]));
    idx
}

/// Runs every check that the generated regions allow.
pub fn checks(regions: &[RegionMeasures], fit: (f64, f64)) -> Vec<Check> {
    let mut out = Vec::new();
    let mut push = |name: String, measured: f64, target: String, pass: bool| {
        out.push(Check {
            name,
            measured,
            target,
            pass,
        })
    };
    let within = |v: f64, t: f64, rel: f64| (v - t).abs() <= rel * t;
    push(
        "LogNormal fit of cold start time, mean (s)".into(),
        fit.0,
        "3.24 ± 15 %".into(),
        within(fit.0, 3.24, 0.15),
    );
    push(
        "LogNormal fit of cold start time, std (s)".into(),
        fit.1,
        "7.10 ± 15 %".into(),
        within(fit.1, 7.10, 0.15),
    );
    for r in regions {
        push(
            format!("{} median cold start (s)", r.region),
            r.median,
            "between 0.1 and 2".into(),
            (0.1..=2.0).contains(&r.median),
        );
        let order = rank(&r.mean_components);
        let sched_rank = order.iter().position(|i| *i == 3).unwrap_or(9);
        push(
            format!("{} rank of scheduling among components", r.region),
            sched_rank as f64 + 1.0,
            "1 or 2".into(),
            sched_rank <= 1,
        );
        match r.region.as_str() {
            "R1" => {
                let top2: Vec<&str> = order[..2].iter().map(|i| COMPONENTS[*i]).collect();
                let ok = top2.contains(&"deployDependencyCost") && top2.contains(&"schedulingCost");
                push(
                    "R1 two largest components are dependency deployment and scheduling".into(),
                    f64::from(u8::from(ok)),
                    "1 (true)".into(),
                    ok,
                );
                push(
                    "R1 mean cold start (s)".into(),
                    r.mean,
                    "about 3 (2 to 4.5)".into(),
                    (2.0..=4.5).contains(&r.mean),
                );
            }
            "R2" => {
                let ok = order[0] == 0;
                push(
                    "R2 largest component is pod allocation".into(),
                    f64::from(u8::from(ok)),
                    "1 (true)".into(),
                    ok,
                );
                push(
                    "R2 share of functions that are timers".into(),
                    r.timer_function_share,
                    "0.60 ± 0.05".into(),
                    (r.timer_function_share - 0.6).abs() <= 0.05,
                );
                push(
                    "R2 share of cold starts in small pools".into(),
                    r.small_pool_share,
                    "over 0.60".into(),
                    r.small_pool_share > 0.6,
                );
                let total: u64 = RUNTIME_COLD_STARTS_R2.iter().map(|(_, c)| c).sum();
                for (rt, published) in RUNTIME_COLD_STARTS_R2 {
                    let got = r
                        .by_runtime
                        .iter()
                        .find(|(n, _)| n == rt)
                        .map_or(0, |(_, c)| *c);
                    let share = got as f64 / r.cold_starts.max(1) as f64;
                    let want = published as f64 / total as f64;
                    push(
                        format!("R2 share of cold starts, {rt}"),
                        share,
                        format!("{want:.4} ± 0.03"),
                        (share - want).abs() <= 0.03,
                    );
                }
            }
            "R3" => push(
                "R3 mean cold start (s)".into(),
                r.mean,
                "under 0.3".into(),
                r.mean < 0.3,
            ),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_fit_of_exact_quantiles() {
        // Values exp(mu ± sigma) have log-mean mu and log-sd sigma (population).
        let (mu, sigma) = (0.2966f64, 1.3259f64);
        let (m, s) = lognormal_fit([(mu - sigma).exp(), (mu + sigma).exp()].into_iter());
        assert!((m - 3.24).abs() < 0.01, "{m}");
        assert!((s - 7.10).abs() < 0.02, "{s}");
    }
}
