//! The CLI changes nothing it was not asked to: `sql` is read-only (no DDL, DML, COPY or
//! SET, no file paths as tables), `--output` and `--chart` never overwrite a file without
//! `--force`, and `ingest`/`synth` replace only folders they made.

use std::path::Path;
use std::process::{Command, Output};

use crate::common;
use common::{fails, ok};

const HEADER: &str = "day,time,clusterName,funcName,userID,requestID,totalCost_cold_start,\
podAllocationCost,deployCodeCost,deployDependencyCost,schedulingCost,podID";
const ROW: &str =
    "30,2592001.5,1,400,418,82f1aa19,2.239314,0.027161815,0.045,0.454,1.713152185,pool22-300-128-0000618412";

/// A store of three cold starts in `dir/store`, from `dir/rel`.
fn store(dir: &Path) -> String {
    let csv = dir.join("rel/cold_start/R1/day_30.csv");
    std::fs::create_dir_all(csv.parent().unwrap()).unwrap();
    std::fs::write(&csv, format!("{HEADER}\n{ROW}\n{ROW}\n{ROW}\n")).unwrap();
    let store = dir.join("store");
    ok(&[
        "ingest",
        dir.join("rel").to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    store.to_str().unwrap().to_owned()
}

/// The store's cold starts counted, as `sql --format csv` prints it.
fn cold_start_count(s: &str) -> String {
    let q = "SELECT count(*) AS n FROM cold_starts";
    ok(&["sql", "--store", s, "--format", "csv", q])
}

#[test]
fn sql_is_read_only() {
    let d = tempfile::tempdir().unwrap();
    let s = store(d.path());
    let victim = d.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    let v = victim.to_str().unwrap();
    let attempts = [
        format!("COPY (SELECT 1) TO '{v}' STORED AS CSV"),
        format!("CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '{v}'"),
        "INSERT INTO cold_starts SELECT * FROM cold_starts".to_string(),
        "CREATE TABLE t AS SELECT 1".to_string(),
        "DROP TABLE cold_starts".to_string(),
        "SET datafusion.execution.batch_size = 1".to_string(),
        format!("SELECT * FROM '{v}'"),
    ];
    for q in &attempts {
        let err = fails(&["sql", "--store", &s, q]);
        assert!(err.contains("error"), "{q}: {err}");
    }
    let err = fails(&["sql", "--store", &s, &attempts[0]]);
    assert!(err.contains("only asks questions"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    let n = cold_start_count(&s);
    assert_eq!(n, "n\n3\n", "the store is unchanged");
    // Questions still work: WITH and EXPLAIN.
    ok(&[
        "sql",
        "--store",
        &s,
        "WITH t AS (SELECT day FROM cold_starts) SELECT max(day) FROM t",
    ]);
    ok(&["sql", "--store", &s, "EXPLAIN SELECT * FROM cold_starts"]);
}

#[test]
fn output_files_are_replaced_only_with_force() {
    let d = tempfile::tempdir().unwrap();
    let s = store(d.path());
    let out = d.path().join("r.csv");
    std::fs::write(&out, "mine").unwrap();
    let o = out.to_str().unwrap();
    let q = "SELECT count(*) AS n FROM cold_starts";
    let err = fails(&["sql", "--store", &s, "--format", "csv", "--output", o, q]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    ok(&[
        "sql", "--store", &s, "--format", "csv", "--output", o, "--force", q,
    ]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "n\n3\n");
    // A failed query leaves no output and no temporary file.
    let fresh = d.path().join("fresh.csv");
    fails(&[
        "sql",
        "--store",
        &s,
        "--output",
        fresh.to_str().unwrap(),
        "SELECT nope FROM cold_starts",
    ]);
    assert!(!fresh.exists());
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // Charts too.
    let chart = d.path().join("c.svg");
    std::fs::write(&chart, "mine").unwrap();
    let c = chart.to_str().unwrap();
    let cdf = [
        "cdf",
        "--store",
        &s,
        "--table",
        "cold_starts",
        "--column",
        "totalCost_cold_start",
        "--chart",
        c,
    ];
    assert!(fails(&cdf).contains("--force"));
    assert_eq!(std::fs::read_to_string(&chart).unwrap(), "mine");
    let mut forced = cdf.to_vec();
    forced.push("--force");
    ok(&forced);
    assert!(std::fs::read_to_string(&chart).unwrap().starts_with("<svg"));
}

#[test]
fn ingest_and_synth_refuse_folders_they_did_not_make() {
    let d = tempfile::tempdir().unwrap();
    store(d.path());
    let mine = d.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("precious.txt"), "x").unwrap();
    let m = mine.to_str().unwrap();
    let rel = d.path().join("rel");
    let err = fails(&["ingest", rel.to_str().unwrap(), "--store", m]);
    assert!(err.contains("--force"), "{err}");
    let err = fails(&["synth", "--out", m, "--regions", "R2", "--days", "1"]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(mine.join("precious.txt")).unwrap(),
        "x"
    );
    // A store is not a release either.
    let s = d.path().join("store");
    let err = fails(&["synth", "--out", s.to_str().unwrap(), "--days", "1"]);
    assert!(err.contains("coldstart ingest"), "{err}");
    let err = fails(&["synth", "--out", "x", "--days", "32"]);
    assert!(err.contains("1 to 31"), "{err}");
}

/// `coldstart ingest REL --store STORE` in a shell that allows files of 1 KiB at most, after
/// the shell commands `pre`.
fn ingest_under_size_limit(rel: &Path, store: &str, pre: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            r#"{pre} ulimit -f 1; exec "$0" ingest "$1" --store "$2" --threads 1"#
        ))
        .arg(env!("CARGO_BIN_EXE_coldstart"))
        .arg(rel)
        .arg(store)
        .output()
        .unwrap()
}

/// An ingest killed while writing (here by the file-size limit: SIGXFSZ as soon as a file of
/// the new store passes 1 KiB) or failing to write leaves the old store whole, and the next
/// run cleans up.
#[cfg(unix)]
#[test]
fn an_ingest_killed_mid_write_keeps_the_old_store() {
    let d = tempfile::tempdir().unwrap();
    let s = store(d.path());
    let before = std::fs::read(Path::new(&s).join("_manifest.json")).unwrap();
    let rows = format!("{ROW}\n").repeat(2000);
    std::fs::write(
        d.path().join("rel/cold_start/R1/day_30.csv"),
        format!("{HEADER}\n{rows}"),
    )
    .unwrap();
    let out = ingest_under_size_limit(&d.path().join("rel"), &s, "");
    assert!(!out.status.success(), "the size limit stops the run");
    assert_eq!(
        std::fs::read(Path::new(&s).join("_manifest.json")).unwrap(),
        before
    );
    let staged = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".store.tmp"))
            .collect()
    };
    assert_eq!(staged(d.path()).len(), 1, "the killed run's staging folder");
    // With SIGXFSZ ignored the same limit makes writes fail (EFBIG), as a full disk does
    // (ENOSPC): the run stops with an error naming the file, keeps the old store, and removes
    // its own staging folder and the killed run's.
    let out = ingest_under_size_limit(&d.path().join("rel"), &s, "trap '' XFSZ;");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot write") && err.contains(".parquet"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(Path::new(&s).join("_manifest.json")).unwrap(),
        before
    );
    assert!(staged(d.path()).is_empty());
    ok(&[
        "ingest",
        d.path().join("rel").to_str().unwrap(),
        "--store",
        &s,
    ]);
    assert!(staged(d.path()).is_empty());
    let n = cold_start_count(&s);
    assert_eq!(n, "n\n2000\n");
}

/// A reader that stops early (`| head`) ends the command quietly: exit 0, nothing on stderr.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let d = tempfile::tempdir().unwrap();
    let s = store(d.path());
    for format in ["csv", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coldstart"))
            .args(["sql", "--store", &s, "--format", format])
            .arg("SELECT value FROM generate_series(1, 300000)")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The pipe's reading end is closed here.
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{format}: {:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{format}");
    }
}
