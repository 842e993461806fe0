//! A run's config (`run.toml`, the TOML `rewarm train` reads): model, data, optimiser,
//! schedule and run sections with their defaults and checks, the device and precision
//! choices, and which differences between two configs a resumed run refuses.

use crate::config::ModelConfig;
use crate::model::Compute;
use crate::optim::AdamWConfig;
use crate::schedule::ScheduleConfig;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{Device, Kind};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub model: ModelSection,
    pub data: DataSection,
    #[serde(default)]
    pub optim: AdamWConfig,
    pub schedule: ScheduleConfig,
    pub run: RunSection,
    #[serde(default, skip_serializing_if = "EvalSection::is_empty")]
    pub eval: EvalSection,
}

/// `[eval]`: downstream tasks scored at every evaluation (`tasks = [{ name, path }]`, JSON
/// lines as `rewarm eval --task` reads them), logged beside the validation losses.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvalSection {
    #[serde(default)]
    pub tasks: Vec<TaskSource>,
}

impl EvalSection {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSource {
    pub name: String,
    pub path: PathBuf,
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
    /// Train and evaluate although the data sets (or the data and the starting checkpoint)
    /// were made by different tokenizers, with a warning instead of an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_tokenizer_mismatch: bool,
}

pub(crate) fn one_usize() -> usize {
    1
}
pub(crate) fn default_eval_sequences() -> u64 {
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
    /// Further steps to checkpoint at (a study branches from them; never pruned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoint_at: Vec<u64>,
    /// Keep only the newest N `step-N` checkpoints (unset or 0: keep all); `final`, the
    /// `checkpoint_at` steps and the newest one are never deleted (see [`crate::retention`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<u64>,
    /// With `keep_last`: also keep the checkpoints at multiples of K steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_every: Option<u64>,
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

pub(crate) const MAX_DIST_TIMEOUT_S: u64 = 7 * 24 * 3600;

/// The most intra-op threads a config may ask for: beyond the cores of any one machine.
pub const MAX_THREADS: i32 = 1024;

/// Refuses a numeric key outside its allowed range, naming the key, the value and the range.
pub(crate) fn in_range(
    key: &str,
    value: impl std::fmt::Display,
    ok: bool,
    range: &str,
) -> Result<()> {
    if !ok {
        bail!("{key} = {value} is out of range: {range}");
    }
    Ok(())
}

/// The numeric keys of a `[model]` section (`section` names it in messages).
pub(crate) fn check_model_numbers(m: &ModelSection, section: &str) -> Result<()> {
    for (key, v) in [
        ("hidden_size", m.hidden_size),
        ("num_hidden_layers", m.num_hidden_layers),
        ("num_attention_heads", m.num_attention_heads),
        ("intermediate_size", m.intermediate_size),
    ] {
        if let Some(v) = v {
            in_range(&format!("{section}.{key}"), v, v >= 1, "at least 1")?;
        }
    }
    if let Some(v) = m.vocab_size {
        let max = crate::tokenize::MAX_VOCAB as i64;
        in_range(
            &format!("{section}.vocab_size"),
            v,
            (1..=max).contains(&v),
            &format!("1 to {max} (2^20)"),
        )?;
    }
    Ok(())
}

/// The numeric keys of an `[optim]` section.
pub(crate) fn check_optim_numbers(o: &AdamWConfig) -> Result<()> {
    for (key, v) in [("optim.beta1", o.beta1), ("optim.beta2", o.beta2)] {
        in_range(key, v, (0.0..1.0).contains(&v), "[0, 1)")?;
    }
    in_range(
        "optim.eps",
        o.eps,
        o.eps.is_finite() && o.eps > 0.0,
        "a positive number",
    )?;
    for (key, v) in [
        ("optim.weight_decay", o.weight_decay),
        ("optim.clip", o.clip),
    ] {
        in_range(key, v, v.is_finite() && v >= 0.0, "0 or more (0: off)")?;
    }
    Ok(())
}

/// `keep_last` and `keep_every` of a `[section]` whose checkpoints come every `every` steps:
/// `keep_every` needs `keep_last` and a multiple of `every` (else it names steps never written).
pub(crate) fn check_retention(
    section: &str,
    every: u64,
    keep_last: Option<u64>,
    keep_every: Option<u64>,
) -> Result<()> {
    let Some(k) = keep_every else {
        return Ok(());
    };
    in_range(&format!("{section}.keep_every"), k, k >= 1, "at least 1")?;
    if keep_last.is_none_or(|n| n == 0) {
        bail!("{section}.keep_every = {k} needs {section}.keep_last = N (the newest N checkpoints are kept beside the multiples of keep_every; without keep_last every checkpoint is kept)");
    }
    if every > 0 && k % every != 0 {
        bail!("{section}.keep_every = {k} is not a multiple of checkpoint_every = {every}: the checkpoints it would keep are never written; give a multiple of {every}");
    }
    Ok(())
}

/// Intra-op threads, as `[run] threads` allows them.
pub(crate) fn check_threads(key: &str, t: i32) -> Result<()> {
    in_range(
        key,
        t,
        (0..=MAX_THREADS).contains(&t),
        &format!("0 (the default: the machine's cores) to {MAX_THREADS}"),
    )
}

/// The data-parallel timeout, as `[run] dist_timeout_s` allows it (libtorch adds it to the
/// clock; beyond a week it only risks overflow).
pub(crate) fn check_dist_timeout(key: &str, s: u64) -> Result<()> {
    in_range(
        key,
        s,
        (1..=MAX_DIST_TIMEOUT_S).contains(&s),
        &format!("1 to {MAX_DIST_TIMEOUT_S} seconds (a week)"),
    )
}

fn default_log_every() -> u64 {
    1
}

impl RunConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let mut cfg: Self = crate::config::read_toml(path)?;
        // Relative paths in a config are relative to the config file's folder.
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.map_paths(|p| *p = crate::run_dir::resolve_saved(p, base));
        cfg.validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        let d = &self.data;
        check_batch(d.seq_len, d.batch_size, d.grad_accum)?;
        if d.train.is_empty() {
            bail!("[data] train needs at least one dataset");
        }
        for s in &d.train {
            in_range(
                &format!("data.train {:?} weight", s.name),
                s.weight,
                s.weight.is_finite() && s.weight > 0.0,
                "a positive number (the dataset's share of each batch, relative to the others)",
            )?;
        }
        let mut names: Vec<&str> = d.val.iter().map(|v| v.name.as_str()).collect();
        names.sort();
        if names.windows(2).any(|w| w[0] == w[1]) {
            bail!("[data] val names must be unique");
        }
        let r = &self.run;
        in_range("run.steps", r.steps, r.steps >= 1, "at least 1")?;
        in_range("run.log_every", r.log_every, r.log_every >= 1, "at least 1")?;
        for (key, steps) in [
            ("run.eval_at", &r.eval_at),
            ("run.checkpoint_at", &r.checkpoint_at),
        ] {
            for &s in steps {
                in_range(
                    key,
                    s,
                    (1..=r.steps).contains(&s),
                    &format!("steps 1 to run.steps ({})", r.steps),
                )?;
            }
        }
        check_retention("run", r.checkpoint_every, r.keep_last, r.keep_every)?;
        if let Some(n) = r.stop_after {
            in_range("run.stop_after", n, n >= 1, "at least 1")?;
        }
        check_threads("run.threads", r.threads)?;
        check_dist_timeout("run.dist_timeout_s", r.dist_timeout_s)?;
        check_model_numbers(&self.model, "model")?;
        check_optim_numbers(&self.optim)?;
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

    /// Applies `f` to every path of the config: the checkpoint or model config, the data
    /// sources and the run folder.
    pub fn map_paths(&mut self, mut f: impl FnMut(&mut PathBuf)) {
        if let Some(c) = self.model.checkpoint.as_mut() {
            f(c)
        }
        if let Some(c) = self.model.config.as_mut() {
            f(c)
        }
        for d in self.data.train.iter_mut().chain(self.data.val.iter_mut()) {
            f(&mut d.path)
        }
        for t in &mut self.eval.tasks {
            f(&mut t.path)
        }
        f(&mut self.run.out);
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
/// Paths are compared as absolute, normalized paths, so `a/../b` and `b` are one path.
pub fn resume_conflicts(saved: &RunConfig, now: &RunConfig) -> Result<Vec<String>> {
    let absolute = |c: &RunConfig| {
        let mut c = c.clone();
        c.map_paths(|p| *p = crate::run_dir::absolute(p));
        c
    };
    Ok(config_diff(&absolute(saved), &absolute(now))?
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

/// The model config of a run that starts from scratch (a preset, a config.json or sizes);
/// `vocab` is the data's, used unless the config sets one.
pub fn model_config(cfg: &RunConfig, vocab: i64) -> Result<ModelConfig> {
    let m = &cfg.model;
    // The data's vocabulary (padding token included) padded to a multiple of 128, as Pythia's.
    let vocab = m
        .vocab_size
        .unwrap_or(crate::tokenize::hf::padded_vocab(vocab));
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

/// `data.seq_len`, `data.batch_size` and `data.grad_accum` are at least 1 (a run's and a
/// study's data sections alike).
pub fn check_batch(seq_len: usize, batch_size: usize, grad_accum: usize) -> Result<()> {
    for (key, v) in [
        ("data.seq_len", seq_len),
        ("data.batch_size", batch_size),
        ("data.grad_accum", grad_accum),
    ] {
        in_range(key, v, v >= 1, "at least 1")?;
    }
    Ok(())
}
