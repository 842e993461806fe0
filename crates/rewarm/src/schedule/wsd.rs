//! Warmup-stable-decay, and constant-with-warmup as its case without a cooldown.

use super::{lr_str, Common, Cooldown, Family, Schedule, ScheduleConfig, StudyVariant};
use anyhow::{bail, Result};
use std::f64::consts::PI;

pub static FAMILY: Family = Family {
    name: "wsd",
    description: "warmup, stable at max_lr, then a linear or cosine cooldown to min_ratio * max_lr over the last steps",
    parameters: &["cooldown_steps", "cooldown_fraction", "cooldown"],
    build,
    study: &[StudyVariant {
        name: "wsd",
        config: |base, p| ScheduleConfig {
            cooldown_fraction: Some(p.wsd_cooldown),
            ..base
        },
    }],
};

fn build(cfg: &ScheduleConfig, c: Common) -> Result<Box<dyn Schedule>> {
    let cooldown = cfg.cooldown_len(c.total)?;
    let (warmup, total) = (c.warmup, c.total);
    if warmup + cooldown > total {
        bail!("schedule: warmup {warmup} + cooldown {cooldown} steps exceed the run ({total})");
    }
    if cfg.cooldown == Cooldown::InvSqrt {
        bail!("schedule: an inv-sqrt cooldown belongs to kind `infinite`; `wsd` cools down linear or cosine");
    }
    Ok(Box::new(WarmupStableDecay {
        common: c,
        cooldown,
        cosine: cfg.cooldown == Cooldown::Cosine,
    }))
}

/// Warmup, a stable phase at `max`, then a cooldown of `cooldown` steps to `min`
/// (linear or cosine). With no cooldown it is constant-with-warmup.
pub struct WarmupStableDecay {
    pub common: Common,
    pub cooldown: u64,
    pub cosine: bool,
}

impl Schedule for WarmupStableDecay {
    fn lr(&self, t: u64) -> f64 {
        let c = &self.common;
        if let Some(lr) = c.warming(t) {
            return lr;
        }
        let decay_start = c.total - self.cooldown;
        if self.cooldown == 0 || t < decay_start {
            return c.max;
        }
        let p = ((t - decay_start) as f64 / self.cooldown as f64).min(1.0);
        if self.cosine {
            c.min + (c.max - c.min) * 0.5 * (1.0 + (PI * p).cos())
        } else {
            c.max - (c.max - c.min) * p
        }
    }
    fn describe(&self) -> String {
        let c = &self.common;
        if self.cooldown == 0 {
            format!("{}, then constant", c.describe_warmup())
        } else {
            format!(
                "{}, stable, {} cooldown to {} over the last {} steps",
                c.describe_warmup(),
                if self.cosine { "cosine" } else { "linear" },
                lr_str(c.min),
                self.cooldown
            )
        }
    }
}
