//! Validation loss and perplexity on held-out token folders.

use crate::dataset::TokenDataset;
use crate::model::GptNeox;
use anyhow::{bail, Result};
use serde::Serialize;
use tch::{Kind, Tensor};

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EvalResult {
    pub name: String,
    pub loss: f64,
    pub perplexity: f64,
    pub sequences: u64,
    pub tokens: u64,
    /// Each sequence's mean next-token loss, in file order: what a paired bootstrap over the
    /// evaluation sequences resamples (`log.jsonl` keeps them up to [`LOGGED_SEQUENCES`]).
    #[serde(skip)]
    pub sequence_losses: Vec<f64>,
}

/// The most sequences whose losses `log.jsonl` keeps at each evaluation (about 10 bytes each).
pub const LOGGED_SEQUENCES: u64 = 4096;

/// Mean next-token loss over the first `max_sequences` sequences of `ds` (all when 0), in
/// file order, so every evaluation of a run sees the same tokens.
pub fn evaluate(
    model: &GptNeox,
    name: &str,
    ds: &TokenDataset,
    seq_len: usize,
    batch: usize,
    max_sequences: u64,
) -> Result<EvalResult> {
    let part = evaluate_part(model, name, ds, seq_len, batch, max_sequences, (0, 1))?;
    part.finish()
}

/// One rank's share of an evaluation: the summed token losses of each sequence of every
/// `size`-th batch from batch `rank` on, at the sequence's place in `losses` (zero elsewhere),
/// still on the device, so that the ranks' vectors can be added before
/// [`PartialEval::finish`].
pub struct PartialEval {
    pub name: String,
    pub dir: std::path::PathBuf,
    /// (sequences,) f64.
    pub losses: Tensor,
    pub sequences: u64,
    pub seq_len: usize,
}

impl PartialEval {
    /// The result from the summed losses of all sequences (every rank's share added in).
    pub fn finish(&self) -> Result<EvalResult> {
        let n = self.sequences;
        let sums = Vec::<f64>::try_from(self.losses.to_device(tch::Device::Cpu))
            .map_err(|e| anyhow::anyhow!("reading the evaluation losses: {e}"))?;
        let per_token = self.seq_len as f64;
        let total: f64 = sums.iter().sum();
        let loss = total / (n * self.seq_len as u64) as f64;
        if !loss.is_finite() {
            bail!(
                "validation set {:?} ({}): the loss is {loss}; the model's outputs are not finite",
                self.name,
                self.dir.display()
            );
        }
        Ok(EvalResult {
            name: self.name.clone(),
            loss,
            perplexity: loss.exp(),
            sequences: n,
            tokens: n * self.seq_len as u64,
            sequence_losses: sums.iter().map(|s| s / per_token).collect(),
        })
    }
}

/// The share `(rank, size)` of [`evaluate`]: batches are cut as for one process and dealt out
/// round-robin, so the batches (and each batch's sum) do not depend on the number of ranks.
pub fn evaluate_part(
    model: &GptNeox,
    name: &str,
    ds: &TokenDataset,
    seq_len: usize,
    batch: usize,
    max_sequences: u64,
    (rank, size): (usize, usize),
) -> Result<PartialEval> {
    if seq_len == 0 || batch == 0 {
        bail!("evaluation needs a positive sequence length and batch size (got {seq_len} and {batch})");
    }
    check_vocab(model, ds, &format!("validation set {name:?}"))?;
    let avail = ds.num_sequences(seq_len);
    if avail == 0 {
        bail!(
            "validation set {name:?} ({}): {} tokens is less than one sequence of {seq_len}",
            ds.dir.display(),
            ds.tokens()
        );
    }
    let n = if max_sequences == 0 {
        avail
    } else {
        avail.min(max_sequences)
    };
    // Kept on the device and read once, so batches queue without a host sync.
    let losses = Tensor::zeros([n as i64], (Kind::Double, model.device));
    let mut buf = vec![0i64; batch * (seq_len + 1)];
    let mut bufs = crate::model::EvalBuffers::default();
    let mut i = (rank * batch) as u64;
    tch::no_grad(|| -> Result<()> {
        while i < n {
            let b = (n - i).min(batch as u64) as usize;
            for k in 0..b {
                let row = &mut buf[k * (seq_len + 1)..(k + 1) * (seq_len + 1)];
                ds.sequence(i + k as u64, seq_len, row);
            }
            check_ids(&buf[..b * (seq_len + 1)], model.cfg.vocab_size, || {
                format!(
                    "validation set {name:?} ({}), sequences {i}..{}",
                    ds.dir.display(),
                    i + b as u64
                )
            })?;
            let t = Tensor::from_slice(&buf[..b * (seq_len + 1)])
                .view([b as i64, seq_len as i64 + 1])
                .to_device(model.device);
            let inputs = t.narrow(1, 0, seq_len as i64);
            let targets = t.narrow(1, 1, seq_len as i64);
            let seq = model.sequence_losses(&inputs, &targets, &mut bufs)?;
            losses.narrow(0, i as i64, b as i64).copy_(&seq);
            i += (batch * size) as u64;
        }
        Ok(())
    })?;
    Ok(PartialEval {
        name: name.into(),
        dir: ds.dir.clone(),
        losses,
        sequences: n,
        seq_len,
    })
}

/// Refuses a dataset whose vocabulary the model cannot embed, naming both sizes.
pub fn check_vocab(model: &GptNeox, ds: &TokenDataset, what: &str) -> Result<()> {
    let (data, m) = (ds.index.vocab_size as i64, model.cfg.vocab_size);
    if data > m {
        bail!(
            "{what} ({}) was tokenised with a vocabulary of {data}, larger than the model's vocab_size {m}",
            ds.dir.display()
        );
    }
    Ok(())
}

/// Checks a batch of token ids against the model's vocabulary before it reaches the embedding
/// (where an out-of-range id would abort inside libtorch).
pub fn check_ids(ids: &[i64], vocab: i64, where_: impl FnOnce() -> String) -> Result<()> {
    if let Some(&bad) = ids.iter().find(|&&id| id < 0 || id >= vocab) {
        bail!(
            "{}: token id {bad} is outside the model's vocabulary (vocab_size {vocab}); the token shards do not belong to this model or are corrupt",
            where_()
        );
    }
    Ok(())
}
