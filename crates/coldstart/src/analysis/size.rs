//! How big a store is against the trace the paper measured: its cold starts a day over the
//! published ones a day. Numbers that move with volume (the times between cold starts, the
//! correlations of per-minute means) are set beside the paper's only through it: a synthetic
//! release at `--scale 0.05` has cold starts twenty times as far apart as the trace.

use std::rc::Rc;

use anyhow::Result;

use super::{judged, num, Cx, KeyNumber, Target, Units};
use coldstart_trace::paper::{REGIONS, RUNTIME_COLD_STARTS_R2, TOTAL_COLD_STARTS};
use coldstart_trace::schema::TRACE_DAYS;

/// A store's size against the paper's trace.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreSize {
    /// Cold starts a day in the store over the published ones a day; None when the store holds
    /// neither all five regions nor R2, the only totals the paper gives.
    pub ratio: Option<f64>,
    /// What the ratio was measured on.
    pub basis: String,
}

impl StoreSize {
    /// From each region's cold starts and the days they cover.
    pub fn from_counts(per_region: &[(String, f64, f64)]) -> Self {
        let per_day = |r: &str| {
            per_region
                .iter()
                .find(|(name, _, _)| name == r)
                .filter(|(_, _, days)| *days > 0.0)
                .map(|(_, n, days)| n / days)
        };
        let days = TRACE_DAYS as f64;
        if REGIONS.iter().all(|r| per_day(r).is_some()) {
            let n: f64 = REGIONS.iter().filter_map(|r| per_day(r)).sum();
            StoreSize {
                ratio: Some(n / (TOTAL_COLD_STARTS / days)),
                basis: format!(
                    "all five regions' cold starts a day, {n:.0}, against the paper's 11.9 million over {days} days"
                ),
            }
        } else if let Some(n) = per_day("R2") {
            let published: u64 = RUNTIME_COLD_STARTS_R2.iter().map(|(_, c)| c).sum();
            StoreSize {
                ratio: Some(n / (published as f64 / days)),
                basis: format!(
                    "R2's cold starts a day, {n:.0}, against the paper's {published} (Fig 8e) over {days} days"
                ),
            }
        } else {
            StoreSize {
                ratio: None,
                basis: "the store holds neither all five regions nor R2, whose cold starts the paper totals".into(),
            }
        }
    }

    /// The size as the report states it.
    pub fn text(&self) -> String {
        match self.ratio {
            Some(r) => format!("{r:.3} of the paper's trace ({})", self.basis),
            None => format!("unknown: {}", self.basis),
        }
    }

    /// A time between cold starts judged at the paper's size: in a store `ratio` of the trace's
    /// size they are 1/ratio as long, so the measured time times the ratio is set beside the
    /// published one. Not comparable when the size is unknown.
    pub fn gap(&self, what: String, seconds: f64, target: Target) -> KeyNumber {
        match self.ratio {
            Some(r) => KeyNumber {
                measured: format!(
                    "{} at the trace's size ({} here)",
                    num(seconds * r),
                    num(seconds)
                ),
                ..judged(what, seconds * r, Units::Plain, target)
            }
            .with_note(format!(
                "times between cold starts scale as 1/size: measured × {r:.3}, the store's size"
            )),
            None => judged(what, seconds, Units::Plain, target).not_comparable(format!(
                "times between cold starts scale as 1/size, and the store's size is {}",
                self.text()
            )),
        }
    }

    /// Whether the store is at least `share` of the trace's size.
    pub fn at_least(&self, share: f64) -> bool {
        self.ratio.is_some_and(|r| r >= share)
    }
}

/// The store's size, measured once per report on all its cold starts (not only `--region`'s).
pub fn of(cx: &Cx) -> Result<Rc<StoreSize>> {
    cx.memo("store size", || {
        if cx
            .avail
            .tables
            .get("cold_starts")
            .is_none_or(|r| r.is_empty())
        {
            return Ok(StoreSize::from_counts(&[]));
        }
        let c = cx.columns(
            "SELECT region, CAST(COUNT(*) AS DOUBLE) AS n, \
             CAST(COUNT(DISTINCT day) AS DOUBLE) AS days FROM cold_starts GROUP BY region",
        )?;
        let counts: Vec<(String, f64, f64)> = (0..c.len())
            .map(|i| (c.s("region")[i].clone(), c.f("n")[i], c.f("days")[i]))
            .collect();
        Ok(StoreSize::from_counts(&counts))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_by_hand() {
        // 11.9 M over 31 days is 383,871 a day; five regions with 3,838.71 a day in all is 0.01.
        let per_day = 11.9e6 / 31.0 / 100.0 / 5.0;
        let all: Vec<_> = REGIONS
            .iter()
            .map(|r| (r.to_string(), per_day * 2.0, 2.0))
            .collect();
        let s = StoreSize::from_counts(&all);
        assert!((s.ratio.unwrap() - 0.01).abs() < 1e-12, "{s:?}");
        assert!(s.at_least(0.01) && !s.at_least(0.011));
        // R2 alone: 2,072,823 over 31 days; a tenth of that a day over 3 days.
        let r2 = 2_072_823.0 / 31.0 / 10.0;
        let s = StoreSize::from_counts(&[("R2".into(), r2 * 3.0, 3.0)]);
        assert!((s.ratio.unwrap() - 0.1).abs() < 1e-12, "{s:?}");
        assert!(s.basis.starts_with("R2's cold starts a day"));
        let s = StoreSize::from_counts(&[("R1".into(), 10.0, 1.0)]);
        assert!(s.ratio.is_none() && s.text().starts_with("unknown"));
    }
}
