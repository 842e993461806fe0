//! What a replay measures: per function, per pool and over the whole platform.

use super::*;

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
    /// Asynchronous requests held by the policy's admission, and the seconds they were held.
    pub delayed: u64,
    pub delay_seconds: f64,
    /// Held requests that started executing later than the admission's deadline after they
    /// arrived.
    pub deadline_misses: u64,
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

/// Cold starts placed in one region by the hour of the day they happened (hour 0: the trace's
/// seconds 0..3600 of each day), for policies that place pods in other regions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionHours {
    pub cold_starts: [u64; 24],
    /// Their cold-start seconds, as paid there (the region's costs under its load; the
    /// latency of reaching it is paid by each request, not counted here).
    pub cold_seconds: [f64; 24],
}

impl RegionHours {
    fn add(&mut self, o: &RegionHours) {
        for h in 0..24 {
            self.cold_starts[h] += o.cold_starts[h];
            self.cold_seconds[h] += o.cold_seconds[h];
        }
    }

    fn subtract(&mut self, o: &RegionHours) {
        for h in 0..24 {
            self.cold_starts[h] -= o.cold_starts[h];
            self.cold_seconds[h] -= o.cold_seconds[h];
        }
    }
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
    /// Cold starts on each day of the trace (index: day number).
    pub cold_starts_per_day: Vec<u64>,
    /// Pods loaded at any time during each minute of the trace.
    pub running_per_minute: Vec<u32>,
    /// Memory (MB) of the pods loaded at any time during each minute of the trace.
    pub loaded_mb_per_minute: Vec<u64>,
    /// Where pods' loaded stretches start (+MB) and end (-MB), in seconds, sorted by time with
    /// the ends first at equal times (a stretch is [start, end)).
    pub loaded_changes: Vec<(f64, i64)>,
    /// Seconds from which the metrics count (after warm-up days; 0 without).
    pub measured_from: f64,
    /// Idle GB-seconds (idle pod-seconds times the function's memory), pool pods included.
    pub idle_gb_seconds: f64,
    pub pool: PoolMetrics,
    /// Cold starts sent to another region, and requests served by pods there.
    pub remote_cold_starts: u64,
    pub remote_requests: u64,
    /// Under a policy that places pods in other regions: the cold starts in each region (0:
    /// the workload's own, then [`crate::costs::CostModel::other_regions`] in order) by hour
    /// of the day. Empty for other policies.
    pub by_region_hour: Vec<RegionHours>,
    /// Idle pods evicted to make room (policies with a memory capacity).
    pub evictions: u64,
    /// Requests processed and seconds the engine took.
    pub events: u64,
    pub wall_seconds: f64,
}

impl Metrics {
    pub(super) fn new(policy: String, functions: usize) -> Self {
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
            cold_starts_per_day: Vec::new(),
            running_per_minute: Vec::new(),
            loaded_mb_per_minute: Vec::new(),
            loaded_changes: Vec::new(),
            measured_from: 0.0,
            idle_gb_seconds: 0.0,
            pool: PoolMetrics::default(),
            remote_cold_starts: 0,
            remote_requests: 0,
            by_region_hour: Vec::new(),
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
            f.deadline_misses -= b.deadline_misses;
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
        for (r, b) in self.by_region_hour.iter_mut().zip(&before.by_region_hour) {
            r.subtract(b);
        }
        for (d, b) in self
            .cold_starts_per_day
            .iter_mut()
            .zip(&before.cold_starts_per_day)
        {
            *d -= b;
        }
        let m = minute.min(self.running_per_minute.len());
        self.running_per_minute[..m].fill(0);
        let m = minute.min(self.loaded_mb_per_minute.len());
        self.loaded_mb_per_minute[..m].fill(0);
        self.measured_from = minute as f64 * 60.0;
        self
    }

    /// Adds a shard's metrics: the same policy on other functions of the same workload, over
    /// the same time, on another core. `wall_seconds` is the longer of the two.
    pub(super) fn merge(&mut self, o: Metrics) {
        for (f, g) in self.per_function.iter_mut().zip(o.per_function) {
            f.invocations += g.invocations;
            f.cold_starts += g.cold_starts;
            f.cold_seconds += g.cold_seconds;
            f.idle_seconds += g.idle_seconds;
            f.prewarms += g.prewarms;
            f.delayed += g.delayed;
            f.delay_seconds += g.delay_seconds;
            f.deadline_misses += g.deadline_misses;
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
        if self.cold_starts_per_day.len() < o.cold_starts_per_day.len() {
            self.cold_starts_per_day
                .resize(o.cold_starts_per_day.len(), 0);
        }
        for (d, g) in self
            .cold_starts_per_day
            .iter_mut()
            .zip(&o.cold_starts_per_day)
        {
            *d += g;
        }
        for (r, g) in self
            .running_per_minute
            .iter_mut()
            .zip(&o.running_per_minute)
        {
            *r += g;
        }
        for (r, g) in (self.loaded_mb_per_minute.iter_mut()).zip(&o.loaded_mb_per_minute) {
            *r += g;
        }
        self.loaded_changes.extend(o.loaded_changes);
        sort_changes(&mut self.loaded_changes);
        self.idle_gb_seconds += o.idle_gb_seconds;
        self.evictions += o.evictions;
        self.pool.hits += o.pool.hits;
        self.pool.misses += o.pool.misses;
        self.pool.created += o.pool.created;
        self.pool.idle_seconds += o.pool.idle_seconds;
        self.pool.idle_gb_seconds += o.pool.idle_gb_seconds;
        self.remote_cold_starts += o.remote_cold_starts;
        self.remote_requests += o.remote_requests;
        if self.by_region_hour.len() < o.by_region_hour.len() {
            self.by_region_hour
                .resize(o.by_region_hour.len(), RegionHours::default());
        }
        for (r, g) in self.by_region_hour.iter_mut().zip(&o.by_region_hour) {
            r.add(g);
        }
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

    /// Requests the admission held, the mean seconds they were held, and those of them that
    /// started after the admission's deadline.
    pub fn held(&self) -> (u64, f64, u64) {
        let n: u64 = self.per_function.iter().map(|f| f.delayed).sum();
        let secs: f64 = self.per_function.iter().map(|f| f.delay_seconds).sum();
        let late: u64 = self.per_function.iter().map(|f| f.deadline_misses).sum();
        (n, if n == 0 { 0.0 } else { secs / n as f64 }, late)
    }

    pub fn peak_running_pods(&self) -> u32 {
        self.running_per_minute.iter().copied().max().unwrap_or(0)
    }

    /// Peak memory: the most memory (MB) of pods loaded at one instant from
    /// [`Metrics::measured_from`] on: the `capacity` a policy would need to run without
    /// evictions. (Unlike the per-minute counts, a pod leaving and another loading within the
    /// same minute do not both count.)
    pub fn peak_loaded_mb(&self) -> u64 {
        let (mut level, mut peak, mut counting) = (0i64, 0i64, false);
        for &(t, d) in &self.loaded_changes {
            if !counting && t >= self.measured_from {
                counting = true;
                peak = peak.max(level);
            }
            level += d;
            if counting {
                peak = peak.max(level);
            }
        }
        if !counting {
            peak = peak.max(level);
        }
        peak.max(0) as u64
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
pub(super) fn us(s: f64) -> u64 {
    (s.max(0.0) * 1e6 + 0.5) as u64
}

/// The minute of the trace holding `t` (a cast for the times >= 0 of every request).
pub(super) fn minute_of(t: f64) -> i64 {
    if t >= 0.0 {
        (t / 60.0) as i64
    } else {
        (t / 60.0).floor() as i64
    }
}

/// Sorts loaded-stretch changes by time, ends (negative) before starts at equal times. A
/// stable sort: two sorted runs (a shard's changes appended to the merged ones) merge in
/// linear time.
pub(super) fn sort_changes(c: &mut [(f64, i64)]) {
    c.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
}
