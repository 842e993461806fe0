//! `rewarm train`: one run from a TOML config, from scratch or continued from a checkpoint,
//! with evaluation, atomic checkpoints and exact resume.

use crate::checkpoint;
use crate::config::ModelConfig;
use crate::dataset::{Mixture, SourceCursor, TokenDataset};
use crate::eval::{evaluate_part, EvalResult};
use crate::model::{Compute, GptNeox};
use crate::optim::{AdamW, AdamWConfig};
use crate::schedule::ScheduleConfig;
use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub model: ModelSection,
    pub data: DataSection,
    #[serde(default)]
    pub optim: AdamWConfig,
    pub schedule: ScheduleConfig,
    pub run: RunSection,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Continue from this Hugging Face checkpoint folder (continued pre-training).
    #[serde(default)]
    pub checkpoint: Option<PathBuf>,
    /// Also load the AdamW moments saved with `checkpoint` (else they start at zero).
    #[serde(default)]
    pub load_optimizer: bool,
    /// From scratch: a preset (14m, 70m, 160m, 410m, 1b) or a `config.json` path...
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// ...or explicit sizes.
    #[serde(default)]
    pub hidden_size: Option<i64>,
    #[serde(default)]
    pub num_hidden_layers: Option<i64>,
    #[serde(default)]
    pub num_attention_heads: Option<i64>,
    #[serde(default)]
    pub intermediate_size: Option<i64>,
    /// Defaults to the training data's vocabulary.
    #[serde(default)]
    pub vocab_size: Option<i64>,
    /// Seed of the weight initialisation.
    #[serde(default)]
    pub seed: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    pub name: String,
    pub path: PathBuf,
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    pub seq_len: usize,
    pub batch_size: usize,
    #[serde(default = "one_usize")]
    pub grad_accum: usize,
    #[serde(default)]
    pub seed: u64,
    pub train: Vec<DataSource>,
    #[serde(default)]
    pub val: Vec<DataSource>,
    /// Sequences per validation set at each evaluation (0: all).
    #[serde(default = "default_eval_sequences")]
    pub eval_sequences: u64,
}

fn one_usize() -> usize {
    1
}
fn default_eval_sequences() -> u64 {
    64
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    pub steps: u64,
    pub out: PathBuf,
    #[serde(default)]
    pub eval_every: u64,
    /// Further steps to evaluate at (a study adds early ones to see the loss bump).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eval_at: Vec<u64>,
    #[serde(default)]
    pub checkpoint_every: u64,
    /// Further steps to checkpoint at (a study branches from them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoint_at: Vec<u64>,
    #[serde(default = "default_log_every")]
    pub log_every: u64,
    #[serde(default)]
    pub device: DeviceChoice,
    #[serde(default)]
    pub precision: Precision,
    /// Recompute the activations of every N-th transformer block in the backward pass instead
    /// of keeping them (1: every block; 2: every other; 0: keep all), for models whose
    /// activations do not fit. The gradients are the same; a step costs up to one more forward
    /// pass of those blocks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub activation_checkpointing: u32,
    /// Intra-op threads (0: libtorch's default).
    #[serde(default)]
    pub threads: i32,
    /// Stop after this many steps of this invocation (tests use it to simulate a crash).
    #[serde(default)]
    pub stop_after: Option<u64>,
    /// Data-parallel runs (several processes): how long a rank waits for the others to join
    /// and for each collective before the run fails, naming the rank that died or hung.
    #[serde(default = "default_dist_timeout")]
    pub dist_timeout_s: u64,
}

pub(crate) fn is_zero(n: &u32) -> bool {
    *n == 0
}

pub fn default_dist_timeout() -> u64 {
    300
}

const MAX_DIST_TIMEOUT_S: u64 = 7 * 24 * 3600;

/// Gradients are all-reduced in buckets of this size (PyTorch DDP's default).
const BUCKET_BYTES: usize = 25 << 20;

fn default_log_every() -> u64 {
    1
}

impl RunConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let mut cfg: Self = crate::config::read_toml(path)?;
        // Relative paths in a config are relative to the config file.
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(c) = cfg.model.checkpoint.as_mut() {
            fix(c)
        }
        if let Some(c) = cfg.model.config.as_mut() {
            fix(c)
        }
        cfg.data.train.iter_mut().for_each(|d| fix(&mut d.path));
        cfg.data.val.iter_mut().for_each(|d| fix(&mut d.path));
        fix(&mut cfg.run.out);
        cfg.validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        let d = &self.data;
        if d.seq_len == 0 || d.batch_size == 0 || d.grad_accum == 0 {
            bail!("[data] seq_len, batch_size and grad_accum must be positive");
        }
        if d.train.is_empty() {
            bail!("[data] train needs at least one dataset");
        }
        let mut names: Vec<&str> = d.val.iter().map(|v| v.name.as_str()).collect();
        names.sort();
        if names.windows(2).any(|w| w[0] == w[1]) {
            bail!("[data] val names must be unique");
        }
        if self.run.steps == 0 {
            bail!("[run] steps must be positive");
        }
        // libtorch adds the timeout to the clock; beyond a week it only risks overflow.
        if !(1..=MAX_DIST_TIMEOUT_S).contains(&self.run.dist_timeout_s) {
            bail!(
                "[run] dist_timeout_s must be between 1 and {MAX_DIST_TIMEOUT_S} seconds (a week), got {}",
                self.run.dist_timeout_s
            );
        }
        let m = &self.model;
        let sizes = [
            m.hidden_size,
            m.num_hidden_layers,
            m.num_attention_heads,
            m.intermediate_size,
        ];
        let given = [
            m.checkpoint.is_some(),
            m.preset.is_some(),
            m.config.is_some(),
            sizes.iter().any(|s| s.is_some()),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            bail!("[model] give exactly one of checkpoint, preset, config, or explicit sizes");
        }
        if sizes.iter().any(|s| s.is_some()) && sizes.iter().any(|s| s.is_none()) {
            bail!("[model] explicit sizes need hidden_size, num_hidden_layers, num_attention_heads and intermediate_size");
        }
        if m.load_optimizer && m.checkpoint.is_none() {
            bail!("[model] load_optimizer needs a checkpoint");
        }
        self.schedule.build(self.run.steps)?;
        Ok(())
    }

    pub fn tokens_per_step(&self) -> u64 {
        (self.data.seq_len * self.data.batch_size * self.data.grad_accum) as u64
    }
}

/// Where a run computes: `auto` (CUDA when present), `cpu`, `cuda`, `cuda:N`; parsed once
/// from a config or the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
}

impl std::str::FromStr for DeviceChoice {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "auto" => DeviceChoice::Auto,
            "cpu" => DeviceChoice::Cpu,
            "cuda" => DeviceChoice::Cuda(0),
            s => match s.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(i)) => DeviceChoice::Cuda(i),
                _ => bail!("device {s:?} is not auto, cpu, cuda or cuda:N"),
            },
        })
    }
}

impl TryFrom<String> for DeviceChoice {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<DeviceChoice> for String {
    fn from(d: DeviceChoice) -> String {
        d.to_string()
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl DeviceChoice {
    /// The libtorch device, checked against the devices libtorch sees.
    pub fn resolve(self) -> Result<Device> {
        Ok(match self {
            DeviceChoice::Auto => Device::cuda_if_available(),
            DeviceChoice::Cpu => Device::Cpu,
            DeviceChoice::Cuda(i) => {
                let n = tch::Cuda::device_count();
                if i as i64 >= n {
                    bail!("device \"{self}\": libtorch sees {n} CUDA device(s)");
                }
                Device::Cuda(i)
            }
        })
    }
}

/// How a run computes (see [`Compute`]): `auto`, `f32`, `bf16` (bf16 matrix products over f32
/// weights; LayerNorm, rotary, residual stream, softmax and loss f32, as `torch.autocast`) or
/// `bf16-full` (bf16 working copies of the weights and bf16 activations; the f32 weights are
/// the optimiser's masters, gradients are accumulated, reduced and clipped in f32, softmax and
/// loss stay f32). `auto` is `bf16` on CUDA and on CPUs with AMX-BF16 tiles (where libtorch's
/// bf16 matmuls beat f32: `BF16=1 bash bench/rewarm.sh`) and `f32` on other CPUs (on a CPU with
/// neither AMX nor AVX-512 BF16 bf16 matmuls ran 13x slower; CPUs with AVX-512 BF16 alone are
/// not measured). `bf16-full` is not yet `auto` on CUDA: `bench/gpu.sh` measures it there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Auto,
    F32,
    Bf16,
    #[serde(rename = "bf16-full")]
    #[value(name = "bf16-full")]
    Bf16Full,
}

impl Precision {
    pub fn compute(self, device: Device) -> Compute {
        match (self, device) {
            (Precision::Bf16Full, _) => Compute::Working(Kind::BFloat16),
            (Precision::Bf16, _) | (Precision::Auto, Device::Cuda(_)) => Compute::Mixed,
            (Precision::Auto, Device::Cpu) if crate::ops::cpu_amx_bf16() => Compute::Mixed,
            _ => Compute::F32,
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
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalLog {
    pub name: String,
    pub loss: f64,
    pub perplexity: f64,
}

impl From<&EvalResult> for EvalLog {
    fn from(r: &EvalResult) -> Self {
        Self {
            name: r.name.clone(),
            loss: r.loss,
            perplexity: r.perplexity,
        }
    }
}

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

pub fn checkpoint_dir(out: &Path, step: u64) -> PathBuf {
    out.join("checkpoints").join(format!("step-{step:08}"))
}

/// The complete checkpoints of a run folder, newest first (`final` first once the run has
/// ended): folders holding a `trainer_state.json`.
pub fn checkpoints(out: &Path) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(out.join("checkpoints"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix("step-")?.parse::<u64>().ok()?;
            e.path()
                .join("trainer_state.json")
                .exists()
                .then(|| (step, e.path()))
        })
        .collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.0));
    let fin = out.join("final");
    if let Ok(text) = std::fs::read_to_string(fin.join("trainer_state.json")) {
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

/// Settings that a resumed run must share with the run that wrote its checkpoint; the others
/// (device, threads, evaluation and logging cadence, validation sets) may change.
const RESUME_KEYS: &[&str] = &[
    "model.",
    "data.seq_len",
    "data.batch_size",
    "data.grad_accum",
    "data.seed",
    "data.train",
    "optim.",
    "schedule.",
    "run.steps",
];

/// The keys of RESUME_KEYS on which two configs differ, as `key: checkpoint X, config Y`.
pub fn resume_conflicts(saved: &RunConfig, now: &RunConfig) -> Result<Vec<String>> {
    Ok(config_diff(saved, now)?
        .into_iter()
        .filter(|(k, _, _)| {
            RESUME_KEYS
                .iter()
                .any(|p| k.starts_with(p) || k.as_str() == p.trim_end_matches('.'))
        })
        .map(|(k, a, b)| format!("{k}: checkpoint {a}, config {b}"))
        .collect())
}

/// The dotted keys on which two serialisable configs differ, with both values (`(unset)` where
/// one lacks the key), in key order.
pub fn config_diff<T: Serialize>(a: &T, b: &T) -> Result<Vec<(String, String, String)>> {
    fn flatten(
        prefix: &str,
        v: &toml::Value,
        out: &mut std::collections::BTreeMap<String, String>,
    ) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    flatten(&format!("{prefix}{k}."), v, out);
                }
            }
            v => {
                out.insert(prefix.trim_end_matches('.').to_string(), v.to_string());
            }
        }
    }
    let (mut fa, mut fb) = (Default::default(), Default::default());
    flatten("", &toml::Value::try_from(a)?, &mut fa);
    flatten("", &toml::Value::try_from(b)?, &mut fb);
    let keys: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    let show = |v: Option<&String>| v.map_or("(unset)".to_string(), |v| v.clone());
    Ok(keys
        .into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .map(|k| (k.clone(), show(fa.get(k)), show(fb.get(k))))
        .collect())
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
            "--resume: {} has no checkpoint to resume from",
            out.display()
        );
    }
    let mut problems = Vec::new();
    for (step, dir) in candidates {
        if let Ok(text) = std::fs::read_to_string(dir.join("run.toml")) {
            if let Ok(saved) = toml::from_str::<RunConfig>(&text) {
                let diff = resume_conflicts(&saved, cfg)?;
                if !diff.is_empty() {
                    bail!(
                        "--resume: {} was made with other settings than this config: {}; resume with the original config, or start a new run in another [run] out",
                        dir.display(),
                        diff.join("; ")
                    );
                }
            }
        }
        let opened = (|| -> Result<Resumed> {
            let st: TrainerState =
                serde_json::from_str(&std::fs::read_to_string(dir.join("trainer_state.json"))?)
                    .with_context(|| format!("{}: malformed trainer_state.json", dir.display()))?;
            let model = checkpoint::load(&dir, device)?;
            let mut opt = AdamW::new(&model.params.list, cfg.optim.clone());
            opt.load(&dir.join("optimizer.safetensors"))?;
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
        "--resume: no checkpoint of {} can be read: {}",
        out.display(),
        problems.join("; ")
    )
}

/// The model config of a run that starts from scratch (a preset, a config.json or sizes);
/// `vocab` is the data's, used unless the config sets one.
pub fn model_config(cfg: &RunConfig, vocab: i64) -> Result<ModelConfig> {
    let m = &cfg.model;
    let vocab = m.vocab_size.unwrap_or(vocab);
    Ok(if let Some(p) = &m.preset {
        ModelConfig::preset(p, vocab)?
    } else if let Some(p) = &m.config {
        ModelConfig::load(p)?
    } else {
        ModelConfig::custom(
            vocab,
            m.hidden_size.expect("validated"),
            m.num_hidden_layers.expect("validated"),
            m.num_attention_heads.expect("validated"),
            m.intermediate_size.expect("validated"),
        )
    })
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

fn write_checkpoint(
    dir: &Path,
    model: &GptNeox,
    opt: &AdamW,
    state: &TrainerState,
    cfg: &RunConfig,
) -> Result<()> {
    // Checkpoints written before ownership markers existed are recognised by their state file.
    let ours = dir.join("trainer_state.json").exists();
    outdir::replace_dir(dir, checkpoint::OWNER, ours, |tmp| {
        checkpoint::save_weights(tmp, model)?;
        opt.save(&tmp.join("optimizer.safetensors"))?;
        std::fs::write(
            tmp.join("trainer_state.json"),
            serde_json::to_string_pretty(state)?,
        )?;
        std::fs::write(tmp.join("run.toml"), toml::to_string(cfg)?)?;
        Ok(())
    })
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
    train_in(cfg, resume, bars, par.as_ref())
}

/// This process's part in a data-parallel job: its place among the ranks, the joined process
/// group, and its device (under `device = "auto"` on a CUDA machine, the local rank's GPU).
/// One group serves any number of runs in turn (a study's).
pub struct DataParallel {
    pub world: crate::dist::World,
    pub group: crate::dist::Group,
    pub device: Device,
}

impl DataParallel {
    /// Joins the ranks of `world`, waiting up to `timeout_s` for all of them (the same limit
    /// bounds every later collective).
    pub fn join(world: crate::dist::World, choice: DeviceChoice, timeout_s: u64) -> Result<Self> {
        let device = match choice {
            // One GPU per process: the local rank's.
            DeviceChoice::Auto if tch::Cuda::is_available() => {
                DeviceChoice::Cuda(world.local_rank).resolve()?
            }
            choice => choice.resolve()?,
        };
        let group = crate::dist::Group::join(
            &world,
            std::time::Duration::from_secs(timeout_s),
            BUCKET_BYTES,
            device.is_cuda() && crate::dist::has_nccl(),
        )?;
        Ok(Self {
            world,
            group,
            device,
        })
    }

    /// Whether this is rank 0, the one that writes.
    pub fn lead(&self) -> bool {
        self.group.rank == 0
    }
}

/// Runs `work` once: in one process, there; under a launcher, on rank 0 alone, handing the `n`
/// numbers it returns to every rank. When `work` fails on rank 0, the other ranks fail too
/// (rather than wait for a collective that never comes), pointing at rank 0's error.
pub fn from_lead(
    par: Option<&DataParallel>,
    what: &str,
    n: usize,
    work: impl FnOnce() -> Result<Vec<i64>>,
) -> Result<Vec<i64>> {
    let Some(par) = par else { return work() };
    let mut failed = None;
    let mut msg = vec![0i64; n + 1];
    if par.lead() {
        match work() {
            Ok(v) if v.len() == n => {
                msg[0] = 1;
                msg[1..].copy_from_slice(&v);
            }
            Ok(v) => failed = Some(anyhow::anyhow!("{what}: {} values, not {n}", v.len())),
            Err(e) => failed = Some(e),
        }
    }
    let t = Tensor::from_slice(&msg);
    par.group.broadcast(&[&t], what)?;
    if let Some(e) = failed {
        return Err(e);
    }
    let got = Vec::<i64>::try_from(&t).context("reading rank 0's broadcast")?;
    if got[0] != 1 {
        bail!(
            "rank {} of {}: {what} failed on rank 0; its output says why",
            par.group.rank,
            par.group.size
        );
    }
    Ok(got[1..].to_vec())
}

/// The global batch is split evenly over the ranks.
fn check_split(batch_size: usize, ranks: usize) -> Result<()> {
    if batch_size % ranks != 0 {
        bail!(
            "[data] batch_size {batch_size} cannot be split over {ranks} ranks; make it a multiple of the world size"
        );
    }
    Ok(())
}

/// [`train_with`] as one of the ranks of `par` (a single process without it).
pub fn train_in(
    cfg: &RunConfig,
    resume: bool,
    bars: &Bars,
    par: Option<&DataParallel>,
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
    let train_sets = d
        .train
        .iter()
        .map(|s| {
            Ok((
                s.name.clone(),
                TokenDataset::open(&s.path).with_context(|| format!("train data {:?}", s.name))?,
                s.weight,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let vocab = train_sets
        .iter()
        .map(|s| s.1.index.vocab_size)
        .max()
        .unwrap_or(0) as i64;
    let val_sets = d
        .val
        .iter()
        .map(|s| {
            Ok((
                s.name.clone(),
                open_val(&s.path).with_context(|| format!("val data {:?}", s.name))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut mixture = Mixture::new(train_sets, d.seq_len, d.seed)?;

    let out = &cfg.run.out;
    if !resume && out.join("log.jsonl").exists() {
        bail!("{} already holds a run (log.jsonl); use --resume to continue it or pick another [run] out", out.display());
    }
    let resumed = if resume {
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
                truncate_log(&out.join("log.jsonl"), step)?;
            }
            (r.model, r.opt)
        }
        None => {
            let (model, source_ck) = build_model(cfg, vocab, device)?;
            let mut opt = AdamW::new(&model.params.list, cfg.optim.clone());
            if let (Some(ck), true) = (&source_ck, cfg.model.load_optimizer) {
                let p = ck.join("optimizer.safetensors");
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
        outdir::write_file(&out.join("run.toml"), toml::to_string(cfg)?.as_bytes())?;
        RunLogs::open(out)?
    } else {
        RunLogs(None)
    };

    // Each rank evaluates its share of the batches (all of them in a single process).
    let eval_all = |model: &GptNeox| -> Result<Vec<EvalResult>> {
        let parts = val_sets
            .iter()
            .map(|(n, ds)| {
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
        let sums: Vec<&Tensor> = parts.iter().map(|p| &p.sum).collect();
        if let Some(g) = group {
            g.all_reduce_sum(&sums, "summing the evaluation losses")?;
        }
        parts
            .iter()
            .map(|p| p.finish(p.sum.double_value(&[])))
            .collect()
    };
    if step == 0 && !val_sets.is_empty() {
        let ev = eval_all(&model)?;
        logs.line(&LogLine {
            step: 0,
            tokens: 0,
            lr: None,
            loss: None,
            grad_norm: None,
            eval: ev.iter().map(Into::into).collect(),
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
            let grads = model.grads();
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
                out.join("final")
            } else {
                checkpoint_dir(out, step)
            };
            if lead {
                write_checkpoint(&dir, &model, &opt, &state, cfg)?;
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

/// The run's logs: `log.jsonl` (values of the computation only, so a resumed run reproduces
/// it byte for byte), `throughput.jsonl` (wall-clock figures) and the same scalars as
/// TensorBoard events under `tensorboard/` (a new event file per invocation).
/// `None` on the ranks of a data-parallel run other than rank 0, which write nothing.
struct RunLogs(Option<LogFiles>);

struct LogFiles {
    log: std::fs::File,
    timing: std::fs::File,
    tb: crate::tensorboard::EventWriter,
}

impl RunLogs {
    fn open(out: &Path) -> Result<Self> {
        let append = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(out.join(name))
                .with_context(|| format!("opening {}", out.join(name).display()))
        };
        Ok(Self(Some(LogFiles {
            log: append("log.jsonl")?,
            timing: append("throughput.jsonl")?,
            tb: crate::tensorboard::EventWriter::create(&out.join("tensorboard"))?,
        })))
    }

    fn line(&mut self, line: &LogLine) -> Result<()> {
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
        f.tb.scalars(line.step as i64, None, &values)?;
        f.tb.flush()
    }

    /// A line of `throughput.jsonl`; on CUDA with the most GPU memory held for tensors so far
    /// (`torch.cuda.max_memory_allocated`), in MiB.
    fn throughput(&mut self, step: u64, secs: f64, tps: f64, device: Device) -> Result<()> {
        let Some(f) = self.0.as_mut() else {
            return Ok(());
        };
        let mut line = serde_json::json!({"step": step, "seconds": secs, "tokens_per_second": tps});
        if let Device::Cuda(i) = device {
            if let Some(b) = crate::ops::cuda_peak_bytes(i, false) {
                line["gpu_peak_mib"] = (b as f64 / (1u64 << 20) as f64).into();
            }
        }
        writeln!(f.timing, "{line}")?;
        f.tb.scalars(step as i64, None, &[("train/tokens_per_second", tps)])
    }
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

/// A validation folder: a `tokenize` output's `val/` split when given the output folder.
pub fn open_val(path: &Path) -> Result<TokenDataset> {
    if !path.join("index.json").exists() && path.join("val/index.json").exists() {
        return TokenDataset::open(&path.join("val"));
    }
    TokenDataset::open(path)
}

/// Drops log lines after `step`, so a resumed run appends exactly what the lost part wrote.
/// A last line cut short by a crash is dropped too (with a warning); a malformed line before
/// it is an error.
fn truncate_log(path: &Path, step: u64) -> Result<()> {
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
