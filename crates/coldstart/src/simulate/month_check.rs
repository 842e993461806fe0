//! `simulate --against-requests`: the per-minute replay checked against the truth. Where a store
//! has per-request rows on the days it replays (a validation release made with
//! `synth --request-days all`), the same policies replay those rows, and each policy's cold
//! starts from the per-minute counts (arrivals within the minute learned, and spread uniformly
//! for comparison) are set beside the rows' own: in total, per day and per function, with the
//! targets a month replay is held to.

use super::*;

/// Total cold starts within this fraction of the per-request replay's.
pub const TOTAL_TOLERANCE: f64 = 0.10;
/// A function's cold starts within this fraction of its per-request replay's.
pub const FUNCTION_TOLERANCE: f64 = 0.25;
/// Functions counted in the per-function target: those with at least this many cold starts in
/// the per-request replay.
pub const FUNCTION_MIN_COLD: u64 = 10;
/// Share of those functions that must be within [`FUNCTION_TOLERANCE`].
pub const FUNCTION_SHARE: f64 = 0.80;
/// Least correlation of the daily series of cold starts.
pub const DAILY_CORRELATION: f64 = 0.9;

/// A labelled series of (day, cold starts).
pub type DaySeries = (String, Vec<(f64, f64)>);

/// One way of replaying the per-minute counts, against the truth.
#[derive(Debug, Clone)]
pub struct Expansion {
    pub total: u64,
    pub per_day: Vec<u64>,
    /// Per function, in the truth's order (0 where the function has no per-minute counts).
    pub per_function: Vec<u64>,
}

/// One policy's check.
#[derive(Debug, Clone)]
pub struct PolicyCheck {
    pub policy: String,
    pub truth: Expansion,
    pub learned: Expansion,
    pub uniform: Expansion,
}

/// What the three replays agree on.
pub struct MonthCheck {
    pub days: Range<u32>,
    pub functions: Vec<String>,
    pub policies: Vec<PolicyCheck>,
}

/// A verdict word.
fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

impl Expansion {
    /// `run` (one policy's metrics, its functions named `names`) on `days`, per function in
    /// the order of `index` (name -> position, `n` of them).
    fn of(
        run: &Metrics,
        names: &[Function],
        index: &HashMap<&str, usize>,
        n: usize,
        days: &Range<u32>,
    ) -> Self {
        let mut per_function = vec![0u64; n];
        for (m, f) in run.per_function.iter().zip(names) {
            if let Some(&i) = index.get(f.name.as_str()) {
                per_function[i] += m.cold_starts;
            }
        }
        let per_day: Vec<u64> = days
            .clone()
            .map(|d| {
                run.cold_starts_per_day
                    .get(d as usize)
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        Self {
            total: per_day.iter().sum(),
            per_day,
            per_function,
        }
    }

    /// (functions with at least [`FUNCTION_MIN_COLD`] cold starts in `truth`, those of them
    /// within [`FUNCTION_TOLERANCE`] of it).
    pub fn functions_within(&self, truth: &Expansion) -> (usize, usize) {
        let mut with = 0;
        let mut within = 0;
        for (s, t) in self.per_function.iter().zip(&truth.per_function) {
            if *t >= FUNCTION_MIN_COLD {
                with += 1;
                if (*s as f64 - *t as f64).abs() <= FUNCTION_TOLERANCE * *t as f64 {
                    within += 1;
                }
            }
        }
        (with, within)
    }

    /// The relative difference of the totals.
    pub fn total_error(&self, truth: &Expansion) -> f64 {
        self.total as f64 / truth.total.max(1) as f64 - 1.0
    }

    pub fn daily_correlation(&self, truth: &Expansion) -> f64 {
        let f = |v: &[u64]| v.iter().map(|x| *x as f64).collect::<Vec<_>>();
        crate::stats::pearson(&f(&self.per_day), &f(&truth.per_day))
    }

    /// Whether the three targets are met against `truth`.
    pub fn meets(&self, truth: &Expansion) -> [bool; 3] {
        let (with, within) = self.functions_within(truth);
        [
            self.total_error(truth).abs() <= TOTAL_TOLERANCE,
            with == 0 || within as f64 >= FUNCTION_SHARE * with as f64,
            self.daily_correlation(truth) >= DAILY_CORRELATION,
        ]
    }

    /// `X cold starts (+a %, ±10 %: met); F of G functions ... ; daily correlation r (...)`.
    fn line(&self, truth: &Expansion) -> String {
        let (with, within) = self.functions_within(truth);
        let [a, b, c] = self.meets(truth);
        let r = self.daily_correlation(truth);
        format!(
            "{} cold starts ({:+.1} %, target ±{:.0} %: {}); {within} of {with} functions with \
             {FUNCTION_MIN_COLD} or more within ±{:.0} % ({:.0} %, target {:.0} %: {}); daily \
             correlation {} (target {DAILY_CORRELATION}: {})",
            self.total,
            self.total_error(truth) * 100.0,
            TOTAL_TOLERANCE * 100.0,
            met(a),
            FUNCTION_TOLERANCE * 100.0,
            within as f64 / with.max(1) as f64 * 100.0,
            FUNCTION_SHARE * 100.0,
            met(b),
            if r.is_finite() {
                format!("{r:.3}")
            } else {
                "— (a constant series)".into()
            },
            met(c)
        )
    }
}

impl MonthCheck {
    /// The check of `learned` and `uniform` (the per-minute replays) against `truth` (the
    /// per-request replay) on `days`, policy by policy (the three ran the same policies).
    pub fn new(learned: &Outcome, uniform: &Outcome, truth: &Outcome, days: Range<u32>) -> Self {
        let functions: Vec<String> = truth.functions.iter().map(|f| f.name.clone()).collect();
        let index: HashMap<&str, usize> = functions
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let n = functions.len();
        let policies = truth
            .runs
            .iter()
            .zip(&learned.runs)
            .zip(&uniform.runs)
            .map(|((t, l), u)| PolicyCheck {
                policy: t.metrics.policy.clone(),
                truth: Expansion::of(&t.metrics, &truth.functions, &index, n, &days),
                learned: Expansion::of(&l.metrics, &learned.functions, &index, n, &days),
                uniform: Expansion::of(&u.metrics, &uniform.functions, &index, n, &days),
            })
            .collect();
        Self {
            days,
            functions,
            policies,
        }
    }

    /// Whether every policy's learned expansion meets every target.
    pub fn all_met(&self) -> bool {
        self.policies
            .iter()
            .all(|p| p.learned.meets(&p.truth).iter().all(|x| *x))
    }

    /// Per policy and each of `n` keys: the policy, and the truth's and both expansions'
    /// cold starts as `count` reads them from an [`Expansion`] at the key's position.
    fn columns(&self, n: usize, count: impl Fn(&Expansion, usize) -> u64) -> Table {
        let (mut pol, mut t, mut l, mut u) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for p in &self.policies {
            for k in 0..n {
                pol.push(p.policy.clone());
                t.push(count(&p.truth, k) as i64);
                l.push(count(&p.learned, k) as i64);
                u.push(count(&p.uniform, k) as i64);
            }
        }
        Table::new()
            .str("policy", pol)
            .i64("per_request", t)
            .i64("per_minute_learned", l)
            .i64("per_minute_uniform", u)
    }

    /// Per policy and day: the per-request replay's cold starts and both expansions'.
    pub fn by_day(&self) -> Table {
        let days: Vec<i64> = self.days.clone().map(i64::from).collect();
        let per_policy = days.len();
        let mut t = self.columns(per_policy, |e, k| e.per_day[k]);
        t.columns.insert(
            1,
            (
                "day".into(),
                crate::table::Col::I64(days.repeat(self.policies.len())),
            ),
        );
        t
    }

    /// Per policy and function: the same over all the days.
    pub fn by_function(&self) -> Table {
        let mut t = self.columns(self.functions.len(), |e, k| e.per_function[k]);
        t.columns.insert(
            1,
            (
                "funcID".into(),
                crate::table::Col::Str(
                    (0..self.policies.len())
                        .flat_map(|_| self.functions.iter().cloned())
                        .collect(),
                ),
            ),
        );
        t
    }

    /// The verdict lines: per policy, both expansions against the truth.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "per-minute replay against the per-request rows of days {}..{} (the truth):",
            self.days.start, self.days.end
        )];
        for p in &self.policies {
            out.push(format!(
                "  {}: the rows make {} cold starts",
                p.policy, p.truth.total
            ));
            out.push(format!(
                "    learned within the minute: {}",
                p.learned.line(&p.truth)
            ));
            out.push(format!(
                "    spread uniformly:          {}",
                p.uniform.line(&p.truth)
            ));
        }
        out
    }

    /// The policy whose days are shown: the platform's default where it ran, else the first.
    fn shown(&self) -> Option<&PolicyCheck> {
        let default = coldstart_sim::synth::default_policy().name();
        self.policies
            .iter()
            .find(|p| p.policy == default)
            .or(self.policies.first())
    }

    /// The page's table: per policy, the truth and each expansion against it with the three
    /// targets' verdicts.
    pub fn page_rows(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for p in &self.policies {
            for (name, e) in [("learned", &p.learned), ("uniform", &p.uniform)] {
                let (with, within) = e.functions_within(&p.truth);
                let r = e.daily_correlation(&p.truth);
                let all = e.meets(&p.truth).iter().all(|x| *x);
                out.push(vec![
                    p.policy.clone(),
                    p.truth.total.to_string(),
                    name.to_string(),
                    e.total.to_string(),
                    format!("{:+.1} %", e.total_error(&p.truth) * 100.0),
                    format!("{within} of {with}"),
                    if r.is_finite() {
                        format!("{r:.3}")
                    } else {
                        "—".into()
                    },
                    if all { "all met" } else { "not all met" }.to_string(),
                ]);
            }
        }
        out
    }

    /// The daily series of the default policy (else the first): the truth's and both
    /// expansions' cold starts per day, as (label, (day, cold starts)).
    pub fn day_series(&self) -> Option<(String, Vec<DaySeries>)> {
        let p = self.shown()?;
        let series = |e: &Expansion| {
            self.days
                .clone()
                .zip(&e.per_day)
                .map(|(d, c)| (f64::from(d), *c as f64))
                .collect::<Vec<_>>()
        };
        Some((
            p.policy.clone(),
            vec![
                ("per-request rows (truth)".into(), series(&p.truth)),
                ("per-minute, learned".into(), series(&p.learned)),
                ("per-minute, uniform".into(), series(&p.uniform)),
            ],
        ))
    }

    /// One line per day of the first policy (the platform's default where it ran).
    pub fn day_lines(&self) -> Vec<String> {
        let Some(p) = self.shown() else {
            return Vec::new();
        };
        let pct = |a: u64, b: u64| (a as f64 / b.max(1) as f64 - 1.0) * 100.0;
        let mut out = vec![format!(
            "  per day, {}: per-request / learned / uniform",
            p.policy
        )];
        for (k, d) in self.days.clone().enumerate() {
            let (t, l, u) = (
                p.truth.per_day[k],
                p.learned.per_day[k],
                p.uniform.per_day[k],
            );
            out.push(format!(
                "    day {d:>2}: {t:>8} / {l:>8} ({:+6.1} %) / {u:>8} ({:+6.1} %)",
                pct(l, t),
                pct(u, t)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_count_functions_with_ten_or_more() {
        let truth = Expansion {
            total: 100,
            per_day: vec![40, 60],
            per_function: vec![50, 40, 10, 0],
        };
        let e = Expansion {
            total: 106,
            per_day: vec![42, 64],
            per_function: vec![60, 30, 12, 4],
        };
        // 60 vs 50 (+20 %) in, 30 vs 40 (-25 %) in, 12 vs 10 (+20 %) in; the last not counted.
        assert_eq!(e.functions_within(&truth), (3, 3));
        assert!((e.total_error(&truth) - 0.06).abs() < 1e-12);
        assert_eq!(e.meets(&truth), [true, true, true]);
        let off = Expansion {
            total: 130,
            per_day: vec![70, 60],
            per_function: vec![70, 41, 19, 0],
        };
        assert_eq!(off.functions_within(&truth), (3, 1));
        assert_eq!(off.meets(&truth), [false, false, false]);
    }
}
