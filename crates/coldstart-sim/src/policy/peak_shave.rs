//! `peak-shave:max-delay=30s,limit=auto,ttl=60s`: peak shaving, one of the strategies the
//! paper proposes (Joosen et al., EuroSys 2025, section 5): asynchronous invocations (never
//! synchronous ones) are held back while the platform is at its peak, so that they run on pods
//! freed later instead of starting new ones at the peak. While the requests in flight
//! (executing or waiting for a pod, over all functions) are at or above `limit`, an
//! asynchronous request is held; the first held is asked again when the earliest request in
//! flight ends and the others wait behind it in the order they came,
//! so a request waits past the whole peak, up to `max-delay` (at most a day) after it arrived
//! (its deadline: one that starts executing later, held to the deadline and then waiting for a
//! cold start, counts as a missed deadline). `limit=auto` learns the limit: the 90th percentile of the in-flight
//! counts seen at earlier arrivals (recomputed every 1,024 arrivals; nothing is held before
//! the first 1,024). Pods stay `ttl` after their last request, as with `fixed-keepalive`.

use super::{
    fmt_duration, limits, Admission, Catalogued, Ended, Idle, KeepAlive, Load, Params, Policy,
};
use crate::workload::Function;
use anyhow::{bail, Result};
use coldstart_trace::paper::KEEP_ALIVE_S;

const EVERY: u64 = 1024;

pub struct PeakShave {
    pub max_delay: f64,
    /// None: learned (`auto`).
    pub limit: Option<usize>,
    pub ttl: f64,
    /// In-flight counts seen at arrivals: counts[n] arrivals saw n in flight.
    seen: Vec<u64>,
    arrivals: u64,
    learned: Option<usize>,
}

impl PeakShave {
    fn p90(&self) -> usize {
        let total: u64 = self.seen.iter().sum();
        let want = (0.9 * total as f64).ceil() as u64;
        let mut acc = 0;
        for (n, c) in self.seen.iter().enumerate() {
            acc += c;
            if acc >= want {
                return n.max(1);
            }
        }
        self.seen.len().max(1)
    }
}

impl Catalogued for PeakShave {
    const NAME: &'static str = "peak-shave";
    const PARAMS: &'static str = "[:max-delay=30s,limit=auto,ttl=60s]";
    const SUMMARY: &'static str = "asynchronous requests are held while the requests in flight are at `limit`, up to the `max-delay` deadline (the paper's proposal)";

    fn from_params(p: &mut Params, _functions: usize) -> Result<Self> {
        let max_delay = p.seconds("max-delay", 30.0, limits::WINDOW)?;
        let ttl = p.seconds("ttl", KEEP_ALIVE_S, limits::PERIOD)?;
        let limit = match p.text("limit").as_deref() {
            None | Some("auto") => None,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => bail!("peak-shave: limit is auto or a number of requests, got '{v}'"),
            },
        };
        Ok(Self {
            max_delay,
            limit,
            ttl,
            seen: Vec::new(),
            arrivals: 0,
            learned: None,
        })
    }
}

impl Policy for PeakShave {
    fn name(&self) -> String {
        format!(
            "peak-shave:max-delay={},limit={},ttl={}",
            fmt_duration(self.max_delay),
            self.limit.map_or("auto".to_string(), |n| n.to_string()),
            fmt_duration(self.ttl)
        )
    }

    fn admission(&mut self) -> Option<&mut dyn Admission> {
        Some(self)
    }
}

impl Admission for PeakShave {
    fn delay(&mut self, _func: u32, _f: &Function, t: f64, waited: f64, load: &Load) -> f64 {
        let limit = match self.limit {
            Some(n) => Some(n),
            // Learned from arrivals only, not from the re-asks of held requests.
            None if waited > 0.0 => self.learned,
            None => {
                if self.seen.len() <= load.in_flight {
                    self.seen.resize(load.in_flight + 1, 0);
                }
                self.seen[load.in_flight] += 1;
                self.arrivals += 1;
                if self.arrivals.is_multiple_of(EVERY) {
                    self.learned = Some(self.p90());
                }
                self.learned
            }
        };
        // Held while the platform is at the limit: asked again when the earliest request in
        // flight ends, until the deadline (the engine asks only the first held request, so
        // this costs a question per request end while any is held).
        let left = self.max_delay - waited;
        match limit {
            Some(n) if load.in_flight >= n && load.next_end.is_finite() && left > 1e-9 => {
                (load.next_end - t).min(left)
            }
            _ => 0.0,
        }
    }

    fn deadline(&self) -> f64 {
        self.max_delay
    }
}

impl KeepAlive for PeakShave {
    fn after_request(&mut self, _e: &Ended) -> Idle {
        Idle::keep(self.ttl)
    }
}
