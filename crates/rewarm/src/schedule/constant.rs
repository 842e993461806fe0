//! One learning rate throughout: the no-re-warm baseline, and constant after a warmup.

use super::{lr_str, Common, Family, Schedule, ScheduleConfig, WarmupStableDecay};
use anyhow::{bail, Result};

pub static FAMILY: Family = Family {
    name: "constant",
    description: "max_lr throughout (the no-re-warm baseline); no warmup",
    parameters: &[],
    build,
    study: &[],
};

fn build(_: &ScheduleConfig, c: Common) -> Result<Box<dyn Schedule>> {
    if c.warmup != 0 {
        bail!("schedule: kind `constant` has no warmup; use `constant-warmup`");
    }
    Ok(Box::new(Constant { lr: c.max }))
}

pub static WARMUP: Family = Family {
    name: "constant-warmup",
    description: "linear warmup, then max_lr",
    parameters: &[],
    build: build_warmup,
    study: &[],
};

/// A WSD schedule without a cooldown, staying at the maximum.
fn build_warmup(_: &ScheduleConfig, c: Common) -> Result<Box<dyn Schedule>> {
    Ok(Box::new(WarmupStableDecay {
        common: Common { min: c.max, ..c },
        cooldown: 0,
        cosine: false,
    }))
}

/// The no-re-warm baseline: one LR throughout.
pub struct Constant {
    pub lr: f64,
}

impl Schedule for Constant {
    fn lr(&self, _t: u64) -> f64 {
        self.lr
    }
    fn describe(&self) -> String {
        format!("constant {}", lr_str(self.lr))
    }
}
