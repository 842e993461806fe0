//! Randomised inputs for the CSV and zip readers (stable-Rust fuzzing with proptest): valid
//! release files cut short, with bytes flipped, quotes, commas and line breaks injected.
//! Whatever comes in, the readers do not panic, every data line is counted (read = accepted +
//! rejected), messages stay short, and memory stays bounded (a counting allocator measures
//! the peak).

#[path = "integration/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Cursor, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use arrow::array::RecordBatch;
use coldstart_trace::parse::{parse_file, FileCounts, Issue, Sink, MAX_LINE};
use coldstart_trace::source::{InputFile, Location};
use coldstart_trace::{ingest, Family};
use common::*;
use proptest::prelude::*;

/// The system allocator, counting the bytes live now and the most live since a reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Tests of this file run one at a time, so that a peak belongs to one of them.
static SERIAL: Mutex<()> = Mutex::new(());

/// Bytes allocated on top of what was live when `f` started, at the most.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

#[derive(Default)]
struct Counter {
    rows: u64,
    issues: Vec<Issue>,
}

impl Sink for Counter {
    fn batch(&mut self, batch: RecordBatch) -> anyhow::Result<()> {
        self.rows += batch.num_rows() as u64;
        Ok(())
    }
    fn issue(&mut self, issue: Issue) -> anyhow::Result<()> {
        self.issues.push(issue);
        Ok(())
    }
    fn warning(&mut self, _: String) {}
}

fn input(family: Family, name: &str) -> InputFile {
    InputFile {
        display: name.to_owned(),
        location: Location::Plain(PathBuf::from(name)),
        family,
        region: "R2".into(),
        table: (family == Family::MinuteMetric).then(|| "requests".to_owned()),
        size: 0,
    }
}

fn parse(family: Family, bytes: &mut dyn Read) -> (anyhow::Result<()>, FileCounts, Counter) {
    let mut counts = FileCounts::default();
    let mut sink = Counter::default();
    let f = input(family, "cold_start/R2/day_30.csv");
    let r = parse_file(&f, bytes, 7, &mut sink, &mut counts);
    (r, counts, sink)
}

const WIDE_HEADER: &str = "day,time,400---418---pool22-300-128,401---418---pool24-600-512";
const FUNC_HEADER: &str = "funcID,cpu_request,runtime,triggerType-invocationType";

/// A valid file of `family` with `n` data rows.
fn valid(family: Family, n: usize) -> String {
    let mut s = String::new();
    match family {
        Family::ColdStart => {
            s.push_str(COLD_HEADER);
            s.push('\n');
            for i in 0..n {
                s.push_str(if i % 2 == 0 { COLD_ROW_1 } else { COLD_ROW_2 });
                s.push('\n');
            }
        }
        Family::MinuteMetric => {
            s.push_str(WIDE_HEADER);
            s.push('\n');
            for i in 0..n {
                s.push_str(&format!("30,{}.0,{i},\n", 2_592_000 + 60 * i));
            }
        }
        _ => {
            s.push_str(FUNC_HEADER);
            s.push('\n');
            for i in 0..n {
                s.push_str(&format!(
                    "{i}---418---pool22-300-128,100,Python3,\"['TIMER-A', 'APIG-S']\"\n"
                ));
            }
        }
    }
    s
}

#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let special = prop_oneof![
        Just(b'"'),
        Just(b'\n'),
        Just(b'\r'),
        Just(b','),
        Just(0u8),
        Just(0xFFu8),
        any::<u8>(),
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), special).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(mut b: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = b.len().max(1);
        match *e {
            Edit::Truncate(i) => b.truncate(i % n),
            Edit::Flip(i, x) if !b.is_empty() => b[i % n] ^= x | 1,
            Edit::Insert(i, x) => b.insert(i % (b.len() + 1), x),
            Edit::Delete(i) if !b.is_empty() => {
                b.remove(i % n);
            }
            _ => {}
        }
    }
    b
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        Just(Family::ColdStart),
        Just(Family::MinuteMetric),
        Just(Family::Function)
    ]
}

/// Physical data lines (after the header line) and how many of them are empty. Empty lines
/// before the header are skipped with it, as the CSV reader does.
fn data_lines(b: &[u8]) -> (u64, u64) {
    let mut lines: Vec<&[u8]> = b.split(|c| *c == b'\n').collect();
    if b.ends_with(b"\n") {
        lines.pop();
    }
    let header = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let lines = &lines[header..];
    let data = lines.len().saturating_sub(1) as u64;
    let empty = lines.iter().skip(1).filter(|l| l.is_empty()).count() as u64;
    (data, empty)
}

/// A case proptest found: an empty line before the header. The header is the first line
/// with text, and every row after it is read.
#[test]
fn an_empty_line_before_the_header_is_skipped_and_every_row_counted() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for fam in [Family::ColdStart, Family::MinuteMetric, Family::Function] {
        let bytes = format!("\n{}", valid(fam, 22)).into_bytes();
        let (r, c, _) = parse(fam, &mut Cursor::new(&bytes));
        assert!(r.is_ok(), "{fam:?}");
        let (data, empty) = data_lines(&bytes);
        assert_eq!((data, empty), (22, 0), "{fam:?}");
        assert_eq!(c.rows_read, 22, "{fam:?}");
        assert_eq!(c.rows_accepted, 22, "{fam:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn csv_reader_counts_every_line(
        fam in family(),
        n in 0usize..25,
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = apply(valid(fam, n).into_bytes(), &edits);
        let (r, c, sink) = parse(fam, &mut Cursor::new(&bytes));
        prop_assert_eq!(c.rows_read, c.rows_accepted + c.rows_rejected);
        if fam != Family::MinuteMetric {
            // (Wide tables store cells, not rows.)
            prop_assert!(sink.rows <= c.rows_accepted);
        }
        for i in &sink.issues {
            prop_assert!(i.value.len() < 400 && i.column.len() < 400);
        }
        match r {
            Err(e) => {
                let msg = format!("{e:#}");
                prop_assert!(msg.len() < 2000, "{}", msg);
            }
            Ok(()) => {
                let (data, empty) = data_lines(&bytes);
                let plain = !bytes.contains(&b'"') && !bytes.contains(&b'\r');
                if plain {
                    // Without quotes, each physical line after the header is one record:
                    // counted as read, or an empty line that is skipped.
                    prop_assert_eq!(c.rows_read + empty, data, "{:?}", String::from_utf8_lossy(&bytes));
                }
            }
        }
    }

    #[test]
    fn zip_reader_never_panics_and_balances(
        n in 1usize..20,
        edits in prop::collection::vec(edit(), 1..4),
        inner in prop::collection::vec(edit(), 0..3),
        deflate in any::<bool>(),
    ) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let csv = apply(valid(Family::ColdStart, n).into_bytes(), &inner);
        let dir = tempfile::tempdir().unwrap();
        let zpath = dir.path().join("rel/cold_start/R2.zip");
        std::fs::create_dir_all(zpath.parent().unwrap()).unwrap();
        let mut buf = Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
            let o = zip::write::SimpleFileOptions::default().compression_method(method);
            z.start_file("day_30.csv", o).unwrap();
            z.write_all(&csv).unwrap();
            z.finish().unwrap();
        }
        std::fs::write(&zpath, apply(buf.into_inner(), &edits)).unwrap();
        match ingest(&[dir.path().join("rel")], &dir.path().join("store"), &opts()) {
            Ok(m) => {
                prop_assert_eq!(m.rows_read, m.rows_accepted + m.rows_rejected);
                prop_assert!(m.rows_accepted > 0);
            }
            Err(e) => {
                let msg = format!("{e:#}");
                prop_assert!(msg.len() < 4000, "{}", msg);
                prop_assert!(!dir.path().join("store").exists());
            }
        }
    }
}

/// Endless bytes without a line end.
struct Endless(u8);

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(self.0);
        Ok(buf.len())
    }
}

#[test]
fn memory_stays_bounded_on_a_line_without_end() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for byte in [0u8, b'x', b'"'] {
        // A header that never ends, and a data line that never ends.
        let ((r, c, _), peak) = peak_during(|| parse(Family::ColdStart, &mut Endless(byte)));
        let e = format!("{:#}", r.unwrap_err());
        assert!(e.contains("longer than 16 MiB"), "{e}");
        assert_eq!(c.rows_read, 0);
        assert!(peak < 4 * MAX_LINE, "peak {peak} bytes");
        let head = format!("{COLD_HEADER}\n{COLD_ROW_1}\n");
        let mut body = Cursor::new(head.into_bytes()).chain(Endless(byte));
        let ((r, c, _), peak) = peak_during(|| parse(Family::ColdStart, &mut body));
        // The file fails whole; ingest then counts all its lines as rejected.
        assert!(r.is_err());
        assert!(c.rows_read <= 1);
        assert!(peak < 4 * MAX_LINE, "peak {peak} bytes");
    }
}

#[test]
fn memory_does_not_grow_with_the_number_of_rows() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rows = |n: usize| {
        let head = format!("{COLD_HEADER}\n");
        let row = format!("{COLD_ROW_1}\n");
        Cursor::new(head.into_bytes()).chain(Cursor::new(row.into_bytes().repeat(n)))
    };
    let mut small = rows(1_000);
    let mut big = rows(100_000);
    let ((_, c1, _), p1) = peak_during(|| parse(Family::ColdStart, &mut small));
    let ((_, c2, _), p2) = peak_during(|| parse(Family::ColdStart, &mut big));
    assert_eq!((c1.rows_accepted, c2.rows_accepted), (1_000, 100_000));
    // The input itself (100,000 rows: 11 MB) is held by the test; the parse adds the same
    // buffers for both.
    assert!(p2 < p1 + (1 << 20), "{p1} then {p2} bytes");
}
