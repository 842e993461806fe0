//! The training loop of `rewarm train`: one run from its config ([`crate::run_config`]), from
//! scratch or continued from a checkpoint, with evaluation, checkpoints and exact resume in
//! its run folder ([`crate::run_dir`]), in one process or as one of the ranks of a
//! data-parallel job ([`crate::dist::DataParallel`]).

use crate::checkpoint;
use crate::dataset::{DatasetError, Mixture, TokenDataset};
use crate::dist::{check_split, DataParallel};
use crate::eval::{evaluate_part, EvalResult};
use crate::model::{Compute, GptNeox};
use crate::optim::AdamW;
use crate::run_config::{model_config, resume_conflicts, DataSource, RunConfig};
use crate::run_dir::{
    self, checkpoint_dir, checkpoints, latest_checkpoint, truncate_log, write_checkpoint, LogLine,
    RunLogs, TrainerState,
};
use crate::tokenize::hf;
use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub steps: u64,
    pub tokens: u64,
    pub final_eval: Vec<EvalResult>,
    pub seconds: f64,
    pub tokens_per_second: f64,
    pub out: PathBuf,
}

/// What a resumed run continues from.
struct Resumed {
    step: u64,
    dir: PathBuf,
    model: GptNeox,
    opt: AdamW,
    state: TrainerState,
}

/// Opens the newest readable checkpoint of `out` for `cfg`. A checkpoint that cannot be read
/// (cut short, corrupt) is passed over for the previous one, with a warning; one made with
/// other settings is refused with the differing keys named.
fn open_resume(cfg: &RunConfig, out: &Path, device: Device) -> Result<Resumed> {
    let candidates = checkpoints(out);
    if candidates.is_empty() {
        bail!(
            "resuming: {} has no checkpoint to resume from",
            out.display()
        );
    }
    let mut problems = Vec::new();
    for (step, dir) in candidates {
        if let Ok(saved) = run_dir::read_run_toml(&dir.join(run_dir::RUN_TOML)) {
            let diff = resume_conflicts(&saved, cfg)?;
            if !diff.is_empty() {
                bail!(
                    "resuming: {} was made with other settings than this config: {}; resume with the original config, or start a new run in another [run] out",
                    dir.display(),
                    diff.join("; ")
                );
            }
        }
        let opened = (|| -> Result<Resumed> {
            let st: TrainerState =
                serde_json::from_str(&std::fs::read_to_string(dir.join(run_dir::TRAINER_STATE))?)
                    .with_context(|| format!("{}: malformed trainer_state.json", dir.display()))?;
            let model = checkpoint::load(&dir, device)?;
            let mut opt = AdamW::new(&model.params.list, cfg.optim.clone());
            opt.load(&dir.join(run_dir::OPTIMIZER))?;
            Ok(Resumed {
                step,
                dir: dir.clone(),
                model,
                opt,
                state: st,
            })
        })();
        match opened {
            Ok(r) => {
                if !problems.is_empty() {
                    eprintln!(
                        "warning: resuming from {} (step {step}); newer checkpoints could not be read: {}",
                        dir.display(),
                        problems.join("; ")
                    );
                }
                return Ok(r);
            }
            Err(e) => problems.push(format!("{}: {e:#}", dir.display())),
        }
    }
    bail!(
        "resuming: no checkpoint of {} can be read: {}",
        out.display(),
        problems.join("; ")
    )
}

fn build_model(cfg: &RunConfig, vocab: i64, device: Device) -> Result<(GptNeox, Option<PathBuf>)> {
    let m = &cfg.model;
    if let Some(ck) = &m.checkpoint {
        let model = checkpoint::load(ck, device)
            .with_context(|| format!("loading checkpoint {}", ck.display()))?;
        return Ok((model, Some(ck.clone())));
    }
    let mc = model_config(cfg, vocab)?;
    Ok((GptNeox::new(&mc, device, m.seed)?, None))
}

/// Where a run shows its progress: nowhere, its own bar on stderr, or a bar inside a
/// [`MultiProgress`] under an overall bar that counts the steps of many runs (a study).
#[derive(Clone, Default)]
pub struct Bars {
    pub show: bool,
    pub multi: Option<MultiProgress>,
    pub overall: Option<ProgressBar>,
    /// Shown before the run's bar (the run's name in a study).
    pub label: String,
}

impl Bars {
    pub fn new(show: bool) -> Self {
        Self {
            show,
            ..Self::default()
        }
    }

    fn bar(&self, len: u64) -> ProgressBar {
        if !self.show {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        match &self.multi {
            Some(m) => m.add(bar),
            None => bar,
        }
    }

    fn advance(&self, steps: u64) {
        if let Some(o) = &self.overall {
            o.inc(steps);
        }
    }
}

/// Runs (or with `resume`, continues) a training run. `progress` shows a bar on stderr.
pub fn train(cfg: &RunConfig, resume: bool, progress: bool) -> Result<RunSummary> {
    train_with(cfg, resume, &Bars::new(progress))
}

/// [`train`] with its progress shown through `bars`. Under a launcher (`torchrun`, `srun`,
/// `rewarm launch`) the process joins the launched ranks for this run and leaves after it.
pub fn train_with(cfg: &RunConfig, resume: bool, bars: &Bars) -> Result<RunSummary> {
    let par = match crate::dist::World::from_env()? {
        Some(w) => {
            // Before joining, so that every rank says so at once.
            check_split(cfg.data.batch_size, w.size)?;
            Some(DataParallel::join(
                w,
                cfg.run.device,
                cfg.run.dist_timeout_s,
            )?)
        }
        None => None,
    };
    train_in(cfg, resume, bars, par.as_ref(), None)
}

/// [`train_with`] as one of the ranks of `par` (a single process without it). `root` is the
/// folder that moves as a whole with the run (a study's folder; None: the run folder): paths
/// inside it are saved relative in `run.toml` (see [`run_dir::portable`]).
pub fn train_in(
    cfg: &RunConfig,
    resume: bool,
    bars: &Bars,
    par: Option<&DataParallel>,
    root: Option<&Path>,
) -> Result<RunSummary> {
    let t0 = std::time::Instant::now();
    if cfg.run.threads > 0 {
        tch::set_num_threads(cfg.run.threads);
    }
    let device = match par {
        Some(p) => p.device,
        None => cfg.run.device.resolve()?,
    };
    let d = &cfg.data;
    let group = par.map(|p| &p.group);
    if let Some(g) = group {
        check_split(d.batch_size, g.size)?;
        g.set_step(0);
    }
    let (rank, ranks) = group.map_or((0, 1), |g| (g.rank, g.size));
    // Only rank 0 writes; the others read the same run folder (a shared file system).
    let lead = rank == 0;
    let train_sets = open_sets(&d.train, "train data", TokenDataset::open)?;
    let vocab = train_sets
        .iter()
        .map(|s| s.1.index.vocab_size)
        .max()
        .unwrap_or(0) as i64;
    let val_sets = open_sets(&d.val, "val data", TokenDataset::open_val)?;
    let mut mixture = Mixture::new(train_sets, d.seq_len, d.seed)?;

    let out = &cfg.run.out;
    let root = root.unwrap_or(out);
    // Rank 0 holds the run folder's lock for the whole run (a second writer is refused, named
    // by its pid), decides whether the run continues from a checkpoint and clears what a run
    // that stopped before its first step left; the other ranks follow its decision.
    let mut lock = None;
    let continues = crate::dist::from_lead(par, "preparing the run folder", 1, || {
        lock = Some(outdir::lock(out, run_dir::OWNER)?);
        Ok(vec![i64::from(run_dir::prepare(out, resume)?)])
    })?[0]
        == 1;
    let _lock = lock;
    let resumed = if continues {
        Some(open_resume(cfg, out, device)?)
    } else {
        None
    };
    if let Some(g) = group {
        // Every rank has read the run folder before rank 0 writes to it, and all resume from
        // the same checkpoint.
        let mine = resumed.as_ref().map_or(0, |r| r.step as i64);
        let lead_step = Tensor::from_slice(&[mine]);
        g.broadcast(&[&lead_step], "agreeing on the checkpoint to resume from")?;
        let lead_step = lead_step.int64_value(&[0]);
        if lead_step != mine {
            bail!("rank {rank} would resume from step {mine} but rank 0 from step {lead_step}; every rank must see the same [run] out (a shared file system)");
        }
    }
    if lead {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }

    let start_ck = resumed
        .as_ref()
        .map(|r| r.dir.clone())
        .or_else(|| cfg.model.checkpoint.clone());
    let tokenizer = run_tokenizer(cfg, &mixture, &val_sets, start_ck.as_deref(), lead)?;
    let mut step = 0u64;
    let mut tokens = 0u64;
    let (mut model, mut opt) = match resumed {
        Some(r) => {
            let st = &r.state;
            if st.schedule != cfg.schedule
                || st.total_steps != cfg.run.steps
                || st.data_seed != d.seed
            {
                bail!("{}: the checkpoint was made with another schedule, step count or data seed than this config", r.dir.display());
            }
            mixture.restore(&st.data)?;
            step = r.step;
            tokens = st.tokens;
            if lead {
                truncate_log(&out.join(run_dir::LOG), step)?;
            }
            (r.model, r.opt)
        }
        None => {
            let (model, source_ck) = build_model(cfg, vocab, device)?;
            let mut opt = AdamW::new(&model.params.list, cfg.optim.clone());
            if let (Some(ck), true) = (&source_ck, cfg.model.load_optimizer) {
                let p = ck.join(run_dir::OPTIMIZER);
                if !p.exists() {
                    bail!(
                        "[model] load_optimizer: {} has no optimizer.safetensors",
                        ck.display()
                    );
                }
                opt.load(&p)?;
            }
            (model, opt)
        }
    };
    model.set_compute(cfg.run.precision.compute(device))?;
    model.set_activation_checkpointing(cfg.run.activation_checkpointing as usize);
    // With working copies, and with activation checkpointing (several backward passes a
    // micro-batch), the parameters' gradients are reduced in f32 after the backward pass
    // instead of bucket by bucket during it (with working copies the reducer's hooks would sit
    // on the masters, which autograd does not reach).
    let reduce_after =
        matches!(model.compute(), Compute::Working(_)) || cfg.run.activation_checkpointing > 0;
    if model.cfg.vocab_size < vocab {
        bail!(
            "model vocab_size {} is smaller than the data's vocabulary {vocab}",
            model.cfg.vocab_size
        );
    }
    // Gradients and the two AdamW moments come on top of the weights.
    crate::model::check_memory(&model.cfg, 3, device)?;
    let schedule = cfg.schedule.build(cfg.run.steps)?;
    if let Some(g) = group {
        // Every rank starts from rank 0's weights.
        let params: Vec<&Tensor> = model.params.list.iter().map(|p| &p.1).collect();
        tch::no_grad(|| g.broadcast(&params, "broadcasting rank 0's initial weights"))?;
        model.refresh_working()?;
        if !reduce_after {
            g.attach(&params)?;
        }
    }
    let mut logs = if lead {
        outdir::write_file(
            &out.join(run_dir::RUN_TOML),
            run_dir::run_toml_text(cfg, out, root)?.as_bytes(),
        )?;
        RunLogs::open(out)?
    } else {
        RunLogs::none()
    };

    // Each rank evaluates its share of the batches (all of them in a single process).
    let eval_all = |model: &GptNeox| -> Result<Vec<EvalResult>> {
        let parts = val_sets
            .iter()
            .map(|(n, ds, _)| {
                evaluate_part(
                    model,
                    n,
                    ds,
                    d.seq_len,
                    d.batch_size,
                    d.eval_sequences,
                    (rank, ranks),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let losses: Vec<&Tensor> = parts.iter().map(|p| &p.losses).collect();
        if let Some(g) = group {
            // Each rank filled its own sequences' places: the sum gathers them all.
            g.all_reduce_sum(&losses, "gathering the evaluation losses")?;
        }
        parts.iter().map(|p| p.finish()).collect()
    };
    // Downstream tasks, read before the first step and scored by the lead rank at every
    // evaluation (with the run's tokenizer).
    let tasks = cfg
        .eval
        .tasks
        .iter()
        .map(|t| crate::tasks::read(&t.name, &t.path))
        .collect::<Result<Vec<_>>>()?;
    if !tasks.is_empty() && tokenizer.is_none() {
        bail!("[eval] tasks need the run's tokenizer, and neither the train data nor the starting checkpoint holds a tokenizer.json (tokenise the data again with rewarm tokenize)");
    }
    let score_tasks = |model: &GptNeox| -> Result<Vec<crate::tasks::TaskScore>> {
        let Some(tok) = tokenizer.as_ref().filter(|_| lead && !tasks.is_empty()) else {
            return Ok(vec![]);
        };
        let scorer = crate::tasks::Scorer::new(model, tok)?;
        tasks
            .iter()
            .map(|t| crate::tasks::score(t, &scorer, |_| {}))
            .collect()
    };
    if step == 0 && (!val_sets.is_empty() || !tasks.is_empty()) {
        let ev = eval_all(&model)?;
        logs.line(&LogLine {
            step: 0,
            tokens: 0,
            lr: None,
            loss: None,
            grad_norm: None,
            eval: ev.iter().map(Into::into).collect(),
            tasks: score_tasks(&model)?,
        })?;
    }

    let total = cfg.run.steps;
    let bar = if lead {
        bars.bar(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {} [{{elapsed_precise}}] {{bar:30}} step {{pos}}/{{len}} {{msg}} ETA {{eta}}",
            if bars.label.is_empty() { "train" } else { &bars.label }
        ))
        .expect("template"),
    );
    bar.set_position(step);
    bars.advance(step);
    let (b, t) = (d.batch_size, d.seq_len);
    let mut buf = vec![0i64; b * (t + 1)];
    // Each rank trains on its slice of every micro-batch; the data order depends on the step
    // only, never on the number of ranks.
    let per_rank = b / ranks;
    let mine = rank * per_rank * (t + 1)..(rank + 1) * per_rank * (t + 1);
    let mut final_eval = Vec::new();
    let run_start = std::time::Instant::now();
    let start_step = step;
    let mut done_here = 0u64;
    // Steps queued on the device whose loss and gradient norm the host has not read yet. The
    // host reads step s while step s + 1 runs, so the device never waits for it; evaluations,
    // checkpoints and the end read everything first. A non-finite loss or gradient norm skips
    // its update on the device (no sync needed) and stops the run when it is read.
    let mut pending: Vec<Pending> = Vec::new();
    let mut last_loss = f64::NAN;
    while step < total {
        if cfg.run.stop_after.is_some_and(|n| done_here >= n) {
            break;
        }
        let lr = schedule.lr(step);
        if !lr.is_finite() || lr < 0.0 {
            bail!("step {step}: the schedule gives the learning rate {lr}; check [schedule]");
        }
        opt.zero_grad()?;
        let mut loss_sum = Tensor::zeros([], (Kind::Float, device));
        for micro in 0..d.grad_accum {
            mixture.next_batch(b, &mut buf);
            crate::eval::check_ids(&buf, model.cfg.vocab_size, || {
                format!("training data at step {step}")
            })?;
            let batch = batch_to_device(&buf[mine.clone()], per_rank, t, device);
            let sync = group.filter(|_| micro + 1 == d.grad_accum && !reduce_after);
            if let Some(g) = sync {
                g.prepare_sync(&format!("step {step}: preparing the gradient all-reduce"))?;
            }
            // With several ranks, the last micro-batch's backward pass also averages the
            // gradients across them (c10d's Reducer, bucket by bucket as autograd fills them).
            let (x, y) = (batch.narrow(1, 0, t as i64), batch.narrow(1, 1, t as i64));
            let loss = match sync {
                Some(g) => model
                    .backward_loss(&x, &y, 1.0 / d.grad_accum as f64)
                    .map_err(|e| {
                        g.backward_failed(&format!("step {step}: the gradient all-reduce"), e)
                    })?,
                None => model.backward_loss(&x, &y, 1.0 / d.grad_accum as f64)?,
            };
            loss_sum += loss;
        }
        let loss = loss_sum / d.grad_accum as f64;
        if let (Some(g), true) = (group, reduce_after) {
            let grads = opt.grads();
            let grads: Vec<&Tensor> = grads.iter().collect();
            g.all_reduce_mean(&grads, &format!("step {step}: the gradient all-reduce"))?;
        }
        if let Some(g) = group {
            // The gradients are averaged already: the mean over ranks of each rank's mean
            // gradient is the gradient of the mean loss over the global batch (every sequence
            // has seq_len targets). The logged loss is averaged the same way.
            g.all_reduce_mean(&[&loss], &format!("step {step}: the loss all-reduce"))?;
        }
        let grad_norm = opt.clip_grad_norm()?;
        let found_inf = loss
            .isfinite()
            .logical_and(&grad_norm.isfinite())
            .logical_not()
            .to_kind(Kind::Float);
        opt.step_unless(lr, Some(&found_inf))?;
        model.refresh_working()?;
        step += 1;
        done_here += 1;
        if let Some(g) = group {
            g.set_step(step);
        }
        tokens += cfg.tokens_per_step();
        pending.push(Pending {
            step,
            tokens,
            lr,
            loss,
            grad_norm,
        });
        let evaluates = (cfg.run.eval_every > 0 && step % cfg.run.eval_every == 0)
            || cfg.run.eval_at.contains(&step)
            || step == total;
        let checkpoints = (cfg.run.checkpoint_every > 0 && step % cfg.run.checkpoint_every == 0)
            || cfg.run.checkpoint_at.contains(&step)
            || step == total;
        let stops = cfg.run.stop_after.is_some_and(|n| done_here >= n);
        let keep = usize::from(!(evaluates || checkpoints || stops));
        let ready: Vec<Pending> = pending.drain(..pending.len() - keep).collect();
        let mut current = None;
        for (p, (loss, grad_norm)) in settle(&ready)? {
            let before = p.step - 1;
            if !loss.is_finite() || !grad_norm.is_finite() {
                let last = latest_checkpoint(out)
                    .map(|(s, p)| format!("the last good checkpoint is {} (step {s})", p.display()))
                    .unwrap_or_else(|| "no checkpoint was written yet".into());
                let what = if loss.is_finite() {
                    format!("the gradient norm is {grad_norm}")
                } else {
                    format!("the training loss is {loss}")
                };
                bail!(
                    "step {before}: {what} (lr {:e}); stopping before the update; {last}",
                    p.lr
                );
            }
            last_loss = loss;
            let line = LogLine {
                step: p.step,
                tokens: p.tokens,
                lr: Some(p.lr),
                loss: Some(loss),
                grad_norm: Some(grad_norm),
                eval: vec![],
                tasks: vec![],
            };
            if p.step == step {
                current = Some(line);
            } else if p.step % cfg.run.log_every.max(1) == 0 {
                logs.line(&line)?;
            }
        }
        let evals = if evaluates { eval_all(&model)? } else { vec![] };
        if let Some(mut line) = current {
            if step % cfg.run.log_every.max(1) == 0 || evaluates {
                line.eval = evals.iter().map(Into::into).collect();
                if evaluates {
                    line.tasks = score_tasks(&model)?;
                }
                logs.line(&line)?;
            }
        }
        let secs = run_start.elapsed().as_secs_f64();
        let tps = ((step - start_step) * cfg.tokens_per_step()) as f64 / secs.max(1e-9);
        logs.throughput(step, secs, tps, device)?;
        bar.set_position(step);
        bars.advance(1);
        bar.set_message(format!("loss {last_loss:.4} lr {lr:.2e} {tps:.0} tok/s"));
        if checkpoints {
            let state = TrainerState {
                step,
                tokens,
                data: mixture.cursors(),
                schedule: cfg.schedule.clone(),
                total_steps: total,
                data_seed: d.seed,
                init_seed: cfg.model.seed,
                last_loss,
            };
            let dir = if step == total {
                run_dir::final_dir(out)
            } else {
                checkpoint_dir(out, step)
            };
            if lead {
                write_checkpoint(&dir, &model, &opt, &state, cfg, root, tokenizer.as_ref())?;
                crate::retention::prune(out, &cfg.run, step)?;
            }
            if let Some(g) = group {
                // No rank runs ahead of a checkpoint that is not complete yet.
                g.barrier(&format!("waiting for rank 0's checkpoint at step {step}"))?;
            }
            if step == total {
                final_eval = evals;
            }
        }
    }
    bar.finish_and_clear();
    let seconds = t0.elapsed().as_secs_f64();
    Ok(RunSummary {
        steps: step,
        tokens,
        final_eval,
        seconds,
        tokens_per_second: ((step - start_step) * cfg.tokens_per_step()) as f64
            / run_start.elapsed().as_secs_f64().max(1e-9),
        out: out.clone(),
    })
}

/// A step whose loss and gradient norm are still on the device.
struct Pending {
    step: u64,
    tokens: u64,
    lr: f64,
    loss: Tensor,
    grad_norm: Tensor,
}

/// Reads the losses and gradient norms of `steps` to the host in one transfer.
fn settle(steps: &[Pending]) -> Result<Vec<(&Pending, (f64, f64))>> {
    if steps.is_empty() {
        return Ok(vec![]);
    }
    let all: Vec<&Tensor> = steps.iter().flat_map(|p| [&p.loss, &p.grad_norm]).collect();
    let values = Vec::<f64>::try_from(
        Tensor::stack(&all, 0)
            .to_kind(Kind::Double)
            .to_device(Device::Cpu),
    )?;
    Ok(steps
        .iter()
        .zip(values.chunks(2).map(|c| (c[0], c[1])))
        .collect())
}

/// A batch of token ids (batch, seq_len + 1) on `device`; on CUDA through pinned memory with
/// an asynchronous copy, so the host goes on queueing work.
fn batch_to_device(buf: &[i64], b: usize, t: usize, device: Device) -> Tensor {
    let host = Tensor::from_slice(buf).view([b as i64, t as i64 + 1]);
    if device.is_cuda() {
        host.pin_memory(device)
            .to_device_(device, Kind::Int64, true, false)
    } else {
        host
    }
}

/// Opens each data source of a run config with `open`, as (name, dataset, weight); an error
/// names the source as `what` (train or val data) and its name.
/// The run's tokenizer, written into each checkpoint: the train data's (else the starting
/// checkpoint's). Every data set, and the checkpoint the run starts from, must have the same
/// one unless `[data] allow_tokenizer_mismatch`. None (with a warning) when neither the data
/// nor the checkpoint holds a `tokenizer.json`.
fn run_tokenizer(
    cfg: &RunConfig,
    mixture: &Mixture,
    val_sets: &[(String, TokenDataset, f64)],
    start_ck: Option<&Path>,
    lead: bool,
) -> Result<Option<tokenizers::Tokenizer>> {
    let mut origins = Vec::new();
    let ck = match start_ck {
        Some(dir) => hf::TokenizerFile::of_checkpoint(dir)?.map(|(f, t)| (dir, f, t)),
        None => None,
    };
    if let Some((dir, f, _)) = &ck {
        origins.push(hf::Origin {
            what: format!("checkpoint {}", dir.display()),
            file: f.clone(),
        });
    }
    let train = mixture.sources().map(|(n, ds)| ("train data", n, ds));
    let val = val_sets
        .iter()
        .map(|(n, ds, _)| ("val data", n.as_str(), ds));
    let mut data_json = None;
    for (what, name, ds) in train.chain(val) {
        let Some(file) = ds.tokenizer()? else {
            continue;
        };
        if what == "train data" && data_json.is_none() && file.path.ends_with("tokenizer.json") {
            data_json = Some(file.path.clone());
        }
        origins.push(hf::Origin {
            what: format!("{what} {name:?} ({})", ds.dir.display()),
            file,
        });
    }
    hf::check_same(
        &origins,
        cfg.data.allow_tokenizer_mismatch,
        "set [data] allow_tokenizer_mismatch = true",
    )?;
    let tok = match (data_json, ck) {
        (Some(p), _) => Some(crate::tokenize::load_tokenizer(&p)?),
        (None, Some((_, _, t))) => Some(t),
        (None, None) => None,
    };
    if tok.is_none() && lead {
        eprintln!(
            "warning: the train data has no tokenizer.json (a token folder of an earlier build); the run's checkpoints will hold no tokenizer"
        );
    }
    Ok(tok)
}

fn open_sets(
    sources: &[DataSource],
    what: &str,
    open: fn(&Path) -> Result<TokenDataset, DatasetError>,
) -> Result<Vec<(String, TokenDataset, f64)>> {
    sources
        .iter()
        .map(|s| {
            let ds = open(&s.path).with_context(|| format!("{what} {:?}", s.name))?;
            Ok((s.name.clone(), ds, s.weight))
        })
        .collect()
}
