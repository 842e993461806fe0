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
}

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
    // Summed on the device and read once, so batches queue without a host sync.
    let mut sum = Tensor::zeros([], (Kind::Double, model.device));
    let mut buf = vec![0i64; batch * (seq_len + 1)];
    let mut i = 0u64;
    tch::no_grad(|| {
        while i < n {
            let b = (n - i).min(batch as u64) as usize;
            for k in 0..b {
                let row = &mut buf[k * (seq_len + 1)..(k + 1) * (seq_len + 1)];
                ds.sequence(i + k as u64, seq_len, row);
            }
            let t = Tensor::from_slice(&buf[..b * (seq_len + 1)])
                .view([b as i64, seq_len as i64 + 1])
                .to_device(model.device);
            let inputs = t.narrow(1, 0, seq_len as i64);
            let targets = t.narrow(1, 1, seq_len as i64);
            sum += model.loss(&inputs, &targets).to_kind(Kind::Double) * b as f64;
            i += b as u64;
        }
    });
    let loss = sum.double_value(&[]) / n as f64;
    Ok(EvalResult {
        name: name.into(),
        loss,
        perplexity: loss.exp(),
        sequences: n,
        tokens: n * seq_len as u64,
    })
}
