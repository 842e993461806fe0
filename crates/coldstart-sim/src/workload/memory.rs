//! Whether a replay fits in memory, asked before the invocations are drawn or read: the
//! busiest day's invocations ([`Workload::size_hint`]) times what the engine holds for each,
//! against the memory this process may use (`MemAvailable`, and the cgroup's limit where
//! lower). A replay that would not fit is refused with the figures and what to shrink.

use anyhow::{bail, Result};

use super::Workload;

/// Bytes held per invocation of the day being replayed: the day's invocations (24 B), the
/// merged copy the engine walks, per-group runs, and the engine's per-request state.
pub const BYTES_PER_INVOCATION: u64 = 128;

/// The environment variable that sets the memory a replay may use, in bytes (for machines
/// whose limits the kernel's figures do not show).
pub const MEMORY_ENV: &str = "COLDSTART_MEMORY_BYTES";

/// Memory this process may still use: `COLDSTART_MEMORY_BYTES` if set, else the lower of the
/// kernel's `MemAvailable` and the cgroup's `memory.max` less its current use (Linux); None
/// where neither is known.
pub fn available_bytes() -> Option<u64> {
    if let Some(v) = std::env::var(MEMORY_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return Some(v);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    let cgroup = match (
        read("/sys/fs/cgroup/memory.max"),
        read("/sys/fs/cgroup/memory.current"),
    ) {
        (Some(max), Some(cur)) => Some(max.saturating_sub(cur)),
        _ => None,
    };
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Refuses a replay whose busiest day would not fit in `available` bytes (None: unknown, not
/// checked). The error names the day, the figures, and the flags that make it smaller.
pub fn check(w: &dyn Workload, available: Option<u64>) -> Result<()> {
    let Some(available) = available else {
        return Ok(());
    };
    let busiest = w
        .days()
        .filter_map(|d| w.size_hint(d).map(|n| (n, d)))
        .max();
    let Some((n, day)) = busiest else {
        return Ok(());
    };
    let need = n.saturating_mul(BYTES_PER_INVOCATION);
    if need > available {
        let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
        bail!(
            "this workload does not fit in memory: its busiest day ({day}) holds about {n} \
             invocations, about {:.1} GiB to replay, and {:.1} GiB is available (set \
             {MEMORY_ENV} to override). Replay fewer or other days (--days), another region \
             (--region), fewer of the Huawei 2023 trace's functions (--huawei2023-functions), \
             or a smaller synthetic model (--scale, --functions)",
            gib(need),
            gib(available)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Function, Invocation, Trace};

    #[test]
    fn the_busiest_day_against_the_memory_available() {
        let inv = |t: f64| Invocation {
            t,
            func: 0,
            exec: 1.0,
        };
        let t = Trace::new(
            vec![Function::new("f", "http-S")],
            vec![
                inv(1.0),
                inv(2.0),
                inv(86_401.0),
                inv(86_402.0),
                inv(86_403.0),
            ],
        );
        check(&t, None).unwrap();
        check(&t, Some(3 * BYTES_PER_INVOCATION)).unwrap();
        let e = check(&t, Some(3 * BYTES_PER_INVOCATION - 1))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("busiest day (1) holds about 3 invocations") && e.contains("--days"),
            "{e}"
        );
    }
}
