//! Eviction under a memory capacity: a cold start that does not fit evicts idle pods, lowest
//! priority first, ties broken by the lower function index, then the older pod (lower serial).
//!
//! Idle pods are found through two min-heaps of entries, one pushed each time a pod is used:
//! `busy`, keyed by when the pod's requests end, and `idle`, keyed by `(priority, function,
//! serial)`, which a cold start first moves every entry of `busy` that has ended into. An
//! entry is stale when its pod has left or has been used since (each entry carries the stamp
//! its pod had when it was pushed); stale entries are dropped when popped, and both heaps are
//! rebuilt from the loaded pods when they hold twice as many entries as there are pods.
//! Requests are dispatched in time order under a capacity (no policy with one delays
//! requests), so a pod whose requests have ended stays idle until it is used again.
//!
//! Where the eviction order sets one priority for all of a function's pods
//! ([`crate::policy::Eviction::per_function`]), a use does not push the function's other pods
//! again: an entry whose priority is below its function's when it is popped goes back in at the
//! function's, and only a use that lowers the function's priority pushes every pod of it at the
//! new one. Every loaded pod so keeps an entry at or below its priority.
//! [`Engine::exhaustive`] scans every pod for each eviction instead (the reference the heaps
//! are tested against).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::*;

/// A pod that may be evicted, as its priority was when it was last used. Compared as whole
/// numbers (the priority's bits mapped to an order-preserving `u64`): the heaps compare
/// entries at every push and pop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Candidate {
    priority: u64,
    func: u32,
    serial: u64,
    stamp: u64,
}

/// `x`'s place in `f64::total_cmp`'s order, as a `u64`.
fn ordered(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// A pod in use: when its requests end (as [`ordered`] bits), then the candidate it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Busy {
    until: u64,
    candidate: Candidate,
}

/// The heaps of eviction candidates.
#[derive(Debug, Default)]
pub(super) struct Candidates {
    busy: BinaryHeap<Reverse<Busy>>,
    idle: BinaryHeap<Reverse<Candidate>>,
    /// Every entry of `busy` ending by this time has been moved to `idle`.
    moved_to: f64,
    /// The stamp the next use gets.
    next_stamp: u64,
    /// Entries past which both heaps are rebuilt from the loaded pods.
    limit: usize,
}

/// Whether pod `p` is idle and loaded at `t`, so that it may be evicted.
fn evictable(p: &Pod, t: f64) -> bool {
    p.ends.iter().all(|e| *e <= t) && p.ready_at <= t
}

impl<E: Events> Engine<'_, E> {
    /// Pod `idx` of function `fi` was just used: its priority is set and it enters the heaps.
    pub(super) fn prioritise(&mut self, fi: usize, idx: usize, priority: f64) {
        let c = &mut self.candidates;
        let stamp = c.next_stamp;
        c.next_stamp += 1;
        let s = &mut self.state[fi];
        let lowered = self.per_function && ordered(priority) < ordered(s.priority);
        if self.per_function {
            s.priority = priority;
        }
        let p = s.pods.get_mut(idx);
        p.priority = priority;
        p.stamp = stamp;
        let candidate = Candidate {
            priority: ordered(priority),
            func: fi as u32,
            serial: p.serial,
            stamp,
        };
        c.busy.push(Reverse(Busy {
            until: ordered(p.last_end),
            candidate,
        }));
        if lowered {
            // The function's other pods had entries above their priority now: each gets one at it.
            let others = s.pods.iter().enumerate().filter(|(i, _)| *i != idx);
            for (_, p) in others {
                c.busy.push(Reverse(Busy {
                    until: ordered(p.last_end),
                    candidate: Candidate {
                        priority: ordered(priority),
                        func: fi as u32,
                        serial: p.serial,
                        stamp: p.stamp,
                    },
                }));
            }
        }
        if c.busy.len() + c.idle.len() > c.limit.max(4096) {
            self.rebuild_candidates();
        }
    }

    /// The priority pod `p` of function `fi` is evicted by: its own, or its function's.
    fn priority_of(&self, fi: usize, p: &Pod) -> f64 {
        if self.per_function {
            self.state[fi].priority
        } else {
            p.priority
        }
    }

    /// Both heaps again, with one entry per loaded pod.
    fn rebuild_candidates(&mut self) {
        let c = &mut self.candidates;
        c.busy.clear();
        c.idle.clear();
        for (fi, s) in self.state.iter().enumerate() {
            for p in s.pods.iter() {
                let priority = if self.per_function {
                    s.priority
                } else {
                    p.priority
                };
                let candidate = Candidate {
                    priority: ordered(priority),
                    func: fi as u32,
                    serial: p.serial,
                    stamp: p.stamp,
                };
                if p.last_end <= c.moved_to {
                    c.idle.push(Reverse(candidate));
                } else {
                    c.busy.push(Reverse(Busy {
                        until: ordered(p.last_end),
                        candidate,
                    }));
                }
            }
        }
        c.limit = 2 * (c.busy.len() + c.idle.len());
    }

    /// Whether `c` stands for a loaded pod as it is now, and where that pod is.
    fn find(&self, c: &Candidate) -> Option<usize> {
        let pods = &self.state[c.func as usize].pods;
        let i = pods.iter().position(|p| p.serial == c.serial)?;
        (pods.get(i).stamp == c.stamp).then_some(i)
    }

    /// Evicts idle pods, lowest priority first, until `need` MB fit under `cap` at time `t`
    /// (or no idle pod is left). A pod whose keep-alive had already run out leaves without
    /// counting as an eviction.
    pub(super) fn make_room(&mut self, cap: f64, need: f64, t: f64) {
        if self.exhaustive {
            return self.make_room_by_scan(cap, need, t);
        }
        if self.loaded_mb + need <= cap {
            return;
        }
        // Pods whose requests have ended by `t` become candidates.
        let c = &mut self.candidates;
        c.moved_to = c.moved_to.max(t);
        let until = ordered(t);
        while let Some(Reverse(b)) = c.busy.peek().copied().filter(|b| b.0.until <= until) {
            c.busy.pop();
            c.idle.push(Reverse(b.candidate));
        }
        while self.loaded_mb + need > cap {
            let Some(Reverse(c)) = self.candidates.idle.pop() else {
                break;
            };
            if let Some(i) = self.find(&c) {
                let g = c.func as usize;
                debug_assert!(evictable(self.state[g].pods.get(i), t));
                let now = ordered(self.priority_of(g, self.state[g].pods.get(i)));
                if now > c.priority {
                    // Its function was used since this entry was pushed: back in at its priority.
                    self.candidates
                        .idle
                        .push(Reverse(Candidate { priority: now, ..c }));
                    continue;
                }
                self.evict(g, i, t);
            }
        }
    }

    /// [`Engine::make_room`] by looking at every pod of every function for each eviction.
    fn make_room_by_scan(&mut self, cap: f64, need: f64, t: f64) {
        while self.loaded_mb + need > cap {
            // The eviction order: priority, then function, then serial.
            let mut best: Option<(usize, usize, (u64, u32, u64))> = None;
            for (g, s) in self.state.iter().enumerate() {
                for (i, p) in s.pods.iter().enumerate() {
                    let key = (ordered(self.priority_of(g, p)), g as u32, p.serial);
                    if evictable(p, t) && best.is_none_or(|b| key < b.2) {
                        best = Some((g, i, key));
                    }
                }
            }
            let Some((g, i, _)) = best else { return };
            self.evict(g, i, t);
        }
    }

    /// Pod `i` of function `g`, idle at `t`, leaves.
    fn evict(&mut self, g: usize, i: usize, t: f64) {
        // Removed in place: on the fast path the pods stay in the order they were sent requests.
        let priority = self.priority_of(g, self.state[g].pods.get(i));
        let mut p = self.state[g].pods.remove(i);
        let ran_out = p.expire_at <= t;
        p.ends.clear();
        p.expire_at = p.expire_at.min(t);
        self.retire(g, p, t);
        if !ran_out {
            if let Some(e) = self.policy.eviction() {
                e.evicted(priority);
            }
            self.metrics.evictions += 1;
        }
    }
}
