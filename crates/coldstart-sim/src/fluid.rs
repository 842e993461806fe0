//! A function that is never idle long enough to go cold, minute by minute: a fluid model of its
//! pods, for the functions of the trace that take thousands of requests a second for
//! milliseconds each (replaying them request by request would cost an hour a month of trace).
//!
//! The mechanism, per minute of constant arrival rate `λ` (requests/s, Poisson) and mean
//! execution time `E[S]` far below the keep-alive `K`: the requests in flight are those of an
//! M/G/∞ queue, Poisson with mean `a = λ E[S]` whatever the law of `S` (its insensitivity),
//! and a request that finds every pod full starts one cold.
//! - **First-fit** routing (the oldest pod with room) packs the requests into the oldest pods,
//!   so the `N`-th pod is used only when the requests in flight pass `(N-1) c`, and it is
//!   unloaded `K` after that last happened: the pods loaded are the most requests in flight
//!   over the last `K` seconds, in pods of `c`. The minute is cut into blocks of [`BLOCK`]
//!   seconds, each far longer than a request, whose largest number in flight is drawn from
//!   its law: below `L` at the block's start (Poisson) and not crossing up to `L` inside it,
//!   which an arrival finding `L - 1` does at rate `λ P(X = L-1)` (Poisson arrivals see time
//!   averages). A block whose peak needs more pods than the window behind it held starts the
//!   difference cold; pods leave, newest first, as the peaks that needed them leave the window.
//! - **Spread** routing (the pod sent a request least recently) keeps every pod busy: each
//!   takes every `N`-th request. Pods are born at rate `λ B(N c, a)`, the requests that an
//!   Erlang loss system of `N c` servers turns away (Erlang's B), and one dies when the gap
//!   to its next request, the time for `N` arrivals, passes `K`: at rate `λ P(Poisson(λK) < N)`.
//!   This birth-death chain is drawn event by event, its rates changing at each minute. While
//!   `λK` is far above `N` a spread function never loses a pod; a minute without requests
//!   ends every pod a keep-alive after the last request.
//!
//! Either way a minute costs a few dozen draws instead of one per request.
//! `tests/integration/fluid.rs` checks the model against the exact engine on such functions.

use std::collections::VecDeque;

use rand::Rng;
use rand_distr::{Distribution, Exp1, Poisson};
use statrs::distribution::{Discrete, DiscreteCDF, Poisson as PoissonLaw};

use crate::engine::Routing;

/// What the fluid model needs of a function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FluidFunction {
    /// Mean execution time of a request (s).
    pub mean_exec: f64,
    /// Requests one pod serves at once (at least 1).
    pub concurrency: u32,
    /// Seconds an idle pod stays loaded.
    pub keep_alive: f64,
    pub routing: Routing,
}

/// A pod that ended: its serial among the function's pods (from 0, in the order they were
/// started), when it was started cold and when it was unloaded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodLife {
    pub serial: u64,
    pub created: f64,
    pub ended: f64,
}

/// One minute of a fluid function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FluidMinute {
    /// Requests that arrived in it.
    pub requests: u64,
    /// Pods loaded at some time in it (the engine's running pods of the minute).
    pub loaded: u32,
    /// When its cold starts happened, in order; their pods' serials follow on from
    /// `first_serial`.
    pub cold_starts: Vec<f64>,
    pub first_serial: u64,
}

/// Erlang's loss formula: the probability that a request finds all `servers` busy when
/// requests in flight would number `load` on average without a limit. From the series
/// `1/B = Σ_j n! / ((n-j)! a^j)`, stopped once its terms no longer count (0 where the sum
/// passes 1e250: no such request in the age of the universe).
pub fn erlang_b(servers: u64, load: f64) -> f64 {
    if load <= 0.0 {
        return if servers == 0 { 1.0 } else { 0.0 };
    }
    let n = servers as f64;
    let (mut sum, mut term) = (1.0f64, 1.0f64);
    let mut j = 0.0;
    while j < n {
        term *= (n - j) / load;
        sum += term;
        if sum > 1e250 {
            return 0.0;
        }
        if term < sum * 1e-17 && n - j < load {
            break;
        }
        j += 1.0;
    }
    1.0 / sum
}

/// One fluid function's pods, carried from minute to minute.
#[derive(Debug, Clone)]
pub struct Fluid {
    f: FluidFunction,
    /// When each loaded pod was started, its serial, and when it was ready to take requests
    /// besides the one that started it.
    pods: Vec<(f64, u64, f64)>,
    /// Pods started so far (the next pod's serial).
    started: u64,
    /// When the pods still starting are ready, soonest last (spread).
    starting: Vec<f64>,
    /// When the last request arrived (spread).
    last_request: f64,
    /// The pods each block of the last keep-alive needed, largest first from the back: a
    /// monotonic queue of (block, pods) (first-fit).
    window: VecDeque<(u64, u32)>,
    /// Blocks drawn so far (first-fit).
    blocks: u64,
    /// The law of a block's peak at the current rate, reused while the rate holds.
    peak_law: PeakLaw,
}

/// Seconds in a block of first-fit's window: far longer than the requests of a fluid function
/// (their peaks in flight are about independent from one block to the next) and short against
/// the keep-alive.
pub const BLOCK: f64 = 2.0;

/// The law of the most requests in flight over a block: `cdf[i]` is the probability that the
/// peak is at most `from + i`.
#[derive(Debug, Clone, Default)]
struct PeakLaw {
    key: (u64, u64),
    from: u64,
    cdf: Vec<f64>,
}

impl PeakLaw {
    /// For arrivals at `rate` per s and `a` requests in flight on average. From the mode up
    /// (below it a block's peak falls with the chance of no arrival finding the mode in
    /// `BLOCK` seconds, which for a fluid function is nil) until the tail is under 1e-12.
    fn build(rate: f64, a: f64) -> Self {
        let key = (rate.to_bits(), a.to_bits());
        if a <= 0.0 {
            return Self {
                key,
                from: 0,
                cdf: vec![1.0],
            };
        }
        let law = PoissonLaw::new(a).expect("positive mean");
        let from = a.floor() as u64;
        let mut pmf = law.pmf(from);
        let mut below = law.cdf(from);
        let mut cdf = Vec::new();
        let mut l = from;
        // P(peak <= l) = P(X <= l at the start) * P(no arrival finds l in the block).
        loop {
            let p = below * (-BLOCK * rate * pmf).exp();
            let p = p.max(cdf.last().copied().unwrap_or(0.0));
            cdf.push(p);
            if 1.0 - p < 1e-12 || cdf.len() > 1_000_000 {
                break;
            }
            l += 1;
            pmf *= a / l as f64;
            below += pmf;
        }
        Self { key, from, cdf }
    }

    fn sample(&self, u: f64) -> u64 {
        self.from
            + self
                .cdf
                .partition_point(|p| *p <= u)
                .min(self.cdf.len() - 1) as u64
    }
}

impl Fluid {
    pub fn new(f: FluidFunction) -> Self {
        Self {
            f: FluidFunction {
                concurrency: f.concurrency.max(1),
                ..f
            },
            pods: Vec::new(),
            started: 0,
            starting: Vec::new(),
            last_request: f64::NEG_INFINITY,
            window: VecDeque::new(),
            blocks: 0,
            peak_law: PeakLaw::default(),
        }
    }

    /// Seconds an idle pod stays loaded.
    pub fn keep_alive(&self) -> f64 {
        self.f.keep_alive
    }

    /// Pods loaded now.
    pub fn pods(&self) -> usize {
        self.pods.len()
    }

    /// Starts a pod cold at `t`, ready at once (see [`Fluid::minute_of`] for one that is not).
    fn start_pod(&mut self, t: f64, out: &mut FluidMinute) {
        self.pods.push((t, self.started, t));
        self.started += 1;
        out.cold_starts.push(t);
        out.loaded += 1;
    }

    /// Spread routing's pod birth and death rates with `n` pods loaded, `ready` of them done
    /// starting, at arrival rate `rate` (per s): a pod still starting holds the request that
    /// started it, so the others find room only in the ready ones and in its other `c - 1`
    /// places (where they wait for it).
    pub fn spread_rates(&self, ready: usize, n: usize, rate: f64) -> (f64, f64) {
        let c = u64::from(self.f.concurrency);
        let a = rate * self.f.mean_exec;
        let n64 = n as u64;
        let servers = ready as u64 * c + (n - ready.min(n)) as u64 * (c - 1);
        let birth = rate * erlang_b(servers, a);
        let death = if n == 0 {
            0.0
        } else {
            let mean = rate * self.f.keep_alive;
            if mean > 0.0 {
                let law = PoissonLaw::new(mean).expect("positive mean");
                rate * law.cdf(n64 - 1)
            } else {
                0.0
            }
        };
        (birth, death)
    }

    /// The requests of a minute at `rate` requests a second (Poisson; none at a rate that is
    /// not a positive number).
    pub fn requests<R: Rng>(rng: &mut R, rate: f64) -> u64 {
        if rate > 0.0 && rate.is_finite() {
            Poisson::new(rate * 60.0)
                .expect("positive rate")
                .sample(rng) as u64
        } else {
            0
        }
    }

    /// The minute from `start` (s) at `rate` requests a second, drawing its requests
    /// ([`Fluid::requests`]), with pods ready the moment they start: its requests, its pods
    /// and its cold starts; pods that end in it are added to `ended`.
    pub fn minute<R: Rng>(
        &mut self,
        rng: &mut R,
        start: f64,
        rate: f64,
        ended: &mut Vec<PodLife>,
    ) -> FluidMinute {
        let requests = Self::requests(rng, rate);
        self.minute_of(rng, start, rate, requests, ended, &mut |_| 0.0)
    }

    /// [`Fluid::minute`] with its `requests` drawn already (by the workload, so that every
    /// policy replayed sees the same), each cold start at `t` taking `cold(t)` seconds before
    /// its pod takes other requests (spread; first-fit takes pods as ready at once).
    pub fn minute_of<R: Rng>(
        &mut self,
        rng: &mut R,
        start: f64,
        rate: f64,
        requests: u64,
        ended: &mut Vec<PodLife>,
        cold: &mut dyn FnMut(f64) -> f64,
    ) -> FluidMinute {
        let rate = if rate > 0.0 && rate.is_finite() && requests > 0 {
            rate
        } else {
            0.0
        };
        let mut out = FluidMinute {
            requests,
            loaded: self.pods.len() as u32,
            cold_starts: Vec::new(),
            first_serial: self.started,
        };
        match self.f.routing {
            Routing::FirstFit => self.first_fit_minute(rng, start, rate, &mut out, ended),
            Routing::Spread => self.spread_minute(rng, start, rate, &mut out, ended, cold),
        }
        out
    }

    /// First-fit: block by block, the pods loaded are the most any block of the window needed.
    fn first_fit_minute<R: Rng>(
        &mut self,
        rng: &mut R,
        start: f64,
        rate: f64,
        out: &mut FluidMinute,
        ended: &mut Vec<PodLife>,
    ) {
        let a = rate * self.f.mean_exec;
        if self.peak_law.key != (rate.to_bits(), a.to_bits()) {
            self.peak_law = PeakLaw::build(rate, a);
        }
        let c = u64::from(self.f.concurrency);
        let span = (self.f.keep_alive / BLOCK).round().max(1.0) as u64;
        let per_minute = (60.0 / BLOCK).round() as u64;
        for j in 0..per_minute {
            let t0 = start + j as f64 * BLOCK;
            let b = self.blocks;
            self.blocks += 1;
            // Peaks older than a keep-alive no longer hold a pod.
            while self.window.front().is_some_and(|(k, _)| *k + span <= b) {
                self.window.pop_front();
            }
            let held = self.window.front().map_or(0, |w| w.1) as usize;
            while self.pods.len() > held {
                let (created, serial, _) = self.pods.pop().expect("a pod");
                ended.push(PodLife {
                    serial,
                    created,
                    ended: t0,
                });
            }
            let peak = if rate > 0.0 {
                self.peak_law.sample(rng.gen())
            } else {
                0
            };
            let need = peak.div_ceil(c) as u32;
            // Each cold start is one of the minute's requests.
            let left = out.requests.saturating_sub(out.cold_starts.len() as u64) as usize;
            let born = (need as usize).saturating_sub(self.pods.len()).min(left);
            if born > 0 {
                let mut at: Vec<f64> = (0..born).map(|_| t0 + rng.gen::<f64>() * BLOCK).collect();
                at.sort_unstable_by(f64::total_cmp);
                for t in at {
                    self.start_pod(t, out);
                }
            }
            // What the block holds: fewer pods than it needed when the minute ran out of
            // requests to start them.
            let need = need.min(self.pods.len() as u32);
            while self.window.back().is_some_and(|(_, p)| *p <= need) {
                self.window.pop_back();
            }
            self.window.push_back((b, need));
        }
    }

    /// Spread: the birth-death chain, event by event.
    fn spread_minute<R: Rng>(
        &mut self,
        rng: &mut R,
        start: f64,
        rate: f64,
        out: &mut FluidMinute,
        ended: &mut Vec<PodLife>,
        cold: &mut dyn FnMut(f64) -> f64,
    ) {
        let end = start + 60.0;
        if out.requests == 0 {
            // Nothing to keep them: every pod goes a keep-alive after the last request.
            let at = (self.last_request + self.f.keep_alive).max(start);
            if at < end {
                self.finish(at, ended);
            }
            return;
        }
        // The last of `n` uniform arrivals in the minute.
        let u: f64 = rng.gen();
        self.last_request = start + 60.0 * u.powf(1.0 / out.requests as f64);
        let mut t = start;
        loop {
            // Pods that finished starting by `t` take requests.
            while self.starting.last().is_some_and(|r| *r <= t) {
                self.starting.pop();
            }
            let ready = self.pods.len() - self.starting.len();
            let (mut birth, mut death) = self.spread_rates(ready, self.pods.len(), rate);
            if out.cold_starts.len() as u64 >= out.requests {
                // Each cold start is one of the minute's requests.
                birth = 0.0;
            }
            if ready == 0 {
                // A pod still starting holds the request that started it: it does not idle.
                death = 0.0;
            }
            let total = birth + death;
            let next_ready = self.starting.last().copied().unwrap_or(f64::INFINITY);
            if total <= 0.0 {
                if next_ready < end {
                    t = next_ready;
                    continue;
                }
                break;
            }
            let wait: f64 = Exp1.sample(rng);
            let at = t + wait / total;
            if next_ready < at.min(end) {
                // The rates change when a pod is ready; the chain forgets its wait.
                t = next_ready;
                continue;
            }
            t = at;
            if t >= end {
                break;
            }
            if rng.gen::<f64>() * total < birth {
                self.start_pod(t, out);
                let ready_at = t + cold(t).max(0.0);
                if ready_at > t {
                    self.pods.last_mut().expect("just started").2 = ready_at;
                    let i = self.starting.partition_point(|r| *r > ready_at);
                    self.starting.insert(i, ready_at);
                }
            } else {
                // One of the ready pods (at least one is).
                let i = loop {
                    let i = rng.gen_range(0..self.pods.len());
                    if self.pods[i].2 <= t {
                        break i;
                    }
                };
                let (created, serial, _) = self.pods.swap_remove(i);
                ended.push(PodLife {
                    serial,
                    created,
                    ended: t,
                });
            }
        }
    }

    /// Ends every pod still loaded at `t` (the end of the trace, or a keep-alive after the
    /// last request).
    pub fn finish(&mut self, t: f64, ended: &mut Vec<PodLife>) {
        self.starting.clear();
        for (created, serial, _) in self.pods.drain(..) {
            ended.push(PodLife {
                serial,
                created,
                ended: t,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_by_hand_and_by_its_recursion() {
        // B(1, a) = a / (1 + a); B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2.
        assert!((erlang_b(1, 3.0) - 0.75).abs() < 1e-15);
        assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-15);
        assert_eq!(erlang_b(0, 2.0), 1.0);
        assert_eq!(erlang_b(3, 0.0), 0.0);
        // The textbook recursion B(n) = a B(n-1) / (n + a B(n-1)), over loads from light to
        // heavy and servers from few to many.
        for a in [0.05, 1.0, 7.5, 120.0, 900.0] {
            let mut b = 1.0f64;
            for n in 1..=1200u64 {
                b = a * b / (n as f64 + a * b);
                let got = erlang_b(n, a);
                let tol = 1e-9 * b + 1e-249;
                assert!((got - b).abs() <= tol, "B({n}, {a}) = {got}, recursion {b}");
            }
        }
        // Far past the load: no request is ever turned away.
        assert_eq!(erlang_b(400, 1.0), 0.0);
    }

    #[test]
    fn a_minute_without_requests_ends_the_pods_a_keep_alive_after_the_last() {
        for routing in [Routing::FirstFit, Routing::Spread] {
            let mut f = Fluid::new(FluidFunction {
                mean_exec: 0.05,
                concurrency: 1,
                keep_alive: 60.0,
                routing,
            });
            let mut rng = crate::rng::stream(1, 0, 0);
            let mut ended = Vec::new();
            let busy = f.minute(&mut rng, 0.0, 40.0, &mut ended);
            assert!(busy.requests > 0 && f.pods() > 0);
            assert_eq!(busy.cold_starts.len(), f.pods() + ended.len());
            let n = f.pods();
            let before = ended.len();
            // The next minute is quiet: every pod ends inside it, a keep-alive after it was
            // last needed (first-fit: the block of its last peak; spread: the last request).
            let quiet = f.minute(&mut rng, 60.0, 0.0, &mut ended);
            assert_eq!((quiet.requests, quiet.loaded as usize), (0, n));
            assert!(quiet.cold_starts.is_empty());
            assert_eq!(f.pods(), 0);
            assert_eq!(ended.len() - before, n);
            for p in &ended[before..] {
                assert!(p.ended > 60.0 && p.ended <= 120.0, "{routing:?} {p:?}");
            }
            if routing == Routing::Spread {
                assert!(ended[before..]
                    .iter()
                    .all(|p| p.ended == ended[before].ended));
            }
        }
    }

    #[test]
    fn a_blocks_peak_law_by_hand() {
        // One request in flight on average at 10 a second: P(peak <= 1) is P(X <= 1) times
        // the chance that no arrival finds 1 in flight in 2 s, e^{-2 * 10 * P(X = 1)}.
        let law = PeakLaw::build(10.0, 1.0);
        assert_eq!(law.from, 1);
        let e1 = (-1.0f64).exp();
        assert!((law.cdf[0] - 2.0 * e1 * (-20.0 * e1).exp()).abs() < 1e-12);
        // P(peak <= 2) = P(X <= 2) e^{-20 P(X = 2)}.
        let want = 2.5 * e1 * (-10.0 * e1).exp();
        assert!(
            (law.cdf[1] - want).abs() < 1e-12,
            "{} against {want}",
            law.cdf[1]
        );
        assert!(law.cdf.windows(2).all(|w| w[0] <= w[1]));
        assert!(1.0 - law.cdf.last().unwrap() < 1e-12);
        assert_eq!(law.sample(0.0), 1);
        assert_eq!(law.sample(law.cdf[0]), 2);
        // No load: no peak.
        assert_eq!(PeakLaw::build(0.0, 0.0).sample(0.7), 0);
    }
}
