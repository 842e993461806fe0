//! The per-minute tables (`quantiles/R*/<table>/day_NN.csv`): one column per funcID, read
//! into long rows (funcID, day, time, minute, value).

use super::*;

/// Per-minute wide tables (`day`, `time`, one column per funcID) turned into long rows.
pub(super) struct WideTable {
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
    file_day: Option<i64>,
}

impl WideTable {
    pub(super) fn new(
        file: &InputFile,
        header: &[String],
        file_day: Option<i64>,
        sink: &mut dyn Sink,
    ) -> Result<Self> {
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
            bail!(
                "missing column {} (header has: {})",
                missing.join(", "),
                clip(&header.join(", "), ECHO)
            );
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
        if funcs.is_empty() {
            let like = Family::ALL.into_iter().find(|f| {
                let cols = f.release_columns();
                !cols.is_empty() && cols.iter().all(|c| header.iter().any(|h| h == c.name))
            });
            bail!(
                "no funcID columns: not a per-minute table{} (header has: {})",
                like.map_or(String::new(), |f| format!(
                    "; its columns are those of {}/",
                    f.release_dir()
                )),
                clip(&header.join(", "), ECHO)
            );
        }
        Ok(Self {
            file_day,
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
        let Some(day) = parse_int(day_raw).filter(|d| (0..TRACE_DAYS).contains(d)) else {
            let why = format!("not one of the trace's days 0..{}", TRACE_DAYS - 1);
            return reject(counts, sink, bad(line, "day", day_raw, why));
        };
        let time_raw = &rec[self.time_pos];
        let Some(time) = parse_float(time_raw).filter(|t| *t >= 0.0) else {
            return reject(
                counts,
                sink,
                bad(line, "time", time_raw, "not a non-negative number"),
            );
        };
        if let Some(why) = day_mismatch(day, time, self.file_day) {
            return reject(counts, sink, bad(line, "day", day_raw, why));
        }
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
