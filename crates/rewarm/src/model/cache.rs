//! Incremental decoding: a key-value cache per block, so each new token costs one position's
//! forward pass instead of the whole sequence's. Sequences of a batch may be left-padded: a
//! padded position is neither attended to nor counted in the positions of the tokens after it
//! (rotary positions count real tokens only, as `transformers`' `generate` computes them from
//! the attention mask). The training path ([`GptNeox::forward`]) is not touched.

use super::{GptNeox, Rope};
use anyhow::{bail, Result};
use tch::{Kind, Tensor};

/// The keys and values of every block for the tokens seen so far, which of them are real
/// tokens (not padding), and each sequence's next position.
#[derive(Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    /// (batch, past) bool: true for real tokens.
    valid: Option<Tensor>,
    /// (batch) int64: the number of real tokens per sequence, the next token's position.
    next_pos: Option<Tensor>,
}

impl KvCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Positions held (padding included).
    pub fn len(&self) -> i64 {
        self.valid.as_ref().map_or(0, |v| v.size()[1])
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl GptNeox {
    /// Logits (batch, time, vocab) in f32 of `ids` (batch, time) following the tokens `cache`
    /// holds, whose keys and values it then holds too. `valid` (batch, time) bool marks the
    /// real tokens: false for left padding. Every position is rotated at its count of real
    /// tokens before it; a real token attends to the real tokens up to itself only. The
    /// logits at padded positions are meaningless.
    pub fn forward_cached(
        &self,
        ids: &Tensor,
        valid: &Tensor,
        cache: &mut KvCache,
    ) -> Result<Tensor> {
        let (b, t) = ids.size2()?;
        let past = cache.len();
        if past + t > self.cfg.max_position_embeddings {
            bail!(
                "{} positions exceed the model's context of {} (max_position_embeddings)",
                past + t,
                self.cfg.max_position_embeddings
            );
        }
        let dev = self.device;
        let valid = valid.to_device(dev).to_kind(Kind::Bool);
        let start = match &cache.next_pos {
            Some(p) => p.shallow_clone(),
            None => Tensor::zeros([b], (Kind::Int64, dev)),
        };
        let counted = valid.cumsum(1, Kind::Int64);
        let positions = (start.unsqueeze(1) + &counted - 1).clamp_min(0);
        let act = self.compute.activations();
        let rope = Rope::at(&self.cfg, &positions, act);
        let keys_valid = match &cache.valid {
            Some(v) => Tensor::cat(&[v, &valid], 1),
            None => valid.shallow_clone(),
        };
        // Query i (at past + i) sees keys j <= past + i that are real tokens, and itself (so
        // that a padded query's softmax has something to weigh; nothing reads its output).
        let total = past + t;
        let key_idx = Tensor::arange(total, (Kind::Int64, dev)).view([1, total]);
        let query_idx = (Tensor::arange(t, (Kind::Int64, dev)) + past).view([t, 1]);
        let causal = key_idx.le_tensor(&query_idx);
        let itself = key_idx.eq_tensor(&query_idx);
        let mask = causal
            .unsqueeze(0)
            .logical_and(&keys_valid.unsqueeze(1).logical_or(&itself.unsqueeze(0)))
            .unsqueeze(1);
        if cache.layers.is_empty() {
            cache.layers = (0..self.blocks.len()).map(|_| None).collect();
        }
        let ids = ids.to_device(dev);
        let mut x = Tensor::embedding(&self.embed, &ids, -1, false, false).to_kind(act);
        for (block, past) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = block.forward_cached(&x, &rope, self.compute, past, &mask);
        }
        cache.valid = Some(keys_valid);
        cache.next_pos = Some(start + valid.sum_dim_intlist(1, false, Kind::Int64));
        Ok(self.logits(&self.ln_f.forward(&x, act)))
    }
}
