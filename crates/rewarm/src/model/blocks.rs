//! The model's modules (`Linear`, `LayerNorm`, rotary embedding, `Attention`, `Mlp`, `Block`),
//! each taking its own tensors by name under a prefix from [`Vars`], as candle's models do.

use super::*;

/// `x W^T + b`, with the matmul in `compute` (bf16 for mixed precision; weights stay f32).
pub(super) fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>, compute: Kind) -> Tensor {
    if compute == Kind::Float {
        x.linear(w, b)
    } else {
        let b = b.map(|b| b.to_kind(compute));
        x.to_kind(compute).linear(&w.to_kind(compute), b.as_ref())
    }
}

pub(super) struct Linear {
    w: Tensor,
    b: Option<Tensor>,
}

impl Linear {
    pub(super) fn load(vars: &Vars, out: i64, inp: i64, bias: bool) -> Result<Self> {
        Ok(Self {
            w: vars.get("weight", &[out, inp], Init::Normal)?,
            b: if bias {
                Some(vars.get("bias", &[out], Init::Zero)?)
            } else {
                None
            },
        })
    }

    pub(super) fn forward(&self, x: &Tensor, compute: Kind) -> Tensor {
        linear(x, &self.w, self.b.as_ref(), compute)
    }
}

/// LayerNorm, in the dtype of the activations (statistics in f32 inside the kernel).
pub(super) struct LayerNorm {
    w: Tensor,
    b: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub(super) fn load(vars: &Vars, cfg: &ModelConfig) -> Result<Self> {
        let h = cfg.hidden_size;
        Ok(Self {
            w: vars.get("weight", &[h], Init::One)?,
            b: vars.get("bias", &[h], Init::Zero)?,
            eps: cfg.layer_norm_eps,
        })
    }

    pub(super) fn forward(&self, x: &Tensor, act: Kind) -> Tensor {
        x.to_kind(act).layer_norm(
            [self.w.size()[0]],
            Some(&self.w),
            Some(&self.b),
            self.eps,
            true,
        )
    }
}

/// Rotary embedding tables over a whole head: `x * cos + x[perm] * sin` rotates the first
/// `rotary_dim` dimensions of each head as `transformers`' `x * cos + rotate_half(x) * sin`
/// (with `sin` negated on the first half, `perm` swapping the halves) and passes the rest
/// through (cos 1, sin 0): three kernels for queries and keys together, no slicing or `cat`.
pub(super) struct Rope {
    /// (t, 1, 1, head_dim), in the dtype rotary runs in.
    cos: Tensor,
    sin: Tensor,
    /// (head_dim) indices.
    perm: Tensor,
}

impl Rope {
    pub(super) fn new(cfg: &ModelConfig, t: i64, device: Device, kind: Kind) -> Self {
        let (rot, hd) = (cfg.rotary_dim(), cfg.head_dim());
        let half = rot / 2;
        let exponent = Tensor::arange_start_step(0, rot, 2, (Kind::Int64, device))
            .to_kind(Kind::Float)
            / rot as f64;
        let inv_freq = Tensor::pow_scalar(cfg.rotary_emb_base, &exponent).reciprocal();
        let pos = Tensor::arange(t, (Kind::Float, device));
        let freqs = pos.unsqueeze(1).matmul(&inv_freq.unsqueeze(0));
        let (c, s) = (freqs.cos(), freqs.sin());
        let pass = |v: f64| Tensor::full([t, hd - rot], v, (Kind::Float, device));
        let table = |parts: &[Tensor]| Tensor::cat(parts, 1).view([t, 1, 1, hd]).to_kind(kind);
        let idx = |a: i64, b: i64| Tensor::arange_start(a, b, (Kind::Int64, device));
        Self {
            cos: table(&[c.shallow_clone(), c, pass(1.0)]),
            sin: table(&[s.neg(), s, pass(0.0)]),
            perm: Tensor::cat(&[idx(half, rot), idx(0, half), idx(rot, hd)], 0),
        }
    }

    /// Tables at given positions (batch, time) int64, one row of positions per sequence (left
    /// padding shifts them), for decoding with a cache; the same values as [`Rope::new`] at
    /// those positions (a product of two f32 numbers either way).
    pub(super) fn at(cfg: &ModelConfig, positions: &Tensor, kind: Kind) -> Self {
        let (rot, hd) = (cfg.rotary_dim(), cfg.head_dim());
        let half = rot / 2;
        let device = positions.device();
        let (b, t) = positions.size2().expect("(batch, time) positions");
        let exponent = Tensor::arange_start_step(0, rot, 2, (Kind::Int64, device))
            .to_kind(Kind::Float)
            / rot as f64;
        let inv_freq = Tensor::pow_scalar(cfg.rotary_emb_base, &exponent).reciprocal();
        let freqs = positions.to_kind(Kind::Float).unsqueeze(-1) * inv_freq.view([1, 1, half]);
        let (c, s) = (freqs.cos(), freqs.sin());
        let pass = |v: f64| Tensor::full([b, t, hd - rot], v, (Kind::Float, device));
        let table = |parts: &[Tensor]| Tensor::cat(parts, 2).view([b, t, 1, 1, hd]).to_kind(kind);
        let idx = |a: i64, e: i64| Tensor::arange_start(a, e, (Kind::Int64, device));
        Self {
            cos: table(&[c.shallow_clone(), c, pass(1.0)]),
            sin: table(&[s.neg(), s, pass(0.0)]),
            perm: Tensor::cat(&[idx(half, rot), idx(0, half), idx(rot, hd)], 0),
        }
    }

    /// Rotates `x` (batch, time, heads, any, head_dim) in the tables' dtype; the result is
    /// contiguous, in `x`'s dtype.
    pub(super) fn apply(&self, x: &Tensor) -> Tensor {
        let xr = x.to_kind(self.cos.kind());
        let swapped = xr.index_select(-1, &self.perm);
        (&xr * &self.cos)
            .addcmul(&swapped, &self.sin)
            .to_kind(x.kind())
    }
}

/// Causal self-attention with one fused query-key-value projection.
pub(super) struct Attention {
    qkv: Linear,
    dense: Linear,
    heads: i64,
    head_dim: i64,
}

impl Attention {
    pub(super) fn load(vars: &Vars, cfg: &ModelConfig) -> Result<Self> {
        let h = cfg.hidden_size;
        Ok(Self {
            qkv: Linear::load(&vars.pp("query_key_value"), 3 * h, h, cfg.attention_bias)?,
            dense: Linear::load(&vars.pp("dense"), h, h, cfg.attention_bias)?,
            heads: cfg.num_attention_heads,
            head_dim: cfg.head_dim(),
        })
    }

    /// Queries, keys and values (batch, heads, time, head_dim) of `x`, queries and keys rotated.
    fn heads(&self, x: &Tensor, rope: &Rope, compute: Kind) -> (Tensor, Tensor, Tensor) {
        let (b, t, _) = x.size3().expect("(batch, time, hidden)");
        let (nh, hd) = (self.heads, self.head_dim);
        // Per head the fused projection holds [q, k, v], each head_dim wide: views, no copies
        // but rotary's one output for queries and keys together.
        let qkv = self.qkv.forward(x, compute).view([b, t, nh, 3, hd]);
        let qk = rope.apply(&qkv.narrow(3, 0, 2));
        let q = qk.select(3, 0).transpose(1, 2);
        let k = qk.select(3, 1).transpose(1, 2);
        let v = qkv.select(3, 2).transpose(1, 2);
        (q, k, v)
    }

    /// Scaled dot-product attention, causal or under `mask`, then the output projection.
    fn attend(&self, qkv: [&Tensor; 3], mask: Option<&Tensor>, compute: Kind) -> Tensor {
        let [q, k, v] = qkv;
        let (b, nh, t, hd) = q.size4().expect("(batch, heads, time, head_dim)");
        let y = Tensor::scaled_dot_product_attention(
            q,
            k,
            v,
            mask,
            0.0,
            mask.is_none(),
            Some(1.0 / (hd as f64).sqrt()),
            false,
        );
        let y = y.transpose(1, 2).reshape([b, t, nh * hd]);
        self.dense.forward(&y, compute)
    }

    pub(super) fn forward(&self, x: &Tensor, rope: &Rope, compute: Kind) -> Tensor {
        let (q, k, v) = self.heads(x, rope, compute);
        self.attend([&q, &k, &v], None, compute)
    }

    /// Attention of `x` (batch, time, hidden) over the cached keys and values `past` (each
    /// (batch, heads, past, head_dim)) and its own, which are appended to `past`; `mask`
    /// (batch, 1, time, past + time) is true where a query may attend to a key.
    pub(super) fn forward_cached(
        &self,
        x: &Tensor,
        rope: &Rope,
        compute: Kind,
        past: &mut Option<(Tensor, Tensor)>,
        mask: &Tensor,
    ) -> Tensor {
        let (q, mut k, mut v) = self.heads(x, rope, compute);
        if let Some((pk, pv)) = past.take() {
            k = Tensor::cat(&[pk, k], 2);
            v = Tensor::cat(&[pv, v], 2);
        }
        let y = self.attend([&q, &k, &v], Some(mask), compute);
        *past = Some((k, v));
        y
    }
}

pub(super) struct Mlp {
    up: Linear,
    down: Linear,
    act: Activation,
}

impl Mlp {
    pub(super) fn load(vars: &Vars, cfg: &ModelConfig) -> Result<Self> {
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        Ok(Self {
            up: Linear::load(&vars.pp("dense_h_to_4h"), i, h, true)?,
            down: Linear::load(&vars.pp("dense_4h_to_h"), h, i, true)?,
            act: cfg.hidden_act,
        })
    }

    pub(super) fn forward(&self, x: &Tensor, compute: Kind) -> Tensor {
        let h = self.up.forward(x, compute);
        self.down.forward(&self.act.forward(&h), compute)
    }
}

impl Activation {
    pub(super) fn forward(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Gelu => x.gelu("none"),
            Activation::GeluNew | Activation::GeluPytorchTanh => x.gelu("tanh"),
        }
    }
}

/// One transformer layer: attention and MLP, in parallel (Pythia) or one after the other.
pub(super) struct Block {
    ln1: LayerNorm,
    ln2: LayerNorm,
    attn: Attention,
    mlp: Mlp,
    parallel: bool,
}

impl Block {
    pub(super) fn load(vars: &Vars, cfg: &ModelConfig) -> Result<Self> {
        Ok(Self {
            ln1: LayerNorm::load(&vars.pp("input_layernorm"), cfg)?,
            ln2: LayerNorm::load(&vars.pp("post_attention_layernorm"), cfg)?,
            attn: Attention::load(&vars.pp("attention"), cfg)?,
            mlp: Mlp::load(&vars.pp("mlp"), cfg)?,
            parallel: cfg.use_parallel_residual,
        })
    }

    /// The residual stream is in the activations' dtype.
    pub(super) fn forward(&self, x: &Tensor, rope: &Rope, c: Compute) -> Tensor {
        let (mm, act) = (c.matmul(), c.activations());
        let a = self.attn.forward(&self.ln1.forward(x, act), rope, mm);
        self.add_mlp(x, a, c)
    }

    /// [`Block::forward`] with attention over a cache (see [`Attention::forward_cached`]).
    pub(super) fn forward_cached(
        &self,
        x: &Tensor,
        rope: &Rope,
        c: Compute,
        past: &mut Option<(Tensor, Tensor)>,
        mask: &Tensor,
    ) -> Tensor {
        let (mm, act) = (c.matmul(), c.activations());
        let a = self
            .attn
            .forward_cached(&self.ln1.forward(x, act), rope, mm, past, mask);
        self.add_mlp(x, a, c)
    }

    /// The residual stream after attention's output `a`: plus the MLP of `x` (parallel) or of
    /// `x + a` (sequential).
    fn add_mlp(&self, x: &Tensor, a: Tensor, c: Compute) -> Tensor {
        let (mm, act) = (c.matmul(), c.activations());
        if self.parallel {
            let m = self.mlp.forward(&self.ln2.forward(x, act), mm);
            x + a.to_kind(act) + m.to_kind(act)
        } else {
            let x = x + a.to_kind(act); // out of place: autograd saved x
            let m = self.mlp.forward(&self.ln2.forward(&x, act), mm);
            &x + m.to_kind(act)
        }
    }
}
