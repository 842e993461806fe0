//! Bounds, locks and what a re-run keeps, end to end: sizes from input are refused before they
//! are allocated, with the limit and the flag to change named; a second writer is refused with
//! the holder's pid; a re-run keeps the files a user added to its output folder; a store
//! without cold starts falls back to the stated model with a warning.

use std::path::Path;
use std::process::Command;

use crate::common;
use common::{fails, ok};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A synthetic release of R2 with 10 functions and one day at `rel`.
fn tiny_release(rel: &Path) {
    let args = "--regions R2 --functions 10 --days 1";
    let mut a = vec!["synth", "--out", s(rel)];
    a.extend(args.split(' '));
    ok(&a);
}

#[test]
fn synthetic_sizes_are_bounded_before_anything_is_drawn() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sim");
    let e = fails(&["simulate", "--synth", "--scale", "1e9", "--out", s(&out)]);
    assert!(
        e.contains("--scale 1000000000 gives") && e.contains("at most 100000"),
        "{e}"
    );
    let e = fails(&[
        "simulate",
        "--synth",
        "--functions",
        "4294967295",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("a region has 1 to 100000 functions"), "{e}");
    let e = fails(&["simulate", "--synth", "--functions", "0", "--out", s(&out)]);
    assert!(e.contains("--functions 0"), "{e}");
    let e = fails(&[
        "synth",
        "--functions",
        "0",
        "--out",
        s(&d.path().join("rel")),
    ]);
    assert!(e.contains("--functions 0"), "{e}");
    let e = fails(&[
        "simulate",
        "--synth",
        "--sweep",
        "fixed-keepalive:ttl=10s..2h",
        "--sweep-points",
        "100000",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("--sweep-points") && e.contains("2..=100"), "{e}");
    let e = fails(&[
        "simulate",
        "--synth",
        "--policy",
        "hybrid-histogram:range=100000d",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("above its limit of 24h"), "{e}");
    assert!(!out.exists());
}

#[test]
fn a_replay_that_does_not_fit_in_memory_is_refused_with_what_to_shrink() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sim");
    let o = Command::new(env!("CARGO_BIN_EXE_coldstart"))
        .args(["simulate", "--synth", "--functions", "20", "--days", "1"])
        .args(["--out", s(&out)])
        .env("COLDSTART_MEMORY_BYTES", "1000")
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("does not fit in memory")
            && e.contains("busiest day (0)")
            && e.contains("--days")
            && e.contains("--scale"),
        "{e}"
    );
    assert!(!out.exists());
}

#[test]
fn a_rerun_keeps_what_the_user_added_and_a_second_writer_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sim");
    let args = [
        "simulate",
        "--synth",
        "--functions",
        "10",
        "--days",
        "1",
        "--policy",
        "fixed-keepalive",
        "--out",
        s(&out),
    ];
    ok(&args);
    std::fs::write(out.join("my-notes.md"), "keep me").unwrap();
    ok(&args);
    assert_eq!(
        std::fs::read_to_string(out.join("my-notes.md")).unwrap(),
        "keep me"
    );
    assert!(out.join("index.html").is_file());
    // Another writer holds the folder: refused at once, naming it.
    let held = outdir::lock(&out, "test").unwrap();
    let e = fails(&args);
    assert!(
        e.contains("is in use") && e.contains(&format!("process {}", std::process::id())),
        "{e}"
    );
    drop(held);
    ok(&args);
}

#[test]
fn a_second_ingest_into_one_store_is_refused_and_the_first_is_untouched() {
    let d = tempfile::tempdir().unwrap();
    let (rel, store) = (d.path().join("rel"), d.path().join("store"));
    tiny_release(&rel);
    ok(&["ingest", s(&rel), "--store", s(&store)]);
    let before = std::fs::read(store.join("_manifest.json")).unwrap();
    // The first ingest, still at work, holds the store's lock.
    let held = outdir::lock(&store, "coldstart ingest").unwrap();
    let e = fails(&["ingest", s(&rel), "--store", s(&store)]);
    assert!(
        e.contains("is in use") && e.contains(&format!("process {}", std::process::id())),
        "{e}"
    );
    // Nothing of the holder's was touched: no staging folder removed, the store as it was.
    assert_eq!(std::fs::read(store.join("_manifest.json")).unwrap(), before);
    drop(held);
    ok(&["ingest", s(&rel), "--store", s(&store)]);
}

#[test]
fn a_store_without_cold_starts_falls_back_to_the_stated_model_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let (rel, store, out) = (
        d.path().join("rel"),
        d.path().join("store"),
        d.path().join("sim"),
    );
    tiny_release(&rel);
    std::fs::remove_dir_all(rel.join("cold_start")).unwrap();
    ok(&["ingest", s(&rel), "--store", s(&store)]);
    let o = common::coldstart(&["simulate", "--store", s(&store), "--out", s(&out)]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: the store has no cold starts of R2")
            && stderr.contains("LogNormal"),
        "{stderr}"
    );
    // No faithfulness line comparing with zero cold starts (it printed "+135700 %").
    assert!(
        !stdout.lines().any(|l| l.starts_with("faithfulness")),
        "{stdout}"
    );
    assert!(!stdout.contains("NaN"), "{stdout}");
}

#[test]
fn rows_out_of_range_are_counted_on_the_console_too() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("trace.txt");
    let mut text = "app,func,end_timestamp,duration\n".to_string();
    for i in 1..=100 {
        text += &format!("a,f,{}.0,1.0\n", i * 10);
    }
    text += "a,g,1e300,1.0\n";
    std::fs::write(&p, text).unwrap();
    let out = ok(&[
        "simulate",
        "--azure2021",
        s(&p),
        "--policy",
        "fixed-keepalive",
        "--out",
        s(&d.path().join("sim")),
    ]);
    assert!(out.contains("100 invocations"), "{out}");
    assert!(
        out.contains("note: 1 rows rejected") && out.contains("line 102: end_timestamp"),
        "{out}"
    );
}
