//! The Huawei Cloud 2023 reader on small hand-written releases in the published layout
//! (`<metric>_minute/day_NNN.csv`, columns day, time, then one per function id, empty cells
//! where a function had nothing): what it reads, what it derives, what it rejects.

use std::path::Path;

use coldstart_sim::workload::huawei2023::{self, Select, FALLBACK_EXEC_S};
use coldstart_sim::workload::Workload;

/// The error of a read that must fail, with its causes.
fn error(r: anyhow::Result<coldstart_sim::workload::minute_counts::MinuteCounts>) -> String {
    format!("{:#}", r.err().expect("an error"))
}

fn write(dir: &Path, metric: &str, file: &str, text: &str) {
    let d = dir.join(metric);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(file), text).unwrap();
}

/// A private-style release: day 0 with every companion, day 40 (past the 2025 trace's 31
/// days) with requests only, and nothing between.
fn private(dir: &Path) {
    write(
        dir,
        "requests_minute",
        "day_000.csv",
        "day,time,0,1,7\n\
         0,0,3.0,,NaN\n\
         0,60,,2,\n\
         0,120,1.5,1,\n\
         0,150,1,1,1\n\
         1,180,1,1,1\n\
         0,60,5,5,5\n\
         0,180,,,x\n",
    );
    write(
        dir,
        "function_delay_minute",
        "day_000.csv",
        "day,time,0,1,7\n0,0,250,,\n0,60,,40,\n0,120,,,\n",
    );
    write(
        dir,
        "memory_limit_minute",
        "day_000.csv",
        "day,time,0,1,7\n0,0,512,,\n0,60,1024,,\n",
    );
    write(
        dir,
        "instances_minute",
        "day_000.csv",
        "day,time,0,1,7\n0,0,2,,\n0,60,8,,\n",
    );
    // Another column set on another day; 40 x 86400 = 3,456,000 s is minute 57,600.
    write(
        dir,
        "requests_minute",
        "day_040.csv",
        "day,time,1,7\n40,3456000,,4\n",
    );
}

#[test]
fn a_private_release_reads_counts_delays_and_pod_memory() {
    let d = tempfile::tempdir().unwrap();
    private(d.path());
    let w = huawei2023::open(d.path(), &Select::default(), 1).unwrap();
    let names: Vec<&str> = w.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["0", "1", "7"]);
    assert!(w.functions.iter().all(|f| f.region == "huawei2023"));
    // f0: 3 requests in minute 0, 250 ms; f1: 2 in minute 1 at 40 ms, 1 in minute 2 with no
    // delay (its median, 40 ms); f7: 4 in minute 57,600 with no delay anywhere (fallback).
    let want = [
        (0, 0, 3, 0.25),
        (1, 1, 2, 0.04),
        (2, 1, 1, 0.04),
        (57_600, 2, 4, FALLBACK_EXEC_S as f32),
    ];
    assert_eq!(w.counts.len(), want.len(), "{:?}", w.counts);
    for (c, e) in w.counts.iter().zip(want) {
        assert_eq!((c.0, c.1, c.2), (e.0, e.1, e.2), "{:?}", w.counts);
        assert!((c.3 - e.3).abs() < 1e-6, "{:?}", w.counts);
    }
    // f0's pods: 512 / 2 = 256 MB and 1024 / 8 = 128 MB: the median of two is the lower.
    let mb: Vec<u32> = w.functions.iter().map(|f| f.memory_mb).collect();
    assert_eq!(mb, [128, 128, 128]);
    let notes = w.notes().join("\n");
    for want in [
        "3 functions, 4 function-minutes",
        "days 0..41 from 2 day files (39 days in between have no file",
        "function_delay_minute (ms, mean over pods) for 2 function-minutes, the function's median for 1, 100 ms for 1",
        "for 1 functions, 128 MB for 2",
        "3 companion day files",
        "5 rows or cells rejected",
        "day_000.csv: line 4: 0: 1.5 requests",
        "line 5: time: 150 s is not the first second of a minute of day 0",
        "line 6: day: 1 in the file of day 0",
        "line 7: time: minute 1 repeated",
        "line 8: 7: 'x' is not a number",
    ] {
        assert!(notes.contains(want), "missing '{want}' in:\n{notes}");
    }
    // Day 40 is replayed: the trace is not cut to 31 days.
    let mut w = w;
    assert_eq!(w.days(), 0..41);
    let day40 = w.day(40).unwrap();
    assert_eq!(day40.len(), 4);
    assert!(day40
        .iter()
        .all(|i| i.t >= 3_456_000.0 && i.t < 3_456_060.0 && i.func == 2));
    assert_eq!(w.day(0).unwrap().len(), 6);
}

#[test]
fn days_and_functions_can_be_selected() {
    let d = tempfile::tempdir().unwrap();
    private(d.path());
    let sel = Select {
        days: Some(0..31),
        functions: Some(vec!["1".into(), "7".into()]),
    };
    let w = huawei2023::open(d.path(), &sel, 1).unwrap();
    let names: Vec<&str> = w.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["1", "7"]);
    assert_eq!(w.counts.iter().map(|c| c.2).sum::<u32>(), 3);
    // Nothing of the selected functions on the selected days: an error that says which flag.
    let sel = Select {
        days: Some(40..41),
        functions: Some(vec!["0".into()]),
    };
    let e = error(huawei2023::open(d.path(), &sel, 1));
    assert!(
        e.contains("no requests read") && e.contains("--huawei2023-functions"),
        "{e}"
    );
    let sel = Select {
        days: Some(100..200),
        functions: None,
    };
    let e = error(huawei2023::open(d.path(), &sel, 1));
    assert!(
        e.contains("day files cover days 0..41") && e.contains("--days"),
        "{e}"
    );
}

#[test]
fn a_public_release_folder_and_bad_folders() {
    let d = tempfile::tempdir().unwrap();
    // The public release: requests only, two-digit days, given as the requests folder itself.
    write(
        d.path(),
        "requests_minute",
        "day_00.csv",
        "day,time,0,1\n0,0,6772,\n0,60,7244,2.0\n",
    );
    let w = huawei2023::open(&d.path().join("requests_minute"), &Select::default(), 1).unwrap();
    assert_eq!(
        w.counts.iter().map(|c| u64::from(c.2)).sum::<u64>(),
        6772 + 7244 + 2
    );
    assert!(w
        .counts
        .iter()
        .all(|c| (c.3 - FALLBACK_EXEC_S as f32).abs() < 1e-9));
    // Not a release.
    let e = error(huawei2023::open(
        &d.path().join("nope"),
        &Select::default(),
        1,
    ));
    assert!(e.contains("not a Huawei 2023 release"), "{e}");
    // A day file whose rows are all bad names the file.
    write(
        d.path(),
        "requests_minute",
        "day_01.csv",
        "day,time,0\n0,0,1\n",
    );
    let e = error(huawei2023::open(d.path(), &Select::default(), 1));
    assert!(
        e.contains("day_01.csv: no row read") && e.contains("in the file of day 1"),
        "{e}"
    );
    // A file without the time column.
    write(d.path(), "requests_minute", "day_01.csv", "day,0\n1,1\n");
    let e = error(huawei2023::open(d.path(), &Select::default(), 1));
    assert!(e.contains("day_01.csv: missing column time"), "{e}");
}
