//! A finding's verdict from what it measured on each seed: every test's mean over the seeds
//! with a 95 % Student-t interval, set against the finding's threshold. A test holds when its
//! whole interval lies on the claimed side of the threshold, does not hold when it lies on the
//! other side, and is inconclusive when it straddles the threshold; a finding holds when all
//! its tests hold and does not hold when one of them does not. With one seed the interval is
//! a paired bootstrap's over the evaluation sequences the runs share ([`super::bootstrap`]);
//! without logged sequence losses there is none, the verdict is the point estimate's, and the
//! report says so.

use statrs::distribution::{ContinuousCDF, StudentsT};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    DoesNotHold,
    Inconclusive,
    NotTested,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::DoesNotHold => "does not hold",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotTested => "not tested",
        }
    }
}

/// Where a measured value must lie for its test to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    AtMost,
    Below,
    AtLeast,
    Above,
}

impl Side {
    pub fn symbol(self) -> &'static str {
        match self {
            Side::AtMost => "≤",
            Side::Below => "<",
            Side::AtLeast => "≥",
            Side::Above => ">",
        }
    }

    fn holds(self, x: f64, threshold: f64) -> bool {
        match self {
            Side::AtMost => x <= threshold,
            Side::Below => x < threshold,
            Side::AtLeast => x >= threshold,
            Side::Above => x > threshold,
        }
    }

    /// Whether all of `[lo, hi]` holds, or none of it.
    fn judge(self, lo: f64, hi: f64, threshold: f64) -> Verdict {
        let (a, b) = (self.holds(lo, threshold), self.holds(hi, threshold));
        match (a, b) {
            (true, true) => Verdict::Holds,
            (false, false) => Verdict::DoesNotHold,
            _ => Verdict::Inconclusive,
        }
    }
}

/// One quantity a finding measured on one seed, and where it must lie.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub label: String,
    pub value: f64,
    pub side: Side,
    pub threshold: f64,
    /// "nats" or "%".
    pub unit: &'static str,
}

impl Test {
    pub fn new(label: impl Into<String>, value: f64, side: Side, threshold: f64) -> Self {
        Self {
            label: label.into(),
            value,
            side,
            threshold,
            unit: "nats",
        }
    }

    /// A relative change in percent.
    pub fn percent(label: impl Into<String>, value: f64, side: Side, threshold: f64) -> Self {
        Self {
            unit: "%",
            ..Self::new(label, value, side, threshold)
        }
    }
}

/// Where a test's 95 % interval comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// One value: no interval, the point decides.
    None,
    /// Student's t over the seeds.
    Seeds,
    /// The percentiles of a paired bootstrap over the shared evaluation sequences (one seed):
    /// the upstream and downstream validation sets' sizes.
    Bootstrap { upstream: usize, downstream: usize },
}

impl Interval {
    /// For `findings.csv`: "none", "t over seeds", "bootstrap over 64+64 sequences".
    pub fn describe(self) -> String {
        match self {
            Interval::None => "none".into(),
            Interval::Seeds => "t over seeds".into(),
            Interval::Bootstrap {
                upstream,
                downstream,
            } => format!("paired bootstrap over {upstream}+{downstream} sequences"),
        }
    }
}

/// A test over the seeds: its mean, the 95 % interval, how many seeds measured it and the
/// verdict of the interval against the threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub label: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub seeds: usize,
    pub side: Side,
    pub threshold: f64,
    pub unit: &'static str,
    pub verdict: Verdict,
    pub interval: Interval,
}

impl Estimate {
    /// "2x − 1x: +0.0043 nats [−0.0021, +0.0107] ≤ 0.005: inconclusive".
    pub fn describe(&self) -> String {
        let n = |x: f64| match self.unit {
            "%" => format!("{x:+.2} %"),
            _ => format!("{x:+.4}"),
        };
        let interval = if self.interval != Interval::None {
            format!(" [{}, {}]", n(self.lo), n(self.hi))
        } else {
            String::new()
        };
        let unit = if self.unit == "%" { "" } else { " nats" };
        format!(
            "{}: {}{unit}{interval} {} {}: {}",
            self.label,
            n(self.mean),
            self.side.symbol(),
            match self.unit {
                "%" => format!("{} %", self.threshold),
                _ => format!("{}", self.threshold),
            },
            self.verdict.as_str()
        )
    }
}

/// The mean of `xs` and its two-sided 95 % Student-t interval (the mean itself for one value).
pub fn interval(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, mean, mean);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .expect("n - 1 > 0 degrees of freedom")
        .inverse_cdf(0.975);
    let half = t * (var / n).sqrt();
    (mean, mean - half, mean + half)
}

/// The estimates of tests measured on several seeds, matched by label in the order the first
/// seed gave them; values that are not finite (a run without the point) are left out.
pub fn estimates(per_seed: &[&[Test]]) -> Vec<Estimate> {
    let mut labels: Vec<&Test> = Vec::new();
    for tests in per_seed {
        for t in tests.iter() {
            if !labels.iter().any(|l| l.label == t.label) {
                labels.push(t);
            }
        }
    }
    labels
        .into_iter()
        .filter_map(|first| {
            let xs: Vec<f64> = per_seed
                .iter()
                .filter_map(|ts| ts.iter().find(|t| t.label == first.label))
                .map(|t| t.value)
                .filter(|x| x.is_finite())
                .collect();
            if xs.is_empty() {
                return None;
            }
            let (mean, lo, hi) = interval(&xs);
            Some(Estimate {
                label: first.label.clone(),
                mean,
                lo,
                hi,
                seeds: xs.len(),
                side: first.side,
                threshold: first.threshold,
                unit: first.unit,
                verdict: first.side.judge(lo, hi, first.threshold),
                interval: if xs.len() > 1 {
                    Interval::Seeds
                } else {
                    Interval::None
                },
            })
        })
        .collect()
}

/// The estimates of one seed's `tests` with their intervals from bootstrap replicates: each
/// test's value as measured, and the 2.5th and 97.5th percentiles of its finite values over
/// the `replicates` (matched by label); a test no replicate measured keeps its point.
pub fn bootstrapped(
    tests: &[Test],
    replicates: &std::collections::BTreeMap<String, Vec<f64>>,
    interval: Interval,
) -> Vec<Estimate> {
    let mut out = estimates(&[tests]);
    for e in &mut out {
        let Some(values) = replicates.get(&e.label) else {
            continue;
        };
        let mut xs: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if xs.len() < 2 {
            continue;
        }
        xs.sort_by(f64::total_cmp);
        e.lo = percentile(&xs, 2.5);
        e.hi = percentile(&xs, 97.5);
        e.verdict = e.side.judge(e.lo, e.hi, e.threshold);
        e.interval = interval;
    }
    out
}

/// The `q`-th percentile of ascending `sorted` values, interpolating linearly between the
/// closest ranks (numpy's default, `method="linear"`).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + frac * (next - sorted[i]),
        None => sorted[i],
    }
}

/// A finding's verdict from its tests' verdicts: does not hold when one does not, holds when
/// all hold, else inconclusive; not tested without tests.
pub fn overall(tests: &[Estimate]) -> Verdict {
    if tests.is_empty() {
        Verdict::NotTested
    } else if tests.iter().any(|t| t.verdict == Verdict::DoesNotHold) {
        Verdict::DoesNotHold
    } else if tests.iter().all(|t| t.verdict == Verdict::Holds) {
        Verdict::Holds
    } else {
        Verdict::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_students_t() {
        // scipy.stats.t.ppf(0.975, 2) = 4.302652729911275; xs = 1, 2, 3: mean 2, sd 1.
        let (m, lo, hi) = interval(&[1.0, 2.0, 3.0]);
        let half = 4.302652729911275 / 3f64.sqrt();
        assert!((m - 2.0).abs() < 1e-12);
        assert!((lo - (2.0 - half)).abs() < 1e-9 && (hi - (2.0 + half)).abs() < 1e-9);
        assert_eq!(interval(&[0.5]), (0.5, 0.5, 0.5));
    }

    #[test]
    fn percentiles_interpolate_as_numpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [2.5, 50, 97.5]) = [1.1, 3.0, 9.4].
        let xs = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((percentile(&xs, 2.5) - 1.1).abs() < 1e-12);
        assert_eq!(percentile(&xs, 50.0), 3.0);
        assert!((percentile(&xs, 97.5) - 9.4).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], 97.5), 7.0);
    }

    #[test]
    fn a_bootstrap_interval_judges_one_seed() {
        let t = Test::new("2x - 1x", 0.001, Side::AtMost, 0.005);
        let boot = Interval::Bootstrap {
            upstream: 64,
            downstream: 64,
        };
        // Replicates 0.000 .. 0.010 (101 values): the interval [0.00025, 0.00975] straddles.
        let wide: Vec<f64> = (0..=100).map(|i| i as f64 * 1e-4).collect();
        let reps = std::collections::BTreeMap::from([("2x - 1x".to_string(), wide)]);
        let e = bootstrapped(std::slice::from_ref(&t), &reps, boot);
        assert_eq!((e[0].mean, e[0].seeds), (0.001, 1));
        assert!((e[0].lo - 0.00025).abs() < 1e-12 && (e[0].hi - 0.00975).abs() < 1e-12);
        assert_eq!(e[0].verdict, Verdict::Inconclusive);
        assert!(
            e[0].describe().contains("[+0.0003, +0.0097]"),
            "{}",
            e[0].describe()
        );
        // Narrow replicates below the threshold: holds; NaN replicates are left out.
        let narrow = vec![0.0009, 0.0011, f64::NAN, 0.001];
        let reps = std::collections::BTreeMap::from([("2x - 1x".to_string(), narrow)]);
        let e = bootstrapped(std::slice::from_ref(&t), &reps, boot);
        assert_eq!((e[0].verdict, e[0].interval), (Verdict::Holds, boot));
        // No replicates: the point decides, with no interval.
        let e = bootstrapped(&[t], &Default::default(), boot);
        assert_eq!(
            (e[0].interval, e[0].lo, e[0].hi),
            (Interval::None, 0.001, 0.001)
        );
    }

    #[test]
    fn verdicts_follow_the_interval_against_the_threshold() {
        let t = |v: f64| Test::new("2x - 1x", v, Side::AtMost, 0.005);
        // Three seeds well below the threshold: holds.
        let e = estimates(&[&[t(-0.02)], &[t(-0.03)], &[t(-0.025)]]);
        assert_eq!(e[0].verdict, Verdict::Holds);
        assert_eq!(e[0].seeds, 3);
        // Straddling it: inconclusive, although the mean is below.
        let e = estimates(&[&[t(-0.02)], &[t(0.02)], &[t(-0.01)]]);
        assert!(e[0].mean < 0.005 && e[0].hi > 0.005);
        assert_eq!(e[0].verdict, Verdict::Inconclusive);
        assert_eq!(overall(&e), Verdict::Inconclusive);
        // Two seeds are wide (t = 12.71 with one degree of freedom): 0.03 and 0.04 straddle.
        let two = estimates(&[&[t(0.03)], &[t(0.04)]]);
        assert_eq!(two[0].verdict, Verdict::Inconclusive);
        // All above: does not hold, and that decides the finding.
        let bad = estimates(&[&[t(0.03)], &[t(0.04)], &[t(0.035)]]);
        let good = estimates(&[&[t(-0.03)], &[t(-0.04)], &[t(-0.035)]]);
        assert_eq!(bad[0].verdict, Verdict::DoesNotHold);
        assert_eq!(
            overall(&[good[0].clone(), bad[0].clone()]),
            Verdict::DoesNotHold
        );
        // One seed: the point decides; a missing value is left out; no tests, not tested.
        let one = estimates(&[&[t(0.004)]]);
        assert_eq!(
            (one[0].verdict, one[0].lo, one[0].hi),
            (Verdict::Holds, 0.004, 0.004)
        );
        let e = estimates(&[&[t(f64::NAN)], &[t(0.001)]]);
        assert_eq!(e[0].seeds, 1);
        assert_eq!(overall(&[]), Verdict::NotTested);
        assert_eq!(e[0].interval, Interval::None);
        // Strict sides: a value at the threshold is not below it.
        let e = estimates(&[&[Test::new("d", 0.0, Side::Below, 0.0)]]);
        assert_eq!(e[0].verdict, Verdict::DoesNotHold);
        assert!(
            e[0].describe().contains("< 0: does not hold"),
            "{}",
            e[0].describe()
        );
    }
}
