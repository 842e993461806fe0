//! Linear warmup + cosine decay: the paper's schedule, upstream and (re-warmed) downstream.

use super::{lr_str, warm, Schedule};
use std::f64::consts::PI;

/// Linear warmup to `max` over `warmup` steps, then cosine decay to `min` at step `total`.
pub struct WarmupCosine {
    pub start: f64,
    pub max: f64,
    pub min: f64,
    pub warmup: u64,
    pub total: u64,
}

impl Schedule for WarmupCosine {
    fn lr(&self, t: u64) -> f64 {
        if t < self.warmup {
            return warm(self.start, self.max, self.warmup, t);
        }
        let span = self.total.saturating_sub(self.warmup).max(1) as f64;
        let p = ((t - self.warmup) as f64 / span).min(1.0);
        self.min + (self.max - self.min) * 0.5 * (1.0 + (PI * p).cos())
    }
    fn describe(&self) -> String {
        format!(
            "linear warmup {} -> {} over {} steps, cosine to {} at step {}",
            lr_str(self.start),
            lr_str(self.max),
            self.warmup,
            lr_str(self.min),
            self.total
        )
    }
}
