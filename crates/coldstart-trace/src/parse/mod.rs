//! Streams one release CSV into Arrow batches of the stored schema, validating every value.
//!
//! A bad value rejects its row (or, in the wide per-minute tables, its cell) and is reported
//! as an [`Issue`] naming line, column and value; problems that make the whole file
//! unreadable (a missing column, no header, a broken zip stream, a line longer than
//! [`MAX_LINE`]) are returned as errors. Every data line is counted: read = accepted +
//! rejected, also for a quote that never closes (each line it swallows is a reject) and a
//! last line cut short (no line end: rejected).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use arrow::array::{ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder};

use crate::pool::{cpu_request_for_limit, parse_func_id, parse_pod_id, write_func_id};
use crate::schema::{
    split_minute_table, split_triggers, Column, Family, Kind, SECONDS_PER_DAY, TRACE_DAYS,
};
use crate::source::InputFile;

mod wide;
use wide::WideTable;

/// The longest line read (a header of the per-minute tables holds a few thousand funcIDs, some
/// 100 KiB): a longer one stops the file, so memory stays bounded whatever the input.
pub const MAX_LINE: usize = 16 << 20;
/// The most bytes of a value or header that a message repeats.
const ECHO: usize = 200;

/// `s` cut to at most `max` bytes (at a character boundary), saying how long it was.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &s[..end], s.len())
}

/// Raw bytes of a value for a message: [`clip`] of their text, without decoding more than
/// the part shown.
fn clip_bytes(raw: &[u8]) -> String {
    if raw.len() <= ECHO {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let head = String::from_utf8_lossy(&raw[..ECHO]);
    format!("{head}… ({} bytes in all)", raw.len())
}

/// The encoding of a header that is UTF-16 (a byte-order mark, or NUL bytes between ASCII
/// letters), which CSV would read as mojibake.
fn utf16(header: &[u8]) -> Option<&'static str> {
    match header {
        [0xFF, 0xFE, ..] => Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => Some("UTF-16 (big-endian)"),
        [a, 0, ..] if a.is_ascii() => Some("UTF-16 (little-endian, no byte-order mark)"),
        [0, b, ..] if b.is_ascii() => Some("UTF-16 (big-endian, no byte-order mark)"),
        _ => None,
    }
}

/// The first two positions of a column name the header holds twice (empty names aside).
fn duplicate_column(header: &[String]) -> Option<(usize, usize)> {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        if let Some(&a) = first.get(h.as_str()) {
            return Some((a, i));
        }
        first.insert(h, i);
    }
    None
}

/// Counts `rec` as one rejected row and reports it at the header's column `col`, echoing the
/// record's last field.
fn reject_record(
    rec: &csv::ByteRecord,
    line: u64,
    header: &[String],
    col: usize,
    reason: String,
    sink: &mut dyn Sink,
    counts: &mut FileCounts,
) -> Result<()> {
    counts.rows_read += 1;
    let issue = Issue {
        line,
        column: header
            .get(col.min(header.len().saturating_sub(1)))
            .cloned()
            .unwrap_or_default(),
        value: clip_bytes(rec.iter().next_back().unwrap_or(b"")),
        reason,
    };
    reject(counts, sink, issue)
}

/// How a file's lines end, from its first line end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnd {
    #[default]
    Lf,
    CrLf,
    /// Old Mac files: `\r` alone.
    Cr,
}

/// The line (1 = the first) a record starts on. The CSV reader counts `\n` only, and with
/// `\r\n` it takes the `\n` as the start of the next record: so it is one short there after
/// the first record, and never moves on `\r` alone, where the record's index is the line.
pub fn line_of(pos: Option<&csv::Position>, end: LineEnd) -> u64 {
    let Some(p) = pos else { return 0 };
    match end {
        LineEnd::Lf => p.line(),
        LineEnd::CrLf if p.record() > 0 => p.line() + 1,
        LineEnd::CrLf => p.line(),
        LineEnd::Cr => p.record() + 1,
    }
}

/// Passes bytes through, failing once a line runs past [`MAX_LINE`], and remembers the last
/// byte (to tell a file whose last line has no line end) and how the first line ends.
pub struct LineCap<R> {
    inner: R,
    run: usize,
    lines: u64,
    last: Option<u8>,
    end: Option<LineEnd>,
    /// The first line end seen so far is a `\r` ending the last chunk.
    last_was_cr: bool,
}

impl<R: Read> LineCap<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            run: 0,
            lines: 0,
            last: None,
            end: None,
            last_was_cr: false,
        }
    }

    /// How the file's lines end (`\n` until a line end is seen).
    pub fn line_end(&self) -> LineEnd {
        self.end.unwrap_or_default()
    }

    fn learn_end(&mut self, chunk: &[u8]) {
        if self.end.is_some() {
            return;
        }
        if self.last_was_cr {
            self.end = Some(if chunk[0] == b'\n' {
                LineEnd::CrLf
            } else {
                LineEnd::Cr
            });
            return;
        }
        if let Some(i) = memchr::memchr2(b'\n', b'\r', chunk) {
            if chunk[i] == b'\n' {
                self.end = Some(LineEnd::Lf);
            } else if let Some(next) = chunk.get(i + 1) {
                self.end = Some(if *next == b'\n' {
                    LineEnd::CrLf
                } else {
                    LineEnd::Cr
                });
            } else {
                self.last_was_cr = true;
            }
        }
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Ok(0);
        }
        let chunk = &buf[..n];
        self.learn_end(chunk);
        self.last = Some(chunk[n - 1]);
        // `\r` ends a line too (old Mac files), so such a file is not one overlong line.
        match memchr::memrchr2(b'\n', b'\r', chunk) {
            Some(p) => {
                self.lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
                self.run = n - p - 1;
            }
            None => self.run += n,
        }
        if self.run > MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "line {} is longer than {} MiB without a line end: not a CSV table of the release",
                    self.lines + 1,
                    MAX_LINE >> 20
                ),
            ));
        }
        Ok(n)
    }
}

/// The day a file's name gives (`day_05.csv` is day 5), if it gives one.
pub fn day_of_file_name(display: &str) -> Option<i64> {
    let name = display.rsplit(['/', '!']).next()?;
    let digits = name.strip_prefix("day_")?.strip_suffix(".csv")?;
    // Any number of digits (`day_00028.csv` is day 28): a day far beyond the trace is then
    // checked against the rows like any other.
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One rejected row or cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: column '{}': value '{}': {}",
            self.line, self.column, self.value, self.reason
        )
    }
}

/// Under `--strict` a rejected row is the error that stops the parse.
impl std::error::Error for Issue {}

/// Receives what a parse produces.
pub trait Sink {
    fn batch(&mut self, batch: RecordBatch) -> Result<()>;
    /// An error here (strict mode) stops the parse.
    fn issue(&mut self, issue: Issue) -> Result<()>;
    fn warning(&mut self, message: String);
}

/// Counts for one file; nothing read is left uncounted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileCounts {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    /// Wide per-minute tables only: values kept and values rejected.
    pub cells_accepted: u64,
    pub cells_rejected: u64,
}

/// Parses `reader` (the bytes of `file`) into batches of at most `batch_rows` rows.
pub fn parse_file(
    file: &InputFile,
    reader: &mut dyn Read,
    batch_rows: usize,
    sink: &mut dyn Sink,
    counts: &mut FileCounts,
) -> Result<()> {
    let capped = LineCap::new(reader);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(capped);
    let mut record = csv::ByteRecord::new();
    if !csv.read_byte_record(&mut record)? {
        bail!("empty file: no header line");
    }
    if let Some(enc) = utf16(record.as_slice()) {
        bail!(
            "the file is {enc}, not UTF-8 (the release's encoding); convert it to UTF-8 (for \
             example `iconv -f UTF-16 -t UTF-8`) and ingest again"
        );
    }
    let header: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                &h
            };
            h.trim().to_owned()
        })
        .collect();
    if let Some((a, b)) = duplicate_column(&header) {
        bail!(
            "column '{}' appears twice in the header (columns {} and {}); which one holds the \
             data is unknown, so the file is not read",
            clip(&header[a], ECHO),
            a + 1,
            b + 1
        );
    }
    let file_day = day_of_file_name(&file.display);
    let mut table: Box<dyn Table> = match file.family {
        Family::MinuteMetric => Box::new(WideTable::new(file, &header, file_day, sink)?),
        family => Box::new(EventTable::new(
            family,
            &file.region,
            &header,
            file_day,
            sink,
        )?),
    };
    let width = header.len();
    // Each record is handled once the next one is read, so that the last record of a file
    // that does not end in a line end is known as such.
    let mut next = csv::ByteRecord::new();
    let mut have = csv.read_byte_record(&mut record)?;
    while have {
        have = csv.read_byte_record(&mut next)?;
        let line = line_of(record.position(), csv.get_ref().line_end());
        let bytes = record.as_slice();
        if memchr::memchr2(b'\n', b'\r', bytes).is_some() {
            // A line break inside a field: the release never has one, so a quote is missing
            // its end and this record swallowed the lines after it. Each is a reject.
            // A line end at the very end (the quote ran to the end of the file) ends the
            // last line rather than starting another.
            let spanned = 1 + memchr::memchr_iter(b'\n', bytes).count() as u64
                - u64::from(bytes.ends_with(b"\n"));
            counts.rows_read += spanned;
            counts.rows_rejected += spanned;
            let (col, raw) = record
                .iter()
                .enumerate()
                .find(|(_, f)| memchr::memchr2(b'\n', b'\r', f).is_some())
                .map(|(i, f)| (header.get(i).cloned().unwrap_or_default(), f))
                .unwrap_or_default();
            sink.issue(Issue {
                line,
                column: col,
                value: clip_bytes(raw),
                reason: format!(
                    "a quoted value opened on line {line} runs over {spanned} lines (a quote \
                     without its end); these {spanned} lines are rejected"
                ),
            })?;
        } else if !have && csv.get_ref().last.is_some_and(|b| b != b'\n' && b != b'\r') {
            let reason = "the last line has no line end: the file is truncated (cut short \
                          while being written or copied)";
            let last = record.len().saturating_sub(1);
            reject_record(&record, line, &header, last, reason.into(), sink, counts)?;
        } else if record.len() != width {
            // A lone empty line is not data (pandas never writes one, editors sometimes do).
            if !(record.len() == 1 && record[0].is_empty()) {
                let reason = if record.len() < width {
                    format!(
                        "truncated row: {} of {width} fields (missing from here on)",
                        record.len()
                    )
                } else {
                    format!("row has {} fields, header has {width}", record.len())
                };
                reject_record(&record, line, &header, record.len(), reason, sink, counts)?;
            }
        } else {
            counts.rows_read += 1;
            table.push(&record, line, sink, counts)?;
            if table.len() >= batch_rows {
                sink.batch(table.finish()?)?;
            }
        }
        std::mem::swap(&mut record, &mut next);
    }
    if table.len() > 0 {
        sink.batch(table.finish()?)?;
    }
    Ok(())
}

trait Table {
    fn push(
        &mut self,
        rec: &csv::ByteRecord,
        line: u64,
        sink: &mut dyn Sink,
        counts: &mut FileCounts,
    ) -> Result<()>;
    fn len(&self) -> usize;
    fn finish(&mut self) -> Result<RecordBatch>;
}

#[derive(Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Str,
}

/// A row rejected: counted, and its issue handed to the sink.
fn reject(counts: &mut FileCounts, sink: &mut dyn Sink, issue: Issue) -> Result<()> {
    counts.rows_rejected += 1;
    sink.issue(issue)
}

fn bad(line: u64, column: &str, raw: &[u8], reason: impl Into<String>) -> Issue {
    Issue {
        line,
        column: clip(column, ECHO),
        value: clip_bytes(raw),
        reason: reason.into(),
    }
}

/// Numbers are parsed straight from bytes (no UTF-8 pass): this is the hot loop of ingest.
fn parse_float(raw: &[u8]) -> Option<f64> {
    let v: f64 = lexical_core::parse(raw.trim_ascii()).ok()?;
    v.is_finite().then_some(v)
}

fn parse_int(raw: &[u8]) -> Option<i64> {
    let raw = raw.trim_ascii();
    lexical_core::parse::<i64>(raw).ok().or_else(|| {
        // pandas writes integer columns holding NaN as floats: accept `12.0`, not `12.5`.
        let v: f64 = lexical_core::parse(raw).ok()?;
        (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
    })
}

/// Parses one value of a release column, or says why not.
fn parse_cell(c: &Column, raw: &[u8]) -> Result<Cell, Cow<'static, str>> {
    let empty = raw.is_empty() || raw.eq_ignore_ascii_case(b"nan");
    if empty {
        return if c.nullable {
            Ok(Cell::Null)
        } else {
            Err("empty value in a column that is never empty".into())
        };
    }
    let beyond = |v: f64| c.below.is_some_and(|b| v >= b);
    let range = || match (c.name, c.below) {
        ("day", Some(b)) => format!("outside the trace's days 0..{}", b as i64 - 1).into(),
        (_, Some(b)) => format!("{b} s or more: beyond the trace's {TRACE_DAYS} days").into(),
        _ => "out of range".into(),
    };
    match c.kind {
        Kind::Str => match std::str::from_utf8(raw) {
            Ok(_) => Ok(Cell::Str),
            Err(_) => Err("not valid UTF-8".into()),
        },
        Kind::Int => match parse_int(raw) {
            Some(v) if c.non_negative && v < 0 => Err("negative value".into()),
            Some(v) if beyond(v as f64) => Err(range()),
            Some(v) => Ok(Cell::Int(v)),
            None => Err("not an integer".into()),
        },
        Kind::Float => match parse_float(raw) {
            Some(v) if c.non_negative && v < 0.0 => Err("negative value".into()),
            Some(v) if beyond(v) => Err(range()),
            Some(v) => Ok(Cell::Float(v)),
            None => Err("not a finite number".into()),
        },
    }
}

/// Whether a day read from a row agrees with its timestamp and its file's name; why not if not.
fn day_mismatch(day: i64, time: f64, file_day: Option<i64>) -> Option<String> {
    let of_time = (time / SECONDS_PER_DAY).floor() as i64;
    if of_time != day {
        return Some(format!(
            "day {day} does not match time {time} (day {of_time})"
        ));
    }
    match file_day {
        Some(f) if f != day => Some(format!("day {day} in the file of day {f}")),
        _ => None,
    }
}

/// A string column holding `v` in each of `n` rows (region, metric, stat of a file).
fn constant_utf8(v: &str, n: usize) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(n, n * v.len());
    for _ in 0..n {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

enum Builder {
    Int(Int64Builder),
    Float(Float64Builder),
    Str(StringBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Str => Builder::Str(StringBuilder::new()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
        }
    }
}

/// Cold starts, requests and functions: one CSV row is one stored row.
struct EventTable {
    family: Family,
    region: String,
    cols: &'static [Column],
    /// Position in the CSV record of each release column.
    pos: Vec<usize>,
    cells: Vec<Cell>,
    builders: Vec<Builder>,
    /// Derived columns, in stored-schema order after the release columns.
    derived: Vec<Builder>,
    day: Int64Builder,
    rows: usize,
    func_id: String,
    /// Release column indices that derivations read.
    i_func_name: usize,
    i_user_id: usize,
    i_pod_or_func: usize,
    i_time: usize,
    i_triggers: usize,
    /// Cold starts: `day` and `time`, which must agree with each other and the file name.
    i_day: usize,
    i_day_time: usize,
    file_day: Option<i64>,
    /// runtime_triggerType: the line each funcID was listed on (one row per function).
    listed: HashMap<String, u64>,
}

fn index_of(cols: &[Column], name: &str) -> usize {
    cols.iter()
        .position(|c| c.name == name)
        .unwrap_or(usize::MAX)
}

impl EventTable {
    fn new(
        family: Family,
        region: &str,
        header: &[String],
        file_day: Option<i64>,
        sink: &mut dyn Sink,
    ) -> Result<Self> {
        let cols = family.release_columns();
        let mut pos = Vec::with_capacity(cols.len());
        let mut missing = Vec::new();
        for c in cols {
            match header.iter().position(|h| h == c.name) {
                Some(p) => pos.push(p),
                None => missing.push(c.name),
            }
        }
        if !missing.is_empty() {
            bail!(
                "missing column{} {} (header has: {})",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                clip(&header.join(", "), ECHO)
            );
        }
        for h in header {
            if !cols.iter().any(|c| c.name == h) {
                sink.warning(format!("unknown column '{h}' ignored"));
            }
        }
        let derived_kinds: &[Kind] = match family {
            Family::ColdStart | Family::Request => {
                &[Kind::Str, Kind::Str, Kind::Int, Kind::Int, Kind::Int]
            }
            Family::Function => &[
                Kind::Int,
                Kind::Int,
                Kind::Str,
                Kind::Int,
                Kind::Int,
                Kind::Str,
                Kind::Str,
                Kind::Int,
            ],
            Family::MinuteMetric => unreachable!("wide tables use WideTable"),
        };
        Ok(Self {
            family,
            region: region.to_owned(),
            cols,
            pos,
            cells: vec![Cell::Null; cols.len()],
            builders: cols.iter().map(|c| Builder::new(c.kind)).collect(),
            derived: derived_kinds.iter().map(|k| Builder::new(*k)).collect(),
            day: Int64Builder::new(),
            rows: 0,
            func_id: String::new(),
            i_func_name: index_of(cols, "funcName"),
            i_user_id: index_of(cols, "userID"),
            i_pod_or_func: if family == Family::Function {
                index_of(cols, "funcID")
            } else {
                index_of(cols, "podID")
            },
            i_time: index_of(cols, "time_worker"),
            i_triggers: index_of(cols, "triggerType-invocationType"),
            i_day: index_of(cols, "day"),
            i_day_time: index_of(cols, "time"),
            file_day,
            listed: HashMap::new(),
        })
    }

    fn str_at<'r>(&self, rec: &'r csv::ByteRecord, i: usize) -> &'r str {
        // Validated as UTF-8 in parse_cell.
        std::str::from_utf8(&rec[self.pos[i]]).unwrap_or("")
    }
}

fn int(cell: Cell) -> i64 {
    match cell {
        Cell::Int(v) => v,
        _ => 0,
    }
}

impl Table for EventTable {
    fn push(
        &mut self,
        rec: &csv::ByteRecord,
        line: u64,
        sink: &mut dyn Sink,
        counts: &mut FileCounts,
    ) -> Result<()> {
        for (i, c) in self.cols.iter().enumerate() {
            let raw = &rec[self.pos[i]];
            match parse_cell(c, raw) {
                Ok(cell) => self.cells[i] = cell,
                Err(why) => {
                    return reject(counts, sink, bad(line, c.name, raw, why));
                }
            }
        }
        if self.family == Family::ColdStart {
            let time = match self.cells[self.i_day_time] {
                Cell::Float(t) => t,
                _ => 0.0,
            };
            if let Some(why) = day_mismatch(int(self.cells[self.i_day]), time, self.file_day) {
                let raw = &rec[self.pos[self.i_day]];
                return reject(counts, sink, bad(line, "day", raw, why));
            }
        }
        // Derivations, before anything is appended, so a rejected row leaves no trace.
        let key = self.str_at(rec, self.i_pod_or_func);
        let (func_name, user_id, pool) = if self.family == Family::Function {
            if let Some(first) = self.listed.get(key) {
                let why = format!(
                    "funcID already listed on line {first}; the table has one row per function, \
                     so the first is kept"
                );
                return reject(counts, sink, bad(line, "funcID", key.as_bytes(), why));
            }
            match parse_func_id(key) {
                Ok(f) => (f.func_name, f.user_id, f.pool),
                Err(e) => {
                    return reject(counts, sink, bad(line, "funcID", key.as_bytes(), e.0));
                }
            }
        } else {
            match parse_pod_id(key) {
                Ok(p) => (
                    int(self.cells[self.i_func_name]),
                    int(self.cells[self.i_user_id]),
                    p,
                ),
                Err(e) => {
                    return reject(
                        counts,
                        sink,
                        bad(
                            line,
                            "podID",
                            key.as_bytes(),
                            format!("no resource pool in pod ID: {e}"),
                        ),
                    );
                }
            }
        };
        for (i, b) in self.builders.iter_mut().enumerate() {
            match (b, self.cells[i]) {
                (Builder::Int(b), Cell::Int(v)) => b.append_value(v),
                (Builder::Float(b), Cell::Float(v)) => b.append_value(v),
                (Builder::Str(b), Cell::Str) => {
                    b.append_value(std::str::from_utf8(&rec[self.pos[i]]).unwrap_or(""))
                }
                (Builder::Int(b), _) => b.append_null(),
                (Builder::Float(b), _) => b.append_null(),
                (Builder::Str(b), _) => b.append_null(),
            }
        }
        let d = &mut self.derived;
        let set_str = |b: &mut Builder, v: &str| {
            if let Builder::Str(b) = b {
                b.append_value(v)
            }
        };
        let set_int = |b: &mut Builder, v: Option<i64>| {
            if let Builder::Int(b) = b {
                b.append_option(v)
            }
        };
        match self.family {
            Family::ColdStart | Family::Request => {
                write_func_id(&mut self.func_id, func_name, user_id, pool.name);
                set_str(&mut d[0], &self.func_id);
                set_str(&mut d[1], pool.name);
                set_int(&mut d[2], Some(pool.cpu_limit.into()));
                set_int(&mut d[3], Some(pool.memory_limit.into()));
                set_int(
                    &mut d[4],
                    cpu_request_for_limit(pool.cpu_limit).map(i64::from),
                );
                if self.family == Family::Request {
                    let t = match self.cells[self.i_time] {
                        Cell::Float(t) => t,
                        _ => 0.0,
                    };
                    self.day.append_value((t / SECONDS_PER_DAY).floor() as i64);
                }
            }
            Family::Function => {
                let id = std::str::from_utf8(&rec[self.pos[self.i_pod_or_func]]).unwrap_or("");
                self.listed.insert(id.to_owned(), line);
                let triggers = std::str::from_utf8(&rec[self.pos[self.i_triggers]]).unwrap_or("");
                let mut it = split_triggers(triggers);
                let (t, i) = it.next().unwrap_or(("unknown", "unknown"));
                let n = 1 + it.count() as i64;
                set_int(&mut d[0], Some(func_name));
                set_int(&mut d[1], Some(user_id));
                set_str(&mut d[2], pool.name);
                set_int(&mut d[3], Some(pool.cpu_limit.into()));
                set_int(&mut d[4], Some(pool.memory_limit.into()));
                set_str(&mut d[5], t);
                set_str(&mut d[6], i);
                set_int(&mut d[7], Some(n));
            }
            Family::MinuteMetric => unreachable!(),
        }
        self.rows += 1;
        counts.rows_accepted += 1;
        Ok(())
    }

    fn len(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> Result<RecordBatch> {
        let n = self.rows;
        self.rows = 0;
        let mut arrays: Vec<ArrayRef> = vec![constant_utf8(&self.region, n)];
        if self.family == Family::Request {
            arrays.push(Arc::new(self.day.finish()));
        }
        arrays.extend(self.builders.iter_mut().map(Builder::finish));
        arrays.extend(self.derived.iter_mut().map(Builder::finish));
        Ok(RecordBatch::try_new(self.family.stored_schema(), arrays)?)
    }
}
