//! `coldstart simulate` end to end: a synthetic release's store replayed under the platform's
//! default policy gives back about its own cold starts; the synthetic model runs directly; the
//! output folder holds the comparison; bad policies and foreign folders are refused.

use std::path::{Path, PathBuf};

use crate::common;
use common::{coldstart, fails, ok};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `coldstart simulate --store STORE --out OUT ARGS...`, which must succeed; its stdout.
fn simulate(store: &Path, out: &Path, args: &[&str]) -> String {
    ok(&[&["simulate", "--store", s(store), "--out", s(out)], args].concat())
}

/// The one value `query` gives on `store`, as text.
fn sql_value(store: &Path, query: &str) -> String {
    let csv = ok(&["sql", "--store", s(store), "--format", "csv", query]);
    csv.lines().nth(1).unwrap().trim().to_string()
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
    let text = simulate(&store, &out, &["--region", "R2"]);
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
    // The pods' utility ratios beside the trace's, from its cold starts and request rows.
    let u = line
        .split("pod utility ratio: ")
        .nth(1)
        .expect("utility compared");
    let pct: Vec<f64> = u
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.parse().ok())
        .collect();
    // median, trace median, % below (1), trace %, pods, trace pods
    assert_eq!(pct.len(), 7, "{u}");
    assert!((pct[2] - pct[4]).abs() < 10.0, "{u}");
    assert!((pct[5] - pct[6]).abs() <= 0.1 * pct[6], "{u}");
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
    simulate(&store, &out, &["--policy", "fixed-keepalive:ttl=2h"]);
    // A sweep: five keep-alive windows more, each a row, drawn as the trade-off curve.
    simulate(
        &store,
        &out,
        &[
            "--sweep",
            "fixed-keepalive:ttl=10s..2h",
            "--sweep-points",
            "5",
        ],
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 3 + 5 + 1, "{summary}");
    assert!(
        summary.contains("fixed-keepalive:ttl=2h,restart=yes"),
        "{summary}"
    );
    let svg = std::fs::read_to_string(out.join("tradeoff.svg")).unwrap();
    assert!(svg.contains("hybrid-histogram"));
    // The sweep is named by its range, its ends labelled.
    let labels: Vec<&str> = svg.lines().map(str::trim).collect();
    assert!(labels.contains(&"sweep ttl=10s..2h"), "{svg}");
    assert!(
        labels.contains(&"ttl=10s") && labels.contains(&"ttl=2h"),
        "{svg}"
    );
    // Other axes: peak pods against p99 latency.
    simulate(
        &store,
        &out,
        &["--tradeoff", "peak_running_pods,latency_p99_s"],
    );
    let svg = std::fs::read_to_string(out.join("tradeoff.svg")).unwrap();
    assert!(
        svg.contains("Peak running pods against p99 latency (s)"),
        "{svg}"
    );
    let e = fails(&[
        "simulate",
        "--store",
        s(&store),
        "--out",
        s(&out),
        "--force",
        "--tradeoff",
        "pods",
    ]);
    assert!(e.contains("unknown metric 'pods'"), "{e}");
}

/// Each function's requests and cold starts as `coldstart synth` reports them in `rel`.
fn made_by_synth(rel: &std::path::Path) -> std::collections::BTreeMap<String, (u64, u64)> {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rel.join("synth_summary.json")).unwrap()).unwrap();
    summary["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["funcID"].as_str().unwrap().to_string(),
                (
                    f["requests"].as_u64().unwrap(),
                    f["cold_starts"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// `coldstart synth` is the synthetic workload replayed under the platform's default policy:
/// `simulate --synth` with the same options and that policy gives back every function's
/// invocations and cold starts exactly.
#[test]
fn replaying_a_synthetic_release_workload_gives_back_its_cold_starts_exactly() {
    let d = tempfile::tempdir().unwrap();
    let (rel, out) = (d.path().join("rel"), d.path().join("sim"));
    let opts = ["--functions", "70", "--seed", "5"];
    let mut synth = vec!["synth", "--out", s(&rel), "--regions", "R2", "--days", "3"];
    synth.extend(opts);
    synth.extend(["--quantiles", "none"]);
    ok(&synth);
    let mut sim = vec!["simulate", "--synth", "--region", "R2", "--days", "0..3"];
    sim.extend(opts);
    sim.extend(["--out", s(&out), "--policy", "fixed-keepalive:ttl=60s"]);
    ok(&sim);

    let made = made_by_synth(&rel);
    let mut rows = csv::Reader::from_path(out.join("functions.csv")).unwrap();
    let head = rows.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (policy, id) = (col("policy"), col("funcID"));
    let (inv, cold) = (col("invocations"), col("cold_starts"));
    // The file also holds the 10-minute baseline the idle time is normalised to.
    let replayed: std::collections::BTreeMap<String, (u64, u64)> = rows
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[policy] == "fixed-keepalive:ttl=60s,restart=yes")
        .map(|r| {
            (
                r[id].to_string(),
                (r[inv].parse().unwrap(), r[cold].parse().unwrap()),
            )
        })
        .collect();
    assert_eq!(made.len(), 70);
    let total: u64 = made.values().map(|v| v.1).sum();
    assert!(total > 1000, "{total} cold starts");
    assert_eq!(made, replayed);
    // The cold-start table holds those cold starts, row for row.
    let table_rows: usize = (0..3)
        .map(|day| {
            let p = rel.join(format!("cold_start/R2/day_{day:02}.csv"));
            std::fs::read_to_string(p).unwrap().lines().count() - 1
        })
        .sum();
    assert_eq!(table_rows as u64, total);
}

/// With the functions that are never idle (`--volume published`), drawn minute by minute by
/// the fluid model, `simulate --synth` under the platform's policy still gives back every
/// function's invocations and cold starts exactly; under a policy that is not a fixed
/// keep-alive the same functions come request by request, with the same requests per minute.
#[test]
fn replaying_a_release_with_never_idle_functions_gives_back_its_cold_starts_exactly() {
    let d = tempfile::tempdir().unwrap();
    let (rel, out, out2) = (
        d.path().join("rel"),
        d.path().join("sim"),
        d.path().join("sim2"),
    );
    let opts = ["--functions", "80", "--seed", "3", "--volume", "published"];
    let mut synth = vec!["synth", "--out", s(&rel), "--regions", "R2", "--days", "1"];
    synth.extend(opts);
    synth.extend([
        "--quantiles",
        "none",
        "--request-days",
        "none",
        "--no-check",
    ]);
    ok(&synth);
    let per_function = |dir: &std::path::Path, want: &str| {
        let mut rows = csv::Reader::from_path(dir.join("functions.csv")).unwrap();
        let head = rows.headers().unwrap().clone();
        let col = |n: &str| head.iter().position(|h| h == n).unwrap();
        let (policy, id) = (col("policy"), col("funcID"));
        let (inv, cold) = (col("invocations"), col("cold_starts"));
        rows.records()
            .map(|r| r.unwrap())
            .filter(|r| r[policy].starts_with(want))
            .map(|r| {
                (
                    r[id].to_string(),
                    (r[inv].parse().unwrap(), r[cold].parse().unwrap()),
                )
            })
            .collect::<std::collections::BTreeMap<String, (u64, u64)>>()
    };
    let mut sim = vec!["simulate", "--synth", "--region", "R2", "--days", "0..1"];
    sim.extend(opts);
    sim.extend(["--out", s(&out), "--policy", "fixed-keepalive:ttl=60s"]);
    ok(&sim);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("replayed minute by minute by the fluid model"));
    let made = made_by_synth(&rel);
    assert_eq!(made, per_function(&out, "fixed-keepalive:ttl=60s,"));
    // Two never-idle functions (2.5 % of 80) carry most of the requests.
    let mut requests: Vec<u64> = made.values().map(|v| v.0).collect();
    requests.sort_unstable();
    let total: u64 = requests.iter().sum();
    let top2: u64 = requests.iter().rev().take(2).sum();
    assert!(top2 as f64 > 0.9 * total as f64, "{top2} of {total}");
    // Request by request under another policy: the same requests of every function.
    let mut sim = vec!["simulate", "--synth", "--region", "R2", "--days", "0..1"];
    sim.extend(opts);
    sim.extend([
        "--out",
        s(&out2),
        "--policy",
        "hybrid-histogram",
        "--warmup-days",
        "0",
    ]);
    ok(&sim);
    let page = std::fs::read_to_string(out2.join("index.html")).unwrap();
    assert!(page.contains("replayed request by request"));
    let replayed = per_function(&out2, "hybrid-histogram");
    let same: Vec<(u64, u64)> = made.values().map(|v| (v.0, 0)).collect();
    let theirs: Vec<(u64, u64)> = replayed.values().map(|v| (v.0, 0)).collect();
    assert_eq!(same, theirs);
}

/// A small synthetic replay: 30 functions of R3 over 2 days.
const SMALL_R3: [&str; 8] = [
    "simulate",
    "--synth",
    "--region",
    "R3",
    "--functions",
    "30",
    "--days",
    "2",
];

#[test]
fn the_synthetic_model_runs_directly_and_bad_policies_are_named() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sim");
    let text = ok(&[
        &SMALL_R3[..],
        &[
            "--out",
            s(&out),
            "--policy",
            "fixed-keepalive:ttl=60s",
            "--policy",
            "fixed-keepalive:ttl=2h",
        ],
    ]
    .concat());
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
    assert!(String::from_utf8_lossy(&e.stderr).contains("give the workload: --store STORE"));
}

#[test]
fn per_minute_counts_replay_every_request_of_every_day() {
    let d = tempfile::tempdir().unwrap();
    let (store, out) = (release_store(d.path(), 20, 3, "R2"), d.path().join("sim"));
    let want = sql_value(
        &store,
        "SELECT CAST(sum(value) AS BIGINT) AS n FROM minute_metrics \
         WHERE region = 'R2' AND metric = 'requests' AND stat = 'count'",
    );
    let per_minute = [
        "--source",
        "per-minute",
        "--policy",
        "fixed-keepalive:ttl=60s",
    ];
    let text = simulate(&store, &out, &per_minute);
    assert!(text.contains("per-minute counts"), "{text}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    for row in summary.lines().skip(1) {
        let inv = row.split("\",").nth(1).unwrap().split(',').next().unwrap();
        assert_eq!(inv, want, "{row}");
    }
    // Run twice, the same numbers (the store is scanned in parallel).
    let again = simulate(&store, &out, &per_minute);
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
    let e = fails(&[
        "simulate",
        "--store",
        s(&store),
        "--region",
        "R1",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("R1"), "{e}");
    // With a warm-up day, the trace's own cold starts are counted on the measured days only.
    let text = simulate(
        &store,
        &out,
        &[&per_minute[..], &["--days", "0..3", "--warmup-days", "1"]].concat(),
    );
    let want = sql_value(
        &store,
        "SELECT count(*) AS n FROM cold_starts WHERE region = 'R2' AND day >= 1 AND day < 3",
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("faithfulness"))
        .unwrap();
    assert!(
        line.contains(&format!("where the trace has {want} on")),
        "{line} / {want}"
    );
}

/// Column `name` of summary.csv in `out`, one value per policy row (policy, value).
fn column(out: &Path, name: &str) -> Vec<(String, f64)> {
    let mut r = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let i = h.iter().position(|c| c == name).unwrap();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_string(), x[i].parse().unwrap_or(f64::NAN))
        })
        .collect()
}

#[test]
fn pools_regions_and_warm_up_days_on_the_synthetic_model_and_a_store() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sim");
    let synth = ["simulate", "--synth", "--region", "R2", "--functions", "40"];
    ok(&[
        &synth[..],
        &[
            "--days",
            "0..3",
            "--warmup-days",
            "1",
            "--out",
            s(&out),
            "--policy",
            "fixed-keepalive",
            "--policy",
            "pool-predict",
            "--policy",
            "pool-predict:size=0",
            "--policy",
            "cross-region:latency=50ms",
        ],
    ]
    .concat());
    let hits = column(&out, "pool_hits");
    let misses = column(&out, "pool_misses");
    let cold = column(&out, "cold_starts");
    let secs = column(&out, "cold_start_seconds");
    // The predicted pools serve a good part of the cold starts (bursts drain them between
    // refills); without a pool every pod is built from scratch, which costs more cold-start
    // seconds than the platform's own pools.
    assert!(
        hits[1].1 > 0.25 * (hits[1].1 + misses[1].1),
        "{hits:?} {misses:?}"
    );
    // Custom and http runtimes have no pool: their cold starts are neither.
    assert_eq!(hits[2].1, 0.0);
    assert!(misses[2].1 > 0.0 && misses[2].1 <= cold[2].1);
    assert!(secs[2].1 > secs[0].1 && secs[1].1 < secs[2].1, "{secs:?}");
    assert!(column(&out, "pool_idle_pod_seconds")[1].1 > 0.0);
    // R2's allocation is slow: some functions start faster in another region.
    let remote = column(&out, "remote_cold_starts");
    assert!(remote[3].1 > 0.0 && remote[0].1 == 0.0, "{remote:?}");
    assert!(secs[3].1 < secs[0].1, "{secs:?}");
    // Only days 1 and 2 are measured: fewer invocations than all three days.
    let all = d.path().join("all");
    ok(&[
        &synth[..],
        &[
            "--days",
            "3",
            "--out",
            s(&all),
            "--policy",
            "fixed-keepalive",
        ],
    ]
    .concat());
    let (measured, every) = (
        column(&out, "invocations")[0].1,
        column(&all, "invocations")[0].1,
    );
    assert!(measured > 0.0 && measured < every, "{measured} {every}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        page.contains("day warms the policies up"),
        "the page says so"
    );
    // A policy that learns from the past is measured after one warm-up day by default (the
    // same days as --warmup-days 1); --warmup-days 0 measures every day.
    let learning = |out: &Path, extra: &[&str]| {
        let args = ["--days", "3", "--out", s(out), "--policy", "pool-predict"];
        ok(&[&synth[..], &args[..], extra].concat());
        column(out, "invocations")[0].1
    };
    let (default, zero) = (d.path().join("default"), d.path().join("zero"));
    assert_eq!(learning(&default, &[]), measured);
    assert_eq!(learning(&zero, &["--warmup-days", "0"]), every);
    let page = std::fs::read_to_string(default.join("index.html")).unwrap();
    assert!(page.contains("(by default: a policy learns from the past; --warmup-days 0"));

    // A store of two regions: R2's cold starts may go to R3, costed by R3's own.
    let (rel, store) = (d.path().join("rel"), d.path().join("store"));
    ok(&[
        "synth",
        "--out",
        s(&rel),
        "--regions",
        "R2,R3",
        "--functions",
        "30",
        "--days",
        "1",
        "--quantiles",
        "none",
    ]);
    ok(&["ingest", s(&rel), "--store", s(&store)]);
    let sout = d.path().join("ssim");
    simulate(
        &store,
        &sout,
        &[
            "--region",
            "R2",
            "--policy",
            "fixed-keepalive",
            "--policy",
            "cross-region:latency=20ms",
            "--policy",
            "pool-predict",
        ],
    );
    let remote = column(&sout, "remote_cold_starts");
    assert!(remote[1].1 > 0.0, "{remote:?}");
    // Where they went, by region and hour: only the cross-region run, R2 and R3 for each of
    // 24 hours; R3's add up to its remote cold starts and both to all of its cold starts.
    let mut r = csv::Reader::from_path(sout.join("regions_by_hour.csv")).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head,
        [
            "policy",
            "region",
            "hour",
            "cold_starts",
            "cold_start_pct_of_hour",
            "cold_start_seconds"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 48);
    assert!(rows.iter().all(|x| x[0].starts_with("cross-region")));
    let sum = |region: &str| -> f64 {
        rows.iter()
            .filter(|x| &x[1] == region)
            .map(|x| x[3].parse::<f64>().unwrap())
            .sum()
    };
    assert_eq!(sum("R3"), remote[1].1);
    assert_eq!(sum("R2") + sum("R3"), column(&sout, "cold_starts")[1].1);
    for h in 0..24 {
        let share: f64 = rows
            .iter()
            .filter(|x| x[2] == *h.to_string() && x[3] != *"0")
            .map(|x| x[4].parse::<f64>().unwrap())
            .sum();
        assert!(
            share == 0.0 || (share - 100.0).abs() < 1e-6,
            "hour {h}: {share}"
        );
    }
    assert!(sout.join("regions_by_hour.svg").exists());
    let page = std::fs::read_to_string(sout.join("index.html")).unwrap();
    assert!(page.contains("regions_by_hour.csv") && page.contains("regions_by_hour.svg"));
    // R3's own load is read from the store: lending none of its room keeps every cold start
    // home, and the naive placement (no room or load anywhere) sends at least as many.
    let lent = d.path().join("lent");
    simulate(
        &store,
        &lent,
        &[
            "--region",
            "R2",
            "--policy",
            "cross-region:latency=20ms,capacity=0",
            "--policy",
            "cross-region:latency=20ms,route=once",
        ],
    );
    let r = column(&lent, "remote_cold_starts");
    assert!(r[0].1 == 0.0 && r[1].1 >= remote[1].1, "{r:?} {remote:?}");
    assert!(column(&sout, "pool_hits")[2].1 > 0.0);
    // One region only: nowhere to send cold starts.
    let one = d.path().join("one");
    std::fs::create_dir(&one).unwrap();
    let store = release_store(&one, 10, 1, "none");
    let e = fails(&[
        "simulate",
        "--store",
        s(&store),
        "--region",
        "R2",
        "--out",
        s(&sout),
        "--force",
        "--policy",
        "cross-region",
    ]);
    assert!(e.contains("cross-region needs other regions"), "{e}");
}

#[test]
fn the_azure_traces_replay_with_their_assumptions_stated() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("invocations.txt");
    let mut text = String::from("app,func,end_timestamp,duration\n");
    // Two functions: one every 30 s for a day (one cold start), one every 2 minutes (each cold
    // under 60 s, warm under 10 minutes).
    for i in 0..2880 {
        text += &format!("a,f,{}.5,0.5\n", i * 30 + 1);
    }
    for i in 0..720 {
        text += &format!("b,g,{}.0,1.0\n", i * 120 + 2);
    }
    std::fs::write(&p, text).unwrap();
    let out = d.path().join("sim");
    let stdout = ok(&[
        "simulate",
        "--azure2021",
        s(&p),
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive",
    ]);
    assert!(stdout.contains("Azure Functions 2021"), "{stdout}");
    let cold = column(&out, "cold_starts");
    assert_eq!(column(&out, "invocations")[0].1, 3600.0);
    // 60 s: a's first and b's every one (119 s apart), but where a heavy-tailed cold start
    // (the LogNormal fit's) ran past the next arrival; 10 minutes: one each.
    assert!(cold[0].1 > 700.0 && cold[0].1 <= 721.0, "{cold:?}");
    assert_eq!(cold[1].1, 2.0, "{cold:?}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("Burr XII") && page.contains("LogNormal fit"));
    // No allocation times in the Azure traces: pools cannot be costed.
    let e = fails(&[
        "simulate",
        "--azure2021",
        s(&p),
        "--out",
        s(&out),
        "--policy",
        "pool-predict",
    ]);
    assert!(e.contains("pool-predict needs pod allocation times"), "{e}");
    // Two workloads at once are refused.
    let e = fails(&[
        "simulate",
        "--azure2021",
        s(&p),
        "--synth",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("cannot be used with"), "{e}");
}

/// A sweep over a number (FaasCache's memory capacity) with its eviction order set, beside the
/// fixed keep-alive bounded by the same memory; every policy reports its peak loaded memory.
#[test]
fn a_capacity_sweep_reports_peak_memory_and_evictions() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sim");
    let printed = ok(&[
        "simulate",
        "--synth",
        "--region",
        "R2",
        "--functions",
        "30",
        "--days",
        "1",
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive:ttl=10m,capacity=4096",
        "--sweep",
        "faascache:capacity=1024..65536,evict=lru",
        "--sweep",
        "faascache:capacity=1024..65536",
        "--sweep-points",
        "3",
    ]);
    assert!(printed.contains("peak MB"), "{printed}");
    let peak = column(&out, "peak_loaded_mb");
    let evictions = column(&out, "evictions");
    let names: Vec<&str> = peak.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "faascache:capacity=1024,evict=lru",
        "faascache:capacity=8192,evict=lru",
        "faascache:capacity=65536,evict=lru",
        "faascache:capacity=1024",
        "faascache:capacity=8192",
        "faascache:capacity=65536",
        "fixed-keepalive:ttl=10m,restart=yes,capacity=4096",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    // Both sweeps are lines of the trade-off chart, each named by its --sweep in the legend.
    let svg = std::fs::read_to_string(out.join("tradeoff.svg")).unwrap();
    for want in [
        "\nfaascache:capacity=1024..65536,evict=lru\n",
        "\nfaascache:capacity=1024..65536\n",
    ] {
        assert!(svg.contains(want), "{want} not in the chart's legend");
    }
    assert_eq!(svg.matches("stroke-width=\"2\"").count(), 2, "{svg}");
    assert!(peak.iter().all(|(_, v)| *v > 0.0), "{peak:?}");
    let of = |name: &str| evictions.iter().find(|(p, _)| p == name).unwrap().1;
    // A smaller cache evicts more.
    assert!(
        of("faascache:capacity=1024,evict=lru") > of("faascache:capacity=65536,evict=lru"),
        "{evictions:?}"
    );
}

/// `--seeds 3` replays seeds 1, 2 and 3: seeds.csv holds, per policy and metric, each seed's
/// value (seed k's equals a single run with `--seed k`), their mean and the Student's t 95 %
/// interval around it; the tables are seed 1's.
#[test]
fn seeds_give_each_metric_its_interval() {
    let d = tempfile::tempdir().unwrap();
    let run = |out: &str, extra: &[&str]| {
        let out = d.path().join(out);
        let base = ["simulate", "--synth", "--functions", "12", "--days", "2"];
        let policy = ["--policy", "fixed-keepalive:ttl=60s", "--out", s(&out)];
        let text = ok(&[&base[..], &policy[..], extra].concat());
        (out, text)
    };
    let (many, text) = run("many", &["--seeds", "3"]);
    assert!(
        text.contains("over 3 seeds (1..3), mean [95 % interval]"),
        "{text}"
    );
    let cold = |out: &Path| column(out, "cold_starts")[0].1;
    let singles: Vec<f64> = (1..=3)
        .map(|k| cold(&run(&format!("seed{k}"), &["--seed", &k.to_string()]).0))
        .collect();
    assert_eq!(cold(&many), singles[0]);
    let mut r = csv::Reader::from_path(many.join("seeds.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let row = rows
        .iter()
        .find(|x| x[0].starts_with("fixed-keepalive:ttl=60s") && &x[col("metric")] == "cold_starts")
        .unwrap();
    let per_seed: Vec<f64> = row[col("per_seed")]
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(per_seed, singles);
    let mean: f64 = row[col("mean")].parse().unwrap();
    let hi: f64 = row[col("ci95_high")].parse().unwrap();
    let m = singles.iter().sum::<f64>() / 3.0;
    let sd = (singles.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 2.0).sqrt();
    // scipy.stats.t.ppf(0.975, 2) = 4.302652729911275.
    assert!((mean - m).abs() < 1e-9);
    assert!(
        (hi - (m + 4.302_652_729_9 * sd / 3f64.sqrt())).abs() < 1e-6,
        "{hi}"
    );
    // Every policy (the one asked for and the baseline) has every metric.
    let metrics = rows.iter().filter(|x| x[0] == rows[0][0]).count();
    assert_eq!(rows.len(), 2 * metrics);
    // summary.csv leaves out what no policy here has (pools, other regions, evictions, pods
    // started ahead); shares are percentages.
    let header = std::fs::read_to_string(many.join("summary.csv")).unwrap();
    let header = header.lines().next().unwrap();
    for gone in [
        "pool_hits",
        "remote_cold_starts",
        "evictions",
        "prewarms",
        ",pods,",
    ] {
        assert!(!header.contains(gone), "{gone} in {header}");
    }
    assert!(header.contains("cold_start_pct") && header.contains("p75_function_cold_pct"));
    // The per-trigger and per-runtime tables add up to the policy's totals.
    for (file, key) in [("by_trigger.csv", "trigger"), ("by_runtime.csv", "runtime")] {
        let mut r = csv::Reader::from_path(many.join(file)).unwrap();
        let h = r.headers().unwrap().clone();
        assert_eq!(&h[1], key);
        let i = h.iter().position(|c| c == "cold_starts").unwrap();
        let n = h.iter().position(|c| c == "functions").unwrap();
        let (mut cold, mut functions) = (0.0, 0.0);
        for x in r.records().map(|x| x.unwrap()) {
            if x[0].starts_with("fixed-keepalive:ttl=60s") {
                cold += x[i].parse::<f64>().unwrap();
                functions += x[n].parse::<f64>().unwrap();
            }
        }
        assert_eq!(cold, singles[0], "{file}");
        assert_eq!(functions, 12.0, "{file}");
    }
}

/// Azure loads apps: by default the functions of an app share its pods. Two functions of one
/// app called alternately every 60 s (each every 120 s) keep one pod warm under a 60 s
/// keep-alive, while per function every call is cold; `--cold-start fixed:1s` makes each cold
/// start cost exactly 1 s and says so on the page.
/// Replays Azure 2021 file `p` into `out` under the 60 s keep-alive with 1 s cold starts.
fn azure_fixed_60s(p: &Path, out: &Path, extra: &[&str]) -> String {
    let base = ["simulate", "--azure2021", s(p), "--out", s(out)];
    let args = [
        "--policy",
        "fixed-keepalive:ttl=60s",
        "--cold-start",
        "fixed:1s",
    ];
    ok(&[&base[..], &args[..], extra].concat())
}

#[test]
fn azure_apps_share_their_pods_and_cold_starts_can_be_fixed() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("invocations.txt");
    let mut text = String::from("app,func,end_timestamp,duration\n");
    for i in 0..720 {
        text += &format!("a,f1,{}.5,0.5\n", i * 120 + 1);
        text += &format!("a,f2,{}.5,0.5\n", i * 120 + 61);
    }
    std::fs::write(&p, text).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = d.path().join(name);
        let printed = azure_fixed_60s(&p, &out, extra);
        (out, printed)
    };
    let (app, printed) = run("app", &[]);
    assert!(
        printed.contains("the 2 functions run in the pods of their 1 apps"),
        "{printed}"
    );
    let (func, _) = run("function", &["--pod-scope", "function"]);
    let cold = |out: &Path| column(out, "cold_starts")[0].1;
    assert_eq!(cold(&app), 1.0);
    assert_eq!(cold(&func), 1440.0);
    assert_eq!(column(&func, "cold_start_seconds")[0].1, 1440.0);
    // Serverless in the Wild's 75th-percentile cold-start rate is over what owns the pods and
    // named so: the one app's 1 cold start in 1,440 calls, each function's every call.
    let p75 = column(&app, "p75_app_cold_pct")[0].1;
    assert!((p75 - 100.0 / 1440.0).abs() < 1e-9, "{p75}");
    assert_eq!(column(&func, "p75_function_cold_pct")[0].1, 100.0);
    let e = fails(&[
        "simulate",
        "--azure2021",
        s(&p),
        "--out",
        s(&d.path().join("refused")),
        "--tradeoff",
        "p75_function_cold_pct",
    ]);
    assert!(
        e.contains("p75_app_cold_pct") && e.contains("--pod-scope app"),
        "{e}"
    );
    let page = std::fs::read_to_string(app.join("index.html")).unwrap();
    assert!(
        page.contains("every cold start takes 1 s (--cold-start fixed)"),
        "{page}"
    );
    // The Huawei trace and the model have no apps; a bad --cold-start names the flag.
    let e = fails(&[
        "simulate",
        "--synth",
        "--out",
        s(&app),
        "--pod-scope",
        "app",
    ]);
    assert!(e.contains("have no apps"), "{e}");
    let e = fails(&[
        "simulate",
        "--synth",
        "--out",
        s(&app),
        "--cold-start",
        "gamma:1",
    ]);
    assert!(e.contains("--cold-start 'gamma:1'"), "{e}");
}

#[test]
fn a_component_what_if_scales_the_cold_starts_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = d.path().join(name);
        let mut args = SMALL_R3.to_vec();
        args.extend(["--policy", "fixed-keepalive:ttl=60s", "--out"]);
        args.push(s(&out));
        args.extend_from_slice(extra);
        (ok(&args), column(&out, "cold_start_seconds")[0].1)
    };
    let (_, base) = run("base", &[]);
    let zero = [
        "--scale-component",
        "allocation=0",
        "--scale-component",
        "code=0",
        "--scale-component",
        "dependency=0",
        "--scale-component",
        "schedulingCost=0",
    ];
    let (text, none) = run("zero", &zero);
    assert!(
        text.contains("cold-start components scaled: podAllocationCost x0, deployCodeCost x0, deployDependencyCost x0, schedulingCost x0 (--scale-component)"),
        "{text}"
    );
    // Without its four components a cold start keeps only what the total holds beyond them
    // (308 s of cold starts fall to 46 s here); a slower component costs more.
    assert!(none < base / 2.0, "{none} against {base}");
    let (_, slower) = run("slower", &["--scale-component", "dependency=3"]);
    assert!(slower > base, "{slower} against {base}");
    let e = coldstart(&[
        "simulate",
        "--synth",
        "--out",
        s(&d.path().join("bad")),
        "--scale-component",
        "network=2",
    ]);
    let err = String::from_utf8_lossy(&e.stderr);
    assert!(
        !e.status.success() && err.contains("allocation, code, dependency, scheduling"),
        "{err}"
    );
}

#[test]
fn concurrency_is_a_what_if_knob() {
    // Three overlapping 10 s requests at 0, 1 and 2 s, then one more at 100 s.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("invocations.txt");
    std::fs::write(
        &p,
        "app,func,end_timestamp,duration\na,f,10,10\na,f,11,10\na,f,12,10\na,f,110,10\n",
    )
    .unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = d.path().join(name);
        let printed = azure_fixed_60s(&p, &out, extra);
        (column(&out, "cold_starts")[0].1, printed)
    };
    // One request a pod: each overlapping request starts a pod (the fourth comes after the
    // 60 s keep-alive: a fourth); three a pod: the first pod takes all three.
    assert_eq!(run("one", &[]).0, 4.0);
    let (three, printed) = run("three", &["--concurrency", "3"]);
    assert_eq!(three, 2.0);
    assert!(
        printed.contains("take up to 3 requests at once (--concurrency)"),
        "{printed}"
    );
    assert_eq!(run("two", &["--concurrency", "2"]).0, 3.0);
    let e = fails(&[
        "simulate",
        "--synth",
        "--out",
        s(&d.path().join("x")),
        "--concurrency",
        "0",
    ]);
    assert!(e.contains("--concurrency"), "{e}");
}

/// The Huawei Cloud 2023 layout (wide per-minute CSVs): one function every minute of day 0's
/// first hour, another on day 40 at minutes 100 and 500, beyond the 2025 trace's 31 days.
fn huawei2023_release(dir: &Path) {
    let req = dir.join("requests_minute");
    std::fs::create_dir_all(&req).unwrap();
    let mut d0 = String::from("day,time,0,1\n");
    for m in 0..60 {
        d0 += &format!("0,{},1,\n", m * 60);
    }
    std::fs::write(req.join("day_000.csv"), d0).unwrap();
    let base = 40 * 86_400;
    std::fs::write(
        req.join("day_040.csv"),
        format!(
            "day,time,0,1\n40,{},,1\n40,{},,1.0\n",
            base + 100 * 60,
            base + 500 * 60
        ),
    )
    .unwrap();
}

#[test]
fn the_huawei_2023_trace_replays_past_31_days() {
    let d = tempfile::tempdir().unwrap();
    huawei2023_release(d.path());
    let out = d.path().join("sim");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            "--huawei2023",
            s(d.path()),
            "--out",
            s(&out),
            "--force",
            "--policy",
            "fixed-keepalive:ttl=10m",
        ];
        args.extend_from_slice(extra);
        ok(&args)
    };
    // Ten minutes of keep-alive: one cold start for the hour (a request a minute, each well
    // under its minute), two for day 40's requests 400 minutes apart.
    let printed = run(&[]);
    assert!(printed.contains("Huawei Cloud 2023 trace"), "{printed}");
    assert_eq!(column(&out, "invocations")[0].1, 62.0);
    assert_eq!(column(&out, "cold_starts")[0].1, 3.0);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        page.contains("39 days in between have no file") && page.contains("LogNormal fit"),
        "the page states the gap and the cold-start fallback"
    );
    run(&["--days", "40..41"]);
    assert_eq!(column(&out, "cold_starts")[0].1, 2.0);
    run(&["--huawei2023-functions", "0"]);
    assert_eq!(column(&out, "invocations")[0].1, 60.0);
    assert_eq!(column(&out, "cold_starts")[0].1, 1.0);
    let e = fails(&[
        "simulate",
        "--huawei2023",
        s(d.path()),
        "--out",
        s(&out),
        "--source",
        "per-request",
    ]);
    assert!(e.contains("per-minute counts only"), "{e}");
}
