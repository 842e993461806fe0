//! A generated release, measured, gives back the paper's published numbers (spec section 4)
//! within the tolerances the generator states.

use coldstart_sim::{synth, SynthOptions};

#[test]
fn synthetic_release_matches_the_published_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        out: dir.path().join("release"),
        scale: 0.05,
        seed: 1,
        quantile_regions: Some(Vec::new()),
        progress: false,
        ..SynthOptions::default()
    };
    let s = synth(&opts).unwrap();
    for c in &s.checks {
        println!("{c}");
    }
    let r2 = s.regions.iter().find(|r| r.region == "R2").unwrap();
    let failed: Vec<_> = s.checks.iter().filter(|c| c.claimed && !c.pass).collect();
    assert!(failed.is_empty(), "out of tolerance: {failed:#?}");
    // Every check of the list is there: 2 fit, 2 per region, R1 2, R2 3 + 10 runtimes, R3 1;
    // then the workload checks: R2 15 (with its three trigger sets, OBS-A's pods and timers'
    // cold starts), the holiday and the Fig 5 peak hour in each region, weekdays over
    // weekends, and per region Fig 12's three correlations and day 23, Fig 1's functions and
    // pods and Fig 3a's share of functions with a request a minute, users owning a single
    // function (Fig 4a), large over small pools' median cold start (Fig 13; not R3's) and
    // the median time between cold starts (Fig 10c; not R1's), and R1's users above 1,000
    // requests (Fig 4b, 31 days only); the volumes (all regions',
    // and each region's against Fig 1), claimed only with the never-idle functions at scale
    // 1; then the numbers of spec section 7 the model does not reproduce yet, never claimed:
    // R1's day-30 rows, the median execution time per region, timers' utility, R3's pool
    // ratio, R1's time between cold starts, and R4's users above 1,000 requests.
    assert_eq!(
        s.checks.len(),
        2 + 2 * 5
            + 2
            + 13
            + 1
            + 15
            + 5 * 2
            + 1
            + 5 * 4
            + 5 * 3
            + (5 + 4 + 4 + 1)
            + (1 + 5)
            + (1 + 5 + 1 + 1 + 1 + 1)
    );
    let gaps: Vec<_> = s.checks.iter().filter(|c| c.gap).collect();
    assert_eq!(gaps.len(), 1 + 5 + 1 + 1 + 1 + 1);
    assert!(gaps
        .iter()
        .all(|c| !c.claimed && c.target.ends_with("(not modelled yet)")));
    let volumes: Vec<_> = s
        .checks
        .iter()
        .filter(|c| c.name.contains("requests, against") || c.name.starts_with("requests in all"))
        .collect();
    assert_eq!(volumes.len(), 6);
    assert!(volumes
        .iter()
        .all(|c| !c.claimed && c.target.contains("--volume published")));
    assert!(s.checks.iter().all(|c| c.measured.is_finite()));
    // All are claimed but what this scale is too small to measure, and they say so: the
    // utility ratios of single runtimes (Go1.x has a handful of functions), R3's nine checks
    // (12 functions) and R5's nine (28), Fig 12, day 23, the time between cold starts and
    // R1's users above 1,000 requests (from half the published size), and day 23 in the
    // regions where the paper does not single it out (R3, R5).
    let open: Vec<_> = s
        .checks
        .iter()
        .filter(|c| !c.claimed && !c.gap && !volumes.iter().any(|v| v.name == c.name))
        .collect();
    assert_eq!(open.len(), 3 + 9 + 9 + 5 * 3 + 5 + 1 + 4, "{open:#?}");
    for c in &open {
        let day23 = c.name.contains("day 23");
        if day23 && (c.name.starts_with("R3 ") || c.name.starts_with("R5 ")) {
            assert!(!c.target.contains("claimed from"), "{c:#?}");
            continue;
        }
        if day23
            || c.name.contains("Fig 12")
            || c.name.contains("between cold starts")
            || c.name.contains("users with more than 1,000")
        {
            let half = coldstart_sim::profile::profile(&c.name[..2])
                .unwrap()
                .functions
                / 2;
            assert!(
                c.target.contains(&format!("claimed from {half} ")),
                "{c:#?}"
            );
            continue;
        }
        let why = if c.name.starts_with("R3 ") {
            "claimed from 100 R3 functions, 12 here"
        } else if c.name.starts_with("R5 ") {
            "claimed from 100 R5 functions, 28 here"
        } else {
            assert!(
                c.name.contains("Go1.x") || c.name.contains("Node.js") || c.name.contains("OBS-A"),
                "{c:#?}"
            );
            if c.name.contains("Go1.x") {
                "claimed from 5000 R2 functions, 121 here"
            } else {
                "claimed from 1000 R2 functions, 121 here"
            }
        };
        assert!(c.target.contains(why), "{c:#?}");
    }
    // The regions' daily peaks fall at their own hours, around the clock (Fig 5).
    let hours: Vec<f64> = s.regions.iter().map(|r| r.measures.peak_hour).collect();
    let spread = hours
        .iter()
        .flat_map(|a| {
            hours
                .iter()
                .map(move |b| coldstart_trace::paper::hours_apart(*a, *b))
        })
        .fold(0.0, f64::max);
    assert!(spread >= 8.0, "{hours:?}");
    // Pods were measured: utility ratios for R2's pods, running pods for every kind of day.
    let m = &r2.measures;
    assert!(m.utility_pods > 10_000, "{}", m.utility_pods);
    assert!(m.pod_minutes_per_day.iter().all(|v| *v > 0.0));
    assert!((0.0..=1.0).contains(&m.timer_pod_share));
    // R2-sized at scale 1 means about 2 million cold starts: 0.05 gives about a twentieth.
    assert_eq!(r2.functions, 121);
    assert!(r2.cold_starts > 40_000, "{}", r2.cold_starts);
}
