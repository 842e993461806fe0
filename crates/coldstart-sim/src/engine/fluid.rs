//! Functions that the workload gives minute by minute: a function never idle a keep-alive
//! long, under a policy that only keeps every idle pod a fixed time, is replayed by the fluid
//! model of [`crate::fluid`] instead of request by request. Its cold starts, pods and their
//! lives, idle time, utilities and requests go into the same metrics and events as the
//! requests the engine serves one by one.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::fluid::{Fluid, FluidFunction, PodLife};
use crate::profile::LogNormal;

/// One day of a function that the workload gives minute by minute.
#[derive(Debug, Clone)]
pub struct FluidDay {
    pub func: u32,
    pub day: u32,
    /// Arrival rate (requests/s) of each minute of the day, and the requests drawn for it.
    pub rates: Vec<f64>,
    pub requests: Vec<u32>,
    /// The law of one request's execution time.
    pub exec: LogNormal,
    /// Seeds the draws of the function's pods (the same in every replay of the workload).
    pub seed: u64,
}

impl FluidDay {
    /// The day's requests one by one, for a replay that cannot take it minute by minute: each
    /// minute's requests at uniform times in it, execution times from the law, drawn from
    /// `rng`.
    pub fn invocations<R: Rng>(&self, rng: &mut R) -> Vec<Invocation> {
        let d0 = f64::from(self.day) * SECONDS_PER_DAY;
        let total: u64 = self.requests.iter().map(|n| u64::from(*n)).sum();
        let mut out = Vec::with_capacity(total as usize);
        for (m, n) in self.requests.iter().enumerate() {
            let start = out.len();
            let t0 = d0 + m as f64 * 60.0;
            for _ in 0..*n {
                out.push(Invocation {
                    t: micros(t0 + rng.gen::<f64>() * 60.0),
                    func: self.func,
                    exec: 0.0,
                });
            }
            out[start..].sort_unstable_by(|a, b| a.t.total_cmp(&b.t));
        }
        for inv in &mut out {
            inv.exec = micros(crate::costs::ln_sample(rng, self.exec, 1.0)).max(1e-6);
        }
        out
    }
}

/// A function the engine replays minute by minute.
#[derive(Debug, Clone)]
pub(super) struct FluidState {
    model: Fluid,
    rng: ChaCha8Rng,
    /// Each pod's cold-start cost, by serial.
    cold_cost: Vec<f64>,
    ended: Vec<PodLife>,
    /// The execution times (us) at which a minute's requests enter the latency histogram.
    latency_points: [f64; LATENCY_POINTS],
}

/// Quantiles at which a fluid minute's requests are entered in the latency histogram.
const LATENCY_POINTS: usize = 16;

impl<E: Events> Engine<'_, E> {
    /// The keep-alive under which this engine replays a function minute by minute: the
    /// policy's, when all it does is keep every idle pod that long.
    pub fn fluid_keep_alive(&self) -> Option<f64> {
        self.policy.fixed_keep_alive()
    }

    /// Replays one day of a function given minute by minute. The policy must keep every idle
    /// pod a fixed time ([`Engine::fluid_keep_alive`]).
    pub fn fluid_day(&mut self, d: &FluidDay) {
        let keep_alive = self
            .fluid_keep_alive()
            .expect("minute-by-minute functions need a fixed keep-alive");
        let fi = d.func as usize;
        let mean_exec = d.exec.mean();
        if self.state[fi].fluid.is_none() {
            let f = FluidFunction {
                mean_exec,
                concurrency: self.state[fi].concurrency,
                keep_alive,
                routing: self.routing,
            };
            self.state[fi].fluid = Some(Box::new(FluidState {
                model: Fluid::new(f),
                rng: ChaCha8Rng::seed_from_u64(d.seed),
                cold_cost: Vec::new(),
                ended: Vec::new(),
                latency_points: std::array::from_fn(|q| {
                    d.exec.quantile((q as f64 + 0.5) / LATENCY_POINTS as f64)
                }),
            }));
        }
        let mb = self.functions[fi].memory_mb;
        let conc = self.state[fi].concurrency;
        let d0 = f64::from(d.day) * SECONDS_PER_DAY;
        for (m, (&rate, &n)) in d.rates.iter().zip(&d.requests).enumerate() {
            let start = d0 + m as f64 * 60.0;
            let first_k = self.state[fi].seen;
            let costs = self.costs;
            let st = self.state[fi].fluid.as_mut().expect("made above");
            let mut ended = std::mem::take(&mut st.ended);
            // Each cold start's cost, asked as the model starts its pod (the pod takes other
            // requests once it is ready).
            let mut drawn: Vec<[f64; 5]> = Vec::new();
            let mut cold = |t: f64| {
                let c = costs.cold_start_at(d.func, first_k + drawn.len() as u64, t);
                drawn.push(c);
                c[0]
            };
            let out = st.model.minute_of(
                &mut st.rng,
                start,
                rate,
                u64::from(n),
                &mut ended,
                &mut cold,
            );
            // Every cold start is one of the minute's requests.
            debug_assert!(out.cold_starts.len() as u64 <= out.requests);
            let requests = out.requests;
            self.state[fi].seen += requests;
            let mut cold_latency = 0.0;
            for (j, &t) in out.cold_starts.iter().enumerate() {
                let k = first_k + j as u64;
                // First-fit's pods are ready at once: their costs are asked here.
                let c = match drawn.get(j) {
                    Some(c) => *c,
                    None => self.costs.cold_start_at(d.func, k, t),
                };
                let pod = out.first_serial + j as u64;
                self.loaded_mb += f64::from(mb);
                self.count_cold_start(fi, t, c[0]);
                cold_latency += c[0];
                let st = self.state[fi].fluid.as_mut().expect("made above");
                debug_assert_eq!(st.cold_cost.len() as u64, pod);
                st.cold_cost.push(c[0]);
                self.events.cold_start(&ColdStartEvent {
                    func: d.func,
                    k,
                    t,
                    pod,
                    costs: c,
                });
            }
            // Pods loaded over the minute: idle while none of their requests is in flight.
            let a = rate.max(0.0) * mean_exec;
            let pods = f64::from(out.loaded);
            let busy = if conc <= 1 {
                a.min(pods)
            } else {
                pods * (1.0 - (-a / pods.max(1.0)).exp())
            };
            self.add_idle(fi, 60.0 * (pods - busy));
            for p in ended.drain(..) {
                self.fluid_retire(fi, p, keep_alive);
            }
            self.state[fi].fluid.as_mut().expect("made above").ended = ended;
            self.metrics.per_function[fi].invocations += requests;
            self.metrics.events += requests;
            if self.latencies && requests > 0 {
                // The minute's requests at evenly spaced quantiles of their law; the cold
                // starts' waits on the first.
                let per = requests / LATENCY_POINTS as u64;
                let extra = requests % LATENCY_POINTS as u64;
                let points = self.state[fi]
                    .fluid
                    .as_ref()
                    .expect("made above")
                    .latency_points;
                for (q, point) in points.into_iter().enumerate() {
                    let count = per + u64::from((q as u64) < extra);
                    if count == 0 {
                        continue;
                    }
                    let mut v = point;
                    if q == 0 {
                        v += cold_latency / count as f64;
                    }
                    self.metrics.latency_us.saturating_record_n(us(v), count);
                }
            }
            self.events.fluid_minute(&FluidMinuteEvent {
                func: d.func,
                start,
                requests,
                loaded: out.loaded,
                first_k,
            });
        }
    }

    /// A pod of a fluid function left: its loaded stretch, its last keep-alive idle, and its
    /// utility ratio (its last request a keep-alive before it left).
    fn fluid_retire(&mut self, fi: usize, p: PodLife, keep_alive: f64) {
        let mb = self.functions[fi].memory_mb;
        self.loaded_mb -= f64::from(mb);
        let at = p.ended.min(self.end_of_trace);
        self.loaded(p.created, at, mb);
        let last_request = (p.ended - keep_alive).max(p.created);
        self.add_idle(fi, at - last_request);
        let st = self.state[fi].fluid.as_ref().expect("a fluid function");
        let cold = st.cold_cost.get(p.serial as usize).copied().unwrap_or(0.0);
        let utility = (cold > 0.0).then(|| (last_request - p.created) / cold);
        self.pod_left(fi, p.serial, at, utility);
    }

    /// At the end of the trace: the fluid functions' pods still loaded leave.
    pub(super) fn finish_fluid(&mut self) {
        for fi in 0..self.state.len() {
            let Some(st) = self.state[fi].fluid.as_mut() else {
                continue;
            };
            let keep_alive = st.model.keep_alive();
            let mut ended = Vec::new();
            st.model.finish(self.end_of_trace, &mut ended);
            for p in ended {
                // Loaded to the end: its last request came a moment before.
                let p = PodLife {
                    ended: p.ended + keep_alive,
                    ..p
                };
                self.fluid_retire(fi, p, keep_alive);
            }
        }
    }
}
