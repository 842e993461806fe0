//! Where an axis puts its ticks and what it writes under them: round steps (1, 2, 2.5, 5 × 10ᵏ)
//! on linear axes, decades (or 1-2-5 within one) on log axes, and labels whose precision comes
//! from the step, so consecutive labels always differ; large numbers as 120k / 1.2M, small ones
//! as 3e-3. [`Axis`] is the plotters coordinate that maps values and hands out these ticks.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// Tick positions and their labels, one label per position.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub values: Vec<f64>,
    pub labels: Vec<String>,
}

/// Ticks for [lo, hi] on a linear or log axis, at most `max` of them (at least 2 asked for).
/// A single value (lo == hi) is widened around itself first (0 alone upwards, to 1).
pub fn ticks(lo: f64, hi: f64, max: usize, log: bool) -> Ticks {
    let (lo, hi) = widen(lo, hi, log);
    let max = max.max(2);
    if log && lo > 0.0 {
        if let Some(t) = log_ticks(lo, hi, max) {
            return t;
        }
    }
    linear_ticks(lo, hi, max)
}

/// A usable interval: ordered, finite, not empty (and positive on a log axis).
fn widen(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if !lo.is_finite() || !hi.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if hi > lo {
        return (lo, hi);
    }
    if log && lo > 0.0 {
        (lo / 2.0, hi * 2.0)
    } else if lo == 0.0 {
        // Nothing but zeros (a count of nothing): up from 0, not into negatives.
        (0.0, 1.0)
    } else {
        let pad = lo.abs() * 0.1;
        (lo - pad, hi + pad)
    }
}

/// The largest round step (1, 2, 2.5, 5 × 10ᵏ) that keeps the ticks in [lo, hi] to `max`.
fn step_for(lo: f64, hi: f64, max: usize) -> f64 {
    let raw = (hi - lo) / (max - 1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0, 20.0] {
        let step = m * mag;
        if count(lo, hi, step) <= max {
            return step;
        }
    }
    20.0 * mag
}

fn count(lo: f64, hi: f64, step: f64) -> usize {
    let (a, b) = bounds(lo, hi, step);
    (b - a + 1.0).max(0.0) as usize
}

/// The first and last multiples of `step` inside [lo, hi] (with room for rounding).
fn bounds(lo: f64, hi: f64, step: f64) -> (f64, f64) {
    ((lo / step - 1e-9).ceil(), (hi / step + 1e-9).floor())
}

fn linear_ticks(lo: f64, hi: f64, max: usize) -> Ticks {
    let step = step_for(lo, hi, max);
    let (a, b) = bounds(lo, hi, step);
    let values: Vec<f64> = (a as i64..=b as i64)
        .map(|i| {
            let v = i as f64 * step;
            if v == 0.0 {
                0.0
            } else {
                v
            }
        })
        .collect();
    let labels = linear_labels(&values, step);
    Ticks { values, labels }
}

/// Decimals that write multiples of `step` exactly (2.5 × 10ᵏ needs one more than 2 × 10ᵏ).
fn decimals(step: f64) -> usize {
    let e = (step.log10() + 1e-9).floor();
    let mantissa = step / 10f64.powf(e);
    let extra = usize::from((mantissa - mantissa.round()).abs() > 1e-6);
    (-e).max(0.0) as usize + extra
}

/// `v` with `d` decimals, trailing zeros (and a bare point) dropped; never "-0".
fn fixed(v: f64, d: usize) -> String {
    let s = format!("{v:.d$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];

/// Labels for multiples of `step`: plain decimals between 0.01 and 10,000, one unit (k, M, G,
/// T) for the whole axis above, and each number's own power of ten below 0.01 or above 1e15.
pub fn linear_labels(values: &[f64], step: f64) -> Vec<String> {
    let top = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    values
        .iter()
        .map(|&v| {
            let v = (v / step).round() * step;
            if v == 0.0 {
                "0".into()
            } else if !(1e-2..1e15).contains(&top) {
                scientific(v, step)
            } else if top >= 1e4 {
                let (unit, name) = UNITS.iter().find(|(u, _)| top >= *u).copied().unwrap();
                format!("{}{name}", fixed(v / unit, decimals(step / unit)))
            } else {
                fixed(v, decimals(step))
            }
        })
        .collect()
}

/// 2.4e-3: `v`'s own power of ten, with the decimals `step` needs at that power.
fn scientific(v: f64, step: f64) -> String {
    let e = (v.abs().log10() + 1e-9).floor();
    let p = 10f64.powf(e);
    format!("{}e{}", fixed(v / p, decimals(step / p)), e as i64)
}

/// One number written short on its own (a log axis tick): 0.5, 20, 10k, 1M, 1e-3.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !a.is_finite() {
        return if a == 0.0 { "0".into() } else { format!("{v}") };
    }
    let e = (a.log10() + 1e-9).floor();
    // Up to three significant digits.
    let step = 10f64.powf(e - 2.0);
    let v = (v / step).round() * step;
    if !(1e-2..1e15).contains(&a) {
        return scientific(v, step);
    }
    if a >= 1e4 {
        let (unit, name) = UNITS.iter().find(|(u, _)| a >= *u).copied().unwrap();
        return format!("{}{name}", fixed(v / unit, decimals(step / unit)));
    }
    fixed(v, decimals(step))
}

/// Decades, thinned to `max`; within less than three decades the 1-2-5 sequence, or 1-5, or
/// the decades alone, whichever first fits `max`; `None` when that leaves fewer than two ticks
/// (a linear axis is then clearer).
fn log_ticks(lo: f64, hi: f64, max: usize) -> Option<Ticks> {
    let (a, b) = (
        (lo.log10() - 1e-9).ceil() as i32,
        (hi.log10() + 1e-9).floor() as i32,
    );
    let decades = (b - a + 1).max(0) as usize;
    let values: Vec<f64> = if decades >= 3 {
        let stride = decades.div_ceil(max) as i32;
        (a..=b)
            .filter(|k| k.rem_euclid(stride) == 0)
            .map(|k| 10f64.powi(k))
            .collect()
    } else {
        let within = |ms: &[f64]| -> Vec<f64> {
            (a - 1..=b + 1)
                .flat_map(|k| ms.iter().map(move |m| m * 10f64.powi(k)))
                .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
                .collect()
        };
        [&[1.0, 2.0, 5.0][..], &[1.0, 5.0], &[1.0]]
            .iter()
            .map(|ms| within(ms))
            .find(|v| v.len() <= max)
            .unwrap_or_default()
    };
    if values.len() < 2 || values.len() > max {
        return None;
    }
    let labels = values.iter().map(|v| short(*v)).collect();
    Some(Ticks { values, labels })
}

/// A plotters coordinate over [lo, hi], linear or log, whose key points are its [`Ticks`].
#[derive(Debug, Clone)]
pub struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    pub ticks: Ticks,
}

impl Axis {
    /// An axis over [lo, hi] with at most `max` ticks.
    pub fn new(lo: f64, hi: f64, log: bool, max: usize) -> Self {
        let (lo, hi) = widen(lo, hi, log);
        let log = log && lo > 0.0;
        Self {
            lo,
            hi,
            log,
            ticks: ticks(lo, hi, max, log),
        }
    }

    /// An axis with ticks at fixed positions (a category axis), labelled by the caller.
    pub fn fixed(lo: f64, hi: f64, values: Vec<f64>, labels: Vec<String>) -> Self {
        Self {
            lo,
            hi,
            log: false,
            ticks: Ticks { values, labels },
        }
    }

    /// The longest label, in characters.
    pub fn widest(&self) -> usize {
        self.ticks
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    }

    /// The label of the tick at `v` (empty between ticks).
    pub fn label(&self, v: f64) -> String {
        let tol = if self.log {
            v.abs() * 1e-6
        } else {
            (self.hi - self.lo) * 1e-9
        };
        self.ticks
            .values
            .iter()
            .position(|t| (t - v).abs() <= tol)
            .map(|i| self.ticks.labels[i].clone())
            .unwrap_or_default()
    }

    fn pos(&self, v: f64) -> f64 {
        if self.log {
            (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = self.pos(*v).clamp(-100.0, 100.0);
        (f64::from(limit.0) + t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Light grid lines are not drawn: only the labelled ticks.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        self.ticks.values.clone()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, v: &f64) -> String {
        self.label(*v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(lo: f64, hi: f64, max: usize, log: bool) -> Vec<String> {
        let t = ticks(lo, hi, max, log);
        assert_eq!(t.values.len(), t.labels.len());
        assert!(t.values.len() >= 2, "{lo}..{hi}: {:?}", t.labels);
        assert!(t.values.len() <= max.max(2), "{lo}..{hi}: {:?}", t.labels);
        for w in t.labels.windows(2) {
            assert_ne!(w[0], w[1], "{lo}..{hi}: {:?}", t.labels);
        }
        for v in &t.values {
            let (a, b) = widen(lo, hi, log);
            assert!(*v >= a - (b - a) * 1e-9 && *v <= b + (b - a) * 1e-9);
        }
        t.labels
    }

    #[test]
    fn learning_rates_get_distinct_labels() {
        assert_eq!(
            labels(0.0021, 0.0031, 6, false),
            ["2.2e-3", "2.4e-3", "2.6e-3", "2.8e-3", "3e-3"]
        );
        assert_eq!(
            labels(0.0, 0.003, 7, false),
            ["0", "5e-4", "1e-3", "1.5e-3", "2e-3", "2.5e-3", "3e-3"]
        );
    }

    #[test]
    fn tokens_and_counts_are_written_short() {
        assert_eq!(
            labels(1e5, 2.4e5, 8, false),
            ["100k", "120k", "140k", "160k", "180k", "200k", "220k", "240k"]
        );
        assert_eq!(
            labels(0.0, 120_000.0, 7, false),
            ["0", "20k", "40k", "60k", "80k", "100k", "120k"]
        );
        assert_eq!(
            labels(0.0, 2.5e6, 6, false),
            ["0", "0.5M", "1M", "1.5M", "2M", "2.5M"]
        );
        assert_eq!(
            labels(0.0, 1.0, 5, false),
            ["0", "0.25", "0.5", "0.75", "1"]
        );
        assert_eq!(
            labels(0.0, 23_000.0, 6, false),
            ["0", "5k", "10k", "15k", "20k"]
        );
    }

    #[test]
    fn tiny_huge_negative_and_single_ranges() {
        assert_eq!(labels(1e-9, 3e-9, 3, false), ["1e-9", "2e-9", "3e-9"]);
        assert_eq!(labels(1e18, 3e18, 3, false), ["1e18", "2e18", "3e18"]);
        assert_eq!(labels(-1.0, 1.0, 5, false), ["-1", "-0.5", "0", "0.5", "1"]);
        // Very close values still get distinct labels.
        labels(1.000001, 1.000002, 6, false);
        labels(123456.7, 123456.9, 6, false);
        // One value: widened around itself.
        assert_eq!(
            labels(5.0, 5.0, 5, false),
            ["4.6", "4.8", "5", "5.2", "5.4"]
        );
        // Zeros alone (nothing counted) stay on the non-negative side.
        assert_eq!(
            labels(0.0, 0.0, 5, false),
            ["0", "0.25", "0.5", "0.75", "1"]
        );
        labels(0.003, 0.003, 5, false);
        labels(7.0, 7.0, 5, true);
    }

    #[test]
    fn log_axes_use_decades_or_one_two_five() {
        assert_eq!(
            labels(0.001, 1000.0, 8, true),
            ["1e-3", "0.01", "0.1", "1", "10", "100", "1000"]
        );
        assert_eq!(labels(1.0, 1e12, 5, true), ["1", "1000", "1M", "1G", "1T"]);
        assert_eq!(labels(3.0, 40.0, 8, true), ["5", "10", "20"]);
        // Two and a half decades with room for 5 ticks: 1-5 (1-2-5 would be 7), never the
        // linear 200k, 400k, .. that crowd the right end of a log axis.
        assert_eq!(
            labels(2048.0, 819_200.0, 5, true),
            ["5000", "10k", "50k", "100k", "500k"]
        );
        assert_eq!(labels(2048.0, 819_200.0, 3, true), ["10k", "100k"]);
        // Less than a 1-2-5 step apart: linear ticks on the log axis.
        labels(2.1, 2.9, 6, true);
        assert_eq!(short(9.999999999999998), "10");
        assert_eq!(short(1e-6 - 1e-21), "1e-6");
        assert_eq!(short(1.5e6), "1.5M");
        assert_eq!(short(0.25), "0.25");
    }

    #[test]
    fn the_axis_maps_and_labels_its_ticks() {
        let a = Axis::new(0.0, 10.0, false, 6);
        assert_eq!(a.map(&5.0, (0, 100)), 50);
        assert_eq!(a.label(4.0), "4");
        assert_eq!(a.label(3.0), "");
        let l = Axis::new(1.0, 100.0, true, 6);
        assert_eq!(l.map(&10.0, (0, 100)), 50);
        assert_eq!(l.label(10.0), "10");
    }
}
