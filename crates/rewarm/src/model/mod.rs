//! GPT-NeoX (Pythia) as in `transformers`' `GPTNeoXForCausalLM`, written plainly on tch.
//!
//! The model is a few small modules (`LayerNorm`, `Linear`, `Attention`, `Mlp`, `Block`), each
//! taking its own tensors by name under a prefix ([`Vars`]), so every Hugging Face tensor name
//! is written once. Where the tensors come from is a [`Source`]: a fresh initialisation, a
//! checkpoint, or just their names and shapes (to check a checkpoint or count parameters
//! without allocating). Parameters are kept in one ordered list under their Hugging Face names,
//! so checkpoints, the optimiser and gradient clipping all walk the same order (which keeps
//! runs bit-reproducible) and no name mapping is needed to load or save.
//!
//! How the model computes is a [`Compute`]: f32; bf16 matrix products over f32 weights (as
//! `torch.autocast`); or bf16 working copies of the weights ([`crate::working`]) with bf16
//! activations, the f32 parameters being the optimiser's masters. Training runs the head and
//! its loss chunk by chunk ([`crate::lm_head`]) and hands their gradients to one backward pass.

use std::cell::RefCell;
use std::rc::Rc;

use crate::config::{Activation, ModelConfig};
use crate::working::Working;

mod blocks;
mod cache;
mod step;
use anyhow::{Context, Result};
use blocks::*;
pub use cache::KvCache;
use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

/// The name of the input embedding, which has no working copy under [`Compute::Working`]: a lookup, not a
/// product, whose gradient sums many rows per token.
const EMBED: &str = "gpt_neox.embed_in.weight";

/// How a model computes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compute {
    /// Everything in f32.
    #[default]
    F32,
    /// Matrix products in bf16, the f32 weights cast at each use; LayerNorm, rotary, the
    /// residual stream, softmax and loss in f32 (what `torch.autocast` does).
    Mixed,
    /// Working copies of the weights (but the input embedding) in this dtype (bf16), refreshed
    /// from the f32 masters after each optimiser step; activations and the residual stream in
    /// it too; LayerNorm statistics, softmax and loss in f32 inside their kernels.
    Working(Kind),
}

impl Compute {
    /// The dtype of matrix products.
    pub fn matmul(self) -> Kind {
        match self {
            Compute::F32 => Kind::Float,
            Compute::Mixed => Kind::BFloat16,
            Compute::Working(k) => k,
        }
    }

    /// The dtype of activations between the matrix products (the residual stream).
    pub fn activations(self) -> Kind {
        match self {
            Compute::F32 | Compute::Mixed => Kind::Float,
            Compute::Working(k) => k,
        }
    }
}

/// Named parameters in a fixed order: embeddings, then block by block, then the head.
pub struct Params {
    pub list: Vec<(String, Tensor)>,
}

impl Params {
    /// Weight decay applies to matrices (embeddings and linear weights), not to vectors
    /// (biases and LayerNorm parameters), as nanoGPT decides it: by tensor rank.
    pub fn decays(t: &Tensor) -> bool {
        t.dim() >= 2
    }

    pub fn numel(&self) -> i64 {
        self.list.iter().map(|(_, t)| t.numel() as i64).sum()
    }
}

/// How a fresh model initialises a tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Normal,
    One,
    Zero,
}

/// A tensor the model asks for: its full name, shape and fresh initialisation.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub shape: Vec<i64>,
    pub init: Init,
}

/// Where a model's tensors come from.
pub trait Source {
    fn take(&mut self, spec: &Spec) -> Result<Tensor>;
}

/// Fresh tensors: normal(0, `std`) weights, zero biases, unit norms. The weights are drawn on
/// the CPU from a generator of the model's own (the values `torch.manual_seed(seed)` then
/// `torch.randn` would give), whatever the device and whatever other threads draw.
struct Fresh {
    device: Device,
    std: f64,
    rng: crate::ops::CpuGenerator,
}

impl Source for Fresh {
    fn take(&mut self, s: &Spec) -> Result<Tensor> {
        let opts = (Kind::Float, self.device);
        let t = tch::no_grad(|| -> Result<Tensor> {
            Ok(match s.init {
                Init::Normal => {
                    let t = Tensor::f_empty(&s.shape, (Kind::Float, Device::Cpu))?;
                    self.rng.normal_(&t)?;
                    (t * self.std).f_to_device(self.device)?
                }
                Init::One => Tensor::f_ones(&s.shape, opts)?,
                Init::Zero => Tensor::f_zeros(&s.shape, opts)?,
            })
        })
        .map_err(|e| {
            anyhow::anyhow!(
                "allocating {} {:?} on {:?}: {e}",
                s.name,
                s.shape,
                self.device
            )
        })?;
        Ok(t.set_requires_grad(true))
    }
}

/// Names and shapes only: every tensor is an empty placeholder.
struct Shapes;

impl Source for Shapes {
    fn take(&mut self, _: &Spec) -> Result<Tensor> {
        Ok(Tensor::empty([0], (Kind::Float, Device::Cpu)))
    }
}

/// Tensors read from a checkpoint (names and shapes already checked against the config),
/// moved to the device as f32 parameters.
pub struct Given {
    pub tensors: std::collections::HashMap<String, Tensor>,
    pub device: Device,
    /// The checkpoint, for the error when a tensor is missing.
    pub origin: std::path::PathBuf,
}

impl Source for Given {
    fn take(&mut self, s: &Spec) -> Result<Tensor> {
        let t = self.tensors.remove(&s.name).with_context(|| {
            format!(
                "{}: tensor {} missing (config.json asks for it)",
                self.origin.display(),
                s.name
            )
        })?;
        Ok(t.to_kind(Kind::Float)
            .to_device(self.device)
            .set_requires_grad(true))
    }
}

/// Tensors handed out by name: the masters, or their working copies.
struct Named(HashMap<String, Tensor>);

impl Source for Named {
    fn take(&mut self, s: &Spec) -> Result<Tensor> {
        self.0
            .get(&s.name)
            .map(Tensor::shallow_clone)
            .with_context(|| format!("tensor {} missing", s.name))
    }
}

struct Taken {
    source: Box<dyn Source>,
    specs: Vec<Spec>,
    list: Vec<(String, Tensor)>,
}

/// A name prefix over a [`Source`], handed down module by module (candle's `VarBuilder`);
/// every tensor taken is recorded, in order, with its spec.
#[derive(Clone)]
pub struct Vars {
    taken: Rc<RefCell<Taken>>,
    prefix: String,
}

impl Vars {
    pub fn new(source: impl Source + 'static) -> Self {
        Self {
            taken: Rc::new(RefCell::new(Taken {
                source: Box::new(source),
                specs: Vec::new(),
                list: Vec::new(),
            })),
            prefix: String::new(),
        }
    }

    /// The same source under `prefix.name`.
    pub fn pp(&self, name: &str) -> Self {
        Self {
            taken: self.taken.clone(),
            prefix: self.full(name),
        }
    }

    fn full(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    pub fn get(&self, name: &str, shape: &[i64], init: Init) -> Result<Tensor> {
        let spec = Spec {
            name: self.full(name),
            shape: shape.to_vec(),
            init,
        };
        let mut taken = self.taken.borrow_mut();
        let t = taken.source.take(&spec)?;
        taken.list.push((spec.name.clone(), t.shallow_clone()));
        taken.specs.push(spec);
        Ok(t)
    }

    /// What was taken: the specs and the tensors, in order.
    fn finish(self) -> (Vec<Spec>, Vec<(String, Tensor)>) {
        let mut t = self.taken.borrow_mut();
        (std::mem::take(&mut t.specs), std::mem::take(&mut t.list))
    }
}

/// The tensors a config asks for, in order, without allocating them.
pub fn param_specs(cfg: &ModelConfig) -> Vec<Spec> {
    let vars = Vars::new(Shapes);
    Parts::load(cfg, &vars).expect("placeholders never fail");
    vars.finish().0
}

/// Number of parameters a config asks for.
pub fn num_params(cfg: &ModelConfig) -> u64 {
    param_specs(cfg)
        .iter()
        .map(|s| s.shape.iter().map(|&d| d.max(0) as u64).product::<u64>())
        .sum()
}

/// Training FLOPs per token (6N plus attention, the PaLM MFU definition), N without the input
/// embedding.
pub fn flops_per_token(cfg: &ModelConfig, seq_len: i64) -> f64 {
    let n = num_params(cfg) as f64 - (cfg.vocab_size * cfg.hidden_size) as f64;
    6.0 * n + 12.0 * (cfg.num_hidden_layers * cfg.hidden_size * seq_len) as f64
}

/// Refuses a model whose `copies` f32 copies of the weights (1: weights; 4: training, with
/// gradients and both AdamW moments) exceed the memory available on the CPU, with the numbers,
/// instead of failing inside an allocation. (On CUDA libtorch's allocation error is reported.)
pub fn check_memory(cfg: &ModelConfig, copies: u64, device: Device) -> Result<()> {
    let params = num_params(cfg);
    let need = params.saturating_mul(4 * copies);
    if device == Device::Cpu {
        if let Some(avail) = available_memory() {
            if need > avail {
                anyhow::bail!(
                    "the model has {} parameters: {:.1} GiB for {copies} f32 cop{} of its weights, but only {:.1} GiB of memory is available; use a smaller model",
                    params,
                    need as f64 / (1u64 << 30) as f64,
                    if copies == 1 { "y" } else { "ies" },
                    avail as f64 / (1u64 << 30) as f64
                );
            }
        }
    }
    Ok(())
}

/// MemAvailable from /proc/meminfo, in bytes (None where unknown).
pub(crate) fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Logit and log-softmax buffers that evaluation reuses across batches (see
/// [`GptNeox::sequence_losses`]).
#[derive(Default)]
pub struct EvalBuffers {
    bufs: Option<(Tensor, Tensor)>,
}

impl EvalBuffers {
    /// Two (rows, vocab) f32 CPU tensors, views of buffers at least that large.
    fn get(&mut self, rows: i64, vocab: i64) -> (Tensor, Tensor) {
        let fits = self
            .bufs
            .as_ref()
            .is_some_and(|(l, _)| l.size()[0] >= rows && l.size()[1] == vocab);
        if !fits {
            let new = || Tensor::empty([rows, vocab], (Kind::Float, Device::Cpu));
            self.bufs = Some((new(), new()));
        }
        let (l, s) = self.bufs.as_ref().expect("buffers");
        (l.narrow(0, 0, rows), s.narrow(0, 0, rows))
    }
}

/// The modules of a model, loaded from `vars` in the order of [`param_specs`].
struct Parts {
    embed: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Tensor,
}

impl Parts {
    fn load(cfg: &ModelConfig, vars: &Vars) -> Result<Self> {
        let (h, v) = (cfg.hidden_size, cfg.vocab_size);
        let neox = vars.pp("gpt_neox");
        let embed = neox.pp("embed_in").get("weight", &[v, h], Init::Normal)?;
        let blocks = (0..cfg.num_hidden_layers)
            .map(|l| Block::load(&neox.pp(&format!("layers.{l}")), cfg))
            .collect::<Result<Vec<_>>>()?;
        let ln_f = LayerNorm::load(&neox.pp("final_layer_norm"), cfg)?;
        let head = if cfg.tie_word_embeddings {
            embed.shallow_clone()
        } else {
            vars.pp("embed_out").get("weight", &[v, h], Init::Normal)?
        };
        Ok(Self {
            embed,
            blocks,
            ln_f,
            head,
        })
    }
}

pub struct GptNeox {
    pub cfg: ModelConfig,
    pub params: Params,
    pub device: Device,
    compute: Compute,
    /// The working copies under [`Compute::Working`].
    working: Option<Working>,
    /// Recompute the activations of every N-th block in the backward pass (0: keep all).
    recompute_every: usize,
    embed: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Tensor,
}

impl GptNeox {
    /// A freshly initialised model: normal(0, initializer_range) weights drawn from a generator
    /// seeded with `seed` (as `torch.manual_seed(seed)` would draw them), zero biases, unit
    /// norms.
    pub fn new(cfg: &ModelConfig, device: Device, seed: i64) -> Result<Self> {
        cfg.validate()?;
        check_memory(cfg, 1, device)?;
        Self::load(
            cfg.clone(),
            Fresh {
                device,
                std: cfg.initializer_range,
                rng: crate::ops::CpuGenerator::new(seed as u64)?,
            },
            device,
        )
    }

    /// A model whose tensors come from `source` (see `checkpoint::load`).
    pub fn load(cfg: ModelConfig, source: impl Source + 'static, device: Device) -> Result<Self> {
        let vars = Vars::new(source);
        let p = Parts::load(&cfg, &vars)?;
        let (_, list) = vars.finish();
        Ok(Self {
            embed: p.embed,
            blocks: p.blocks,
            ln_f: p.ln_f,
            head: p.head,
            cfg,
            params: Params { list },
            device,
            compute: Compute::F32,
            working: None,
            recompute_every: 0,
        })
    }

    pub fn compute(&self) -> Compute {
        self.compute
    }

    /// Switches how the model computes. [`Compute::Working`] makes working copies of the
    /// weights from the f32 parameters (which stay in [`GptNeox::params`] for the optimiser
    /// and checkpoints) and runs the modules on them; the others run on the parameters.
    pub fn set_compute(&mut self, c: Compute) -> Result<()> {
        if c == self.compute {
            return Ok(());
        }
        let tensors = if let Compute::Working(kind) = c {
            let (working, tensors) = Working::new(&self.params.list, kind, |n| n == EMBED)?;
            self.working = Some(working);
            tensors
        } else {
            self.working = None;
            self.params
                .list
                .iter()
                .map(|(n, t)| (n.clone(), t.shallow_clone()))
                .collect()
        };
        let vars = Vars::new(Named(tensors));
        let p = Parts::load(&self.cfg, &vars)?;
        (self.embed, self.blocks, self.ln_f, self.head) = (p.embed, p.blocks, p.ln_f, p.head);
        self.compute = c;
        Ok(())
    }

    /// After the parameters changed (an optimiser step): copies them into the working copies.
    pub fn refresh_working(&self) -> Result<()> {
        match &self.working {
            Some(w) => w.refresh(&self.params.list),
            None => Ok(()),
        }
    }

    /// Logits (batch, time, vocab) in f32 for token ids (batch, time).
    pub fn forward(&self, ids: &Tensor) -> Tensor {
        self.logits(&self.hidden(ids))
    }

    /// The head: logits in f32 from final hidden states.
    fn logits(&self, x: &Tensor) -> Tensor {
        linear(x, &self.head, None, self.compute.matmul()).to_kind(Kind::Float)
    }

    /// Final (normed) hidden states (batch, time, hidden), in the activations' dtype, for
    /// token ids (batch, time).
    pub fn hidden(&self, ids: &Tensor) -> Tensor {
        let act = self.compute.activations();
        let rope = Rope::new(&self.cfg, ids.size()[1], self.device, act);
        let x = Tensor::embedding(&self.embed, ids, -1, false, false).to_kind(act);
        self.ln_f
            .forward(&self.run(0..self.blocks.len(), &x, &rope), act)
    }

    /// Each sequence's summed next-token cross-entropy ((batch,) f64) of `inputs` (batch,
    /// time) against `targets`, for evaluation (no backward pass). On the CPU in f32 the
    /// logits and their log-softmax are written into `bufs`, reused from batch to batch:
    /// allocating them afresh (hundreds of MB at a 50k vocabulary) costs a page fault per 4 KiB
    /// every batch, which made evaluation slower than PyTorch's. Elsewhere the head runs chunk
    /// by chunk ([`crate::lm_head`]).
    pub fn sequence_losses(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        bufs: &mut EvalBuffers,
    ) -> Result<Tensor> {
        let batch = inputs.size()[0];
        let targets = targets.reshape([-1]);
        let h = self.hidden(inputs).view([-1, self.cfg.hidden_size]);
        let rows = if self.device != Device::Cpu || self.compute != Compute::F32 {
            crate::lm_head::loss_rows(&h, &self.head, &targets, self.compute.matmul())?
        } else {
            let n = h.size()[0];
            let (logits, lsm) = bufs.get(n, self.cfg.vocab_size);
            let _ = h.mm_out(&logits, &self.head.tr());
            let _ = logits.internal_log_softmax_out(&lsm, 1, false);
            lsm.g_nll_loss::<Tensor>(&targets, None, tch::Reduction::None, -100)
        };
        Ok(rows
            .view([batch, -1])
            .sum_dim_intlist(1, false, Kind::Double))
    }

    /// Mean next-token cross-entropy of `inputs` (batch, time) against `targets` (batch,
    /// time), through the whole f32 logits, differentiable: the plain reference of
    /// [`GptNeox::backward_loss`].
    pub fn loss(&self, inputs: &Tensor, targets: &Tensor) -> Tensor {
        let logits = self.forward(inputs);
        let v = self.cfg.vocab_size;
        logits.view([-1, v]).cross_entropy_loss::<Tensor>(
            &targets.reshape([-1]),
            None,
            tch::Reduction::Mean,
            -100,
            0.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pythia_param_counts() {
        // Pythia-160m with its 50,304-row embedding has 162,322,944 parameters.
        let c = ModelConfig::preset("160m", 50304).unwrap();
        assert_eq!(num_params(&c), 162_322_944);
        let c = ModelConfig::preset("70m", 50304).unwrap();
        assert_eq!(num_params(&c), 70_426_624);
        assert_eq!(c.rotary_dim(), 16);
    }

    #[test]
    fn specs_follow_the_config() {
        let mut c = ModelConfig::custom(64, 32, 2, 2, 64);
        let n = num_params(&c);
        // Tied: no output embedding. No attention bias: 4h fewer per layer.
        c.tie_word_embeddings = true;
        assert_eq!(num_params(&c), n - 64 * 32);
        c.attention_bias = false;
        assert_eq!(num_params(&c), n - 64 * 32 - 2 * 4 * 32);
        let names: Vec<String> = param_specs(&c).into_iter().map(|s| s.name).collect();
        assert_eq!(names[0], "gpt_neox.embed_in.weight");
        assert_eq!(names[1], "gpt_neox.layers.0.input_layernorm.weight");
        assert_eq!(
            names[5],
            "gpt_neox.layers.0.attention.query_key_value.weight"
        );
        assert_eq!(names.last().unwrap(), "gpt_neox.final_layer_norm.bias");
        assert!(!names.iter().any(|n| n.contains("embed_out")));
    }

    #[test]
    fn decay_by_rank() {
        let m = GptNeox::new(&ModelConfig::custom(64, 32, 1, 2, 64), Device::Cpu, 0).unwrap();
        let decayed: Vec<&str> = m
            .params
            .list
            .iter()
            .filter(|(_, t)| Params::decays(t))
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            decayed,
            [
                "gpt_neox.embed_in.weight",
                "gpt_neox.layers.0.attention.query_key_value.weight",
                "gpt_neox.layers.0.attention.dense.weight",
                "gpt_neox.layers.0.mlp.dense_h_to_4h.weight",
                "gpt_neox.layers.0.mlp.dense_4h_to_h.weight",
                "embed_out.weight",
            ]
        );
    }

    /// Fresh weights are those of `torch.manual_seed(seed)` then `randn` (times the init
    /// std), and stay so while other threads draw from the default generator.
    #[test]
    fn initialisation_ignores_other_threads_draws() {
        let cfg = ModelConfig::custom(64, 32, 2, 2, 64);
        let weights = || -> Vec<Tensor> {
            let m = GptNeox::new(&cfg, Device::Cpu, 7).unwrap();
            m.params
                .list
                .iter()
                .map(|(_, t)| t.detach().copy())
                .collect()
        };
        let want = weights();
        let embed = {
            let _seeded = crate::ops::default_generator_lock();
            tch::manual_seed(7);
            Tensor::randn([64, 32], (Kind::Float, Device::Cpu)) * cfg.initializer_range
        };
        assert!(want[0].equal(&embed));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let drawing = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _seeded = crate::ops::default_generator_lock();
                    tch::manual_seed(1);
                    let _ = Tensor::randn([256], (Kind::Float, Device::Cpu));
                }
            })
        };
        for _ in 0..20 {
            assert!(weights().iter().zip(&want).all(|(a, b)| a.equal(b)));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        drawing.join().unwrap();
    }
}
