//! `forecast-prewarm:ttl=60s,min-rpm=10,window=5m,lead=10s`: forecasting pre-warm for
//! high-request functions, the strategy the paper points to for functions whose cold starts
//! come from autoscaling (Joosen et al., EuroSys 2025, section 5: high-request functions with
//! large peak-to-trough ratios "potentially benefiting from periodic time series
//! predictions").
//!
//! Each function's requests in flight are followed from its own requests (an arrival, and the
//! end of its pod's requests); per minute the policy keeps the most that were in flight at
//! once. A function is high-request while its last 24 hours held at least `min-rpm` requests
//! a minute on average. For such a function with a day of history, the pods it needs in
//! minute `m` are forecast by the daily season: the most requests in flight in the minutes
//! `m - 1440 +- window` (yesterday around the same time), over its pods' concurrency. The
//! engine starts the missing pods `lead` before the minute begins (each a cold start no
//! request waits for, unless it arrives before the pod is ready) and keeps that many pods
//! loaded to the minute's end. Every pod then follows the fixed keep-alive `ttl`. Pods it
//! starts count as pre-warms; one that serves nothing counts as a pod of utility 0.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{
    fmt_duration, limits, Catalogued, Ended, Idle, KeepAlive, Needs, Params, Policy, Provisioning,
};
use crate::workload::Function;
use anyhow::Result;
use coldstart_trace::paper::KEEP_ALIVE_S;

/// Minutes in the daily season.
const DAY: u32 = 1440;

/// What the policy knows of one function (kept once it has a request).
struct Seen {
    /// Per minute, (requests arrived, most in flight at once), for the minutes
    /// `(cur - ring.len(), cur]`.
    ring: Vec<(u32, u32)>,
    /// The latest minute written.
    cur: u32,
    /// The first minute with a request.
    first: u32,
    /// Requests over the last 1,440 minutes up to `cur`.
    day_sum: u64,
    /// Ends of its requests in flight (f64 bits).
    ends: BinaryHeap<Reverse<u64>>,
    concurrency: u32,
}

impl Seen {
    fn new(minute: u32, ring: usize, concurrency: u32) -> Self {
        Self {
            ring: vec![(0, 0); ring],
            cur: minute,
            first: minute,
            day_sum: 0,
            ends: BinaryHeap::new(),
            concurrency: concurrency.max(1),
        }
    }

    fn slot(&self, minute: u32) -> usize {
        minute as usize % self.ring.len()
    }

    /// Moves the ring on to `minute` (empty minutes in between).
    fn advance(&mut self, minute: u32) {
        if minute <= self.cur {
            return;
        }
        if minute - self.cur >= self.ring.len() as u32 {
            self.ring.fill((0, 0));
            self.day_sum = 0;
            self.cur = minute;
            return;
        }
        while self.cur < minute {
            self.cur += 1;
            // Minute cur - 1440 leaves the last day (the ring is longer than a day).
            if let Some(out) = self.cur.checked_sub(DAY) {
                self.day_sum -= u64::from(self.ring[self.slot(out)].0);
            }
            let s = self.slot(self.cur);
            self.ring[s] = (0, 0);
        }
    }
}

pub struct ForecastPrewarm {
    pub ttl: f64,
    pub min_rpm: f64,
    /// Minutes either side of yesterday's same minute.
    pub window: u32,
    pub lead: f64,
    seen: Vec<Option<Seen>>,
    /// Functions with a [`Seen`], in the order first seen.
    active: Vec<u32>,
}

impl Catalogued for ForecastPrewarm {
    const NAME: &'static str = "forecast-prewarm";
    const PARAMS: &'static str = "[:ttl=60s,min-rpm=10,window=5m,lead=10s]";
    const SUMMARY: &'static str = "a high-request function's pods for each minute are forecast from yesterday's peak concurrency around that minute and started `lead` ahead (the paper's proposal)";

    fn from_params(p: &mut Params, functions: usize) -> Result<Self> {
        let window = p.seconds("window", 300.0, limits::SHORT)?;
        Ok(Self {
            ttl: p.seconds("ttl", KEEP_ALIVE_S, limits::PERIOD)?,
            min_rpm: p.number("min-rpm", 10.0, 1e9)?,
            window: (window / 60.0).round() as u32,
            lead: p.seconds("lead", 10.0, limits::SHORT)?,
            seen: (0..functions).map(|_| None).collect(),
            active: Vec::new(),
        })
    }
}

impl ForecastPrewarm {
    /// Minutes a function's ring holds: yesterday's window must still be in it.
    fn ring_len(&self) -> usize {
        (DAY + self.window + 2) as usize
    }

    fn seen(&mut self, func: u32, minute: u32, concurrency: u32) -> &mut Seen {
        let ring = self.ring_len();
        let slot = &mut self.seen[func as usize];
        if slot.is_none() {
            *slot = Some(Seen::new(minute, ring, concurrency));
            self.active.push(func);
        }
        let s = slot.as_mut().expect("just set");
        s.advance(minute);
        s
    }
}

impl Provisioning for ForecastPrewarm {
    fn lead(&self) -> f64 {
        self.lead
    }

    /// The forecast pods of each high-request function with a day of history for `minute`
    /// (functions with none are left out).
    fn targets(&mut self, minute: u32, out: &mut Vec<(u32, u32)>) {
        let w = self.window;
        let need = self.min_rpm * f64::from(DAY);
        for &func in &self.active {
            let s = self.seen[func as usize].as_mut().expect("active");
            s.advance(minute.saturating_sub(1));
            let Some(centre) = minute.checked_sub(DAY) else {
                continue;
            };
            if s.first + w > centre || (s.day_sum as f64) < need {
                continue;
            }
            let peak = (centre - w..=centre + w)
                .map(|m| s.ring[s.slot(m)].1)
                .max()
                .unwrap_or(0);
            let pods = peak.div_ceil(s.concurrency);
            if pods > 0 {
                out.push((func, pods));
            }
        }
    }
}

impl Policy for ForecastPrewarm {
    fn needs(&self) -> Needs {
        Needs {
            history: true,
            ..Needs::default()
        }
    }

    fn name(&self) -> String {
        format!(
            "forecast-prewarm:ttl={},min-rpm={},window={},lead={}",
            fmt_duration(self.ttl),
            self.min_rpm,
            fmt_duration(f64::from(self.window) * 60.0),
            fmt_duration(self.lead)
        )
    }

    fn per_function(&self) -> bool {
        true
    }

    fn provisioning(&mut self) -> Option<&mut dyn Provisioning> {
        Some(self)
    }
}

impl KeepAlive for ForecastPrewarm {
    fn on_arrival(&mut self, func: u32, f: &Function, t: f64) {
        let minute = (t / 60.0).floor().max(0.0) as u32;
        let s = self.seen(func, minute, f.concurrency);
        let slot = s.slot(minute);
        s.ring[slot].0 += 1;
        s.day_sum += 1;
    }

    fn after_request(&mut self, e: &Ended) -> Idle {
        let minute = (e.arrival / 60.0).floor().max(0.0) as u32;
        let s = self.seen(e.func, minute, e.function.concurrency);
        while s
            .ends
            .peek()
            .is_some_and(|x| f64::from_bits(x.0) <= e.arrival)
        {
            s.ends.pop();
        }
        s.ends.push(Reverse(e.end.max(0.0).to_bits()));
        let slot = s.slot(minute);
        let in_flight = s.ends.len() as u32;
        s.ring[slot].1 = s.ring[slot].1.max(in_flight);
        Idle::keep(self.ttl)
    }
}
