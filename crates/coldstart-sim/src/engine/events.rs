//! What the engine reports as it goes (`coldstart synth` writes its release from it).

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
    /// When it was unloaded (at most the end of the trace).
    pub t: f64,
    /// Its utility ratio (spec section 3, fig 17); `None` for a cold start of 0 s.
    pub utility: Option<f64>,
}

/// A minute of a function replayed minute by minute ([`super::FluidDay`]), after its cold
/// starts and the pods that ended in it were told: its requests (numbered from `first_k`,
/// the cold starts' first) and the pods loaded at some time in it.
#[derive(Debug, Clone, Copy)]
pub struct FluidMinuteEvent {
    pub func: u32,
    pub start: f64,
    pub requests: u64,
    pub loaded: u32,
    pub first_k: u64,
}

/// Watches a run as it happens (in event order per function); every method defaults to
/// doing nothing, and `()` watches nothing.
pub trait Events {
    fn cold_start(&mut self, _e: &ColdStartEvent) {}
    fn served(&mut self, _e: &ServedEvent) {}
    fn pod_end(&mut self, _e: &PodEndEvent) {}
    fn fluid_minute(&mut self, _e: &FluidMinuteEvent) {}
}

impl Events for () {}
