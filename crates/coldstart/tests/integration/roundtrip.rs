//! synth → ingest → SQL gives back exactly what the generator reports, and the tables of a
//! synthetic release agree with each other.

use crate::common;

use std::collections::HashMap;
use std::path::Path;

use common::ok;
use serde_json::Value;

fn sql(store: &Path, q: &str) -> Vec<Value> {
    let s = ok(&[
        "sql",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        q,
    ]);
    serde_json::from_str::<Vec<Value>>(&s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn synth(out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "synth",
        "--out",
        out.to_str().unwrap(),
        "--functions",
        "24",
        "--days",
        "4",
        "--seed",
        "7",
    ];
    args.extend_from_slice(extra);
    ok(&args);
    serde_json::from_slice(&std::fs::read(out.join("synth_summary.json")).unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn round_trip_gives_back_the_generators_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rel = dir.path().join("release");
    let store = dir.path().join("store");
    let summary = synth(&rel, &[]);
    ok(&[
        "ingest",
        rel.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);

    // Cold starts per region, and their summed cold start time.
    let rows = sql(
        &store,
        "SELECT region, count(*) AS n, sum(totalCost_cold_start) AS s FROM cold_starts \
         GROUP BY region ORDER BY region",
    );
    let regions = summary["regions"].as_array().unwrap();
    assert_eq!(rows.len(), regions.len());
    for (row, r) in rows.iter().zip(regions) {
        assert_eq!(row["region"], r["region"]);
        assert_eq!(num(&row["n"]), num(&r["cold_starts"]));
        let (a, b) = (num(&row["s"]), num(&r["sum_total_cost_cold_start"]));
        assert!((a - b).abs() <= 1e-9 * b.max(1.0), "{a} vs {b}");
    }

    // Requests per function on the last day (per-request table) and over all days
    // (per-minute table), and cold starts per function (per-minute table).
    let per_req: HashMap<String, f64> = sql(
        &store,
        "SELECT funcID, count(*) AS n FROM requests GROUP BY funcID",
    )
    .iter()
    .map(|r| (r["funcID"].as_str().unwrap().to_owned(), num(&r["n"])))
    .collect();
    let minute: HashMap<(String, String), f64> = sql(
        &store,
        "SELECT funcID, metric, sum(value) AS n FROM minute_metrics \
         WHERE metric IN ('requests', 'num_cold_starts') GROUP BY funcID, metric",
    )
    .iter()
    .map(|r| {
        (
            (
                r["funcID"].as_str().unwrap().to_owned(),
                r["metric"].as_str().unwrap().to_owned(),
            ),
            num(&r["n"]),
        )
    })
    .collect();
    let functions = summary["functions"].as_array().unwrap();
    assert_eq!(functions.len(), 24 * 5);
    for f in functions {
        let id = f["funcID"].as_str().unwrap().to_owned();
        let last = num(&f["requests_last_day"]);
        assert_eq!(per_req.get(&id).copied().unwrap_or(0.0), last, "{id}");
        let total = minute
            .get(&(id.clone(), "requests".into()))
            .copied()
            .unwrap_or(0.0);
        assert_eq!(total, num(&f["requests"]), "{id}");
        let cold = minute
            .get(&(id.clone(), "num_cold_starts".into()))
            .copied()
            .unwrap_or(0.0);
        assert_eq!(cold, num(&f["cold_starts"]), "{id}");
    }

    // Cold starts per runtime in R2, joined through the functions table.
    let by_rt: HashMap<String, f64> = sql(
        &store,
        "SELECT f.runtime, count(*) AS n FROM cold_starts c JOIN functions f \
         ON c.funcID = f.funcID WHERE c.region = 'R2' GROUP BY f.runtime",
    )
    .iter()
    .map(|r| (r["runtime"].as_str().unwrap().to_owned(), num(&r["n"])))
    .collect();
    let r2 = regions.iter().find(|r| r["region"] == "R2").unwrap();
    for pair in r2["measures"]["by_runtime"].as_array().unwrap() {
        let (rt, n) = (pair[0].as_str().unwrap(), num(&pair[1]));
        assert_eq!(by_rt.get(rt).copied().unwrap_or(0.0), n, "{rt}");
    }

    // Coherence: every request names a pod that a cold start created.
    let orphans = sql(
        &store,
        "SELECT count(*) AS n FROM requests r LEFT JOIN \
         (SELECT DISTINCT podID FROM cold_starts) c ON r.podID = c.podID WHERE c.podID IS NULL",
    );
    assert_eq!(num(&orphans[0]["n"]), 0.0);
    // Cold starts of the last day were triggered by requests of the per-request table.
    let unmatched = sql(
        &store,
        "SELECT count(*) AS n FROM cold_starts c LEFT JOIN \
         (SELECT DISTINCT requestID FROM requests) r ON c.requestID = r.requestID \
         WHERE c.day = 3 AND r.requestID IS NULL",
    );
    assert_eq!(num(&unmatched[0]["n"]), 0.0);
    // num_pods of the last day is the number of distinct pods serving each minute.
    let pods = sql(
        &store,
        "SELECT count(*) AS n FROM (SELECT funcID, CAST(floor(time_worker / 60) AS BIGINT) AS minute, \
         count(DISTINCT podID) AS pods FROM requests GROUP BY 1, 2) r \
         FULL OUTER JOIN (SELECT funcID, minute, value FROM minute_metrics \
         WHERE metric = 'num_pods' AND day = 3) m ON r.funcID = m.funcID AND r.minute = m.minute \
         WHERE r.pods IS NULL OR m.value IS NULL OR CAST(r.pods AS DOUBLE) <> m.value",
    );
    assert_eq!(num(&pods[0]["n"]), 0.0);
}

fn digest(dir: &Path) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with("synth_summary.json") {
                let bytes = std::fs::read(&p).unwrap();
                // FNV-1a is enough to tell files apart.
                let h = bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
                    (h ^ *b as u64).wrapping_mul(0x100000001b3)
                });
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    bytes.len() as u64,
                    h,
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_same_bytes_and_zips_ingest_like_folders() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let z = dir.path().join("z");
    let extra = ["--regions", "R2,R3", "--threads", "2"];
    synth(&a, &extra);
    let extra1 = ["--regions", "R2,R3", "--threads", "1"];
    synth(&b, &extra1);
    assert_eq!(digest(&a), digest(&b), "same seed must give the same bytes");
    let mut zipped = extra.to_vec();
    zipped.push("--zip");
    synth(&z, &zipped);
    assert!(z.join("cold_start/R2.zip").exists());
    assert!(z.join("quantiles/R3.zip").exists());
    assert!(z.join("per_request/R2/R2_00000_00009.zip").exists());

    let sa = dir.path().join("sa");
    let sz = dir.path().join("sz");
    ok(&[
        "ingest",
        a.to_str().unwrap(),
        "--store",
        sa.to_str().unwrap(),
    ]);
    ok(&[
        "ingest",
        z.to_str().unwrap(),
        "--store",
        sz.to_str().unwrap(),
    ]);
    let q =
        "SELECT (SELECT count(*) FROM cold_starts) AS c, (SELECT count(*) FROM requests) AS r, \
             (SELECT count(*) FROM minute_metrics) AS m, (SELECT count(*) FROM functions) AS f, \
             (SELECT round(sum(totalCost_worker), 3) FROM requests) AS w";
    // (Rounded: the sum's float order follows how the scan splits the files.)
    let (ra, rz) = (sql(&sa, q), sql(&sz, q));
    assert_eq!(ra, rz);
    assert!(num(&ra[0]["c"]) > 0.0 && num(&ra[0]["r"]) > 0.0 && num(&ra[0]["m"]) > 0.0);
    assert_eq!(num(&ra[0]["f"]), 24.0);

    // The other output formats carry the same answer.
    let csv = ok(&[
        "sql",
        "--store",
        sa.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT region, count(*) AS n FROM cold_starts GROUP BY region ORDER BY region",
    ]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("region,n"));
    let total: f64 = lines
        .map(|l| l.split(',').nth(1).unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(total, num(&ra[0]["c"]));
    let pq = dir.path().join("out.parquet");
    ok(&[
        "sql",
        "--store",
        sa.to_str().unwrap(),
        "--format",
        "parquet",
        "--output",
        pq.to_str().unwrap(),
        "SELECT * FROM functions",
    ]);
    let reader =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&pq).unwrap())
            .unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows(), 24);

    // `tables` lists every table with its row count.
    let t = ok(&["tables", "--store", sa.to_str().unwrap()]);
    for name in [
        "cold_starts (",
        "requests (",
        "functions (24 rows)",
        "minute_metrics (",
    ] {
        assert!(t.contains(name), "{t}");
    }
}
