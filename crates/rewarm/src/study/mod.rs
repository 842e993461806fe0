//! `rewarm study`: the paper's grid as one resumable command. The config expands into named
//! runs ([`plan`]); the upstream run goes first (the others branch from its checkpoints), then
//! the rest, `jobs` at a time; finished runs are skipped, interrupted ones resume from their
//! last checkpoint. The study ends with its report ([`report`]): curves per grid axis, a table
//! per run ([`metrics`]) and each finding checked against the numbers ([`findings`]).
//!
//! Launched as several ranks (`torchrun`, `srun`, `rewarm launch`), the study runs one run at a
//! time on all of them, data-parallel, in one process group; rank 0 alone writes the study
//! folder and decides which runs are done, and the others follow its decisions.

pub mod bootstrap;
pub mod config;
pub mod findings;
pub mod metrics;
pub mod plan;
pub mod preset;
pub mod report;
pub mod verdict;

use crate::dist::{self, DataParallel};
use crate::run_config::{self, RunConfig};
use crate::run_dir;
use crate::train::{self, Bars};
use anyhow::{bail, Context, Result};
pub use config::StudyConfig;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use plan::{Kind, Plan, PlannedRun};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tch::{Kind as DType, Tensor};

/// What the study writes in the ownership marker of its folder.
pub const OWNER: &str = "rewarm study";

pub struct StudyOptions {
    pub config: StudyConfig,
    pub dir: PathBuf,
    /// Runs at a time (None: the config's `[run] jobs`).
    pub jobs: Option<usize>,
    /// Re-run the runs whose settings changed (and take a folder another tool made).
    pub force: bool,
    pub progress: bool,
}

/// How a planned run stands in the study folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Done,
    /// Interrupted after a checkpoint at this step.
    Resume(u64),
    Fresh,
}

impl State {
    /// As one number, for rank 0 to hand to the other ranks.
    fn code(self) -> i64 {
        match self {
            State::Done => -1,
            State::Fresh => -2,
            State::Resume(step) => step as i64,
        }
    }

    fn from_code(c: i64) -> State {
        match c {
            -1 => State::Done,
            c if c >= 0 => State::Resume(c as u64),
            _ => State::Fresh,
        }
    }
}

pub struct Outcome {
    pub plan: Plan,
    pub ran: Vec<String>,
    pub resumed: Vec<String>,
    pub skipped_done: Vec<String>,
    /// The report page; `None` on the ranks other than 0, which write none.
    pub report: Option<PathBuf>,
    pub findings: Vec<findings::Finding>,
    pub seconds: f64,
}

/// Runs at a time in one process: `flag` (`--jobs`) or else `cfg_jobs` (`[run] jobs`), at
/// most `cores` (each run needs a core of its own; more runs only wait for each other) and,
/// when `memory` gives the bytes a run needs and the bytes available, as many runs as fit. Too
/// many on the command line is refused with the limit and why; too many in the config (which
/// may come from a larger machine) is lowered to the limit, with a note.
pub fn choose_jobs(
    cfg_jobs: usize,
    flag: Option<usize>,
    cores: usize,
    memory: Option<(u64, u64)>,
) -> Result<usize> {
    let by_memory = memory.map(|(per_run, avail)| (avail / per_run.max(1)).max(1) as usize);
    let limit = by_memory.map_or(cores, |m| m.min(cores)).max(1);
    let why = match (by_memory, memory) {
        (Some(m), Some((per_run, avail))) if m < cores => format!(
            "each run needs about {:.1} GiB (weights, gradients and AdamW moments) and {:.1} GiB of memory is available, room for {m} at a time",
            gib(per_run),
            gib(avail)
        ),
        _ => format!(
            "this machine gives this process {cores} cores, and each run needs one (more runs at a time only wait for each other)"
        ),
    };
    match flag {
        Some(0) => bail!("--jobs 0: give at least 1"),
        Some(j) if j > limit => bail!("--jobs {j}: {why}; give at most {limit}"),
        Some(j) => Ok(j),
        None if cfg_jobs > limit => {
            eprintln!("note: [run] jobs = {cfg_jobs} in the study config, but {why}; running {limit} at a time");
            Ok(limit)
        }
        None => Ok(cfg_jobs.max(1)),
    }
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// Intra-op threads per run, and for the upstream run, which goes alone: the config's, else
/// the cores shared among the jobs; the upstream run gets the threads the jobs would share,
/// no more than the cores (and never fewer than a run's own).
pub fn threads_for(cfg_threads: i32, jobs: usize, cores: usize) -> (i32, i32) {
    let cores = cores.max(1) as i32;
    let jobs = jobs.max(1) as i32;
    if cfg_threads > 0 {
        let alone = cfg_threads.saturating_mul(jobs).min(cores).max(cfg_threads);
        return (cfg_threads, alone);
    }
    ((cores / jobs).max(1), cores)
}

/// Bytes one run of the study holds on the CPU at least: f32 weights, gradients and the two
/// AdamW moments of its model (None when the model cannot be sized yet, or runs on CUDA).
fn run_memory(cfg: &StudyConfig) -> Option<u64> {
    if cfg.run.device.resolve().ok()? != tch::Device::Cpu {
        return None;
    }
    let mc = study_model(cfg).ok()?;
    Some(crate::model::num_params(&mc).saturating_mul(4 * 4))
}

/// The study's model config: the given final checkpoint's, or `[model]` on the data's vocabulary.
fn study_model(cfg: &StudyConfig) -> Result<crate::config::ModelConfig> {
    let vocab = crate::dataset::TokenDataset::open(&cfg.data.downstream.train)
        .with_context(|| "downstream train data")?
        .index
        .vocab_size as i64;
    match (&cfg.model, cfg.upstream.checkpoints.get("final")) {
        (_, Some(ck)) => crate::config::ModelConfig::load(&ck.join("config.json")),
        (Some(m), None) => {
            let rc = RunConfig {
                model: m.clone(),
                ..plan::plan(cfg, Path::new("."), 0)?.runs[0].config.clone()
            };
            run_config::model_config(&rc, vocab)
        }
        (None, None) => bail!("[model] is needed"),
    }
}

/// The state of `run`'s folder. A folder whose run was made with other settings is an error
/// naming them (with `force`: cleared, so the run starts again).
fn state_of(run: &PlannedRun, force: bool) -> Result<State> {
    let out = &run.config.run.out;
    if let Ok(saved) = run_dir::read_run_toml(&out.join(run_dir::RUN_TOML)) {
        let diff = run_config::resume_conflicts(&saved, &run.config)?;
        if !diff.is_empty() {
            if !force {
                bail!(
                    "run {} ({}) was made with other settings: {}; pass --force to run it again with this config",
                    run.name,
                    out.display(),
                    diff.join("; ")
                );
            }
            clear(out)?;
            return Ok(State::Fresh);
        }
    }
    if run_dir::finished(out) {
        return Ok(State::Done);
    }
    if let Some((step, _)) = run_dir::latest_checkpoint(out) {
        return Ok(State::Resume(step));
    }
    if out.exists() {
        // Started but interrupted before its first checkpoint: nothing to keep.
        clear(out)?;
    }
    Ok(State::Fresh)
}

/// Removes a run folder of the study (always under `DIR/runs/`).
fn clear(out: &Path) -> Result<()> {
    std::fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))
}

/// Keys of the study config that may change between invocations without changing results.
fn free_key(k: &str) -> bool {
    // More or fewer seeds add or leave out whole runs; a run whose own seed changed is caught
    // by its run.toml.
    k.starts_with("run.") || k.starts_with("grid.seeds")
}

/// A study folder held for a whole study: rank 0 holds its lock (see [`claim`]); the other
/// ranks of a launched study hold nothing.
pub struct Claim {
    _lock: Option<outdir::Lock>,
}

/// Claims `dir` for a study: locks it for as long as the returned [`Claim`] lives, checks it
/// ([`outdir::check_dest`], `force` takes a folder another tool made) and marks it. A second
/// `rewarm study` on the folder meanwhile is refused with this process's pid. Under a launcher
/// rank 0 claims it while the others wait.
pub fn claim(dir: &Path, force: bool, par: Option<&DataParallel>) -> Result<Claim> {
    let mut lock = None;
    dist::from_lead(par, "claiming the study folder", 0, || {
        lock = Some(outdir::claim_dir(dir, OWNER, force)?);
        Ok(Vec::new())
    })?;
    Ok(Claim { _lock: lock })
}

/// Writes the data of preset `name` into the claimed study folder `dir` (once). Under a
/// launcher rank 0 writes it while the others wait.
pub fn write_preset(
    name: &str,
    dir: &Path,
    progress: bool,
    par: Option<&DataParallel>,
    _claimed: &Claim,
) -> Result<()> {
    dist::from_lead(par, "writing the preset's data", 0, || {
        preset::write_data(name, dir, progress)?;
        Ok(Vec::new())
    })
    .map(drop)
}

/// Checks the claimed study folder's saved config against this one and saves it (its paths
/// inside the folder relative to it, so the folder can be moved or copied), then finds how each
/// planned run stands (clearing those that must start again).
fn prepare(o: &StudyOptions, cfg: &StudyConfig, dir: &Path, plan: &Plan) -> Result<Vec<State>> {
    let saved_path = dir.join("study.toml");
    let absolute = |c: &StudyConfig| {
        let mut c = c.clone();
        c.map_paths(|p| *p = run_dir::absolute(p));
        c
    };
    if let Ok(text) = std::fs::read_to_string(&saved_path) {
        let mut saved: StudyConfig = toml::from_str(&text)
            .with_context(|| format!("{}: not a study config", saved_path.display()))?;
        saved.resolve_paths(dir);
        let diff: Vec<String> = run_config::config_diff(&absolute(&saved), &absolute(cfg))?
            .into_iter()
            .filter(|(k, _, _)| !free_key(k))
            .map(|(k, a, b)| format!("{k}: was {a}, now {b}"))
            .collect();
        if !diff.is_empty() && !o.force {
            bail!(
                "{} holds a study made with another config: {}; run it with the original config, pick another --out, or pass --force to re-run the runs whose settings changed",
                dir.display(),
                diff.join("; ")
            );
        }
    }
    let mut portable = cfg.clone();
    portable.map_paths(|p| *p = run_dir::portable(p, dir, dir));
    outdir::write_file(&saved_path, toml::to_string(&portable)?.as_bytes())?;

    plan.runs.iter().map(|r| state_of(r, o.force)).collect()
}

/// Runs (or continues) the study in `o.dir`, then writes its report there.
pub fn run(o: &StudyOptions) -> Result<Outcome> {
    run_in(o, None)
}

/// [`run`] as one of the ranks of `par` (a single process without it): each run trains on all
/// the ranks; rank 0 holds the folder ([`claim`]) and writes it and the report.
pub fn run_in(o: &StudyOptions, par: Option<&DataParallel>) -> Result<Outcome> {
    let claimed = claim(&o.dir, o.force, par)?;
    run_claimed(o, par, &claimed)
}

/// [`run_in`] in a study folder that this process has claimed already.
pub fn run_claimed(
    o: &StudyOptions,
    par: Option<&DataParallel>,
    _claimed: &Claim,
) -> Result<Outcome> {
    let t0 = std::time::Instant::now();
    let cfg = &o.config;
    let lead = par.is_none_or(|p| p.lead());
    let cores = crate::cmd::cores();
    cfg.check_inputs()?;
    let jobs = match (par, o.jobs) {
        (None, flag) => choose_jobs(
            cfg.run.jobs,
            flag,
            cores,
            run_memory(cfg).zip(crate::model::available_memory()),
        )?,
        (Some(p), Some(j)) if j > 1 => bail!(
            "--jobs {j}: a study launched as {} ranks trains one run at a time on all of them; leave --jobs out",
            p.group.size
        ),
        (Some(_), _) => 1,
    };
    let (threads, alone) = threads_for(cfg.run.threads, jobs, cores);
    // Ranks take their threads from the launcher (OMP_NUM_THREADS) unless the config says.
    let threads = if par.is_some() {
        cfg.run.threads
    } else {
        threads
    };
    // Absolute, so each run's saved run.toml reads the same from anywhere.
    let dir = run_dir::absolute(&o.dir);
    let plan = plan::plan(cfg, &dir, threads)?;

    let states: Vec<State> =
        dist::from_lead(par, "preparing the study folder", plan.runs.len(), || {
            Ok(prepare(o, cfg, &dir, &plan)?
                .into_iter()
                .map(State::code)
                .collect())
        })?
        .into_iter()
        .map(State::from_code)
        .collect();
    let multi = MultiProgress::new();
    if !o.progress || !lead {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let total: u64 = plan.runs.iter().map(|r| r.config.run.steps).sum();
    let overall = multi.add(ProgressBar::new(total));
    overall.set_style(
        ProgressStyle::with_template(
            "study [{elapsed_precise}] {bar:30} {pos}/{len} steps of all runs, {msg} ETA {eta}",
        )
        .expect("template"),
    );
    let done_steps: u64 = plan
        .runs
        .iter()
        .zip(&states)
        .filter(|(_, s)| **s == State::Done)
        .map(|(r, _)| r.config.run.steps)
        .sum();
    overall.set_position(done_steps);
    overall.reset_eta();
    let remaining = plan.runs.len() - states.iter().filter(|s| **s == State::Done).count();
    let finished = Mutex::new(0usize);
    overall.set_message(format!("0/{remaining} runs"));

    let run_one = |r: &PlannedRun, st: State| -> Result<()> {
        let mut config = r.config.clone();
        if r.kind == Kind::Upstream && par.is_none() {
            config.run.threads = alone;
        }
        let bars = Bars {
            show: o.progress && lead,
            multi: Some(multi.clone()),
            overall: Some(overall.clone()),
            label: r.name.clone(),
        };
        train::train_in(
            &config,
            matches!(st, State::Resume(_)),
            &bars,
            par,
            Some(&dir),
        )
        .with_context(|| format!("study run {} ({})", r.name, r.config.run.out.display()))?;
        let mut n = finished.lock().expect("not poisoned");
        *n += 1;
        overall.set_message(format!("{n}/{remaining} runs"));
        Ok(())
    };

    // The upstream run first: the others branch from its checkpoints.
    let mut queue: Vec<(&PlannedRun, State)> = Vec::new();
    for (r, st) in plan.runs.iter().zip(&states) {
        if *st == State::Done {
            continue;
        }
        if r.kind == Kind::Upstream {
            run_one(r, *st)?;
        } else {
            queue.push((r, *st));
        }
    }
    // Longest runs first (the union baseline is the longest), so no job is left with one
    // long run at the end while the others idle.
    queue.sort_by_key(|(r, _)| std::cmp::Reverse(r.config.run.steps));
    let queue = Mutex::new(queue.into_iter());
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                if failure.lock().expect("not poisoned").is_some() {
                    return;
                }
                let next = queue.lock().expect("not poisoned").next();
                let Some((r, st)) = next else { return };
                if let Err(e) = run_one(r, st) {
                    failure.lock().expect("not poisoned").get_or_insert(e);
                    return;
                }
            });
        }
    });
    overall.finish_and_clear();
    if let Some(e) = failure.into_inner().expect("not poisoned") {
        return Err(e);
    }

    let (report, findings) = if lead {
        let (page, found) = report::write_study(&dir, &plan)?;
        (Some(page), found)
    } else {
        (None, Vec::new())
    };
    let names = |f: &dyn Fn(State) -> bool| -> Vec<String> {
        plan.runs
            .iter()
            .zip(&states)
            .filter(|(_, s)| f(**s))
            .map(|(r, _)| r.name.clone())
            .collect()
    };
    Ok(Outcome {
        ran: names(&|s| s == State::Fresh),
        resumed: names(&|s| matches!(s, State::Resume(_))),
        skipped_done: names(&|s| s == State::Done),
        plan,
        report,
        findings,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Seconds per training step and per evaluation batch of the study's model, measured on the
/// study's device with random tokens (one untimed step first).
pub struct Probe {
    pub step_s: f64,
    pub eval_batch_s: f64,
    pub device: String,
}

pub fn probe(cfg: &StudyConfig, threads: i32) -> Result<Probe> {
    cfg.check_inputs()?;
    if threads > 0 {
        tch::set_num_threads(threads);
    }
    let device = cfg.run.device.resolve()?;
    let vocab = crate::dataset::TokenDataset::open(&cfg.data.downstream.train)
        .with_context(|| "downstream train data")?
        .index
        .vocab_size as i64;
    let mc = study_model(cfg)?;
    let mut model = crate::model::GptNeox::new(&mc, device, 0)?;
    model.set_compute(cfg.run.precision.compute(device))?;
    model.set_activation_checkpointing(cfg.run.activation_checkpointing as usize);
    let mut opt = crate::optim::AdamW::new(&model.params.list, cfg.optim.clone());
    let (b, t) = (cfg.data.batch_size as i64, cfg.data.seq_len as i64);
    let ids = Tensor::randint(
        mc.vocab_size.min(vocab).max(1),
        [b, t + 1],
        (DType::Int64, device),
    );
    let (x, y) = (ids.narrow(1, 0, t), ids.narrow(1, 1, t));
    let sync = |l: Tensor| -> Result<f64> { Ok(l.double_value(&[])) };
    let mut step = || -> Result<f64> {
        opt.zero_grad()?;
        let mut last = 0.0;
        for _ in 0..cfg.data.grad_accum {
            let loss = model.backward_loss(&x, &y, 1.0 / cfg.data.grad_accum as f64)?;
            last = sync(loss)?;
        }
        let _ = opt.clip_grad_norm()?;
        opt.step(1e-6)?;
        model.refresh_working()?;
        Ok(last)
    };
    step()?;
    let t0 = std::time::Instant::now();
    for _ in 0..2 {
        step()?;
    }
    let step_s = t0.elapsed().as_secs_f64() / 2.0;
    let t0 = std::time::Instant::now();
    let mut bufs = crate::model::EvalBuffers::default();
    tch::no_grad(|| sync(model.sequence_losses(&x, &y, &mut bufs)?.sum(DType::Double)))?;
    let eval_batch_s = t0.elapsed().as_secs_f64();
    Ok(Probe {
        step_s,
        eval_batch_s,
        device: format!("{device:?}"),
    })
}

/// Estimated seconds of `run` from a probe: its steps and its evaluations of both sets.
pub fn estimate(run: &PlannedRun, cfg: &StudyConfig, p: &Probe) -> f64 {
    let r = &run.config.run;
    let evals = r.steps / r.eval_every.max(1) + r.eval_at.len() as u64 + 1;
    let batches = cfg
        .data
        .eval_sequences
        .div_ceil(cfg.data.batch_size as u64)
        .max(1);
    r.steps as f64 * p.step_s + (evals * 2 * batches) as f64 * p.eval_batch_s
}

/// Estimated wall seconds of the whole plan with `jobs` at a time, scheduled as [`run`] does:
/// the upstream run alone, then the longest runs first, each on the first free job.
pub fn estimate_wall(plan: &Plan, cfg: &StudyConfig, p: &Probe, jobs: usize) -> f64 {
    let mut upstream = 0.0;
    let mut rest: Vec<f64> = Vec::new();
    for r in &plan.runs {
        let e = estimate(r, cfg, p);
        if r.kind == Kind::Upstream {
            upstream += e;
        } else {
            rest.push(e);
        }
    }
    rest.sort_by(|a, b| b.total_cmp(a));
    let mut free = vec![0.0f64; jobs.max(1)];
    for e in rest {
        let first = free
            .iter_mut()
            .min_by(|a, b| a.total_cmp(b))
            .expect("at least one job");
        *first += e;
    }
    upstream + free.into_iter().fold(0.0, f64::max)
}
