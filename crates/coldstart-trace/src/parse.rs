//! Streams one release CSV into Arrow batches of the stored schema, validating every value.
//!
//! A bad value rejects its row (or, in the wide per-minute tables, its cell) and is reported
//! as an [`Issue`] naming line, column and value; problems that make the whole file
//! unreadable (a missing column, no header, a broken zip stream) are returned as errors.

use std::io::Read;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use arrow::array::{ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder};

use crate::pool::{cpu_request_for_limit, parse_func_id, parse_pod_id, write_func_id};
use crate::schema::{split_minute_table, split_triggers, Column, Family, Kind};
use crate::source::InputFile;

/// One rejected row or cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

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
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    if !csv.read_byte_record(&mut record)? {
        bail!("empty file: no header line");
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
    let mut table: Box<dyn Table> = match file.family {
        Family::MinuteMetric => Box::new(WideTable::new(file, &header, sink)?),
        family => Box::new(EventTable::new(family, &file.region, &header, sink)?),
    };
    let width = header.len();
    while csv.read_byte_record(&mut record)? {
        let line = record.position().map_or(0, |p| p.line());
        counts.rows_read += 1;
        if record.len() != width {
            // A lone empty line is not data (pandas never writes one, editors sometimes do).
            if record.len() == 1 && record[0].is_empty() {
                counts.rows_read -= 1;
                continue;
            }
            counts.rows_rejected += 1;
            let reason = if record.len() < width {
                format!(
                    "truncated row: {} of {width} fields (missing from here on)",
                    record.len()
                )
            } else {
                format!("row has {} fields, header has {width}", record.len())
            };
            let column = header
                .get(record.len().min(width.saturating_sub(1)))
                .cloned()
                .unwrap_or_default();
            let value =
                String::from_utf8_lossy(record.iter().next_back().unwrap_or(b"")).into_owned();
            sink.issue(Issue {
                line,
                column,
                value,
                reason,
            })?;
            continue;
        }
        table.push(&record, line, sink, counts)?;
        if table.len() >= batch_rows {
            sink.batch(table.finish()?)?;
        }
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

fn bad(line: u64, column: &str, raw: &[u8], reason: impl Into<String>) -> Issue {
    Issue {
        line,
        column: column.to_owned(),
        value: String::from_utf8_lossy(raw).into_owned(),
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
fn parse_cell(c: &Column, raw: &[u8]) -> Result<Cell, &'static str> {
    let empty = raw.is_empty() || raw.eq_ignore_ascii_case(b"nan");
    if empty {
        return if c.nullable {
            Ok(Cell::Null)
        } else {
            Err("empty value in a column that is never empty")
        };
    }
    match c.kind {
        Kind::Str => match std::str::from_utf8(raw) {
            Ok(_) => Ok(Cell::Str),
            Err(_) => Err("not valid UTF-8"),
        },
        Kind::Int => match parse_int(raw) {
            Some(v) if c.non_negative && v < 0 => Err("negative value"),
            Some(v) => Ok(Cell::Int(v)),
            None => Err("not an integer"),
        },
        Kind::Float => match parse_float(raw) {
            Some(v) if c.non_negative && v < 0.0 => Err("negative value"),
            Some(v) => Ok(Cell::Float(v)),
            None => Err("not a finite number"),
        },
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
}

fn index_of(cols: &[Column], name: &str) -> usize {
    cols.iter()
        .position(|c| c.name == name)
        .unwrap_or(usize::MAX)
}

impl EventTable {
    fn new(family: Family, region: &str, header: &[String], sink: &mut dyn Sink) -> Result<Self> {
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
                header.join(", ")
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
                    counts.rows_rejected += 1;
                    return sink.issue(bad(line, c.name, raw, why));
                }
            }
        }
        // Derivations, before anything is appended, so a rejected row leaves no trace.
        let key = self.str_at(rec, self.i_pod_or_func);
        let (func_name, user_id, pool) = if self.family == Family::Function {
            match parse_func_id(key) {
                Ok(f) => (f.func_name, f.user_id, f.pool),
                Err(e) => {
                    counts.rows_rejected += 1;
                    return sink.issue(bad(line, "funcID", key.as_bytes(), e.0));
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
                    counts.rows_rejected += 1;
                    return sink.issue(bad(
                        line,
                        "podID",
                        key.as_bytes(),
                        format!("no resource pool in pod ID: {e}"),
                    ));
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
                    self.day.append_value((t / 86_400.0).floor() as i64);
                }
            }
            Family::Function => {
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

/// Per-minute wide tables (`day`, `time`, one column per funcID) turned into long rows.
struct WideTable {
    region: String,
    metric: String,
    stat: String,
    day_pos: usize,
    time_pos: usize,
    funcs: Vec<(usize, String)>,
    rows: usize,
    func: StringBuilder,
    day: Int64Builder,
    time: Float64Builder,
    minute: Int64Builder,
    value: Float64Builder,
}

impl WideTable {
    fn new(file: &InputFile, header: &[String], sink: &mut dyn Sink) -> Result<Self> {
        let table = file
            .table
            .as_deref()
            .ok_or_else(|| anyhow!("no table name"))?;
        let (metric, stat) =
            split_minute_table(table).ok_or_else(|| anyhow!("unknown per-minute table {table}"))?;
        let find = |name: &str| header.iter().position(|h| h == name);
        let (Some(day_pos), Some(time_pos)) = (find("day"), find("time")) else {
            let missing: Vec<_> = ["day", "time"]
                .into_iter()
                .filter(|n| find(n).is_none())
                .collect();
            bail!("missing column {}", missing.join(", "));
        };
        let mut funcs = Vec::new();
        for (i, h) in header.iter().enumerate() {
            if i == day_pos || i == time_pos {
                continue;
            }
            match parse_func_id(h) {
                Ok(_) => funcs.push((i, h.clone())),
                Err(e) => sink.warning(format!("unknown column '{h}' ignored (not a funcID: {e})")),
            }
        }
        Ok(Self {
            region: file.region.clone(),
            metric: metric.to_owned(),
            stat: stat.to_owned(),
            day_pos,
            time_pos,
            funcs,
            rows: 0,
            func: StringBuilder::new(),
            day: Int64Builder::new(),
            time: Float64Builder::new(),
            minute: Int64Builder::new(),
            value: Float64Builder::new(),
        })
    }
}

impl Table for WideTable {
    fn push(
        &mut self,
        rec: &csv::ByteRecord,
        line: u64,
        sink: &mut dyn Sink,
        counts: &mut FileCounts,
    ) -> Result<()> {
        let day_raw = &rec[self.day_pos];
        let Some(day) = parse_int(day_raw).filter(|d| *d >= 0) else {
            counts.rows_rejected += 1;
            return sink.issue(bad(line, "day", day_raw, "not a non-negative integer"));
        };
        let time_raw = &rec[self.time_pos];
        let Some(time) = parse_float(time_raw).filter(|t| *t >= 0.0) else {
            counts.rows_rejected += 1;
            return sink.issue(bad(line, "time", time_raw, "not a non-negative number"));
        };
        counts.rows_accepted += 1;
        let minute = (time / 60.0).floor() as i64;
        for (i, func) in &self.funcs {
            let raw = &rec[*i];
            if raw.is_empty() || raw.eq_ignore_ascii_case(b"nan") {
                continue;
            }
            match parse_float(raw) {
                Some(v) if v >= 0.0 => {
                    self.func.append_value(func);
                    self.day.append_value(day);
                    self.time.append_value(time);
                    self.minute.append_value(minute);
                    self.value.append_value(v);
                    self.rows += 1;
                    counts.cells_accepted += 1;
                }
                v => {
                    counts.cells_rejected += 1;
                    let why = if v.is_some() {
                        "negative value"
                    } else {
                        "not a finite number"
                    };
                    sink.issue(bad(line, func, raw, why))?;
                }
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> Result<RecordBatch> {
        let n = self.rows;
        self.rows = 0;
        let constant = |v: &str| constant_utf8(v, n);
        let arrays: Vec<ArrayRef> = vec![
            constant(&self.region),
            Arc::new(self.func.finish()),
            Arc::new(self.day.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.minute.finish()),
            constant(&self.metric),
            constant(&self.stat),
            Arc::new(self.value.finish()),
        ];
        Ok(RecordBatch::try_new(
            Family::MinuteMetric.stored_schema(),
            arrays,
        )?)
    }
}
