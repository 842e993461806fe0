//! bf16 working copies of a model's weights beside the f32 parameters, which stay the masters
//! that the optimiser updates and checkpoints hold (`[run] precision = "bf16-full"`).
//!
//! The modules compute on the working copies, so no weight is cast at each use (under
//! `torch.autocast` every weight is cast in the forward pass and every weight gradient cast
//! back in the backward pass). After each backward pass the working copies' bf16 gradients
//! are added into the masters' f32 gradients ([`Working::collect_grads`], which also clears
//! them), so micro-batches accumulate, ranks reduce and the optimiser steps in f32; after each
//! optimiser step the masters are copied back ([`Working::refresh`]). Both are one foreach call.

use crate::ops;
use anyhow::Result;
use std::collections::HashMap;
use tch::{Kind, Tensor};

/// Working copies of some of a model's parameters.
pub struct Working {
    /// (index into the parameter list, working copy), in the list's order.
    pairs: Vec<(usize, Tensor)>,
}

impl Working {
    /// Working copies in `kind` of the parameters in `list` but those `keep` names (the modules
    /// use those as they are). Returns them with every tensor the modules take, by name.
    pub fn new(
        list: &[(String, Tensor)],
        kind: Kind,
        keep: impl Fn(&str) -> bool,
    ) -> Result<(Self, HashMap<String, Tensor>)> {
        let mut pairs = Vec::new();
        let mut named = HashMap::new();
        for (i, (name, master)) in list.iter().enumerate() {
            let t = if keep(name) {
                master.shallow_clone()
            } else {
                let w = tch::no_grad(|| master.f_to_dtype(kind, false, true))?
                    .detach()
                    .set_requires_grad(true);
                pairs.push((i, w.shallow_clone()));
                w
            };
            named.insert(name.clone(), t);
        }
        Ok((Self { pairs }, named))
    }

    fn masters<'a>(&self, list: &'a [(String, Tensor)]) -> Vec<&'a Tensor> {
        self.pairs.iter().map(|(i, _)| &list[*i].1).collect()
    }

    fn copies(&self) -> Vec<&Tensor> {
        self.pairs.iter().map(|(_, w)| w).collect()
    }

    /// Adds the working copies' gradients into the masters' (`list`, the list `new` took) and
    /// clears them.
    pub fn collect_grads(&self, list: &[(String, Tensor)]) -> Result<()> {
        ops::collect_grads(&self.masters(list), &self.copies())
    }

    /// Copies the masters into the working copies.
    pub fn refresh(&self, list: &[(String, Tensor)]) -> Result<()> {
        ops::copy(&self.copies(), &self.masters(list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn gradients_go_to_the_masters_and_weights_come_back() {
        let opts = (Kind::Float, Device::Cpu);
        let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).set_requires_grad(true);
        let b = Tensor::ones([2], opts).set_requires_grad(true);
        let list = vec![("a".to_string(), a), ("b".to_string(), b)];
        let (w, named) = Working::new(&list, Kind::BFloat16, |n| n == "b").unwrap();
        let wa = &named["a"];
        assert_eq!(wa.kind(), Kind::BFloat16);
        assert!(wa.requires_grad() && wa.is_leaf());
        // "b" is kept: the module uses the master itself.
        assert_eq!(named["b"].data_ptr(), list[1].1.data_ptr());
        // Two micro-batches: the master's f32 gradient sums them, the copy's is cleared.
        for k in [1.0, 2.0] {
            (wa.to_kind(Kind::Float) * k).sum(Kind::Float).backward();
            w.collect_grads(&list).unwrap();
            assert!(!wa.grad().defined());
        }
        let g = list[0].1.grad();
        assert_eq!(g.kind(), Kind::Float);
        assert_eq!(Vec::<f32>::try_from(&g).unwrap(), [3.0, 3.0, 3.0]);
        // An update of the master reaches the copy, rounded to bf16.
        let mut master = list[0].1.shallow_clone();
        tch::no_grad(|| master.copy_(&Tensor::from_slice(&[0.1f32, 1.0, 1.0 / 3.0])));
        w.refresh(&list).unwrap();
        let back = Vec::<f32>::try_from(&wa.to_kind(Kind::Float)).unwrap();
        // bf16 keeps 8 significant bits: 0.1 -> 205 / 2048, 1/3 -> 171 / 512.
        assert_eq!(back, [205.0 / 2048.0, 1.0, 171.0 / 512.0]);
    }
}
