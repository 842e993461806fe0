//! Text generation from a checkpoint: greedy decoding or sampling (temperature, top-k, top-p)
//! with a repetition penalty, batched over left-padded prompts with a key-value cache
//! ([`crate::model::KvCache`]). The logits are processed in the order and by the formulas of
//! `transformers`' `generate`: repetition penalty, then temperature, top-k and top-p; greedy
//! decoding takes the first largest logit, as `argmax` does.

use crate::model::{GptNeox, KvCache};
use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use tch::{Kind, Tensor};

/// How tokens are chosen and when a sequence ends.
#[derive(Clone, Debug)]
pub struct Options {
    pub max_new_tokens: usize,
    /// 0: greedy (the largest logit); otherwise logits are divided by it and sampled.
    pub temperature: f64,
    /// Sample among the k largest logits only (0: all).
    pub top_k: usize,
    /// Sample among the smallest set of tokens whose probabilities reach p (1: all).
    pub top_p: f64,
    /// Logits of tokens already in the sequence (prompt included) are divided by it when
    /// positive and multiplied by it when negative, as CTRL and `transformers` do (1: off).
    pub repetition_penalty: f64,
    /// Seeds the sampler; the same seed, prompts and options give the same tokens.
    pub seed: u64,
    /// The end-of-sequence token: generating it ends a sequence (it is kept in its ids).
    pub eos: Option<i64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_new_tokens: 64,
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 1.0,
            seed: 0,
            eos: None,
        }
    }
}

impl Options {
    /// Refuses values that mean nothing, naming the flag.
    pub fn check(&self) -> Result<()> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            bail!(
                "--temperature {}: give 0 (greedy) or more",
                self.temperature
            );
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            bail!("--top-p {}: give a value in (0, 1]", self.top_p);
        }
        if !(self.repetition_penalty > 0.0 && self.repetition_penalty.is_finite()) {
            bail!(
                "--repetition-penalty {}: give a positive value (1: off)",
                self.repetition_penalty
            );
        }
        Ok(())
    }
}

/// Why a sequence ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// It generated the end-of-sequence token.
    Eos,
    /// It reached `max_new_tokens`.
    Length,
    /// It reached the model's context (`max_position_embeddings`).
    Context,
    /// The caller's stop test said so (a stop string).
    Stop,
}

impl Finish {
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Eos => "eos",
            Finish::Length => "length",
            Finish::Context => "context",
            Finish::Stop => "stop",
        }
    }
}

/// The new tokens of one prompt and why they ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    pub ids: Vec<i64>,
    pub finish: Finish,
}

/// Generates a continuation of each prompt (token ids, none empty), all as one batch.
/// `stop(row, new_ids)` is asked after each new token of a sequence and ends it when true.
pub fn generate(
    model: &GptNeox,
    prompts: &[Vec<i64>],
    opts: &Options,
    mut stop: impl FnMut(usize, &[i64]) -> bool,
) -> Result<Vec<Generated>> {
    opts.check()?;
    let ctx = model.cfg.max_position_embeddings;
    let vocab = model.cfg.vocab_size;
    for (i, p) in prompts.iter().enumerate() {
        if p.is_empty() {
            bail!("prompt {} is empty: give at least one token", i + 1);
        }
        if p.len() as i64 > ctx {
            bail!(
                "prompt {} is {} tokens, longer than the model's context of {ctx} (max_position_embeddings)",
                i + 1,
                p.len()
            );
        }
        if let Some(t) = p.iter().find(|&&t| t < 0 || t >= vocab) {
            bail!(
                "prompt {} has token id {t}, outside the model's vocabulary of {vocab}",
                i + 1
            );
        }
    }
    let b = prompts.len();
    let mut out: Vec<Generated> = (0..b)
        .map(|_| Generated {
            ids: Vec::new(),
            finish: Finish::Length,
        })
        .collect();
    if b == 0 || opts.max_new_tokens == 0 {
        return Ok(out);
    }
    let width = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let mut padded = Vec::with_capacity(b * width);
    let mut valid = Vec::with_capacity(b * width);
    for p in prompts {
        let pad = width - p.len();
        padded.extend(std::iter::repeat_n(0i64, pad).chain(p.iter().copied()));
        valid.extend(std::iter::repeat_n(false, pad).chain(std::iter::repeat_n(true, p.len())));
    }
    let shape = [b as i64, width as i64];
    let ids = Tensor::from_slice(&padded).view(shape);
    let valid = Tensor::from_slice(&valid).view(shape);
    // Tokens seen per sequence, for the repetition penalty.
    let mut seen: Vec<Vec<bool>> = prompts
        .iter()
        .map(|p| {
            let mut s = vec![false; vocab as usize];
            p.iter().for_each(|&t| s[t as usize] = true);
            s
        })
        .collect();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(opts.seed);
    let mut done = vec![false; b];
    tch::no_grad(|| -> Result<()> {
        let mut cache = KvCache::new();
        let mut logits = model
            .forward_cached(&ids, &valid, &mut cache)?
            .select(1, -1);
        loop {
            let rows = Vec::<f32>::try_from(logits.to_kind(Kind::Float).flatten(0, -1))?;
            let mut next = vec![opts.eos.unwrap_or(0); b];
            for r in 0..b {
                if done[r] {
                    continue;
                }
                let row = &rows[r * vocab as usize..(r + 1) * vocab as usize];
                let t = choose(row, &seen[r], opts, &mut rng);
                next[r] = t;
                seen[r][t as usize] = true;
                let g = &mut out[r];
                g.ids.push(t);
                let finish = if opts.eos == Some(t) {
                    Some(Finish::Eos)
                } else if stop(r, &g.ids) {
                    Some(Finish::Stop)
                } else if g.ids.len() >= opts.max_new_tokens {
                    Some(Finish::Length)
                } else if cache.len() + 1 > ctx {
                    Some(Finish::Context)
                } else {
                    None
                };
                if let Some(f) = finish {
                    g.finish = f;
                    done[r] = true;
                }
            }
            if done.iter().all(|&d| d) {
                return Ok(());
            }
            let step = Tensor::from_slice(&next).view([b as i64, 1]);
            let ones = Tensor::ones([b as i64, 1], (Kind::Bool, tch::Device::Cpu));
            logits = model
                .forward_cached(&step, &ones, &mut cache)?
                .select(1, -1);
        }
    })?;
    Ok(out)
}

/// The next token from one row of logits: repetition penalty, then greedy or temperature,
/// top-k, top-p and a draw.
fn choose(logits: &[f32], seen: &[bool], opts: &Options, rng: &mut impl Rng) -> i64 {
    let p = opts.repetition_penalty as f32;
    let mut l: Vec<f32> = logits
        .iter()
        .zip(seen)
        .map(|(&x, &s)| match s && p != 1.0 {
            true if x < 0.0 => x * p,
            true => x / p,
            false => x,
        })
        .collect();
    if opts.temperature == 0.0 {
        return argmax(&l);
    }
    let t = opts.temperature as f32;
    l.iter_mut().for_each(|x| *x /= t);
    if opts.top_k > 0 && opts.top_k < l.len() {
        // As transformers: drop logits below the k-th largest (ties with it are kept).
        let mut sorted = l.clone();
        sorted.sort_unstable_by(|a, b| b.total_cmp(a));
        let kth = sorted[opts.top_k - 1];
        l.iter_mut()
            .filter(|x| **x < kth)
            .for_each(|x| *x = f32::NEG_INFINITY);
    }
    let mut probs = softmax(&l);
    if opts.top_p < 1.0 {
        // As transformers: in ascending order, drop tokens while the cumulative probability
        // stays at most 1 - p; the most likely token is always kept.
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| l[a].total_cmp(&l[b]));
        let mut cum = 0.0f64;
        let last = order.len() - 1;
        for (n, &i) in order.iter().enumerate() {
            cum += probs[i];
            if n < last && cum <= 1.0 - opts.top_p {
                l[i] = f32::NEG_INFINITY;
            }
        }
        probs = softmax(&l);
    }
    let u: f64 = rng.gen();
    let mut acc = 0.0;
    let mut pick = argmax(&l);
    for (i, &q) in probs.iter().enumerate() {
        acc += q;
        if q > 0.0 && u < acc {
            pick = i as i64;
            break;
        }
    }
    pick
}

/// The index of the first largest value.
fn argmax(l: &[f32]) -> i64 {
    let mut best = 0;
    for (i, &x) in l.iter().enumerate() {
        if x > l[best] {
            best = i;
        }
    }
    best as i64
}

/// Probabilities (f64) of logits, -inf giving 0.
fn softmax(l: &[f32]) -> Vec<f64> {
    let m = l.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let e: Vec<f64> = l.iter().map(|&x| (x as f64 - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            temperature: 1.0,
            ..Options::default()
        }
    }

    #[test]
    fn top_k_one_and_tiny_top_p_are_greedy() {
        let l = [0.5f32, 2.0, 1.9, -1.0];
        let seen = [false; 4];
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        for _ in 0..50 {
            let k = Options { top_k: 1, ..opts() };
            assert_eq!(choose(&l, &seen, &k, &mut rng), 1);
            let p = Options {
                top_p: 0.01,
                ..opts()
            };
            assert_eq!(choose(&l, &seen, &p, &mut rng), 1);
        }
    }

    #[test]
    fn repetition_penalty_as_transformers() {
        // 2.0 / 2 = 1.0 < 1.5: token 2 wins; a negative logit is multiplied.
        let l = [-1.0f32, 2.0, 1.5];
        let o = Options {
            repetition_penalty: 2.0,
            ..Options::default()
        };
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0);
        assert_eq!(choose(&l, &[false, true, false], &o, &mut rng), 2);
        assert_eq!(choose(&l, &[false, false, false], &o, &mut rng), 1);
    }
}
