//! The statistics behind the analyses: quantiles as pandas computes them, log-binned CDFs that
//! stream, maximum-likelihood fits with scipy's conventions (location fixed at 0), the
//! Kolmogorov–Smirnov statistic, Spearman correlation with its p-value, and the peak-to-trough
//! ratio of a request series. Each is checked against scipy/pandas fixtures in the tests.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::gamma::{digamma, gamma, ln_gamma};

/// Quantile `q` of sorted data with linear interpolation (pandas' and numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn sort(values: &mut [f64]) {
    values.sort_unstable_by(f64::total_cmp);
}

pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Fraction of values at or below `x` in sorted data.
pub fn ecdf_at(sorted: &[f64], x: f64) -> f64 {
    sorted.partition_point(|v| *v <= x) as f64 / sorted.len() as f64
}

/// A histogram over log-spaced edges `10^(k / per_decade)`: one pass, constant memory, and the
/// CDF it gives is exact at every edge (values are placed by comparison with the edge itself,
/// not only by their logarithm). Zeros (and negatives) have their own bin below the first edge.
#[derive(Debug, Clone)]
pub struct LogHist {
    pub per_decade: i32,
    pub lo: i32,
    /// counts[0]: values ≤ 0; counts[1 + i]: values in (edge(i-1), edge(i)]; the last bin also
    /// takes everything above the top edge.
    pub counts: Vec<u64>,
    edges: Vec<f64>,
}

impl LogHist {
    /// Edges from 10^lo_decade to 10^hi_decade.
    pub fn new(lo_decade: i32, hi_decade: i32, per_decade: i32) -> Self {
        let n = ((hi_decade - lo_decade) * per_decade + 1) as usize;
        let lo = lo_decade * per_decade;
        Self {
            per_decade,
            lo,
            counts: vec![0; n + 2],
            edges: (0..n)
                .map(|i| 10f64.powf((lo + i as i32) as f64 / per_decade as f64))
                .collect(),
        }
    }

    /// Seconds from a microsecond to about three hours, 20 bins a decade.
    pub fn seconds() -> Self {
        Self::new(-6, 4, 20)
    }

    pub fn edge(&self, i: usize) -> f64 {
        self.edges[i]
    }

    fn edges(&self) -> usize {
        self.counts.len() - 2
    }

    #[inline]
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        if x <= 0.0 {
            self.counts[0] += 1;
            return;
        }
        let n = self.edges();
        let k = (x.log10() * self.per_decade as f64).ceil() as i64 - self.lo as i64;
        let mut i = k.clamp(0, n as i64) as usize;
        // Settle rounding at the edges: bin i holds (edge(i-1), edge(i)].
        while i < n && x > self.edges[i] {
            i += 1;
        }
        while i > 0 && x <= self.edges[i - 1] {
            i -= 1;
        }
        self.counts[1 + i] += 1;
    }

    pub fn merge(&mut self, other: &LogHist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// (x, fraction ≤ x) at 0 (when zeros occur) and at every edge from the first to the last
    /// non-empty bin. Values above the top edge make the last point's CDF below 1.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        let total = self.total();
        if total == 0 {
            return Vec::new();
        }
        let n = self.edges();
        let first = (1..=n).find(|i| self.counts[*i] > 0).unwrap_or(n);
        let last = (1..=n).rev().find(|i| self.counts[*i] > 0).unwrap_or(first);
        let mut out = Vec::new();
        let mut acc = self.counts[0];
        if acc > 0 {
            out.push((0.0, acc as f64 / total as f64));
        }
        for (j, c) in self.counts[1..=n].iter().enumerate() {
            acc += c;
            let bin = j + 1;
            if bin >= first.saturating_sub(1).max(1) && bin <= last {
                out.push((self.edge(j), acc as f64 / total as f64));
            }
        }
        out
    }

    /// Quantile read off the histogram (the upper edge of the bin that crosses `q`): within one
    /// bin width (12 % at 20 bins a decade) of the exact value.
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self.total();
        let target = (q * total as f64).ceil().max(1.0) as u64;
        let mut acc = 0;
        for (i, c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= target {
                return if i == 0 { 0.0 } else { self.edge(i - 1) };
            }
        }
        f64::NAN
    }
}

/// A fitted distribution, location fixed at 0 as in `scipy.stats.<dist>.fit(x, floc=0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fit {
    /// ln x ~ Normal(mu, sigma).
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
    },
    Exponential {
        scale: f64,
    },
}

impl Fit {
    pub fn name(&self) -> &'static str {
        match self {
            Fit::LogNormal { .. } => "lognormal",
            Fit::Weibull { .. } => "weibull",
            Fit::Gamma { .. } => "gamma",
            Fit::Exponential { .. } => "exponential",
        }
    }

    pub fn params(&self) -> String {
        match *self {
            Fit::LogNormal { mu, sigma } => format!("mu={mu:.4} sigma={sigma:.4}"),
            Fit::Weibull { shape, scale } => format!("shape={shape:.4} scale={scale:.4}"),
            Fit::Gamma { shape, scale } => format!("shape={shape:.4} scale={scale:.4}"),
            Fit::Exponential { scale } => format!("scale={scale:.4}"),
        }
    }

    pub fn mean(&self) -> f64 {
        match *self {
            Fit::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Fit::Weibull { shape, scale } => scale * gamma(1.0 + 1.0 / shape),
            Fit::Gamma { shape, scale } => shape * scale,
            Fit::Exponential { scale } => scale,
        }
    }

    pub fn std(&self) -> f64 {
        match *self {
            Fit::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                ((s2.exp() - 1.0) * (2.0 * mu + s2).exp()).sqrt()
            }
            Fit::Weibull { shape, scale } => {
                // Γ ratios through logs, so small shapes (heavy tails) do not overflow.
                let g1 = ln_gamma(1.0 + 1.0 / shape);
                let g2 = ln_gamma(1.0 + 2.0 / shape);
                scale * ((g2).exp() - (2.0 * g1).exp()).max(0.0).sqrt()
            }
            Fit::Gamma { shape, scale } => shape.sqrt() * scale,
            Fit::Exponential { scale } => scale,
        }
    }

    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        match *self {
            Fit::LogNormal { mu, sigma } => {
                0.5 * statrs::function::erf::erfc(
                    -(x.ln() - mu) / (sigma * std::f64::consts::SQRT_2),
                )
            }
            Fit::Weibull { shape, scale } => 1.0 - (-(x / scale).powf(shape)).exp(),
            Fit::Gamma { shape, scale } => {
                statrs::function::gamma::gamma_lr(shape, x / scale).clamp(0.0, 1.0)
            }
            Fit::Exponential { scale } => 1.0 - (-x / scale).exp(),
        }
    }
}

/// Maximum-likelihood fits of positive data. Non-positive values are the caller's to drop
/// (and count): none of these distributions has mass there.
pub fn fit_lognormal(x: &[f64]) -> Fit {
    let n = x.len() as f64;
    let mu = x.iter().map(|v| v.ln()).sum::<f64>() / n;
    let var = x.iter().map(|v| (v.ln() - mu).powi(2)).sum::<f64>() / n;
    Fit::LogNormal {
        mu,
        sigma: var.sqrt(),
    }
}

pub fn fit_exponential(x: &[f64]) -> Fit {
    Fit::Exponential { scale: mean(x) }
}

/// Weibull shape k solves 1/k + mean(ln x) − Σ xᵏ ln x / Σ xᵏ = 0 (increasing in k), by
/// safeguarded Newton steps on a bracket; scale = (mean xᵏ)^(1/k).
pub fn fit_weibull(x: &[f64]) -> Fit {
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let n = logs.len() as f64;
    let mean_log = logs.iter().sum::<f64>() / n;
    let max_log = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    // Sums of x^k (ln x)^j, scaled by exp(-k max_log) to stay finite.
    let sums = |k: f64| {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for l in &logs {
            let w = (k * (l - max_log)).exp();
            s0 += w;
            s1 += w * l;
            s2 += w * l * l;
        }
        (s0, s1, s2)
    };
    let g = |k: f64| {
        let (s0, s1, _) = sums(k);
        s1 / s0 - 1.0 / k - mean_log
    };
    let (mut lo, mut hi) = (1e-3, 1.0);
    while g(hi) < 0.0 && hi < 1e3 {
        lo = hi;
        hi *= 2.0;
    }
    let mut k = (lo + hi) / 2.0;
    for _ in 0..200 {
        let (s0, s1, s2) = sums(k);
        let gk = s1 / s0 - 1.0 / k - mean_log;
        if gk.abs() < 1e-12 {
            break;
        }
        if gk > 0.0 {
            hi = k;
        } else {
            lo = k;
        }
        let dg = (s2 * s0 - s1 * s1) / (s0 * s0) + 1.0 / (k * k);
        let next = k - gk / dg;
        k = if next > lo && next < hi {
            next
        } else {
            (lo + hi) / 2.0
        };
        if hi - lo < 1e-14 * k {
            break;
        }
    }
    let (s0, _, _) = sums(k);
    // mean(x^k) = exp(k max_log) * s0 / n
    let scale = ((s0 / n).ln() / k + max_log).exp();
    Fit::Weibull { shape: k, scale }
}

/// Gamma shape a solves ln a − ψ(a) = ln(mean x) − mean(ln x) (Newton from Minka's start);
/// scale = mean / a.
pub fn fit_gamma(x: &[f64]) -> Fit {
    let m = mean(x);
    let s = m.ln() - x.iter().map(|v| v.ln()).sum::<f64>() / x.len() as f64;
    let mut a = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..100 {
        let f = a.ln() - digamma(a) - s;
        let df = 1.0 / a - trigamma(a);
        let next = a - f / df;
        let next = if next <= 0.0 { a / 2.0 } else { next };
        let done = (next - a).abs() < 1e-13 * a;
        a = next;
        if done {
            break;
        }
    }
    Fit::Gamma {
        shape: a,
        scale: m / a,
    }
}

/// ψ′(x), by recurrence up to x ≥ 10 and the asymptotic series there.
fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // 1/x + 1/(2x²) + 1/(6x³) − 1/(30x⁵) + 1/(42x⁷) − 1/(30x⁹)
    acc + inv
        + inv2 / 2.0
        + inv * inv2 * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 / 30.0)))
}

/// One-sample Kolmogorov–Smirnov statistic D = sup |F_n − F| of sorted data against `cdf`
/// (as `scipy.stats.kstest`).
pub fn ks_statistic(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, x) in sorted.iter().enumerate() {
        let f = cdf(*x);
        d = d.max((i + 1) as f64 / n - f).max(f - i as f64 / n);
    }
    d
}

pub use coldstart_sim::correlation::{pearson, ranks};

/// Spearman's rho and its two-sided p-value from the t distribution with n − 2 degrees of
/// freedom (`scipy.stats.spearmanr`). NaN when a variable is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len();
    // NaN below 3 points or when a variable is constant.
    let rho = coldstart_sim::correlation::spearman_rho(x, y);
    if !rho.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let dof = (n - 2) as f64;
    let p = if rho.abs() >= 1.0 {
        0.0
    } else {
        let t = rho * (dof / ((1.0 + rho) * (1.0 - rho))).sqrt();
        let dist = StudentsT::new(0.0, 1.0, dof).expect("dof > 0");
        2.0 * dist.sf(t.abs())
    };
    (rho, p)
}

/// Centred moving average over `window` points (odd), the window truncated at the ends.
pub fn moving_average(x: &[f64], window: usize) -> Vec<f64> {
    let half = window / 2;
    (0..x.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(x.len());
            x[lo..hi].iter().sum::<f64>() / (hi - lo) as f64
        })
        .collect()
}

/// Hours of smoothing in [`peak_to_trough`].
pub const PEAK_SMOOTHING_HOURS: usize = 3;
/// The trough is floored at this many requests per hour, so that a function idle between
/// bursts gets its peak rate as ratio instead of infinity.
pub const TROUGH_FLOOR: f64 = 1.0;

/// Peak-to-trough ratio of a function's hourly request counts (every hour of the observed days,
/// zeros included): the series is smoothed by a centred 3-hour moving average; each day's peak
/// is its largest smoothed value; the ratio is the largest daily peak over the lowest smoothed
/// value of the whole series (floored at one request per hour), and at least 1. A series with
/// no identifiable peak (constant after smoothing) has ratio 1.
pub fn peak_to_trough(hourly: &[f64]) -> f64 {
    let s = moving_average(hourly, PEAK_SMOOTHING_HOURS);
    let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let min = s.iter().cloned().fold(f64::INFINITY, f64::min);
    if s.is_empty() || max <= min {
        return 1.0;
    }
    let peak = s
        .chunks(24)
        .map(|day| day.iter().cloned().fold(f64::NEG_INFINITY, f64::max))
        .fold(f64::NEG_INFINITY, f64::max);
    (peak / min.max(TROUGH_FLOOR)).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_by_hand() {
        // Deviations from the means (2.5, 5): (-1.5, -0.5, 0.5, 1.5) and (-3, -1, 0, 4);
        // r = 11 / sqrt(5 * 26).
        let r = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]);
        assert!((r - 11.0 / 130f64.sqrt()).abs() < 1e-12, "{r}");
        assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }

    #[test]
    fn pandas_quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert!((quantile_sorted(&v, 0.25) - 1.75).abs() < 1e-12);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
    }

    #[test]
    fn log_hist_is_exact_at_edges() {
        let mut h = LogHist::new(-1, 1, 1); // edges 0.1, 1, 10
        for x in [0.0, 0.1, 0.5, 1.0, 1.0000001, 10.0, 50.0] {
            h.add(x);
        }
        let cdf = h.cdf();
        assert_eq!(cdf[0], (0.0, 1.0 / 7.0));
        assert_eq!(cdf[1], (0.1, 2.0 / 7.0));
        assert_eq!(cdf[2], (1.0, 4.0 / 7.0));
        // 50 is above the top edge: counted in the total, below no edge.
        assert_eq!(cdf[3], (10.0, 6.0 / 7.0));
        assert_eq!(h.quantile(0.5), 1.0);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 5.0]), vec![2.5, 4.0, 2.5, 1.0]);
    }

    #[test]
    fn trigamma_matches_known_values() {
        // ψ'(1) = π²/6, ψ'(0.5) = π²/2
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-10);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-10);
    }

    #[test]
    fn peak_to_trough_by_hand() {
        // Two days, flat at 2 requests/hour except a 3-hour burst of 62 on day 1:
        // smoothed peak = 62, trough = 2 → 31.
        let mut h = vec![2.0; 48];
        for v in &mut h[30..33] {
            *v = 62.0;
        }
        assert!((peak_to_trough(&h) - 31.0).abs() < 1e-12);
        assert_eq!(peak_to_trough(&[5.0; 48]), 1.0);
        // Idle hours: trough floored at 1 request/hour.
        let mut h = vec![0.0; 24];
        h[10] = 300.0;
        assert!((peak_to_trough(&h) - 100.0).abs() < 1e-12);
    }
}
