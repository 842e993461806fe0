//! Per-minute request counts as a workload (the release's `quantiles/R*/requests` tables):
//! the requests of each function-minute arrive at seeded uniform times within it. Memory follows
//! function-minutes, not requests.

use std::ops::Range;

use anyhow::Result;

use super::{sort, Function, Invocation, Workload};
use crate::rng::{mix, unit};

/// A region's per-minute request counts: each function-minute's requests arrive spread over
/// the minute (at seeded uniform positions), each running for that minute's median execution
/// time (`totalCost` quantile 0.5; the function's median over its minutes where the minute has
/// none). Memory follows function-minutes, not requests.
pub struct MinuteCounts {
    pub functions: Vec<Function>,
    /// (minute, function, requests, execution seconds), by minute.
    pub counts: Vec<(u32, u32, u32, f32)>,
    pub seed: u64,
    /// What was left out, for the report.
    pub notes: Vec<String>,
}

impl Workload for MinuteCounts {
    fn functions(&self) -> &[Function] {
        &self.functions
    }

    fn days(&self) -> Range<u32> {
        match (self.counts.first(), self.counts.last()) {
            (Some(a), Some(b)) => a.0 / 1440..b.0 / 1440 + 1,
            _ => 0..0,
        }
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        let (m0, m1) = (day * 1440, (day + 1) * 1440);
        let a = self.counts.partition_point(|c| c.0 < m0);
        let b = self.counts.partition_point(|c| c.0 < m1);
        let mut out = Vec::new();
        for &(minute, func, n, exec) in &self.counts[a..b] {
            let key = mix(self.seed ^ mix((u64::from(func) << 32) | u64::from(minute)));
            for k in 0..n {
                let u = unit(key ^ u64::from(k));
                out.push(Invocation {
                    t: (f64::from(minute) + u) * 60.0,
                    func,
                    exec: f64::from(exec),
                });
            }
        }
        sort(&mut out);
        Ok(out)
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        let (m0, m1) = (day * 1440, (day + 1) * 1440);
        let a = self.counts.partition_point(|c| c.0 < m0);
        let b = self.counts.partition_point(|c| c.0 < m1);
        Some(self.counts[a..b].iter().map(|c| u64::from(c.2)).sum())
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self.notes.clone();
        notes.push(
            "per-minute counts: each minute's requests arrive at seeded uniform times within it \
              and run for the minute's median execution time (totalCost quantile 0.5); \
              concurrency 1"
                .into(),
        );
        notes
    }
}
