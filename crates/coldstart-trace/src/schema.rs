//! The four table families of the release, their CSV columns as published, and the Arrow
//! schemas they are stored under. Column names keep the release's spelling so that queries
//! written against the publishers' notebook port unchanged.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// A table family of the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Family {
    /// `cold_start/R*/`: one row per cold start.
    ColdStart,
    /// `per_request/R*/`: one row per request (the last day only).
    Request,
    /// `runtime_triggerType/`: one row per function (R2 only in the release).
    Function,
    /// `quantiles/R*/<table>/`: per-minute wide tables.
    MinuteMetric,
}

impl Family {
    pub const ALL: [Family; 4] = [
        Family::ColdStart,
        Family::Request,
        Family::Function,
        Family::MinuteMetric,
    ];

    /// Folder name in the release.
    pub fn release_dir(self) -> &'static str {
        match self {
            Family::ColdStart => "cold_start",
            Family::Request => "per_request",
            Family::Function => "runtime_triggerType",
            Family::MinuteMetric => "quantiles",
        }
    }

    /// A day's file name in the release (`day_NN.csv`; [`crate::parse::day_of_file_name`] reads
    /// it back).
    pub fn day_file(day: u32) -> String {
        format!("day_{day:02}.csv")
    }

    /// Table name in the store and in SQL.
    pub fn table_name(self) -> &'static str {
        match self {
            Family::ColdStart => "cold_starts",
            Family::Request => "requests",
            Family::Function => "functions",
            Family::MinuteMetric => "minute_metrics",
        }
    }

    pub fn from_release_dir(dir: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.release_dir() == dir)
    }

    /// Columns of the release CSV (empty for the wide per-minute tables, whose columns are
    /// `day`, `time` and one per funcID).
    pub fn release_columns(self) -> &'static [Column] {
        match self {
            Family::ColdStart => COLD_START_COLUMNS,
            Family::Request => REQUEST_COLUMNS,
            Family::Function => FUNCTION_COLUMNS,
            Family::MinuteMetric => &[],
        }
    }

    /// The header line of the release CSV, with its line end (empty for the wide tables).
    pub fn csv_header(self) -> String {
        let names: Vec<&str> = self.release_columns().iter().map(|c| c.name).collect();
        format!("{}\n", names.join(","))
    }

    /// Arrow schema of the stored table.
    pub fn stored_schema(self) -> SchemaRef {
        let mut fields = vec![Field::new("region", DataType::Utf8, false)];
        match self {
            Family::MinuteMetric => {
                fields.extend([
                    Field::new("funcID", DataType::Utf8, false),
                    Field::new("day", DataType::Int64, false),
                    Field::new("time", DataType::Float64, false),
                    Field::new("minute", DataType::Int64, false),
                    Field::new("metric", DataType::Utf8, false),
                    Field::new("stat", DataType::Utf8, false),
                    Field::new("value", DataType::Float64, false),
                ]);
            }
            _ => {
                if self == Family::Request {
                    fields.push(Field::new("day", DataType::Int64, false));
                }
                fields.extend(self.release_columns().iter().map(Column::field));
                fields.extend(derived_fields(self));
            }
        }
        Arc::new(Schema::new(fields))
    }
}

/// Value kind of a release column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Str,
}

/// Days in the trace: day 0 to day 30.
pub const TRACE_DAYS: i64 = 31;

/// The runtime table's file name in the release (under [`Family::Function`]'s folder).
pub const FUNCTIONS_FILE: &str = "df_funcID_runtime_triggerType.csv";
/// Seconds in a day of the trace.
pub const SECONDS_PER_DAY: f64 = 86_400.0;
/// Seconds in the trace: every timestamp and duration is below this.
pub const TRACE_SECONDS: f64 = TRACE_DAYS as f64 * SECONDS_PER_DAY;

/// One column of a release CSV and the rules a value must meet.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// Empty cells are legitimate (frontend columns of requests) and stored as null.
    pub nullable: bool,
    /// Negative values are rejected (times, costs, usage).
    pub non_negative: bool,
    /// Values at or above this are rejected (days, timestamps and durations of the trace).
    pub below: Option<f64>,
}

impl Column {
    pub fn field(&self) -> Field {
        let dt = match self.kind {
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Str => DataType::Utf8,
        };
        Field::new(self.name, dt, self.nullable)
    }
}

const fn col(name: &'static str, kind: Kind, nullable: bool, non_negative: bool) -> Column {
    Column {
        name,
        kind,
        nullable,
        non_negative,
        below: None,
    }
}

/// A time or duration of the trace: non-negative and below [`TRACE_SECONDS`].
const fn secs(name: &'static str, nullable: bool) -> Column {
    Column {
        below: Some(TRACE_SECONDS),
        ..col(name, Float, nullable, true)
    }
}

use Kind::{Float, Int, Str};

pub const COLD_START_COLUMNS: &[Column] = &[
    Column {
        below: Some(TRACE_DAYS as f64),
        ..col("day", Int, false, true)
    },
    secs("time", false),
    col("clusterName", Int, false, true),
    col("funcName", Int, false, false),
    col("userID", Int, false, false),
    col("requestID", Str, false, false),
    secs("totalCost_cold_start", false),
    secs("podAllocationCost", false),
    secs("deployCodeCost", false),
    secs("deployDependencyCost", false),
    secs("schedulingCost", false),
    col("podID", Str, false, false),
];

pub const REQUEST_COLUMNS: &[Column] = &[
    secs("time_worker", false),
    secs("time_frontend", true),
    col("requestID", Str, false, false),
    col("clusterName", Int, false, true),
    col("funcName", Int, false, false),
    col("podID", Str, false, false),
    col("userID", Int, false, false),
    secs("totalCost_worker", false),
    secs("workerCost", false),
    secs("runtimeCost", false),
    secs("totalCost_frontend", true),
    secs("frontendCost", true),
    secs("busCost", true),
    secs("readBodyCost", true),
    secs("writeRspCost", true),
    col("cpu_usage", Float, false, true),
    col("memory_usage", Float, false, true),
    col("requestBodySize", Float, true, true),
];

pub const FUNCTION_COLUMNS: &[Column] = &[
    col("funcID", Str, false, false),
    col("cpu_request", Int, false, true),
    col("runtime", Str, false, false),
    col("triggerType-invocationType", Str, false, false),
];

fn derived_fields(family: Family) -> Vec<Field> {
    let pool = [
        Field::new("poolName", DataType::Utf8, false),
        Field::new("cpu_limit", DataType::Int64, false),
        Field::new("memory_limit", DataType::Int64, false),
    ];
    match family {
        Family::ColdStart | Family::Request => {
            let mut v = vec![Field::new("funcID", DataType::Utf8, false)];
            v.extend(pool);
            v.push(Field::new("cpu_request", DataType::Int64, true));
            v
        }
        Family::Function => {
            let mut v = vec![
                Field::new("funcName", DataType::Int64, false),
                Field::new("userID", DataType::Int64, false),
            ];
            v.extend(pool);
            v.extend([
                Field::new("trigger_type", DataType::Utf8, false),
                Field::new("invocation_type", DataType::Utf8, false),
                Field::new("trigger_count", DataType::Int64, false),
            ]);
            v
        }
        Family::MinuteMetric => Vec::new(),
    }
}

/// Statistic suffixes of the per-minute tables (`{metric}_{stat}`).
pub const MINUTE_STATS: &[&str] = &[
    "avg",
    "std",
    "quantile_000",
    "quantile_025",
    "quantile_050",
    "quantile_075",
    "quantile_090",
    "quantile_095",
    "quantile_099",
    "quantile_100",
];

/// Per-minute count tables; their stat is stored as `count`.
pub const MINUTE_COUNT_TABLES: &[&str] = &["requests", "num_pods", "num_cold_starts"];

/// Splits a per-minute table name into (metric, stat): `totalCost_cold_start_quantile_050`
/// gives (`totalCost_cold_start`, `quantile_050`), `num_pods` gives (`num_pods`, `count`).
pub fn split_minute_table(name: &str) -> Option<(&str, &str)> {
    if MINUTE_COUNT_TABLES.contains(&name) {
        return Some((name, "count"));
    }
    MINUTE_STATS.iter().find_map(|stat| {
        let metric = name.strip_suffix(stat)?.strip_suffix('_')?;
        (!metric.is_empty()).then_some((metric, *stat))
    })
}

/// Splits the `triggerType-invocationType` field into its entries. The release lists several
/// trigger types for some functions; entries are separated by commas, semicolons, `|` or
/// spaces, and may be wrapped in list brackets and quotes (as pandas writes Python lists).
pub fn split_triggers(field: &str) -> impl Iterator<Item = (&str, &str)> {
    field
        .split([',', ';', '|', ' '])
        .map(|s| s.trim_matches(|c: char| c == '[' || c == ']' || c == '\'' || c == '"'))
        .filter(|s| !s.is_empty())
        .map(|entry| match entry.rsplit_once('-') {
            Some((t, i)) => (t, i),
            None => (entry, "unknown"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_table_names() {
        assert_eq!(split_minute_table("requests"), Some(("requests", "count")));
        assert_eq!(
            split_minute_table("totalCost_cold_start_quantile_050"),
            Some(("totalCost_cold_start", "quantile_050"))
        );
        assert_eq!(
            split_minute_table("cpu_usage_avg"),
            Some(("cpu_usage", "avg"))
        );
        assert_eq!(
            split_minute_table("totalCost_std"),
            Some(("totalCost", "std"))
        );
        assert_eq!(split_minute_table("quantile_050"), None);
        assert_eq!(split_minute_table("whatever"), None);
    }

    #[test]
    fn trigger_lists() {
        let v: Vec<_> = split_triggers("APIG-S").collect();
        assert_eq!(v, [("APIG", "S")]);
        let v: Vec<_> = split_triggers("['TIMER-A', 'APIG-S']").collect();
        assert_eq!(v, [("TIMER", "A"), ("APIG", "S")]);
        let v: Vec<_> = split_triggers("unknown-unknown").collect();
        assert_eq!(v, [("unknown", "unknown")]);
    }

    #[test]
    fn csv_headers_are_the_release_columns_in_order() {
        assert_eq!(
            Family::Function.csv_header(),
            "funcID,cpu_request,runtime,triggerType-invocationType\n"
        );
        assert!(Family::ColdStart
            .csv_header()
            .starts_with("day,time,clusterName,funcName,userID,requestID,totalCost_cold_start,"));
        assert!(Family::ColdStart
            .csv_header()
            .ends_with(",schedulingCost,podID\n"));
    }

    #[test]
    fn stored_schemas_extend_the_release() {
        let s = Family::ColdStart.stored_schema();
        assert_eq!(s.field(0).name(), "region");
        assert!(s.field_with_name("totalCost_cold_start").is_ok());
        assert!(s.field_with_name("cpu_request").unwrap().is_nullable());
        let r = Family::Request.stored_schema();
        assert!(r.field_with_name("time_frontend").unwrap().is_nullable());
        assert!(!r.field_with_name("totalCost_worker").unwrap().is_nullable());
        let m = Family::MinuteMetric.stored_schema();
        let names: Vec<_> = m.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            ["region", "funcID", "day", "time", "minute", "metric", "stat", "value"]
        );
    }
}
