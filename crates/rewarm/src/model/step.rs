//! The training side of the model: one micro-batch's loss and its backward pass, with the head
//! and loss chunk by chunk ([`crate::lm_head`]) and, as an option, activation checkpointing:
//! the activations of every N-th block are not kept for the backward pass but recomputed from
//! the block's input when the backward pass reaches it (`[run] activation_checkpointing`), for
//! models whose activations do not fit.

use super::{GptNeox, Rope};
use crate::ops;
use anyhow::Result;
use std::ops::Range;
use tch::Tensor;

/// A stretch of blocks run from a leaf input: with its output and graph when its activations
/// are kept, without when they are recomputed in the backward pass.
struct Segment {
    blocks: Range<usize>,
    input: Tensor,
    kept: Option<Tensor>,
}

impl GptNeox {
    /// Recompute the activations of every `n`-th block (blocks 0, n, 2n, ...) in the backward
    /// pass instead of keeping them; 0 keeps all. The gradients are the same: recomputing
    /// runs the same kernels on the same inputs.
    pub fn set_activation_checkpointing(&mut self, n: usize) {
        self.recompute_every = n;
    }

    /// One micro-batch of training: the mean next-token loss (0-d f32, detached) of `inputs`
    /// (batch, time) against `targets`, with the gradient of `scale` x that loss added to the
    /// parameters' gradients. Without activation checkpointing that is one backward pass
    /// (through a data-parallel reducer's hooks where one is attached); with it, one per
    /// stretch of blocks, from the top down. The head and its loss run chunk by chunk, never
    /// holding the whole logits; under [`super::Compute::Working`] the working copies'
    /// gradients are then added to the f32 parameters' and cleared.
    pub fn backward_loss(&self, inputs: &Tensor, targets: &Tensor, scale: f64) -> Result<Tensor> {
        let act = self.compute.activations();
        let rope = Rope::new(&self.cfg, inputs.size()[1], self.device, act);
        let x0 = Tensor::embedding(&self.embed, inputs, -1, false, false).to_kind(act);
        let n = self.blocks.len();
        let every = self.recompute_every;
        // Without checkpointing, one segment of all blocks straight on the embedding's graph.
        let mut segments = Vec::new();
        let mut x = if every == 0 {
            self.run(0..n, &x0, &rope)
        } else {
            x0.detach()
        };
        let mut i = 0;
        while every > 0 && i < n {
            let recompute = i % every == 0;
            let end = if recompute {
                i + 1
            } else {
                (i + 1..n).find(|j| j % every == 0).unwrap_or(n)
            };
            let input = x.detach().set_requires_grad(true);
            let (out, kept) = if recompute {
                (tch::no_grad(|| self.run(i..end, &input, &rope)), None)
            } else {
                let y = self.run(i..end, &input, &rope);
                (y.detach(), Some(y))
            };
            segments.push(Segment {
                blocks: i..end,
                input,
                kept,
            });
            x = out;
            i = end;
        }
        let top = if every == 0 {
            x
        } else {
            x.detach().set_requires_grad(true)
        };
        let h = self
            .ln_f
            .forward(&top, act)
            .view([-1, self.cfg.hidden_size]);
        let targets = targets.reshape([-1]);
        let rows = h.size()[0] as f64;
        let hd = h.detach();
        let g = tch::no_grad(|| {
            crate::lm_head::loss_and_grads(
                &hd,
                &self.head,
                &targets,
                scale / rows,
                self.compute.matmul(),
            )
        })?;
        ops::backward(&[&h, &self.head], &[&g.dh, &g.dw])?;
        if every > 0 {
            let mut dy = top.grad();
            for s in segments.into_iter().rev() {
                let y = match s.kept {
                    Some(y) => y,
                    None => self.run(s.blocks, &s.input, &rope),
                };
                ops::backward(&[&y], &[&dy])?;
                dy = s.input.grad();
            }
            ops::backward(&[&x0], &[&dy])?;
        }
        if let Some(w) = &self.working {
            w.collect_grads(&self.params.list)?;
        }
        Ok(g.loss_sum / rows)
    }

    /// Blocks `range` on `x`.
    pub(super) fn run(&self, range: Range<usize>, x: &Tensor, rope: &Rope) -> Tensor {
        let mut x = x.shallow_clone();
        for block in &self.blocks[range] {
            x = block.forward(&x, rope, self.compute);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::super::Compute;
    use super::*;
    use crate::config::ModelConfig;
    use tch::{Device, Kind};

    /// Ids (4, 17) from a generator of the test's own, and a fresh model of `cfg` on the CPU
    /// in `c`. Not libtorch's default generator: tests running beside this one draw from it, so
    /// two calls could otherwise train on different ids.
    fn seeded(cfg: &ModelConfig, c: Compute) -> (GptNeox, Tensor) {
        use rand::{Rng, SeedableRng};
        let mut m = GptNeox::new(cfg, Device::Cpu, 11).unwrap();
        m.set_compute(c).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let ids: Vec<i64> = (0..4 * 17)
            .map(|_| rng.gen_range(0..cfg.vocab_size))
            .collect();
        (m, Tensor::from_slice(&ids).view([4, 17]))
    }

    /// The parameters' gradients that exist.
    fn grads(m: &GptNeox) -> Vec<Tensor> {
        m.params
            .list
            .iter()
            .map(|(_, p)| p.grad())
            .filter(Tensor::defined)
            .collect()
    }

    fn max_diff(a: &[Tensor], b: &[Tensor]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs().max().double_value(&[]))
            .fold(0.0, f64::max)
    }

    /// The trainer's backward pass (head and loss chunk by chunk, gradients handed to one
    /// backward pass) gives autograd's gradients through the whole logits, in f32.
    #[test]
    fn backward_loss_matches_autograd() {
        for tied in [false, true] {
            let mut cfg = ModelConfig::custom(64, 32, 2, 2, 64);
            cfg.tie_word_embeddings = tied;
            let (m, ids) = seeded(&cfg, Compute::F32);
            let (x, y) = (ids.narrow(1, 0, 16), ids.narrow(1, 1, 16));
            let reference = m.loss(&x, &y);
            reference.backward();
            let want = grads(&m).iter().map(|g| g.copy()).collect::<Vec<_>>();
            for (_, p) in &m.params.list {
                let _ = p.grad().zero_();
            }
            let loss = m.backward_loss(&x, &y, 1.0).unwrap();
            let diff = (loss.double_value(&[]) - reference.double_value(&[])).abs();
            assert!(diff < 1e-6, "loss differs by {diff}");
            let err = max_diff(&grads(&m), &want);
            assert!(err < 1e-6, "tied {tied}: gradients differ by {err}");
        }
    }

    /// Working copies in f32 (so that only their bookkeeping is under test): two AdamW steps of
    /// two micro-batches each leave the same weights as training the parameters directly.
    #[test]
    fn working_copies_train_as_the_parameters_in_f32() {
        use crate::optim::{AdamW, AdamWConfig};
        let cfg = ModelConfig::custom(64, 32, 2, 2, 64);
        let copy = |m: &GptNeox| {
            m.params
                .list
                .iter()
                .map(|(_, p)| p.copy())
                .collect::<Vec<_>>()
        };
        let run = |c: Compute| -> (Vec<Tensor>, Vec<Tensor>) {
            let (m, ids) = seeded(&cfg, c);
            let start = copy(&m);
            let mut opt = AdamW::new(&m.params.list, AdamWConfig::default());
            for _ in 0..2 {
                opt.zero_grad().unwrap();
                for micro in 0..2 {
                    let b = ids.narrow(0, 2 * micro, 2);
                    let _ = m
                        .backward_loss(&b.narrow(1, 0, 16), &b.narrow(1, 1, 16), 0.5)
                        .unwrap();
                }
                let _ = opt.clip_grad_norm().unwrap();
                opt.step(1e-2).unwrap();
                m.refresh_working().unwrap();
            }
            (start, copy(&m))
        };
        let (start, plain) = run(Compute::F32);
        let (_, working) = run(Compute::Working(Kind::Float));
        assert!(max_diff(&start, &plain) > 1e-3, "the weights moved");
        let err = max_diff(&plain, &working);
        assert!(err < 1e-6, "working copies in f32 differ by {err}");
    }

    /// Recomputing every block, every second block or every third gives the gradients of
    /// keeping all activations, bit for bit on the CPU (the same kernels on the same inputs),
    /// with tied and untied heads, in f32 and with bf16 working copies.
    #[test]
    fn activation_checkpointing_gives_the_same_gradients() {
        for (tied, c) in [
            (false, Compute::F32),
            (true, Compute::F32),
            (false, Compute::Working(Kind::BFloat16)),
        ] {
            let mut cfg = ModelConfig::custom(64, 32, 4, 2, 64);
            cfg.tie_word_embeddings = tied;
            let (mut m, ids) = seeded(&cfg, c);
            let (x, y) = (ids.narrow(1, 0, 16), ids.narrow(1, 1, 16));
            let mut reference = None;
            for every in [0, 1, 2, 3] {
                for mut g in grads(&m) {
                    let _ = g.zero_();
                }
                m.set_activation_checkpointing(every);
                let loss = m.backward_loss(&x, &y, 1.0).unwrap().double_value(&[]);
                let grads: Vec<Tensor> = grads(&m).iter().map(Tensor::copy).collect();
                assert_eq!(grads.len(), m.params.list.len());
                match &reference {
                    None => reference = Some((loss, grads)),
                    Some((l, g)) => {
                        assert_eq!(loss, *l, "{c:?} tied {tied} every {every}: loss");
                        let err = max_diff(&grads, g);
                        assert_eq!(err, 0.0, "{c:?} tied {tied} every {every}: gradients");
                    }
                }
            }
        }
    }
}
