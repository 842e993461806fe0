//! The output head and its next-token cross-entropy, computed chunk by chunk of rows so that
//! the (rows, vocab) logits never exist whole (fused linear + cross-entropy).
//!
//! At 16 x 2048 tokens and Pythia's 50,304-token vocabulary the whole f32 logits take 6.6 GB,
//! and autograd would keep them (and their log-softmax) until the backward pass. Here each
//! chunk of at most [`chunk_rows`] rows makes its logits, reads off its loss, turns them in
//! place into their gradient (softmax minus the one-hot targets, scaled) and multiplies that
//! out into the gradients of the hidden states and of the head's weight before the next chunk
//! starts. The caller hands both gradients to one backward pass ([`crate::ops::backward`]).

use anyhow::Result;
use tch::{Kind, Tensor};

/// Bytes of f32 logits one chunk may hold.
const CHUNK_BYTES: i64 = 1 << 30;

/// Rows per chunk at vocabulary `vocab`: as many as [`CHUNK_BYTES`] of f32 logits hold.
pub fn chunk_rows(vocab: i64) -> i64 {
    (CHUNK_BYTES / (4 * vocab.max(1))).max(1)
}

/// One chunk: the f32 log-softmax of the logits `h W^T` (`log_softmax(dtype=float32)`: on
/// CUDA the kernel reads bf16 and writes f32 in one pass) and the chunk's summed loss against
/// `targets` (c, 1).
fn chunk(h: &Tensor, wt: &Tensor, targets: &Tensor) -> Result<(Tensor, Tensor)> {
    let lsm = h.f_mm(wt)?.f_log_softmax(1, Kind::Float)?;
    let loss = lsm
        .f_gather(1, targets, false)?
        .f_sum(Kind::Float)?
        .f_neg()?;
    Ok((lsm, loss))
}

/// Next-token cross-entropy of each row (rows, f32) of the logits `h W^T`, the product taken
/// in `kind`: `h` (rows, hidden), `w` (vocab, hidden), `targets` (rows) in 0..vocab. No
/// gradient.
pub fn loss_rows(h: &Tensor, w: &Tensor, targets: &Tensor, kind: Kind) -> Result<Tensor> {
    loss_rows_in(h, w, targets, kind, chunk_rows(w.size()[0]))
}

fn loss_rows_in(h: &Tensor, w: &Tensor, targets: &Tensor, kind: Kind, rows: i64) -> Result<Tensor> {
    let n = h.size()[0];
    let (hk, wt) = (h.f_to_kind(kind)?, w.f_to_kind(kind)?.f_tr()?);
    let out = Tensor::f_empty([n], (Kind::Float, h.device()))?;
    let mut start = 0;
    while start < n {
        let c = rows.min(n - start);
        let tc = targets.f_narrow(0, start, c)?.f_unsqueeze(1)?;
        let lsm = hk
            .f_narrow(0, start, c)?
            .f_mm(&wt)?
            .f_log_softmax(1, Kind::Float)?;
        let picked = lsm.f_gather(1, &tc, false)?.f_squeeze_dim(1)?.f_neg()?;
        out.f_narrow(0, start, c)?.f_copy_(&picked)?;
        start += c;
    }
    Ok(out)
}

/// The head's loss and gradients for one batch.
pub struct HeadGrads {
    /// Summed cross-entropy over the rows (0-d f32).
    pub loss_sum: Tensor,
    /// Gradient of `scale` x the summed loss with respect to `h`, in `h`'s dtype.
    pub dh: Tensor,
    /// ... and with respect to `w`, in `w`'s dtype.
    pub dw: Tensor,
}

/// The summed loss of [`loss_rows`] and the gradients of `scale` times it with respect to `h` and `w`, chunk by
/// chunk: d logits = (softmax - onehot(targets)) x scale, dh = d logits W, dW = d logits^T h,
/// the products in `kind`. In f32 this equals autograd through `cross_entropy(h W^T)` to
/// rounding (`tests::matches_autograd_in_f32`).
pub fn loss_and_grads(
    h: &Tensor,
    w: &Tensor,
    targets: &Tensor,
    scale: f64,
    kind: Kind,
) -> Result<HeadGrads> {
    grads_in(h, w, targets, scale, kind, chunk_rows(w.size()[0]))
}

fn grads_in(
    h: &Tensor,
    w: &Tensor,
    targets: &Tensor,
    scale: f64,
    kind: Kind,
    rows: i64,
) -> Result<HeadGrads> {
    let n = h.size()[0];
    let (hk, wk) = (h.f_to_kind(kind)?, w.f_to_kind(kind)?);
    let wt = wk.f_tr()?;
    let dev = h.device();
    let mut sum = Tensor::f_zeros([], (Kind::Float, dev))?;
    let dh = h.f_empty_like()?;
    let mut dw = w.f_zeros_like()?;
    let mut start = 0;
    while start < n {
        let c = rows.min(n - start);
        let hc = hk.f_narrow(0, start, c)?;
        let tc = targets.f_narrow(0, start, c)?.f_unsqueeze(1)?;
        let (mut g, loss) = chunk(&hc, &wt, &tc)?;
        sum = sum.f_add(&loss)?;
        // log-softmax -> softmax -> softmax - onehot -> times scale, in place.
        let _ = g.f_exp_()?;
        let minus_one = Tensor::f_full([c, 1], -1.0, (Kind::Float, dev))?;
        let _ = g.f_scatter_add_(1, &tc, &minus_one)?;
        let _ = g.f_mul_scalar_(scale)?;
        let gk = g.f_to_kind(kind)?;
        drop(g);
        let mut dh_c = dh.f_narrow(0, start, c)?;
        if dh.kind() == kind {
            let _ = gk.f_mm_out(&dh_c, &wk)?;
        } else {
            dh_c.f_copy_(&gk.f_mm(&wk)?)?;
        }
        if dw.kind() == kind {
            let _ = dw.f_addmm_(&gk.f_tr()?, &hc)?;
        } else {
            dw = dw.f_add(&gk.f_tr()?.f_mm(&hc)?)?;
        }
        start += c;
    }
    Ok(HeadGrads {
        loss_sum: sum,
        dh,
        dw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn max_rel(a: &Tensor, b: &Tensor) -> f64 {
        let scale = b.abs().max().double_value(&[]).max(1e-30);
        (a - b).abs().max().double_value(&[]) / scale
    }

    /// The chunked loss and gradients against autograd through the whole logits, in f32, in
    /// one chunk and in chunks that do not divide the rows.
    #[test]
    fn matches_autograd_in_f32() {
        let _seeded = crate::ops::default_generator_lock();
        tch::manual_seed(7);
        let (n, hdim, v) = (37, 16, 50);
        let h = Tensor::randn([n, hdim], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let w =
            (Tensor::randn([v, hdim], (Kind::Float, Device::Cpu)) * 0.3).set_requires_grad(true);
        let targets = Tensor::randint(v, [n], (Kind::Int64, Device::Cpu));
        let scale = 1.0 / n as f64;
        let loss = h.mm(&w.tr()).cross_entropy_loss::<Tensor>(
            &targets,
            None,
            tch::Reduction::Mean,
            -100,
            0.0,
        );
        loss.backward();
        let g = loss_and_grads(&h.detach(), &w.detach(), &targets, scale, Kind::Float).unwrap();
        let ours = g.loss_sum.double_value(&[]) * scale;
        let theirs = loss.double_value(&[]);
        assert!((ours - theirs).abs() < 1e-6 * theirs, "{ours} vs {theirs}");
        assert!(max_rel(&g.dh, &h.grad()) < 1e-6);
        assert!(max_rel(&g.dw, &w.grad()) < 1e-6);
        // Chunks of 5 rows (8 chunks, the last of 2 rows), as a large vocabulary cuts them.
        let rows = loss_rows_in(&h.detach(), &w.detach(), &targets, Kind::Float, 5).unwrap();
        assert!((rows.sum(Kind::Double).double_value(&[]) * scale - theirs).abs() < 1e-6 * theirs);
        // Each row's loss is that row's cross-entropy.
        let each = h
            .detach()
            .mm(&w.detach().tr())
            .cross_entropy_loss::<Tensor>(&targets, None, tch::Reduction::None, -100, 0.0);
        assert!(max_rel(&rows, &each) < 1e-6);
        let parts = grads_in(&h.detach(), &w.detach(), &targets, scale, Kind::Float, 5).unwrap();
        assert!((parts.loss_sum.double_value(&[]) * scale - theirs).abs() < 1e-6 * theirs);
        assert!(max_rel(&parts.dh, &h.grad()) < 1e-6);
        assert!(max_rel(&parts.dw, &w.grad()) < 1e-6);
        assert_eq!(chunk_rows(50_304), 5_336);
    }

    /// In bf16 the products run in bf16 and the softmax in f32: the loss stays within bf16
    /// rounding of the f32 one, and the gradients come back in the inputs' dtypes.
    #[test]
    fn bf16_products_stay_near_f32() {
        let _seeded = crate::ops::default_generator_lock();
        tch::manual_seed(3);
        let (n, hdim, v) = (64, 32, 97);
        let h = Tensor::randn([n, hdim], (Kind::Float, Device::Cpu));
        let w = Tensor::randn([v, hdim], (Kind::Float, Device::Cpu)) * 0.2;
        let targets = Tensor::randint(v, [n], (Kind::Int64, Device::Cpu));
        let f = loss_and_grads(&h, &w, &targets, 1.0, Kind::Float).unwrap();
        let (hb, wb) = (h.to_kind(Kind::BFloat16), w.to_kind(Kind::BFloat16));
        let b = loss_and_grads(&hb, &wb, &targets, 1.0, Kind::BFloat16).unwrap();
        assert_eq!((b.dh.kind(), b.dw.kind()), (Kind::BFloat16, Kind::BFloat16));
        let (lf, lb) = (f.loss_sum.double_value(&[]), b.loss_sum.double_value(&[]));
        assert!((lf - lb).abs() < 0.01 * lf, "{lb} vs {lf}");
        assert!(max_rel(&b.dh.to_kind(Kind::Float), &f.dh) < 0.03);
        assert!(max_rel(&b.dw.to_kind(Kind::Float), &f.dw) < 0.03);
        // f32 weights with bf16 products (autocast): gradients in the f32 dtypes.
        let m = loss_and_grads(&h, &w, &targets, 1.0, Kind::BFloat16).unwrap();
        assert_eq!((m.dh.kind(), m.dw.kind()), (Kind::Float, Kind::Float));
        assert!(max_rel(&m.dw, &f.dw) < 0.03);
    }
}
