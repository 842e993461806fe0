//! The Azure Functions 2021 trace (`AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt`) as a
//! workload: one row per invocation, `app,func,end_timestamp,duration` in seconds from the
//! start of the trace (2021-01-31). An invocation arrives at `end_timestamp - duration` and
//! runs for `duration` (cold starts excluded). `func` is unique only within its `app`, so a
//! function is the pair.
//!
//! The trace has no memory column. As dslab-faas does, each app's memory is drawn once from
//! the Burr XII fit of Azure's app memory (c = 11.652, k = 0.221, scale 107.083 MB; median
//! 140 MB), seeded by the app, and every pod of its functions holds that much. Nor has it
//! triggers (every invocation is synchronous, `unknown`, never delayed) or concurrency (one
//! request per pod). Rows with a bad field are rejected, counted and named (file, line,
//! field); an invocation that started before the trace (duration above its end) arrives at 0
//! and is counted. Times and durations beyond [`MAX_SECONDS`] (the longest trace replayed,
//! 31 days; the file covers 14) are out of range: rejected and counted.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::csv_input::{field, line, number, CsvFile, Rejects};
use super::{Function, Invocation, Trace};
use crate::rng::unit;
use coldstart_trace::schema::TRACE_SECONDS;

/// Region name the engine's functions carry.
pub const REGION: &str = "azure2021";

/// The latest `end_timestamp` and the longest `duration` read, in seconds.
pub const MAX_SECONDS: f64 = TRACE_SECONDS;

/// The Burr XII fit of Azure app memory (MB) that dslab-faas draws from: c, k, scale.
pub const BURR: (f64, f64, f64) = (11.652, 0.221, 107.083);

/// The memory at quantile `u` of the Burr XII distribution `BURR`.
pub fn burr_quantile(u: f64) -> f64 {
    let (c, k, scale) = BURR;
    let u = u.clamp(0.0, 1.0 - 1e-12);
    scale * ((1.0 - u).powf(-1.0 / k) - 1.0).powf(1.0 / c)
}

/// Reads the trace file at `path` into a workload.
pub fn read(path: &Path, seed: u64) -> Result<Trace> {
    read_within(path, seed, super::memory::available_bytes())
}

/// [`read`], given the memory available in bytes (None: not checked).
pub fn read_within(path: &Path, seed: u64, available: Option<u64>) -> Result<Trace> {
    // Every row is held (32 bytes with its index entry) and rows take at least 16 bytes of
    // the file: refuse a file that could not fit before reading it.
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .len();
    if let Some(avail) = available {
        let need = size.saturating_mul(2);
        if need > avail {
            bail!(
                "{}: {size} bytes of rows may need up to {:.1} GiB to hold, and {:.1} GiB is \
                 available (set {} to override); replay a part of the file",
                path.display(),
                need as f64 / f64::from(1u32 << 30),
                avail as f64 / f64::from(1u32 << 30),
                super::memory::MEMORY_ENV
            );
        }
    }
    let mut f = CsvFile::open(path)?;
    let ends = f.end;
    let [a, fu, e, d] = f.columns(["app", "func", "end_timestamp", "duration"])?;
    let mut index: HashMap<(String, String), u32> = HashMap::new();
    let mut functions: Vec<Function> = Vec::new();
    let mut invocations = Vec::new();
    let mut rejects = Rejects::default();
    let mut before_start = 0u64;
    let mut rows = 0u64;
    for r in f.reader.records() {
        let r = r.with_context(|| format!("cannot read {}", path.display()))?;
        rows += 1;
        let in_range = |x: f64| {
            if x <= MAX_SECONDS {
                Ok(x)
            } else {
                Err(format!(
                    "{x:.3e} s is beyond the replay's {MAX_SECONDS} s (31 days)"
                ))
            }
        };
        let (end, dur) = match (
            number(&r, e).and_then(in_range),
            number(&r, d).and_then(in_range),
        ) {
            (Ok(end), Ok(dur)) => (end, dur),
            (Err(x), _) => {
                rejects.add(path, line(&r, ends), "end_timestamp", x);
                continue;
            }
            (_, Err(x)) => {
                rejects.add(path, line(&r, ends), "duration", x);
                continue;
            }
        };
        let (app, func) = match (field(&r, a), field(&r, fu)) {
            (Ok(app), Ok(func)) if !app.is_empty() && !func.is_empty() => (app, func),
            (Err(x), _) | (_, Err(x)) => {
                rejects.add(path, line(&r, ends), "app/func", x);
                continue;
            }
            _ => {
                rejects.add(path, line(&r, ends), "app/func", "empty");
                continue;
            }
        };
        let key = (app.to_string(), func.to_string());
        let fi = match index.get(&key) {
            Some(i) => *i,
            None => {
                let mut g = Function::new(format!("{app}/{func}"), "unknown");
                g.region = REGION.into();
                g.memory_mb = burr_quantile(unit(seed ^ fnv(app))).round().max(1.0) as u32;
                functions.push(g);
                let i = functions.len() as u32 - 1;
                index.insert(key, i);
                i
            }
        };
        if dur > end {
            before_start += 1;
        }
        invocations.push(Invocation {
            t: (end - dur).max(0.0),
            func: fi,
            exec: dur,
        });
    }
    if invocations.is_empty() {
        bail!(
            "{}: no invocation read ({rows} rows, {} rejected{})",
            path.display(),
            rejects.count,
            rejects
                .examples
                .first()
                .map(|x| format!(": {x}"))
                .unwrap_or_default()
        );
    }
    let mut notes = vec![format!(
        "Azure Functions 2021: {} invocations of {} functions (app, func); arrival = \
         end_timestamp - duration; no memory column: each app's memory is drawn from the \
         Burr XII fit (c 11.652, k 0.221, scale 107.083 MB) as dslab-faas does; no triggers \
         (all synchronous); one request per pod",
        invocations.len(),
        functions.len()
    )];
    if before_start > 0 {
        notes.push(format!(
            "{before_start} invocations started before the trace (duration above end_timestamp); \
             they arrive at 0"
        ));
    }
    notes.extend(rejects.note("rows"));
    let mut t = Trace::new(functions, invocations);
    t.notes = notes;
    Ok(t)
}

/// FNV-1a of a name: a stable key for an app whatever order it is met in.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burr_median_is_the_closed_form() {
        // Median: scale * (2^(1/k) - 1)^(1/c).
        let (c, k, s) = BURR;
        let median = s * (2f64.powf(1.0 / k) - 1.0).powf(1.0 / c);
        assert!((burr_quantile(0.5) - median).abs() < 1e-9);
        assert!(
            (burr_quantile(0.5) - 139.6).abs() < 0.5,
            "{}",
            burr_quantile(0.5)
        );
        assert!(burr_quantile(0.1) < burr_quantile(0.9));
    }
}
