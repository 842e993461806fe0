//! The month replayed from per-minute counts, checked against the truth: a validation release
//! (`synth --arrivals structured --request-days all`: timers at a fixed second, millisecond
//! bursts, sub-minute polling, and per-request rows on every day) replayed from its per-minute
//! tables with arrivals learned from its last day's rows, against replaying every day's rows.

use std::path::{Path, PathBuf};

use crate::common;
use common::{fails, ok};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A validation release of R2 with `functions` and `days`, ingested into `dir/store`.
fn validation_store(dir: &Path, functions: u32, days: u32, request_days: &str) -> PathBuf {
    let (rel, store) = (dir.join("rel"), dir.join("store"));
    let (f, d) = (functions.to_string(), days.to_string());
    ok(&[
        "synth",
        "--out",
        s(&rel),
        "--regions",
        "R2",
        "--functions",
        &f,
        "--days",
        &d,
        "--arrivals",
        "structured",
        "--request-days",
        request_days,
    ]);
    ok(&["ingest", s(&rel), "--store", s(&store)]);
    store
}

/// Rows of a CSV file (header left out): the quoted first column (a policy, commas and all),
/// then the others split on commas.
fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (first, rest) = l.trim_start_matches('"').split_once("\",").unwrap();
            std::iter::once(first.to_string())
                .chain(rest.split(',').map(|c| c.trim_matches('"').to_string()))
                .collect()
        })
        .collect()
}

/// One policy's summed columns of month_check_days.csv: (per request, learned, uniform).
fn totals(out: &Path, policy: &str) -> (i64, i64, i64) {
    let mut t = (0, 0, 0);
    for r in rows(&out.join("month_check_days.csv")) {
        if r[0] == policy {
            t.0 += r[2].parse::<i64>().unwrap();
            t.1 += r[3].parse::<i64>().unwrap();
            t.2 += r[4].parse::<i64>().unwrap();
        }
    }
    t
}

#[test]
fn learned_arrivals_replay_the_month_where_uniform_spreading_does_not() {
    let d = tempfile::tempdir().unwrap();
    let store = validation_store(d.path(), 40, 5, "all");
    // Every day has per-request rows.
    let days = ok(&[
        "sql",
        "--store",
        s(&store),
        "--format",
        "csv",
        "SELECT count(DISTINCT day) AS n FROM requests",
    ]);
    assert_eq!(days.lines().nth(1).unwrap().trim(), "5", "{days}");
    let out = d.path().join("check");
    let text = ok(&[
        "simulate",
        "--store",
        s(&store),
        "--region",
        "R2",
        "--against-requests",
        "--policy",
        "fixed-keepalive:ttl=60s",
        "--policy",
        "fixed-keepalive:ttl=10m",
        "--out",
        s(&out),
    ]);
    assert!(
        text.contains("per-minute replay against the per-request rows of days 0..5"),
        "{text}"
    );
    // Learned, each policy meets all three targets: the total within ±10 %, 80 % of the
    // functions with 10 or more cold starts within ±25 %, the daily series correlated at 0.9.
    let learned: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("learned within the minute:"))
        .collect();
    assert_eq!(learned.len(), 2, "{text}");
    for l in &learned {
        assert!(
            !l.contains("NOT met") && l.matches(": met)").count() == 3,
            "{l}"
        );
    }
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        page.contains("learned from the per-request rows of days 4..5"),
        "{page}"
    );
    for policy in [
        "fixed-keepalive:ttl=60s,restart=yes",
        "fixed-keepalive:ttl=10m,restart=yes",
    ] {
        let (truth, learned, uniform) = totals(&out, policy);
        assert!(truth > 500, "{policy}: {truth}");
        let err = |x: i64| (x as f64 / truth as f64 - 1.0).abs();
        assert!(
            err(learned) <= 0.10,
            "{policy}: learned {learned} vs {truth}"
        );
        // The structure uniform spreading loses: timers become random gaps, bursts
        // spread out.
        assert!(
            err(uniform) >= 0.25,
            "{policy}: uniform {uniform} vs {truth}"
        );
    }
    // The truth column is the per-request replay itself.
    let alone = d.path().join("alone");
    ok(&[
        "simulate",
        "--store",
        s(&store),
        "--region",
        "R2",
        "--source",
        "per-request",
        "--policy",
        "fixed-keepalive:ttl=10m",
        "--out",
        s(&alone),
    ]);
    let summary = rows(&alone.join("summary.csv"));
    let header = std::fs::read_to_string(alone.join("summary.csv")).unwrap();
    let col = header
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c.trim_matches('"') == "cold_starts")
        .unwrap();
    let cold: i64 = summary[0][col].parse().unwrap();
    assert_eq!(cold, totals(&out, "fixed-keepalive:ttl=10m,restart=yes").0);
    // Per function, the same totals as per day.
    let mut by_f = (0i64, 0i64);
    for r in rows(&out.join("month_check_functions.csv")) {
        if r[0] == "fixed-keepalive:ttl=60s,restart=yes" {
            by_f.0 += r[2].parse::<i64>().unwrap();
            by_f.1 += r[3].parse::<i64>().unwrap();
        }
    }
    let (t, l, _) = totals(&out, "fixed-keepalive:ttl=60s,restart=yes");
    assert_eq!(by_f, (t, l));
    assert!(page.contains("month_check_days.csv"), "{page}");
    // The verdicts as a table, and the daily series as a chart.
    assert!(
        page.contains("daily correlation") && page.contains("all met"),
        "{page}"
    );
    let svg = std::fs::read_to_string(out.join("month_check_days.svg")).unwrap();
    assert!(svg.contains("per-request rows (truth)"), "{svg}");

    // Learning days outside the rows, and days without rows, are refused by name.
    let e = fails(&[
        "simulate",
        "--store",
        s(&store),
        "--source",
        "per-minute",
        "--learn-days",
        "3..9",
        "--out",
        s(&d.path().join("x")),
    ]);
    assert!(
        e.contains("--learn-days 3..9") && e.contains("days 0..5"),
        "{e}"
    );
    let e = fails(&[
        "simulate",
        "--store",
        s(&store),
        "--learn-days",
        "4..4",
        "--out",
        s(&d.path().join("x")),
    ]);
    assert!(e.contains("--learn-days '4..4'"), "{e}");
    let e = fails(&[
        "simulate",
        "--store",
        s(&store),
        "--against-requests",
        "--days",
        "2..7",
        "--out",
        s(&d.path().join("x")),
    ]);
    assert!(e.contains("--days 2..7") && e.contains("days 0..5"), "{e}");
}

#[test]
fn a_release_with_the_last_day_only_cannot_be_checked_but_still_teaches() {
    let d = tempfile::tempdir().unwrap();
    let store = validation_store(d.path(), 20, 3, "last");
    let e = fails(&[
        "simulate",
        "--store",
        s(&store),
        "--against-requests",
        "--days",
        "0..3",
        "--out",
        s(&d.path().join("x")),
    ]);
    assert!(e.contains("days 2..3"), "{e}");
    ok(&[
        "simulate",
        "--store",
        s(&store),
        "--source",
        "per-minute",
        "--policy",
        "fixed-keepalive",
        "--out",
        s(&d.path().join("y")),
    ]);
    let page = std::fs::read_to_string(d.path().join("y/index.html")).unwrap();
    assert!(
        page.contains("learned from the per-request rows of days 2..3"),
        "{page}"
    );
    ok(&[
        "simulate",
        "--store",
        s(&store),
        "--source",
        "per-minute",
        "--within-minute",
        "uniform",
        "--policy",
        "fixed-keepalive",
        "--out",
        s(&d.path().join("z")),
    ]);
    let page = std::fs::read_to_string(d.path().join("z/index.html")).unwrap();
    assert!(!page.contains("learned from"), "{page}");
    assert!(page.contains("seeded uniform times"), "{page}");
}

#[test]
fn an_azure_2021_trace_aggregated_to_minutes_is_checked_against_its_invocations() {
    let d = tempfile::tempdir().unwrap();
    let store = validation_store(d.path(), 30, 4, "all");
    // The validation world's requests in the Azure 2021 format: app (the owner), func,
    // end_timestamp, duration.
    let csv = ok(&[
        "sql",
        "--store",
        s(&store),
        "--format",
        "csv",
        "SELECT CAST(userID AS VARCHAR) AS app, CAST(funcName AS VARCHAR) AS func, \
         time_worker + totalCost_worker AS end_timestamp, totalCost_worker AS duration \
         FROM requests ORDER BY end_timestamp, app, func",
    ]);
    let file = d.path().join("azure2021.txt");
    std::fs::write(&file, &csv).unwrap();
    let out = d.path().join("check");
    let text = ok(&[
        "simulate",
        "--azure2021",
        s(&file),
        "--against-requests",
        "--policy",
        "fixed-keepalive:ttl=10m",
        "--out",
        s(&out),
    ]);
    assert!(
        text.contains("per-minute replay against the per-request rows of days 0..4"),
        "{text}"
    );
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("aggregated to per-minute counts"), "{page}");
    assert!(
        page.contains("learned from the invocations of days 3..4"),
        "{page}"
    );
    let (truth, learned, uniform) = totals(&out, "fixed-keepalive:ttl=10m,restart=yes");
    assert!(truth > 200, "{truth}");
    let err = |x: i64| (x as f64 / truth as f64 - 1.0).abs();
    assert!(err(learned) <= 0.10, "learned {learned} vs {truth}");
    assert!(err(uniform) >= 0.25, "uniform {uniform} vs {truth}");
    // Per-minute counts are not made from the other inputs.
    let e = fails(&[
        "simulate",
        "--synth",
        "--source",
        "per-minute",
        "--out",
        s(&d.path().join("x")),
    ]);
    assert!(
        e.contains("--source per-minute") && e.contains("--azure2021"),
        "{e}"
    );
}
