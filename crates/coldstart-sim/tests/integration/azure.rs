//! The Azure Functions 2019 and 2021 readers on small hand-written files in the published
//! formats: what they read, what they assume, and what they reject (named by file, line and
//! field).

use std::fmt::Write as _;
use std::path::Path;

use coldstart_sim::workload::azure2019::Azure2019;
use coldstart_sim::workload::{azure2021, Workload};

/// An invocations row: owner, app, function, trigger, then 1440 minute counts (all 0 but
/// `counts`, given as (column, count) with column 1 the first minute).
fn row(o: &str, a: &str, f: &str, trigger: &str, counts: &[(usize, &str)]) -> String {
    let mut v = vec!["0".to_string(); 1440];
    for (c, n) in counts {
        v[c - 1] = n.to_string();
    }
    format!("{o},{a},{f},{trigger},{}\n", v.join(","))
}

fn header() -> String {
    let mut h = "HashOwner,HashApp,HashFunction,Trigger".to_string();
    for m in 1..=1440 {
        let _ = write!(h, ",{m}");
    }
    h + "\n"
}

const DURATIONS: &str = "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,\
percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,\
percentile_Average_75,percentile_Average_99,percentile_Average_100\n";

const MEMORY: &str = "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,\
AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,\
AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,\
AverageAllocatedMb_pct100\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn trace2019(dir: &Path) {
    let mut d1 = header();
    d1 += &row("o1", "a1", "web", "http", &[(1, "2"), (1440, "1")]);
    d1 += &row(
        "o1",
        "a2",
        "tick",
        "timer",
        &[(1, "1"), (2, "1"), (3, "1"), (4, "1"), (5, "1")],
    );
    d1 += &row("o2", "a3", "nodur", "queue", &[(10, "7")]);
    // The same function twice in a day: the first row is read.
    d1 += &row("o1", "a1", "web", "http", &[(100, "50")]);
    // A count that is not a count: the row is rejected and named.
    d1 += &row("o2", "a3", "bad", "event", &[(3, "x")]);
    write(dir, "invocations_per_function_md.anon.d01.csv", &d1);
    let mut d2 = header();
    d2 += &row("o1", "a1", "web", "http", &[(60, "1")]);
    write(dir, "invocations_per_function_md.anon.d02.csv", &d2);
    // `web` runs exactly 1 s; `tick` has an average of 0 ms. No statistics for day 2.
    let dur = format!(
        "{DURATIONS}o1,a1,web,1000,3,1000,1000,1000,1000,1000,1000,1000,1000,1000\n\
         o1,a2,tick,0,5,0,0,0,0,0,0,0,0,0\n"
    );
    write(dir, "function_durations_percentiles.anon.d01.csv", &dur);
    // a1 holds 256 MB, a2 512 MB on average; a3 has no memory statistics.
    write(
        dir,
        "app_memory_percentiles.anon.d01.csv",
        &format!("{MEMORY}o1,a1,10,200,0,0,0,0,0,0,0,0\no1,a2,10,512,0,0,0,0,0,0,0,0\n"),
    );
    write(
        dir,
        "app_memory_percentiles.anon.d02.csv",
        &format!("{MEMORY}o1,a1,10,312,0,0,0,0,0,0,0,0\n"),
    );
}

#[test]
fn azure_2019_reads_counts_durations_and_memory_and_names_what_it_leaves_out() {
    let d = tempfile::tempdir().unwrap();
    trace2019(d.path());
    let mut w = Azure2019::open(d.path(), None, 7).unwrap();
    assert_eq!(w.days(), 0..2);
    let f = w.functions().to_vec();
    let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a1/web", "a2/tick", "a3/nodur"]);
    let trig: Vec<&str> = f.iter().map(|f| f.trigger.as_str()).collect();
    assert_eq!(trig, ["http-S", "TIMER-A", "queue-A"]);
    assert!(!f[0].is_async() && f[1].is_timer() && f[2].is_async());
    // Memory: a1 the mean of its two days, a3 the median app's (of 256 and 512: 512).
    let mb: Vec<u32> = f.iter().map(|f| f.memory_mb).collect();
    assert_eq!(mb, [256, 512, 512]);

    let day0 = w.day(0).unwrap();
    // 3 of web (2 in minute 1, 1 in minute 1440), 5 of tick; nodur is left out.
    let web: Vec<_> = day0.iter().filter(|i| i.func == 0).collect();
    assert_eq!(web.len(), 3);
    assert!(web[..2]
        .iter()
        .all(|i| i.t >= 0.0 && i.t < 60.0 && i.exec == 1.0));
    assert!(web[2].t >= 1439.0 * 60.0 && web[2].t < 86_400.0);
    let tick: Vec<_> = day0.iter().filter(|i| i.func == 1).collect();
    assert_eq!(tick.len(), 5);
    for (m, i) in tick.iter().enumerate() {
        assert!(i.t >= m as f64 * 60.0 && i.t < (m + 1) as f64 * 60.0 && i.exec == 0.0);
    }
    assert!(day0.iter().all(|i| i.func != 2));
    assert!(day0.windows(2).all(|p| p[0].t <= p[1].t));
    // Day 2 has no durations: web takes day 1's.
    let day1 = w.day(1).unwrap();
    assert_eq!(day1.len(), 1);
    assert!(day1[0].t >= 86_400.0 + 59.0 * 60.0 && day1[0].t < 86_400.0 + 3600.0);
    assert_eq!(day1[0].exec, 1.0);
    // The same seed gives the same invocations.
    let again = Azure2019::open(d.path(), None, 7).unwrap().day(0).unwrap();
    assert_eq!(again, day0);

    let notes = w.notes().join("\n");
    for want in [
        "1 functions have no duration statistics on any day and are left out, with their 7 invocations",
        "1 functions have an average duration of 0 ms",
        "1 apps have no memory statistics",
        "1 duplicate rows",
        "1 invocation rows rejected",
        "invocations_per_function_md.anon.d01.csv: line 6: minute 3: 'x' is not a count",
    ] {
        assert!(notes.contains(want), "missing '{want}' in:\n{notes}");
    }

    // Days chosen: only d02 is read.
    let w = Azure2019::open(d.path(), Some(1..2), 7).unwrap();
    assert_eq!(w.days(), 1..2);
    assert_eq!(w.functions().len(), 1);
    assert!(Azure2019::open(d.path(), Some(5..9), 7).is_err());
}

#[test]
fn azure_2019_errors_name_the_file_and_the_column() {
    let d = tempfile::tempdir().unwrap();
    let e = format!("{:#}", Azure2019::open(d.path(), None, 1).err().unwrap());
    assert!(
        e.contains("no invocations_per_function_md.anon.dNN.csv"),
        "{e}"
    );
    write(
        d.path(),
        "invocations_per_function_md.anon.d01.csv",
        "HashOwner,HashApp,HashFunction,1,2\n",
    );
    let e = format!("{:#}", Azure2019::open(d.path(), None, 1).err().unwrap());
    assert!(e.contains("d01.csv: missing column Trigger"), "{e}");
    write(
        d.path(),
        "invocations_per_function_md.anon.d01.csv",
        "HashOwner,HashApp,HashFunction,Trigger,1,3\n",
    );
    let e = format!("{:#}", Azure2019::open(d.path(), None, 1).err().unwrap());
    assert!(e.contains("expected minute columns 1 to 1440"), "{e}");
}

#[test]
fn azure_2021_starts_invocations_at_end_minus_duration() {
    let d = tempfile::tempdir().unwrap();
    let p = d
        .path()
        .join("AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt");
    std::fs::write(
        &p,
        "app,func,end_timestamp,duration\n\
         a,f,10.5,0.5\n\
         a,g,3.0,5.0\n\
         b,f,100.0,1.25\n\
         c,f,x,1\n\
         a,f,20.0,2.0\n",
    )
    .unwrap();
    let mut t = azure2021::read(&p, 3).unwrap();
    let names: Vec<&str> = t.functions().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a/f", "a/g", "b/f"]);
    let inv = t.day(0).unwrap();
    let got: Vec<(f64, u32, f64)> = inv.iter().map(|i| (i.t, i.func, i.exec)).collect();
    assert_eq!(
        got,
        [
            (0.0, 1, 5.0),
            (10.0, 0, 0.5),
            (18.0, 0, 2.0),
            (98.75, 2, 1.25)
        ]
    );
    // One memory per app, from the Burr fit.
    let mb: Vec<u32> = t.functions().iter().map(|f| f.memory_mb).collect();
    assert_eq!(mb[0], mb[1]);
    assert!(mb.iter().all(|m| *m >= 1));
    let notes = t.notes().join("\n");
    assert!(
        notes.contains("1 invocations started before the trace"),
        "{notes}"
    );
    assert!(
        notes.contains("1 rows rejected") && notes.contains("line 5: end_timestamp"),
        "{notes}"
    );
    std::fs::write(&p, "app,func,end,duration\n").unwrap();
    let e = format!("{:#}", azure2021::read(&p, 3).err().unwrap());
    assert!(e.contains("missing column end_timestamp"), "{e}");
}

#[test]
fn azure_2021_short_rows_and_out_of_range_times_are_rejected_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("trace.txt");
    // The numeric columns come first: a short row used to index past its end and panic.
    std::fs::write(
        &p,
        "end_timestamp,duration,app,func\n\
         100.0,1.0\n\
         50.0,1.0,a,f\n\
         1e14,1.0,a,f\n\
         1e300,1.0,a,g\n\
         60.0,1e300,a,f\n",
    )
    .unwrap();
    let mut t = azure2021::read(&p, 1).unwrap();
    assert_eq!(t.days(), 0..1);
    assert_eq!(t.day(0).unwrap().len(), 1);
    let notes = t.notes().join("\n");
    assert!(notes.contains("4 rows rejected"), "{notes}");
    assert!(
        notes.contains("line 2: app/func: missing (the row has 2 fields)"),
        "{notes}"
    );
    assert!(
        notes.contains("line 4: end_timestamp") && notes.contains("beyond the replay's"),
        "{notes}"
    );
    assert!(notes.contains("line 6: duration"), "{notes}");
    // A huge value is written short, so the reason is not cut off.
    assert!(
        notes.contains("1.000e300 s is beyond the replay's"),
        "{notes}"
    );
    // Nothing in range at all: an error, not an empty replay.
    std::fs::write(&p, "end_timestamp,duration,app,func\n1e300,1.0,a,f\n").unwrap();
    let e = format!("{:#}", azure2021::read(&p, 1).err().unwrap());
    assert!(
        e.contains("no invocation read") && e.contains("1 rejected"),
        "{e}"
    );
}

#[test]
fn azure_2019_short_rows_huge_counts_and_nothing_usable() {
    let d = tempfile::tempdir().unwrap();
    // Minute columns first, the hashes after them: short rows must not panic.
    let mut h = String::new();
    for m in 1..=1440 {
        let _ = write!(h, "{m},");
    }
    let zeros = vec!["0"; 1440].join(",");
    let mut inv = format!("{h}HashOwner,HashApp,HashFunction,Trigger\n");
    inv += &format!("{zeros}\n"); // no hashes at all
    inv += &format!("{zeros},o,a,f,http\n");
    let mut big = vec!["0"; 1440];
    big[0] = "1000000000";
    inv += &format!("{},o,a,g,http\n", big.join(","));
    big[0] = "4294967295";
    inv += &format!("{},o,a,h,http\n", big.join(","));
    write(d.path(), "invocations_per_function_md.anon.d01.csv", &inv);
    write(
        d.path(),
        "function_durations_percentiles.anon.d01.csv",
        "percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,\
         percentile_Average_75,percentile_Average_99,percentile_Average_100,Average,HashOwner,\
         HashApp,HashFunction\n\
         1,1,1,1,1,1,1\n\
         1,1,1,1,1,1,1,1,o,a,f\n",
    );
    write(
        d.path(),
        "app_memory_percentiles.anon.d01.csv",
        "AverageAllocatedMb,HashOwner,HashApp\n128\n128,o,a\n",
    );
    let mut w = Azure2019::open(d.path(), None, 1).unwrap();
    let notes = w.notes().join("\n");
    assert!(notes.contains("3 invocation rows rejected"), "{notes}");
    assert!(
        notes.contains("line 2: HashOwner/HashApp/HashFunction/Trigger: missing"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "line 4: minute 1: 1000000000 invocations in one minute is above the limit of 60000"
        ),
        "{notes}"
    );
    assert!(notes.contains("1 duration rows rejected"), "{notes}");
    assert!(notes.contains("1 app memory rows rejected"), "{notes}");
    assert_eq!(w.functions().len(), 1);
    assert_eq!(w.day(0).unwrap().len(), 0);
    // No function with duration statistics: refused, not a replay of nothing.
    write(
        d.path(),
        "function_durations_percentiles.anon.d01.csv",
        "HashOwner,HashApp,HashFunction,Average,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,\
         percentile_Average_99,percentile_Average_100\n",
    );
    let e = format!("{:#}", Azure2019::open(d.path(), None, 1).err().unwrap());
    assert!(
        e.contains("no function to replay") && e.contains("3 invocation rows rejected"),
        "{e}"
    );
}

#[test]
fn an_azure_2021_file_too_large_for_memory_is_refused_before_reading() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("trace.txt");
    std::fs::write(&p, "app,func,end_timestamp,duration\na,f,10.5,0.5\n").unwrap();
    let e = format!(
        "{:#}",
        azure2021::read_within(&p, 1, Some(10)).err().unwrap()
    );
    assert!(azure2021::read_within(&p, 1, Some(1000)).is_ok());
    assert!(
        e.contains("may need up to") && e.contains("replay a part"),
        "{e}"
    );
}

#[test]
fn azure_2021_rejects_name_the_right_line_whatever_the_line_ends() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("trace.txt");
    for end in ["\n", "\r\n", "\r"] {
        let rows = [
            "app,func,end_timestamp,duration",
            "a,f,10,1",
            "a,f,20,1",
            "100.0,1.0",
            "a,f,30,1",
        ];
        std::fs::write(&p, rows.map(|r| format!("{r}{end}")).concat()).unwrap();
        let notes = azure2021::read(&p, 1).unwrap().notes().join("\n");
        assert!(
            notes.contains("line 4: end_timestamp: missing"),
            "{end:?}: {notes}"
        );
    }
}
