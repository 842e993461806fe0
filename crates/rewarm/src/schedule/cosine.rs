//! Linear warmup + cosine decay: the paper's schedule, upstream and (re-warmed) downstream,
//! optionally reaching its minimum before the run ends and staying there (Gupta et al.'s
//! downstream schedule: the minimum at 240 B of 297 B tokens).

use super::{Common, Family, Schedule, ScheduleConfig, StudyVariant};
use anyhow::{bail, Result};
use std::f64::consts::PI;

pub static FAMILY: Family = Family {
    name: "cosine",
    description: "linear warmup, then cosine decay to min_ratio * max_lr at the last step (or at decay_steps, then constant)",
    parameters: &["decay_steps", "decay_fraction"],
    build,
    study: &[StudyVariant {
        name: "cosine",
        config: |base, _| base,
    }],
};

fn build(cfg: &ScheduleConfig, c: Common) -> Result<Box<dyn Schedule>> {
    let end = match (cfg.decay_steps, cfg.decay_fraction) {
        (None, None) => c.total,
        _ => super::steps("decay", cfg.decay_steps, cfg.decay_fraction, c.total)?,
    };
    if end < c.warmup || end > c.total {
        bail!(
            "schedule: decay_steps {end} must lie between the warmup's end (step {}) and the run's last step ({})",
            c.warmup,
            c.total
        );
    }
    Ok(Box::new(WarmupCosine { common: c, end }))
}

/// Linear warmup to `max` over `warmup` steps, then cosine decay to `min` at step `end`
/// (the run's last step unless `decay_steps` says earlier), then `min`.
pub struct WarmupCosine {
    pub common: Common,
    pub end: u64,
}

impl Schedule for WarmupCosine {
    fn lr(&self, t: u64) -> f64 {
        let c = &self.common;
        if let Some(lr) = c.warming(t) {
            return lr;
        }
        let span = self.end.saturating_sub(c.warmup).max(1) as f64;
        let p = ((t - c.warmup) as f64 / span).min(1.0);
        c.min + (c.max - c.min) * 0.5 * (1.0 + (PI * p).cos())
    }
    fn describe(&self) -> String {
        let c = &self.common;
        format!(
            "{}, cosine to {} at step {}{}",
            c.describe_warmup(),
            super::lr_str(c.min),
            self.end,
            if self.end < c.total {
                ", then constant"
            } else {
                ""
            }
        )
    }
}
