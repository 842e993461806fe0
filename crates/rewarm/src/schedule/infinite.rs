//! The "infinite" schedule of Ibrahim et al. (2024): linear warmup to `max`, a cooldown to a
//! constant `constant` (cosine or inverse square root), a constant phase that can go on for
//! as long as data keeps coming, and a short final anneal to `min`:
//!
//! - cosine cooldown: `lr = c + (max - c) / 2 * (1 + cos(pi * x))`,
//! - inverse-sqrt cooldown: `lr = max + (c - max) * h(x) / h(1)`, `h(x) = 1 / sqrt(1 + alpha x) - 1`,
//! - anneal: `lr = c * (min / c) ^ y` (exponential),
//!
//! where `x` runs from 0 to 1 over the cooldown and `y` over the anneal.

use super::{
    lr_str, steps, Common, Cooldown, Family, Schedule, ScheduleConfig, StudyParams, StudyVariant,
};
use anyhow::{bail, Result};
use std::f64::consts::PI;

/// The constant phase's LR as a share of the maximum when a config gives none.
pub(crate) const DEFAULT_CONSTANT_RATIO: f64 = 0.55;
/// The inverse-sqrt cooldown's alpha when a config gives none.
pub(crate) const DEFAULT_ALPHA: f64 = 1.0;

pub static FAMILY: Family = Family {
    name: "infinite",
    description: "warmup, a cosine or inv-sqrt cooldown to constant_ratio * max_lr, constant, then an exponential anneal to min_ratio * max_lr over the last anneal steps",
    parameters: &[
        "cooldown_steps",
        "cooldown_fraction",
        "cooldown",
        "constant_ratio",
        "anneal_steps",
        "anneal_fraction",
        "inv_sqrt_alpha",
    ],
    build,
    study: &[
        StudyVariant {
            name: "infinite",
            config: |base, p| study(base, p, Cooldown::Cosine),
        },
        StudyVariant {
            name: "infinite-inv-sqrt",
            config: |base, p| study(base, p, Cooldown::InvSqrt),
        },
    ],
};

/// A study's infinite schedule with a `cooldown` of this shape and the grid's shares.
fn study(base: ScheduleConfig, p: &StudyParams, cooldown: Cooldown) -> ScheduleConfig {
    ScheduleConfig {
        cooldown_fraction: Some(p.infinite_cooldown),
        anneal_fraction: Some(p.infinite_anneal),
        constant_ratio: Some(p.infinite_constant),
        cooldown,
        inv_sqrt_alpha: (cooldown == Cooldown::InvSqrt).then_some(p.infinite_alpha),
        ..base
    }
}

fn build(cfg: &ScheduleConfig, c: Common) -> Result<Box<dyn Schedule>> {
    let (warmup, total) = (c.warmup, c.total);
    let cooldown = cfg.cooldown_len(total)?;
    let anneal = steps("anneal", cfg.anneal_steps, cfg.anneal_fraction, total)?;
    if warmup + cooldown + anneal > total {
        bail!("schedule: warmup {warmup} + cooldown {cooldown} + anneal {anneal} steps exceed the run ({total})");
    }
    let ratio = cfg.constant_ratio.unwrap_or(DEFAULT_CONSTANT_RATIO);
    if !(0.0..=1.0).contains(&ratio) {
        bail!("schedule: constant_ratio {ratio} is not in [0, 1]");
    }
    let shape = match cfg.cooldown {
        Cooldown::Cosine => InfiniteCooldown::Cosine,
        Cooldown::InvSqrt => {
            let a = cfg.inv_sqrt_alpha.unwrap_or(DEFAULT_ALPHA);
            if !(a.is_finite() && a > 0.0) {
                bail!("schedule: inv_sqrt_alpha {a} must be positive");
            }
            InfiniteCooldown::InvSqrt(a)
        }
        Cooldown::Linear => {
            bail!("schedule: kind `infinite` cools down `cosine` or `inv-sqrt`")
        }
    };
    Ok(Box::new(Infinite {
        constant: ratio * c.max,
        common: c,
        cooldown,
        anneal,
        shape,
    }))
}

/// The cooldown shape of an [`Infinite`] schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InfiniteCooldown {
    Cosine,
    /// Inverse square root with this `alpha` (larger: a steeper start).
    InvSqrt(f64),
}

pub struct Infinite {
    pub common: Common,
    pub constant: f64,
    /// Steps of the cooldown from `max` to `constant`, right after the warmup.
    pub cooldown: u64,
    /// Steps of the final anneal from `constant` to `min`, ending at `total`.
    pub anneal: u64,
    pub shape: InfiniteCooldown,
}

impl Schedule for Infinite {
    fn lr(&self, t: u64) -> f64 {
        let common = &self.common;
        if let Some(lr) = common.warming(t) {
            return lr;
        }
        let (max, c) = (common.max, self.constant);
        let cooled = common.warmup + self.cooldown;
        if t < cooled {
            let x = (t - common.warmup) as f64 / self.cooldown as f64;
            return match self.shape {
                InfiniteCooldown::Cosine => c + (max - c) * 0.5 * (1.0 + (PI * x).cos()),
                InfiniteCooldown::InvSqrt(alpha) => {
                    let h = |x: f64| 1.0 / (1.0 + alpha * x).sqrt() - 1.0;
                    max + (c - max) * h(x) / h(1.0)
                }
            };
        }
        let anneal_start = common.total - self.anneal;
        if self.anneal == 0 || t < anneal_start {
            return c;
        }
        let y = ((t - anneal_start) as f64 / self.anneal as f64).min(1.0);
        if c == 0.0 {
            return 0.0;
        }
        c * (common.min / c).powf(y)
    }
    fn describe(&self) -> String {
        let shape = match self.shape {
            InfiniteCooldown::Cosine => "cosine".to_string(),
            InfiniteCooldown::InvSqrt(a) => format!("inverse-sqrt (alpha {a})"),
        };
        format!(
            "{}, {shape} cooldown to {} over {} steps, constant, exponential anneal to {} over the last {} steps",
            self.common.describe_warmup(),
            lr_str(self.constant),
            self.cooldown,
            lr_str(self.common.min),
            self.anneal
        )
    }
}
