//! Warmup-stable-decay, and constant-with-warmup as its case without a cooldown.

use super::{lr_str, warm, Schedule};
use std::f64::consts::PI;

/// Warmup, a stable phase at `max`, then a cooldown of `cooldown` steps to `min`
/// (linear or cosine). With no cooldown it is constant-with-warmup.
pub struct WarmupStableDecay {
    pub start: f64,
    pub max: f64,
    pub min: f64,
    pub warmup: u64,
    pub total: u64,
    pub cooldown: u64,
    pub cosine: bool,
}

impl Schedule for WarmupStableDecay {
    fn lr(&self, t: u64) -> f64 {
        if t < self.warmup {
            return warm(self.start, self.max, self.warmup, t);
        }
        let decay_start = self.total - self.cooldown;
        if self.cooldown == 0 || t < decay_start {
            return self.max;
        }
        let p = ((t - decay_start) as f64 / self.cooldown as f64).min(1.0);
        if self.cosine {
            self.min + (self.max - self.min) * 0.5 * (1.0 + (PI * p).cos())
        } else {
            self.max - (self.max - self.min) * p
        }
    }
    fn describe(&self) -> String {
        if self.cooldown == 0 {
            format!(
                "linear warmup {} -> {} over {} steps, then constant",
                lr_str(self.start),
                lr_str(self.max),
                self.warmup
            )
        } else {
            format!(
                "linear warmup {} -> {} over {} steps, stable, {} cooldown to {} over the last {} steps",
                lr_str(self.start),
                lr_str(self.max),
                self.warmup,
                if self.cosine { "cosine" } else { "linear" },
                lr_str(self.min),
                self.cooldown
            )
        }
    }
}
