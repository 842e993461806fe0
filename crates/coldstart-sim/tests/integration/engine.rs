//! The platform engine and its policies on hand-built workloads with known answers, and
//! properties that hold for any workload.

use coldstart_sim::costs::{CostModel, FixedCosts};
use coldstart_sim::engine::{
    simulate, simulate_from, ColdStartEvent, Engine, Events, Metrics, PodEndEvent, Routing,
    ServedEvent,
};
use coldstart_sim::policy::{self, FixedKeepAlive, Policy};
use coldstart_sim::workload::{Function, Invocation, Trace, Workload};
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::common;
use common::run_with;

fn run(trace: &Trace, cost: f64, policies: &[&str]) -> Vec<Metrics> {
    run_with(trace, &FixedCosts(cost), policies)
}

fn every(gap: f64, n: usize, exec: f64) -> Vec<Invocation> {
    (0..n)
        .map(|i| Invocation {
            t: 10.0 + i as f64 * gap,
            func: 0,
            exec,
        })
        .collect()
}

#[test]
fn a_request_every_61_s_under_a_60_s_keepalive_is_cold_every_time() {
    let f = vec![Function::new("f", "APIG-S")];
    // Execution 0: the pod idles from the request's end; cold start 0.5 s delays the end.
    let t = Trace::new(f.clone(), every(61.0, 100, 0.0));
    let m = &run(&t, 0.0, &["fixed-keepalive:ttl=60s"])[0];
    assert_eq!((m.invocations(), m.cold_starts()), (100, 100));
    let t = Trace::new(f, every(59.0, 100, 0.0));
    let m = &run(&t, 0.0, &["fixed-keepalive:ttl=60s"])[0];
    assert_eq!((m.invocations(), m.cold_starts()), (100, 1));
    // The pod idled 59 s between requests and 60 s after the last: 99 * 59 + 60.
    assert!(
        (m.idle_seconds() - (99.0 * 59.0 + 60.0)).abs() < 1e-6,
        "{}",
        m.idle_seconds()
    );
    assert_eq!(m.peak_running_pods(), 1);
}

#[test]
fn spread_routing_keeps_every_pod_of_a_busy_function_warm_and_first_fit_lets_them_go() {
    let f = vec![Function::new("f", "APIG-S")];
    // Two pods from requests 0.5 s apart (execution 1 s, concurrency 1), then one request every
    // 25 s from 10 s to 160 s, then two at once at 170 s.
    let mut inv: Vec<Invocation> = [0.0, 0.5]
        .into_iter()
        .chain((0..7).map(|i| 10.0 + 25.0 * f64::from(i)))
        .chain([170.0, 170.0])
        .map(|t| Invocation {
            t,
            func: 0,
            exec: 1.0,
        })
        .collect();
    inv.sort_by(|a, b| a.t.total_cmp(&b.t));
    let cold = |routing| {
        let mut w = Trace::new(f.clone(), inv.clone());
        let p = vec![policy::parse("fixed-keepalive:ttl=60s", 1).unwrap()];
        let m = simulate_from(&mut w, &FixedCosts(0.0), p, 0, routing, |_, _| {}).unwrap();
        (m[0].cold_starts(), m[0].idle_seconds())
    };
    // Spread: the requests every 25 s alternate between the two pods, which both stay warm
    // for the pair at 170 s. Pod A serves 0, 10, 60, 110, 160, 170 (idle 9 + 49 + 49 + 49 + 9,
    // and 60 after); pod B 0.5, 35, 85, 135, 170 (33.5 + 49 + 49 + 34, and 60 after).
    let (c, idle) = cold(Routing::Spread);
    assert_eq!(c, 2);
    let want = 9.0 + 49.0 * 3.0 + 9.0 + 60.0 + 33.5 + 49.0 * 2.0 + 34.0 + 60.0;
    assert!((idle - want).abs() < 1e-9, "{idle} against {want}");
    // First fit: the oldest pod takes every request alone, the other leaves 60 s after 1.5 s,
    // and the second request at 170 s starts a third pod.
    let (c, _) = cold(Routing::FirstFit);
    assert_eq!(c, 3);
}

/// Counts what the engine tells its watcher.
#[derive(Default)]
struct Seen {
    cold: Vec<(u64, f64, u64)>,
    served: Vec<(u64, f64, f64, u64, bool)>,
    ended: Vec<(u64, Option<f64>)>,
}

impl Events for Seen {
    fn cold_start(&mut self, e: &ColdStartEvent) {
        self.cold.push((e.k, e.t, e.pod));
    }
    fn served(&mut self, e: &ServedEvent) {
        self.served
            .push((e.k, e.t, e.start, e.pod, e.first_in_minute));
    }
    fn pod_end(&mut self, e: &PodEndEvent) {
        self.ended.push((e.pod, e.utility));
    }
}

#[test]
fn the_engine_tells_its_watcher_each_cold_start_request_and_pod_end() {
    let f = vec![Function::new("f", "APIG-S")];
    // Two requests 5 s apart on one pod (cold start 2 s, execution 0), a third 96 s later on a
    // new pod (the first left after 60 s idle).
    let inv = [0.0, 5.0, 101.0].map(|t| Invocation {
        t,
        func: 0,
        exec: 0.0,
    });
    let costs = FixedCosts(2.0);
    let mut e = Engine::with_events(
        &f,
        &costs,
        Box::new(FixedKeepAlive::new(60.0)),
        1,
        Seen::default(),
    );
    for i in inv {
        e.invoke(i);
    }
    let (m, seen) = e.finish_with_events();
    assert_eq!(m.cold_starts(), 2);
    assert_eq!(seen.cold, vec![(0, 0.0, 0), (2, 101.0, 1)]);
    // The first request waits for its pod to be ready at 2 s; the second is the pod's second
    // request of minute 0; the third is pod 1's first of minute 1.
    assert_eq!(
        seen.served,
        vec![
            (0, 0.0, 2.0, 0, true),
            (1, 5.0, 5.0, 0, false),
            (2, 101.0, 103.0, 1, true)
        ]
    );
    // Utility ratio: (last arrival - cold start) / cold start time: 5/2 and 0/2.
    assert_eq!(seen.ended, vec![(0, Some(2.5)), (1, Some(0.0))]);
    assert_eq!(m.pods, 2);
    assert_eq!(m.pods_below_1, 1);
}

#[test]
fn simultaneous_requests_start_one_pod_each_unless_pods_take_several() {
    let mut f = vec![Function::new("f", "APIG-S")];
    let burst: Vec<Invocation> = (0..7)
        .map(|_| Invocation {
            t: 100.0,
            func: 0,
            exec: 2.0,
        })
        .collect();
    let m = &run(
        &Trace::new(f.clone(), burst.clone()),
        1.0,
        &["fixed-keepalive"],
    )[0];
    assert_eq!(m.cold_starts(), 7);
    assert_eq!(m.peak_running_pods(), 7);
    // Each waited for its own cold start (1 s) and ran 2 s.
    // (to the histogram's 3 significant figures)
    let p50 = m.latency_us.value_at_quantile(0.5) as f64;
    assert!((p50 - 3e6).abs() <= 3e6 * 1e-3, "{p50}");
    f[0].concurrency = 4;
    let m = &run(&Trace::new(f, burst), 1.0, &["fixed-keepalive"])[0];
    assert_eq!(m.cold_starts(), 2);
}

#[test]
fn a_five_minute_timer_under_timer_prewarm_starts_cold_once() {
    let f = vec![Function::new("cron", "TIMER-A")];
    let t = Trace::new(f, every(300.0, 200, 0.5));
    let m = run(&t, 0.8, &["fixed-keepalive:ttl=60s", "timer-prewarm"]);
    assert_eq!(
        m[0].cold_starts(),
        200,
        "60 s keep-alive: every firing is cold"
    );
    assert_eq!(m[1].cold_starts(), 1, "timer-prewarm: only the first");
    // Pre-warmed before each firing from the third on; idle only lead + slack-ish windows,
    // far below keeping the pod for the whole 5 minutes.
    assert!(m[1].prewarms() >= 197, "{}", m[1].prewarms());
    let always = 200.0 * 300.0;
    assert!(
        m[1].idle_seconds() < 0.1 * always,
        "{}",
        m[1].idle_seconds()
    );
}

#[test]
fn a_window_that_does_not_restart_ends_the_pod_ttl_after_its_cold_start() {
    let f = vec![Function::new("f", "APIG-S")];
    // Requests every 20 s for 10 minutes: with restart=no a pod lives at most 60 s.
    let t = Trace::new(f, every(20.0, 30, 0.0));
    let m = run(
        &t,
        0.0,
        &[
            "fixed-keepalive:ttl=60s",
            "fixed-keepalive:ttl=60s,restart=no",
        ],
    );
    assert_eq!(m[0].cold_starts(), 1);
    assert_eq!(m[1].cold_starts(), 10);
}

#[test]
fn hybrid_histogram_unloads_a_regular_function_between_its_requests() {
    let f = vec![Function::new("f", "APIG-S")];
    // One request every 10.5 minutes for a day: after 10 samples the histogram is
    // representative; the pod is unloaded, pre-warmed at 9 minutes, and the requests stay warm.
    let t = Trace::new(f, every(630.0, 137, 0.0));
    let m = run(&t, 0.5, &["fixed-keepalive:ttl=60s", "hybrid-histogram"]);
    assert_eq!(m[0].cold_starts(), 137);
    assert_eq!(m[1].cold_starts(), 1);
    // Loaded only about 1.9 of every 10.5 minutes once pre-warming starts.
    let fixed_10m = run(&t, 0.5, &["fixed-keepalive:ttl=10m"])[0].idle_seconds();
    assert!(
        m[1].idle_seconds() < 0.5 * fixed_10m,
        "{} vs {fixed_10m}",
        m[1].idle_seconds()
    );
}

fn workload() -> impl Strategy<Value = Trace> {
    let inv = (0.0f64..4000.0, 0u32..3, 0.0f64..30.0);
    (prop::collection::vec(inv, 1..300), 1u32..3).prop_map(|(v, conc)| {
        let mut functions = vec![
            Function::new("a", "APIG-S"),
            Function::new("b", "TIMER-A"),
            Function::new("c", "OBS-A"),
        ];
        functions[0].concurrency = conc;
        let inv = v
            .into_iter()
            .map(|(t, func, exec)| Invocation { t, func, exec })
            .collect();
        Trace::new(functions, inv)
    })
}

/// The metrics of `t` replayed on the engine's fast path and on its reference path (every
/// request looks at every pod), each under a fresh policy from `policy`.
fn fast_and_reference(
    t: &Trace,
    costs: &dyn CostModel,
    policy: impl Fn() -> Box<dyn Policy>,
) -> (Metrics, Metrics) {
    let run = |exhaustive: bool| {
        let f = t.functions().to_vec();
        let mut e = Engine::new(&f, costs, policy(), 1);
        if exhaustive {
            e = e.exhaustive();
        }
        for i in &t.invocations {
            e.invoke(*i);
        }
        e.finish()
    };
    (run(false), run(true))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn invariants_hold_for_any_workload(t in workload()) {
        let specs = [
            "fixed-keepalive:ttl=10s",
            "fixed-keepalive:ttl=60s",
            "fixed-keepalive:ttl=10m",
            "hybrid-histogram:min-samples=2,cv=0.5",
            "timer-prewarm",
            "forecast-prewarm:min-rpm=0,window=1m",
            "faascache:capacity=256",
            "peak-shave:max-delay=20s,limit=2",
        ];
        let m = run(&t, 0.7, &specs);
        for r in &m {
            // Every policy sees the same invocations; cold starts never exceed them; idle
            // time is never negative.
            prop_assert_eq!(r.invocations(), t.invocations.len() as u64);
            prop_assert!(r.cold_starts() <= r.invocations());
            prop_assert!(r.cold_starts() >= 1);
            prop_assert!(r.idle_seconds() >= 0.0);
            for f in &r.per_function {
                prop_assert!(f.cold_starts <= f.invocations);
                prop_assert!(f.idle_seconds >= 0.0);
            }
        }
    }

    #[test]
    fn the_fast_path_gives_the_numbers_of_looking_at_every_pod(t in workload(), ttl in 0.0f64..300.0) {
        let (fast, all) =
            fast_and_reference(&t, &FixedCosts(0.7), || Box::new(FixedKeepAlive::new(ttl)));
        // The same pods leave, in another order: sums of seconds may differ in the last bit.
        for (a, b) in fast.per_function.iter().zip(&all.per_function) {
            prop_assert_eq!(
                (a.invocations, a.cold_starts, a.prewarms),
                (b.invocations, b.cold_starts, b.prewarms)
            );
            prop_assert!((a.cold_seconds - b.cold_seconds).abs() < 1e-6);
            prop_assert!((a.idle_seconds - b.idle_seconds).abs() < 1e-6);
        }
        prop_assert_eq!(&fast.running_per_minute, &all.running_per_minute);
        prop_assert_eq!((fast.pods, fast.pods_below_1), (all.pods, all.pods_below_1));
        prop_assert_eq!(&fast.utility_milli, &all.utility_milli);
        prop_assert_eq!(&fast.latency_us, &all.latency_us);
        prop_assert!((fast.idle_gb_seconds - all.idle_gb_seconds).abs() < 1e-6);
    }

    #[test]
    fn cross_region_placement_takes_the_fast_path_with_the_numbers_of_looking_at_every_pod(
        t in workload(),
        latency in 0.0f64..6.0,
        ttl in 0.0f64..300.0,
    ) {
        // Each function's pods all start in one region (home at a latency above 4 s, else
        // "near"), so the fast path routes as it does at home.
        let spec = format!("cross-region:latency={latency}s,ttl={ttl}s");
        let (fast, all) =
            fast_and_reference(&t, &Regions, || policy::parse(&spec, t.functions.len()).unwrap());
        for (a, b) in fast.per_function.iter().zip(&all.per_function) {
            prop_assert_eq!(
                (a.invocations, a.cold_starts),
                (b.invocations, b.cold_starts)
            );
            prop_assert!((a.cold_seconds - b.cold_seconds).abs() < 1e-6);
            prop_assert!((a.idle_seconds - b.idle_seconds).abs() < 1e-6);
        }
        prop_assert_eq!(fast.remote_cold_starts, all.remote_cold_starts);
        prop_assert_eq!(fast.remote_requests, all.remote_requests);
        prop_assert_eq!(&fast.running_per_minute, &all.running_per_minute);
        prop_assert_eq!(&fast.utility_milli, &all.utility_milli);
        prop_assert_eq!(&fast.latency_us, &all.latency_us);
        let remote = latency < 4.0 && all.cold_starts() > 0;
        prop_assert_eq!(all.remote_cold_starts == all.cold_starts(), remote || all.cold_starts() == 0);
    }

    #[test]
    fn eviction_through_heaps_on_the_fast_path_matches_a_scan_of_every_pod(
        t in workload(),
        sizes in prop::collection::vec(1u32..4, 3),
        cap in 1u32..8,
    ) {
        // Functions of 128 to 384 MB under 128 MB to 896 MB: each eviction order and the fixed
        // keep-alive's, through the engine's heaps (and its fast path) and through the reference
        // scan.
        let mut t = t;
        for (f, s) in t.functions.iter_mut().zip(sizes) {
            f.memory_mb = 128 * s;
        }
        let cap = 128 * cap;
        let specs = ["gd", "lru", "freq", "size", "ttl,ttl=60s"]
            .map(|e| format!("faascache:capacity={cap},evict={e}"));
        let fixed = format!("fixed-keepalive:ttl=30s,capacity={cap}");
        for spec in specs.iter().chain([&fixed]) {
            let (heap, scan) =
                fast_and_reference(&t, &FixedCosts(0.7), || policy::parse(spec, 3).unwrap());
            let cold = |m: &Metrics| m.per_function.iter().map(|f| f.cold_starts).collect::<Vec<_>>();
            prop_assert_eq!(cold(&heap), cold(&scan), "{}", spec);
            prop_assert_eq!((heap.evictions, heap.pods), (scan.evictions, scan.pods), "{}", spec);
            prop_assert_eq!(&heap.running_per_minute, &scan.running_per_minute, "{}", spec);
            prop_assert_eq!(&heap.loaded_mb_per_minute, &scan.loaded_mb_per_minute, "{}", spec);
            prop_assert_eq!(&heap.latency_us, &scan.latency_us, "{}", spec);
        }
    }

    #[test]
    fn a_longer_fixed_keepalive_never_adds_cold_starts(t in workload(), a in 0.0f64..600.0, b in 0.0f64..600.0) {
        let mut t = t;
        for f in &mut t.functions {
            f.concurrency = 1;
        }
        let (short, long) = (a.min(b), a.max(b));
        let cold = |ttl: f64| {
            let mut w = t.clone();
            let p: Vec<Box<dyn Policy>> = vec![Box::new(FixedKeepAlive::new(ttl))];
            simulate(&mut w, &FixedCosts(0.7), p, |_, _| {}).unwrap()[0].cold_starts()
        };
        prop_assert!(cold(long) <= cold(short));
    }
}

#[test]
fn faascache_evicts_the_lowest_priority_idle_pod_when_memory_runs_out() {
    // Three 128 MB functions, room for two pods. `hot` runs often, `rare` once, then `new`
    // needs a pod: Greedy-Dual evicts `rare` (frequency 1) and keeps `hot` (frequency 10).
    let f = vec![
        Function::new("hot", "APIG-S"),
        Function::new("rare", "APIG-S"),
        Function::new("new", "APIG-S"),
    ];
    let mut inv: Vec<Invocation> = (0..10)
        .map(|i| Invocation {
            t: 10.0 * i as f64,
            func: 0,
            exec: 1.0,
        })
        .collect();
    inv.push(Invocation {
        t: 5.0,
        func: 1,
        exec: 1.0,
    });
    inv.push(Invocation {
        t: 200.0,
        func: 2,
        exec: 1.0,
    });
    // Back after an hour: under faascache `hot` is still loaded, `rare` was evicted.
    for (t, func) in [(3800.0, 0), (3810.0, 1)] {
        inv.push(Invocation { t, func, exec: 1.0 });
    }
    let t = Trace::new(f, inv);
    let m = run(
        &t,
        1.0,
        &["faascache:capacity=256", "fixed-keepalive:ttl=60s"],
    );
    assert_eq!(m[0].evictions, 2, "rare for new, then new for rare");
    let cold: Vec<u64> = m[0].per_function.iter().map(|f| f.cold_starts).collect();
    assert_eq!(cold, [1, 2, 1]);
    // A 60 s keep-alive loses them all over the hour.
    let cold: Vec<u64> = m[1].per_function.iter().map(|f| f.cold_starts).collect();
    assert_eq!(cold, [2, 2, 1]);
}

#[test]
fn peak_shave_holds_asynchronous_requests_until_pods_free_up_but_never_synchronous_ones() {
    let burst = |trigger: &str| {
        let f = vec![Function::new("f", trigger)];
        let inv = (0..10)
            .map(|_| Invocation {
                t: 0.0,
                func: 0,
                exec: 10.0,
            })
            .collect();
        Trace::new(f, inv)
    };
    let specs = [
        "fixed-keepalive:ttl=60s",
        "peak-shave:max-delay=30s,limit=5",
    ];
    let m = run(&burst("OBS-A"), 1.0, &specs);
    assert_eq!((m[0].cold_starts(), m[0].peak_running_pods()), (10, 10));
    // Five start at once; the other five wait 11 s for them and reuse their pods.
    assert_eq!((m[1].cold_starts(), m[1].peak_running_pods()), (5, 5));
    assert_eq!(m[1].per_function[0].delayed, 5);
    assert!((m[1].per_function[0].delay_seconds - 55.0).abs() < 1e-9);
    // A delay bound shorter than the wait: dispatched at the bound, onto new pods.
    let m = run(&burst("OBS-A"), 1.0, &["peak-shave:max-delay=5s,limit=5"]);
    assert_eq!(m[0].cold_starts(), 10);
    assert!((m[0].per_function[0].delay_seconds - 25.0).abs() < 1e-9);
    // Synchronous requests are never held.
    let m = run(&burst("APIG-S"), 1.0, &specs);
    assert_eq!(m[1].cold_starts(), 10);
    assert_eq!(m[1].per_function[0].delayed, 0);
}

#[test]
fn peak_shave_holds_past_the_peak_until_the_load_falls_or_the_deadline() {
    // f (synchronous) runs 1-11 s and, from a second pod, 6-16 s (cold starts 1 s); g's
    // asynchronous request arrives at 2 s, when one request is in flight (the limit).
    let f = vec![Function::new("f", "APIG-S"), Function::new("g", "OBS-A")];
    let inv = |t, func| Invocation {
        t,
        func,
        exec: 10.0,
    };
    let trace = Trace::new(
        f,
        vec![
            inv(0.0, 0),
            Invocation {
                t: 2.0,
                func: 1,
                exec: 1.0,
            },
            inv(5.0, 0),
        ],
    );
    // Asked again when the first ends (11 s) the load is still at the limit (the second runs
    // to 16 s): held on, placed at 16 s, 14 s after it arrived.
    let m = &run(&trace, 1.0, &["peak-shave:max-delay=60s,limit=1"])[0];
    let g = &m.per_function[1];
    assert_eq!(
        (g.delayed, g.delay_seconds, g.deadline_misses),
        (1, 14.0, 0)
    );
    // A 10 s deadline: asked at 11 s with 1 s left, dispatched at 12 s; its cold start ends
    // at 13 s, 11 s after it arrived: a missed deadline.
    let m = &run(&trace, 1.0, &["peak-shave:max-delay=10s,limit=1"])[0];
    let g = &m.per_function[1];
    assert_eq!(
        (g.delayed, g.delay_seconds, g.deadline_misses),
        (1, 10.0, 1)
    );
    // Below the limit nothing waits.
    let m = &run(&trace, 1.0, &["peak-shave:max-delay=60s,limit=3"])[0];
    assert_eq!(m.per_function[1].delayed, 0);
}

/// Holds asynchronous requests while one is in flight, asking again when it ends; counts
/// the questions.
struct Gate {
    asked: Arc<AtomicU64>,
}

impl policy::KeepAlive for Gate {
    fn after_request(&mut self, _e: &policy::Ended) -> policy::Idle {
        policy::Idle::keep(60.0)
    }
}

impl Policy for Gate {
    fn name(&self) -> String {
        "gate".into()
    }
    fn admission(&mut self) -> Option<&mut dyn policy::Admission> {
        Some(self)
    }
}

impl policy::Admission for Gate {
    fn delay(&mut self, _: u32, _: &Function, t: f64, _: f64, load: &policy::Load) -> f64 {
        self.asked.fetch_add(1, Ordering::Relaxed);
        if load.in_flight >= 1 {
            load.next_end - t
        } else {
            0.0
        }
    }
}

#[test]
fn held_requests_go_first_held_first_out_and_only_the_first_is_asked_again() {
    // 200 asynchronous requests at once, 10 s each, one at a time: the i-th starts at 10 i
    // on the one pod. Asking every held request at every end would be 200 * 199 / 2 = 19,900
    // questions; asking only the first is one at its arrival and two at each end.
    let n = 200u64;
    let f = vec![Function::new("f", "OBS-A")];
    let inv = (0..n)
        .map(|_| Invocation {
            t: 0.0,
            func: 0,
            exec: 10.0,
        })
        .collect();
    let mut w = Trace::new(f, inv);
    let asked = Arc::new(AtomicU64::new(0));
    let p: Vec<Box<dyn Policy>> = vec![Box::new(Gate {
        asked: asked.clone(),
    })];
    let m = simulate_from(
        &mut w,
        &FixedCosts(0.0),
        p,
        0,
        Routing::default(),
        |_, _| {},
    )
    .unwrap();
    let g = &m[0].per_function[0];
    assert_eq!((m[0].cold_starts(), g.delayed), (1, n - 1));
    // Delays 10, 20, ..., 1990 s.
    let want = 10.0 * (n * (n - 1) / 2) as f64;
    assert!((g.delay_seconds - want).abs() < 1e-6, "{}", g.delay_seconds);
    let asked = asked.load(Ordering::Relaxed);
    assert!(asked <= 3 * n, "{asked} questions");
}

/// Every request placed, in the order the engine placed them: (function, its index among
/// the function's requests, when placed, when it ends).
#[derive(Default)]
struct Placed(Vec<(u32, u64, f64, f64)>);

impl Events for Placed {
    fn served(&mut self, e: &ServedEvent) {
        self.0.push((e.func, e.k, e.t, e.start + e.exec));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Peak shaving's gate, for any workload: a held request is placed by its deadline, in the
    /// order the held came, and only when the requests in flight are below the limit or its
    /// deadline has come. With a limit nothing reaches, it is the fixed keep-alive exactly.
    #[test]
    fn held_requests_start_in_order_below_the_limit_or_at_their_deadline(
        t in workload(),
        limit in 1usize..4,
        max_delay in 0.5f64..120.0,
    ) {
        let f = t.functions().to_vec();
        let costs = FixedCosts(0.7);
        let spec = format!("peak-shave:max-delay={max_delay}s,limit={limit}");
        let mut e = Engine::with_events(&f, &costs, policy::parse(&spec, 3).unwrap(), 1, Placed::default());
        for i in &t.invocations {
            e.invoke(*i);
        }
        let (m, placed) = e.finish_with_events();
        // Each function's arrivals, by its own request index; and each request's place in the
        // trace's order (the order requests are held in).
        let mut arrivals: Vec<Vec<(f64, usize)>> = vec![Vec::new(); f.len()];
        for (order, i) in t.invocations.iter().enumerate() {
            arrivals[i.func as usize].push((i.t, order));
        }
        let mut held: Vec<(usize, f64)> = Vec::new();
        for (j, &(func, k, at, _)) in placed.0.iter().enumerate() {
            let (arrived, order) = arrivals[func as usize][k as usize];
            let waited = at - arrived;
            prop_assert!(waited >= -1e-9 && waited <= max_delay + 1e-6, "waited {}", waited);
            if waited > 1e-9 {
                held.push((order, at));
                let in_flight = placed.0[..j].iter().filter(|p| p.3 > at).count();
                let deadline = (waited - max_delay).abs() < 1e-6;
                prop_assert!(in_flight < limit || deadline, "{} in flight at {}", in_flight, at);
            }
        }
        held.sort_by_key(|h| h.0);
        for w in held.windows(2) {
            prop_assert!(w[0].1 <= w[1].1 + 1e-9, "held out of order: {:?}", w);
        }
        let delayed: u64 = m.per_function.iter().map(|p| p.delayed).sum();
        prop_assert_eq!(delayed, held.len() as u64);
        // Above every load: nothing held, the fixed keep-alive's numbers.
        let r = run(&t, 0.7, &["fixed-keepalive:ttl=60s", "peak-shave:max-delay=60s,limit=100000"]);
        prop_assert_eq!(r[1].per_function.iter().map(|p| p.delayed).sum::<u64>(), 0);
        prop_assert_eq!(r[0].cold_starts(), r[1].cold_starts());
        prop_assert!((r[0].idle_seconds() - r[1].idle_seconds()).abs() < 1e-6);
    }
}

/// Why no law says a longer deadline never raises the peak: a request held to its deadline
/// is placed then whatever the load, so a longer deadline can land it on a busier moment.
#[test]
fn a_longer_deadline_can_land_a_held_request_on_a_later_peak() {
    // y (synchronous) runs one request from 0 to 400 s, so the load never falls below the
    // limit of one, and two more at 300 s; x's asynchronous request comes at 0.5 s and waits
    // to its deadline. Cold starts take no time.
    let f = vec![Function::new("y", "APIG-S"), Function::new("x", "OBS-A")];
    let inv = |t, func, exec| Invocation { t, func, exec };
    let trace = Trace::new(
        f,
        vec![
            inv(0.0, 0, 400.0),
            inv(0.5, 1, 1.0),
            inv(300.0, 0, 10.0),
            inv(300.0, 0, 10.0),
        ],
    );
    let m = run(
        &trace,
        0.0,
        &[
            "peak-shave:max-delay=10s,limit=1",
            "peak-shave:max-delay=300s,limit=1",
        ],
    );
    // 10 s: x runs at 10.5 s, its pod gone long before y's pair at 300 s (three pods in that
    // minute). 300 s: x runs at 300.5 s, beside the pair: four.
    assert_eq!(m[0].per_function[1].delay_seconds, 10.0);
    assert_eq!(m[1].per_function[1].delay_seconds, 300.0);
    assert_eq!((m[0].peak_running_pods(), m[1].peak_running_pods()), (3, 4));
}

#[test]
fn concurrency_is_a_knob_of_the_fixed_keepalive_that_sweeps() {
    // Eight requests at once, 10 s each, on two functions of their own concurrency 1: a pod
    // each, two pods of four, one of eight, whatever the functions say.
    let f = vec![Function::new("f", "APIG-S"), Function::new("g", "OBS-A")];
    let inv = (0..16)
        .map(|i| Invocation {
            t: 0.0,
            func: i % 2,
            exec: 10.0,
        })
        .collect();
    let t = Trace::new(f, inv);
    let m = run(
        &t,
        1.0,
        &[
            "fixed-keepalive",
            "fixed-keepalive:concurrency=4",
            "fixed-keepalive:concurrency=8",
        ],
    );
    let cold: Vec<u64> = m.iter().map(|r| r.cold_starts()).collect();
    assert_eq!(cold, [16, 4, 2]);
    let peak: Vec<u32> = m.iter().map(|r| r.peak_running_pods()).collect();
    assert_eq!(peak, [16, 4, 2]);
    // Its name reads back (the engine's copies on other cores are made from it).
    let p = policy::parse("fixed-keepalive:concurrency=4", 2).unwrap();
    assert_eq!(
        p.name(),
        "fixed-keepalive:ttl=60s,restart=yes,concurrency=4"
    );
    assert_eq!(policy::parse(&p.name(), 2).unwrap().concurrency(), Some(4));
    assert_eq!(
        policy::parse("fixed-keepalive", 2).unwrap().concurrency(),
        None
    );
    for bad in [
        "fixed-keepalive:concurrency=0",
        "fixed-keepalive:concurrency=1.5",
    ] {
        let e = format!("{:#}", policy::parse(bad, 2).err().unwrap());
        assert!(e.contains("concurrency"), "{bad}: {e}");
    }
    // A sweep spaces it as a whole number, log-spaced from 1 to 16.
    let swept = policy::sweep("fixed-keepalive:concurrency=1..16", 5).unwrap();
    let values: Vec<u32> = swept
        .iter()
        .map(|s| policy::parse(s, 2).unwrap().concurrency().unwrap())
        .collect();
    assert_eq!(values, [1, 2, 4, 8, 16]);
}

/// Cold starts take 5 s at home, 1 s in region 1, 3 s in region 2.
struct Regions;

impl CostModel for Regions {
    fn cold_start(&self, func: u32, k: u64) -> [f64; 5] {
        self.cold_start_in(func, k, 0)
    }
    fn other_regions(&self) -> Vec<String> {
        vec!["near".into(), "far".into()]
    }
    fn cold_start_in(&self, _: u32, _: u64, region: usize) -> [f64; 5] {
        let c = [5.0, 1.0, 3.0][region];
        [c, 0.0, 0.0, 0.0, 0.0]
    }
}

#[test]
fn pool_predict_hits_misses_and_idle_pool_pods_have_known_values() {
    // 100 requests at hh:mm:10 every other minute, each cold under a 60 s keep-alive.
    let f = vec![Function::new("f", "APIG-S")];
    let t = Trace::new(f, every(120.0, 100, 0.0));
    struct Half;
    impl CostModel for Half {
        fn cold_start(&self, _: u32, _: u64) -> [f64; 5] {
            [1.0, 0.5, 0.5, 0.0, 0.0]
        }
        fn pod_allocation(&self, _: u32, _: u64, hit: bool) -> Option<f64> {
            Some(if hit { 0.1 } else { 2.0 })
        }
    }
    let m = run_with(
        &t,
        &Half,
        &[
            "pool-predict:size=1",
            "pool-predict:size=0",
            "pool-predict",
            "fixed-keepalive",
            "pool-predict:size=1,refill=150s",
        ],
    );
    // A pool of one, its pod replaced 10 s after each is taken: every cold start hits
    // (1 - 0.5 + 0.1 s). The pool pod idles all day but the first 10 s and each refill's.
    assert_eq!(
        (m[0].cold_starts(), m[0].pool.hits, m[0].pool.misses),
        (100, 100, 0)
    );
    assert!(
        (m[0].cold_seconds() - 60.0).abs() < 1e-6,
        "{}",
        m[0].cold_seconds()
    );
    assert!(
        (m[0].pool.idle_seconds - (86_400.0 - 10.0 - 100.0 * 10.0)).abs() < 1e-6,
        "{}",
        m[0].pool.idle_seconds
    );
    assert!((m[0].pool.idle_gb_seconds - m[0].pool.idle_seconds * 0.125).abs() < 1e-6);
    assert_eq!(m[0].pool.created, 1 + 100);
    // No pool: every pod is built from scratch (1 - 0.5 + 2 s), no pool memory.
    assert_eq!((m[1].pool.hits, m[1].pool.misses), (0, 100));
    assert!((m[1].cold_seconds() - 250.0).abs() < 1e-6);
    assert_eq!(m[1].pool.idle_seconds, 0.0);
    // Predicted: nothing is known in minute 0, so the first misses; from minute 1 the 95th
    // percentile of the past hour's demand (every other minute 1) is 1, its pod ready at
    // 70 s: the rest hit.
    assert_eq!((m[2].pool.hits, m[2].pool.misses), (99, 1));
    assert!((m[2].cold_seconds() - (2.5 + 99.0 * 0.6)).abs() < 1e-6);
    // Other policies allocate as the cost model says, and know no pool.
    assert!((m[3].cold_seconds() - 100.0).abs() < 1e-6);
    assert_eq!((m[3].pool.hits, m[3].pool.misses), (0, 0));
    // A pod that takes 150 s to make, requests 120 s apart: the first two miss, then every
    // other one finds the pod made after the last hit.
    assert_eq!((m[4].pool.hits, m[4].pool.misses), (49, 51));
    // Idle pool pods are wasted memory too.
    assert!(m[0].idle_gb_seconds > m[3].idle_gb_seconds + m[0].pool.idle_gb_seconds - 1e-6);
}

#[test]
fn cross_region_sends_cold_starts_where_they_are_faster_despite_the_latency() {
    // Requests every 120 s running 1 s: each is cold under a 60 s keep-alive.
    let f = vec![Function::new("f", "APIG-S")];
    let t = Trace::new(f, every(120.0, 50, 1.0));
    let m = run_with(
        &t,
        &Regions,
        &[
            "cross-region:latency=500ms",
            "cross-region:latency=10s",
            "fixed-keepalive",
        ],
    );
    // 1 s there + 0.5 s latency beats 5 s at home: all 50 go to the near region.
    assert_eq!((m[0].cold_starts(), m[0].remote_cold_starts), (50, 50));
    assert_eq!(m[0].remote_requests, 50);
    assert!((m[0].cold_seconds() - 50.0).abs() < 1e-6);
    // Latency: 1 s cold start + 1 s execution + 0.5 s between regions.
    let p50 = m[0].latency_us.value_at_quantile(0.5) as f64 / 1e6;
    assert!((p50 - 2.5).abs() < 0.01, "{p50}");
    // 10 s of latency: home (5 s) is faster than any region.
    assert_eq!(m[1].remote_cold_starts, 0);
    assert!((m[1].cold_seconds() - 250.0).abs() < 1e-6);
    let p50 = m[1].latency_us.value_at_quantile(0.5) as f64 / 1e6;
    assert!((p50 - 6.0).abs() < 0.01, "{p50}");
    assert_eq!(m[2].remote_cold_starts, 0);
    // A policy that places no pods elsewhere keeps no per-region counts.
    assert!(m[2].by_region_hour.is_empty());
    assert_eq!(m[0].by_region_hour[1].cold_starts[0], 30);
    assert_eq!(m[0].by_region_hour[1].cold_starts[1], 20);
}

/// Regions with a load: home slow and idle, "near" fast but at its peak from minute 9 to 59
/// (then idle), "far" with no room ever. Allocation and scheduling are half of each cold start.
struct LoadedRegions(Vec<coldstart_sim::regions::RegionLoad>);

impl LoadedRegions {
    fn new() -> Self {
        use coldstart_sim::regions::RegionLoad;
        let near: Vec<u32> = (0..240).map(|m| if m < 60 { 10 } else { 0 }).collect();
        Self(vec![
            RegionLoad::new("home", &[0; 240], (1.0, 1.0)),
            RegionLoad::new("near", &near, (1.0, 1.0)),
            RegionLoad::new("far", &[0; 240], (1.0, 1.0)),
        ])
    }
}

impl CostModel for LoadedRegions {
    fn cold_start(&self, func: u32, k: u64) -> [f64; 5] {
        self.cold_start_in(func, k, 0)
    }
    fn other_regions(&self) -> Vec<String> {
        vec!["near".into(), "far".into()]
    }
    fn cold_start_in(&self, _: u32, _: u64, region: usize) -> [f64; 5] {
        let c = [5.0, 1.0, 0.2][region];
        [c, c / 2.0, 0.0, 0.0, c / 2.0]
    }
    fn loads(&self) -> Option<&[coldstart_sim::regions::RegionLoad]> {
        Some(&self.0)
    }
}

#[test]
fn cross_region_routes_by_each_regions_room_and_load_at_the_time() {
    // A request every 120 s for 4 hours, each cold under a 60 s keep-alive: 120 cold starts
    // at the even minutes.
    let f = vec![Function::new("f", "APIG-S")];
    let t = Trace::new(f, every(120.0, 120, 1.0));
    let m = run_with(
        &t,
        &LoadedRegions::new(),
        &[
            "cross-region:latency=500ms",
            "cross-region:latency=500ms,capacity=0",
            "cross-region:latency=500ms,route=once",
        ],
    );
    // "near" is at its peak (its own 10 a minute over the last 10 minutes) in minutes 9 to
    // 59: no room, so the 25 cold starts at minutes 10, 12, .., 58 stay home (5 s each); the
    // other 95 go near, where its pressure (own + sent + 1) / (mean 2.5 + 1) is low and its
    // cold start cheaper than its mean of 1 s. "far" never has room.
    assert_eq!((m[0].cold_starts(), m[0].remote_cold_starts), (120, 95));
    assert_eq!(m[0].remote_requests, 95);
    let remote_s = m[0].cold_seconds() - 25.0 * 5.0;
    assert!(remote_s > 0.0 && remote_s < 95.0 * 0.5, "{remote_s}");
    // By region and hour of the day: 30 cold starts an hour; in hour 0 the 25 of minutes 10
    // to 58 at home and the 5 of minutes 0 to 8 near, every later one near; none far.
    let hours = &m[0].by_region_hour;
    let mut want_home = [0u64; 24];
    want_home[0] = 25;
    let mut want_near = [0u64; 24];
    want_near[..4].copy_from_slice(&[5, 30, 30, 30]);
    assert_eq!(hours[0].cold_starts, want_home);
    assert_eq!(hours[1].cold_starts, want_near);
    assert!(hours.get(2).is_none_or(|far| far.cold_starts == [0; 24]));
    assert!((hours[0].cold_seconds[0] - 125.0).abs() < 1e-9);
    assert!((hours[1].cold_seconds.iter().sum::<f64>() - remote_s).abs() < 1e-6);
    // By hand, the first: minute 0, near's own load 1 (10 over a window of 10 minutes that
    // began at 0), nothing sent yet: pressure 2 / 3.5. Its mean over near's own cold starts
    // (600 at pressures (own + 1) / 3.5) is the norm; the cold start is 1 s with its
    // allocation and scheduling (0.5 s each) scaled by pressure / norm.
    let own: Vec<f64> = (0..70)
        .map(|m: usize| (m.min(9) + 1).min(10) as f64 - m.saturating_sub(59).min(10) as f64)
        .collect();
    let weights: Vec<f64> = (0..70).map(|m| if m < 60 { 10.0 } else { 0.0 }).collect();
    let norm = own
        .iter()
        .zip(&weights)
        .map(|(o, w)| w * (o + 1.0) / 3.5)
        .sum::<f64>()
        / 600.0;
    let first = 1.0 + 1.0 * ((2.0 / 3.5) / norm - 1.0);
    let one = Trace::new(vec![Function::new("f", "APIG-S")], every(120.0, 1, 1.0));
    let m1 = run_with(&one, &LoadedRegions::new(), &["cross-region:latency=500ms"]);
    assert_eq!(m1[0].remote_cold_starts, 1);
    assert!(
        (m1[0].cold_seconds() - first).abs() < 1e-6,
        "{} vs {first}",
        m1[0].cold_seconds()
    );
    assert!(first < 1.0 && first > 0.0);
    // No room lent: every cold start stays home.
    assert_eq!((m[1].remote_cold_starts, m[1].cold_seconds()), (0, 600.0));
    assert_eq!(m[1].by_region_hour[0].cold_starts[..5], [30, 30, 30, 30, 0]);
    // The naive placement sends every one to the fastest median (far: 0.2 s + 0.5 s) with no
    // load or room anywhere.
    assert_eq!(m[2].remote_cold_starts, 120);
    assert!((m[2].cold_seconds() - 120.0 * 0.2).abs() < 1e-6);
}

#[test]
fn warm_up_days_are_replayed_but_not_measured() {
    // A request every 59 s for two days: one cold start, on day 0.
    let f = vec![Function::new("f", "APIG-S")];
    let n = (2.0 * 86_400.0 / 59.0) as usize - 1;
    let t = Trace::new(f, every(59.0, n, 0.0));
    let all = run(&t, 1.0, &["fixed-keepalive"]);
    assert_eq!((all[0].invocations(), all[0].cold_starts()), (n as u64, 1));
    let mut w = t.clone();
    let p = vec![policy::parse("fixed-keepalive", 1).unwrap()];
    let m = simulate_from(
        &mut w,
        &FixedCosts(1.0),
        p,
        1,
        Routing::default(),
        |_, _| {},
    )
    .unwrap();
    let day1 = t.invocations.iter().filter(|i| i.t >= 86_400.0).count() as u64;
    assert_eq!((m[0].invocations(), m[0].cold_starts()), (day1, 0));
    assert_eq!(m[0].latency_us.len(), day1);
    // Running pods are counted from day 1 only.
    assert!(m[0].running_per_minute[..1440].iter().all(|r| *r == 0));
    assert_eq!(m[0].peak_running_pods(), 1);
    // No day left to measure is an error.
    let mut w = t.clone();
    let p = vec![policy::parse("fixed-keepalive", 1).unwrap()];
    assert!(simulate_from(
        &mut w,
        &FixedCosts(1.0),
        p,
        2,
        Routing::default(),
        |_, _| {}
    )
    .is_err());
}

/// Seeded uniform numbers in [0, 1) (a linear congruential generator's top 53 bits).
fn uniforms(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A trace whose days, for replays by function, come function by function.
struct ByFunction(Trace);

impl Workload for ByFunction {
    fn functions(&self) -> &[Function] {
        self.0.functions()
    }

    fn days(&self) -> std::ops::Range<u32> {
        self.0.days()
    }

    fn day(&mut self, day: u32) -> anyhow::Result<Vec<Invocation>> {
        self.0.day(day)
    }

    fn day_per_function(&mut self, day: u32) -> anyhow::Result<Vec<Invocation>> {
        let mut v = self.0.day(day)?;
        v.sort_by_key(|i| i.func);
        Ok(v)
    }
}

#[test]
fn per_function_policies_give_the_same_numbers_with_a_day_given_function_by_function() {
    // 40 functions: bursts of requests within milliseconds (many pods at once, some serving
    // several requests), long requests, and gaps around the keep-alive.
    let mut f: Vec<Function> = (0..40)
        .map(|i| Function::new(format!("f{i}"), "APIG-S"))
        .collect();
    f[3].concurrency = 4;
    f[7].concurrency = 2;
    let mut next = uniforms(777);
    let mut inv = Vec::new();
    for _ in 0..3_000 {
        let (t, func) = (next() * 2.0 * 86_400.0, (next() * 40.0) as u32);
        let burst = 1 + (next() * next() * 30.0) as usize;
        for k in 0..burst {
            let exec = if next() < 0.1 {
                next() * 900.0
            } else {
                next() * 2.0
            };
            inv.push(Invocation {
                t: t + k as f64 * 0.001,
                func,
                exec,
            });
        }
    }
    let t = Trace::new(f, inv);
    for spec in [
        "fixed-keepalive:ttl=60s",
        "fixed-keepalive:ttl=10m",
        "hybrid-histogram",
        "timer-prewarm",
        "forecast-prewarm:min-rpm=0",
        "cross-region:route=once",
    ] {
        // A provisioning policy's minutes run on every function's requests: its days still
        // come in time order.
        let p = policy::parse(spec, 40).unwrap();
        assert!(p.per_function(), "{spec}");
        let run = |w: &mut dyn Workload| {
            let p = vec![policy::parse(spec, 40).unwrap()];
            simulate_from(w, &FixedCosts(0.7), p, 0, Routing::default(), |_, _| {})
                .unwrap()
                .remove(0)
        };
        let timed = run(&mut t.clone());
        let grouped = run(&mut ByFunction(t.clone()));
        assert_eq!(timed.per_function, grouped.per_function, "{spec}");
        assert_eq!(
            timed.running_per_minute, grouped.running_per_minute,
            "{spec}"
        );
        assert_eq!(timed.latency_us, grouped.latency_us, "{spec}");
        assert_eq!(timed.cold_us, grouped.cold_us, "{spec}");
        assert_eq!(timed.utility_milli, grouped.utility_milli, "{spec}");
        assert_eq!(timed.peak_loaded_mb(), grouped.peak_loaded_mb(), "{spec}");
        assert_eq!(
            (timed.pods, timed.pods_below_1),
            (grouped.pods, grouped.pods_below_1)
        );
        let d = (timed.idle_gb_seconds - grouped.idle_gb_seconds).abs();
        assert!(d < 1e-6 * timed.idle_gb_seconds, "{spec}");
        assert!(
            timed.cold_starts() > 1000 && timed.peak_running_pods() > 30,
            "{spec}"
        );
    }
}

#[test]
fn per_function_policies_split_over_cores_give_the_numbers_of_one_engine() {
    // 30 functions, some with concurrency, bursts and gaps around the keep-alive.
    let mut f: Vec<Function> = (0..30)
        .map(|i| {
            Function::new(
                format!("f{i}"),
                if i % 3 == 0 { "TIMER-A" } else { "APIG-S" },
            )
        })
        .collect();
    f[4].concurrency = 3;
    let mut next = uniforms(12345);
    let inv: Vec<Invocation> = (0..20_000)
        .map(|_| Invocation {
            t: next() * 2.0 * 86_400.0,
            func: (next() * 30.0) as u32,
            exec: next() * 90.0,
        })
        .collect();
    let t = Trace::new(f, inv);
    let specs = [
        "fixed-keepalive:ttl=60s",
        "hybrid-histogram",
        "timer-prewarm",
        "forecast-prewarm:min-rpm=0",
        "cross-region:latency=50ms",
    ];
    let go = |specs: &[&str], threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut w = t.clone();
            let p = specs
                .iter()
                .map(|s| policy::parse(s, 30).unwrap())
                .collect();
            simulate_from(
                &mut w,
                &FixedCosts(0.7),
                p,
                1,
                Routing::default(),
                |_, _| {},
            )
            .unwrap()
        })
    };
    // Alone on four cores (four copies), and two at a time, a per-function policy (two copies)
    // beside one that decides per pool (one engine), each against its run on one core.
    let mut pairs: Vec<(&str, Metrics, Metrics)> = Vec::new();
    for spec in specs {
        pairs.push((spec, go(&[spec], 1).remove(0), go(&[spec], 4).remove(0)));
    }
    for spec in ["fixed-keepalive:ttl=60s", "hybrid-histogram"] {
        let both = [spec, "pool-predict"];
        let (one, four) = (go(&both, 1), go(&both, 4));
        for ((s, a), b) in both.iter().zip(one).zip(four) {
            pairs.push((s, a, b));
        }
    }
    for (spec, one, four) in pairs {
        assert_eq!(one.per_function, four.per_function, "{spec}");
        assert_eq!(one.running_per_minute, four.running_per_minute, "{spec}");
        assert_eq!(one.latency_us, four.latency_us, "{spec}");
        assert_eq!(one.cold_us, four.cold_us, "{spec}");
        assert_eq!(one.utility_milli, four.utility_milli, "{spec}");
        assert_eq!((one.pods, one.pods_below_1), (four.pods, four.pods_below_1));
        assert!((one.idle_gb_seconds - four.idle_gb_seconds).abs() < 1e-6 * one.idle_gb_seconds);
        assert_eq!(one.events, four.events);
        assert!(one.cold_starts() > 0 && one.invocations() > 0);
    }
}

/// A function busy for a moment each day: one request at minute 0, then five at once in
/// minute 600 of day 0 and again of day 1 (30 s each), cold starts of 1 s.
fn daily_burst() -> Trace {
    let f = vec![Function::new("f", "APIG-S")];
    let mut inv = vec![Invocation {
        t: 1.0,
        func: 0,
        exec: 1.0,
    }];
    for day in 0..2 {
        for _ in 0..5 {
            inv.push(Invocation {
                t: f64::from(day * 1440 + 600) * 60.0 + 1.0,
                func: 0,
                exec: 30.0,
            });
        }
    }
    Trace::new(f, inv)
}

#[test]
fn forecast_prewarm_starts_yesterdays_peak_pods_before_the_minute() {
    let t = daily_burst();
    let m = run(
        &t,
        1.0,
        &[
            "fixed-keepalive:ttl=60s",
            "forecast-prewarm:min-rpm=0,window=5m,lead=10s",
            "forecast-prewarm:min-rpm=1,window=5m,lead=10s",
        ],
    );
    // 60 s keep-alive: the first request, then five pods each burst.
    assert_eq!(m[0].cold_starts(), 11);
    assert_eq!(m[0].prewarms(), 0);
    // Forecast: day 1's minute 600 is minute 2040; its window (2035 to 2045) holds
    // yesterday's peak of 5 in flight, so five pods start at 2035 x 60 - 10 s and are kept
    // through minute 2045; minute 0's single request gives one pod for minute 1445 (whose
    // window, 0 to 10, is the first with a full history). Day 1's burst finds its pods warm.
    assert_eq!(m[1].cold_starts(), 6);
    assert_eq!(m[1].prewarms(), 6);
    // The pre-warmed pods: 5 used at 2040 x 60 + 1 after idling since 2035 x 60 - 10, then
    // kept to the end of minute 2045 (their requests end at 2040 x 60 + 31, and 60 s more is
    // earlier); the one of minute 1445 idles from 1445 x 60 - 10 to 1446 x 60.
    let idle_prewarmed = 5.0 * ((5.0 * 60.0 + 11.0) + (6.0 * 60.0 - 31.0)) + 70.0;
    let idle_cold = m[0].idle_seconds() - 5.0 * 60.0; // day 1's burst pods, as on day 0
    assert!(
        (m[1].idle_seconds() - (idle_cold + idle_prewarmed)).abs() < 1e-6,
        "{} against {}",
        m[1].idle_seconds(),
        idle_cold + idle_prewarmed
    );
    // A pod that serves nothing has utility 0.
    assert!(m[1].pods_below_1 >= 1);
    // At least one request a minute over the last day: nothing here is high-request.
    assert_eq!(m[2].cold_starts(), 11);
    assert_eq!(m[2].prewarms(), 0);
}
