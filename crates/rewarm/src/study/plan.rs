//! The study's runs, expanded from its config: each a name made from its settings, what it is
//! (upstream, a continual run, a baseline), the chart axes it belongs to and its run config.

pub use super::config::Settings;
use super::config::{Axis, Baseline, Family, Moments, StudyConfig};
use crate::run_config::{DataSection, DataSource, ModelSection, RunConfig, RunSection};
use crate::schedule::{Cooldown, ScheduleConfig, ScheduleKind};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

impl Settings {
    fn value(&self, a: Axis) -> String {
        match a {
            Axis::Warmup => pct(self.warmup),
            Axis::MaxLr => format!("{}x", num(self.max_lr)),
            Axis::Replay => pct(self.replay),
            Axis::Schedule => family(self.schedule).into(),
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
            Axis::Schedule => self.schedule as u8 as f64,
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
fn family(f: Family) -> &'static str {
    match f {
        Family::Cosine => "cosine",
        Family::Wsd => "wsd",
        Family::Infinite => "infinite",
        Family::InfiniteInvSqrt => "infinite-inv-sqrt",
    }
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

pub fn plan(cfg: &StudyConfig, dir: &Path, threads: i32) -> Result<Plan> {
    let u = &cfg.upstream;
    let d = &cfg.data;
    let g = &cfg.grid;
    let down_steps = cfg.downstream.steps;
    let (every, early) = eval_cadence(down_steps, cfg.downstream.evals);
    let ck_every = match cfg.downstream.checkpoint_every {
        0 => (down_steps / 4).max(1),
        n => n,
    };
    let val = vec![
        source("upstream", &d.upstream.val, 1.0),
        source("downstream", &d.downstream.val, 1.0),
    ];
    let run =
        |steps: u64, out: PathBuf, checkpoint_at: Vec<u64>, checkpoint_every: u64| -> RunSection {
            RunSection {
                steps,
                out,
                eval_every: every,
                eval_at: early.clone(),
                checkpoint_every,
                checkpoint_at,
                log_every: 1,
                device: cfg.run.device,
                precision: cfg.run.precision,
                activation_checkpointing: cfg.run.activation_checkpointing,
                threads,
                stop_after: None,
                dist_timeout_s: cfg.run.dist_timeout_s,
            }
        };
    let data = |train: Vec<DataSource>| DataSection {
        seq_len: d.seq_len,
        batch_size: d.batch_size,
        grad_accum: d.grad_accum,
        seed: d.seed,
        train,
        val: val.clone(),
        eval_sequences: d.eval_sequences,
    };
    let upstream_schedule = || ScheduleConfig {
        warmup_fraction: Some(u.warmup_fraction),
        min_ratio: u.min_ratio,
        ..ScheduleConfig::new(ScheduleKind::Cosine, u.max_lr)
    };
    let mut runs = Vec::new();

    // Where continual runs start from.
    let given = !u.checkpoints.is_empty();
    let mut starts: Vec<(String, u64, PathBuf)> = Vec::new();
    let scratch_model = if given {
        for (name, path) in &u.checkpoints {
            let step = crate::run_dir::checkpoints(path)
                .first()
                .map(|c| c.0)
                .unwrap_or(if name == "final" { u64::MAX } else { 0 });
            starts.push((name.clone(), step, path.clone()));
        }
        ModelSection {
            config: Some(u.checkpoints["final"].join("config.json")),
            seed: cfg.model.as_ref().map_or(0, |m| m.seed),
            ..ModelSection::default()
        }
    } else {
        let model = cfg.model.clone().expect("validated");
        let out = run_dir(dir, UPSTREAM);
        let mut at = Vec::new();
        for b in &u.branch {
            let step = ((b * u.steps as f64).round() as u64).clamp(1, u.steps);
            if step == u.steps {
                starts.push(("final".into(), step, crate::run_dir::final_dir(&out)));
            } else {
                starts.push((
                    format!("step-{step}"),
                    step,
                    crate::run_dir::checkpoint_dir(&out, step),
                ));
                at.push(step);
            }
        }
        runs.push(PlannedRun {
            name: UPSTREAM.into(),
            kind: Kind::Upstream,
            axes: vec![],
            config: RunConfig {
                model: model.clone(),
                data: data(vec![source("upstream", &d.upstream.train, 1.0)]),
                optim: cfg.optim.clone(),
                schedule: upstream_schedule(),
                run: run(u.steps, out, at, 0),
            },
        });
        model
    };
    starts.sort_by_key(|s| s.1);
    starts.dedup_by(|a, b| a.0 == b.0);
    let start_path = |name: &str| -> Result<PathBuf> {
        match starts.iter().find(|s| s.0 == name) {
            Some(s) => Ok(s.2.clone()),
            None => bail!(
                "[grid] start {name:?} is not a branch point; there are {}",
                starts
                    .iter()
                    .map(|s| s.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };

    let reference = g.reference.clone();
    start_path(&reference.start)?;
    let values = |a: Axis| -> Vec<Value> {
        match a {
            Axis::Warmup => g.warmup.iter().map(|x| Value::Num(*x)).collect(),
            Axis::MaxLr => g.max_lr.iter().map(|x| Value::Num(*x)).collect(),
            Axis::Replay => g.replay.iter().map(|x| Value::Num(*x)).collect(),
            Axis::Schedule => g.schedule.iter().map(|x| Value::Family(*x)).collect(),
            Axis::Moments => g.moments.iter().map(|x| Value::Moments(*x)).collect(),
            Axis::Start => starts.iter().map(|s| Value::Start(s.0.clone())).collect(),
        }
    };

    // Continual runs: the reference, each axis alone, then the joint groups.
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
        for v in values(a) {
            let mut s = reference.clone();
            s.set(a, &v);
            add(s, vec![a]);
        }
    }
    for group in &g.joint {
        let mut combos = vec![reference.clone()];
        for a in group {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values(*a).into_iter().map(move |v| {
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
    let up_max = u.max_lr;
    let continual_config = |s: &Settings, train_on_upstream: bool| -> Result<RunConfig> {
        let mut train = Vec::new();
        let (main, other) = if train_on_upstream {
            (&d.upstream.train, &d.downstream.train)
        } else {
            (&d.downstream.train, &d.upstream.train)
        };
        let main_name = if train_on_upstream {
            "upstream"
        } else {
            "downstream"
        };
        train.push(source(main_name, main, 1.0 - s.replay));
        if s.replay > 0.0 && !train_on_upstream {
            train.push(source("upstream-replay", other, s.replay));
        }
        let max = s.max_lr * up_max;
        let schedule = match s.schedule {
            Family::Cosine => ScheduleConfig {
                warmup_fraction: Some(s.warmup),
                min_ratio: u.min_ratio,
                ..ScheduleConfig::new(ScheduleKind::Cosine, max)
            },
            Family::Wsd => ScheduleConfig {
                warmup_fraction: Some(s.warmup),
                min_ratio: u.min_ratio,
                cooldown_fraction: Some(g.wsd_cooldown),
                ..ScheduleConfig::new(ScheduleKind::Wsd, max)
            },
            Family::Infinite | Family::InfiniteInvSqrt => {
                let inv = s.schedule == Family::InfiniteInvSqrt;
                ScheduleConfig {
                    warmup_fraction: Some(s.warmup),
                    min_ratio: u.min_ratio,
                    cooldown_fraction: Some(g.infinite_cooldown),
                    anneal_fraction: Some(g.infinite_anneal),
                    constant_ratio: Some(g.infinite_constant),
                    cooldown: if inv {
                        Cooldown::InvSqrt
                    } else {
                        Cooldown::Cosine
                    },
                    inv_sqrt_alpha: inv.then_some(g.infinite_alpha),
                    ..ScheduleConfig::new(ScheduleKind::Infinite, max)
                }
            }
        };
        Ok(RunConfig {
            model: from_checkpoint(start_path(&s.start)?, s.moments == Moments::Keep),
            data: data(train),
            optim: cfg.optim.clone(),
            schedule,
            run: run(down_steps, PathBuf::new(), vec![], ck_every),
        })
    };
    for (s, axes) in &continual {
        let name = if *s == reference {
            REFERENCE.to_string()
        } else {
            Axis::ALL
                .iter()
                .filter(|a| s.value(**a) != reference.value(**a))
                .map(|a| format!("{}-{}", a.key(), s.value(*a)))
                .collect::<Vec<_>>()
                .join("_")
        };
        let mut config = continual_config(s, false)?;
        config.run.out = run_dir(dir, &name);
        runs.push(PlannedRun {
            name,
            kind: Kind::Continual(s.clone()),
            axes: axes.clone(),
            config,
        });
    }

    for b in &g.baselines {
        let name = baseline_name(*b).to_string();
        let out = run_dir(dir, &name);
        let (config, axes) = match b {
            Baseline::Constant => {
                let lr = u.final_lr.unwrap_or(u.min_ratio * u.max_lr);
                let mut c = continual_config(&reference, false)?;
                c.model = from_checkpoint(start_path("final")?, reference.moments == Moments::Keep);
                c.data = data(vec![source("downstream", &d.downstream.train, 1.0)]);
                c.schedule = ScheduleConfig::new(ScheduleKind::Constant, lr);
                (c, vec![Axis::MaxLr])
            }
            Baseline::SameData => (continual_config(&reference, true)?, vec![]),
            Baseline::Scratch => (
                RunConfig {
                    model: scratch_model.clone(),
                    data: data(vec![source("downstream", &d.downstream.train, 1.0)]),
                    optim: cfg.optim.clone(),
                    schedule: upstream_schedule(),
                    run: run(down_steps, PathBuf::new(), vec![], ck_every),
                },
                vec![],
            ),
            Baseline::Union => {
                let steps = u.steps + down_steps;
                let up_share = u.steps as f64 / steps as f64;
                (
                    RunConfig {
                        model: scratch_model.clone(),
                        data: data(vec![
                            source("upstream", &d.upstream.train, up_share),
                            source("downstream", &d.downstream.train, 1.0 - up_share),
                        ]),
                        optim: cfg.optim.clone(),
                        schedule: upstream_schedule(),
                        run: run(steps, PathBuf::new(), vec![], ck_every),
                    },
                    vec![Axis::Replay],
                )
            }
        };
        let mut config = config;
        config.run.out = out;
        runs.push(PlannedRun {
            name,
            kind: Kind::Baseline(*b),
            axes,
            config,
        });
    }

    let mut skipped = Vec::new();
    for s in &g.skip {
        if s == UPSTREAM && !given {
            bail!("[grid] skip: the upstream run cannot be skipped (the others branch from it)");
        }
        if !runs.iter().any(|r| &r.name == s) {
            bail!("[grid] skip: no run is called {s:?}; `rewarm study --dry-run` lists the names");
        }
        skipped.push(s.clone());
    }
    runs.retain(|r| !g.skip.contains(&r.name));
    for r in &runs {
        r.config
            .validate()
            .map_err(|e| anyhow::anyhow!("run {}: {e}", r.name))?;
    }
    Ok(Plan {
        runs,
        starts: starts.into_iter().map(|s| (s.0, s.1)).collect(),
        skipped,
    })
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
