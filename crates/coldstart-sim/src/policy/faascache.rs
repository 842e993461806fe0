//! `faascache:capacity=MB`: keep-alive as caching (Fuerst and Sharma, "FaasCache: keeping
//! serverless computing alive with greedy-dual caching", ASPLOS 2021). Pods are never removed
//! for being idle; when a cold start needs memory the loaded pods do not leave, idle pods are
//! evicted lowest priority first, with the Greedy-Dual priority
//! `clock + frequency x cold-start cost / memory` set each time a pod is used, and the clock
//! raised to the priority of each evicted pod. Frequency counts the function's invocations so
//! far. When no idle pod is left to evict, the request runs anyway (the engine counts the
//! memory above capacity as part of its peak).

use super::{Catalogued, Ended, Idle, Params, Policy};
use crate::workload::Function;
use anyhow::{bail, Result};

pub struct FaasCache {
    pub capacity_mb: f64,
    clock: f64,
    freq: Vec<u64>,
}

impl FaasCache {
    pub fn new(capacity_mb: f64, functions: usize) -> Self {
        Self {
            capacity_mb,
            clock: 0.0,
            freq: vec![0; functions],
        }
    }
}

impl Catalogued for FaasCache {
    const NAME: &'static str = "faascache";
    const PARAMS: &'static str = ":capacity=MB";
    const SUMMARY: &'static str = "no removal for idling; a cold start that does not fit `capacity` evicts idle pods by Greedy-Dual priority (Fuerst and Sharma, ASPLOS 2021)";

    fn from_params(p: &mut Params, functions: usize) -> Result<Self> {
        let capacity = p.number("capacity", 0.0, 1e9)?;
        if capacity <= 0.0 {
            bail!(
                "faascache needs capacity=MB, the memory its pods may hold (e.g. capacity=65536)"
            );
        }
        Ok(Self::new(capacity, functions))
    }
}

impl Policy for FaasCache {
    fn name(&self) -> String {
        format!("faascache:capacity={}", self.capacity_mb)
    }

    fn on_arrival(&mut self, func: u32, _f: &Function, _t: f64) {
        self.freq[func as usize] += 1;
    }

    fn after_request(&mut self, _e: &Ended) -> Idle {
        Idle::keep(f64::INFINITY)
    }

    fn capacity_mb(&self) -> Option<f64> {
        Some(self.capacity_mb)
    }

    fn priority(&mut self, func: u32, f: &Function, cold_cost: f64) -> f64 {
        let size = f64::from(f.memory_mb.max(1));
        self.clock + self.freq[func as usize] as f64 * cold_cost / size
    }

    fn evicted(&mut self, priority: f64) {
        self.clock = self.clock.max(priority);
    }
}
