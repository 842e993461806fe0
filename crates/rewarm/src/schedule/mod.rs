//! Learning-rate schedules of spec section 5, as functions of the optimiser step.
//!
//! Re-warming is not a schedule of its own: it is a fresh schedule started on weights loaded
//! from a checkpoint, so every schedule here counts steps from the start of its own run.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
mod constant;
mod cosine;
mod infinite;
mod wsd;

pub use constant::Constant;
pub use cosine::WarmupCosine;
pub use infinite::{Infinite, InfiniteCooldown};
pub use wsd::WarmupStableDecay;

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
    /// Warmup, a cooldown (`cooldown`: cosine or inv-sqrt) to `constant_ratio * max_lr`, constant,
    /// then an exponential anneal to `min_ratio * max_lr` over the last `anneal_*` steps.
    Infinite,
}

/// The shape of a WSD cooldown.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Cooldown {
    #[default]
    Linear,
    Cosine,
    /// Inverse square root (infinite schedules only).
    #[serde(rename = "inv-sqrt")]
    InvSqrt,
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
    /// WSD and infinite.
    #[serde(default)]
    pub cooldown: Cooldown,
    /// Infinite only: the constant phase's LR as a share of `max_lr` (default 0.55, i.e.
    /// 1.65e-4 for a 3e-4 maximum, as Ibrahim et al. use at 405M).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant_ratio: Option<f64>,
    /// Infinite only: the final anneal's length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anneal_steps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anneal_fraction: Option<f64>,
    /// Infinite with an inv-sqrt cooldown: its alpha (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inv_sqrt_alpha: Option<f64>,
}

pub(crate) fn default_min_ratio() -> f64 {
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
    /// `kind` at `max_lr` with every other setting at its default (no warmup, min 0.1x).
    pub fn new(kind: ScheduleKind, max_lr: f64) -> Self {
        Self {
            kind,
            max_lr,
            start_lr: 0.0,
            min_ratio: default_min_ratio(),
            warmup_steps: None,
            warmup_fraction: None,
            cooldown_steps: None,
            cooldown_fraction: None,
            cooldown: Cooldown::default(),
            constant_ratio: None,
            anneal_steps: None,
            anneal_fraction: None,
            inv_sqrt_alpha: None,
        }
    }

    fn cooldown_len(&self, total: u64) -> Result<u64> {
        steps(
            "cooldown",
            self.cooldown_steps,
            self.cooldown_fraction,
            total,
        )
    }

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
                let cooldown = self.cooldown_len(total)?;
                if warmup + cooldown > total {
                    bail!("schedule: warmup {warmup} + cooldown {cooldown} steps exceed the run ({total})");
                }
                if self.cooldown == Cooldown::InvSqrt {
                    bail!("schedule: an inv-sqrt cooldown belongs to kind `infinite`; `wsd` cools down linear or cosine");
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
            ScheduleKind::Infinite => {
                let cooldown = self.cooldown_len(total)?;
                let anneal = steps("anneal", self.anneal_steps, self.anneal_fraction, total)?;
                if warmup + cooldown + anneal > total {
                    bail!("schedule: warmup {warmup} + cooldown {cooldown} + anneal {anneal} steps exceed the run ({total})");
                }
                let ratio = self.constant_ratio.unwrap_or(0.55);
                if !(0.0..=1.0).contains(&ratio) {
                    bail!("schedule: constant_ratio {ratio} is not in [0, 1]");
                }
                let shape = match self.cooldown {
                    Cooldown::Cosine => InfiniteCooldown::Cosine,
                    Cooldown::InvSqrt => {
                        let a = self.inv_sqrt_alpha.unwrap_or(1.0);
                        if !(a.is_finite() && a > 0.0) {
                            bail!("schedule: inv_sqrt_alpha {a} must be positive");
                        }
                        InfiniteCooldown::InvSqrt(a)
                    }
                    Cooldown::Linear => {
                        bail!("schedule: kind `infinite` cools down `cosine` or `inv-sqrt`")
                    }
                };
                Box::new(Infinite {
                    start,
                    max,
                    constant: ratio * max,
                    min,
                    warmup,
                    cooldown,
                    anneal,
                    total,
                    shape,
                })
            }
        })
    }
}

/// An LR for people: 3e-5, not 0.000029999999999999997.
pub fn lr_str(x: f64) -> String {
    format!("{:e}", (x * 1e12).round() / 1e12)
}

pub(crate) fn warm(start: f64, max: f64, warmup: u64, t: u64) -> f64 {
    start + (max - start) * t as f64 / warmup as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

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
    fn infinite_matches_its_formulas() {
        let mut c = cfg("infinite");
        c.warmup_steps = Some(10);
        c.cooldown_steps = Some(40);
        c.anneal_steps = Some(20);
        c.cooldown = Cooldown::Cosine;
        let s = c.build(200).unwrap(); // warmup 0..10, cooldown 10..50, constant 50..180, anneal 180..200
        let (max, k, min) = (3e-4, 0.55 * 3e-4, 3e-5);
        close(s.lr(5), max / 2.0);
        close(s.lr(10), max);
        close(s.lr(30), k + (max - k) * 0.5); // half-way: cos(pi/2) = 0
        close(s.lr(50), k);
        close(s.lr(179), k);
        close(s.lr(190), (k * min).sqrt()); // exponential: the geometric mean half-way
        close(s.lr(200), min);
        c.cooldown = Cooldown::InvSqrt;
        c.inv_sqrt_alpha = Some(3.0);
        let s = c.build(200).unwrap();
        // x = 1/4: h(x) = 1/sqrt(1.75) - 1, h(1) = 1/2 - 1.
        let h = 1.0 / 1.75f64.sqrt() - 1.0;
        close(s.lr(20), max + (k - max) * h / -0.5);
        close(s.lr(50), k);
        c.cooldown = Cooldown::Linear;
        assert!(c.build(200).err().unwrap().to_string().contains("inv-sqrt"));
        c.cooldown = Cooldown::Cosine;
        c.anneal_steps = Some(160);
        assert!(c.build(200).err().unwrap().to_string().contains("exceed"));
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
