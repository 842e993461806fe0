//! GPT-NeoX (Pythia) as in `transformers`' `GPTNeoXForCausalLM`, written plainly on tch.
//!
//! Parameters are plain leaf tensors kept in one ordered list under their Hugging Face names,
//! so checkpoints, the optimiser and gradient clipping all walk the same order (which keeps
//! runs bit-reproducible) and no name mapping is needed to load or save.

use crate::config::ModelConfig;
use anyhow::Result;
use tch::{Device, Kind, Tensor};

/// Named parameters in a fixed order: embeddings, then layer by layer, then the head.
pub struct Params {
    pub list: Vec<(String, Tensor)>,
}

impl Params {
    pub fn get(&self, name: &str) -> &Tensor {
        &self
            .list
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("parameter {name} missing"))
            .1
    }

    /// Biases and LayerNorm parameters are excluded from weight decay.
    pub fn decays(name: &str) -> bool {
        !(name.ends_with(".bias") || name.contains("layernorm") || name.contains("layer_norm"))
    }

    pub fn numel(&self) -> i64 {
        self.list.iter().map(|(_, t)| t.numel() as i64).sum()
    }
}

/// The expected tensors of a config: name, shape, and how a fresh model initialises it.
pub fn param_specs(cfg: &ModelConfig) -> Vec<(String, Vec<i64>, Init)> {
    let (h, i, v) = (cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size);
    let mut out = vec![(
        "gpt_neox.embed_in.weight".to_string(),
        vec![v, h],
        Init::Normal,
    )];
    let ln = |out: &mut Vec<_>, p: &str| {
        out.push((format!("{p}.weight"), vec![h], Init::One));
        out.push((format!("{p}.bias"), vec![h], Init::Zero));
    };
    for l in 0..cfg.num_hidden_layers {
        let p = format!("gpt_neox.layers.{l}");
        ln(&mut out, &format!("{p}.input_layernorm"));
        ln(&mut out, &format!("{p}.post_attention_layernorm"));
        let mut lin = |name: &str, o: i64, i: i64, bias: bool| {
            out.push((format!("{p}.{name}.weight"), vec![o, i], Init::Normal));
            if bias {
                out.push((format!("{p}.{name}.bias"), vec![o], Init::Zero));
            }
        };
        lin("attention.query_key_value", 3 * h, h, cfg.attention_bias);
        lin("attention.dense", h, h, cfg.attention_bias);
        lin("mlp.dense_h_to_4h", i, h, true);
        lin("mlp.dense_4h_to_h", h, i, true);
    }
    ln(&mut out, "gpt_neox.final_layer_norm");
    if !cfg.tie_word_embeddings {
        out.push(("embed_out.weight".to_string(), vec![v, h], Init::Normal));
    }
    out
}

/// Number of parameters a config asks for.
pub fn num_params(cfg: &ModelConfig) -> u64 {
    param_specs(cfg)
        .iter()
        .map(|(_, s, _)| s.iter().map(|&d| d.max(0) as u64).product::<u64>())
        .sum()
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
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Logit and log-softmax buffers that evaluation reuses across batches (see
/// [`GptNeox::loss_sum`]).
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

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Normal,
    One,
    Zero,
}

pub struct Layer {
    ln1_w: Tensor,
    ln1_b: Tensor,
    ln2_w: Tensor,
    ln2_b: Tensor,
    qkv_w: Tensor,
    qkv_b: Option<Tensor>,
    dense_w: Tensor,
    dense_b: Option<Tensor>,
    up_w: Tensor,
    up_b: Tensor,
    down_w: Tensor,
    down_b: Tensor,
}

pub struct GptNeox {
    pub cfg: ModelConfig,
    pub params: Params,
    pub device: Device,
    /// Matmuls run in this kind (bf16 for mixed precision); weights stay f32.
    pub compute: Kind,
    embed: Tensor,
    layers: Vec<Layer>,
    lnf_w: Tensor,
    lnf_b: Tensor,
    head: Tensor,
}

impl GptNeox {
    /// A freshly initialised model: normal(0, initializer_range) weights, zero biases, unit norms,
    /// drawn from tch's generator (seed it with `tch::manual_seed`).
    pub fn new(cfg: &ModelConfig, device: Device) -> Result<Self> {
        cfg.validate()?;
        check_memory(cfg, 1, device)?;
        let list = tch::no_grad(|| {
            param_specs(cfg)
                .into_iter()
                .map(|(name, shape, init)| {
                    let opts = (Kind::Float, device);
                    let t = match init {
                        Init::Normal => {
                            Tensor::f_randn(&shape, opts).map(|t| t * cfg.initializer_range)
                        }
                        Init::One => Tensor::f_ones(&shape, opts),
                        Init::Zero => Tensor::f_zeros(&shape, opts),
                    }
                    .map_err(|e| {
                        anyhow::anyhow!("allocating {name} {shape:?} on {device:?}: {e}")
                    })?;
                    Ok((name, t.set_requires_grad(true)))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(Self::from_params(cfg.clone(), Params { list }, device))
    }

    /// Wraps already checked parameters (see `checkpoint::load_weights`).
    pub fn from_params(cfg: ModelConfig, params: Params, device: Device) -> Self {
        let g = |n: &str| params.get(n).shallow_clone();
        let opt = |n: &str| {
            params
                .list
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, t)| t.shallow_clone())
        };
        let layers = (0..cfg.num_hidden_layers)
            .map(|l| {
                let p = format!("gpt_neox.layers.{l}");
                Layer {
                    ln1_w: g(&format!("{p}.input_layernorm.weight")),
                    ln1_b: g(&format!("{p}.input_layernorm.bias")),
                    ln2_w: g(&format!("{p}.post_attention_layernorm.weight")),
                    ln2_b: g(&format!("{p}.post_attention_layernorm.bias")),
                    qkv_w: g(&format!("{p}.attention.query_key_value.weight")),
                    qkv_b: opt(&format!("{p}.attention.query_key_value.bias")),
                    dense_w: g(&format!("{p}.attention.dense.weight")),
                    dense_b: opt(&format!("{p}.attention.dense.bias")),
                    up_w: g(&format!("{p}.mlp.dense_h_to_4h.weight")),
                    up_b: g(&format!("{p}.mlp.dense_h_to_4h.bias")),
                    down_w: g(&format!("{p}.mlp.dense_4h_to_h.weight")),
                    down_b: g(&format!("{p}.mlp.dense_4h_to_h.bias")),
                }
            })
            .collect();
        let embed = g("gpt_neox.embed_in.weight");
        let head = if cfg.tie_word_embeddings {
            embed.shallow_clone()
        } else {
            g("embed_out.weight")
        };
        Self {
            embed,
            layers,
            lnf_w: g("gpt_neox.final_layer_norm.weight"),
            lnf_b: g("gpt_neox.final_layer_norm.bias"),
            head,
            cfg,
            params,
            device,
            compute: Kind::Float,
        }
    }

    fn linear(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Tensor {
        if self.compute == Kind::Float {
            x.linear(w, b)
        } else {
            let b = b.map(|b| b.to_kind(self.compute));
            x.to_kind(self.compute)
                .linear(&w.to_kind(self.compute), b.as_ref())
        }
    }

    fn layer_norm(&self, x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
        let h = self.cfg.hidden_size;
        x.to_kind(Kind::Float)
            .layer_norm([h], Some(w), Some(b), self.cfg.layer_norm_eps, true)
    }

    /// cos and sin of the rotary angles for positions 0..t, shape (t, rotary_dim).
    fn rotary(&self, t: i64) -> (Tensor, Tensor) {
        let rot = self.cfg.rotary_dim();
        let opts = (Kind::Float, self.device);
        let exponent = Tensor::arange_start_step(0, rot, 2, (Kind::Int64, self.device))
            .to_kind(Kind::Float)
            / rot as f64;
        let inv_freq = Tensor::pow_scalar(self.cfg.rotary_emb_base, &exponent).reciprocal();
        let pos = Tensor::arange(t, opts);
        let freqs = pos.unsqueeze(1).matmul(&inv_freq.unsqueeze(0));
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        (emb.cos(), emb.sin())
    }

    fn attention(&self, layer: &Layer, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
        let (b, t, _) = x.size3().expect("(batch, time, hidden)");
        let (nh, hd, rot) = (
            self.cfg.num_attention_heads,
            self.cfg.head_dim(),
            self.cfg.rotary_dim(),
        );
        let qkv = self.linear(x, &layer.qkv_w, layer.qkv_b.as_ref());
        // Per head the fused projection holds [q, k, v], each head_dim wide.
        let qkv = qkv.view([b, t, nh, 3 * hd]).transpose(1, 2);
        let parts = qkv.split(hd, -1);
        let rope = |x: &Tensor| -> Tensor {
            let x_rot = x.narrow(-1, 0, rot).to_kind(Kind::Float);
            let x_pass = x.narrow(-1, rot, hd - rot);
            let half = x_rot.split(rot / 2, -1);
            let rotated = Tensor::cat(&[&half[1].neg(), &half[0]], -1);
            let y = &x_rot * cos + rotated * sin;
            Tensor::cat(&[y.to_kind(x.kind()), x_pass], -1)
        };
        let (q, k, v) = (rope(&parts[0]), rope(&parts[1]), &parts[2]);
        let y = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            v,
            None::<Tensor>,
            0.0,
            true,
            Some(1.0 / (hd as f64).sqrt()),
            false,
        );
        let y = y.transpose(1, 2).reshape([b, t, nh * hd]);
        self.linear(&y, &layer.dense_w, layer.dense_b.as_ref())
    }

    fn mlp(&self, layer: &Layer, x: &Tensor) -> Tensor {
        let h = self.linear(x, &layer.up_w, Some(&layer.up_b));
        let approx = if self.cfg.hidden_act == "gelu" {
            "none"
        } else {
            "tanh"
        };
        self.linear(&h.gelu(approx), &layer.down_w, Some(&layer.down_b))
    }

    /// Logits (batch, time, vocab) in f32 for token ids (batch, time).
    pub fn forward(&self, ids: &Tensor) -> Tensor {
        self.logits(&self.hidden(ids))
    }

    /// The head: logits in f32 from final hidden states.
    fn logits(&self, x: &Tensor) -> Tensor {
        self.linear(x, &self.head, None).to_kind(Kind::Float)
    }

    /// Final (normed) hidden states (batch, time, hidden) in f32 for token ids (batch, time).
    pub fn hidden(&self, ids: &Tensor) -> Tensor {
        let t = ids.size()[1];
        let (cos, sin) = self.rotary(t);
        let mut x = Tensor::embedding(&self.embed, ids, -1, false, false);
        for layer in &self.layers {
            let a = self.attention(
                layer,
                &self.layer_norm(&x, &layer.ln1_w, &layer.ln1_b),
                &cos,
                &sin,
            );
            if self.cfg.use_parallel_residual {
                let m = self.mlp(layer, &self.layer_norm(&x, &layer.ln2_w, &layer.ln2_b));
                x = x + a.to_kind(Kind::Float) + m.to_kind(Kind::Float);
            } else {
                x = &x + a.to_kind(Kind::Float); // out of place: autograd saved x
                let m = self.mlp(layer, &self.layer_norm(&x, &layer.ln2_w, &layer.ln2_b));
                x = &x + m.to_kind(Kind::Float);
            }
        }
        self.layer_norm(&x, &self.lnf_w, &self.lnf_b)
    }

    /// Summed next-token cross-entropy (0-d f64) of `inputs` against `targets`, for
    /// evaluation (no backward pass). On the CPU in f32 the logits and their log-softmax are
    /// written into `bufs`, reused from batch to batch: allocating them afresh (hundreds of MB
    /// at a 50k vocabulary) costs a page fault per 4 KiB every batch, which made evaluation
    /// slower than PyTorch's. On CUDA the caching allocator already reuses memory.
    pub fn loss_sum(&self, inputs: &Tensor, targets: &Tensor, bufs: &mut EvalBuffers) -> Tensor {
        let targets = targets.reshape([-1]);
        if self.device != Device::Cpu || self.compute != Kind::Float {
            return self
                .cross_entropy(inputs, &targets, tch::Reduction::Sum)
                .to_kind(Kind::Double);
        }
        let h = self.hidden(inputs).view([-1, self.cfg.hidden_size]);
        let rows = h.size()[0];
        let (logits, lsm) = bufs.get(rows, self.cfg.vocab_size);
        let _ = h.mm_out(&logits, &self.head.tr());
        let _ = logits.internal_log_softmax_out(&lsm, 1, false);
        lsm.g_nll_loss::<Tensor>(&targets, None, tch::Reduction::Sum, -100)
            .to_kind(Kind::Double)
    }

    /// Mean next-token cross-entropy of `inputs` (batch, time) against `targets` (batch, time).
    pub fn loss(&self, inputs: &Tensor, targets: &Tensor) -> Tensor {
        self.cross_entropy(inputs, targets, tch::Reduction::Mean)
    }

    fn cross_entropy(&self, inputs: &Tensor, targets: &Tensor, r: tch::Reduction) -> Tensor {
        let logits = self.forward(inputs);
        let v = self.cfg.vocab_size;
        logits.view([-1, v]).cross_entropy_loss::<Tensor>(
            &targets.reshape([-1]),
            None,
            r,
            -100,
            0.0,
        )
    }
}
