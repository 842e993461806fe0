//! GPT-NeoX model configuration, read from and written to Hugging Face's `config.json`.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

fn default_rotary_pct() -> f64 {
    0.25
}
fn default_rotary_base() -> f64 {
    10000.0
}
fn default_eps() -> f64 {
    1e-5
}
fn default_true() -> bool {
    true
}
fn default_max_pos() -> i64 {
    2048
}
fn default_init_range() -> f64 {
    0.02
}

/// The MLP's activation, as `config.json` names it: exact GELU, or its tanh approximation
/// (`gelu_new` and `gelu_pytorch_tanh` are the same function).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum Activation {
    #[default]
    #[serde(rename = "gelu")]
    Gelu,
    #[serde(rename = "gelu_new")]
    GeluNew,
    #[serde(rename = "gelu_pytorch_tanh")]
    GeluPytorchTanh,
}

/// The fields of `GPTNeoXConfig` the forward pass depends on; unknown keys in a
/// checkpoint's `config.json` are ignored, missing required ones are errors.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    #[serde(default = "default_rotary_pct")]
    pub rotary_pct: f64,
    #[serde(default = "default_rotary_base")]
    pub rotary_emb_base: f64,
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: i64,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_true")]
    pub use_parallel_residual: bool,
    #[serde(default)]
    pub hidden_act: Activation,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default = "default_true")]
    pub attention_bias: bool,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
}

/// Reads a TOML config (a run's, a study's); a syntax error or an unknown key names the file.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

impl ModelConfig {
    /// Pythia sizes of spec section 4 (hidden, layers, heads, intermediate).
    pub fn preset(name: &str, vocab_size: i64) -> Result<Self> {
        let (h, l, a, i) = match name {
            "pythia-14m" | "14m" => (128, 6, 4, 512),
            "pythia-70m" | "70m" => (512, 6, 8, 2048),
            "pythia-160m" | "160m" => (768, 12, 12, 3072),
            "pythia-410m" | "410m" => (1024, 24, 16, 4096),
            "pythia-1b" | "1b" => (2048, 16, 8, 8192),
            _ => bail!("unknown model preset {name:?} (known: 14m, 70m, 160m, 410m, 1b)"),
        };
        Ok(Self::custom(vocab_size, h, l, a, i))
    }

    pub fn custom(vocab_size: i64, hidden: i64, layers: i64, heads: i64, inter: i64) -> Self {
        Self {
            vocab_size,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: inter,
            rotary_pct: default_rotary_pct(),
            rotary_emb_base: default_rotary_base(),
            max_position_embeddings: default_max_pos(),
            layer_norm_eps: default_eps(),
            use_parallel_residual: true,
            hidden_act: Activation::Gelu,
            tie_word_embeddings: false,
            attention_bias: true,
            initializer_range: default_init_range(),
        }
    }

    pub fn head_dim(&self) -> i64 {
        self.hidden_size / self.num_attention_heads
    }

    /// Rotary dimensions per head, as `transformers` computes them.
    pub fn rotary_dim(&self) -> i64 {
        (self.head_dim() as f64 * self.rotary_pct) as i64
    }

    pub fn validate(&self) -> Result<()> {
        let pos = |v: i64, k: &str| -> Result<()> {
            if v <= 0 {
                bail!("config key {k} must be positive, got {v}");
            }
            Ok(())
        };
        pos(self.vocab_size, "vocab_size")?;
        pos(self.hidden_size, "hidden_size")?;
        pos(self.num_hidden_layers, "num_hidden_layers")?;
        pos(self.num_attention_heads, "num_attention_heads")?;
        pos(self.intermediate_size, "intermediate_size")?;
        pos(self.max_position_embeddings, "max_position_embeddings")?;
        if self.hidden_size % self.num_attention_heads != 0 {
            bail!(
                "config: hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size,
                self.num_attention_heads
            );
        }
        if !(0.0..=1.0).contains(&self.rotary_pct) || self.rotary_dim() % 2 != 0 {
            bail!(
                "config key rotary_pct {} gives an odd or out-of-range rotary dimension",
                self.rotary_pct
            );
        }
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        normalize_rope(&mut v).with_context(|| format!("{}", path.display()))?;
        let cfg: Self = serde_json::from_value(v)
            .with_context(|| format!("{}: not a GPT-NeoX config", path.display()))?;
        cfg.validate()
            .with_context(|| format!("{}: invalid config", path.display()))?;
        Ok(cfg)
    }

    /// `config.json` in the shape `transformers` expects for `GPTNeoXForCausalLM`.
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("config serialises");
        let m = v.as_object_mut().expect("object");
        m.insert(
            "architectures".into(),
            serde_json::json!(["GPTNeoXForCausalLM"]),
        );
        m.insert("model_type".into(), "gpt_neox".into());
        m.insert("bos_token_id".into(), 0.into());
        m.insert("eos_token_id".into(), 0.into());
        m.insert("attention_dropout".into(), 0.0.into());
        m.insert("hidden_dropout".into(), 0.0.into());
        m.insert("torch_dtype".into(), "float32".into());
        m.insert("use_cache".into(), true.into());
        // transformers >= 5 keeps rotary settings here; older versions read the flat keys.
        m.insert(
            "rope_parameters".into(),
            serde_json::json!({"rope_type": "default", "rope_theta": self.rotary_emb_base,
                "partial_rotary_factor": self.rotary_pct}),
        );
        v
    }
}

/// Maps transformers 5's `rope_parameters` onto the flat `rotary_pct` / `rotary_emb_base`
/// keys of Pythia's own configs; scaled RoPE variants are refused rather than ignored.
fn normalize_rope(v: &mut serde_json::Value) -> Result<()> {
    let Some(m) = v.as_object_mut() else {
        bail!("expected a JSON object");
    };
    for key in ["rope_parameters", "rope_scaling"] {
        let Some(rp) = m.get(key).and_then(|r| r.as_object()).cloned() else {
            continue;
        };
        let kind = rp
            .get("rope_type")
            .or(rp.get("type"))
            .and_then(|t| t.as_str())
            .unwrap_or("default");
        if kind != "default" {
            bail!("config key {key}.rope_type {kind:?} is not supported (default RoPE only)");
        }
        if let Some(f) = rp.get("partial_rotary_factor") {
            m.insert("rotary_pct".into(), f.clone());
        }
        if let Some(t) = rp.get("rope_theta") {
            m.insert("rotary_emb_base".into(), t.clone());
        }
    }
    if let Some(f) = m.get("partial_rotary_factor").cloned() {
        m.insert("rotary_pct".into(), f);
    }
    if let Some(t) = m.get("rope_theta").cloned() {
        m.insert("rotary_emb_base".into(), t);
    }
    Ok(())
}
