//! Measures a synthetic release against the paper's published numbers (spec section 4) and
//! states the tolerance each check uses.

use serde::Serialize;

use coldstart_trace::paper::{
    COMPONENTS, LOGNORMAL_COLD_START, MEDIAN_COLD_START_S, R1_MEAN_COLD_START_S,
    R2_SMALL_POOL_COLD_START_SHARE_ABOVE, R2_TIMER_FUNCTION_SHARE, R3_MEAN_COLD_START_BELOW_S,
    RUNTIME_COLD_STARTS_R2,
};

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
        format!("{} ± 15 %", LOGNORMAL_COLD_START.mean),
        within(fit.0, LOGNORMAL_COLD_START.mean, 0.15),
    );
    push(
        "LogNormal fit of cold start time, std (s)".into(),
        fit.1,
        format!("{:.2} ± 15 %", LOGNORMAL_COLD_START.std),
        within(fit.1, LOGNORMAL_COLD_START.std, 0.15),
    );
    for r in regions {
        push(
            format!("{} median cold start (s)", r.region),
            r.median,
            format!(
                "between {} and {}",
                MEDIAN_COLD_START_S.start(),
                MEDIAN_COLD_START_S.end()
            ),
            MEDIAN_COLD_START_S.contains(&r.median),
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
                    format!("about {R1_MEAN_COLD_START_S} (2 to 4.5)"),
                    (R1_MEAN_COLD_START_S - 1.0..=R1_MEAN_COLD_START_S + 1.5).contains(&r.mean),
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
                    format!("{R2_TIMER_FUNCTION_SHARE:.2} ± 0.05"),
                    (r.timer_function_share - R2_TIMER_FUNCTION_SHARE).abs() <= 0.05,
                );
                push(
                    "R2 share of cold starts in small pools".into(),
                    r.small_pool_share,
                    format!("over {R2_SMALL_POOL_COLD_START_SHARE_ABOVE:.2}"),
                    r.small_pool_share > R2_SMALL_POOL_COLD_START_SHARE_ABOVE,
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
                format!("under {R3_MEAN_COLD_START_BELOW_S}"),
                r.mean < R3_MEAN_COLD_START_BELOW_S,
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
        assert!((m - LOGNORMAL_COLD_START.mean).abs() < 0.01, "{m}");
        assert!((s - LOGNORMAL_COLD_START.std).abs() < 0.02, "{s}");
    }
}
