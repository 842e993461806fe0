//! `timer-prewarm`: timer-aware pre-warming and dynamic keep-alive, the strategy the paper
//! proposes for timer-triggered functions (Joosen et al., EuroSys 2025, section 5). A timer
//! function learns its period from its own arrivals (the median of its last 8 gaps); when the
//! period is longer than the keep-alive, its pod is unloaded as soon as its requests end and
//! loaded again `lead` before the next expected firing, and kept `slack` past it (for late
//! firings). Until a period is known, a timer's pod is kept for up to `learn` so that the
//! second firing finds it. Every other function, and timers firing more often than the
//! keep-alive, get the fixed keep-alive `ttl`.

use super::{fmt_duration, limits, Catalogued, Ended, Idle, KeepAlive, Needs, Params, Policy};
use crate::workload::Function;
use anyhow::Result;
use coldstart_trace::paper::KEEP_ALIVE_S;

const GAPS: usize = 8;

#[derive(Clone, Default)]
struct State {
    last_arrival: Option<f64>,
    gaps: Vec<f64>,
    next_gap: usize,
}

impl State {
    fn period(&self) -> Option<f64> {
        if self.gaps.is_empty() {
            return None;
        }
        let mut g = self.gaps.clone();
        g.sort_by(f64::total_cmp);
        Some(g[g.len() / 2])
    }
}

pub struct TimerPrewarm {
    pub ttl: f64,
    pub lead: f64,
    pub slack: f64,
    pub learn: f64,
    states: Vec<State>,
}

impl TimerPrewarm {
    pub fn new(functions: usize) -> Self {
        Self {
            ttl: KEEP_ALIVE_S,
            lead: 5.0,
            slack: 30.0,
            learn: 3600.0,
            states: vec![State::default(); functions],
        }
    }
}

impl Catalogued for TimerPrewarm {
    const NAME: &'static str = "timer-prewarm";
    const PARAMS: &'static str = "[:ttl=60s,lead=5s,slack=30s,learn=1h]";
    const SUMMARY: &'static str = "a timer learns its period, is unloaded after each run and pre-warmed `lead` before the next (the paper's proposal)";

    fn from_params(p: &mut Params, functions: usize) -> Result<Self> {
        let d = Self::new(functions);
        Ok(Self {
            ttl: p.seconds("ttl", d.ttl, limits::PERIOD)?,
            lead: p.seconds("lead", d.lead, limits::SHORT)?,
            slack: p.seconds("slack", d.slack, limits::SHORT)?,
            learn: p.seconds("learn", d.learn, limits::PERIOD)?,
            states: d.states,
        })
    }
}

impl Policy for TimerPrewarm {
    fn needs(&self) -> Needs {
        Needs {
            history: true,
            ..Needs::default()
        }
    }

    fn name(&self) -> String {
        format!(
            "timer-prewarm:ttl={},lead={},slack={},learn={}",
            fmt_duration(self.ttl),
            fmt_duration(self.lead),
            fmt_duration(self.slack),
            fmt_duration(self.learn)
        )
    }

    fn per_function(&self) -> bool {
        true
    }
}

impl KeepAlive for TimerPrewarm {
    fn on_arrival(&mut self, func: u32, f: &Function, t: f64) {
        if !f.is_timer() {
            return;
        }
        let s = &mut self.states[func as usize];
        if let Some(last) = s.last_arrival {
            let gap = t - last;
            if s.gaps.len() < GAPS {
                s.gaps.push(gap);
            } else {
                s.gaps[s.next_gap] = gap;
                s.next_gap = (s.next_gap + 1) % GAPS;
            }
        }
        s.last_arrival = Some(t);
    }

    fn after_request(&mut self, e: &Ended) -> Idle {
        if !e.function.is_timer() {
            return Idle::keep(self.ttl);
        }
        let s = &self.states[e.func as usize];
        let Some(period) = s.period() else {
            return Idle::keep(self.learn.max(self.ttl));
        };
        if period <= self.ttl {
            return Idle::keep(self.ttl);
        }
        let next = s.last_arrival.unwrap_or(e.arrival) + period;
        let unload_for = (next - self.lead - e.end).max(0.0);
        Idle {
            unload_for,
            keep_for: (next + self.slack - (e.end + unload_for)).max(0.0),
        }
    }
}
