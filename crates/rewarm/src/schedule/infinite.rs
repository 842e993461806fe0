//! The "infinite" schedule of Ibrahim et al. (2024): linear warmup to `max`, a cooldown to a
//! constant `constant` (cosine or inverse square root), a constant phase that can go on for
//! as long as data keeps coming, and a short final anneal to `min`:
//!
//! - cosine cooldown: `lr = c + (max - c) / 2 * (1 + cos(pi * x))`,
//! - inverse-sqrt cooldown: `lr = max + (c - max) * h(x) / h(1)`, `h(x) = 1 / sqrt(1 + alpha x) - 1`,
//! - anneal: `lr = c * (min / c) ^ y` (exponential),
//!
//! where `x` runs from 0 to 1 over the cooldown and `y` over the anneal.

use super::{lr_str, warm, Schedule};
use std::f64::consts::PI;

/// The cooldown shape of an [`Infinite`] schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InfiniteCooldown {
    Cosine,
    /// Inverse square root with this `alpha` (larger: a steeper start).
    InvSqrt(f64),
}

pub struct Infinite {
    pub start: f64,
    pub max: f64,
    pub constant: f64,
    pub min: f64,
    pub warmup: u64,
    /// Steps of the cooldown from `max` to `constant`, right after the warmup.
    pub cooldown: u64,
    /// Steps of the final anneal from `constant` to `min`, ending at `total`.
    pub anneal: u64,
    pub total: u64,
    pub shape: InfiniteCooldown,
}

impl Schedule for Infinite {
    fn lr(&self, t: u64) -> f64 {
        if t < self.warmup {
            return warm(self.start, self.max, self.warmup, t);
        }
        let (max, c) = (self.max, self.constant);
        let cooled = self.warmup + self.cooldown;
        if t < cooled {
            let x = (t - self.warmup) as f64 / self.cooldown as f64;
            return match self.shape {
                InfiniteCooldown::Cosine => c + (max - c) * 0.5 * (1.0 + (PI * x).cos()),
                InfiniteCooldown::InvSqrt(alpha) => {
                    let h = |x: f64| 1.0 / (1.0 + alpha * x).sqrt() - 1.0;
                    max + (c - max) * h(x) / h(1.0)
                }
            };
        }
        let anneal_start = self.total - self.anneal;
        if self.anneal == 0 || t < anneal_start {
            return c;
        }
        let y = ((t - anneal_start) as f64 / self.anneal as f64).min(1.0);
        if c == 0.0 {
            return 0.0;
        }
        c * (self.min / c).powf(y)
    }
    fn describe(&self) -> String {
        let shape = match self.shape {
            InfiniteCooldown::Cosine => "cosine".to_string(),
            InfiniteCooldown::InvSqrt(a) => format!("inverse-sqrt (alpha {a})"),
        };
        format!(
            "linear warmup {} -> {} over {} steps, {shape} cooldown to {} over {} steps, constant, exponential anneal to {} over the last {} steps",
            lr_str(self.start),
            lr_str(self.max),
            self.warmup,
            lr_str(self.constant),
            self.cooldown,
            lr_str(self.min),
            self.anneal
        )
    }
}
