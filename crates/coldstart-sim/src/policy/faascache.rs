//! `faascache:capacity=MB,evict=gd`: keep-alive as caching (Fuerst and Sharma, "FaasCache:
//! keeping serverless computing alive with greedy-dual caching", ASPLOS 2021). Pods are never
//! removed for being idle; when a cold start needs memory the loaded pods do not leave, idle
//! pods are evicted lowest priority first (ties: the lower function index, then the older
//! pod). Each use sets the priority of all the function's loaded pods, as the paper's
//! simulator (`LambdaScheduler.calc_priority` and `runActivation` in `aFuerst/faascache-sim`)
//! does, from the function's frequency (the requests its loaded pods have served, so a pod
//! that leaves takes its requests with it) and its cold-start cost (the mean of its cold
//! starts so far, where the simulator has one cost per function). By `evict`:
//!
//! - `gd` (Greedy-Dual, the paper's policy): `clock + frequency x cold-start cost / memory`,
//!   the clock raised to the priority of each evicted pod;
//! - `freq`: `clock + frequency x cold-start cost` (Greedy-Dual without the size);
//! - `size`: `clock + frequency / memory` (Greedy-Dual without the cost);
//! - `lru`: the time of the function's latest request (least recently used first);
//! - `ttl`: the fixed keep-alive the paper compares against (`ttl`, 10 minutes by default,
//!   OpenWhisk's), bounded by the same capacity: a pod leaves `ttl` after its last request
//!   ends, and a cold start that does not fit evicts the idle pod whose keep-alive ends
//!   soonest (the least recently used by the end of its last request), pod by pod.
//!
//! These are the baselines of the paper's section 6 under one memory capacity. Where the
//! simulator drops a request that finds no room after evicting every idle pod, the request
//! here runs anyway (the memory above capacity counts in its peak).

use super::{
    fmt_duration, limits, Catalogued, Ended, Eviction, Idle, KeepAlive, Params, Policy, Used,
};
use anyhow::{bail, Result};

/// The eviction order of [`FaasCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evict {
    GreedyDual,
    Lru,
    Freq,
    Size,
    Ttl,
}

impl Evict {
    pub const ALL: [Evict; 5] = [
        Evict::GreedyDual,
        Evict::Lru,
        Evict::Freq,
        Evict::Size,
        Evict::Ttl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Evict::GreedyDual => "gd",
            Evict::Lru => "lru",
            Evict::Freq => "freq",
            Evict::Size => "size",
            Evict::Ttl => "ttl",
        }
    }
}

/// OpenWhisk's keep-alive, the paper's TTL baseline.
pub const PAPER_TTL_S: f64 = 600.0;

pub struct FaasCache {
    pub capacity_mb: f64,
    pub evict: Evict,
    /// The keep-alive of `evict=ttl`.
    pub ttl: f64,
    clock: f64,
    /// Each function's requests served by its loaded pods.
    freq: Vec<u64>,
    /// Each function's cold starts so far and their total cost (seconds): its cost is their
    /// mean, constant between its cold starts as the simulator's per-function cost is.
    cold: Vec<(u32, f64)>,
}

impl FaasCache {
    pub fn new(capacity_mb: f64, functions: usize) -> Self {
        Self::with(capacity_mb, Evict::GreedyDual, functions)
    }

    pub fn with(capacity_mb: f64, evict: Evict, functions: usize) -> Self {
        Self {
            capacity_mb,
            evict,
            ttl: PAPER_TTL_S,
            clock: 0.0,
            freq: vec![0; functions],
            cold: vec![(0, 0.0); functions],
        }
    }
}

impl Catalogued for FaasCache {
    const NAME: &'static str = "faascache";
    const PARAMS: &'static str = ":capacity=MB[,evict=gd,ttl=10m]";
    const SUMMARY: &'static str = "no removal for idling; a cold start that does not fit `capacity` evicts idle pods by Greedy-Dual priority, or by the paper's baselines `evict=lru|freq|size|ttl` (Fuerst and Sharma, ASPLOS 2021)";

    fn from_params(p: &mut Params, functions: usize) -> Result<Self> {
        let capacity = p.number("capacity", 0.0, 1e9)?;
        if capacity <= 0.0 {
            bail!(
                "faascache needs capacity=MB, the memory its pods may hold (e.g. capacity=65536)"
            );
        }
        let evict = match p.text("evict").as_deref() {
            None => Evict::GreedyDual,
            Some(v) => match Evict::ALL.into_iter().find(|e| e.name() == v) {
                Some(e) => e,
                None => {
                    bail!("faascache: parameter evict is gd, lru, freq, size or ttl, got '{v}'")
                }
            },
        };
        let mut c = Self::with(capacity, evict, functions);
        c.ttl = p.seconds("ttl", PAPER_TTL_S, limits::PERIOD)?;
        if c.ttl != PAPER_TTL_S && evict != Evict::Ttl {
            bail!("faascache: parameter ttl applies to evict=ttl only (add evict=ttl)");
        }
        Ok(c)
    }
}

impl Policy for FaasCache {
    fn name(&self) -> String {
        match self.evict {
            Evict::GreedyDual => format!("faascache:capacity={}", self.capacity_mb),
            Evict::Ttl => format!(
                "faascache:capacity={},evict=ttl,ttl={}",
                self.capacity_mb,
                fmt_duration(self.ttl)
            ),
            e => format!("faascache:capacity={},evict={}", self.capacity_mb, e.name()),
        }
    }

    fn eviction(&mut self) -> Option<&mut dyn Eviction> {
        Some(self)
    }
}

impl KeepAlive for FaasCache {
    fn after_request(&mut self, _e: &Ended) -> Idle {
        match self.evict {
            Evict::Ttl => Idle::keep(self.ttl),
            _ => Idle::keep(f64::INFINITY),
        }
    }
}

impl Eviction for FaasCache {
    fn capacity_mb(&self) -> f64 {
        self.capacity_mb
    }

    fn priority(&mut self, u: &Used) -> f64 {
        let fi = u.func as usize;
        self.freq[fi] += 1;
        let freq = self.freq[fi] as f64;
        let c = &mut self.cold[fi];
        if u.cold {
            *c = (c.0 + 1, c.1 + u.cold_cost);
        }
        let cost = if c.0 > 0 {
            c.1 / f64::from(c.0)
        } else {
            u.cold_cost
        };
        let size = f64::from(u.function.memory_mb.max(1));
        match self.evict {
            Evict::GreedyDual => self.clock + freq * cost / size,
            Evict::Freq => self.clock + freq * cost,
            Evict::Size => self.clock + freq / size,
            Evict::Lru => u.t,
            Evict::Ttl => u.expire_at,
        }
    }

    fn evicted(&mut self, priority: f64) {
        if matches!(self.evict, Evict::GreedyDual | Evict::Freq | Evict::Size) {
            self.clock = self.clock.max(priority);
        }
    }

    fn per_function(&self) -> bool {
        self.evict != Evict::Ttl
    }

    fn left(&mut self, func: u32, uses: u64) {
        let f = &mut self.freq[func as usize];
        *f = f.saturating_sub(uses);
    }
}
