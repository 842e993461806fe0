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

/// A day where function `a` takes a request at seconds 7 and 37 of every minute and `b` three
/// at second 50 of every tenth; with `seconds`, the per-second table beside the per-minute one.
fn every_half_minute(dir: &Path, seconds: bool) {
    let mut minutes = String::from("day,time,a,b\n");
    let mut secs = String::from("day,time,a,b\n");
    for m in 0..1440u32 {
        let b = if m % 10 == 0 { "3" } else { "" };
        minutes.push_str(&format!("0,{},2,{b}\n", m * 60));
        secs.push_str(&format!("0,{},1,\n0,{},1,\n", m * 60 + 7, m * 60 + 37));
        if m % 10 == 0 {
            secs.push_str(&format!("0,{},,3\n", m * 60 + 50));
        }
    }
    write(dir, "requests_minute", "day_000.csv", &minutes);
    if seconds {
        write(dir, "requests_second", "day_000.csv", &secs);
    }
}

/// Cold starts of the release at `dir` replayed under the 60 s keep-alive, and its notes.
fn replay(dir: &Path) -> (Vec<u64>, Vec<String>, Vec<f64>) {
    let mut w = huawei2023::open(dir, &Select::default(), 1).unwrap();
    let times: Vec<f64> = w.day(0).unwrap().iter().map(|i| i.t).collect();
    let mut w = huawei2023::open(dir, &Select::default(), 1).unwrap();
    let p = vec![coldstart_sim::policy::parse("fixed-keepalive:ttl=60s", 2).unwrap()];
    let m = coldstart_sim::engine::simulate(
        &mut w,
        &coldstart_sim::costs::FixedCosts(2.0),
        p,
        |_, _| {},
    )
    .unwrap();
    let cold = m[0].per_function.iter().map(|f| f.cold_starts).collect();
    (cold, w.notes(), times)
}

#[test]
fn per_second_counts_place_each_minutes_requests_in_their_seconds() {
    // With the seconds: a's requests come 30 s apart all day, so its one pod stays warm (one
    // cold start); b's three a minute come within second 50, cold each time (nothing for ten
    // minutes) and on three pods at once (each waits out a 2 s cold start, longer than the
    // second they all come in).
    let d = tempfile::tempdir().unwrap();
    every_half_minute(d.path(), true);
    let (cold, notes, times) = replay(d.path());
    assert_eq!(cold, [1, 3 * 144]);
    assert_eq!(times.len(), 2 * 1440 + 3 * 144);
    for t in &times {
        let s = t.rem_euclid(60.0);
        assert!(
            (7.0..8.0).contains(&s) || (37.0..38.0).contains(&s) || (50.0..51.0).contains(&s),
            "{t}"
        );
    }
    let all = notes.join("\n");
    assert!(
        all.contains("1584 function-minutes arrived second by second")
            && all.contains("0 of them had per-second counts that summed below")
            && all.contains("requests_second read for 1 days"),
        "{all}"
    );
    // Without them, each minute's two requests fall anywhere in it: a gap over 60.1 s between
    // minutes (about one in six minutes) costs a's pod a cold start.
    let d = tempfile::tempdir().unwrap();
    every_half_minute(d.path(), false);
    let (cold, notes, _) = replay(d.path());
    assert!(cold[0] > 100 && cold[0] < 400, "{cold:?}");
    assert!(!notes.join("\n").contains("second by second"));
}

#[test]
fn per_second_rows_and_cells_are_checked() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "requests_minute",
        "day_000.csv",
        "day,time,a\n0,0,3\n0,60,1\n0,120,1\n",
    );
    // Second 7: 2 of minute 0's 3 (fewer, replayed as the seconds say); 8.5 is no whole
    // second; 1.5 requests; second 7 again; second 130: 5 requests where minute 2 has 1 (more,
    // which the day's memory was not sized for); second 200 is in minute 3, which the
    // per-minute table lacks; a row of day 1 in day 0's file.
    write(
        d.path(),
        "requests_second",
        "day_000.csv",
        "day,time,a\n0,7,2\n0,8.5,1\n0,61,1.5\n0,7,1\n0,130,5\n0,200,4\n1,90,1\n",
    );
    let mut w = huawei2023::open(d.path(), &Select::default(), 1).unwrap();
    let day = w.day(0).unwrap();
    // Minute 0 from its seconds (2 at second 7), minutes 1 and 2 spread uniformly (minute 1's
    // only second was rejected, minute 2's seconds ask for more than its count).
    assert_eq!(day.len(), 2 + 1 + 1);
    assert!(day[..2].iter().all(|i| (7.0..8.0).contains(&i.t)));
    assert!((120.0..180.0).contains(&day[3].t));
    let all = w.notes().join("\n");
    for want in [
        "1 function-minutes arrived second by second",
        "1 of them had per-second counts that summed below",
        "1 function-minutes whose per-second counts summed above the minute's were replayed \
         from the minute's count",
        "1 per-second function-minutes had no per-minute count",
        "8.5 s is not a whole second of day 0",
        "1.5 requests",
        "second 7 repeated",
        "in the file of day 0",
    ] {
        assert!(all.contains(want), "missing {want:?} in\n{all}");
    }
}

/// A workload that hides its never-idle functions' minute-by-minute path: every function
/// request by request.
struct RequestByRequest(coldstart_sim::workload::minute_counts::MinuteCounts);

impl Workload for RequestByRequest {
    fn functions(&self) -> &[coldstart_sim::workload::Function] {
        self.0.functions()
    }
    fn days(&self) -> std::ops::Range<u32> {
        self.0.days()
    }
    fn day(&mut self, day: u32) -> anyhow::Result<Vec<coldstart_sim::workload::Invocation>> {
        self.0.day(day)
    }
}

#[test]
fn a_function_never_idle_comes_minute_by_minute_and_agrees_with_its_requests() {
    // Two days: `hot` has 600 requests in every minute (10 a second, 100 ms each: one in
    // flight on average), `rare` one every ten minutes.
    let d = tempfile::tempdir().unwrap();
    for day in 0..2 {
        let mut text = String::from("day,time,hot,rare\n");
        for m in 0..1440 {
            let rare = if m % 10 == 0 { "1" } else { "" };
            text.push_str(&format!("{day},{},600,{rare}\n", day * 86400 + m * 60));
        }
        write(
            d.path(),
            "requests_minute",
            &format!("day_00{day}.csv"),
            &text,
        );
    }
    let costs = coldstart_sim::costs::FixedCosts(0.5);
    let keep = || vec![coldstart_sim::policy::parse("fixed-keepalive:ttl=60s", 2).unwrap()];
    let mut fluid = huawei2023::open(d.path(), &Select::default(), 1).unwrap();
    assert!(fluid.set_fluid(true), "hot is never idle");
    // The request-by-request day holds rare's requests alone.
    assert_eq!(fluid.size_hint(0), Some(144));
    assert_eq!(fluid.day(0).unwrap().len(), 144);
    let mut fluid = huawei2023::open(d.path(), &Select::default(), 1).unwrap();
    let a = coldstart_sim::engine::simulate(&mut fluid, &costs, keep(), |_, _| {}).unwrap();
    let notes = fluid.notes().join("\n");
    assert!(
        notes.contains(
            "1 functions with at least 60 requests in every minute were replayed minute by minute"
        ),
        "{notes}"
    );
    let mut each = RequestByRequest(huawei2023::open(d.path(), &Select::default(), 1).unwrap());
    let b = coldstart_sim::engine::simulate(&mut each, &costs, keep(), |_, _| {}).unwrap();
    let (fa, fb) = (&a[0].per_function, &b[0].per_function);
    // Every request counted either way; rare's replay is the same.
    assert_eq!(fa[0].invocations, 2 * 1440 * 600);
    assert_eq!(fb[0].invocations, fa[0].invocations);
    assert_eq!(
        (fa[1].invocations, fa[1].cold_starts),
        (fb[1].invocations, fb[1].cold_starts)
    );
    // hot's pods: a few cold starts as its requests in flight reach new peaks, either way.
    let (ca, cb) = (fa[0].cold_starts as f64, fb[0].cold_starts as f64);
    assert!(
        cb >= 3.0 && (ca - cb).abs() <= 3.0_f64.max(0.25 * cb),
        "{ca} against {cb}"
    );
    let (ia, ib) = (fa[0].idle_seconds, fb[0].idle_seconds);
    assert!((ia / ib - 1.0).abs() < 0.15, "idle {ia} against {ib}");
}
