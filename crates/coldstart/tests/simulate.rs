//! `coldstart simulate` end to end: a synthetic release's store replayed under the platform's
//! default policy gives back about its own cold starts; the synthetic model runs directly; the
//! output folder holds the comparison; bad policies and foreign folders are refused.

use std::path::{Path, PathBuf};

mod common;
use common::{coldstart, ok};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A synthetic release of R2 (`functions`, `days`, per-minute tables for `quantiles`)
/// ingested into `dir/store`.
fn release_store(dir: &Path, functions: u32, days: u32, quantiles: &str) -> PathBuf {
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
        "--quantiles",
        quantiles,
    ]);
    ok(&["ingest", s(&rel), "--store", s(&store)]);
    store
}

#[test]
fn a_store_replayed_under_the_default_policy_matches_its_own_cold_starts() {
    let d = tempfile::tempdir().unwrap();
    let (store, out) = (release_store(d.path(), 40, 2, "none"), d.path().join("sim"));
    let text = ok(&[
        "simulate",
        "--store",
        s(&store),
        "--region",
        "R2",
        "--out",
        s(&out),
    ]);
    // "... makes A cold starts where the trace has B on the same days (+x %); W of N ..."
    let line = text
        .lines()
        .find(|l| l.starts_with("faithfulness"))
        .unwrap();
    let nums: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.parse().ok())
        .collect();
    let (sim, trace) = (nums[1], nums[2]);
    assert!((sim - trace).abs() <= 0.05 * trace, "{line}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    // Three default policies and the 10-minute baseline, each on every request.
    assert_eq!(rows.len(), 5, "{summary}");
    let inv: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split("\",").nth(1).unwrap().split(',').next().unwrap())
        .collect();
    assert!(inv.iter().all(|v| *v == inv[0] && *v != "0"), "{inv:?}");
    for f in [
        "index.html",
        "functions.csv",
        "running_pods.csv",
        "tradeoff.svg",
        "cold_starts.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // A folder it did not make is refused; its own is replaced.
    let foreign = d.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "x").unwrap();
    let e = coldstart(&["simulate", "--store", s(&store), "--out", s(&foreign)]);
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("--force"));
    assert!(foreign.join("keep.txt").exists());
    ok(&[
        "simulate",
        "--store",
        s(&store),
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive:ttl=2h",
    ]);
    // A sweep: five keep-alive windows more, each a row, drawn as the trade-off curve.
    ok(&[
        "simulate",
        "--store",
        s(&store),
        "--out",
        s(&out),
        "--sweep",
        "fixed-keepalive:ttl=10s..2h",
        "--sweep-points",
        "5",
    ]);
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 3 + 5 + 1, "{summary}");
    assert!(
        summary.contains("fixed-keepalive:ttl=2h,restart=yes"),
        "{summary}"
    );
    assert!(std::fs::read_to_string(out.join("tradeoff.svg"))
        .unwrap()
        .contains("hybrid-histogram"));
}

#[test]
fn the_synthetic_model_runs_directly_and_bad_policies_are_named() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sim");
    let text = ok(&[
        "simulate",
        "--synth",
        "--region",
        "R3",
        "--functions",
        "30",
        "--days",
        "2",
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive:ttl=60s",
        "--policy",
        "fixed-keepalive:ttl=2h",
    ]);
    assert!(
        text.contains("fixed-keepalive:ttl=2h,restart=yes"),
        "{text}"
    );
    assert!(text.contains("(baseline)"), "{text}");
    let e = coldstart(&[
        "simulate",
        "--synth",
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive:ttl=soon",
    ]);
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("parameter ttl"));
    let e = coldstart(&["simulate", "--out", s(&out)]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("--store STORE or --synth"));
}

#[test]
fn per_minute_counts_replay_every_request_of_every_day() {
    let d = tempfile::tempdir().unwrap();
    let (store, out) = (release_store(d.path(), 20, 3, "R2"), d.path().join("sim"));
    let want = ok(&[
        "sql",
        "--store",
        s(&store),
        "--format",
        "csv",
        "SELECT CAST(sum(value) AS BIGINT) AS n FROM minute_metrics \
         WHERE region = 'R2' AND metric = 'requests' AND stat = 'count'",
    ]);
    let want = want.lines().nth(1).unwrap().trim().to_string();
    let text = ok(&[
        "simulate",
        "--store",
        s(&store),
        "--source",
        "per-minute",
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive:ttl=60s",
    ]);
    assert!(text.contains("per-minute counts"), "{text}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    for row in summary.lines().skip(1) {
        let inv = row.split("\",").nth(1).unwrap().split(',').next().unwrap();
        assert_eq!(inv, want, "{row}");
    }
    // Run twice, the same numbers (the store is scanned in parallel).
    let again = ok(&[
        "simulate",
        "--store",
        s(&store),
        "--source",
        "per-minute",
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive:ttl=60s",
    ]);
    let strip = |t: &str| -> String {
        t.lines()
            .filter(|l| l.starts_with("fixed") || l.starts_with("faith"))
            .map(|l| {
                // Without the last column (the engine's speed).
                let w: Vec<&str> = l.split_whitespace().collect();
                w[..w.len() - 1].join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&text), strip(&again));
    let e = coldstart(&[
        "simulate",
        "--store",
        s(&store),
        "--region",
        "R1",
        "--out",
        s(&out),
    ]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("R1"), "{e:?}");
}
