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

mod events;
mod evict;
mod fluid;
mod metrics;
mod pools;
mod shards;

pub use events::*;
use evict::*;
pub use fluid::FluidDay;
pub use metrics::*;
use pools::*;
pub use shards::*;

use crate::costs::{micros, CostModel};
use crate::policy::{Ended, Idle, Load, Policy, Used};
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
    /// The oldest pod with room (the first cold-started of those loaded): the oldest pods
    /// stay busy and the newest ones expire first. A fixed preference, unlike dslab-faas's
    /// idle-container search, which with three idle containers serves 0, 2, 0, 2, ....
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
    /// Eviction priority (policies with a memory capacity), and the stamp of the heap entry
    /// that stands for it (see [`evict`]).
    priority: f64,
    stamp: u64,
    /// Requests it has served (an eviction order may count a function's requests in its
    /// loaded pods).
    uses: u64,
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
    /// Its pods when the workload gives it minute by minute ([`FluidDay`]).
    fluid: Option<Box<fluid::FluidState>>,
    /// The eviction priority of all its pods, where the eviction order sets one for the
    /// function ([`crate::policy::Eviction::per_function`]).
    priority: f64,
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
        if idx + 1 < n && pods.get(n - 1).sent_order() <= order {
            // Behind every pod, as every request arriving in time order goes (the front pod,
            // as most requests of a busy function do, by moving the ring's head).
            pods.move_to_back(idx);
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
    /// +1/-1 per minute where loaded stretches start and end, and their memory (MB).
    running_delta: Vec<i64>,
    memory_delta: Vec<i64>,
    /// The loaded stretches' starts and ends, for the instantaneous peak of memory.
    memory_changes: Vec<(f64, i64)>,
    end_of_trace: f64,
    /// The policy's memory capacity (MB), and the memory of the pods loaded now.
    capacity: Option<f64>,
    loaded_mb: f64,
    /// Idle pods by eviction priority (policies with a memory capacity).
    candidates: Candidates,
    /// Whether a use sets the priority of every pod of the function (the eviction order's
    /// [`crate::policy::Eviction::per_function`]).
    per_function: bool,
    /// End times of the requests in flight (f64 bits, all >= 0), when the policy wants the load.
    in_flight: Option<std::collections::BinaryHeap<std::cmp::Reverse<u64>>>,
    /// Requests the admission holds, first held first out: only the first is asked again,
    /// at its `until`, and the others wait behind it (held for the same reason, the load).
    held: std::collections::VecDeque<Held>,
    /// The admission's deadline (infinite without one).
    deadline: f64,
    pools: Option<Pools>,
    /// Whether the policy places cold starts across regions (it has a placement part and the
    /// cost model other regions).
    placement: bool,
    /// Whether every request looks at every pod of its function (the reference path).
    exhaustive: bool,
    /// Whether each request's latency goes into [`Metrics::latency_us`].
    latencies: bool,
    /// A provisioning policy's next minute to provision (None: the policy has no such part,
    /// or no request came yet) and its lead; the targets of a minute, reused.
    provision: Option<Provision>,
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
        mut policy: Box<dyn Policy>,
        days: u32,
        events: E,
    ) -> Self {
        let minutes = days as usize * 1440;
        let capacity = policy.eviction().map(|e| e.capacity_mb());
        let per_function = policy.eviction().is_some_and(|e| e.per_function());
        let in_flight = policy
            .admission()
            .map(|_| std::collections::BinaryHeap::new());
        let deadline = policy.admission().map_or(f64::INFINITY, |a| a.deadline());
        let metrics = Metrics::new(policy.name(), functions.len());
        let pools = policy.pools().map(|p| Pools::new(functions, p.refill()));
        let concurrency = policy.concurrency();
        Self {
            metrics,
            pools,
            placement: policy.placement().is_some() && !costs.other_regions().is_empty(),
            functions,
            costs,
            policy,
            state: functions
                .iter()
                .map(|f| FnState {
                    memory_gb: f.memory_gb(),
                    concurrency: concurrency.unwrap_or(f.concurrency).max(1),
                    is_async: f.is_async(),
                    ..FnState::default()
                })
                .collect(),
            running_delta: vec![0; minutes + 1],
            memory_delta: vec![0; minutes + 1],
            memory_changes: Vec::new(),
            end_of_trace: f64::from(days) * SECONDS_PER_DAY,
            capacity,
            loaded_mb: 0.0,
            candidates: Candidates::default(),
            per_function,
            in_flight,
            held: std::collections::VecDeque::new(),
            deadline,
            exhaustive: false,
            latencies: true,
            provision: None,
            routing: Routing::default(),
            events,
        }
        .with_provisioning()
    }

    /// Readies the provisioning of a policy that has that part.
    fn with_provisioning(mut self) -> Self {
        self.provision = self.policy.provisioning().map(|p| Provision {
            next: None,
            lead: p.lead().max(0.0),
            targets: Vec::new(),
        });
        self
    }

    /// Leaves [`Metrics::latency_us`] empty (a run that only watches events, such as the
    /// release writer's, saves a histogram update per request).
    pub fn without_latencies(mut self) -> Self {
        self.latencies = false;
        self
    }

    /// Makes every request look at all its function's pods, as the engine did before its fast
    /// path (see [`Engine::fast_path`]), and every eviction look at every pod instead of the
    /// heaps of [`evict`]: the same metrics, slower; tests and benchmarks compare the two.
    pub fn exhaustive(mut self) -> Self {
        self.exhaustive = true;
        self
    }

    /// Routes requests to a function's pods with room as `routing` says.
    pub fn with_routing(mut self, routing: Routing) -> Self {
        self.routing = routing;
        self
    }

    /// Records a loaded stretch [a, b) of a pod of `mb` MB in the per-minute running counts.
    fn loaded(&mut self, a: f64, b: f64, mb: u32) {
        let b = b.min(self.end_of_trace);
        if b <= a {
            return;
        }
        let n = self.running_delta.len() - 1;
        let m0 = ((a / 60.0).floor().max(0.0) as usize).min(n);
        // The minute holding `b` counts too unless `b` is exactly its start.
        let m1 = ((b / 60.0).ceil().max(0.0) as usize).min(n);
        let m1 = m1.max(m0 + 1).min(n);
        self.running_delta[m0] += 1;
        self.running_delta[m1] -= 1;
        self.memory_delta[m0] += i64::from(mb);
        self.memory_delta[m1] -= i64::from(mb);
        self.memory_changes
            .extend([(a, i64::from(mb)), (b, -i64::from(mb))]);
    }

    /// Loaded and idle pod time of a function (negative spans count as none).
    fn add_idle(&mut self, func: usize, seconds: f64) {
        let idle = seconds.max(0.0);
        self.metrics.per_function[func].idle_seconds += idle;
        self.metrics.idle_gb_seconds += idle * self.state[func].memory_gb;
    }

    /// A pod leaves: its last loaded stretch, idle time and utility are recorded.
    fn retire(&mut self, func: usize, p: Pod, at: f64) {
        let mb = self.functions[func].memory_mb;
        self.loaded_mb -= f64::from(mb);
        let at = at.min(self.end_of_trace);
        let gap = p.warm_from > p.last_end;
        let idle_from = p.warm_from.max(p.last_end);
        let idle_to = p.expire_at.min(at);
        if gap {
            self.loaded(p.segment_start, p.last_end, mb);
            if idle_to > p.warm_from {
                self.loaded(p.warm_from, idle_to, mb);
                self.metrics.per_function[func].prewarms += 1;
            }
        } else {
            self.loaded(p.segment_start, idle_to.max(p.last_end), mb);
        }
        self.add_idle(func, idle_to - idle_from);
        // Utility ratio: time from the cold start to the last request over the cold start time
        // (every pod serves at least the request that started it).
        let utility = (p.cold_cost > 0.0).then(|| (p.last_arrival - p.created) / p.cold_cost);
        if let Some(e) = self.capacity.and_then(|_| self.policy.eviction()) {
            e.left(func as u32, p.uses);
        }
        self.pod_left(func, p.serial, at, utility);
    }

    /// A cold start of function `fi` at `t` costing `seconds`: counted per day, per function
    /// and in the histogram of cold-start times.
    fn count_cold_start(&mut self, fi: usize, t: f64, seconds: f64) {
        let day = (t / SECONDS_PER_DAY).max(0.0) as usize;
        let per_day = &mut self.metrics.cold_starts_per_day;
        if per_day.len() <= day {
            per_day.resize(day + 1, 0);
        }
        per_day[day] += 1;
        let m = &mut self.metrics.per_function[fi];
        m.cold_starts += 1;
        m.cold_seconds += seconds;
        self.metrics.cold_us.saturating_record(us(seconds));
    }

    /// A pod left at `at` with its utility ratio: counted, and told.
    fn pod_left(&mut self, func: usize, serial: u64, at: f64, utility: Option<f64>) {
        self.metrics.pods += 1;
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
            pod: serial,
            t: at,
            utility,
        });
    }

    /// Serves one request.
    pub fn invoke(&mut self, inv: Invocation) {
        if !self.held.is_empty() {
            self.release_held(inv.t);
        }
        self.advance_pools(inv.t);
        if self.provision.is_some() {
            self.advance_provision(inv.t);
        }
        let fi = inv.func as usize;
        let f = &self.functions[fi];
        let k = self.state[fi].seen;
        self.state[fi].seen += 1;
        self.policy.on_arrival(inv.func, f, inv.t);
        if self.state[fi].is_async && self.in_flight.is_some() {
            let load = self.load_at(inv.t);
            let admission = self.policy.admission().expect("the load is tracked for it");
            let delay = admission.delay(inv.func, f, inv.t, 0.0, &load);
            if delay > 0.0 && delay.is_finite() {
                self.hold(inv, k, inv.t + delay);
                return;
            }
        }
        self.place(inv, k, inv.t);
    }

    /// Sizes the pools minute by minute up to `t`'s minute.
    fn advance_pools(&mut self, t: f64) {
        if let Some(pools) = &mut self.pools {
            let minute = (t / 60.0).floor().max(0.0) as u32;
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
    }

    /// Provisions every minute whose pods start by `t` (`lead` before the minute), from the
    /// minute after the first request's on.
    fn advance_provision(&mut self, t: f64) {
        let Some(mut pr) = self.provision.take() else {
            return;
        };
        let upto = ((t + pr.lead) / 60.0).floor().max(0.0) as u32;
        pr.next
            .get_or_insert(((t / 60.0).floor().max(0.0) as u32).saturating_add(1));
        self.provision_to(pr, upto);
    }

    /// Provisions the minutes from the next one to `upto`.
    fn provision_to(&mut self, mut pr: Provision, upto: u32) {
        let Some(next) = pr.next else {
            self.provision = Some(pr);
            return;
        };
        for minute in next..=upto {
            let t0 = f64::from(minute) * 60.0 - pr.lead;
            let until = f64::from(minute + 1) * 60.0;
            pr.targets.clear();
            let policy = self.policy.provisioning().expect("it has the part");
            policy.targets(minute, &mut pr.targets);
            for &(func, pods) in &pr.targets {
                self.provide(func as usize, pods as usize, t0, until);
            }
        }
        pr.next = Some(next.max(upto.saturating_add(1)));
        self.provision = Some(pr);
    }

    /// Function `fi` has `n` pods loaded from `t0` to `until` at least: its loaded pods (up to
    /// `n`) are kept to `until`, and the missing ones start at `t0` (pre-warms: cold starts no
    /// request has asked for).
    fn provide(&mut self, fi: usize, n: usize, t0: f64, until: f64) {
        let mut have = 0;
        for i in 0..self.state[fi].pods.len() {
            let p = self.state[fi].pods.get_mut(i);
            p.settle(t0);
            if p.idle() && (t0 >= p.expire_at || p.unloaded_at(t0)) {
                continue;
            }
            have += 1;
            if have <= n {
                p.expire_at = p.expire_at.max(until);
            }
        }
        let mb = self.functions[fi].memory_mb;
        for _ in have..n {
            self.loaded_mb += f64::from(mb);
            let serial = self.state[fi].next_pod;
            self.state[fi].next_pod += 1;
            // Its cost is drawn apart from the requests' (k counts requests).
            let c = self.costs.cold_start(fi as u32, PREWARM_DRAWS + serial);
            self.metrics.per_function[fi].prewarms += 1;
            self.state[fi].pods.push_back(Pod {
                serial,
                minute_seen: -1,
                created: t0,
                ready_at: t0 + c[0],
                ends: SmallVec::new(),
                last_end: t0,
                last_arrival: t0,
                warm_from: t0,
                expire_at: until,
                segment_start: t0,
                cold_cost: c[0],
                priority: 0.0,
                stamp: 0,
                uses: 0,
                extra: 0.0,
            });
        }
    }

    /// The requests in flight at `t` (those that ended by `t` are forgotten).
    fn load_at(&mut self, t: f64) -> Load {
        let Some(h) = &mut self.in_flight else {
            return Load {
                in_flight: 0,
                next_end: f64::INFINITY,
            };
        };
        while h.peek().is_some_and(|e| f64::from_bits(e.0) <= t) {
            h.pop();
        }
        Load {
            in_flight: h.len(),
            next_end: h.peek().map_or(f64::INFINITY, |e| f64::from_bits(e.0)),
        }
    }

    /// Holds `inv` until `until`, when it is asked again. Behind requests held before it, it
    /// is asked when it comes first, and the first is asked by `until` too (the load that
    /// would have let it go lets the first go).
    fn hold(&mut self, inv: Invocation, k: u64, until: f64) {
        if let Some(first) = self.held.front_mut() {
            first.until = first.until.min(until);
        }
        self.held.push_back(Held { until, inv, k });
    }

    /// Asks the admission again about the first held request once its hold ends by `now`:
    /// held again, or placed at the end of its hold, and then the next is asked at once. Each
    /// re-ask costs one request's question however many wait behind it, so holds of hours
    /// cost no more than holds of seconds.
    fn release_held(&mut self, now: f64) {
        while self.held.front().is_some_and(|h| h.until <= now) {
            let h = self.held.pop_front().expect("looked at");
            let load = self.load_at(h.until);
            let f = &self.functions[h.inv.func as usize];
            let admission = self.policy.admission().expect("it held the request");
            let waited = h.until - h.inv.t;
            let delay = admission.delay(h.inv.func, f, h.until, waited, &load);
            if delay > 0.0 && delay.is_finite() {
                self.held.push_front(Held {
                    until: h.until + delay,
                    ..h
                });
            } else {
                self.advance_pools(h.until);
                self.place(h.inv, h.k, h.until);
                // The next waits no longer than this one's end of hold.
                if let Some(next) = self.held.front_mut() {
                    next.until = next.until.min(h.until).max(next.inv.t);
                }
            }
        }
    }

    /// Places request `inv` (the `k`-th of its function) at `t`, its arrival or the end of its
    /// hold.
    fn place(&mut self, inv: Invocation, k: u64, t: f64) {
        let fi = inv.func as usize;
        let f = &self.functions[fi];
        let delay = t - inv.t;

        let conc = self.state[fi].concurrency as usize;
        let fast = self.fast_path(fi);
        let free = if fast {
            self.first_with_room(fi, t, conc)
        } else {
            self.sweep(fi, t);
            self.best_with_room(&self.state[fi].pods, conc)
        };
        let cold = free.is_none();
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
                        self.loaded(a, b, f.memory_mb);
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
                let remote = if self.placement {
                    (self.policy.placement()).and_then(|p| p.place(inv.func, f, self.costs, t))
                } else {
                    None
                };
                let (region, extra) = remote.map_or((0, 0.0), |r| (r.region, r.latency));
                let mut c = match remote {
                    None => self.costs.cold_start_at(inv.func, k, t),
                    Some(r) => {
                        self.metrics.remote_cold_starts += 1;
                        match r.pressure {
                            Some(p) => self.costs.cold_start_in_under(inv.func, k, r.region, p),
                            None => self.costs.cold_start_in(inv.func, k, r.region),
                        }
                    }
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
                if self.placement {
                    let hours = &mut self.metrics.by_region_hour;
                    if hours.len() <= region {
                        hours.resize(region + 1, RegionHours::default());
                    }
                    let hour = (((t.max(0.0) % SECONDS_PER_DAY) / 3600.0) as usize).min(23);
                    hours[region].cold_starts[hour] += 1;
                    hours[region].cold_seconds[hour] += c[0];
                }
                self.count_cold_start(fi, t, c[0]);
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
                    stamp: 0,
                    uses: 0,
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
        p.uses += 1;
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
        let used = Used {
            func: inv.func,
            function: f,
            cold,
            cold_cost: p.cold_cost,
            t,
            expire_at: p.expire_at,
        };
        if let Some(e) = self.capacity.and_then(|_| self.policy.eviction()) {
            let priority = e.priority(&used);
            self.prioritise(fi, idx, priority);
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
            if start - inv.t > self.deadline {
                m.deadline_misses += 1;
            }
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
    /// policies without pod-by-pod placement or unloading pods allow. Under a memory capacity
    /// such a pod still counts as loaded until it leaves, as other functions' pods do on the
    /// reference path; the capacity policies either keep pods until evicted or evict them by
    /// when their keep-alive runs out (see [`evict`]), so pods whose keep-alive ran out go
    /// first, uncounted, and the same pods are evicted either way.
    fn fast_path(&self, fi: usize) -> bool {
        self.routing == Routing::Spread && !self.exhaustive && !self.state[fi].may_unload
    }

    /// On the fast path: the first pod with room at `t` in the order they were last sent a
    /// request; idle pods met on the way whose keep-alive ran out leave. The pods passed over
    /// stay full until the earliest of their requests ends, so the ring holds them, and the
    /// next search before then starts behind them (a burst's pods serving long requests are
    /// not read again by every request after it).
    fn first_with_room(&mut self, fi: usize, t: f64, conc: usize) -> Option<usize> {
        let (mut i, mut until) = self.state[fi].pods.held_front(t);
        while i < self.state[fi].pods.len() {
            let pods = &mut self.state[fi].pods;
            let p = pods.get_mut(i);
            p.settle(t);
            if p.idle() {
                if t >= p.expire_at {
                    let p = pods.remove(i);
                    self.retire(fi, p, t);
                    continue;
                }
                pods.hold_front(i, until);
                return Some(i);
            }
            if p.ends.len() < conc {
                pods.hold_front(i, until);
                return Some(i);
            }
            until = p.ends.iter().fold(until, |u, &e| u.min(e));
            i += 1;
        }
        self.state[fi].pods.hold_front(i, until);
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

    /// After a [`Engine::sweep`]: the pod with room the routing picks, wherever it is (a pod in
    /// another region costs each request its latency).
    fn best_with_room(&self, pods: &Ring<Pod>, conc: usize) -> Option<usize> {
        let mut free: Option<usize> = None;
        for (i, p) in pods.iter().enumerate() {
            if p.ends.len() >= conc {
                continue;
            }
            let better = match free.map(|j| pods.get(j)) {
                None => true,
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

    /// Ends the run: every pod leaves at the end of its plan (or of the trace).
    pub fn finish(self) -> Metrics {
        self.finish_with_events().0
    }

    /// [`Engine::finish`], handing back the watcher too.
    pub fn finish_with_events(mut self) -> (Metrics, E) {
        // Requests still held go out (each admission's holds end by its deadline).
        self.release_held(f64::INFINITY);
        if let Some(pr) = self.provision.take() {
            // Provisioned to the trace's last minute, whether requests come or not.
            let last = ((self.end_of_trace / 60.0) as u32).saturating_sub(1);
            self.provision_to(pr, last);
        }
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
        self.finish_fluid();
        for fi in 0..self.state.len() {
            for p in self.state[fi].pods.take_all() {
                let at = p.expire_at.max(p.last_end);
                self.retire(fi, p, at);
            }
        }
        let n = self.running_delta.len() - 1;
        self.metrics.loaded_mb_per_minute = running_sums(&self.memory_delta[..n]).collect();
        metrics::sort_changes(&mut self.memory_changes);
        self.metrics.loaded_changes = std::mem::take(&mut self.memory_changes);
        self.metrics.running_per_minute = running_sums(&self.running_delta[..n])
            .map(|v| v as u32)
            .collect();
        (self.metrics, self.events)
    }
}

/// Where the cost draws of provisioned pods start (far from any request's index).
const PREWARM_DRAWS: u64 = 1 << 62;

/// The state of a policy's provisioning part in the engine.
struct Provision {
    /// The next minute to provision (None until the first request).
    next: Option<u32>,
    lead: f64,
    targets: Vec<(u32, u32)>,
}

/// A request the admission holds until `until` (then asked again, when it is the first held).
struct Held {
    until: f64,
    inv: Invocation,
    /// Its index among its function's requests.
    k: u64,
}

/// The running sums of per-minute changes (none below 0).
fn running_sums(delta: &[i64]) -> impl Iterator<Item = u64> + '_ {
    delta.iter().scan(0i64, |run, d| {
        *run += d;
        Some((*run).max(0) as u64)
    })
}
