//! AdamW exactly as `torch.optim.AdamW` (decoupled weight decay, bias correction), with
//! state that can be saved, loaded into a continued run, or reset for a fresh start.

use crate::checkpoint::{read_tensors, write_tensors};
use crate::ops;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Device, Kind, Tensor};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdamWConfig {
    #[serde(default = "b1")]
    pub beta1: f64,
    #[serde(default = "b2")]
    pub beta2: f64,
    #[serde(default = "eps")]
    pub eps: f64,
    #[serde(default = "wd")]
    pub weight_decay: f64,
    /// Global gradient-norm clip; 0 turns clipping off.
    #[serde(default = "clip")]
    pub clip: f64,
}

fn b1() -> f64 {
    0.9
}
fn b2() -> f64 {
    0.95
}
fn eps() -> f64 {
    1e-8
}
fn wd() -> f64 {
    0.01
}
fn clip() -> f64 {
    1.0
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: b1(),
            beta2: b2(),
            eps: eps(),
            weight_decay: wd(),
            clip: clip(),
        }
    }
}

pub struct AdamW {
    pub cfg: AdamWConfig,
    /// Optimiser steps taken with these moments (drives bias correction).
    pub step: u64,
    params: Vec<(String, Tensor, bool)>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    /// The step count as a 0-d f32 tensor on the parameters' device, read by the fused kernel.
    step_t: Tensor,
}

impl AdamW {
    pub fn new(params: &[(String, Tensor)], cfg: AdamWConfig) -> Self {
        let list: Vec<_> = params
            .iter()
            .map(|(n, t)| {
                (
                    n.clone(),
                    t.shallow_clone(),
                    crate::model::Params::decays(t),
                )
            })
            .collect();
        let zeros = || {
            list.iter()
                .map(|(_, t, _)| t.zeros_like())
                .collect::<Vec<_>>()
        };
        let device = list.first().map_or(Device::Cpu, |(_, t, _)| t.device());
        Self {
            exp_avg: zeros(),
            exp_avg_sq: zeros(),
            step_t: Tensor::zeros([], (Kind::Float, device)),
            params: list,
            cfg,
            step: 0,
        }
    }

    /// The gradients that exist (parameters that took part in the last backward pass).
    pub fn grads(&self) -> Vec<Tensor> {
        self.params
            .iter()
            .map(|(_, p, _)| p.grad())
            .filter(|g| g.defined())
            .collect()
    }

    /// Zeroes every gradient in place (one foreach kernel).
    pub fn zero_grad(&mut self) -> Result<()> {
        let grads = self.grads();
        ops::zero(&grads.iter().collect::<Vec<_>>())
    }

    /// Clips gradients to the configured global L2 norm (as `clip_grad_norm_`) and returns
    /// the norm before clipping, as a 0-d tensor (no device sync).
    pub fn clip_grad_norm(&self) -> Result<Tensor> {
        let grads = self.grads();
        ops::clip_grad_norm(&grads.iter().collect::<Vec<_>>(), self.cfg.clip)
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, lr: f64) -> Result<()> {
        self.step_unless(lr, None)
    }

    /// One update with learning rate `lr`, computed by torch's fused AdamW kernel (one launch
    /// for the decayed tensors, one for the rest). When `found_inf` (0-d f32 on the device)
    /// holds 1 the device leaves weights and moments as they were without a host sync; the
    /// step count still advances, so the caller stops the run (as the trainer does).
    pub fn step_unless(&mut self, lr: f64, found_inf: Option<&Tensor>) -> Result<()> {
        self.step += 1;
        let _ = self.step_t.fill_(self.step as f64);
        let c = &self.cfg;
        for decayed in [true, false] {
            let mut lists: [Vec<Tensor>; 4] = Default::default();
            for (((_, p, decays), m), v) in
                self.params.iter().zip(&self.exp_avg).zip(&self.exp_avg_sq)
            {
                let g = p.grad();
                if *decays != decayed || !g.defined() {
                    continue;
                }
                lists[0].push(p.shallow_clone());
                lists[1].push(g);
                lists[2].push(m.shallow_clone());
                lists[3].push(v.shallow_clone());
            }
            if lists[0].is_empty() {
                continue;
            }
            let r = |i: usize| lists[i].iter().collect::<Vec<_>>();
            let h = ops::AdamWStep {
                lr,
                beta1: c.beta1,
                beta2: c.beta2,
                weight_decay: if decayed { c.weight_decay } else { 0.0 },
                eps: c.eps,
            };
            tch::no_grad(|| {
                ops::fused_adamw(&r(0), &r(1), &r(2), &r(3), &self.step_t, &h, found_inf)
            })?;
        }
        Ok(())
    }

    /// Moments and step count, under the parameter names.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut named: Vec<(String, &Tensor)> = Vec::new();
        for ((n, _, _), (m, v)) in self
            .params
            .iter()
            .zip(self.exp_avg.iter().zip(&self.exp_avg_sq))
        {
            named.push((format!("exp_avg.{n}"), m));
            named.push((format!("exp_avg_sq.{n}"), v));
        }
        let step = Tensor::from_slice(&[self.step as i64]);
        named.push(("step".into(), &step));
        Ok(write_tensors(path, &named)?)
    }

    /// Loads moments saved by `save` for the same parameter names and shapes.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let tensors = read_tensors(path)?;
        let find = |name: &str| tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t);
        let step =
            find("step").with_context(|| format!("{}: tensor step missing", path.display()))?;
        self.step = step.int64_value(&[0]) as u64;
        for ((n, p, _), (m, v)) in self
            .params
            .iter()
            .zip(self.exp_avg.iter_mut().zip(self.exp_avg_sq.iter_mut()))
        {
            for (prefix, slot) in [("exp_avg", m), ("exp_avg_sq", v)] {
                let key = format!("{prefix}.{n}");
                let t = find(&key)
                    .with_context(|| format!("{}: tensor {key} missing", path.display()))?;
                if t.size() != p.size() {
                    bail!(
                        "{}: tensor {key} has shape {:?}, the model has {:?}",
                        path.display(),
                        t.size(),
                        p.size()
                    );
                }
                *slot = t.to_kind(Kind::Float).to_device(p.device());
            }
        }
        Ok(())
    }
}
