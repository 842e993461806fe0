//! AdamW exactly as `torch.optim.AdamW` (decoupled weight decay, bias correction), with
//! state that can be saved, loaded into a continued run, or reset for a fresh start.

use crate::checkpoint::{read_tensors, write_tensors};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Kind, Tensor};

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
}

impl AdamW {
    pub fn new(params: &[(String, Tensor)], cfg: AdamWConfig) -> Self {
        let list: Vec<_> = params
            .iter()
            .map(|(n, t)| {
                (
                    n.clone(),
                    t.shallow_clone(),
                    crate::model::Params::decays(n),
                )
            })
            .collect();
        let zeros = || {
            list.iter()
                .map(|(_, t, _)| t.zeros_like())
                .collect::<Vec<_>>()
        };
        Self {
            exp_avg: zeros(),
            exp_avg_sq: zeros(),
            params: list,
            cfg,
            step: 0,
        }
    }

    pub fn zero_grad(&mut self) {
        for (_, p, _) in &self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// Clips gradients to the configured global L2 norm (as `clip_grad_norm_`) and returns
    /// the norm before clipping, as a 0-d tensor (no device sync).
    pub fn clip_grad_norm(&self) -> Tensor {
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .map(|(_, p, _)| p.grad())
            .filter(|g| g.defined())
            .collect();
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = Tensor::stack(&norms, 0).norm();
        if self.cfg.clip > 0.0 {
            let coef = ((&total + 1e-6).reciprocal() * self.cfg.clip).clamp_max(1.0);
            for mut g in grads {
                let _ = g.g_mul_(&coef);
            }
        }
        total
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let c = &self.cfg;
        let bc1 = 1.0 - c.beta1.powi(self.step as i32);
        let bc2_sqrt = (1.0 - c.beta2.powi(self.step as i32)).sqrt();
        let step_size = lr / bc1;
        tch::no_grad(|| {
            for (((_, p, decays), m), v) in self
                .params
                .iter()
                .zip(&mut self.exp_avg)
                .zip(&mut self.exp_avg_sq)
            {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let mut p = p.shallow_clone();
                if *decays && c.weight_decay != 0.0 {
                    let _ = p.g_mul_scalar_(1.0 - lr * c.weight_decay);
                }
                let _ = m.lerp_(&g, 1.0 - c.beta1);
                let _ = v.g_mul_scalar_(c.beta2);
                let _ = v.addcmul_(&g, &(&g * (1.0 - c.beta2)));
                // p -= step_size * m / (sqrt(v) / bc2_sqrt + eps), with the scale folded into
                // the denominator so the update needs one temporary, as torch's does.
                let mut denom = v.sqrt();
                let _ = denom.g_div_scalar_(bc2_sqrt);
                let _ = denom.g_add_scalar_(c.eps);
                let _ = denom.g_div_scalar_(-step_size);
                let _ = p.addcdiv_(m, &denom);
            }
        });
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
        write_tensors(path, &named)
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
