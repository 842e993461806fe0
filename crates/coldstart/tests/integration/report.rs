//! End to end: a small synthetic release, ingested, gives a report with every figure of the
//! paper (or a reason why not), whose index.html links only files that exist.

use crate::common;

use std::path::Path;

use common::ok;
use serde_json::Value;

const FIGURES: [&str; 27] = [
    "fig3a", "fig3b", "fig3c", "fig4a", "fig4b", "fig5", "fig6a", "fig6b", "fig7", "fig8a",
    "fig8b", "fig8c", "fig8d", "fig8e", "fig8f", "fig9", "fig10a", "fig10b", "fig10c", "fig10d",
    "fig11", "fig12", "fig13", "fig14", "fig15", "fig16", "fig17",
];

/// Every `src="..."` and `href="..."` target that is a file, not an anchor.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            let target = &rest[..end];
            if !target.starts_with('#') {
                out.push(target.to_string());
            }
        }
    }
    out
}

#[test]
fn report_has_every_figure_and_only_working_links() {
    let dir = tempfile::tempdir().unwrap();
    let p = |s: &str| dir.path().join(s).to_str().unwrap().to_string();
    ok(&[
        "synth",
        "--out",
        &p("release"),
        "--functions",
        "30",
        "--days",
        "31",
        "--seed",
        "3",
    ]);
    ok(&["ingest", &p("release"), "--store", &p("store")]);
    let printed = ok(&["report", "--store", &p("store"), "--out", &p("report")]);
    assert!(printed.contains("27 analyses"), "{printed}");
    assert!(
        printed.contains("published numbers within tolerance") && printed.contains("store size"),
        "{printed}"
    );
    let report = Path::new(&p("report")).to_path_buf();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let entries = summary["entries"].as_array().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, FIGURES);
    for e in entries {
        let id = e["id"].as_str().unwrap();
        match e["status"].as_str().unwrap() {
            "ok" => {
                let files: Vec<&str> = e["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap())
                    .collect();
                assert!(
                    files.contains(&format!("{id}.svg").as_str()),
                    "{id}: no chart"
                );
                assert!(files.iter().any(|f| f.ends_with(".csv")), "{id}: no table");
            }
            "skipped" => assert!(!e["notes"].as_array().unwrap().is_empty(), "{id}"),
            other => panic!("{id}: {other}: {}", e["notes"]),
        }
    }
    // A synthetic release has every table: nothing is skipped.
    assert!(entries.iter().all(|e| e["status"] == "ok"));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    let targets = links(&html);
    assert!(targets.len() > 60, "only {} links", targets.len());
    for t in &targets {
        assert!(
            report.join(t).is_file(),
            "index.html links {t}, which does not exist"
        );
    }
    for id in FIGURES {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "{id} has no section"
        );
    }
    assert!(html.contains("Key numbers against the paper"));
    // Every key number with a published one beside it has a verdict, on the page and in
    // report.json.
    assert!(html.contains("<th>verdict</th>"), "no verdict column");
    let numbers: Vec<&Value> = entries
        .iter()
        .flat_map(|e| e["numbers"].as_array().unwrap())
        .collect();
    let verdicts: Vec<&str> = numbers
        .iter()
        .filter_map(|n| n["verdict"].as_str())
        .collect();
    assert!(verdicts.len() > 40, "only {} verdicts", verdicts.len());
    assert!(verdicts
        .iter()
        .all(|v| ["within", "outside", "not_comparable"].contains(v)));
    for n in &numbers {
        if n["verdict"].is_null() {
            assert!(n["published"].as_str().unwrap().starts_with('—'), "{n}");
        }
    }
    assert!(summary["size"]["ratio"].as_f64().unwrap() > 0.0);
    // CSVs are real tables: a header and rows.
    let csv = std::fs::read_to_string(report.join("fig10a_summary.csv")).unwrap();
    assert!(csv.starts_with("region,cold_starts,median_totalCost_cold_start\n"));
    assert_eq!(csv.lines().count(), 6);
}
