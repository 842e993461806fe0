//! Pre-warmed pools, one per CPU-memory configuration, for policies that size them.

use super::*;

/// Each CPU-memory configuration's pre-warmed pool.
pub(super) struct Pools {
    /// Each function's configuration (`None`: built from scratch, no pool).
    pub(super) config_of: Vec<Option<usize>>,
    /// Memory (GB) of each configuration's pods.
    pub(super) gb: Vec<f64>,
    pub(super) ready: Vec<u32>,
    /// Pods being created for each pool: when they are ready.
    pub(super) pending: Vec<std::collections::VecDeque<f64>>,
    /// The size each pool is kept at.
    pub(super) target: Vec<u32>,
    /// Seconds to create a pool pod.
    pub(super) refill: f64,
    /// Cold starts that drew on each pool this minute.
    pub(super) demand: Vec<u32>,
    /// Until when each pool's idle time is added up.
    pub(super) since: Vec<f64>,
    /// The minute the sizes are for.
    pub(super) minute: u32,
    /// Whether a request has come (the pools start at the workload's first minute).
    pub(super) started: bool,
}

impl Pools {
    pub(super) fn new(functions: &[Function], refill: f64) -> Self {
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
    pub(super) fn idle_until(&mut self, c: usize, t: f64, m: &mut Metrics) {
        let dt = (t - self.since[c]).max(0.0);
        let s = f64::from(self.ready[c]) * dt;
        m.pool.idle_seconds += s;
        m.pool.idle_gb_seconds += s * self.gb[c];
        m.idle_gb_seconds += s * self.gb[c];
        self.since[c] = self.since[c].max(t);
    }

    /// Pool `c`'s pods created by `t` join it (its idle time added up as they do).
    pub(super) fn settle(&mut self, c: usize, t: f64, m: &mut Metrics) {
        while let Some(&at) = self.pending[c].front().filter(|at| **at <= t) {
            self.idle_until(c, at, m);
            self.pending[c].pop_front();
            self.ready[c] += 1;
        }
        self.idle_until(c, t, m);
    }

    /// Starts creating pods for pool `c` at `t` until it will hold its target.
    pub(super) fn top_up(&mut self, c: usize, t: f64, m: &mut Metrics) {
        while self.ready[c] as usize + self.pending[c].len() < self.target[c] as usize {
            self.pending[c].push_back(t + self.refill);
            m.pool.created += 1;
        }
        self.settle(c, t, m);
    }

    /// Takes a pod from pool `c` at `t` for a cold start; whether there was one.
    pub(super) fn take(&mut self, c: usize, t: f64, m: &mut Metrics) -> bool {
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
    pub(super) fn resize(&mut self, minute: u32, policy: &mut dyn Policy, m: &mut Metrics) {
        let sizing = policy
            .pools()
            .expect("the engine keeps pools only for a policy that sizes them");
        let t = f64::from(minute) * 60.0;
        for c in 0..self.ready.len() {
            self.settle(c, t, m);
            let size = sizing.size(c, minute, self.demand[c]);
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
