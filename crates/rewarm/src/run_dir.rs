//! The run folder, one owner for its layout and line formats: `run.toml` (the run's config;
//! paths inside the folder that moves with the run, a study's folder or the run's own, are
//! saved relative to the file, starting `./` or `../`, so the folder can be moved or copied),
//! `log.jsonl` ([`LogLine`]s: values of the computation only, so a resumed run reproduces it
//! byte for byte), `throughput.jsonl` (wall-clock figures), `tensorboard/` (the same scalars as
//! TensorBoard events), and the checkpoints `checkpoints/step-NNNNNNNN/` and `final/` (weights,
//! `optimizer.safetensors`, `trainer_state.json`, `run.toml`), each written whole.

use crate::checkpoint;
use crate::dataset::SourceCursor;
use crate::eval::EvalResult;
use crate::model::GptNeox;
use crate::optim::AdamW;
use crate::run_config::RunConfig;
use crate::schedule::ScheduleConfig;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use tch::Device;

/// The command that writes run folders: it names their lock holder and their checkpoints'
/// ownership markers.
pub const OWNER: &str = "rewarm train";

/// The run's config, in the run folder and in every checkpoint.
pub const RUN_TOML: &str = "run.toml";
pub const LOG: &str = "log.jsonl";
pub const THROUGHPUT: &str = "throughput.jsonl";
const TENSORBOARD: &str = "tensorboard";
pub(crate) const CHECKPOINTS: &str = "checkpoints";
/// The last checkpoint, written when the run ends.
pub const FINAL: &str = "final";
/// In a checkpoint: where training stands ([`TrainerState`]); a checkpoint is complete once
/// it holds one.
pub const TRAINER_STATE: &str = "trainer_state.json";
/// In a checkpoint: the AdamW moments.
pub const OPTIMIZER: &str = "optimizer.safetensors";

/// The checkpoint written when the run ends.
pub fn final_dir(out: &Path) -> PathBuf {
    out.join(FINAL)
}

/// Whether the run in `out` has ended (its final checkpoint is complete).
pub fn finished(out: &Path) -> bool {
    final_dir(out).join(TRAINER_STATE).exists()
}

/// The checkpoint of step `step`.
pub fn checkpoint_dir(out: &Path, step: u64) -> PathBuf {
    out.join(CHECKPOINTS).join(format!("step-{step:08}"))
}

/// The complete checkpoints of a run folder, newest first (`final` first once the run has
/// ended): folders holding a `trainer_state.json`.
pub fn checkpoints(out: &Path) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(out.join(CHECKPOINTS))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix("step-")?.parse::<u64>().ok()?;
            e.path()
                .join(TRAINER_STATE)
                .exists()
                .then(|| (step, e.path()))
        })
        .collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.0));
    let fin = final_dir(out);
    if let Ok(text) = std::fs::read_to_string(fin.join(TRAINER_STATE)) {
        if let Ok(st) = serde_json::from_str::<TrainerState>(&text) {
            found.insert(0, (st.step, fin));
        }
    }
    found
}

/// The newest complete checkpoint of a run folder (`final` once the run has ended).
pub fn latest_checkpoint(out: &Path) -> Option<(u64, PathBuf)> {
    checkpoints(out).into_iter().next()
}

/// A path with `.` and `..` taken out lexically (`a/./b/../c` is `a/c`); a leading `..` of a
/// relative path stays.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            c => out.push(c),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// [`normalize`]d and absolute (relative paths are taken from the working folder).
pub fn absolute(p: &Path) -> PathBuf {
    normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// `p` as a config saved in the folder `file_dir` holds it: relative to `file_dir` (starting
/// `./` or `../`) when both lie inside `root`, the folder that moves as a whole; else absolute.
pub fn portable(p: &Path, file_dir: &Path, root: &Path) -> PathBuf {
    let (p, dir, root) = (absolute(p), absolute(file_dir), absolute(root));
    if !p.starts_with(&root) || !dir.starts_with(&root) {
        return p;
    }
    let common = dir
        .components()
        .zip(p.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = dir.components().count() - common;
    let mut rel = PathBuf::from(if ups == 0 { "." } else { "" });
    for _ in 0..ups {
        rel.push("..");
    }
    rel.extend(p.components().skip(common));
    rel
}

/// A path read from a config file in `file_dir`, by the one rule of every config rewarm reads
/// (`run.toml` given to `train --config`, a saved `run.toml`, `study.toml`): a relative path is
/// relative to the folder holding the file, whatever the working folder; an absolute one is
/// kept.
pub fn resolve_saved(p: &Path, file_dir: &Path) -> PathBuf {
    if p.is_relative() {
        normalize(&file_dir.join(p))
    } else {
        p.to_path_buf()
    }
}

/// The text of `cfg` saved as `run.toml` in the folder `file_dir` (the run folder or one of
/// its checkpoints), with its paths inside `root` made relative ([`portable`]).
pub(crate) fn run_toml_text(cfg: &RunConfig, file_dir: &Path, root: &Path) -> Result<String> {
    let mut cfg = cfg.clone();
    cfg.map_paths(|p| *p = portable(p, file_dir, root));
    Ok(toml::to_string(&cfg)?)
}

/// Reads a saved `run.toml` (a run folder's or a checkpoint's), its relative paths resolved
/// against the folder holding it ([`resolve_saved`]).
pub fn read_run_toml(file: &Path) -> Result<RunConfig> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut cfg: RunConfig =
        toml::from_str(&text).with_context(|| format!("{}: malformed run.toml", file.display()))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    cfg.map_paths(|p| *p = resolve_saved(p, dir));
    Ok(cfg)
}

/// Training steps in a run's log (lines with a loss; a line cut short is not counted).
fn logged_steps(out: &Path) -> u64 {
    std::fs::read_to_string(out.join(LOG)).map_or(0, |text| {
        text.lines()
            .filter_map(|l| serde_json::from_str::<LogLine>(l).ok())
            .filter(|l| l.loss.is_some())
            .count() as u64
    })
}

/// Readies the run folder `out` for a run (its lock held) and says whether the run continues
/// from a checkpoint (`resume` with one there). A folder whose run stopped before its first
/// checkpoint and logged no step holds only that run's leftovers: they are cleared and the
/// run starts at step 0, with or without `resume`; so does `resume` on a folder whose run
/// logged steps but wrote no checkpoint. A run with checkpoints (or logged steps) is not
/// started over without `resume`; `resume` on a folder with no run says what to run instead.
pub(crate) fn prepare(out: &Path, resume: bool) -> Result<bool> {
    let has_log = out.join(LOG).exists();
    match (resume, latest_checkpoint(out)) {
        (true, Some(_)) => Ok(true),
        (false, Some((step, dir))) => bail!(
            "{} already holds a run, checkpointed up to step {step} ({}); continue it with `rewarm train --resume` (a study's run: run `rewarm study` again), or write it elsewhere with `rewarm train --out DIR` or another [run] out",
            out.display(),
            dir.display()
        ),
        (true, None) if !has_log => bail!(
            "nothing to resume: {} holds no run (no {LOG}, no checkpoint); start it with `rewarm train --config FILE`",
            out.display()
        ),
        (false, None) if !has_log => Ok(false),
        (false, None) if logged_steps(out) > 0 => bail!(
            "{} holds a run that logged {} steps but wrote no checkpoint; `rewarm train --resume` runs it again from step 0, or pick another [run] out",
            out.display(),
            logged_steps(out)
        ),
        (_, None) => {
            eprintln!(
                "note: {} holds no checkpoint, only the logs of a run that stopped before it; starting from step 0",
                out.display()
            );
            for name in [LOG, THROUGHPUT] {
                let p = out.join(name);
                if p.exists() {
                    std::fs::remove_file(&p)
                        .with_context(|| format!("removing {}", p.display()))?;
                }
            }
            let tb = out.join(TENSORBOARD);
            if tb.exists() {
                std::fs::remove_dir_all(&tb)
                    .with_context(|| format!("removing {}", tb.display()))?;
            }
            Ok(false)
        }
    }
}

/// Saved with every checkpoint: where training stands.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainerState {
    pub step: u64,
    pub tokens: u64,
    pub data: Vec<SourceCursor>,
    pub schedule: ScheduleConfig,
    pub total_steps: u64,
    pub data_seed: u64,
    pub init_seed: i64,
    pub last_loss: f64,
}

/// One line of `log.jsonl`. Only values that depend on the computation, never on the clock,
/// so a resumed run's log equals an uninterrupted one's byte for byte.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogLine {
    pub step: u64,
    pub tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub eval: Vec<EvalLog>,
    /// Downstream task scores (`[eval] tasks`), at evaluations.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tasks: Vec<crate::tasks::TaskScore>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalLog {
    pub name: String,
    pub loss: f64,
    pub perplexity: f64,
    /// Each evaluation sequence's mean loss, in file order (none past
    /// [`crate::eval::LOGGED_SEQUENCES`] sequences): a study's paired bootstrap resamples them.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sequences: Vec<f32>,
}

impl From<&EvalResult> for EvalLog {
    fn from(r: &EvalResult) -> Self {
        let keep = r.sequences <= crate::eval::LOGGED_SEQUENCES;
        Self {
            name: r.name.clone(),
            loss: r.loss,
            perplexity: r.perplexity,
            sequences: if keep {
                r.sequence_losses.iter().map(|&l| l as f32).collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// Reads a run's `log.jsonl`.
pub fn read_log(run: &Path) -> Result<Vec<LogLine>> {
    let p = run.join(LOG);
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: malformed log line", p.display(), i + 1))
        })
        .collect()
}

/// Writes a checkpoint folder whole (swapped in when complete): weights, the tokenizer files
/// (given the run's tokenizer), moments, trainer state and the run's config (its paths inside `root` relative, see [`run_toml_text`]).
pub(crate) fn write_checkpoint(
    dir: &Path,
    model: &GptNeox,
    opt: &AdamW,
    state: &TrainerState,
    cfg: &RunConfig,
    root: &Path,
    tok: Option<&tokenizers::Tokenizer>,
) -> Result<()> {
    let run_toml = run_toml_text(cfg, dir, root)?;
    // Checkpoints written before ownership markers existed are recognised by their state file.
    let ours = dir.join(TRAINER_STATE).exists() || checkpoint::made_here(dir);
    // `rewarm train` has no --force: say what to do here instead of outdir's hint.
    let foreign = !ours
        && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
        && outdir::owner_of(dir).as_deref() != Some(OWNER);
    if foreign {
        bail!(
            "{} is in the run folder but is not a checkpoint rewarm made; move it away and run \
             `rewarm train --resume` again",
            dir.display()
        );
    }
    outdir::replace_dir(dir, OWNER, ours, |tmp| {
        checkpoint::save_weights(tmp, model, tok)?;
        opt.save(&tmp.join(OPTIMIZER))?;
        std::fs::write(
            tmp.join(TRAINER_STATE),
            serde_json::to_string_pretty(state)?,
        )?;
        std::fs::write(tmp.join(RUN_TOML), &run_toml)?;
        Ok(())
    })
}

/// The run's logs: `log.jsonl` (values of the computation only, so a resumed run reproduces
/// it byte for byte), `throughput.jsonl` (wall-clock figures) and the same scalars as
/// TensorBoard events under `tensorboard/` (a new event file per invocation).
/// `None` on the ranks of a data-parallel run other than rank 0, which write nothing.
pub(crate) struct RunLogs(Option<LogFiles>);

pub(crate) struct LogFiles {
    log: std::fs::File,
    timing: std::fs::File,
    tb: crate::tensorboard::EventWriter,
}

impl RunLogs {
    /// Logs that write nothing (the ranks other than 0).
    pub(crate) fn none() -> Self {
        Self(None)
    }

    pub(crate) fn open(out: &Path) -> Result<Self> {
        let append = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(out.join(name))
                .with_context(|| format!("opening {}", out.join(name).display()))
        };
        Ok(Self(Some(LogFiles {
            log: append(LOG)?,
            timing: append(THROUGHPUT)?,
            tb: crate::tensorboard::EventWriter::create(&out.join(TENSORBOARD))?,
        })))
    }

    pub(crate) fn line(&mut self, line: &LogLine) -> Result<()> {
        let Some(f) = self.0.as_mut() else {
            return Ok(());
        };
        writeln!(f.log, "{}", serde_json::to_string(line)?)?;
        f.log.flush()?;
        let mut values: Vec<(String, f64)> = Vec::new();
        for (name, v) in [
            ("loss", line.loss),
            ("lr", line.lr),
            ("grad_norm", line.grad_norm),
        ] {
            if let Some(v) = v {
                values.push((format!("train/{name}"), v));
            }
        }
        for e in &line.eval {
            values.push((format!("eval/{}/loss", e.name), e.loss));
            values.push((format!("eval/{}/perplexity", e.name), e.perplexity));
        }
        for t in &line.tasks {
            values.push((format!("task/{}/acc", t.task), t.acc));
            for (k, v) in [("acc_norm", t.acc_norm), ("perplexity", t.perplexity)] {
                if let Some(v) = v {
                    values.push((format!("task/{}/{k}", t.task), v));
                }
            }
        }
        f.tb.scalars(line.step as i64, None, &values)?;
        f.tb.flush()
    }

    /// A line of `throughput.jsonl`; on CUDA with the most GPU memory held for tensors so far
    /// (`torch.cuda.max_memory_allocated`), in MiB.
    pub(crate) fn throughput(
        &mut self,
        step: u64,
        secs: f64,
        tps: f64,
        device: Device,
    ) -> Result<()> {
        let Some(f) = self.0.as_mut() else {
            return Ok(());
        };
        let mut line = serde_json::json!({"step": step, "seconds": secs, "tokens_per_second": tps});
        if let Device::Cuda(i) = device {
            if let Some(b) = crate::ops::cuda_peak_bytes(i) {
                line["gpu_peak_mib"] = (b as f64 / (1u64 << 20) as f64).into();
            }
        }
        writeln!(f.timing, "{line}")?;
        f.tb.scalars(step as i64, None, &[("train/tokens_per_second", tps)])
    }
}

/// Drops log lines after `step`, so a resumed run appends exactly what the lost part wrote.
/// A last line cut short by a crash is dropped too (with a warning); a malformed line before
/// it is an error.
pub(crate) fn truncate_log(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let mut kept = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let l: LogLine = match serde_json::from_str(line) {
            Ok(l) => l,
            Err(_) if i + 1 == lines.len() => {
                eprintln!(
                    "warning: {}: dropping an incomplete last line (the run was interrupted while writing it)",
                    path.display()
                );
                break;
            }
            Err(e) => bail!("{}: line {} is malformed: {e}", path.display(), i + 1),
        };
        if l.step <= step {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    outdir::write_file(path, kept.as_bytes())
}
