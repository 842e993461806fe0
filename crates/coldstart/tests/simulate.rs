//! `coldstart simulate` end to end: a synthetic release's store replayed under the platform's
//! default policy gives back about its own cold starts; the synthetic model runs directly; the
//! output folder holds the comparison; bad policies and foreign folders are refused.

use std::path::{Path, PathBuf};

mod common;
use common::{coldstart, fails, ok};

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

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rel.join("synth_summary.json")).unwrap()).unwrap();
    let made: std::collections::BTreeMap<String, (u64, u64)> = summary["functions"]
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
        .collect();
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
    assert!(String::from_utf8_lossy(&e.stderr).contains("give the workload: --store STORE"));
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
    // With a warm-up day, the trace's own cold starts are counted on the measured days only.
    let text = ok(&[
        "simulate",
        "--store",
        s(&store),
        "--source",
        "per-minute",
        "--days",
        "0..3",
        "--warmup-days",
        "1",
        "--out",
        s(&out),
        "--policy",
        "fixed-keepalive:ttl=60s",
    ]);
    let want = ok(&[
        "sql",
        "--store",
        s(&store),
        "--format",
        "csv",
        "SELECT count(*) AS n FROM cold_starts WHERE region = 'R2' AND day >= 1 AND day < 3",
    ]);
    let want = want.lines().nth(1).unwrap().trim().to_string();
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
    ok(&[
        "simulate",
        "--synth",
        "--region",
        "R2",
        "--functions",
        "40",
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
    ]);
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
        "simulate",
        "--synth",
        "--region",
        "R2",
        "--functions",
        "40",
        "--days",
        "3",
        "--out",
        s(&all),
        "--policy",
        "fixed-keepalive",
    ]);
    let (measured, every) = (
        column(&out, "invocations")[0].1,
        column(&all, "invocations")[0].1,
    );
    assert!(measured > 0.0 && measured < every, "{measured} {every}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("warm the policies up"), "the page says so");

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
    ok(&[
        "simulate",
        "--store",
        s(&store),
        "--region",
        "R2",
        "--out",
        s(&sout),
        "--policy",
        "fixed-keepalive",
        "--policy",
        "cross-region:latency=20ms",
        "--policy",
        "pool-predict",
    ]);
    let remote = column(&sout, "remote_cold_starts");
    assert!(remote[1].1 > 0.0, "{remote:?}");
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
