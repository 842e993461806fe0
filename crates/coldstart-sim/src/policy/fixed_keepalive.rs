//! `fixed-keepalive:ttl=60s,restart=yes`: every pod stays loaded for `ttl` after its last
//! request ends, then is removed. 60 s is the platform's default (spec section 2); 10 minutes
//! is what other providers keep and the baseline wasted memory is normalised to; 2 hours is
//! the long end. With `restart=no` the window does not restart at each idle moment: it runs
//! from the pod's cold start, so a pod lives `ttl` (or until its last request ends).
//!
//! With `capacity=MB` the loaded pods are also bounded by memory, as `faascache`'s are: a
//! cold start that does not fit evicts idle pods, the one whose keep-alive ends soonest first
//! (with `restart=yes`, the least recently used by the end of its last request), so that the
//! fixed keep-alive can be compared with FaasCache at the same memory.
//!
//! With `concurrency=N` every function's pods take up to N requests at once instead of the
//! workload's own concurrency: per-function concurrency as a knob of the platform, which
//! `--sweep fixed-keepalive:concurrency=1..16` sweeps (fewer pods and cold starts as N
//! grows, while requests share a pod).

use super::{
    fmt_duration, limits, Catalogued, Ended, Eviction, Idle, KeepAlive, Params, Policy, Used,
};
use anyhow::bail;
use anyhow::Result;
use coldstart_trace::paper::KEEP_ALIVE_S;

/// The most requests a pod may take at once under `concurrency=N`.
pub const MAX_CONCURRENCY: u64 = 10_000;

pub struct FixedKeepAlive {
    pub ttl: f64,
    pub restart: bool,
    /// Memory (MB) the loaded pods must fit in, if bounded.
    pub capacity_mb: Option<f64>,
    /// Requests a pod takes at once, for every function (None: each function's own).
    pub concurrency: Option<u32>,
}

impl FixedKeepAlive {
    pub fn new(ttl: f64) -> Self {
        Self {
            ttl,
            restart: true,
            capacity_mb: None,
            concurrency: None,
        }
    }
}

impl Catalogued for FixedKeepAlive {
    const NAME: &'static str = "fixed-keepalive";
    const PARAMS: &'static str = "[:ttl=60s,restart=yes,capacity=MB,concurrency=N]";
    const SUMMARY: &'static str = "every pod stays loaded for `ttl` after its last request ends (the platform's default keep-alive; `restart=no` counts from the cold start; `capacity` bounds memory, evicting the idle pod nearest its end; `concurrency` sets the requests every pod takes at once)";

    fn from_params(p: &mut Params, _functions: usize) -> Result<Self> {
        let given = p.has("capacity");
        let capacity = p.number("capacity", 0.0, 1e9)?;
        if given && capacity <= 0.0 {
            bail!("fixed-keepalive: parameter capacity is the memory (MB) pods may hold, above 0 (e.g. capacity=65536; leave it out for no bound)");
        }
        let given = p.has("concurrency");
        let n = p.integer("concurrency", 0, MAX_CONCURRENCY)?;
        if given && n == 0 {
            bail!("fixed-keepalive: parameter concurrency is the requests a pod takes at once, 1 to {MAX_CONCURRENCY} (leave it out for each function's own)");
        }
        let concurrency = (n > 0).then_some(n as u32);
        Ok(Self {
            ttl: p.seconds("ttl", KEEP_ALIVE_S, limits::PERIOD)?,
            restart: p.flag("restart", true)?,
            capacity_mb: (capacity > 0.0).then_some(capacity),
            concurrency,
        })
    }
}

impl Policy for FixedKeepAlive {
    fn name(&self) -> String {
        let mut s = format!(
            "fixed-keepalive:ttl={},restart={}",
            fmt_duration(self.ttl),
            if self.restart { "yes" } else { "no" }
        );
        if let Some(c) = self.capacity_mb {
            s.push_str(&format!(",capacity={c}"));
        }
        if let Some(n) = self.concurrency {
            s.push_str(&format!(",concurrency={n}"));
        }
        s
    }

    fn concurrency(&self) -> Option<u32> {
        self.concurrency
    }

    fn per_function(&self) -> bool {
        self.capacity_mb.is_none()
    }

    fn fixed_keep_alive(&self) -> Option<f64> {
        (self.restart && self.capacity_mb.is_none()).then_some(self.ttl)
    }

    fn eviction(&mut self) -> Option<&mut dyn Eviction> {
        if self.capacity_mb.is_some() {
            Some(self)
        } else {
            None
        }
    }
}

impl KeepAlive for FixedKeepAlive {
    fn after_request(&mut self, e: &Ended) -> Idle {
        if self.restart {
            Idle::keep(self.ttl)
        } else {
            Idle::keep((e.pod_created + self.ttl - e.end).max(0.0))
        }
    }
}

impl Eviction for FixedKeepAlive {
    fn capacity_mb(&self) -> f64 {
        self.capacity_mb.unwrap_or(f64::INFINITY)
    }

    fn priority(&mut self, u: &Used) -> f64 {
        u.expire_at
    }
}
