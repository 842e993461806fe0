//! Learning-rate schedules of spec section 5, as functions of the optimiser step.
//!
//! Re-warming is not a schedule of its own: it is a fresh schedule started on weights loaded
//! from a checkpoint, so every schedule here counts steps from the start of its own run.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The LR for optimiser step `t` (0-based) of a run of `total` steps.
pub trait Schedule {
    fn lr(&self, t: u64) -> f64;
    fn describe(&self) -> String;
}

/// The schedules there are, as a run config names them.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// Linear warmup, then cosine decay to `min_ratio * max_lr`.
    Cosine,
    /// `max_lr` throughout (the no-re-warm baseline).
    Constant,
    /// Linear warmup, then `max_lr`.
    ConstantWarmup,
    /// Warmup, stable, then a cooldown (`cooldown`) over the last steps.
    Wsd,
}

/// The shape of a WSD cooldown.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Cooldown {
    #[default]
    Linear,
    Cosine,
}

/// The `[schedule]` table of a run config.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub kind: ScheduleKind,
    pub max_lr: f64,
    /// Warmup starts here (0 unless re-warming from a small LR).
    #[serde(default)]
    pub start_lr: f64,
    /// Cosine decay and the WSD cooldown end at `min_ratio * max_lr`.
    #[serde(default = "default_min_ratio")]
    pub min_ratio: f64,
    #[serde(default)]
    pub warmup_steps: Option<u64>,
    #[serde(default)]
    pub warmup_fraction: Option<f64>,
    #[serde(default)]
    pub cooldown_steps: Option<u64>,
    #[serde(default)]
    pub cooldown_fraction: Option<f64>,
    /// WSD only.
    #[serde(default)]
    pub cooldown: Cooldown,
}

fn default_min_ratio() -> f64 {
    0.1
}

fn steps(what: &str, steps: Option<u64>, fraction: Option<f64>, total: u64) -> Result<u64> {
    match (steps, fraction) {
        (Some(_), Some(_)) => {
            bail!("schedule: give {what}_steps or {what}_fraction, not both")
        }
        (Some(s), None) => Ok(s),
        (None, Some(f)) if (0.0..=1.0).contains(&f) => Ok((f * total as f64).round() as u64),
        (None, Some(f)) => bail!("schedule: {what}_fraction {f} is not in [0, 1]"),
        (None, None) => Ok(0),
    }
}

impl ScheduleConfig {
    pub fn build(&self, total: u64) -> Result<Box<dyn Schedule>> {
        if !(self.max_lr.is_finite() && self.max_lr >= 0.0) {
            bail!(
                "schedule: max_lr {} must be a non-negative number",
                self.max_lr
            );
        }
        if !(self.start_lr.is_finite() && self.start_lr >= 0.0) {
            bail!(
                "schedule: start_lr {} must be a non-negative number",
                self.start_lr
            );
        }
        if !(0.0..=1.0).contains(&self.min_ratio) {
            bail!("schedule: min_ratio {} is not in [0, 1]", self.min_ratio);
        }
        let warmup = steps("warmup", self.warmup_steps, self.warmup_fraction, total)?;
        if warmup > total {
            bail!("schedule: warmup of {warmup} steps is longer than the run ({total} steps)");
        }
        let (max, start, min) = (self.max_lr, self.start_lr, self.min_ratio * self.max_lr);
        Ok(match self.kind {
            ScheduleKind::Cosine => Box::new(WarmupCosine {
                start,
                max,
                min,
                warmup,
                total,
            }),
            ScheduleKind::Constant => {
                if warmup != 0 {
                    bail!("schedule: kind `constant` has no warmup; use `constant-warmup`");
                }
                Box::new(Constant { lr: max })
            }
            ScheduleKind::ConstantWarmup => Box::new(WarmupStableDecay {
                start,
                max,
                min: max,
                warmup,
                total,
                cooldown: 0,
                cosine: false,
            }),
            ScheduleKind::Wsd => {
                let cooldown = steps(
                    "cooldown",
                    self.cooldown_steps,
                    self.cooldown_fraction,
                    total,
                )?;
                if warmup + cooldown > total {
                    bail!("schedule: warmup {warmup} + cooldown {cooldown} steps exceed the run ({total})");
                }
                let cosine = self.cooldown == Cooldown::Cosine;
                Box::new(WarmupStableDecay {
                    start,
                    max,
                    min,
                    warmup,
                    total,
                    cooldown,
                    cosine,
                })
            }
        })
    }
}

/// An LR for people: 3e-5, not 0.000029999999999999997.
fn lr_str(x: f64) -> String {
    format!("{:e}", (x * 1e12).round() / 1e12)
}

fn warm(start: f64, max: f64, warmup: u64, t: u64) -> f64 {
    start + (max - start) * t as f64 / warmup as f64
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A config as a run config's TOML spells it.
    fn cfg(kind: &str) -> ScheduleConfig {
        toml::from_str(&format!("kind = \"{kind}\"\nmax_lr = 3e-4")).unwrap()
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-15, "{a} != {b}");
    }

    #[test]
    fn cosine_matches_formula() {
        let mut c = cfg("cosine");
        c.warmup_fraction = Some(0.01);
        let s = c.build(1000).unwrap(); // W = 10
        close(s.lr(0), 0.0);
        close(s.lr(5), 1.5e-4);
        close(s.lr(10), 3e-4);
        for t in [10u64, 123, 505, 999, 1000] {
            let p = (t - 10) as f64 / 990.0;
            close(s.lr(t), 3e-5 + (3e-4 - 3e-5) * 0.5 * (1.0 + (PI * p).cos()));
        }
        close(s.lr(505), 3e-5 + 2.7e-4 * 0.5);
        close(s.lr(1000), 3e-5);
        close(s.lr(5000), 3e-5);
    }

    #[test]
    fn warmup_from_start_lr_and_zero_warmup() {
        let mut c = cfg("cosine");
        c.start_lr = 3e-5;
        c.warmup_steps = Some(4);
        let s = c.build(100).unwrap();
        close(s.lr(0), 3e-5);
        close(s.lr(2), 3e-5 + (3e-4 - 3e-5) / 2.0);
        let s = cfg("cosine").build(100).unwrap();
        close(s.lr(0), 3e-4);
    }

    #[test]
    fn constant_and_constant_warmup() {
        let s = cfg("constant").build(50).unwrap();
        close(s.lr(0), 3e-4);
        close(s.lr(49), 3e-4);
        let mut c = cfg("constant-warmup");
        c.warmup_steps = Some(10);
        let s = c.build(50).unwrap();
        close(s.lr(1), 3e-5);
        close(s.lr(10), 3e-4);
        close(s.lr(49), 3e-4);
        let mut c = cfg("constant");
        c.warmup_steps = Some(3);
        assert!(c.build(50).is_err());
    }

    #[test]
    fn wsd_linear_and_cosine_cooldown() {
        let mut c = cfg("wsd");
        c.warmup_steps = Some(10);
        c.cooldown_fraction = Some(0.2);
        let s = c.build(100).unwrap(); // cooldown 20 steps from 80
        close(s.lr(50), 3e-4);
        close(s.lr(80), 3e-4);
        close(s.lr(90), 3e-4 - 2.7e-4 * 0.5);
        close(s.lr(100), 3e-5);
        c.cooldown = Cooldown::Cosine;
        let s = c.build(100).unwrap();
        close(s.lr(85), 3e-5 + 2.7e-4 * 0.5 * (1.0 + (PI * 0.25).cos()));
    }

    #[test]
    fn bad_configs_are_named() {
        let mut c = cfg("cosine");
        c.warmup_steps = Some(1);
        c.warmup_fraction = Some(0.1);
        assert!(c
            .build(10)
            .err()
            .unwrap()
            .to_string()
            .contains("warmup_steps or warmup_fraction"));
        let mut c = cfg("wsd");
        c.warmup_steps = Some(8);
        c.cooldown_steps = Some(8);
        assert!(c.build(10).err().unwrap().to_string().contains("exceed"));
        let e = toml::from_str::<ScheduleConfig>("kind = \"linear\"\nmax_lr = 1e-3")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown variant `linear`") && e.contains("`wsd`"),
            "{e}"
        );
        let e = toml::from_str::<ScheduleConfig>(
            "kind = \"wsd\"\nmax_lr = 1e-3\ncooldown = \"square\"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown variant `square`"), "{e}");
        // Negative or NaN learning rates are refused before any step runs.
        for bad in [-1e-4, f64::NAN, f64::INFINITY] {
            let mut c = cfg("cosine");
            c.start_lr = bad;
            let e = c.build(10).err().unwrap().to_string();
            assert!(e.contains("start_lr"), "{e}");
            let mut c = cfg("cosine");
            c.max_lr = bad;
            let e = c.build(10).err().unwrap().to_string();
            assert!(e.contains("max_lr"), "{e}");
        }
    }
}
