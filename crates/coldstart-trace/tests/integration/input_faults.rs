//! Input faults found by a second hostile round: files that look alike but differ, headers
//! with a column twice, a function listed twice, old Mac line ends, UTF-16, and archives with
//! very many members. Each is counted or refused with the file, line and column named.

use crate::common;

use std::fs;
use std::io::Write;
use std::path::Path;

use coldstart_trace::source::Skip;
use coldstart_trace::{ingest, IngestOptions};
use common::*;

#[test]
fn same_name_and_size_but_other_rows_is_a_conflict_not_a_duplicate() {
    let a = format!("{COLD_HEADER}\n{COLD_ROW_1}\n{COLD_ROW_2}\n");
    // One digit changed: the same size, other rows.
    let b = a.replace("2.239314", "2.239315");
    assert_eq!(a.len(), b.len());
    let rel = release(&[("rel/cold_start/R2/day_30.csv", a.as_bytes())]);
    let mut z =
        zip::ZipWriter::new(fs::File::create(rel.path().join("rel/cold_start/R2.zip")).unwrap());
    z.start_file("day_30.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(b.as_bytes()).unwrap();
    z.finish().unwrap();
    let m = ingest(
        &[rel.path().join("rel")],
        &rel.path().join("store"),
        &opts(),
    )
    .unwrap();
    let problems: Vec<_> = m
        .skipped
        .iter()
        .filter(|s| s.kind == Skip::Problem)
        .collect();
    assert_eq!(problems.len(), 1, "{:?}", m.skipped);
    assert!(
        problems[0]
            .reason
            .contains("of the same size, but other bytes"),
        "{problems:?}"
    );
    let strict = IngestOptions {
        strict: true,
        ..opts()
    };
    let e = ingest(&[rel.path().join("rel")], &rel.path().join("s2"), &strict).unwrap_err();
    assert!(format!("{e:#}").contains("R2.zip!day_30.csv"), "{e:#}");
    // Byte-identical copies are still read once.
    fs::write(rel.path().join("rel/cold_start/R2/day_30.csv"), &b).unwrap();
    let m = ingest(&[rel.path().join("rel")], &rel.path().join("s3"), &opts()).unwrap();
    assert_eq!(m.rows_accepted, 2);
    assert!(m
        .skipped
        .iter()
        .any(|s| s.kind == Skip::Duplicate && s.reason.contains("byte for byte")));
}

#[test]
fn a_column_twice_in_a_header_is_an_error_naming_both() {
    let header = format!("{COLD_HEADER},podID");
    let csv = format!("{header}\n{COLD_ROW_1},pool22-300-128-0000618413\n");
    let (_d, _s, m) = run(&[
        ("rel/cold_start/R2/day_30.csv", csv.as_bytes()),
        (
            "rel/cold_start/R1/day_30.csv",
            format!("{COLD_HEADER}\n{COLD_ROW_1}\n").as_bytes(),
        ),
    ]);
    let r = report(&m, "R2/day_30.csv");
    let err = r.error.as_deref().unwrap();
    assert!(
        err.contains("column 'podID' appears twice") && err.contains("columns 12 and 13"),
        "{err}"
    );
    assert_eq!(r.counts.rows_rejected, 1);
    // A per-minute table with one funcID column twice.
    let f = "400---418---pool22-300-128";
    let wide = format!("day,time,{f},{f}\n0,0,1,2\n");
    let (_d, _s, m) = run(&[
        ("rel/quantiles/R2/requests/day_00.csv", wide.as_bytes()),
        (
            "rel/cold_start/R1/day_30.csv",
            format!("{COLD_HEADER}\n{COLD_ROW_1}\n").as_bytes(),
        ),
    ]);
    let err = report(&m, "requests").error.as_deref().unwrap();
    assert!(
        err.contains(&format!("column '{f}' appears twice")),
        "{err}"
    );
}

#[test]
fn a_function_listed_twice_in_the_runtime_table_is_kept_once_and_counted() {
    let header = "funcID,cpu_request,runtime,triggerType-invocationType";
    let f1 = "400---418---pool22-300-128";
    let f2 = "401---418---pool24-600-512";
    let csv = format!(
        "{header}\n{f1},300,Python3,APIG-S\n{f2},600,Java,TIMER-A\n{f1},300,Python3,APIG-S\n"
    );
    let (_d, store, m) = run(&[(
        "rel/runtime_triggerType/df_funcID_runtime_triggerType.csv",
        csv.as_bytes(),
    )]);
    assert_eq!((m.rows_read, m.rows_accepted, m.rows_rejected), (3, 2, 1));
    let rej = rejects(&store);
    assert_eq!((rej[0][1].as_str(), rej[0][2].as_str()), ("4", "funcID"));
    assert!(rej[0][4].contains("already listed on line 2"), "{rej:?}");
}

#[test]
fn carriage_return_line_ends_keep_the_last_row() {
    let csv = format!("{COLD_HEADER}\r{COLD_ROW_1}\r{COLD_ROW_2}\r");
    let (_d, _s, m) = run(&[("rel/cold_start/R2/day_30.csv", csv.as_bytes())]);
    assert_eq!((m.rows_read, m.rows_accepted, m.rows_rejected), (2, 2, 0));
}

#[test]
fn utf16_input_says_so_and_how_to_convert() {
    let text = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let good = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    let (_d, _s, m) = run(&[
        ("rel/cold_start/R2/day_30.csv", &bytes),
        ("rel/cold_start/R1/day_30.csv", good.as_bytes()),
    ]);
    let err = report(&m, "R2/day_30.csv").error.as_deref().unwrap();
    assert!(
        err.contains("UTF-16 (little-endian)") && err.contains("convert it to UTF-8"),
        "{err}"
    );
    assert!(!err.contains("missing column"), "{err}");
}

#[test]
fn an_archive_of_many_members_is_read_in_linear_time() {
    // Each member used to re-read the whole directory: 2,000 members took 20 s, 100,000 did
    // not finish. With the directory read once, 10,000 take about as long as the files would.
    let rel = release(&[]);
    let dir = rel.path().join("rel/cold_start");
    fs::create_dir_all(&dir).unwrap();
    let mut z = zip::ZipWriter::new(fs::File::create(dir.join("R2.zip")).unwrap());
    let o =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    // Distinct member names, each read (day numbers beyond the trace make each a reject).
    let row = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    for i in 0..10_000 {
        z.start_file(format!("R2/day_{i:05}.csv"), o).unwrap();
        z.write_all(row.as_bytes()).unwrap();
    }
    z.finish().unwrap();
    let t = std::time::Instant::now();
    let m = ingest(
        &[rel.path().join("rel")],
        &rel.path().join("store"),
        &opts(),
    );
    eprintln!("10,000 members: {:.1} s", t.elapsed().as_secs_f64());
    let m = m.unwrap();
    assert_eq!(m.files.len() + m.skipped.len(), 10_000);
    assert_eq!(m.rows_read, m.rows_accepted + m.rows_rejected);
}

#[test]
fn lzma_members_written_by_pythons_zipfile_are_read_and_counted() {
    // tests/fixtures/make_lzma_zip.py wrote it (Python's zipfile, ZIP_LZMA).
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lzma_python.zip");
    let rel = release(&[]);
    let dir = rel.path().join("rel/cold_start");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(&fixture, dir.join("R2.zip")).unwrap();
    let m = ingest(
        &[rel.path().join("rel")],
        &rel.path().join("store"),
        &opts(),
    )
    .unwrap();
    assert_eq!((m.rows_read, m.rows_accepted, m.rows_rejected), (2, 2, 0));
    // A flipped byte in the compressed data is an error naming the member, and its file is
    // counted as failed, not silently short.
    let mut bytes = fs::read(&fixture).unwrap();
    let at = bytes.windows(10).position(|w| w == b"day_30.csv").unwrap() + 10 + 4 + 5 + 20;
    bytes[at] ^= 0x55;
    fs::write(dir.join("R2.zip"), &bytes).unwrap();
    fs::create_dir_all(rel.path().join("rel/cold_start/R1")).unwrap();
    fs::write(
        rel.path().join("rel/cold_start/R1/day_30.csv"),
        format!("{COLD_HEADER}\n{COLD_ROW_1}\n"),
    )
    .unwrap();
    let m = ingest(&[rel.path().join("rel")], &rel.path().join("s2"), &opts()).unwrap();
    let r = report(&m, "R2.zip!day_30.csv");
    let err = r.error.as_deref().unwrap_or("");
    assert!(
        err.contains("R2.zip!day_30.csv") || err.contains("LZMA"),
        "{r:?}"
    );
}

#[test]
fn a_file_rejected_whole_says_why_and_long_day_numbers_are_checked() {
    // Rows of day 30 in the file of day 28: nothing accepted, and the message says why.
    let rows = format!("{COLD_HEADER}\n{COLD_ROW_1}\n{COLD_ROW_2}\n");
    let rel = release(&[("rel/cold_start/R2/day_28.csv", rows.as_bytes())]);
    let e = ingest(
        &[rel.path().join("rel")],
        &rel.path().join("store"),
        &opts(),
    )
    .unwrap_err();
    let e = format!("{e:#}");
    assert!(
        e.contains("2 rows rejected, 0 accepted (first: line 2: column 'day'")
            && e.contains("day 30 in the file of day 28"),
        "{e}"
    );
    // `day_00028.csv` is day 28 as well, not a name without a day.
    let rel = release(&[
        ("rel/cold_start/R2/day_00028.csv", rows.as_bytes()),
        ("rel/cold_start/R2/day_30.csv", rows.as_bytes()),
    ]);
    let m = ingest(
        &[rel.path().join("rel")],
        &rel.path().join("store"),
        &opts(),
    )
    .unwrap();
    assert_eq!((m.rows_accepted, m.rows_rejected), (2, 2));
}

#[test]
fn rejects_name_the_right_line_whatever_the_line_ends() {
    let bad = COLD_ROW_2.replace("2592002.25", "abc");
    for (name, end) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        let csv = [COLD_HEADER, COLD_ROW_1, COLD_ROW_1, &bad, COLD_ROW_2]
            .iter()
            .map(|l| format!("{l}{end}"))
            .collect::<String>();
        let (_d, store, m) = run(&[("rel/cold_start/R2/day_30.csv", csv.as_bytes())]);
        assert_eq!((m.rows_accepted, m.rows_rejected), (3, 1), "{name}");
        let rej = rejects(&store);
        assert_eq!(
            (rej[0][1].as_str(), rej[0][2].as_str()),
            ("4", "time"),
            "{name}"
        );
    }
}
