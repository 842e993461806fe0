//! What the paper states about the platform and the trace (spec sections 2 and 4): the
//! calendar, the platform's keep-alive, the cold-start components, the small-pool bound and the
//! published numbers. One owner: the generator calibrates against these and the analyses print
//! them beside what they measure, so neither depends on the other for them.

use std::ops::RangeInclusive;

pub use crate::schema::SECONDS_PER_DAY;

/// The release's regions.
pub const REGIONS: [&str; 5] = ["R1", "R2", "R3", "R4", "R5"];

/// The platform's keep-alive: a pod idle this long after its last request ends is deleted.
pub const KEEP_ALIVE_S: f64 = 60.0;

/// The four components of a cold start, as the release names its columns.
pub const COMPONENTS: [&str; 4] = [
    "podAllocationCost",
    "deployCodeCost",
    "deployDependencyCost",
    "schedulingCost",
];

/// Cold start time and its four components.
pub const COLD_START_METRICS: [&str; 5] = [
    "totalCost_cold_start",
    COMPONENTS[0],
    COMPONENTS[1],
    COMPONENTS[2],
    COMPONENTS[3],
];

/// A small pool as the paper defines it: at most this many millicores and megabytes.
pub const SMALL_POOL_MAX_CPU: u32 = 400;
pub const SMALL_POOL_MAX_MEMORY_MB: u32 = 256;

/// Whether a (millicores, MB) configuration is a small pool.
pub fn is_small_pool(cpu: f64, memory_mb: f64) -> bool {
    cpu <= f64::from(SMALL_POOL_MAX_CPU) && memory_mb <= f64::from(SMALL_POOL_MAX_MEMORY_MB)
}

// --- The calendar ----------------------------------------------------------------------------
//
// The paper names day 13 as the last working day before a week-long holiday and day 23/24 as
// the first working day after it. Day 0 is taken as a Tuesday, so days 4-5, 11-12, 18-19 and
// 25-26 are weekends, and days 14..=22 are the holiday.

/// The week-long public holiday (days of the trace).
pub const HOLIDAY: RangeInclusive<u32> = 14..=22;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Weekday,
    Weekend,
    Holiday,
}

pub fn day_kind(day: u32) -> DayKind {
    if HOLIDAY.contains(&day) {
        DayKind::Holiday
    } else if matches!(day % 7, 4 | 5) {
        DayKind::Weekend
    } else {
        DayKind::Weekday
    }
}

// --- Published numbers (spec section 4) ------------------------------------------------------

/// A fitted law's mean and standard deviation in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

/// LogNormal fit to all cold start times.
pub const LOGNORMAL_COLD_START: MeanStd = MeanStd {
    mean: 3.24,
    std: 7.10,
};

/// Weibull fit to the times between cold starts.
pub const WEIBULL_INTER_ARRIVAL: MeanStd = MeanStd {
    mean: 1.25,
    std: 3.66,
};

/// Every region's median cold start lies in this range (seconds).
pub const MEDIAN_COLD_START_S: RangeInclusive<f64> = 0.1..=2.0;

/// R1's mean cold start is "about 3 s", the largest of the regions.
pub const R1_MEAN_COLD_START_S: f64 = 3.0;

/// R3's mean cold start is under this (seconds), the smallest of the regions.
pub const R3_MEAN_COLD_START_BELOW_S: f64 = 0.3;

/// R2's cold starts by runtime.
pub const RUNTIME_COLD_STARTS_R2: [(&str, u64); 10] = [
    ("Python3", 1_190_731),
    ("Node.js", 287_253),
    ("Custom", 186_452),
    ("Java", 165_695),
    ("Python2", 165_673),
    ("Go1.x", 30_045),
    ("PHP7.3", 25_591),
    ("http", 18_167),
    ("C#", 3_105),
    ("unknown", 111),
];

/// R2's published cold starts of a runtime with its share of all ("—" for a runtime the paper
/// does not list).
pub fn runtime_cold_starts_r2(runtime: &str) -> String {
    let total: u64 = RUNTIME_COLD_STARTS_R2.iter().map(|r| r.1).sum();
    RUNTIME_COLD_STARTS_R2
        .iter()
        .find(|r| r.0 == runtime)
        .map_or("—".into(), |r| {
            format!("{} ({:.1} %)", r.1, r.1 as f64 / total as f64 * 100.0)
        })
}

/// R2: share of functions that timers trigger ("about 60 %").
pub const R2_TIMER_FUNCTION_SHARE: f64 = 0.60;

/// R2: share of cold starts in small pools ("over 60 %").
pub const R2_SMALL_POOL_COLD_START_SHARE_ABOVE: f64 = 0.60;

/// R2: share of cold starts that timers cause ("about 30 %").
pub const R2_TIMER_COLD_START_SHARE: f64 = 0.30;

/// R2: share of running pods that serve timers ("about 5 %").
pub const R2_TIMER_POD_SHARE: f64 = 0.05;

/// R2: share of cold starts that workflows cause ("about 20 %").
pub const R2_WORKFLOW_COLD_START_SHARE: f64 = 0.20;

/// R2: median cold start of OBS-triggered asynchronous functions, about this (seconds).
pub const R2_OBS_A_MEDIAN_COLD_START_S: f64 = 10.0;

/// R2: median cold start of Custom and http runtimes, above this (seconds).
pub const R2_CUSTOM_HTTP_MEDIAN_COLD_START_ABOVE_S: f64 = 10.0;

/// The components that dominate a region's cold starts (R1, R2), and the rule for the others.
pub fn largest_components(region: &str) -> &'static str {
    match region {
        "R1" => "dependency deployment and scheduling",
        "R2" => "pod allocation",
        _ => "scheduling first or second",
    }
}

/// Median time between a region's cold starts: "about 0.1 s" in R1 up to "several seconds" in
/// R3.
pub fn median_inter_arrival(region: &str) -> &'static str {
    match region {
        "R1" => "about 0.1",
        "R3" => "several seconds",
        _ => "0.1 to several",
    }
}

/// Median cold start of large pools over small ones: from this in R5 to this in R3.
pub const LARGE_OVER_SMALL_POOL_MEDIAN: (f64, f64) = (1.0, 5.0);

/// Share of pods whose utility ratio is below 1 ("about 20 %"), and their median ("about 4").
pub const POD_UTILITY_BELOW_1_SHARE: f64 = 0.20;
pub const POD_UTILITY_MEDIAN: f64 = 4.0;
/// Node.js pods with utility below 1 ("about 40 %"); Go1.x pods above 100 ("about 35 %").
pub const NODEJS_POD_UTILITY_BELOW_1_SHARE: f64 = 0.40;
pub const GO_POD_UTILITY_ABOVE_100_SHARE: f64 = 0.35;

/// Share of users that own a single function.
pub const SINGLE_FUNCTION_USERS: RangeInclusive<f64> = 0.60..=0.90;

/// Functions' peak-to-trough ratios span from below the first to above the second.
pub const PEAK_TO_TROUGH_SPAN: (f64, f64) = (2.0, 1000.0);

/// The hour of day of each region's largest daily peak of requests per minute (Fig 5, read
/// off the figure at high zoom: the red lines over days 0 to 2), and how far a measured peak
/// may fall from it in hours. R4's cycle is weak and its daily peaks move (3 h, 3 h, 9 h), so
/// its tolerance is wider.
pub const FIG5_PEAK_HOUR: [(&str, f64, f64); 5] = [
    ("R1", 10.0, 2.0),
    ("R2", 21.0, 2.0),
    ("R3", 21.0, 2.0),
    ("R4", 4.0, 4.0),
    ("R5", 1.0, 2.0),
];

/// Minutes of the centred moving average over requests per minute before a daily peak is
/// taken, in the report's Fig 5 and in synth's peak-hour checks alike (the paper smooths
/// without saying how much).
pub const FIG5_SMOOTHING_MINUTES: usize = 15;

/// A region's Fig 5 peak hour and its tolerance.
pub fn fig5_peak_hour(region: &str) -> Option<(f64, f64)> {
    FIG5_PEAK_HOUR
        .iter()
        .find(|(r, _, _)| *r == region)
        .map(|(_, h, tol)| (*h, *tol))
}

/// Distance in hours between two hours of the day, around the clock (at most 12).
pub fn hours_apart(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(24.0);
    d.min(24.0 - d)
}

/// Requests over the trace's 31 days in all five regions (section 1, Fig 1).
pub const TOTAL_REQUESTS: f64 = 85e9;

/// Rows of R1's day-30 per-request table ("about 364 million").
pub const R1_LAST_DAY_REQUESTS: f64 = 364e6;

/// R2's functions by their set of triggers (section 3.3): timer-only 42 %, APIG-S only 23 %,
/// APIG-S with TIMER-A 13 % (sets written as `synth` names them, joined by `+`).
pub const TRIGGER_COMBINATION_SHARES: [(&str, f64); 3] = [
    ("TIMER-A", 0.42),
    ("APIG-S", 0.23),
    ("APIG-S+TIMER-A", 0.13),
];

/// Share of a region's functions with at least one request per minute on average (section
/// 3.1, Fig 3a): about 20 % in R1, about 1 % in R4.
pub const PER_MINUTE_FUNCTION_SHARE: [(&str, f64); 2] = [("R1", 0.20), ("R4", 0.01)];

/// Median execution time of a region's requests (section 3.1, Fig 3b), seconds: from 4 ms in R5
/// to 100 ms in R1.
pub const MEDIAN_EXEC_S: [(&str, f64); 2] = [("R1", 0.100), ("R5", 0.004)];

/// R2: OBS-A functions hold almost 30 % of running pods (Fig 8d, read off the figure).
pub const R2_OBS_A_POD_SHARE: f64 = 0.30;

/// Running pods on weekdays over weekends ("about 30 % more").
pub const WEEKDAY_OVER_WEEKEND_PODS: f64 = 1.3;

/// Regions whose load the holiday raises; it lowers the others'.
pub const HOLIDAY_BUSIER_REGIONS: [&str; 1] = ["R3"];

/// Fig 12's row for the number of cold starts, read off the figure (one decimal): Spearman's
/// rho of the cold starts per minute with their mean cold-start time, pod allocation time and
/// scheduling time, per region. "Cold start time tends to be positively correlated with the
/// number of cold starts ... scheduling time and pod allocation time ... especially in Regions
/// 1, 3, and 4" (section 4.2).
pub const FIG12_COLD_STARTS_RHO: [(&str, [f64; 3]); 5] = [
    ("R1", [0.7, 0.7, 0.5]),
    ("R2", [0.2, 0.1, 0.1]),
    ("R3", [0.3, 0.3, 0.5]),
    ("R4", [0.4, 0.5, 0.2]),
    ("R5", [-0.1, 0.1, -0.1]),
];

/// Day 23, the first working day after the holiday: "all regions show an increase in number
/// and duration of cold starts then. This effect is especially pronounced in Regions 1, 2, and
/// 4" (section 4.2).
pub const DAY23_RISE_REGIONS: [&str; 3] = ["R1", "R2", "R4"];

/// "lower in R1, R2, R4, R5; higher in R3".
pub fn holiday_effect() -> String {
    let (higher, lower): (Vec<&str>, Vec<&str>) = REGIONS
        .iter()
        .partition(|r| HOLIDAY_BUSIER_REGIONS.contains(r));
    format!(
        "lower in {}; higher in {}",
        lower.join(", "),
        higher.join(", ")
    )
}

/// "About 60 %" style text of a share.
pub fn about_pct(share: f64) -> String {
    format!("about {:.0} %", share * 100.0)
}

/// "Over 60 %" style text of a share.
pub fn over_pct(share: f64) -> String {
    format!("over {:.0} %", share * 100.0)
}

/// "60–90 %" style text of a range of shares.
pub fn pct_range(r: &RangeInclusive<f64>) -> String {
    format!("{:.0}–{:.0} %", r.start() * 100.0, r.end() * 100.0)
}

/// "0.1 to 2" style text of a range.
pub fn range_text(r: &RangeInclusive<f64>) -> String {
    format!("{} to {}", r.start(), r.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_matches_the_paper() {
        assert_eq!(
            day_kind(13),
            DayKind::Weekday,
            "day 13 is the last working day"
        );
        assert_eq!(day_kind(14), DayKind::Holiday);
        assert_eq!(day_kind(22), DayKind::Holiday);
        assert_eq!(
            day_kind(23),
            DayKind::Weekday,
            "day 23 is the first working day after"
        );
        assert_eq!(day_kind(4), DayKind::Weekend);
        assert_eq!(day_kind(12), DayKind::Weekend);
        let weekend = (0..31).filter(|d| day_kind(*d) == DayKind::Weekend).count();
        assert_eq!(weekend, 6);
    }

    #[test]
    fn published_texts() {
        assert_eq!(range_text(&MEDIAN_COLD_START_S), "0.1 to 2");
        assert_eq!(pct_range(&SINGLE_FUNCTION_USERS), "60–90 %");
        assert_eq!(holiday_effect(), "lower in R1, R2, R4, R5; higher in R3");
        assert_eq!(about_pct(R2_TIMER_POD_SHARE), "about 5 %");
        assert_eq!(about_pct(R2_TIMER_FUNCTION_SHARE), "about 60 %");
        assert_eq!(over_pct(R2_SMALL_POOL_COLD_START_SHARE_ABOVE), "over 60 %");
        let total: u64 = RUNTIME_COLD_STARTS_R2.iter().map(|r| r.1).sum();
        assert_eq!(total, 2_072_823);
        assert_eq!(runtime_cold_starts_r2("Python3"), "1190731 (57.4 %)");
        assert_eq!(runtime_cold_starts_r2("Rust"), "—");
        assert!(is_small_pool(300.0, 128.0) && is_small_pool(400.0, 256.0));
        assert!(!is_small_pool(600.0, 256.0) && !is_small_pool(300.0, 512.0));
        assert!(!is_small_pool(401.0, 128.0));
    }
}
