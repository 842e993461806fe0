//! Ingest of malformed releases: every problem is reported with file, line, column and
//! value, nothing disappears without being counted, and strict mode stops at the first one.

use crate::common;

use std::fs;
use std::io::Write;
use std::path::Path;

use arrow::array::{Array, Float64Array, Int64Array, StringArray};
use coldstart_trace::{ingest, IngestOptions};
use common::*;

#[test]
fn good_rows_are_stored_with_derived_columns() {
    let csv = format!("{COLD_HEADER}\n{COLD_ROW_1}\n{COLD_ROW_2}\n");
    let (_d, store, m) = run(&[("rel/cold_start/R1/day_30.csv", csv.as_bytes())]);
    assert_eq!((m.rows_read, m.rows_accepted, m.rows_rejected), (2, 2, 0));
    let b = &read_table(&store, "cold_starts")[0];
    assert_eq!(col::<StringArray>(b, "region").value(0), "R1");
    assert_eq!(
        col::<StringArray>(b, "funcID").value(0),
        "400---418---pool22-300-128"
    );
    assert_eq!(col::<StringArray>(b, "poolName").value(1), "pool24-600-512");
    assert_eq!(col::<Int64Array>(b, "cpu_limit").value(0), 300);
    assert_eq!(col::<Int64Array>(b, "memory_limit").value(1), 512);
    assert_eq!(col::<Int64Array>(b, "cpu_request").value(0), 100);
    assert_eq!(col::<Int64Array>(b, "cpu_request").value(1), 300);
    assert_eq!(
        col::<Float64Array>(b, "totalCost_cold_start").value(0),
        2.239314
    );
}

#[test]
fn missing_column_rejects_the_file_and_counts_its_rows() {
    let header = COLD_HEADER.replace(",schedulingCost", "");
    let row = COLD_ROW_1.replace(",1.713152185", "");
    let csv = format!("{header}\n{row}\n{row}\n{row}\n");
    let good = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    let (_d, store, m) = run(&[
        ("rel/cold_start/R1/day_30.csv", csv.as_bytes()),
        ("rel/cold_start/R2/day_30.csv", good.as_bytes()),
    ]);
    let r = report(&m, "R1/day_30.csv");
    let err = r.error.as_deref().unwrap();
    assert!(
        err.contains("day_30.csv") && err.contains("missing column schedulingCost"),
        "{err}"
    );
    assert_eq!((r.counts.rows_read, r.counts.rows_rejected), (3, 3));
    assert!(r.output.is_none());
    let rej = rejects(&store);
    assert!(rej[0][4].contains("whole file rejected"));
}

#[test]
fn extra_unknown_column_warns_and_keeps_going() {
    let csv = format!(",{COLD_HEADER},note\n0,{COLD_ROW_1},hello\n");
    let (_d, _s, m) = run(&[("rel/cold_start/R2/day_30.csv", csv.as_bytes())]);
    let r = report(&m, "day_30.csv");
    assert_eq!(r.counts.rows_accepted, 1);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("unknown column 'note'")));
    assert!(r.warnings.iter().any(|w| w.contains("unknown column ''")));
}

#[test]
fn columns_in_another_order_are_read_by_name() {
    let mut names: Vec<&str> = COLD_HEADER.split(',').collect();
    let mut values: Vec<&str> = COLD_ROW_1.split(',').collect();
    names.reverse();
    values.reverse();
    let csv = format!("{}\n{}\n", names.join(","), values.join(","));
    let (_d, store, m) = run(&[("rel/cold_start/R1/d.csv", csv.as_bytes())]);
    assert_eq!(m.rows_accepted, 1);
    let b = &read_table(&store, "cold_starts")[0];
    assert_eq!(col::<Float64Array>(b, "time").value(0), 2592001.5);
    assert_eq!(col::<Int64Array>(b, "funcName").value(0), 400);
    assert_eq!(col::<StringArray>(b, "requestID").value(0), "82f1aa19");
}

#[test]
fn bad_values_are_rejected_with_line_column_and_value() {
    let bad_number = COLD_ROW_2.replace("2592002.25", "2592002.x");
    let negative = COLD_ROW_2.replace(",0.3,", ",-0.3,");
    let empty = COLD_ROW_2.replace("82f1aa20", "");
    let no_pool = COLD_ROW_2.replace("pool24-600-512-0000577863", "pod-abc");
    let csv = format!(
        "{COLD_HEADER}\n{COLD_ROW_1}\n{bad_number}\n{negative}\n{empty}\n{no_pool}\n{COLD_ROW_2}\n"
    );
    let (_d, store, m) = run(&[("rel/cold_start/R1/day_30.csv", csv.as_bytes())]);
    let r = report(&m, "day_30.csv");
    assert_eq!(
        (
            r.counts.rows_read,
            r.counts.rows_accepted,
            r.counts.rows_rejected
        ),
        (6, 2, 4)
    );
    let rej = rejects(&store);
    let got: Vec<(&str, &str, &str)> = rej
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("3", "time", "2592002.x"),
            ("4", "schedulingCost", "-0.3"),
            ("5", "requestID", ""),
            ("6", "podID", "pod-abc"),
        ]
    );
    assert!(rej[0][0].ends_with("cold_start/R1/day_30.csv"));
    assert!(rej[0][4].contains("not a finite number"));
    assert!(rej[1][4].contains("negative"));
    assert!(rej[2][4].contains("never empty"));
    assert!(rej[3][4].contains("pool"));
}

#[test]
fn empty_frontend_columns_are_nulls_not_rejects() {
    let with_fe = "2592000.5,2592000.49,ab,1,400,pool22-300-128-0000000001,418,0.02,0.0001,0.0199,\
0.03,0.0004,0.002,0.00002,0.00001,0.29,32.3,1018";
    let without =
        "2592001.5,,ac,1,400,pool22-300-128-0000000001,418,0.02,0.0001,0.0199,,,,,,0.29,32.3,";
    let no_worker =
        "2592001.5,,ad,1,400,pool22-300-128-0000000001,418,,0.0001,0.0199,,,,,,0.29,32.3,";
    let csv = format!("{REQ_HEADER}\n{with_fe}\n{without}\n{no_worker}\n");
    let (_d, store, m) = run(&[("rel/per_request/R1/R1_00000.csv", csv.as_bytes())]);
    assert_eq!((m.rows_accepted, m.rows_rejected), (2, 1));
    let b = &read_table(&store, "requests")[0];
    let fe = col::<Float64Array>(b, "totalCost_frontend");
    assert!(!fe.is_null(0) && fe.is_null(1));
    assert_eq!(col::<Int64Array>(b, "day").value(0), 30);
    assert_eq!(rejects(&store)[0][2], "totalCost_worker");
}

#[test]
fn empty_file_header_only_truncated_crlf_and_bom() {
    let truncated = format!("{COLD_HEADER}\n{COLD_ROW_1}\n30,2592003.0,1,400,418,82f1");
    let crlf = format!("{COLD_HEADER}\r\n{COLD_ROW_1}\r\n{COLD_ROW_2}\r\n");
    let bom = format!("\u{feff}{COLD_HEADER}\n{COLD_ROW_1}\n");
    let header_only = format!("{COLD_HEADER}\n");
    let (_d, store, m) = run(&[
        ("rel/cold_start/R1/a_empty.csv", b""),
        ("rel/cold_start/R1/b_header.csv", header_only.as_bytes()),
        ("rel/cold_start/R1/c_truncated.csv", truncated.as_bytes()),
        ("rel/cold_start/R1/d_crlf.csv", crlf.as_bytes()),
        ("rel/cold_start/R1/e_bom.csv", bom.as_bytes()),
    ]);
    let empty = report(&m, "a_empty");
    assert!(empty.error.as_deref().unwrap().contains("empty file"));
    let header = report(&m, "b_header");
    assert!(header.error.is_none() && header.counts.rows_read == 0);
    assert!(header.warnings.iter().any(|w| w.contains("header only")));
    let t = report(&m, "c_truncated");
    assert_eq!((t.counts.rows_accepted, t.counts.rows_rejected), (1, 1));
    assert!(rejects(&store)
        .iter()
        .any(|r| r[0].ends_with("c_truncated.csv") && r[1] == "3" && r[4].contains("truncated")));
    assert_eq!(report(&m, "d_crlf").counts.rows_accepted, 2);
    assert_eq!(report(&m, "e_bom").counts.rows_accepted, 1);
    let b = read_table(&store, "cold_starts");
    let pods: Vec<String> = b
        .iter()
        .flat_map(|b| {
            let a = col::<StringArray>(b, "podID");
            (0..a.len())
                .map(|i| a.value(i).to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(pods.iter().all(|p| !p.ends_with('\r')), "{pods:?}");
    assert_eq!(m.rows_accepted, 4);
}

#[test]
fn corrupt_zip_member_is_reported_and_good_members_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let zpath = dir.path().join("cold_start").join("R3.zip");
    fs::create_dir_all(zpath.parent().unwrap()).unwrap();
    let good = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    let bad_body: String = format!("{COLD_HEADER}\n{}", format!("{COLD_ROW_2}\n").repeat(200));
    {
        let mut z = zip::ZipWriter::new(fs::File::create(&zpath).unwrap());
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("R3/day_30.csv", o).unwrap();
        z.write_all(good.as_bytes()).unwrap();
        z.start_file("R3/part_01.csv", o).unwrap();
        z.write_all(bad_body.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    // Flip bytes inside the second member's data: its CRC check must fail.
    let mut bytes = fs::read(&zpath).unwrap();
    let at = bytes.windows(9).rposition(|w| w == b"82f1aa20,").unwrap();
    bytes[at] = b'X';
    fs::write(&zpath, bytes).unwrap();
    let store = dir.path().join("store");
    let m = ingest(std::slice::from_ref(&zpath), &store, &opts()).unwrap();
    let ok = report(&m, "R3/day_30.csv");
    assert_eq!((ok.region.as_str(), ok.counts.rows_accepted), ("R3", 1));
    assert!(ok.file.contains("R3.zip!R3/day_30.csv"));
    let bad = report(&m, "R3/part_01.csv");
    let err = bad.error.as_deref().unwrap();
    assert!(err.contains("R3.zip!R3/part_01.csv"), "{err}");
    assert!(err.to_lowercase().contains("checksum"), "{err}");
    assert_eq!(bad.counts.rows_accepted, 0);
    assert!(bad.counts.rows_rejected >= 199, "{:?}", bad.counts);
    assert_eq!(m.tables[0].rows, 1);
}

#[test]
fn folder_without_tables_is_an_error() {
    let rel = release(&[
        ("rel/notes/readme.txt", b"hello"),
        ("rel/data/x.csv", b"a,b\n1,2\n"),
    ]);
    let err = ingest(
        &[rel.path().join("rel")],
        &rel.path().join("store"),
        &opts(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no tables of the release found"), "{err}");
    assert!(err.contains("x.csv"), "{err}");
    assert!(!rel.path().join("store").exists());
}

#[test]
fn strict_mode_stops_at_the_first_problem_and_keeps_the_old_store() {
    let good = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    let rel = release(&[("rel/cold_start/R1/day_30.csv", good.as_bytes())]);
    let store = rel.path().join("store");
    let strict = IngestOptions {
        strict: true,
        ..opts()
    };
    ingest(&[rel.path().join("rel")], &store, &strict).unwrap();
    let before = fs::read(store.join("_manifest.json")).unwrap();
    let bad = COLD_ROW_2.replace(",0.5,", ",abc,");
    fs::write(
        rel.path().join("rel/cold_start/R1/day_30.csv"),
        format!("{COLD_HEADER}\n{COLD_ROW_1}\n{bad}\n"),
    )
    .unwrap();
    let err = format!(
        "{:#}",
        ingest(&[rel.path().join("rel")], &store, &strict).unwrap_err()
    );
    assert!(
        err.contains("day_30.csv: line 3: column 'totalCost_cold_start': value 'abc'"),
        "{err}"
    );
    // The path once, not twice.
    assert_eq!(err.matches("day_30.csv").count(), 1, "{err}");
    assert_eq!(fs::read(store.join("_manifest.json")).unwrap(), before);
    let leftovers: Vec<_> = fs::read_dir(rel.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".coldstart"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn reingest_is_idempotent() {
    let csv = format!("{COLD_HEADER}\n{COLD_ROW_1}\n{COLD_ROW_2}\n");
    let rel = release(&[("rel/cold_start/R1/day_30.csv", csv.as_bytes())]);
    let store = rel.path().join("store");
    ingest(&[rel.path().join("rel")], &store, &opts()).unwrap();
    let first = read_table(&store, "cold_starts");
    let files1: Vec<_> = walk(&store);
    ingest(&[rel.path().join("rel")], &store, &opts()).unwrap();
    assert_eq!(read_table(&store, "cold_starts"), first);
    assert_eq!(walk(&store), files1);
}

fn walk(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with("_manifest.json") {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn wide_minute_tables_become_long_rows() {
    let csv = "day,time,400---418---pool22-300-128,401---418---pool24-600-512,Unnamed: 0\n\
0,0.0,3,,x\n\
0,60.0,,2.5,y\n\
0,120.0,abc,-1,z\n";
    let (_d, store, m) = run(&[(
        "rel/quantiles/R2/totalCost_quantile_050/day_00.csv",
        csv.as_bytes(),
    )]);
    let r = report(&m, "day_00.csv");
    assert_eq!((r.counts.rows_read, r.counts.rows_accepted), (3, 3));
    assert_eq!((r.counts.cells_accepted, r.counts.cells_rejected), (2, 2));
    assert!(r.warnings.iter().any(|w| w.contains("Unnamed: 0")));
    let b = &read_table(&store, "minute_metrics")[0];
    assert_eq!(b.num_rows(), 2);
    assert_eq!(col::<StringArray>(b, "metric").value(0), "totalCost");
    assert_eq!(col::<StringArray>(b, "stat").value(0), "quantile_050");
    assert_eq!(
        col::<StringArray>(b, "funcID").value(1),
        "401---418---pool24-600-512"
    );
    assert_eq!(col::<Int64Array>(b, "minute").value(1), 1);
    assert_eq!(col::<Float64Array>(b, "value").value(1), 2.5);
    let rej = rejects(&store);
    assert_eq!(rej.len(), 2);
    assert_eq!((rej[0][1].as_str(), rej[0][3].as_str()), ("4", "abc"));
    assert_eq!(rej[1][2], "401---418---pool24-600-512");
}

#[test]
fn functions_table_parses_func_id_and_triggers() {
    let csv = "funcID,cpu_request,runtime,triggerType-invocationType\n\
400---418---pool22-300-128,100,Python3,\"TIMER-A,APIG-S\"\n\
bad-id,100,Python3,APIG-S\n";
    let (_d, store, m) = run(&[(
        "rel/runtime_triggerType/df_funcID_runtime_triggerType.csv",
        csv.as_bytes(),
    )]);
    assert_eq!((m.rows_accepted, m.rows_rejected), (1, 1));
    let b = &read_table(&store, "functions")[0];
    assert_eq!(col::<StringArray>(b, "region").value(0), "R2");
    assert_eq!(col::<Int64Array>(b, "funcName").value(0), 400);
    assert_eq!(col::<StringArray>(b, "trigger_type").value(0), "TIMER");
    assert_eq!(col::<StringArray>(b, "invocation_type").value(0), "A");
    assert_eq!(col::<Int64Array>(b, "trigger_count").value(0), 2);
    assert_eq!(rejects(&store)[0][2], "funcID");
}
