//! Eviction under a memory capacity: FaasCache's orders (Greedy-Dual and the paper's LRU,
//! FREQ, SIZE and TTL baselines) and the fixed keep-alive's capacity on hand-built workloads
//! with hand-computed answers, and the stack property of LRU (the heaps the engine finds idle
//! pods with are tested against a scan of every pod in `engine.rs`).

use coldstart_sim::costs::{CostModel, FixedCosts};
use coldstart_sim::engine::Metrics;
use coldstart_sim::workload::{Function, Invocation, Trace};
use proptest::prelude::*;

/// Cold starts cost 1 s, but 0.1 s for function 4 (`E`).
struct CheapE;

impl CostModel for CheapE {
    fn cold_start(&self, func: u32, _k: u64) -> [f64; 5] {
        let c = if func == 4 { 0.1 } else { 1.0 };
        [c, 0.0, 0.0, 0.0, 0.0]
    }
}

use crate::common;
use common::run_with as run;

fn cold(m: &Metrics) -> Vec<u64> {
    m.per_function.iter().map(|f| f.cold_starts).collect()
}

/// Five functions A..E; A holds 200 MB, the others 100 MB; room for 500 MB. Requests (0.5 s
/// each, one at a time): B at 0, 5, 10; A at 15, 20, 25, 30; C at 35; E at 40, 45 (500 MB
/// loaded); D at 100 needs a pod; then A, B, C, E once each at 200, 205, 210, 215.
fn five() -> Trace {
    let mut f: Vec<Function> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|n| Function::new(*n, "APIG-S"))
        .collect();
    f[0].memory_mb = 200;
    for g in &mut f[1..] {
        g.memory_mb = 100;
    }
    let mut inv = Vec::new();
    let mut at = |t: f64, func: u32| inv.push(Invocation { t, func, exec: 0.5 });
    for t in [0.0, 5.0, 10.0] {
        at(t, 1);
    }
    for t in [15.0, 20.0, 25.0, 30.0] {
        at(t, 0);
    }
    at(35.0, 2);
    at(40.0, 4);
    at(45.0, 4);
    at(100.0, 3);
    for (i, func) in [0, 1, 2, 4].into_iter().enumerate() {
        at(200.0 + 5.0 * i as f64, func);
    }
    Trace::new(f, inv)
}

#[test]
fn greedy_dual_lru_freq_and_size_evict_as_the_papers_simulator_does() {
    let m = run(
        &five(),
        &CheapE,
        &[
            "faascache:capacity=500",
            "faascache:capacity=500,evict=lru",
            "faascache:capacity=500,evict=freq",
            "faascache:capacity=500,evict=size",
            "faascache:capacity=500,evict=ttl,ttl=10m",
            "fixed-keepalive:ttl=10m,capacity=500",
        ],
    );
    // Greedy-Dual at D (frequency x cost / MB): A 4/200 = 0.02, B 3/100, C 1/100, E
    // 2 x 0.1/100 = 0.002: E goes, the clock is 0.002 and D gets 0.012. At 200 A, B and C are
    // warm; E's cold start evicts D (the lowest) and nothing else is cold.
    assert_eq!((cold(&m[0]), m[0].evictions), (vec![1, 1, 1, 1, 2], 2));
    // LRU at D: B (last used at 10) goes. At 200 A is warm; B evicts C (used at 35), C
    // evicts E (45), E evicts D (100).
    assert_eq!((cold(&m[1]), m[1].evictions), (vec![1, 2, 2, 1, 2], 4));
    // FREQ (clock + frequency x cost) at D: A 4, B 3, C 1, E 0.2: E goes as under GD, the
    // clock is 0.2 and D gets 1.2; at 200 E's cold start evicts D again.
    assert_eq!((cold(&m[2]), m[2].evictions), (vec![1, 1, 1, 1, 2], 2));
    // SIZE (clock + frequency / MB) at D: A 0.02, B 0.03, C 0.01, E 0.02: C goes, the clock
    // is 0.01 and D gets 0.02. At 200 A (0.035) and B (0.05) are warm; C's cold start evicts
    // D (0.02, tied with E: the lower function index); E is warm.
    assert_eq!((cold(&m[3]), m[3].evictions), (vec![1, 1, 2, 1, 1], 2));
    // A 10-minute TTL under the capacity evicts the pod nearest the end of its keep-alive:
    // the one whose last request ended first, as LRU here; so does the fixed keep-alive.
    for r in &m[4..] {
        assert_eq!(
            (cold(r), r.evictions),
            (cold(&m[1]), m[1].evictions),
            "{}",
            r.policy
        );
    }
}

/// Cold starts cost 1 s, but 2.5 s for function 1 (`G`) and 1.2 s for function 2 (`H`).
struct CostlyG;

impl CostModel for CostlyG {
    fn cold_start(&self, func: u32, _k: u64) -> [f64; 5] {
        let c = [1.0, 2.5, 1.2, 1.0][func as usize];
        [c, 0.0, 0.0, 0.0, 0.0]
    }
}

#[test]
fn a_use_reprioritises_every_pod_of_the_function_and_a_pod_leaving_takes_its_requests() {
    // Four 128 MB functions F, G, H, K under room for three pods; requests of 5 s. F gets two
    // at once at 0 (pods F0, F1), G one at 20, F one at 30 (F0, sent one least recently),
    // then H at 40, G at 50, F at 60 (F1), H at 70, K at 80, H at 90 and F at 100.
    let f: Vec<Function> = ["F", "G", "H", "K"]
        .iter()
        .map(|n| Function::new(*n, "APIG-S"))
        .collect();
    let inv = [(0.0, 0), (0.0, 0), (20.0, 1), (30.0, 0)]
        .into_iter()
        .chain([
            (40.0, 2),
            (50.0, 1),
            (60.0, 0),
            (70.0, 2),
            (80.0, 3),
            (90.0, 2),
            (100.0, 0),
        ])
        .map(|(t, func)| Invocation { t, func, exec: 5.0 })
        .collect();
    let m = run(
        &Trace::new(f, inv),
        &CostlyG,
        &["faascache:capacity=384", "faascache:capacity=384,evict=lru"],
    );
    // Greedy-Dual, in 128ths: F's use at 30 gives both its pods 3 (three requests x 1 s), so at
    // 40 G (2.5) goes, not F1 (whose own use at 0 gave it 2); the clock is 2.5 and H gets 3.7.
    // At 50 G's cold start evicts F0 (3, the older pod of F): it served two of F's three
    // requests, so F's frequency drops to 1, the clock is 3 and G gets 5.5. At 60 F1 makes F
    // 3 + 2 = 5, at 70 H 3 + 2 x 1.2 = 5.4; K's cold start at 80 evicts F1, which takes F's
    // frequency to 0; the clock is 5 and K gets 6. H is warm at 90 (8.6), and F's cold start
    // at 100 evicts G (5.5). (Counting every request F ever had, F would be at 7 at 60, K would
    // evict H, H's return K, and F would be warm at 100: 2, 2, 2, 1 cold starts, 4 evictions.)
    assert_eq!((cold(&m[0]), m[0].evictions), (vec![3, 2, 1, 1], 4));
    // LRU: at 40 both F pods were last used at 30 (F's latest request), so G (20) goes; at 50
    // F0 (30, the older pod) goes; at 80 G (50) goes, F1 being at 60 and H at 70; H and F are
    // warm at 90 and 100.
    assert_eq!((cold(&m[1]), m[1].evictions), (vec![2, 2, 1, 1], 3));
}

#[test]
fn pods_whose_keepalive_ran_out_leave_without_counting_as_evictions() {
    // A 60 s TTL: at D (100 s) B's keep-alive ran out at 70.5 s, so B leaves uncounted. At 200
    // every pod has run out (D at 161.5 s): A, B and C take the room of C, E and D, each
    // already gone, and E fits beside them. Four pods made room, none was evicted.
    let m = run(
        &five(),
        &CheapE,
        &[
            "faascache:capacity=500,evict=ttl,ttl=60s",
            "fixed-keepalive:ttl=60s,capacity=500",
            "fixed-keepalive:ttl=60s",
        ],
    );
    assert_eq!((cold(&m[0]), m[0].evictions), (vec![2, 2, 2, 1, 2], 0));
    assert_eq!((cold(&m[1]), m[1].evictions), (vec![2, 2, 2, 1, 2], 0));
    assert_eq!((cold(&m[2]), m[2].evictions), (vec![2, 2, 2, 1, 2], 0));
}

#[test]
fn peak_memory_is_the_most_loaded_at_one_instant() {
    let m = run(
        &five(),
        &CheapE,
        &["faascache:capacity=500", "fixed-keepalive:ttl=60s"],
    );
    // Under the capacity: never more than 500 MB at once (A 200 + B, C, E 100 each from
    // 40 s); D's cold start at 100 s evicts E's idle pod first.
    assert_eq!(m[0].peak_loaded_mb(), 500);
    // 60 s keep-alive: B (0-70.5 s), A (15-90.5 s), C (35-96.5 s) and E (40-105.5 s) are
    // loaded together from 40 s (500 MB); D loads at 100 s beside E alone; A, B, C and E
    // again from 215 s (500 MB).
    assert_eq!(m[1].peak_loaded_mb(), 500);
    // Counted per minute, as running pods are, D and the pods that left before it in
    // minute 1 all count: 600 MB, more than was ever loaded at once.
    for x in &m {
        assert_eq!(x.loaded_mb_per_minute.iter().max(), Some(&600));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn a_larger_lru_capacity_never_adds_cold_starts(
        gaps in prop::collection::vec((1.0f64..300.0, 0u32..8), 1..300),
        a in 1u32..9,
        b in 1u32..9,
    ) {
        // Eight 128 MB functions, one request at a time (each ends before the next arrives):
        // LRU is a stack algorithm, so a cache of more pods holds every pod a smaller one does.
        let functions: Vec<Function> =
            (0..8).map(|i| Function::new(format!("f{i}"), "APIG-S")).collect();
        let mut t = 0.0;
        let inv = gaps
            .into_iter()
            .map(|(gap, func)| {
                t += gap;
                Invocation { t, func, exec: 0.1 }
            })
            .collect();
        let trace = Trace::new(functions, inv);
        let (small, large) = (a.min(b) * 128, a.max(b) * 128);
        let m = run(
            &trace,
            &FixedCosts(0.5),
            &[
                &format!("faascache:capacity={small},evict=lru"),
                &format!("faascache:capacity={large},evict=lru"),
            ],
        );
        prop_assert!(m[1].cold_starts() <= m[0].cold_starts());
        prop_assert!(m[1].evictions <= m[0].evictions);
    }
}
