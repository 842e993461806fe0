//! Learning-rate schedules of spec section 5, as functions of the optimiser step.
//!
//! Re-warming is not a schedule of its own: it is a fresh schedule started on weights loaded
//! from a checkpoint, so every schedule here counts steps from the start of its own run.
//!
//! Each family lives in its own file with its [`Family`] entry (name, keys, build, what a
//! study makes of it) and takes one line of [`FAMILIES`]; the run config, the study's grid
//! and `rewarm schedule --kinds` read that list.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
mod constant;
mod cosine;
mod infinite;
mod wsd;

pub use constant::Constant;
pub use cosine::WarmupCosine;
pub use infinite::{Infinite, InfiniteCooldown};
pub use wsd::WarmupStableDecay;

/// The schedule families, one file of this folder each: a run config's `kind`, a study's
/// `grid.schedule` and `rewarm schedule --kinds` all read this list.
pub static FAMILIES: &[&Family] = &[
    &cosine::FAMILY,
    &constant::FAMILY,
    &constant::WARMUP,
    &wsd::FAMILY,
    &infinite::FAMILY,
];

/// The LR for optimiser step `t` (0-based) of a run of `total` steps.
pub trait Schedule {
    fn lr(&self, t: u64) -> f64;
    fn describe(&self) -> String;
}

/// One schedule family: its name, the `[schedule]` keys it reads, how it builds and what a
/// study's grid makes of it.
pub struct Family {
    /// The name a run config's `kind` gives.
    pub name: &'static str,
    /// One line for `rewarm schedule --kinds`.
    pub description: &'static str,
    /// The `[schedule]` keys it reads beside `max_lr`, `start_lr`, `min_ratio` and `warmup_*`.
    pub parameters: &'static [&'static str],
    /// Checks a config of this family and builds its schedule (the run's length is in
    /// [`Common`]).
    pub build: fn(&ScheduleConfig, Common) -> Result<Box<dyn Schedule>>,
    /// The names a study's `grid.schedule` may give for this family, each with the schedule
    /// of a continual run (none: not a study family).
    pub study: &'static [StudyVariant],
}

/// A schedule a study's grid can vary: the run config it gives a continual run whose warmup,
/// maximum and minimum LR are set in `base`.
pub struct StudyVariant {
    pub name: &'static str,
    pub config: fn(base: ScheduleConfig, p: &StudyParams) -> ScheduleConfig,
}

/// What a study's `[grid]` sets for its schedule families beside warmup and maximum LR.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudyParams {
    /// The WSD cooldown's share of the steps.
    pub wsd_cooldown: f64,
    /// The infinite schedule's cooldown share, anneal share, constant LR (x max) and the
    /// alpha of its inverse-sqrt cooldown.
    pub infinite_cooldown: f64,
    pub infinite_anneal: f64,
    pub infinite_constant: f64,
    pub infinite_alpha: f64,
}

impl Default for StudyParams {
    fn default() -> Self {
        Self {
            wsd_cooldown: 0.2,
            infinite_cooldown: 0.3,
            infinite_anneal: 0.1,
            infinite_constant: infinite::DEFAULT_CONSTANT_RATIO,
            infinite_alpha: infinite::DEFAULT_ALPHA,
        }
    }
}

/// The settings every family shares, checked: the warmup's start and length, the maximum and
/// the minimum LR (`min_ratio * max_lr`), and the run's length in steps.
#[derive(Clone, Copy, Debug)]
pub struct Common {
    pub start: f64,
    pub max: f64,
    pub min: f64,
    pub warmup: u64,
    pub total: u64,
}

impl Common {
    /// The LR at step `t` of the linear warmup from `start` to `max`; `None` after it.
    pub fn warming(&self, t: u64) -> Option<f64> {
        (t < self.warmup)
            .then(|| self.start + (self.max - self.start) * t as f64 / self.warmup as f64)
    }

    /// "linear warmup 0e0 -> 3e-4 over 10 steps".
    pub fn describe_warmup(&self) -> String {
        format!(
            "linear warmup {} -> {} over {} steps",
            lr_str(self.start),
            lr_str(self.max),
            self.warmup
        )
    }
}

/// A family as a config names it (`kind = "cosine"`).
#[derive(Clone, Copy)]
pub struct ScheduleKind(pub &'static Family);

impl ScheduleKind {
    /// The family called `name`, which must be in [`FAMILIES`] (for the names the code uses).
    pub fn named(name: &str) -> Self {
        name.parse().expect("a schedule family of the registry")
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }
}

impl PartialEq for ScheduleKind {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}
impl Eq for ScheduleKind {}

impl std::fmt::Debug for ScheduleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ScheduleKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match FAMILIES.iter().find(|f| f.name == s) {
            Some(f) => Ok(ScheduleKind(f)),
            None => bail!(
                "unknown schedule kind `{s}`; there are: {}",
                names().join(", ")
            ),
        }
    }
}

/// The families' names, in registry order.
pub fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| FAMILIES.iter().map(|f| f.name).collect())
}

/// A name among `expected`, or serde's "unknown variant" error naming them.
fn lookup<'de, D: serde::Deserializer<'de>>(
    d: D,
    expected: &'static [&'static str],
) -> std::result::Result<usize, D::Error> {
    let s = String::deserialize(d)?;
    expected
        .iter()
        .position(|n| *n == s)
        .ok_or_else(|| serde::de::Error::unknown_variant(&s, expected))
}

impl Serialize for ScheduleKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ScheduleKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(ScheduleKind(FAMILIES[lookup(d, names())?]))
    }
}

/// A schedule a study's grid names (`grid.schedule = ["cosine", "wsd"]`): one of the
/// families' [`StudyVariant`]s, ordered as the registry lists them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StudyFamily(usize);

/// Every family's study variants, in registry order, each with its family.
fn study_variants() -> &'static [(&'static Family, &'static StudyVariant)] {
    static ALL: OnceLock<Vec<(&'static Family, &'static StudyVariant)>> = OnceLock::new();
    ALL.get_or_init(|| {
        FAMILIES
            .iter()
            .flat_map(|f| f.study.iter().map(move |v| (*f, v)))
            .collect()
    })
}

fn study_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| study_variants().iter().map(|v| v.1.name).collect())
}

impl StudyFamily {
    /// The study schedule called `name`, which must be registered (for the names the code uses).
    pub fn named(name: &str) -> Self {
        name.parse().expect("a study schedule of the registry")
    }

    pub fn name(self) -> &'static str {
        study_variants()[self.0].1.name
    }

    /// Its place in the registry, for ordering runs along the schedule axis.
    pub fn index(self) -> usize {
        self.0
    }

    /// The schedule of a continual run: `base` sets the warmup, maximum and minimum LR.
    pub fn config(self, base: ScheduleConfig, p: &StudyParams) -> ScheduleConfig {
        let (family, variant) = study_variants()[self.0];
        (variant.config)(
            ScheduleConfig {
                kind: ScheduleKind(family),
                ..base
            },
            p,
        )
    }
}

impl std::str::FromStr for StudyFamily {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match study_names().iter().position(|n| *n == s) {
            Some(i) => Ok(StudyFamily(i)),
            None => bail!(
                "unknown study schedule `{s}`; there are: {}",
                study_names().join(", ")
            ),
        }
    }
}

impl std::fmt::Debug for StudyFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for StudyFamily {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for StudyFamily {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(StudyFamily(lookup(d, study_names())?))
    }
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
    /// The family ([`FAMILIES`]).
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
    /// Cosine only: the step at which the decay reaches `min_ratio * max_lr`, counted from the
    /// run's start (warmup included; default: the run's last step); the LR stays there after
    /// it. Gupta et al. reach the minimum at 240 B of 297 B tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_steps: Option<u64>,
    /// Cosine only: `decay_steps` as a share of the run's steps (240 / 297 = 0.808).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_fraction: Option<f64>,
}

pub(crate) fn default_min_ratio() -> f64 {
    0.1
}

/// A phase's length in steps, from `{what}_steps` or `{what}_fraction` of `total` (0: neither).
pub(crate) fn steps(
    what: &str,
    steps: Option<u64>,
    fraction: Option<f64>,
    total: u64,
) -> Result<u64> {
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
            decay_steps: None,
            decay_fraction: None,
        }
    }

    /// The cooldown's length in steps (WSD and infinite).
    pub(crate) fn cooldown_len(&self, total: u64) -> Result<u64> {
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
        for (key, set) in [
            ("decay_steps", self.decay_steps.is_some()),
            ("decay_fraction", self.decay_fraction.is_some()),
        ] {
            if set && !self.kind.0.parameters.contains(&key) {
                bail!(
                    "schedule: {key} is a key of kind `cosine`, not of kind `{}` (`rewarm schedule --kinds` lists each kind's keys)",
                    self.kind.name()
                );
            }
        }
        let common = Common {
            start: self.start_lr,
            max: self.max_lr,
            min: self.min_ratio * self.max_lr,
            warmup,
            total,
        };
        (self.kind.0.build)(self, common)
    }
}

/// An LR for people: 3e-5, not 0.000029999999999999997.
pub fn lr_str(x: f64) -> String {
    format!("{:e}", (x * 1e12).round() / 1e12)
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
    fn cosine_reaching_its_minimum_early_stays_there() {
        // 100 steps, warmup 10, minimum at step 60: p = (t - 10) / 50.
        let mut c = cfg("cosine");
        c.warmup_steps = Some(10);
        c.decay_steps = Some(60);
        let s = c.build(100).unwrap();
        close(s.lr(5), 1.5e-4); // warmup untouched
        close(s.lr(10), 3e-4);
        close(s.lr(35), 3e-5 + 2.7e-4 * 0.5); // half-way: cos(pi/2) = 0
        close(s.lr(20), 3e-5 + 2.7e-4 * 0.5 * (1.0 + (PI * 0.2).cos()));
        close(s.lr(59), 3e-5 + 2.7e-4 * 0.5 * (1.0 + (PI * 0.98).cos()));
        close(s.lr(60), 3e-5);
        close(s.lr(61), 3e-5);
        close(s.lr(99), 3e-5);
        assert!(
            s.describe().contains("at step 60, then constant"),
            "{}",
            s.describe()
        );
        // As a share: 0.6 of 100 steps is the same schedule.
        c.decay_steps = None;
        c.decay_fraction = Some(0.6);
        let f = c.build(100).unwrap();
        for t in [0, 10, 20, 35, 59, 60, 80, 99] {
            close(f.lr(t), s.lr(t));
        }
        // Gupta et al.: 240 B of 297 B tokens; at 1,000 steps the minimum is at step 808.
        c.warmup_steps = Some(0);
        c.decay_fraction = Some(240.0 / 297.0);
        let g = c.build(1000).unwrap();
        close(g.lr(404), 3e-5 + 2.7e-4 * 0.5);
        close(g.lr(808), 3e-5);
        close(g.lr(900), 3e-5);
        // Before the warmup ends, past the run, both keys, another kind: refused by name.
        for (decay, total, key) in [(5, 100, "decay_steps"), (101, 100, "decay_steps")] {
            let mut c = cfg("cosine");
            c.warmup_steps = Some(10);
            c.decay_steps = Some(decay);
            let e = c.build(total).err().unwrap().to_string();
            assert!(e.contains(key), "{e}");
        }
        let mut c = cfg("cosine");
        c.decay_steps = Some(50);
        c.decay_fraction = Some(0.5);
        let e = c.build(100).err().unwrap().to_string();
        assert!(e.contains("decay_steps or decay_fraction"), "{e}");
        let mut c = cfg("wsd");
        c.decay_steps = Some(50);
        let e = c.build(100).err().unwrap().to_string();
        assert!(
            e.contains("decay_steps")
                && e.contains("`wsd`")
                && e.contains("lists each kind's keys"),
            "{e}"
        );
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

    #[test]
    fn the_registry_names_each_family_once_and_round_trips() {
        assert_eq!(
            names(),
            ["cosine", "constant", "constant-warmup", "wsd", "infinite"]
        );
        assert_eq!(
            study_names(),
            ["cosine", "wsd", "infinite", "infinite-inv-sqrt"]
        );
        for n in names() {
            let k = ScheduleKind::named(n);
            assert_eq!(toml::Value::try_from(k).unwrap().as_str(), Some(*n));
            let c = toml::from_str::<ScheduleConfig>(&format!("kind = \"{n}\"\nmax_lr = 1e-3"));
            assert_eq!(c.unwrap().kind, k);
        }
        // A study variant's run config names its family's kind, with the grid's shares.
        let p = StudyParams::default();
        let base = ScheduleConfig::new(ScheduleKind::named("cosine"), 3e-4);
        let c = StudyFamily::named("infinite-inv-sqrt").config(base.clone(), &p);
        assert_eq!(c.kind.name(), "infinite");
        assert_eq!(c.cooldown, Cooldown::InvSqrt);
        assert_eq!(c.constant_ratio, Some(0.55));
        assert_eq!(c.inv_sqrt_alpha, Some(1.0));
        let c = StudyFamily::named("wsd").config(base, &p);
        assert_eq!((c.kind.name(), c.cooldown_fraction), ("wsd", Some(0.2)));
        let e = "linear".parse::<StudyFamily>().unwrap_err().to_string();
        assert!(
            e.contains("`linear`") && e.contains("infinite-inv-sqrt"),
            "{e}"
        );
        assert!(StudyFamily::named("cosine") < StudyFamily::named("wsd"));
    }
}
