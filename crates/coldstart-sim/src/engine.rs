//! The platform engine (spec section 2): each function's requests are served by pods that
//! start cold, serve up to `concurrency` requests at once, and stay loaded while idle for as
//! long as the [`Policy`] says. It replays a [`Workload`] in time order and asks the policy at
//! each decision: on every arrival (to learn), whether to delay an asynchronous request, and,
//! when a request ends, how the pod waits for the next one ([`Idle`]: unloaded for a while and
//! pre-warmed, then kept loaded). A cold start costs what the [`CostModel`] says for that
//! invocation, the same under every policy.
//!
//! Times are seconds from the start of the trace. A delayed request is dispatched at its
//! arrival plus the delay, in arrival order.
//!
//! What happens can also be watched as it happens, through [`Events`]: `coldstart synth`
//! writes its release from them.

use std::time::Instant;

use anyhow::Result;
use hdrhistogram::Histogram;
use smallvec::SmallVec;

use crate::costs::{micros, CostModel};
use crate::policy::{Ended, Idle, Load, Placement, Policy};
use crate::ring::Ring;
use crate::workload::{Function, Invocation, Workload};
use coldstart_trace::paper::SECONDS_PER_DAY;

/// Which of a function's pods with room a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Routing {
    /// The pod sent a request least recently (round robin over the pods with room): the
    /// platform's load balancer spreads a function's requests, so every loaded pod keeps
    /// serving while the function is busy and the pod count follows its load.
    #[default]
    Spread,
    /// The oldest pod with room (dslab-faas's idle-container search): the oldest pods stay
    /// busy and the newest ones expire first.
    FirstFit,
}

impl Routing {
    pub fn name(self) -> &'static str {
        match self {
            Routing::Spread => "spread",
            Routing::FirstFit => "first-fit",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "spread" => Ok(Routing::Spread),
            "first-fit" => Ok(Routing::FirstFit),
            _ => anyhow::bail!("unknown routing '{s}' (spread or first-fit)"),
        }
    }
}

/// One pod of a function.
#[derive(Debug, Clone)]
struct Pod {
    /// Its number among the function's pods, from 0 in order of cold start.
    serial: u64,
    /// The minute of the latest request it served.
    minute_seen: i64,
    /// When it was loaded by a cold start.
    created: f64,
    ready_at: f64,
    /// End times of the requests it is serving (in the pod itself up to two: no allocation
    /// or pointer to follow for most pods).
    ends: SmallVec<[f64; 2]>,
    last_end: f64,
    last_arrival: f64,
    /// The idle plan after `last_end`: unloaded until `warm_from`, loaded until `expire_at`.
    warm_from: f64,
    expire_at: f64,
    /// Start of the loaded stretch it is in.
    segment_start: f64,
    cold_cost: f64,
    /// Eviction priority (policies with a memory capacity).
    priority: f64,
    /// Latency each of its requests pays on top (a pod started in another region).
    extra: f64,
}

impl Pod {
    #[inline]
    fn idle(&self) -> bool {
        self.ends.is_empty()
    }

    /// Forgets the requests that ended by `t`.
    #[inline]
    fn settle(&mut self, t: f64) {
        if self.last_end <= t {
            // Every request it was serving has ended (the common case, cheaply).
            self.ends.clear();
        } else if self.ends.len() > 1 {
            self.forget_ended(t);
        }
    }

    /// Out of the request path: some of several requests may have ended.
    #[cold]
    fn forget_ended(&mut self, t: f64) {
        self.ends.retain(|e| *e > t);
    }

    /// Where it stands in spread routing: sent a request least recently first.
    fn sent_order(&self) -> (f64, u64) {
        (self.last_arrival, self.serial)
    }

    /// Idle and unloaded at `t`: a request now cannot use it.
    fn unloaded_at(&self, t: f64) -> bool {
        self.idle() && t < self.warm_from && self.warm_from > self.last_end
    }
}

/// A cold start: `func`'s `k`-th invocation (from 0) arrived at `t` and found no pod with room.
#[derive(Debug, Clone, Copy)]
pub struct ColdStartEvent {
    pub func: u32,
    pub k: u64,
    pub t: f64,
    /// The new pod's serial among the function's pods.
    pub pod: u64,
    /// Total, podAllocation, deployCode, deployDependency, scheduling (seconds).
    pub costs: [f64; 5],
}

/// A request placed on a pod: dispatched at `t`, running from `start` (after the pod is
/// ready) for `exec` seconds.
#[derive(Debug, Clone, Copy)]
pub struct ServedEvent {
    pub func: u32,
    pub k: u64,
    pub t: f64,
    pub start: f64,
    pub exec: f64,
    pub pod: u64,
    /// The pod's first request in the minute of `t` (it counts among that minute's pods).
    pub first_in_minute: bool,
}

/// A pod left, or the trace ended with it loaded.
#[derive(Debug, Clone, Copy)]
pub struct PodEndEvent {
    pub func: u32,
    pub pod: u64,
    /// Its utility ratio (spec section 3, fig 17); `None` for a cold start of 0 s.
    pub utility: Option<f64>,
}

/// Watches a run as it happens (in event order per function); every method defaults to
/// doing nothing, and `()` watches nothing.
pub trait Events {
    fn cold_start(&mut self, _e: &ColdStartEvent) {}
    fn served(&mut self, _e: &ServedEvent) {}
    fn pod_end(&mut self, _e: &PodEndEvent) {}
}

impl Events for () {}

/// What happened to one function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionMetrics {
    pub invocations: u64,
    pub cold_starts: u64,
    pub cold_seconds: f64,
    /// Loaded and idle (wasted) pod-seconds.
    pub idle_seconds: f64,
    /// Pods loaded ahead of a request (pre-warmed), off the request path.
    pub prewarms: u64,
    pub delayed: u64,
    pub delay_seconds: f64,
}

/// Pre-warmed pools (policies that size them).
#[derive(Debug, Clone, Default)]
pub struct PoolMetrics {
    /// Cold starts that took a pod from their configuration's pool.
    pub hits: u64,
    /// Cold starts of pooled functions that found their pool empty (pod created from scratch).
    pub misses: u64,
    /// Pods the pools created.
    pub created: u64,
    /// Pool pods waiting unused: pod-seconds and GB-seconds.
    pub idle_seconds: f64,
    pub idle_gb_seconds: f64,
}

/// What a run measured.
#[derive(Clone)]
pub struct Metrics {
    pub policy: String,
    pub per_function: Vec<FunctionMetrics>,
    /// End-to-end latency of each request (delay + wait for the pod + execution), µs.
    pub latency_us: Histogram<u64>,
    /// Cold start times, µs.
    pub cold_us: Histogram<u64>,
    /// Pod utility ratios (spec section 3, fig 17) times 1000, of pods with a utility >= 0.
    pub utility_milli: Histogram<u64>,
    /// Pods whose utility ratio is below 1 (counted here, as the histogram holds no negatives).
    pub pods_below_1: u64,
    pub pods: u64,
    /// Pods loaded at any time during each minute of the trace.
    pub running_per_minute: Vec<u32>,
    /// Idle GB-seconds (idle pod-seconds times the function's memory), pool pods included.
    pub idle_gb_seconds: f64,
    pub pool: PoolMetrics,
    /// Cold starts sent to another region, and requests served by pods there.
    pub remote_cold_starts: u64,
    pub remote_requests: u64,
    /// Idle pods evicted to make room (policies with a memory capacity).
    pub evictions: u64,
    /// Requests processed and seconds the engine took.
    pub events: u64,
    pub wall_seconds: f64,
}

impl Metrics {
    fn new(policy: String, functions: usize) -> Self {
        // Up to 10^13 (116 days in µs), 3 significant figures.
        let h = || Histogram::new_with_bounds(1, 10_000_000_000_000, 3).expect("valid bounds");
        Self {
            policy,
            per_function: vec![FunctionMetrics::default(); functions],
            latency_us: h(),
            cold_us: h(),
            utility_milli: h(),
            pods_below_1: 0,
            pods: 0,
            running_per_minute: Vec::new(),
            idle_gb_seconds: 0.0,
            pool: PoolMetrics::default(),
            remote_cold_starts: 0,
            remote_requests: 0,
            evictions: 0,
            events: 0,
            wall_seconds: 0.0,
        }
    }

    /// What happened after `before` was taken (a snapshot of the same run at the start of
    /// `minute`): counts and histograms are differences, running pods before `minute` are 0.
    /// `events` and `wall_seconds` stay the whole replay's.
    pub fn since(mut self, before: &Metrics, minute: usize) -> Metrics {
        for (f, b) in self.per_function.iter_mut().zip(&before.per_function) {
            f.invocations -= b.invocations;
            f.cold_starts -= b.cold_starts;
            f.cold_seconds -= b.cold_seconds;
            f.idle_seconds -= b.idle_seconds;
            f.prewarms -= b.prewarms;
            f.delayed -= b.delayed;
            f.delay_seconds -= b.delay_seconds;
        }
        for (h, b) in [
            (&mut self.latency_us, &before.latency_us),
            (&mut self.cold_us, &before.cold_us),
            (&mut self.utility_milli, &before.utility_milli),
        ] {
            // A later snapshot of the same histogram holds every earlier count.
            h.subtract(b).expect("a later snapshot of the same run");
        }
        self.pods_below_1 -= before.pods_below_1;
        self.pods -= before.pods;
        self.idle_gb_seconds -= before.idle_gb_seconds;
        self.evictions -= before.evictions;
        self.pool.hits -= before.pool.hits;
        self.pool.misses -= before.pool.misses;
        self.pool.created -= before.pool.created;
        self.pool.idle_seconds -= before.pool.idle_seconds;
        self.pool.idle_gb_seconds -= before.pool.idle_gb_seconds;
        self.remote_cold_starts -= before.remote_cold_starts;
        self.remote_requests -= before.remote_requests;
        let m = minute.min(self.running_per_minute.len());
        self.running_per_minute[..m].fill(0);
        self
    }

    /// Adds a shard's metrics: the same policy on other functions of the same workload, over
    /// the same time, on another core. `wall_seconds` is the longer of the two.
    fn merge(&mut self, o: Metrics) {
        for (f, g) in self.per_function.iter_mut().zip(o.per_function) {
            f.invocations += g.invocations;
            f.cold_starts += g.cold_starts;
            f.cold_seconds += g.cold_seconds;
            f.idle_seconds += g.idle_seconds;
            f.prewarms += g.prewarms;
            f.delayed += g.delayed;
            f.delay_seconds += g.delay_seconds;
        }
        for (h, g) in [
            (&mut self.latency_us, &o.latency_us),
            (&mut self.cold_us, &o.cold_us),
            (&mut self.utility_milli, &o.utility_milli),
        ] {
            h.add(g).expect("histograms of the same bounds");
        }
        self.pods_below_1 += o.pods_below_1;
        self.pods += o.pods;
        for (r, g) in self
            .running_per_minute
            .iter_mut()
            .zip(&o.running_per_minute)
        {
            *r += g;
        }
        self.idle_gb_seconds += o.idle_gb_seconds;
        self.evictions += o.evictions;
        self.pool.hits += o.pool.hits;
        self.pool.misses += o.pool.misses;
        self.pool.created += o.pool.created;
        self.pool.idle_seconds += o.pool.idle_seconds;
        self.pool.idle_gb_seconds += o.pool.idle_gb_seconds;
        self.remote_cold_starts += o.remote_cold_starts;
        self.remote_requests += o.remote_requests;
        self.events += o.events;
        self.wall_seconds = self.wall_seconds.max(o.wall_seconds);
    }

    pub fn invocations(&self) -> u64 {
        self.per_function.iter().map(|f| f.invocations).sum()
    }

    pub fn cold_starts(&self) -> u64 {
        self.per_function.iter().map(|f| f.cold_starts).sum()
    }

    pub fn cold_seconds(&self) -> f64 {
        self.per_function.iter().map(|f| f.cold_seconds).sum()
    }

    /// Idle pod-seconds of the functions' pods (pool pods are in [`PoolMetrics`]).
    pub fn idle_seconds(&self) -> f64 {
        self.per_function.iter().map(|f| f.idle_seconds).sum()
    }

    pub fn prewarms(&self) -> u64 {
        self.per_function.iter().map(|f| f.prewarms).sum()
    }

    pub fn peak_running_pods(&self) -> u32 {
        self.running_per_minute.iter().copied().max().unwrap_or(0)
    }

    /// Running pods per hour: the most in any minute of it.
    pub fn running_per_hour(&self) -> Vec<u32> {
        self.running_per_minute
            .chunks(60)
            .map(|c| c.iter().copied().max().unwrap_or(0))
            .collect()
    }

    /// The 75th percentile over functions (with invocations) of their cold-start rate, the
    /// metric of Shahrad et al.
    pub fn p75_function_cold_rate(&self) -> f64 {
        let mut r: Vec<f64> = self
            .per_function
            .iter()
            .filter(|f| f.invocations > 0)
            .map(|f| f.cold_starts as f64 / f.invocations as f64)
            .collect();
        if r.is_empty() {
            return f64::NAN;
        }
        r.sort_by(f64::total_cmp);
        let pos = 0.75 * (r.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        r[lo] + (r[hi] - r[lo]) * (pos - lo as f64)
    }
}

/// Seconds as whole microseconds for the histograms (rounded half up: a cast, where `round`
/// is a libm call on every request).
fn us(s: f64) -> u64 {
    (s.max(0.0) * 1e6 + 0.5) as u64
}

/// The minute of the trace holding `t` (a cast for the times >= 0 of every request).
fn minute_of(t: f64) -> i64 {
    if t >= 0.0 {
        (t / 60.0) as i64
    } else {
        (t / 60.0).floor() as i64
    }
}

/// Each CPU-memory configuration's pre-warmed pool.
struct Pools {
    /// Each function's configuration (`None`: built from scratch, no pool).
    config_of: Vec<Option<usize>>,
    /// Memory (GB) of each configuration's pods.
    gb: Vec<f64>,
    ready: Vec<u32>,
    /// Pods being created for each pool: when they are ready.
    pending: Vec<std::collections::VecDeque<f64>>,
    /// The size each pool is kept at.
    target: Vec<u32>,
    /// Seconds to create a pool pod.
    refill: f64,
    /// Cold starts that drew on each pool this minute.
    demand: Vec<u32>,
    /// Until when each pool's idle time is added up.
    since: Vec<f64>,
    /// The minute the sizes are for.
    minute: u32,
    /// Whether a request has come (the pools start at the workload's first minute).
    started: bool,
}

impl Pools {
    fn new(functions: &[Function], refill: f64) -> Self {
        let mut configs = std::collections::BTreeMap::new();
        for f in functions.iter().filter(|f| f.has_pool()) {
            let n = configs.len();
            configs.entry((f.cpu_millis, f.memory_mb)).or_insert(n);
        }
        // Numbered in configuration order, whatever order the functions come in.
        for (i, v) in configs.values_mut().enumerate() {
            *v = i;
        }
        let n = configs.len();
        Self {
            config_of: functions
                .iter()
                .map(|f| f.has_pool().then(|| configs[&(f.cpu_millis, f.memory_mb)]))
                .collect(),
            gb: configs
                .keys()
                .map(|(_, mb)| f64::from(*mb) / 1024.0)
                .collect(),
            ready: vec![0; n],
            pending: vec![std::collections::VecDeque::new(); n],
            target: vec![0; n],
            refill: refill.max(0.0),
            demand: vec![0; n],
            since: vec![0.0; n],
            minute: 0,
            started: false,
        }
    }

    /// Adds up pool `c`'s idle pods until `t`.
    fn idle_until(&mut self, c: usize, t: f64, m: &mut Metrics) {
        let dt = (t - self.since[c]).max(0.0);
        let s = f64::from(self.ready[c]) * dt;
        m.pool.idle_seconds += s;
        m.pool.idle_gb_seconds += s * self.gb[c];
        m.idle_gb_seconds += s * self.gb[c];
        self.since[c] = self.since[c].max(t);
    }

    /// Pool `c`'s pods created by `t` join it (its idle time added up as they do).
    fn settle(&mut self, c: usize, t: f64, m: &mut Metrics) {
        while let Some(&at) = self.pending[c].front().filter(|at| **at <= t) {
            self.idle_until(c, at, m);
            self.pending[c].pop_front();
            self.ready[c] += 1;
        }
        self.idle_until(c, t, m);
    }

    /// Starts creating pods for pool `c` at `t` until it will hold its target.
    fn top_up(&mut self, c: usize, t: f64, m: &mut Metrics) {
        while self.ready[c] as usize + self.pending[c].len() < self.target[c] as usize {
            self.pending[c].push_back(t + self.refill);
            m.pool.created += 1;
        }
        self.settle(c, t, m);
    }

    /// Takes a pod from pool `c` at `t` for a cold start; whether there was one.
    fn take(&mut self, c: usize, t: f64, m: &mut Metrics) -> bool {
        self.settle(c, t, m);
        self.demand[c] += 1;
        let hit = self.ready[c] > 0;
        if hit {
            self.ready[c] -= 1;
        }
        self.top_up(c, t, m);
        hit
    }

    /// Sets every pool's size for `minute`, told the demand of the minute before: pods over
    /// it are removed (those being created first), pods under it are started.
    fn resize(&mut self, minute: u32, policy: &mut dyn Policy, m: &mut Metrics) {
        let t = f64::from(minute) * 60.0;
        for c in 0..self.ready.len() {
            self.settle(c, t, m);
            let size = policy.pool_size(c, minute, self.demand[c]);
            self.target[c] = size;
            while self.ready[c] as usize + self.pending[c].len() > size as usize {
                if self.pending[c].pop_back().is_none() {
                    self.ready[c] -= 1;
                }
            }
            self.top_up(c, t, m);
            self.demand[c] = 0;
        }
        self.minute = minute;
    }
}

/// One function in the engine: its pods and what each of its requests reads, in one place
/// (a cache line or two per request instead of one per array).
#[derive(Debug, Clone, Default)]
struct FnState {
    /// Its pods; in the order they were last sent a request where requests are spread (see
    /// [`Engine::fast_path`]).
    pods: Ring<Pod>,
    /// Requests seen, and pods it has had.
    seen: u64,
    next_pod: u64,
    /// GB of memory of each of its pods.
    memory_gb: f64,
    /// Requests one pod serves at once (at least 1).
    concurrency: u32,
    /// Whether its requests are asynchronous (may be delayed).
    is_async: bool,
    /// Whether a pod of it was ever told to unload while idle (a pre-warm plan).
    may_unload: bool,
}

impl FnState {
    /// On the fast path: pod `idx` was sent a request last, so it goes behind every pod sent
    /// one before (where it already is when it is the only pod, or the last).
    fn sent(&mut self, idx: usize) {
        let pods = &mut self.pods;
        let n = pods.len();
        let order = pods.get(idx).sent_order();
        if idx + 1 == n && (idx == 0 || pods.get(idx - 1).sent_order() <= order) {
            return;
        }
        if idx == 0 && pods.get(n - 1).sent_order() <= order {
            // The front pod to the back, as most requests of a busy function do.
            pods.rotate();
            return;
        }
        let p = pods.remove(idx);
        let mut at = pods.len();
        while at > 0 && pods.get(at - 1).sent_order() > order {
            at -= 1;
        }
        pods.insert(at, p);
    }
}

/// The engine under one policy, told of what happens through `E`.
pub struct Engine<'a, E: Events = ()> {
    functions: &'a [Function],
    costs: &'a dyn CostModel,
    policy: Box<dyn Policy>,
    /// Each function's pods and what every request of it reads, side by side.
    state: Vec<FnState>,
    /// +1/-1 per minute where loaded stretches start and end.
    running_delta: Vec<i64>,
    end_of_trace: f64,
    /// The policy's memory capacity (MB), and the memory of the pods loaded now.
    capacity: Option<f64>,
    loaded_mb: f64,
    /// End times of the requests in flight (f64 bits, all >= 0), when the policy wants the load.
    in_flight: Option<std::collections::BinaryHeap<std::cmp::Reverse<u64>>>,
    pools: Option<Pools>,
    /// Where the policy starts pods: [`Placement::Home`] when the cost model has no other
    /// regions.
    placement: Placement,
    /// Whether every request looks at every pod of its function (the reference path).
    exhaustive: bool,
    /// Whether each request's latency goes into [`Metrics::latency_us`].
    latencies: bool,
    routing: Routing,
    pub metrics: Metrics,
    pub events: E,
}

impl<'a> Engine<'a> {
    /// An engine for `functions` over `days` days from day 0.
    pub fn new(
        functions: &'a [Function],
        costs: &'a dyn CostModel,
        policy: Box<dyn Policy>,
        days: u32,
    ) -> Self {
        Engine::with_events(functions, costs, policy, days, ())
    }
}

impl<'a, E: Events> Engine<'a, E> {
    /// An engine that tells `events` what happens.
    pub fn with_events(
        functions: &'a [Function],
        costs: &'a dyn CostModel,
        policy: Box<dyn Policy>,
        days: u32,
        events: E,
    ) -> Self {
        let minutes = days as usize * 1440;
        let capacity = policy.capacity_mb();
        let in_flight = policy.wants_load().then(std::collections::BinaryHeap::new);
        let metrics = Metrics::new(policy.name(), functions.len());
        let pools = policy
            .pools()
            .then(|| Pools::new(functions, policy.pool_refill()));
        Self {
            metrics,
            pools,
            placement: match costs.other_regions().is_empty() {
                true => Placement::Home,
                false => policy.placement(),
            },
            functions,
            costs,
            policy,
            state: functions
                .iter()
                .map(|f| FnState {
                    memory_gb: f.memory_gb(),
                    concurrency: f.concurrency.max(1),
                    is_async: f.is_async(),
                    ..FnState::default()
                })
                .collect(),
            running_delta: vec![0; minutes + 1],
            end_of_trace: f64::from(days) * SECONDS_PER_DAY,
            capacity,
            loaded_mb: 0.0,
            in_flight,
            exhaustive: false,
            latencies: true,
            routing: Routing::default(),
            events,
        }
    }

    /// Leaves [`Metrics::latency_us`] empty (a run that only watches events, such as the
    /// release writer's, saves a histogram update per request).
    pub fn without_latencies(mut self) -> Self {
        self.latencies = false;
        self
    }

    /// Makes every request look at all its function's pods, as the engine did before its fast
    /// path (see [`Engine::fast_path`]): the same metrics, slower; tests and benchmarks compare
    /// the two.
    pub fn exhaustive(mut self) -> Self {
        self.exhaustive = true;
        self
    }

    /// Routes requests to a function's pods with room as `routing` says.
    pub fn with_routing(mut self, routing: Routing) -> Self {
        self.routing = routing;
        self
    }

    /// Records a loaded stretch [a, b) of a pod in the per-minute running counts.
    fn loaded(&mut self, a: f64, b: f64) {
        let b = b.min(self.end_of_trace);
        if b <= a {
            return;
        }
        let n = self.running_delta.len() - 1;
        let m0 = ((a / 60.0).floor().max(0.0) as usize).min(n);
        // The minute holding `b` counts too unless `b` is exactly its start.
        let m1 = ((b / 60.0).ceil().max(0.0) as usize).min(n);
        self.running_delta[m0] += 1;
        self.running_delta[m1.max(m0 + 1).min(n)] -= 1;
    }

    /// Loaded and idle pod time of a function (negative spans count as none).
    fn add_idle(&mut self, func: usize, seconds: f64) {
        let idle = seconds.max(0.0);
        self.metrics.per_function[func].idle_seconds += idle;
        self.metrics.idle_gb_seconds += idle * self.state[func].memory_gb;
    }

    /// A pod leaves: its last loaded stretch, idle time and utility are recorded.
    fn retire(&mut self, func: usize, p: Pod, at: f64) {
        let f = &self.functions[func];
        self.loaded_mb -= f64::from(f.memory_mb);
        let at = at.min(self.end_of_trace);
        let gap = p.warm_from > p.last_end;
        let idle_from = p.warm_from.max(p.last_end);
        let idle_to = p.expire_at.min(at);
        if gap {
            self.loaded(p.segment_start, p.last_end);
            if idle_to > p.warm_from {
                self.loaded(p.warm_from, idle_to);
                self.metrics.per_function[func].prewarms += 1;
            }
        } else {
            self.loaded(p.segment_start, idle_to.max(p.last_end));
        }
        self.add_idle(func, idle_to - idle_from);
        // Utility ratio: time from the cold start to the last request over the cold start time
        // (every pod serves at least the request that started it).
        self.metrics.pods += 1;
        let utility = (p.cold_cost > 0.0).then(|| (p.last_arrival - p.created) / p.cold_cost);
        if let Some(u) = utility {
            if u < 1.0 {
                self.metrics.pods_below_1 += 1;
            }
            if u >= 0.0 {
                self.metrics
                    .utility_milli
                    .saturating_record((u * 1000.0) as u64);
            }
        }
        self.events.pod_end(&PodEndEvent {
            func: func as u32,
            pod: p.serial,
            utility,
        });
    }

    /// Serves one request.
    pub fn invoke(&mut self, inv: Invocation) {
        let fi = inv.func as usize;
        let f = &self.functions[fi];
        if let Some(pools) = &mut self.pools {
            let minute = (inv.t / 60.0).floor().max(0.0) as u32;
            if !pools.started {
                // Sized from the workload's first minute on (the days before have none).
                pools.started = true;
                pools.minute = minute;
                pools.since.fill(f64::from(minute) * 60.0);
                pools.resize(minute, self.policy.as_mut(), &mut self.metrics);
            }
            for m in pools.minute + 1..=minute {
                pools.resize(m, self.policy.as_mut(), &mut self.metrics);
            }
        }
        let k = self.state[fi].seen;
        self.state[fi].seen += 1;
        self.policy.on_arrival(inv.func, f, inv.t);
        let mut load = Load {
            in_flight: 0,
            next_end: f64::INFINITY,
        };
        if let Some(h) = &mut self.in_flight {
            while h.peek().is_some_and(|e| f64::from_bits(e.0) <= inv.t) {
                h.pop();
            }
            load.in_flight = h.len();
            load.next_end = h.peek().map_or(f64::INFINITY, |e| f64::from_bits(e.0));
        }
        let delay = if self.state[fi].is_async {
            self.policy.delay(inv.func, f, inv.t, &load).max(0.0)
        } else {
            0.0
        };
        let t = inv.t + delay;

        let conc = self.state[fi].concurrency as usize;
        let fast = self.fast_path(fi);
        let free = if fast {
            self.first_with_room(fi, t, conc)
        } else {
            self.sweep(fi, t);
            self.best_with_room(&self.state[fi].pods, conc)
        };
        let idx = match free {
            Some(i) => {
                let p = self.state[fi].pods.get_mut(i);
                if p.idle() {
                    // Idle since last_end (or since its pre-warm): wasted until now.
                    let from = p.warm_from.max(p.last_end);
                    let prewarmed = p.warm_from > p.last_end;
                    let (a, b) = (p.segment_start, p.last_end);
                    if prewarmed {
                        p.segment_start = p.warm_from;
                    }
                    self.add_idle(fi, t - from);
                    if prewarmed {
                        // It was unloaded, then pre-warmed: a new loaded stretch.
                        self.loaded(a, b);
                        self.metrics.per_function[fi].prewarms += 1;
                    }
                }
                i
            }
            None => {
                if let Some(cap) = self.capacity {
                    self.make_room(cap, f64::from(f.memory_mb), t);
                }
                self.loaded_mb += f64::from(f.memory_mb);
                let (region, extra) = if self.placement != Placement::Home {
                    self.policy
                        .place(inv.func, f, self.costs)
                        .unwrap_or((0, 0.0))
                } else {
                    (0, 0.0)
                };
                let mut c = if region == 0 {
                    self.costs.cold_start(inv.func, k)
                } else {
                    self.metrics.remote_cold_starts += 1;
                    self.costs.cold_start_in(inv.func, k, region)
                };
                if let Some(cfg) = self
                    .pools
                    .as_ref()
                    .filter(|_| region == 0)
                    .and_then(|p| p.config_of[fi])
                {
                    let pools = self.pools.as_mut().expect("checked");
                    let hit = pools.take(cfg, t, &mut self.metrics);
                    if hit {
                        self.metrics.pool.hits += 1;
                    } else {
                        self.metrics.pool.misses += 1;
                    }
                    if let Some(a) = self.costs.pod_allocation(inv.func, k, hit) {
                        c[0] = micros(c[0] - c[1] + a);
                        c[1] = a;
                    }
                }
                let m = &mut self.metrics.per_function[fi];
                m.cold_starts += 1;
                m.cold_seconds += c[0];
                self.metrics.cold_us.saturating_record(us(c[0]));
                let serial = self.state[fi].next_pod;
                self.state[fi].next_pod += 1;
                self.events.cold_start(&ColdStartEvent {
                    func: inv.func,
                    k,
                    t,
                    pod: serial,
                    costs: c,
                });
                let pods = &mut self.state[fi].pods;
                pods.push_back(Pod {
                    serial,
                    minute_seen: -1,
                    created: t,
                    ready_at: t + c[0],
                    ends: SmallVec::new(),
                    last_end: t,
                    last_arrival: t,
                    warm_from: t,
                    expire_at: t,
                    segment_start: t,
                    cold_cost: c[0],
                    priority: 0.0,
                    extra,
                });
                pods.len() - 1
            }
        };
        let p = self.state[fi].pods.get_mut(idx);
        let extra = p.extra;
        if extra > 0.0 {
            self.metrics.remote_requests += 1;
        }
        let start = t.max(p.ready_at);
        let end = start + inv.exec;
        if let Some(h) = &mut self.in_flight {
            h.push(std::cmp::Reverse(end.max(0.0).to_bits()));
        }
        p.ends.push(end);
        p.last_end = p.last_end.max(end);
        p.last_arrival = t;
        let minute = minute_of(t);
        let first_in_minute = p.minute_seen != minute;
        p.minute_seen = minute;
        self.events.served(&ServedEvent {
            func: inv.func,
            k,
            t,
            start,
            exec: inv.exec,
            pod: p.serial,
            first_in_minute,
        });
        let plan: Idle = self.policy.after_request(&Ended {
            func: inv.func,
            function: f,
            arrival: inv.t,
            end: p.last_end,
            pod_created: p.created,
        });
        p.warm_from = p.last_end + plan.unload_for.max(0.0);
        p.expire_at = p.warm_from + plan.keep_for.max(0.0);
        if self.capacity.is_some() {
            p.priority = self.policy.priority(inv.func, f, p.cold_cost);
        }
        let s = &mut self.state[fi];
        s.may_unload |= plan.unload_for > 0.0;
        if fast {
            s.sent(idx);
        }

        let m = &mut self.metrics.per_function[fi];
        m.invocations += 1;
        if delay > 0.0 {
            m.delayed += 1;
            m.delay_seconds += delay;
        }
        if self.latencies {
            self.metrics
                .latency_us
                .saturating_record(us(delay + (start - t) + inv.exec + extra));
        }
        self.metrics.events += 1;
    }

    /// Whether function `fi`'s pods can be routed without looking at all of them: requests are
    /// spread, so its pods are kept in the order they were last sent a request and the first
    /// with room is the one to take; pods whose keep-alive ran out may then leave later than
    /// the first request after it (their idle time and utility are the same), which only
    /// policies without a memory capacity, pod-by-pod placement or unloading pods allow.
    fn fast_path(&self, fi: usize) -> bool {
        self.routing == Routing::Spread
            && !self.exhaustive
            && self.placement != Placement::PerPod
            && self.capacity.is_none()
            && !self.state[fi].may_unload
    }

    /// On the fast path: the first pod with room at `t` in the order they were last sent a
    /// request; idle pods met on the way whose keep-alive ran out leave.
    fn first_with_room(&mut self, fi: usize, t: f64, conc: usize) -> Option<usize> {
        let mut i = 0;
        while i < self.state[fi].pods.len() {
            let p = self.state[fi].pods.get_mut(i);
            p.settle(t);
            if p.idle() {
                if t >= p.expire_at {
                    let p = self.state[fi].pods.remove(i);
                    self.retire(fi, p, t);
                    continue;
                }
                return Some(i);
            }
            if p.ends.len() < conc {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Pods that finished their requests and whose idle plan ran out leave; so do pods that
    /// are unloaded waiting for a pre-warm that a request at `t` comes too early for.
    fn sweep(&mut self, fi: usize, t: f64) {
        let mut i = 0;
        while i < self.state[fi].pods.len() {
            let p = self.state[fi].pods.get_mut(i);
            p.settle(t);
            if p.idle() && (t >= p.expire_at || p.unloaded_at(t)) {
                let mut p = self.state[fi].pods.swap_remove(i);
                if p.unloaded_at(t) {
                    // Nothing loaded after last_end: its plan ends there, no pre-warm happened.
                    p.warm_from = p.last_end;
                    p.expire_at = p.last_end;
                }
                self.retire(fi, p, t);
            } else {
                i += 1;
            }
        }
    }

    /// After a [`Engine::sweep`]: the pod with room the routing picks; with other regions, the
    /// nearest first (pods there cost latency).
    fn best_with_room(&self, pods: &Ring<Pod>, conc: usize) -> Option<usize> {
        let mut free: Option<usize> = None;
        for (i, p) in pods.iter().enumerate() {
            if p.ends.len() >= conc {
                continue;
            }
            let better = match free.map(|j| pods.get(j)) {
                None => true,
                Some(q) if p.extra != q.extra => p.extra < q.extra,
                Some(q) => match self.routing {
                    Routing::Spread => p.sent_order() < q.sent_order(),
                    Routing::FirstFit => p.serial < q.serial,
                },
            };
            if better {
                free = Some(i);
            }
        }
        free
    }

    /// Evicts idle pods of other functions, lowest priority first, until `need` MB fit under
    /// `cap` at time `t` (or no idle pod is left).
    fn make_room(&mut self, cap: f64, need: f64, t: f64) {
        while self.loaded_mb + need > cap {
            let mut best: Option<(usize, usize, f64)> = None;
            for (g, s) in self.state.iter().enumerate() {
                for (i, p) in s.pods.iter().enumerate() {
                    let idle = p.ends.iter().all(|e| *e <= t) && p.ready_at <= t;
                    if idle && best.is_none_or(|b| p.priority < b.2) {
                        best = Some((g, i, p.priority));
                    }
                }
            }
            let Some((g, i, priority)) = best else { return };
            let mut p = self.state[g].pods.swap_remove(i);
            p.ends.clear();
            p.expire_at = p.expire_at.min(t);
            self.retire(g, p, t);
            self.policy.evicted(priority);
            self.metrics.evictions += 1;
        }
    }

    /// Ends the run: every pod leaves at the end of its plan (or of the trace).
    pub fn finish(self) -> Metrics {
        self.finish_with_events().0
    }

    /// [`Engine::finish`], handing back the watcher too.
    pub fn finish_with_events(mut self) -> (Metrics, E) {
        if let Some(pools) = self.pools.as_mut().filter(|p| p.started) {
            // The pools stay sized minute by minute to the end of the trace.
            let last = (self.end_of_trace / 60.0) as u32;
            for m in pools.minute + 1..last {
                pools.resize(m, self.policy.as_mut(), &mut self.metrics);
            }
            for c in 0..pools.ready.len() {
                pools.settle(c, self.end_of_trace, &mut self.metrics);
            }
        }
        for fi in 0..self.state.len() {
            for p in self.state[fi].pods.take_all() {
                let at = p.expire_at.max(p.last_end);
                self.retire(fi, p, at);
            }
        }
        let mut run = 0i64;
        let n = self.running_delta.len() - 1;
        self.metrics.running_per_minute = self.running_delta[..n]
            .iter()
            .map(|d| {
                run += d;
                run.max(0) as u32
            })
            .collect();
        (self.metrics, self.events)
    }
}

/// Replays `workload` under each policy (in parallel, each on the same invocations, a day at
/// a time) and returns their metrics in the order given. `progress` is told each day's
/// invocations.
pub fn simulate(
    workload: &mut dyn Workload,
    costs: &dyn CostModel,
    policies: Vec<Box<dyn Policy>>,
    progress: impl FnMut(u32, u64),
) -> Result<Vec<Metrics>> {
    simulate_from(workload, costs, policies, 0, Routing::default(), progress)
}

/// Copies of a per-function policy per core it may use.
const SHARDS_PER_CORE: usize = 4;

/// Shares `n` functions out between `shards` engines so that each gets about as many of
/// `sample`'s requests (the busiest function first, each to the engine with the fewest so
/// far); the functions with none are dealt round. Each function's shard.
fn share_out(sample: &[Invocation], n: usize, shards: usize) -> Vec<usize> {
    let mut count = vec![0u64; n];
    for i in sample {
        count[i.func as usize] += 1;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|f| (std::cmp::Reverse(count[*f]), *f));
    let mut load = vec![0u64; shards];
    let mut owner = vec![0; n];
    for (k, f) in order.into_iter().enumerate() {
        let s = if count[f] > 0 {
            (0..shards)
                .min_by_key(|s| (load[*s], *s))
                .expect("shards > 0")
        } else {
            k % shards
        };
        load[s] += count[f];
        owner[f] = s;
    }
    owner
}

/// One engine of a run: a policy's copy for some of the functions. Aligned to cache lines
/// (two, as pairs are fetched together), so that engines on different cores never write to
/// one line (their per-request counters sit side by side in the list otherwise).
#[repr(align(128))]
struct Shard<'a> {
    engine: Engine<'a>,
    policy: usize,
    /// Which share of the functions it serves (`None`: all of them).
    part: Option<usize>,
    /// Its time on the day being replayed.
    seconds: f64,
    /// Its metrics when measuring started (after the warm-up days).
    before: Option<Metrics>,
}

/// [`simulate`], measuring only from the `warmup_days`-th day of the workload on (the days
/// before let the policies learn, and fill pods and pools, without being counted), with
/// requests routed to pods as `routing` says.
///
/// Policies that decide per function ([`Policy::per_function`]) are split over the cores the
/// other policies leave free: each copy serves a share of the functions (shared out by the
/// first day's requests, so that the copies are about as busy), each day's requests are dealt
/// to the shares in time-ordered pieces (one per core, dealt at once), and the copies'
/// metrics are added up, which gives the same numbers as one engine. A policy's
/// `wall_seconds` is the time its replay held the run up: each day, the dealing and the time
/// until every engine was done for a split policy, its engine's own time for one that is not.
pub fn simulate_from(
    workload: &mut dyn Workload,
    costs: &dyn CostModel,
    policies: Vec<Box<dyn Policy>>,
    warmup_days: u32,
    routing: Routing,
    mut progress: impl FnMut(u32, u64),
) -> Result<Vec<Metrics>> {
    use rayon::prelude::*;
    let days = workload.days();
    let measured = days.start + warmup_days;
    if warmup_days > 0 && measured >= days.end {
        anyhow::bail!(
            "{warmup_days} warm-up days leave none of days {}..{} to measure",
            days.start,
            days.end
        );
    }
    let functions = workload.functions().to_vec();
    let n = functions.len();
    let (count, threads) = (policies.len(), rayon::current_num_threads());
    // Every per-function policy gets the same number of copies, so one sharing-out serves all:
    // several per free core, so that a core that falls behind (another program, a busy host)
    // leaves copies to the others instead of holding up the day.
    let shards = if count < threads && n > 1 {
        (SHARDS_PER_CORE * threads / count).min(n)
    } else {
        1
    };
    // The first day is drawn before the engines are made: its requests per function share
    // the functions out between the copies of a per-function policy.
    let mut first = match days.is_empty() {
        true => None,
        false => Some(workload.day(days.start)?),
    };
    let owner = (shards > 1 && policies.iter().any(|p| p.per_function()))
        .then(|| share_out(first.as_deref().unwrap_or_default(), n, shards));
    let mut engines: Vec<Shard> = Vec::new();
    for (i, p) in policies.into_iter().enumerate() {
        let copies = if p.per_function() { shards } else { 1 };
        let name = p.name();
        let mut all = vec![p];
        for _ in 1..copies {
            all.push(crate::policy::parse(&name, n)?);
        }
        for (part, p) in all.into_iter().enumerate() {
            engines.push(Shard {
                engine: Engine::new(&functions, costs, p, days.end).with_routing(routing),
                policy: i,
                part: (copies > 1).then_some(part),
                seconds: 0.0,
                before: None,
            });
        }
    }
    let mut wall = vec![0.0f64; count];
    // parts[piece][share]: a day's requests dealt out.
    let mut parts: Vec<Vec<Vec<Invocation>>> = Vec::new();
    for day in days {
        if warmup_days > 0 && day == measured {
            for e in &mut engines {
                e.before = Some(e.engine.metrics.clone());
            }
        }
        let inv = match first.take() {
            Some(inv) => inv,
            None => workload.day(day)?,
        };
        let mut dealing = 0.0;
        if let Some(owner) = &owner {
            // Dealt in time-ordered pieces on every core: a copy replays its share of each
            // piece in turn.
            let t0 = Instant::now();
            let piece = inv.len().div_ceil(threads).max(1);
            parts.resize_with(inv.len().div_ceil(piece), || vec![Vec::new(); shards]);
            parts
                .par_iter_mut()
                .zip(inv.par_chunks(piece))
                .for_each(|(parts, inv)| {
                    for p in parts.iter_mut() {
                        p.clear();
                    }
                    for i in inv {
                        parts[owner[i.func as usize]].push(*i);
                    }
                });
            dealing = t0.elapsed().as_secs_f64();
        }
        let t0 = Instant::now();
        engines.par_iter_mut().with_max_len(1).for_each(|e| {
            let t0 = Instant::now();
            match e.part {
                None => {
                    for i in &inv {
                        e.engine.invoke(*i);
                    }
                }
                Some(k) => {
                    for piece in &parts {
                        for i in &piece[k] {
                            e.engine.invoke(*i);
                        }
                    }
                }
            }
            e.seconds = t0.elapsed().as_secs_f64();
        });
        let day_wall = t0.elapsed().as_secs_f64();
        for e in &engines {
            wall[e.policy] += match e.part {
                None => e.seconds,
                // A split policy's copies share the cores with each other (and any other split
                // policy): the day counts once, with its first copy.
                Some(0) => dealing + day_wall,
                Some(_) => 0.0,
            };
        }
        progress(day, inv.len() as u64);
    }
    let mut out: Vec<Option<Metrics>> = (0..count).map(|_| None).collect();
    for e in engines {
        let t0 = Instant::now();
        let mut m = e.engine.finish();
        if let Some(b) = e.before {
            m = m.since(&b, measured as usize * 1440);
        }
        wall[e.policy] += t0.elapsed().as_secs_f64();
        m.wall_seconds = 0.0;
        match &mut out[e.policy] {
            Some(first) => first.merge(m),
            slot => *slot = Some(m),
        }
    }
    for (m, w) in out.iter_mut().zip(wall) {
        if let Some(m) = m {
            m.wall_seconds = w;
        }
    }
    Ok(out
        .into_iter()
        .map(|m| m.expect("one engine per policy at least"))
        .collect())
}
