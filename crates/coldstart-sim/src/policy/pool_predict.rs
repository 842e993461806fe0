//! `pool-predict:window=1h,quantile=0.95,size=auto,refill=10s,ttl=60s`: resource-pool
//! prediction, one of the strategies the paper proposes (Joosen et al., EuroSys 2025, section
//! 5; spec section 5). Each CPU-memory configuration keeps a pool of pre-warmed pods that a
//! cold start of any of its functions takes instead of searching for or creating one. At each
//! minute the pool's size is set to the `quantile` of the configuration's per-minute demand
//! (cold starts that drew on it) over the last `window`, nearest rank; `size=N` holds every
//! pool at N instead. A pod taken is replaced, ready `refill` seconds later, and so are pods
//! the pool is short of when its size goes up. A cold start that finds its pool empty is a
//! miss: its pod is created from scratch, the slow allocation. Pods that wait in a pool are
//! wasted memory, counted with the keep-alive's. Keep-alive is fixed at `ttl`. Custom and http
//! runtimes have no pool (spec section 2).
//!
//! Other policies' cold starts allocate as the cost model says, that is as the platform's own
//! pools did; under this policy a hit allocates as a first-stage pool hit and a miss as a pod
//! built from scratch (see the cost model's `pod_allocation`).

use std::collections::VecDeque;

use super::{
    fmt_duration, limits, Catalogued, Ended, Idle, KeepAlive, Needs, Params, Policy, PoolSizing,
};
use anyhow::{bail, Result};
use coldstart_trace::paper::KEEP_ALIVE_S;

/// The most pods a fixed pool may hold (each is a pod the engine tracks).
const MAX_SIZE: u32 = 100_000;

pub struct PoolPredict {
    pub ttl: f64,
    /// Minutes of demand the prediction looks back on.
    pub window: usize,
    pub quantile: f64,
    /// A fixed size for every pool instead of the prediction.
    pub size: Option<u32>,
    /// Seconds to create a pool pod.
    pub refill: f64,
    history: Vec<VecDeque<u32>>,
}

/// The nearest-rank `q` quantile of `v` (0 when empty).
pub fn nearest_rank(v: impl Iterator<Item = u32>, q: f64) -> u32 {
    let mut v: Vec<u32> = v.collect();
    if v.is_empty() {
        return 0;
    }
    let k = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    *v.select_nth_unstable(k).1
}

impl Catalogued for PoolPredict {
    const NAME: &'static str = "pool-predict";
    const PARAMS: &'static str = "[:window=1h,quantile=0.95,size=auto,refill=10s,ttl=60s]";
    const SUMMARY: &'static str = "each CPU-memory configuration keeps a pre-warmed pool sized to a quantile of its recent demand (the paper's proposal; needs allocation times)";

    fn from_params(p: &mut Params, _functions: usize) -> Result<Self> {
        let ttl = p.seconds("ttl", KEEP_ALIVE_S, limits::PERIOD)?;
        let window = p.seconds("window", 3600.0, limits::WINDOW)?;
        if window < 60.0 {
            bail!("pool-predict: window must be at least 1m");
        }
        let quantile = p.number("quantile", 0.95, 1.0)?;
        if !(quantile > 0.0 && quantile <= 1.0) {
            bail!("pool-predict: quantile must be in (0, 1]");
        }
        let size = match p.text("size").as_deref() {
            None | Some("auto") => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|n| *n <= MAX_SIZE)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "pool-predict: size is auto or a number of pods up to {MAX_SIZE}, got '{v}'"
                        )
                    })?,
            ),
        };
        let refill = p.seconds("refill", 10.0, limits::SHORT)?;
        Ok(Self {
            refill,
            ttl,
            window: (window / 60.0).round() as usize,
            quantile,
            size,
            history: Vec::new(),
        })
    }
}

impl Policy for PoolPredict {
    fn needs(&self) -> Needs {
        Needs {
            allocation_times: true,
            history: true,
            ..Needs::default()
        }
    }

    fn name(&self) -> String {
        format!(
            "pool-predict:window={},quantile={},size={},refill={},ttl={}",
            fmt_duration(self.window as f64 * 60.0),
            self.quantile,
            self.size.map_or("auto".into(), |s| s.to_string()),
            fmt_duration(self.refill),
            fmt_duration(self.ttl)
        )
    }

    fn pools(&mut self) -> Option<&mut dyn PoolSizing> {
        Some(self)
    }
}

impl KeepAlive for PoolPredict {
    fn after_request(&mut self, _e: &Ended) -> Idle {
        Idle::keep(self.ttl)
    }
}

impl PoolSizing for PoolPredict {
    fn refill(&self) -> f64 {
        self.refill
    }

    fn size(&mut self, config: usize, minute: u32, last_demand: u32) -> u32 {
        if let Some(s) = self.size {
            return s;
        }
        if self.history.len() <= config {
            self.history.resize(config + 1, VecDeque::new());
        }
        let h = &mut self.history[config];
        if minute > 0 {
            h.push_back(last_demand);
            if h.len() > self.window {
                h.pop_front();
            }
        }
        nearest_rank(h.iter().copied(), self.quantile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v = [5u32, 1, 4, 2, 3];
        assert_eq!(nearest_rank(v.iter().copied(), 0.5), 3);
        assert_eq!(nearest_rank(v.iter().copied(), 0.95), 5);
        assert_eq!(nearest_rank(v.iter().copied(), 0.2), 1);
        assert_eq!(nearest_rank(std::iter::empty(), 0.9), 0);
    }
}
