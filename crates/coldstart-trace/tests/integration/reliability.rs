//! Ingest never loses what a user owns, reads every real file once, counts every data line,
//! refuses implausible values, and stays within bounded memory and time on hostile input.

use crate::common;

use std::fs;
use std::io::Write;
use std::path::Path;

use coldstart_trace::source::Skip;
use coldstart_trace::{ingest, IngestOptions, Manifest};
use common::*;

fn good_csv() -> String {
    format!("{COLD_HEADER}\n{COLD_ROW_1}\n{COLD_ROW_2}\n")
}

fn assert_balanced(m: &Manifest) {
    assert_eq!(m.rows_read, m.rows_accepted + m.rows_rejected, "{m:#?}");
    for f in &m.files {
        let c = &f.counts;
        assert_eq!(c.rows_read, c.rows_accepted + c.rows_rejected, "{f:#?}");
    }
}

/// The release at `dir/rel` into `dir/store`, with the tests' options.
fn ingest_rel(dir: &Path) -> Manifest {
    ingest(&[dir.join("rel")], &dir.join("store"), &opts()).unwrap()
}

/// `--strict` refuses the release at `rel`, naming `needle`, and writes no store.
fn assert_strict_names(rel: &Path, needle: &str) {
    let strict = IngestOptions {
        strict: true,
        ..opts()
    };
    let store = rel.with_file_name("strict-store");
    let err = ingest(&[rel.to_path_buf()], &store, &strict).unwrap_err();
    assert!(format!("{err:#}").contains(needle), "{err:#}");
    assert!(!store.exists());
}

fn hidden_entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

fn skipped(m: &Manifest, kind: Skip) -> Vec<(&str, &str)> {
    m.skipped
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| (s.file.as_str(), s.reason.as_str()))
        .collect()
}

#[test]
fn a_failed_ingest_keeps_the_old_store_and_says_why() {
    let rel = release(&[("good/cold_start/R1/day_30.csv", good_csv().as_bytes())]);
    let store = rel.path().join("store");
    ingest(&[rel.path().join("good")], &store, &opts()).unwrap();
    let before = fs::read(store.join("_manifest.json")).unwrap();
    // Every input fails: a missing column.
    let header = COLD_HEADER.replace(",schedulingCost", "");
    let row = COLD_ROW_1.replace(",1.713152185", "");
    let bad = format!("{header}\n{row}\n");
    let p = rel.path().join("bad/cold_start/R1/day_30.csv");
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, bad).unwrap();
    let err = format!(
        "{:#}",
        ingest(&[rel.path().join("bad")], &store, &opts()).unwrap_err()
    );
    assert!(
        err.contains("no row of the 1 input file was accepted"),
        "{err}"
    );
    assert!(err.contains("missing column schedulingCost"), "{err}");
    assert!(err.contains("was not written"), "{err}");
    assert_eq!(fs::read(store.join("_manifest.json")).unwrap(), before);
    assert!(hidden_entries(rel.path()).is_empty());
}

#[test]
fn ingest_replaces_only_its_own_stores_and_cleans_interrupted_runs() {
    let rel = release(&[("rel/cold_start/R1/day_30.csv", good_csv().as_bytes())]);
    let v = rel.path().join("v");
    fs::create_dir(&v).unwrap();
    fs::write(v.join("precious.txt"), "x").unwrap();
    let err = format!(
        "{:#}",
        ingest(&[rel.path().join("rel")], &v, &opts()).unwrap_err()
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read_to_string(v.join("precious.txt")).unwrap(), "x");
    // A staging folder of an interrupted ingest is removed by the next one.
    let stale = rel.path().join(".store.tmpKILLED");
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join(".made-by"), "coldstart ingest\n").unwrap();
    fs::write(stale.join("half.parquet"), "x").unwrap();
    let store = rel.path().join("store");
    ingest(&[rel.path().join("rel")], &store, &opts()).unwrap();
    ingest(&[rel.path().join("rel")], &store, &opts()).unwrap();
    assert!(hidden_entries(rel.path()).is_empty());
    let forced = IngestOptions {
        force: true,
        ..opts()
    };
    ingest(&[rel.path().join("rel")], &v, &forced).unwrap();
    assert!(!v.join("precious.txt").exists() && v.join("_manifest.json").exists());
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_overlapping_inputs_read_each_file_once() {
    let rel = release(&[("rel/cold_start/R2/day_30.csv", good_csv().as_bytes())]);
    let r2 = rel.path().join("rel/cold_start/R2");
    std::os::unix::fs::symlink("..", r2.join("up")).unwrap();
    std::os::unix::fs::symlink("day_30.csv", r2.join("alias.csv")).unwrap();
    let inputs = [
        rel.path().join("rel"),
        rel.path().join("rel/cold_start"),
        r2.join("day_30.csv"),
    ];
    let m = ingest(&inputs, &rel.path().join("store"), &opts()).unwrap();
    assert_eq!((m.rows_read, m.rows_accepted), (2, 2));
    assert_eq!(m.files.len(), 1);
    let dups = skipped(&m, Skip::Duplicate);
    assert!(dups.iter().any(|(_, why)| why.contains("loop")), "{dups:?}");
    assert!(
        dups.iter().any(|(f, _)| f.ends_with("alias.csv")),
        "{dups:?}"
    );
    assert!(
        dups.iter().any(|(_, why)| why.contains("read once")),
        "{dups:?}"
    );
    assert_eq!(m.files_skipped_problems, 0);
}

#[test]
fn a_zip_beside_its_own_extraction_is_read_once() {
    let rel = release(&[("rel/cold_start/R2/day_30.csv", good_csv().as_bytes())]);
    let mut z =
        zip::ZipWriter::new(fs::File::create(rel.path().join("rel/cold_start/R2.zip")).unwrap());
    z.start_file("day_30.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(good_csv().as_bytes()).unwrap();
    z.finish().unwrap();
    let m = ingest_rel(rel.path());
    assert_eq!(m.rows_accepted, 2);
    let dups = skipped(&m, Skip::Duplicate);
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert!(dups[0].0.ends_with("R2.zip!day_30.csv"), "{dups:?}");
    // A different file for the same table is a conflict, not a duplicate.
    let other = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    fs::write(rel.path().join("rel/cold_start/R2/day_30.csv"), other).unwrap();
    let m = ingest_rel(rel.path());
    let problems = skipped(&m, Skip::Problem);
    assert!(problems[0].1.contains("only"), "{problems:?}");
    assert_strict_names(&rel.path().join("rel"), "R2.zip!day_30.csv");
}

#[test]
fn a_file_cut_inside_its_last_field_loses_that_row_counted() {
    // The last value lost digits and the final line end: it still parses, so only the
    // missing line end tells.
    let cut = format!(
        "{COLD_HEADER}\n{COLD_ROW_1}\n{}",
        &COLD_ROW_2[..COLD_ROW_2.len() - 4]
    );
    let (_d, store, m) = run(&[("rel/cold_start/R1/day_30.csv", cut.as_bytes())]);
    assert_eq!((m.rows_read, m.rows_accepted, m.rows_rejected), (2, 1, 1));
    let rej = rejects(&store);
    assert_eq!(rej[0][1], "3");
    assert!(rej[0][4].contains("no line end"), "{rej:?}");
    assert_balanced(&m);
}

#[test]
fn an_unterminated_quote_rejects_every_line_it_swallows() {
    let mut csv = format!("{COLD_HEADER}\n");
    for i in 0..1015 {
        if i == 10 {
            csv.push_str(&COLD_ROW_1.replace("82f1aa19", "\"82f1aa19"));
        } else {
            csv.push_str(COLD_ROW_1);
        }
        csv.push('\n');
    }
    let (_d, store, m) = run(&[("rel/cold_start/R1/day_30.csv", csv.as_bytes())]);
    assert_eq!(
        (m.rows_read, m.rows_accepted, m.rows_rejected),
        (1015, 10, 1005)
    );
    let rej = rejects(&store);
    assert_eq!(rej.len(), 1);
    assert_eq!(
        (rej[0][1].as_str(), rej[0][2].as_str()),
        ("12", "requestID")
    );
    assert!(rej[0][4].contains("1005 lines"), "{rej:?}");
    assert!(rej[0][3].len() < 400, "the value echoed is clipped");
}

fn zip_with(path: &Path, members: &[(&str, zip::CompressionMethod, &[u8])]) {
    let mut z = zip::ZipWriter::new(fs::File::create(path).unwrap());
    for (name, method, bytes) in members {
        let o = zip::write::SimpleFileOptions::default().compression_method(*method);
        z.start_file(*name, o).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn zip_members_in_bzip2_and_zstd_are_read_and_unreadable_ones_named() {
    let rel = release(&[]);
    let dir = rel.path().join("rel/cold_start");
    fs::create_dir_all(&dir).unwrap();
    let csv = good_csv();
    for (region, method) in [
        ("R1", zip::CompressionMethod::Bzip2),
        ("R2", zip::CompressionMethod::Zstd),
        ("R3", zip::CompressionMethod::Stored),
    ] {
        let member = format!("{region}/day_30.csv");
        zip_with(
            &dir.join(format!("{region}.zip")),
            &[(member.as_str(), method, csv.as_bytes())],
        );
    }
    // Mark the stored member as PPMd (method 98), which nothing here decompresses: in its local
    // header (offset 8) and its central directory entry (offset 10).
    let mut bytes = fs::read(dir.join("R3.zip")).unwrap();
    let name = b"R3/day_30.csv";
    let hits: Vec<usize> = (0..bytes.len() - name.len())
        .filter(|&i| &bytes[i..i + name.len()] == name)
        .collect();
    assert_eq!(hits.len(), 2);
    bytes[hits[0] - 30 + 8] = 98;
    bytes[hits[1] - 46 + 10] = 98;
    fs::write(dir.join("R3.zip"), &bytes).unwrap();
    let m = ingest_rel(rel.path());
    // (The zip crate writes no LZMA to test with; it reads it, as the unzip tools do.)
    assert_eq!(m.rows_accepted, 4, "bzip2 and zstd members are read");
    let problems = skipped(&m, Skip::Problem);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].0.ends_with("R3.zip!R3/day_30.csv"));
    assert!(problems[0].1.contains("cannot decompress"), "{problems:?}");
    assert_eq!(m.files_skipped_problems, 1);
    assert_strict_names(&rel.path().join("rel"), "R3/day_30.csv");
}

#[test]
fn zip_members_sharing_a_name_are_reported() {
    let rel = release(&[]);
    let dir = rel.path().join("rel/cold_start");
    fs::create_dir_all(&dir).unwrap();
    let csv = good_csv();
    let m = zip::CompressionMethod::Deflated;
    zip_with(
        &dir.join("R1.zip"),
        &[
            ("day_30.csv", m, csv.as_bytes()),
            ("day_3X.csv", m, csv.as_bytes()),
        ],
    );
    let mut bytes = fs::read(dir.join("R1.zip")).unwrap();
    for i in 0..bytes.len() - 10 {
        if &bytes[i..i + 10] == b"day_3X.csv" {
            bytes[i + 5] = b'0';
        }
    }
    fs::write(dir.join("R1.zip"), &bytes).unwrap();
    let m = ingest_rel(rel.path());
    let problems = skipped(&m, Skip::Problem);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].0.ends_with("R1.zip!day_30.csv"));
    assert!(problems[0].1.contains("2 members"), "{problems:?}");
}

#[test]
fn misplaced_and_unplaced_csvs_are_counted_and_fail_strict() {
    let cold = good_csv();
    let (d, _store, m) = run(&[
        ("rel/cold_start/R1/day_30.csv", cold.as_bytes()),
        // A cold-start table where a per-minute table belongs.
        ("rel/quantiles/R2/requests/day_30.csv", cold.as_bytes()),
        // No region folder: loose in cold_start/, and under an unknown folder.
        ("rel/cold_start/day_30.csv", cold.as_bytes()),
        ("rel/cold_start/EU-west/day_30.csv", cold.as_bytes()),
        ("rel/README.md", b"notes"),
    ]);
    let q = report(&m, "quantiles/R2/requests/day_30.csv");
    let err = q.error.as_deref().unwrap();
    assert!(
        err.contains("not a per-minute table") && err.contains("cold_start/"),
        "{err}"
    );
    assert_eq!((q.counts.rows_read, q.counts.rows_rejected), (2, 2));
    let problems = skipped(&m, Skip::Problem);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems
        .iter()
        .all(|(_, why)| why.contains("no region folder")));
    assert_eq!(skipped(&m, Skip::NotATable).len(), 1);
    assert_eq!((m.files_failed, m.files_skipped_problems), (1, 2));
    assert_balanced(&m);
    assert_strict_names(&d.path().join("rel"), "no region folder");
}

#[test]
fn implausible_values_are_rejected_at_ingest() {
    let huge_time = COLD_ROW_2.replace("2592002.25", "1.79e308");
    let huge_day = COLD_ROW_2.replace("30,2592002.25", "9223372036854775807,2592002.25");
    let day_vs_time = COLD_ROW_2.replace("30,2592002.25", "29,2592002.25");
    let huge_cost = COLD_ROW_2.replace(",0.5,", ",3e6,");
    let csv = format!(
        "{COLD_HEADER}\n{COLD_ROW_1}\n{huge_time}\n{huge_day}\n{day_vs_time}\n{huge_cost}\n"
    );
    // Day 30's rows in a file named for day 29.
    let other_day = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    let wide = "day,time,400---418---pool22-300-128\n40,3456000.0,1\n3,259260.0,1\n0,60.0,1\n";
    let (_d, store, m) = run(&[
        ("rel/cold_start/R1/day_30.csv", csv.as_bytes()),
        ("rel/cold_start/R2/day_29.csv", other_day.as_bytes()),
        ("rel/quantiles/R2/requests/day_00.csv", wide.as_bytes()),
    ]);
    assert_eq!((m.rows_accepted, m.rows_rejected), (2, 7));
    let rej = rejects(&store);
    let got: Vec<(&str, &str)> = rej.iter().map(|r| (r[2].as_str(), r[4].as_str())).collect();
    let has = |col: &str, needle: &str| got.iter().any(|(c, w)| *c == col && w.contains(needle));
    assert!(has("time", "beyond the trace"), "{got:?}");
    assert!(has("day", "outside the trace's days 0..30"), "{got:?}");
    assert!(has("day", "does not match time"), "{got:?}");
    assert!(has("totalCost_cold_start", "beyond the trace"), "{got:?}");
    assert!(has("day", "in the file of day 29"), "{got:?}");
    assert!(has("day", "not one of the trace's days"), "{got:?}");
    assert!(has("day", "in the file of day 0"), "{got:?}");
    assert_balanced(&m);
}

#[test]
fn a_huge_line_stops_its_file_with_short_messages() {
    // 40 MB of NUL bytes and no line end, zipped to a few KB.
    let rel = release(&[("rel/cold_start/R1/day_30.csv", good_csv().as_bytes())]);
    let dir = rel.path().join("rel/cold_start");
    let zeros = vec![0u8; 40 << 20];
    zip_with(
        &dir.join("R2.zip"),
        &[("day_30.csv", zip::CompressionMethod::Deflated, &zeros)],
    );
    let store = rel.path().join("store");
    let m = ingest(&[rel.path().join("rel")], &store, &opts()).unwrap();
    let r = report(&m, "R2.zip!day_30.csv");
    let err = r.error.as_deref().unwrap();
    assert!(err.contains("longer than 16 MiB"), "{err}");
    assert!(err.len() < 1000, "{} bytes", err.len());
    assert_eq!((r.counts.rows_read, r.counts.rows_rejected), (0, 0));
    assert!(fs::metadata(store.join("_manifest.json")).unwrap().len() < 20_000);
    assert!(fs::metadata(store.join("_rejects.csv")).unwrap().len() < 2_000);
    assert_eq!(m.files_failed, 1);
}

#[test]
fn a_huge_header_is_not_echoed_whole() {
    let header = format!("day,{}", "x".repeat(1 << 20));
    let csv = format!("{header}\n1,2\n");
    let rel = release(&[
        ("rel/cold_start/R1/day_30.csv", good_csv().as_bytes()),
        ("rel/cold_start/R2/day_30.csv", csv.as_bytes()),
    ]);
    let store = rel.path().join("store");
    let m = ingest(&[rel.path().join("rel")], &store, &opts()).unwrap();
    let r = report(&m, "R2/day_30.csv");
    assert!(r.error.as_deref().unwrap().len() < 1000);
    assert!(r.warnings.iter().all(|w| w.len() < 1000));
    assert!(fs::metadata(store.join("_manifest.json")).unwrap().len() < 20_000);
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_not_read() {
    let rel = release(&[("rel/cold_start/R1/day_30.csv", good_csv().as_bytes())]);
    let dir = rel.path().join("rel/cold_start/R2");
    fs::create_dir_all(&dir).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(dir.join("day_29.csv"))
        .status()
        .unwrap();
    assert!(st.success());
    std::os::unix::fs::symlink("/dev/zero", dir.join("day_28.csv")).unwrap();
    let m = ingest_rel(rel.path());
    assert_eq!(m.rows_accepted, 2);
    let problems = skipped(&m, Skip::Problem);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems
        .iter()
        .all(|(_, why)| why.contains("not a regular file")));
}

#[test]
fn absurd_thread_counts_are_refused() {
    let rel = release(&[("rel/cold_start/R1/day_30.csv", good_csv().as_bytes())]);
    let o = IngestOptions {
        threads: 100_000,
        ..opts()
    };
    let err = ingest(&[rel.path().join("rel")], &rel.path().join("store"), &o).unwrap_err();
    assert!(format!("{err:#}").contains("--threads 100000"), "{err:#}");
    assert!(!rel.path().join("store").exists());
}
