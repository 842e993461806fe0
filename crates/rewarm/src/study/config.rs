//! The study config (`study.toml`): the upstream run or checkpoints to branch from, the two
//! corpora, the downstream budget and the grid. Relative paths are relative to the file.

use crate::optim::AdamWConfig;
use crate::run_config::{DeviceChoice, ModelSection, Precision};
pub use crate::schedule::StudyFamily as Family;
use crate::schedule::StudyParams;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StudyConfig {
    /// The upstream model, trained from scratch (as `rewarm train`'s `[model]`, without
    /// `checkpoint`); unused when `[upstream] checkpoints` are given.
    #[serde(default)]
    pub model: Option<ModelSection>,
    pub data: StudyData,
    pub upstream: Upstream,
    pub downstream: Downstream,
    #[serde(default)]
    pub grid: Grid,
    #[serde(default)]
    pub optim: AdamWConfig,
    #[serde(default)]
    pub run: StudyRun,
    /// Downstream tasks every run scores at its evaluations (as a run config's `[eval]`).
    #[serde(default)]
    pub eval: crate::run_config::EvalSection,
}

/// A corpus as `rewarm tokenize` writes it: a train and a validation token folder.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Corpus {
    pub train: PathBuf,
    pub val: PathBuf,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StudyData {
    pub seq_len: usize,
    pub batch_size: usize,
    #[serde(default = "crate::run_config::one_usize")]
    pub grad_accum: usize,
    #[serde(default)]
    pub seed: u64,
    /// Sequences per validation set at each evaluation (the same for every run).
    #[serde(default = "crate::run_config::default_eval_sequences")]
    pub eval_sequences: u64,
    pub upstream: Corpus,
    pub downstream: Corpus,
    /// Let the runs train and evaluate on corpora made by different tokenizers (each run's
    /// `[data] allow_tokenizer_mismatch`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_tokenizer_mismatch: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// Steps of the upstream run (warmup + cosine). With `checkpoints` given, only the union
    /// baseline's upstream share.
    #[serde(default)]
    pub steps: u64,
    /// The upstream maximum LR: the grid's `max_lr` values multiply it.
    pub max_lr: f64,
    #[serde(default = "default_warmup")]
    pub warmup_fraction: f64,
    #[serde(default = "crate::schedule::default_min_ratio")]
    pub min_ratio: f64,
    /// Points of the upstream run to branch from, as fractions of its steps (1 = the final,
    /// fully decayed checkpoint).
    #[serde(default = "default_branch")]
    pub branch: Vec<f64>,
    /// Existing checkpoints to branch from instead of an upstream run, by name; one must be
    /// called `final`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checkpoints: BTreeMap<String, PathBuf>,
    /// The LR the upstream run ended at (the no-re-warm baseline's); default
    /// `min_ratio * max_lr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_lr: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Downstream {
    pub steps: u64,
    /// Evaluations along each run, evenly spaced, plus early ones at steps 1, 2, 4, ...
    #[serde(default = "default_evals")]
    pub evals: u64,
    /// Checkpoint every this many steps so an interrupted run resumes (0: 4 per run).
    #[serde(default)]
    pub checkpoint_every: u64,
    /// Every run keeps only its newest N `step-N` checkpoints (unset: all); the upstream run's
    /// branch points and `final` are always kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<u64>,
    /// With `keep_last`: also keep the checkpoints at multiples of K steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_every: Option<u64>,
}

impl Downstream {
    /// The steps between a run's checkpoints: `checkpoint_every`, or 4 per run when 0.
    pub fn checkpoint_interval(&self) -> u64 {
        match self.checkpoint_every {
            0 => (self.steps / 4).max(1),
            n => n,
        }
    }
}

/// What the grid varies; each axis is varied alone around `reference`, and the axes of each
/// `joint` group together (their full product).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Grid {
    /// Warmup as a share of the downstream steps.
    pub warmup: Vec<f64>,
    /// Maximum LR as a multiple of the upstream maximum.
    pub max_lr: Vec<f64>,
    /// Share of each batch replayed from the upstream corpus (compute-equivalent: the same
    /// steps and tokens in all).
    pub replay: Vec<f64>,
    /// Schedule families by their study names (`rewarm schedule --kinds` lists them).
    pub schedule: Vec<Family>,
    pub moments: Vec<Moments>,
    pub baselines: Vec<Baseline>,
    pub joint: Vec<Vec<Axis>>,
    /// Runs (by name) to leave out.
    pub skip: Vec<String>,
    /// Seeds of data order (and of the initialisation of the from-scratch baselines): every
    /// run but the upstream one is repeated once a seed, so each finding is judged over the
    /// seeds with a 95 % interval. The first seed's runs keep their names, the others are
    /// `NAME.seedS`. Empty: one seed, `[data] seed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<u64>,
    /// Planned runs whose effective configs are the same (e.g. 0.5 % and 1 % warmup both one
    /// step at 120 steps) are refused, naming both; `true` runs each such run once, under the
    /// first one's name, and the plan says so.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub merge_identical: bool,
    pub reference: Settings,
    /// The WSD cooldown's share of the steps.
    pub wsd_cooldown: f64,
    /// The infinite schedule's cooldown share, anneal share and constant LR (x max), and the
    /// alpha of its inverse-sqrt cooldown.
    pub infinite_cooldown: f64,
    pub infinite_anneal: f64,
    pub infinite_constant: f64,
    pub infinite_alpha: f64,
}

impl Default for Grid {
    fn default() -> Self {
        let p = StudyParams::default();
        Self {
            warmup: vec![0.0, 0.005, 0.01, 0.02],
            max_lr: vec![0.5, 1.0, 2.0],
            replay: vec![0.0, 0.01, 0.05, 0.25],
            schedule: ["cosine", "wsd", "infinite"].map(Family::named).to_vec(),
            moments: vec![Moments::Reset, Moments::Keep],
            baselines: vec![
                Baseline::Constant,
                Baseline::Scratch,
                Baseline::Union,
                Baseline::SameData,
            ],
            joint: vec![],
            skip: vec![],
            seeds: vec![],
            merge_identical: false,
            reference: Settings::default(),
            wsd_cooldown: p.wsd_cooldown,
            infinite_cooldown: p.infinite_cooldown,
            infinite_anneal: p.infinite_anneal,
            infinite_constant: p.infinite_constant,
            infinite_alpha: p.infinite_alpha,
        }
    }
}

impl Grid {
    /// The schedule families' settings of the grid, as the registry takes them.
    pub fn schedule_params(&self) -> StudyParams {
        StudyParams {
            wsd_cooldown: self.wsd_cooldown,
            infinite_cooldown: self.infinite_cooldown,
            infinite_anneal: self.infinite_anneal,
            infinite_constant: self.infinite_constant,
            infinite_alpha: self.infinite_alpha,
        }
    }
}

/// The settings of one continual run. As the grid's `reference`, those every varied run
/// starts from: the paper's (1 % warmup to the upstream maximum, cosine, from the final
/// checkpoint, no replay, moments reset).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub warmup: f64,
    pub max_lr: f64,
    pub replay: f64,
    pub schedule: Family,
    pub moments: Moments,
    pub start: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            warmup: 0.01,
            max_lr: 1.0,
            replay: 0.0,
            schedule: Family::named("cosine"),
            moments: Moments::Reset,
            start: "final".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Moments {
    /// AdamW starts with zero moments (Ibrahim et al.).
    Reset,
    /// AdamW's moments are loaded with the checkpoint.
    Keep,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    /// No re-warm: the final upstream LR, constant, from the final checkpoint.
    Constant,
    /// From scratch on the downstream data, same steps.
    Scratch,
    /// From scratch on upstream + downstream mixed, upstream + downstream steps.
    Union,
    /// The reference re-warming on the upstream data itself (no shift).
    SameData,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Axis {
    Warmup,
    MaxLr,
    Replay,
    Schedule,
    Moments,
    Start,
}

impl Axis {
    pub const ALL: [Axis; 6] = [
        Axis::Warmup,
        Axis::MaxLr,
        Axis::Start,
        Axis::Replay,
        Axis::Schedule,
        Axis::Moments,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Axis::Warmup => "warmup length",
            Axis::MaxLr => "maximum learning rate",
            Axis::Replay => "replay share",
            Axis::Schedule => "schedule family",
            Axis::Moments => "AdamW moments",
            Axis::Start => "start checkpoint",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Axis::Warmup => "warmup",
            Axis::MaxLr => "max-lr",
            Axis::Replay => "replay",
            Axis::Schedule => "schedule",
            Axis::Moments => "moments",
            Axis::Start => "start",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StudyRun {
    pub device: DeviceChoice,
    pub precision: Precision,
    /// Recompute every N-th block's activations in the backward pass (0: keep all), as a
    /// run's `[run] activation_checkpointing`.
    #[serde(skip_serializing_if = "crate::run_config::is_zero")]
    pub activation_checkpointing: u32,
    /// Intra-op threads per run (0: the machine's cores shared among `jobs`; under a launcher,
    /// its `OMP_NUM_THREADS`).
    pub threads: i32,
    /// Runs at a time (the command line's `--jobs` overrides it). A study launched as several
    /// ranks runs one at a time, each on all of them.
    pub jobs: usize,
    /// A study launched as several ranks: how long a rank waits for the others (to join, and
    /// at each collective) before the study fails, naming the rank that died or hung.
    pub dist_timeout_s: u64,
}

impl Default for StudyRun {
    fn default() -> Self {
        Self {
            device: DeviceChoice::default(),
            precision: Precision::default(),
            activation_checkpointing: 0,
            threads: 0,
            jobs: 1,
            dist_timeout_s: crate::run_config::default_dist_timeout(),
        }
    }
}

fn default_warmup() -> f64 {
    0.01
}
fn default_branch() -> Vec<f64> {
    vec![1.0]
}
fn default_evals() -> u64 {
    20
}

impl StudyConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let mut cfg: Self = crate::config::read_toml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve_paths(&std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf()));
        cfg.validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(cfg)
    }

    /// Makes relative paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        self.map_paths(|p| *p = crate::run_dir::resolve_saved(p, base));
    }

    /// Applies `f` to every path of the config: the token folders, the given checkpoints, the
    /// tasks and the model's config or checkpoint.
    pub fn map_paths(&mut self, mut f: impl FnMut(&mut PathBuf)) {
        for c in [&mut self.data.upstream, &mut self.data.downstream] {
            f(&mut c.train);
            f(&mut c.val);
        }
        self.upstream.checkpoints.values_mut().for_each(&mut f);
        for t in &mut self.eval.tasks {
            f(&mut t.path)
        }
        if let Some(m) = self.model.as_mut() {
            if let Some(c) = m.config.as_mut() {
                f(c)
            }
            if let Some(c) = m.checkpoint.as_mut() {
                f(c)
            }
        }
    }

    /// Every numeric key against its allowed range, named with the range.
    fn validate_numbers(&self) -> Result<()> {
        use crate::run_config::in_range;
        let share = "a share in [0, 1)";
        let unit = "a share in [0, 1]";
        let positive = "a positive number";
        let is_share = |x: f64| (0.0..1.0).contains(&x);
        let is_unit = |x: f64| (0.0..=1.0).contains(&x);
        let is_positive = |x: f64| x.is_finite() && x > 0.0;
        if let Some(m) = &self.model {
            crate::run_config::check_model_numbers(m, "model")?;
        }
        let d = &self.data;
        crate::run_config::check_batch(d.seq_len, d.batch_size, d.grad_accum)?;
        let down = &self.downstream;
        crate::run_config::check_retention(
            "downstream",
            down.checkpoint_interval(),
            down.keep_last,
            down.keep_every,
        )?;
        let u = &self.upstream;
        in_range("upstream.max_lr", u.max_lr, is_positive(u.max_lr), positive)?;
        in_range(
            "upstream.warmup_fraction",
            u.warmup_fraction,
            is_unit(u.warmup_fraction),
            unit,
        )?;
        in_range(
            "upstream.min_ratio",
            u.min_ratio,
            is_unit(u.min_ratio),
            unit,
        )?;
        for &b in &u.branch {
            in_range(
                "upstream.branch",
                b,
                b > 0.0 && b <= 1.0,
                "fractions of the upstream run in (0, 1]",
            )?;
        }
        if let Some(lr) = u.final_lr {
            in_range(
                "upstream.final_lr",
                lr,
                lr.is_finite() && lr >= 0.0,
                "0 or more (the LR the upstream run ended at)",
            )?;
        }
        let dn = &self.downstream;
        in_range("downstream.steps", dn.steps, dn.steps >= 1, "at least 1")?;
        in_range("downstream.evals", dn.evals, dn.evals >= 1, "at least 1")?;
        let g = &self.grid;
        for (key, values, ok, range) in [
            (
                "grid.warmup",
                &g.warmup,
                &is_share as &dyn Fn(f64) -> bool,
                share,
            ),
            ("grid.replay", &g.replay, &is_share, share),
            (
                "grid.max_lr",
                &g.max_lr,
                &is_positive,
                "positive multiples of upstream.max_lr",
            ),
        ] {
            for &x in values {
                in_range(key, x, ok(x), range)?;
            }
        }
        let r = &g.reference;
        in_range("grid.reference.warmup", r.warmup, is_share(r.warmup), share)?;
        in_range("grid.reference.replay", r.replay, is_share(r.replay), share)?;
        in_range(
            "grid.reference.max_lr",
            r.max_lr,
            is_positive(r.max_lr),
            "a positive multiple of upstream.max_lr",
        )?;
        for (key, v) in [
            ("grid.wsd_cooldown", g.wsd_cooldown),
            ("grid.infinite_cooldown", g.infinite_cooldown),
            ("grid.infinite_anneal", g.infinite_anneal),
            ("grid.infinite_constant", g.infinite_constant),
        ] {
            in_range(key, v, is_unit(v), unit)?;
        }
        in_range(
            "grid.infinite_alpha",
            g.infinite_alpha,
            is_positive(g.infinite_alpha),
            positive,
        )?;
        for (i, s) in g.seeds.iter().enumerate() {
            in_range("grid.seeds", *s, *s <= i64::MAX as u64, "0 to 2^63 - 1")?;
            if g.seeds[..i].contains(s) {
                bail!("[grid] seeds: {s} is listed twice; give each seed once");
            }
        }
        if g.seeds
            .first()
            .is_some_and(|f| self.data.seed != 0 && self.data.seed != *f)
        {
            bail!(
                "[data] seed = {} and [grid] seeds = {:?} disagree: with [grid] seeds the first seed is the data seed; drop [data] seed or list it first",
                self.data.seed,
                g.seeds
            );
        }
        crate::run_config::check_optim_numbers(&self.optim)?;
        let run = &self.run;
        crate::run_config::check_threads("run.threads", run.threads)?;
        in_range(
            "run.jobs",
            run.jobs,
            run.jobs >= 1,
            "at least 1 (more than the machine's cores run as many as it has)",
        )?;
        crate::run_config::check_dist_timeout("run.dist_timeout_s", run.dist_timeout_s)?;
        Ok(())
    }

    /// The study's seeds: `[grid] seeds`, or `[data] seed` alone.
    pub fn seeds(&self) -> Vec<u64> {
        if self.grid.seeds.is_empty() {
            vec![self.data.seed]
        } else {
            self.grid.seeds.clone()
        }
    }

    /// Keeps the first `n` seeds (`rewarm study --seeds N`); more seeds than the config lists
    /// continue from its last one (`[data] seed`, +1, +2, ...).
    pub fn limit_seeds(&mut self, n: usize) {
        let mut seeds = self.seeds();
        while seeds.len() < n {
            let mut next = seeds.last().map_or(0, |s| s + 1);
            while seeds.contains(&next) {
                next += 1;
            }
            seeds.push(next);
        }
        seeds.truncate(n.max(1));
        self.grid.seeds = if seeds.len() == 1 && seeds[0] == self.data.seed {
            vec![]
        } else {
            seeds
        };
    }

    pub fn validate(&self) -> Result<()> {
        self.validate_numbers()?;
        let u = &self.upstream;
        let given = !u.checkpoints.is_empty();
        if given {
            if !u.checkpoints.contains_key("final") {
                bail!("[upstream] checkpoints must name one `final`");
            }
        } else {
            if u.steps == 0 {
                bail!("[upstream] give steps (an upstream run) or checkpoints to branch from");
            }
            match &self.model {
                None => bail!("[model] is needed to train the upstream model"),
                Some(m) if m.checkpoint.is_some() => {
                    bail!("[model] checkpoint: give existing checkpoints as [upstream] checkpoints")
                }
                _ => {}
            }
            if u.branch.is_empty() {
                bail!("[upstream] branch needs at least one point (1: the final checkpoint)");
            }
            if !u.branch.contains(&1.0) {
                bail!("[upstream] branch must include 1 (the final checkpoint)");
            }
        }
        let g = &self.grid;
        if g.baselines.contains(&Baseline::Union) && given && u.steps == 0 {
            bail!("[grid] the union baseline needs [upstream] steps (its upstream share); give them or leave `union` out of baselines");
        }
        let varied = [
            g.warmup.len(),
            g.max_lr.len(),
            g.replay.len(),
            g.schedule.len(),
            g.moments.len(),
            if given {
                u.checkpoints.len()
            } else {
                u.branch.len()
            },
        ];
        if varied.iter().all(|n| *n <= 1) && g.baselines.is_empty() && g.joint.is_empty() {
            bail!("[grid] varies nothing: give an axis two or more values, or a baseline");
        }
        if g.joint.iter().any(|j| j.len() < 2) {
            bail!("[grid] each joint group needs two or more axes");
        }
        Ok(())
    }

    /// The files the study reads, before anything runs: the token folders and the given
    /// checkpoints, each named by its key when missing.
    pub fn check_inputs(&self) -> Result<()> {
        let d = &self.data;
        for (key, p) in [
            ("data.upstream.train", &d.upstream.train),
            ("data.upstream.val", &d.upstream.val),
            ("data.downstream.train", &d.downstream.train),
            ("data.downstream.val", &d.downstream.val),
        ] {
            if !p.join("index.json").exists() {
                bail!(
                    "{key}: {} is not a token folder (no index.json); make it with rewarm tokenize",
                    p.display()
                );
            }
        }
        for (name, p) in &self.upstream.checkpoints {
            if !p.join("config.json").exists() {
                bail!(
                    "upstream.checkpoints.{name}: {} is not a checkpoint folder (no config.json)",
                    p.display()
                );
            }
        }
        Ok(())
    }
}
