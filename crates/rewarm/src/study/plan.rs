//! The study's runs, expanded from its config: each a name made from its settings, what it is
//! (upstream, a continual run, a baseline), the chart axes it belongs to and its run config.

pub use super::config::Settings;
use super::config::{Axis, Baseline, Family, Moments, StudyConfig};
use crate::run_config::{DataSection, DataSource, ModelSection, RunConfig, RunSection};
use crate::schedule::{ScheduleConfig, ScheduleKind};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

impl Settings {
    fn value(&self, a: Axis) -> String {
        match a {
            Axis::Warmup => pct(self.warmup),
            Axis::MaxLr => format!("{}x", num(self.max_lr)),
            Axis::Replay => pct(self.replay),
            Axis::Schedule => self.schedule.name().into(),
            Axis::Moments => moments(self.moments).into(),
            Axis::Start => self.start.clone(),
        }
    }

    /// The value of axis `a` as a number for ordering (the start checkpoint: its branch step).
    pub fn sort_key(&self, a: Axis, starts: &[(String, u64)]) -> f64 {
        match a {
            Axis::Warmup => self.warmup,
            Axis::MaxLr => self.max_lr,
            Axis::Replay => self.replay,
            Axis::Schedule => self.schedule.index() as f64,
            Axis::Moments => self.moments as u8 as f64,
            Axis::Start => starts
                .iter()
                .find(|s| s.0 == self.start)
                .map_or(f64::MAX, |s| s.1 as f64),
        }
    }

    /// "warmup 1 %, max LR 1x, ..." for tables.
    pub fn describe(&self) -> String {
        Axis::ALL
            .iter()
            .map(|a| format!("{} {}", a.key(), self.value(*a)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn set(&mut self, a: Axis, v: &Value) {
        match (a, v) {
            (Axis::Warmup, Value::Num(x)) => self.warmup = *x,
            (Axis::MaxLr, Value::Num(x)) => self.max_lr = *x,
            (Axis::Replay, Value::Num(x)) => self.replay = *x,
            (Axis::Schedule, Value::Family(f)) => self.schedule = *f,
            (Axis::Moments, Value::Moments(m)) => self.moments = *m,
            (Axis::Start, Value::Start(s)) => self.start = s.clone(),
            _ => unreachable!("axis and value kinds match"),
        }
    }
}

#[derive(Clone, Debug)]
enum Value {
    Num(f64),
    Family(Family),
    Moments(Moments),
    Start(String),
}

fn num(x: f64) -> String {
    format!("{}", (x * 1e6).round() / 1e6)
}
fn pct(x: f64) -> String {
    format!("{}pct", num(x * 100.0))
}
fn moments(m: Moments) -> &'static str {
    match m {
        Moments::Reset => "reset",
        Moments::Keep => "keep",
    }
}

/// What a run is.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Upstream,
    Continual(Settings),
    Baseline(Baseline),
}

#[derive(Clone, Debug)]
pub struct PlannedRun {
    pub name: String,
    pub kind: Kind,
    /// The grid axes whose chart shows this run.
    pub axes: Vec<Axis>,
    pub config: RunConfig,
    /// Which of the study's seeds it runs with (0: the first).
    pub seed_index: usize,
    /// For a run of a later seed: the name of the first seed's run it repeats.
    pub repeats: Option<String>,
}

impl PlannedRun {
    pub fn settings(&self) -> Option<&Settings> {
        match &self.kind {
            Kind::Continual(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the run starts from an upstream checkpoint (its step-0 evaluation is the branch
    /// point), not from random weights.
    pub fn continues(&self) -> bool {
        matches!(
            self.kind,
            Kind::Continual(_) | Kind::Baseline(Baseline::Constant | Baseline::SameData)
        )
    }
}

/// The whole plan, upstream first.
#[derive(Clone, Debug)]
pub struct Plan {
    pub runs: Vec<PlannedRun>,
    /// Start checkpoints by name with their upstream step, oldest first.
    pub starts: Vec<(String, u64)>,
    /// Names of the runs the config's `skip` left out.
    pub skipped: Vec<String>,
    /// Runs that were the same run as an earlier one (`[grid] merge_identical`): (its name,
    /// the name of the run that stands for it).
    pub merged: Vec<(String, String)>,
    /// The study's seeds; every run but the upstream one is repeated with each.
    pub seeds: Vec<u64>,
}

impl Plan {
    /// Whether the study's seeds repeat this run (all but the upstream run).
    pub fn repeated(&self, r: &PlannedRun) -> bool {
        r.kind != Kind::Upstream
    }

    /// The runs that repeat `name` with the later seeds.
    pub fn repeats_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PlannedRun> + 'a {
        self.runs
            .iter()
            .filter(move |r| r.repeats.as_deref() == Some(name))
    }
}

pub const UPSTREAM: &str = "upstream";
pub const REFERENCE: &str = "reference";

pub fn baseline_name(b: Baseline) -> &'static str {
    match b {
        Baseline::Constant => "constant",
        Baseline::Scratch => "scratch",
        Baseline::Union => "union",
        Baseline::SameData => "same-data",
    }
}

/// The run folder of `name` in study folder `dir`.
pub fn run_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join("runs").join(name)
}

/// The eval steps of a run of `steps`: every `steps / evals`, and 1, 2, 4, ... before that.
fn eval_cadence(steps: u64, evals: u64) -> (u64, Vec<u64>) {
    let every = (steps / evals).max(1);
    let early = std::iter::successors(Some(1u64), |s| Some(s * 2))
        .take_while(|s| *s < every)
        .collect();
    (every, early)
}

/// A checkpoint continual runs can start from: its name, upstream step and folder.
struct Start {
    name: String,
    step: u64,
    path: PathBuf,
}

/// What every run of the study shares: the config, the study folder, the eval and checkpoint
/// cadence, the validation sets, and the branch points once known.
struct Planner<'a> {
    cfg: &'a StudyConfig,
    dir: &'a Path,
    threads: i32,
    eval_every: u64,
    eval_at: Vec<u64>,
    checkpoint_every: u64,
    val: Vec<DataSource>,
    starts: Vec<Start>,
}

pub fn plan(cfg: &StudyConfig, dir: &Path, threads: i32) -> Result<Plan> {
    let mut p = Planner::new(cfg, dir, threads);
    let mut runs = Vec::new();
    let scratch_model = if cfg.upstream.checkpoints.is_empty() {
        let upstream = p.upstream_run();
        let model = upstream.config.model.clone();
        runs.push(upstream);
        model
    } else {
        p.given_starts()
    };
    p.starts.sort_by_key(|s| s.step);
    p.starts.dedup_by(|a, b| a.name == b.name);
    let reference = &cfg.grid.reference;
    p.start_path(&reference.start)?;
    for (s, axes) in continual_settings(cfg, &p.starts) {
        runs.push(p.continual_run(s, axes)?);
    }
    for b in &cfg.grid.baselines {
        runs.push(p.baseline_run(*b, &scratch_model)?);
    }
    let skipped = skip(cfg, &mut runs)?;
    for r in &runs {
        r.config
            .validate()
            .map_err(|e| anyhow::anyhow!("run {}: {e}", r.name))?;
    }
    let merged = merge_identical(cfg, &mut runs)?;
    let seeds = cfg.seeds();
    let repeats = repeat_for_seeds(dir, &runs, &seeds);
    runs.extend(repeats);
    Ok(Plan {
        runs,
        starts: p.starts.into_iter().map(|s| (s.name, s.step)).collect(),
        skipped,
        merged,
        seeds,
    })
}

/// The runs of the seeds after the first: each run but the upstream one again, named
/// `NAME.seedS`, with data order `S` (and initialisation `S` where it starts from scratch),
/// shown on no chart axis of its own.
fn repeat_for_seeds(dir: &Path, runs: &[PlannedRun], seeds: &[u64]) -> Vec<PlannedRun> {
    let mut out = Vec::new();
    for (k, &seed) in seeds.iter().enumerate().skip(1) {
        for r in runs.iter().filter(|r| r.kind != Kind::Upstream) {
            let name = format!("{}.seed{seed}", r.name);
            let mut config = r.config.clone();
            config.run.out = run_dir(dir, &name);
            config.data.seed = seed;
            if !r.continues() {
                config.model.seed = seed as i64; // at most i64::MAX (validated)
            }
            out.push(PlannedRun {
                name,
                kind: r.kind.clone(),
                axes: vec![],
                config,
                seed_index: k,
                repeats: Some(r.name.clone()),
            });
        }
    }
    out
}

/// What a run computes, whatever its name and folder: its config with the schedule replaced
/// by the learning rate of every step (so 0.5 % and 1 % warmups that round to the same steps
/// are one run).
fn effective(c: &RunConfig) -> Result<(String, Vec<u64>)> {
    let s = c.schedule.build(c.run.steps)?;
    let lrs = (0..c.run.steps).map(|t| s.lr(t).to_bits()).collect();
    let mut c = c.clone();
    c.run.out = PathBuf::new();
    c.schedule = ScheduleConfig::new(ScheduleKind::named("constant"), 0.0);
    Ok((toml::to_string(&c)?, lrs))
}

/// Finds planned runs that are the same run as an earlier one. Refused, naming both, the keys
/// they differ in and what to change; with `[grid] merge_identical` the later one is left out
/// (its charts show the earlier one) and returned with the name standing for it.
fn merge_identical(cfg: &StudyConfig, runs: &mut Vec<PlannedRun>) -> Result<Vec<(String, String)>> {
    let mut seen: Vec<(String, Vec<u64>)> = Vec::new();
    let mut merged = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let key = effective(&runs[i].config)?;
        let Some(j) = seen.iter().position(|k| *k == key) else {
            seen.push(key);
            i += 1;
            continue;
        };
        let (first, twin) = (&runs[j], &runs[i]);
        if !cfg.grid.merge_identical {
            let diff: Vec<String> = crate::run_config::config_diff(&first.config, &twin.config)?
                .into_iter()
                .filter(|(k, _, _)| k != "run.out")
                .map(|(k, a, b)| format!("{k} {a} and {b}"))
                .collect();
            bail!(
                "[grid]: runs {:?} and {:?} are the same run: they differ only in {}, which give the same learning rate at each of their {} steps ({}); give more [downstream] steps, drop one of the values from [grid], leave one out with [grid] skip = [{:?}], or set [grid] merge_identical = true to run it once as {:?}",
                first.name,
                twin.name,
                diff.join(", "),
                twin.config.run.steps,
                twin.config.schedule.build(twin.config.run.steps)?.describe(),
                twin.name,
                first.name
            );
        }
        let gone = runs.remove(i);
        let kept = &mut runs[j];
        for a in gone.axes {
            if !kept.axes.contains(&a) {
                kept.axes.push(a);
            }
        }
        merged.push((gone.name, kept.name.clone()));
    }
    Ok(merged)
}

/// Leaves out the runs the grid's `skip` names, refusing a name no run has and the upstream
/// run the others branch from; returns the names left out.
fn skip(cfg: &StudyConfig, runs: &mut Vec<PlannedRun>) -> Result<Vec<String>> {
    let given = !cfg.upstream.checkpoints.is_empty();
    let mut skipped = Vec::new();
    for s in &cfg.grid.skip {
        if s == UPSTREAM && !given {
            bail!("[grid] skip: the upstream run cannot be skipped (the others branch from it)");
        }
        if !runs.iter().any(|r| &r.name == s) {
            bail!("[grid] skip: no run is called {s:?}; `rewarm study --dry-run` lists the names");
        }
        skipped.push(s.clone());
    }
    runs.retain(|r| !cfg.grid.skip.contains(&r.name));
    Ok(skipped)
}

/// The values the grid gives axis `a`, one arm an axis.
fn axis_values(cfg: &StudyConfig, starts: &[Start], a: Axis) -> Vec<Value> {
    let g = &cfg.grid;
    match a {
        Axis::Warmup => g.warmup.iter().map(|x| Value::Num(*x)).collect(),
        Axis::MaxLr => g.max_lr.iter().map(|x| Value::Num(*x)).collect(),
        Axis::Replay => g.replay.iter().map(|x| Value::Num(*x)).collect(),
        Axis::Schedule => g.schedule.iter().map(|x| Value::Family(*x)).collect(),
        Axis::Moments => g.moments.iter().map(|x| Value::Moments(*x)).collect(),
        Axis::Start => starts
            .iter()
            .map(|s| Value::Start(s.name.clone()))
            .collect(),
    }
}

/// The continual runs' settings with the axes whose charts show each: the reference, each
/// axis varied alone, then the full product of each joint group; a setting reached twice is
/// one run on both charts.
fn continual_settings(cfg: &StudyConfig, starts: &[Start]) -> Vec<(Settings, Vec<Axis>)> {
    let reference = &cfg.grid.reference;
    let mut continual: Vec<(Settings, Vec<Axis>)> = vec![(reference.clone(), Axis::ALL.to_vec())];
    let mut add = |s: Settings, axes: Vec<Axis>| {
        if let Some(e) = continual.iter_mut().find(|e| e.0 == s) {
            for a in axes {
                if !e.1.contains(&a) {
                    e.1.push(a);
                }
            }
        } else {
            continual.push((s, axes));
        }
    };
    for a in Axis::ALL {
        for v in axis_values(cfg, starts, a) {
            let mut s = reference.clone();
            s.set(a, &v);
            add(s, vec![a]);
        }
    }
    for group in &cfg.grid.joint {
        let mut combos = vec![reference.clone()];
        for a in group {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    axis_values(cfg, starts, *a).into_iter().map(move |v| {
                        let mut c = c.clone();
                        c.set(*a, &v);
                        c
                    })
                })
                .collect();
        }
        for c in combos {
            add(c, vec![]);
        }
    }
    continual
}

/// A continual run's name: `reference`, or each axis where it differs, as `key-value`.
fn continual_name(s: &Settings, reference: &Settings) -> String {
    if s == reference {
        return REFERENCE.to_string();
    }
    Axis::ALL
        .iter()
        .filter(|a| s.value(**a) != reference.value(**a))
        .map(|a| format!("{}-{}", a.key(), s.value(*a)))
        .collect::<Vec<_>>()
        .join("_")
}

impl<'a> Planner<'a> {
    fn new(cfg: &'a StudyConfig, dir: &'a Path, threads: i32) -> Self {
        let down = &cfg.downstream;
        let (eval_every, eval_at) = eval_cadence(down.steps, down.evals);
        let d = &cfg.data;
        Self {
            cfg,
            dir,
            threads,
            eval_every,
            eval_at,
            checkpoint_every: down.checkpoint_interval(),
            val: vec![
                source("upstream", &d.upstream.val, 1.0),
                source("downstream", &d.downstream.val, 1.0),
            ],
            starts: Vec::new(),
        }
    }

    fn run(&self, steps: u64, out: PathBuf, checkpoint_at: Vec<u64>, every: u64) -> RunSection {
        let r = &self.cfg.run;
        RunSection {
            steps,
            out,
            eval_every: self.eval_every,
            eval_at: self.eval_at.clone(),
            checkpoint_every: every,
            checkpoint_at,
            keep_last: self.cfg.downstream.keep_last,
            keep_every: self.cfg.downstream.keep_every,
            log_every: 1,
            device: r.device,
            precision: r.precision,
            activation_checkpointing: r.activation_checkpointing,
            threads: self.threads,
            stop_after: None,
            dist_timeout_s: r.dist_timeout_s,
        }
    }

    /// A downstream-length run (a continual run or a baseline), checkpointed for resuming.
    fn downstream_run(&self) -> RunSection {
        let steps = self.cfg.downstream.steps;
        self.run(steps, PathBuf::new(), vec![], self.checkpoint_every)
    }

    fn data(&self, train: Vec<DataSource>) -> DataSection {
        let d = &self.cfg.data;
        DataSection {
            seq_len: d.seq_len,
            batch_size: d.batch_size,
            grad_accum: d.grad_accum,
            seed: self.cfg.seeds()[0],
            train,
            val: self.val.clone(),
            eval_sequences: d.eval_sequences,
            allow_tokenizer_mismatch: d.allow_tokenizer_mismatch,
        }
    }

    /// The upstream run's schedule (warmup and cosine), also the from-scratch baselines'.
    fn upstream_schedule(&self) -> ScheduleConfig {
        let u = &self.cfg.upstream;
        ScheduleConfig {
            warmup_fraction: Some(u.warmup_fraction),
            min_ratio: u.min_ratio,
            ..ScheduleConfig::new(ScheduleKind::named("cosine"), u.max_lr)
        }
    }

    /// The branch points of `[upstream] checkpoints` (each at its first checkpoint's step);
    /// returns the model a from-scratch baseline trains: the final checkpoint's config.
    fn given_starts(&mut self) -> ModelSection {
        let u = &self.cfg.upstream;
        for (name, path) in &u.checkpoints {
            let step = crate::run_dir::checkpoints(path)
                .first()
                .map(|c| c.0)
                .unwrap_or(if name == "final" { u64::MAX } else { 0 });
            self.starts.push(Start {
                name: name.clone(),
                step,
                path: path.clone(),
            });
        }
        ModelSection {
            config: Some(u.checkpoints["final"].join("config.json")),
            seed: self.cfg.model.as_ref().map_or(0, |m| m.seed),
            ..ModelSection::default()
        }
    }

    /// The upstream run, checkpointed at each branch point, whose final and step checkpoints
    /// become the starts.
    fn upstream_run(&mut self) -> PlannedRun {
        let (u, d) = (&self.cfg.upstream, &self.cfg.data);
        let out = run_dir(self.dir, UPSTREAM);
        let mut at = Vec::new();
        for b in &u.branch {
            let step = ((b * u.steps as f64).round() as u64).clamp(1, u.steps);
            let (name, path) = if step == u.steps {
                ("final".into(), crate::run_dir::final_dir(&out))
            } else {
                at.push(step);
                (
                    format!("step-{step}"),
                    crate::run_dir::checkpoint_dir(&out, step),
                )
            };
            self.starts.push(Start { name, step, path });
        }
        PlannedRun {
            name: UPSTREAM.into(),
            kind: Kind::Upstream,
            axes: vec![],
            config: RunConfig {
                model: self.cfg.model.clone().expect("validated"),
                data: self.data(vec![source("upstream", &d.upstream.train, 1.0)]),
                optim: self.cfg.optim.clone(),
                schedule: self.upstream_schedule(),
                run: self.run(u.steps, out, at, 0),
                eval: self.cfg.eval.clone(),
            },
            seed_index: 0,
            repeats: None,
        }
    }

    fn start_path(&self, name: &str) -> Result<PathBuf> {
        match self.starts.iter().find(|s| s.name == name) {
            Some(s) => Ok(s.path.clone()),
            None => bail!(
                "[grid] start {name:?} is not a branch point; there are {}",
                self.starts
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn continual_run(&self, s: Settings, axes: Vec<Axis>) -> Result<PlannedRun> {
        let name = continual_name(&s, &self.cfg.grid.reference);
        let mut config = self.continual_config(&s, false)?;
        config.run.out = run_dir(self.dir, &name);
        Ok(PlannedRun {
            name,
            kind: Kind::Continual(s),
            axes,
            config,
            seed_index: 0,
            repeats: None,
        })
    }

    /// The run config of settings `s`: trained on the downstream corpus with its replay share
    /// (or on the upstream corpus alone), from its start checkpoint, on its schedule.
    fn continual_config(&self, s: &Settings, train_on_upstream: bool) -> Result<RunConfig> {
        let (u, d) = (&self.cfg.upstream, &self.cfg.data);
        let train = if train_on_upstream {
            vec![source("upstream", &d.upstream.train, 1.0 - s.replay)]
        } else {
            let mut t = vec![source("downstream", &d.downstream.train, 1.0 - s.replay)];
            if s.replay > 0.0 {
                t.push(source("upstream-replay", &d.upstream.train, s.replay));
            }
            t
        };
        let base = ScheduleConfig {
            warmup_fraction: Some(s.warmup),
            min_ratio: u.min_ratio,
            ..ScheduleConfig::new(ScheduleKind::named("cosine"), s.max_lr * u.max_lr)
        };
        Ok(RunConfig {
            model: from_checkpoint(self.start_path(&s.start)?, s.moments == Moments::Keep),
            data: self.data(train),
            optim: self.cfg.optim.clone(),
            schedule: s.schedule.config(base, &self.cfg.grid.schedule_params()),
            run: self.downstream_run(),
            eval: self.cfg.eval.clone(),
        })
    }

    /// A baseline run and the axes whose charts show it.
    fn baseline_run(&self, b: Baseline, scratch_model: &ModelSection) -> Result<PlannedRun> {
        let (mut config, axes) = match b {
            Baseline::Constant => (self.constant_baseline()?, vec![Axis::MaxLr]),
            Baseline::SameData => (
                self.continual_config(&self.cfg.grid.reference, true)?,
                vec![],
            ),
            Baseline::Scratch => (self.scratch_baseline(scratch_model), vec![]),
            Baseline::Union => (self.union_baseline(scratch_model), vec![Axis::Replay]),
        };
        let name = baseline_name(b).to_string();
        config.run.out = run_dir(self.dir, &name);
        Ok(PlannedRun {
            name,
            kind: Kind::Baseline(b),
            axes,
            config,
            seed_index: 0,
            repeats: None,
        })
    }

    /// No re-warm: the upstream run's final LR, constant, from the final checkpoint.
    fn constant_baseline(&self) -> Result<RunConfig> {
        let (u, d) = (&self.cfg.upstream, &self.cfg.data);
        let reference = &self.cfg.grid.reference;
        let lr = u.final_lr.unwrap_or(u.min_ratio * u.max_lr);
        let mut c = self.continual_config(reference, false)?;
        c.model = from_checkpoint(
            self.start_path("final")?,
            reference.moments == Moments::Keep,
        );
        c.data = self.data(vec![source("downstream", &d.downstream.train, 1.0)]);
        c.schedule = ScheduleConfig::new(ScheduleKind::named("constant"), lr);
        Ok(c)
    }

    /// From scratch on the downstream corpus, the downstream steps.
    fn scratch_baseline(&self, model: &ModelSection) -> RunConfig {
        let d = &self.cfg.data;
        RunConfig {
            model: model.clone(),
            data: self.data(vec![source("downstream", &d.downstream.train, 1.0)]),
            optim: self.cfg.optim.clone(),
            schedule: self.upstream_schedule(),
            run: self.downstream_run(),
            eval: self.cfg.eval.clone(),
        }
    }

    /// From scratch on both corpora mixed by their steps, upstream + downstream steps.
    fn union_baseline(&self, model: &ModelSection) -> RunConfig {
        let (u, d) = (&self.cfg.upstream, &self.cfg.data);
        let steps = u.steps + self.cfg.downstream.steps;
        let up_share = u.steps as f64 / steps as f64;
        RunConfig {
            model: model.clone(),
            data: self.data(vec![
                source("upstream", &d.upstream.train, up_share),
                source("downstream", &d.downstream.train, 1.0 - up_share),
            ]),
            optim: self.cfg.optim.clone(),
            schedule: self.upstream_schedule(),
            run: self.run(steps, PathBuf::new(), vec![], self.checkpoint_every),
            eval: self.cfg.eval.clone(),
        }
    }
}

fn source(name: &str, path: &Path, weight: f64) -> DataSource {
    DataSource {
        name: name.into(),
        path: path.to_path_buf(),
        weight,
    }
}

fn from_checkpoint(ck: PathBuf, keep_moments: bool) -> ModelSection {
    ModelSection {
        checkpoint: Some(ck),
        load_optimizer: keep_moments,
        ..ModelSection::default()
    }
}
