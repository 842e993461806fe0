//! A published number with the tolerance a measured one is held to, and the verdict on a
//! measured one. The paper's numbers ([`crate::paper`]) are written as targets, so the
//! generator's calibration and the report's verdict column judge a number the same way.

use serde::Serialize;

/// What the paper states, and how close a measurement must come to count as the same.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// `value ± tol`.
    Near { value: f64, tol: f64 },
    /// `value`, within `rel` of it (0.15: ± 15 %).
    Rel { value: f64, rel: f64 },
    /// "About `value`": anything from `lo` to `hi` counts.
    About { value: f64, lo: f64, hi: f64 },
    /// Published as a range.
    Between { lo: f64, hi: f64 },
    /// Published as "over" a bound.
    Over(f64),
    /// Published as "under" a bound.
    Under(f64),
    /// An hour of the day, `hour ± tol` around the clock.
    Hour { hour: f64, tol: f64 },
}

/// How a number is written: as it is, as a percentage of a share, or as a ratio ("1.3x").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    Plain,
    Percent,
    Times,
}

/// A measured number against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Inside the target's tolerance.
    Within,
    /// Outside it.
    Outside,
    /// The number cannot be set beside the published one: the store is not the size it needs,
    /// or the number could not be measured.
    NotComparable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Within => "within tolerance",
            Verdict::Outside => "outside",
            Verdict::NotComparable => "not comparable",
        }
    }
}

/// Slack at a tolerance's edge, so that 0.65 is within 0.6 ± 0.05 whatever the rounding of
/// 0.65 - 0.6.
const EDGE: f64 = 1e-12;

impl Target {
    /// `value ± tol`.
    pub const fn near(value: f64, tol: f64) -> Self {
        Target::Near { value, tol }
    }

    /// "About `value`": anything from `lo` to `hi`.
    pub const fn about(value: f64, lo: f64, hi: f64) -> Self {
        Target::About { value, lo, hi }
    }

    /// From `lo` to `hi`.
    pub const fn between(lo: f64, hi: f64) -> Self {
        Target::Between { lo, hi }
    }

    /// Whether `x` is within the tolerance (never for NaN).
    pub fn holds(&self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        match *self {
            Target::Near { value, tol } => (x - value).abs() <= tol + EDGE,
            Target::Rel { value, rel } => (x - value).abs() <= rel * value.abs() + EDGE,
            Target::About { lo, hi, .. } | Target::Between { lo, hi } => (lo..=hi).contains(&x),
            Target::Over(v) => x > v,
            Target::Under(v) => x < v,
            Target::Hour { hour, tol } => crate::paper::hours_apart(x, hour) <= tol,
        }
    }

    /// Within or outside; not comparable when `x` is not a finite number.
    pub fn verdict(&self, x: f64) -> Verdict {
        if !x.is_finite() {
            Verdict::NotComparable
        } else if self.holds(x) {
            Verdict::Within
        } else {
            Verdict::Outside
        }
    }

    /// The target with its tolerance, as the calibration and the report print it:
    /// `0.6 ± 0.05`, `60 ± 5 %`, `about 4 (2 to 8)`, `between 0.1 and 2`, `over 10`,
    /// `3.24 ± 15 %`, `10:00 ± 2 h`.
    pub fn text(&self, units: Units) -> String {
        let n = |x: f64| show(x, units);
        let pct = if units == Units::Percent { " %" } else { "" };
        let times = if units == Units::Times { "x" } else { "" };
        let bare = |x: f64| format!("{}{times}", show(x, units));
        match *self {
            Target::Near { value, tol } => format!("{}{times} ± {}{pct}", n(value), n(tol)),
            Target::Rel { value, rel } => {
                format!("{}{pct}{times} ± {} %", n(value), short(rel * 100.0))
            }
            Target::About { value, lo, hi } => format!(
                "about {}{pct} ({} to {}{pct})",
                bare(value),
                bare(lo),
                bare(hi)
            ),
            Target::Between { lo, hi } => {
                format!("between {} and {}{pct}", bare(lo), bare(hi))
            }
            Target::Over(v) => format!("over {}{pct}", bare(v)),
            Target::Under(v) => format!("under {}{pct}", bare(v)),
            Target::Hour { hour, tol } => format!("{} ± {} h", clock(hour), short(tol)),
        }
    }
}

/// `x` as `units` write it, without the unit: a share as a percentage (0.6: 60).
pub fn show(x: f64, units: Units) -> String {
    match units {
        Units::Percent => short(x * 100.0),
        Units::Plain | Units::Times => short(x),
    }
}

/// `x` with three significant digits, trailing zeros dropped (0.05, 3.24, 7.1, 1190731).
pub fn short(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// An hour of the day as `hh:mm`.
pub fn clock(hour: f64) -> String {
    let minutes = (hour.rem_euclid(24.0) * 60.0).round() as u32 % (24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_by_hand() {
        let near = Target::Near {
            value: 0.6,
            tol: 0.05,
        };
        assert!(near.holds(0.55) && near.holds(0.65) && !near.holds(0.66));
        assert_eq!(near.text(Units::Plain), "0.6 ± 0.05");
        assert_eq!(near.text(Units::Percent), "60 ± 5 %");
        let rel = Target::Rel {
            value: 3.24,
            rel: 0.15,
        };
        // 3.24 × 0.85 = 2.754, 3.24 × 1.15 = 3.726.
        assert!(rel.holds(2.76) && rel.holds(3.72) && !rel.holds(2.75) && !rel.holds(3.73));
        assert_eq!(rel.text(Units::Plain), "3.24 ± 15 %");
        let about = Target::About {
            value: 4.0,
            lo: 2.0,
            hi: 8.0,
        };
        assert!(about.holds(2.0) && about.holds(8.0) && !about.holds(8.01));
        assert_eq!(about.text(Units::Plain), "about 4 (2 to 8)");
        let about_pct = Target::About {
            value: 0.3,
            lo: 0.22,
            hi: 0.38,
        };
        assert_eq!(about_pct.text(Units::Percent), "about 30 % (22 to 38 %)");
        assert_eq!(
            Target::Between { lo: 0.1, hi: 2.0 }.text(Units::Plain),
            "between 0.1 and 2"
        );
        assert!(!Target::Over(10.0).holds(10.0) && Target::Over(10.0).holds(10.01));
        assert_eq!(Target::Over(0.6).text(Units::Percent), "over 60 %");
        assert!(Target::Under(0.3).holds(0.29) && !Target::Under(0.3).holds(0.3));
        let hour = Target::Hour {
            hour: 1.0,
            tol: 2.0,
        };
        // 23:30 is 1.5 h before 01:00 around the clock; 03:30 is 2.5 h after.
        assert!(hour.holds(23.5) && !hour.holds(3.5));
        assert_eq!(hour.text(Units::Plain), "01:00 ± 2 h");
        assert_eq!(
            Target::About {
                value: 1.3,
                lo: 1.15,
                hi: 1.45
            }
            .text(Units::Times),
            "about 1.3x (1.15x to 1.45x)"
        );
    }

    #[test]
    fn verdicts() {
        let t = Target::Under(1.0);
        assert_eq!(t.verdict(0.5), Verdict::Within);
        assert_eq!(t.verdict(1.5), Verdict::Outside);
        assert_eq!(t.verdict(f64::NAN), Verdict::NotComparable);
        assert_eq!(t.verdict(f64::INFINITY), Verdict::NotComparable);
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.05), "0.05");
        assert_eq!(short(0.5744), "0.574");
        assert_eq!(short(7.10), "7.1");
        assert_eq!(short(1_190_731.0), "1190731");
        assert_eq!(short(-0.1), "-0.1");
        assert_eq!(short(0.0), "0");
        assert_eq!(clock(9.999), "10:00");
        assert_eq!(clock(23.99), "23:59");
    }
}
