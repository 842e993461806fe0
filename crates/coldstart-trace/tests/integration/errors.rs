//! The reader's and the store's errors are variants a caller can match on, each holding what
//! it names (the file, the line and column of a rejected row, the store, the version found).

use crate::common;

use std::fs;

use coldstart_trace::layout::{FORMAT_VERSION, MANIFEST};
use coldstart_trace::source::Skip;
use coldstart_trace::{ingest, Error, IngestOptions, StoreLayout};
use common::*;

fn strict() -> IngestOptions {
    IngestOptions {
        strict: true,
        ..opts()
    }
}

#[test]
fn ingest_errors_say_what_went_wrong_by_variant() {
    let good = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
    let bad_row = COLD_ROW_2.replace(",0.5,", ",abc,");
    let rel = release(&[
        ("rel/cold_start/R1/day_30.csv", good.as_bytes()),
        (
            "bad/cold_start/R1/day_30.csv",
            format!("{COLD_HEADER}\n{COLD_ROW_1}\n{bad_row}\n").as_bytes(),
        ),
        (
            "header/cold_start/R1/day_30.csv",
            format!("{}\n", COLD_HEADER.replace(",schedulingCost", "")).as_bytes(),
        ),
        ("noregion/cold_start/day_30.csv", good.as_bytes()),
        ("empty/notes/readme.txt", b"hello"),
    ]);
    let at = |dir: &str| vec![rel.path().join(dir)];
    let store = rel.path().join("store");

    match ingest(&at("missing"), &store, &opts()) {
        Err(Error::NotFound { path }) => assert!(path.ends_with("missing")),
        other => panic!("{other:?}"),
    }
    match ingest(&at("empty"), &store, &opts()) {
        Err(Error::NoTables { message }) => assert!(message.contains("readme.txt"), "{message}"),
        other => panic!("{other:?}"),
    }
    match ingest(&at("bad"), &store, &strict()) {
        Err(e @ Error::Rejected { .. }) => {
            let Error::Rejected { file, issue } = &e else {
                unreachable!()
            };
            assert!(file.ends_with("day_30.csv"), "{file}");
            assert_eq!(
                (issue.line, issue.column.as_str(), issue.value.as_str()),
                (3, "totalCost_cold_start", "abc")
            );
            assert!(e
                .to_string()
                .contains("day_30.csv: line 3: column 'totalCost_cold_start'"));
        }
        other => panic!("{other:?}"),
    }
    match ingest(&at("header"), &store, &strict()) {
        Err(Error::FileRejected { file, reason }) => {
            assert!(file.ends_with("day_30.csv"), "{file}");
            assert!(reason.contains("missing column schedulingCost"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    match ingest(&at("header"), &store, &opts()) {
        Err(Error::NothingAccepted {
            store: s,
            rows_read,
            message,
        }) => {
            assert_eq!((s, rows_read), (store.clone(), 0));
            assert!(message.contains("was not written"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match ingest(&at("noregion"), &store, &strict()) {
        Err(Error::Unsupported { file, kind, reason }) => {
            assert!(file.ends_with("day_30.csv"), "{file}");
            assert_eq!(kind, Skip::Problem);
            assert!(reason.contains("no region folder"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A second writer is refused while the first holds the store.
    let held = outdir::lock(&store, "test").unwrap();
    match ingest(&at("rel"), &store, &opts()) {
        Err(Error::Locked(e)) => {
            assert_eq!(e.dest, store);
            assert_eq!(e.holder, format!("process {}", std::process::id()));
        }
        other => panic!("{other:?}"),
    }
    drop(held);
    ingest(&at("rel"), &store, &opts()).unwrap();
    assert!(StoreLayout::open(&store).is_ok());
}

#[test]
fn opening_a_store_says_whether_it_is_missing_incomplete_or_of_another_version() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("store");
    match StoreLayout::open(&root) {
        Err(Error::NoStore { path }) => assert_eq!(path, root),
        other => panic!("{:?}", other.map(|_| ())),
    }
    fs::create_dir(&root).unwrap();
    match StoreLayout::open(&root) {
        Err(e @ Error::Incomplete { .. }) => {
            assert!(
                e.to_string().contains("not a complete coldstart store"),
                "{e}"
            );
            assert!(std::error::Error::source(&e).is_some());
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    fs::write(root.join(MANIFEST), r#"{"format_version": 1, "files": []}"#).unwrap();
    match StoreLayout::open(&root) {
        Err(Error::FormatVersion { path, found }) => {
            assert_eq!((path, found), (root.clone(), 1));
            assert_ne!(FORMAT_VERSION, 1);
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    fs::write(root.join(MANIFEST), "{").unwrap();
    match StoreLayout::open(&root) {
        Err(e @ Error::Other(_)) => {
            assert!(
                format!("{e:#}").contains("manifest is not valid JSON"),
                "{e:#}"
            )
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}
