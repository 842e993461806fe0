//! What the paper states about the platform and the trace (spec sections 2 and 4): the
//! calendar, the platform's keep-alive, the cold-start components, the small-pool bound and the
//! published numbers. One owner: the generator calibrates against these and the analyses print
//! them beside what they measure, so neither depends on the other for them.

pub use crate::target::{Target, Units};

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
pub const HOLIDAY: std::ops::RangeInclusive<u32> = 14..=22;

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

// --- Published numbers (spec sections 4 and 7) --------------------------------------------
//
// Each number is written as a [`Target`]: the published value and the tolerance a measured one
// is held to. The tolerance of an "about" is stated with it; a number read off a figure gets a
// wider one. `coldstart synth`'s checks and the report's verdict column both judge with these.

/// A fitted law's mean and standard deviation in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    /// The mean and the standard deviation as targets, each within [`FIT_TOLERANCE`].
    pub fn targets(&self) -> [Target; 2] {
        [self.mean, self.std].map(|value| Target::Rel {
            value,
            rel: FIT_TOLERANCE,
        })
    }
}

/// How far a fitted law's mean or standard deviation may fall from the published one (± 15 %).
pub const FIT_TOLERANCE: f64 = 0.15;

/// LogNormal fit to all cold start times.
pub const LOGNORMAL_COLD_START: MeanStd = MeanStd {
    mean: 3.24,
    std: 7.10,
};

/// Weibull fit to the times between cold starts (at the trace's size: they scale as 1/size).
pub const WEIBULL_INTER_ARRIVAL: MeanStd = MeanStd {
    mean: 1.25,
    std: 3.66,
};

/// Every region's median cold start lies in this range (seconds).
pub const MEDIAN_COLD_START_S: Target = Target::between(0.1, 2.0);

/// R1's mean cold start is "about 3 s", the largest of the regions.
pub const R1_MEAN_COLD_START_S: Target = Target::about(3.0, 2.0, 4.5);

/// R3's mean cold start is under this (seconds), the smallest of the regions.
pub const R3_MEAN_COLD_START_S: Target = Target::Under(0.3);

/// A region's mean cold start (seconds): "from about 3 s (R1) to under 0.3 s (R3)", so the
/// others lie between R3's bound and the top of R1's "about 3".
pub fn mean_cold_start(region: &str) -> Target {
    match region {
        "R1" => R1_MEAN_COLD_START_S,
        "R3" => R3_MEAN_COLD_START_S,
        _ => Target::between(0.3, 4.5),
    }
}

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

/// R2's share of cold starts of a runtime, ± 0.03 (None for a runtime the paper does not list).
pub fn runtime_share_r2(runtime: &str) -> Option<Target> {
    let total: u64 = RUNTIME_COLD_STARTS_R2.iter().map(|r| r.1).sum();
    RUNTIME_COLD_STARTS_R2
        .iter()
        .find(|r| r.0 == runtime)
        .map(|r| Target::near(r.1 as f64 / total as f64, 0.03))
}

/// R2: share of functions that timers trigger ("about 60 %").
pub const R2_TIMER_FUNCTION_SHARE: Target = Target::near(0.60, 0.05);

/// R2: share of cold starts in small pools ("over 60 %").
pub const R2_SMALL_POOL_COLD_START_SHARE: Target = Target::Over(0.60);

/// R2: share of cold starts that timers cause ("about 30 %").
pub const R2_TIMER_COLD_START_SHARE: Target = Target::near(0.30, 0.08);

/// R2: share of running pods that serve timers ("about 5 %").
pub const R2_TIMER_POD_SHARE: Target = Target::near(0.05, 0.04);

/// R2: share of cold starts that workflows cause ("about 20 %").
pub const R2_WORKFLOW_COLD_START_SHARE: Target = Target::near(0.20, 0.07);

/// R2: median cold start of OBS-triggered asynchronous functions, "about 10 s".
pub const R2_OBS_A_MEDIAN_COLD_START_S: Target = Target::about(10.0, 6.0, 15.0);

/// R2: median cold start of Custom and http runtimes, "above 10 s".
pub const R2_CUSTOM_HTTP_MEDIAN_COLD_START_S: Target = Target::Over(10.0);

/// The components that dominate a region's cold starts (R1, R2), and the rule for the others.
pub fn largest_components(region: &str) -> &'static str {
    match region {
        "R1" => "dependency deployment and scheduling",
        "R2" => "pod allocation first, scheduling second",
        _ => "scheduling first or second",
    }
}

/// Median time between a region's cold starts at the trace's size (seconds): "about 0.1 s" in
/// R1 up to "several seconds" (read as 2 to 10) in R3, the others between.
pub fn median_inter_arrival(region: &str) -> Target {
    match region {
        "R1" => Target::about(0.1, 0.05, 0.2),
        "R3" => Target::between(2.0, 10.0),
        _ => Target::between(0.05, 10.0),
    }
}

/// Median cold start of large pools over small ones: "1x (R5) to 5x (R3)", each "about" within
/// a factor of 4/3, the other regions between the two.
pub fn large_over_small_pool_median(region: &str) -> Target {
    match region {
        "R5" => Target::about(1.0, 0.75, 1.33),
        "R3" => Target::about(5.0, 3.75, 6.67),
        _ => Target::between(0.75, 6.67),
    }
}

/// R2: share of pods whose utility ratio is below 1 ("about 20 %"), and their median ("about
/// 4").
pub const POD_UTILITY_BELOW_1_SHARE: Target = Target::near(0.20, 0.10);
pub const POD_UTILITY_MEDIAN: Target = Target::about(4.0, 2.0, 8.0);
/// R2: Node.js pods with utility below 1 ("about 40 %"); Go1.x pods above 100 ("about 35 %").
pub const NODEJS_POD_UTILITY_BELOW_1_SHARE: Target = Target::near(0.40, 0.10);
pub const GO_POD_UTILITY_ABOVE_100_SHARE: Target = Target::near(0.35, 0.10);

/// Share of users that own a single function.
pub const SINGLE_FUNCTION_USERS: Target = Target::between(0.60, 0.90);

/// Share of a region's users with more than 1,000 requests (section 3.1, Fig 4b): 30 % in R1
/// (read off the figure, ± 0.1), under 5 % in R4.
pub fn users_over_1000_requests(region: &str) -> Option<Target> {
    match region {
        "R1" => Some(Target::about(0.30, 0.20, 0.40)),
        "R4" => Some(Target::Under(0.05)),
        _ => None,
    }
}

/// Functions' peak-to-trough ratios span from below the first to above the second, over all
/// regions.
pub const PEAK_TO_TROUGH_LOWEST: Target = Target::Under(2.0);
pub const PEAK_TO_TROUGH_HIGHEST: Target = Target::Over(1000.0);
/// "The largest workloads have ratios under 60" (section 3.2).
pub const LARGEST_WORKLOADS_PEAK_TO_TROUGH: Target = Target::Under(60.0);

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

/// A region's Fig 5 peak hour with its tolerance.
pub fn fig5_peak_hour(region: &str) -> Option<Target> {
    FIG5_PEAK_HOUR
        .iter()
        .find(|(r, _, _)| *r == region)
        .map(|(_, hour, tol)| Target::Hour {
            hour: *hour,
            tol: *tol,
        })
}

/// Distance in hours between two hours of the day, around the clock (at most 12).
pub fn hours_apart(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(24.0);
    d.min(24.0 - d)
}

/// Requests over the trace's 31 days in all five regions (section 1, Fig 1).
pub const TOTAL_REQUESTS: f64 = 85e9;

/// Cold starts over the trace's 31 days in all five regions ("11.9 million", section 1).
pub const TOTAL_COLD_STARTS: f64 = 11.9e6;

/// Rows of R1's day-30 per-request table ("about 364 million").
pub const R1_LAST_DAY_REQUESTS: f64 = 364e6;

/// A measured volume over the published one at the same size: 1 ± 0.25.
pub const VOLUME_RATIO: Target = Target::near(1.0, 0.25);

/// R2's functions by their set of triggers (section 3.3): timer-only 42 %, APIG-S only 23 %,
/// APIG-S with TIMER-A 13 % (sets written as `synth` names them, joined by `+`), each ± 0.05.
pub const TRIGGER_COMBINATION_SHARES: [(&str, Target); 3] = [
    ("TIMER-A", Target::near(0.42, 0.05)),
    ("APIG-S", Target::near(0.23, 0.05)),
    ("APIG-S+TIMER-A", Target::near(0.13, 0.05)),
];

/// Share of a region's functions with at least one request per minute on average (section
/// 3.1: about 20 % in R1, about 1 % in R4; the others read off Fig 3a where each region's CDF
/// meets the 1-minute line: R2 0.92, R3 0.88, R5 0.89).
pub const PER_MINUTE_FUNCTION_SHARE: [(&str, Target); 5] = [
    ("R1", Target::about(0.20, 0.13, 0.27)),
    ("R2", Target::about(0.08, 0.04, 0.12)),
    ("R3", Target::about(0.12, 0.07, 0.17)),
    ("R4", Target::about(0.01, 0.0, 0.03)),
    ("R5", Target::about(0.11, 0.06, 0.16)),
];

/// Each region's requests, functions and pods over the 31 days, read off Fig 1 (a log-log
/// bubble chart: the centres' heights and widths, the bubbles' sizes against the legend). The
/// requests add up to the text's 85 billion, the pods to its "over 12 million".
pub const FIG1_REGIONS: [Fig1Region; 5] = [
    Fig1Region::new("R1", 4.0e10, 2_500.0, 7.0e6),
    Fig1Region::new("R2", 1.3e10, 2_418.0, 2.1e6),
    Fig1Region::new("R3", 2.9e10, 240.0, 3.2e5),
    Fig1Region::new("R4", 4.0e9, 7_600.0, 1.6e6),
    Fig1Region::new("R5", 1.26e8, 550.0, 8.0e5),
];

/// One region of Fig 1.
#[derive(Debug, Clone, Copy)]
pub struct Fig1Region {
    pub region: &'static str,
    pub requests: f64,
    pub functions: f64,
    pub pods: f64,
}

impl Fig1Region {
    const fn new(region: &'static str, requests: f64, functions: f64, pods: f64) -> Self {
        Self {
            region,
            requests,
            functions,
            pods,
        }
    }
}

/// A count read off Fig 1's log axes over the measured one at the same size: within a factor
/// of 1.5 either way.
pub const FIG1_RATIO: Target = Target::about(1.0, 1.0 / 1.5, 1.5);

/// A region's share of functions with at least one request per minute, where published.
pub fn per_minute_function_share(region: &str) -> Option<Target> {
    PER_MINUTE_FUNCTION_SHARE
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, t)| *t)
}

/// Median execution time per region (section 3.1: from 4 ms in R5 to 100 ms in R1), seconds:
/// Fig 3b's median over function-minutes of the minute's mean execution time, each within a
/// factor of 2; R2 (40 ms), R3 (35 ms) and R4 (8 ms) read off the figure.
pub const MEDIAN_EXEC_S: [(&str, Target); 5] = [
    ("R1", Target::about(0.100, 0.050, 0.200)),
    ("R2", Target::about(0.040, 0.020, 0.080)),
    ("R3", Target::about(0.035, 0.0175, 0.070)),
    ("R4", Target::about(0.008, 0.004, 0.016)),
    ("R5", Target::about(0.004, 0.002, 0.008)),
];

/// A region's median execution time (seconds).
pub fn median_exec(region: &str) -> Target {
    MEDIAN_EXEC_S
        .iter()
        .find(|(r, _)| *r == region)
        .map_or(Target::between(0.002, 0.2), |(_, t)| *t)
}

/// Median CPU usage per region, cores ("from about 0.1 to 0.3", section 3.1, Fig 3c).
pub const MEDIAN_CPU_CORES: Target = Target::between(0.1, 0.3);

/// R2: OBS-A functions hold almost 30 % of running pods (Fig 8d, read off the figure).
pub const R2_OBS_A_POD_SHARE: Target = Target::about(0.30, 0.22, 0.38);

/// Running pods on weekdays over weekends ("about 30 % more").
pub const WEEKDAY_OVER_WEEKEND_PODS: Target = Target::about(1.3, 1.15, 1.45);

/// Regions whose load the holiday raises; it lowers the others'.
pub const HOLIDAY_BUSIER_REGIONS: [&str; 1] = ["R3"];

/// A region's running pods over the holiday against the working days before it.
pub fn holiday_over_weekdays_pods(region: &str) -> Target {
    if HOLIDAY_BUSIER_REGIONS.contains(&region) {
        Target::Over(1.0)
    } else {
        Target::Under(1.0)
    }
}

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

/// A rho read off Fig 12, ± 0.2.
pub fn fig12_target(rho: f64) -> Target {
    Target::near(rho, 0.2)
}

/// A store must hold this share of the published cold starts for Fig 12's correlations to be
/// set beside the paper's: per-minute means of a few cold starts are noise that hides them.
pub const FIG12_MIN_SIZE: f64 = 0.5;

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
        assert_eq!(holiday_effect(), "lower in R1, R2, R4, R5; higher in R3");
        assert_eq!(
            R2_TIMER_POD_SHARE.text(Units::Percent),
            "5 ± 4 %",
            "about 5 %, ± 4 points"
        );
        assert_eq!(MEDIAN_COLD_START_S.text(Units::Plain), "between 0.1 and 2");
        assert_eq!(
            SINGLE_FUNCTION_USERS.text(Units::Percent),
            "between 60 and 90 %"
        );
        let total: u64 = RUNTIME_COLD_STARTS_R2.iter().map(|r| r.1).sum();
        assert_eq!(total, 2_072_823);
        // 1,190,731 / 2,072,823 = 0.57445.
        let Some(Target::Near { value, tol }) = runtime_share_r2("Python3") else {
            panic!("R2's Python3 share is a share ± 0.03");
        };
        assert!((value - 0.57445).abs() < 1e-5 && tol == 0.03);
        assert!(runtime_share_r2("Rust").is_none());
        assert!(is_small_pool(300.0, 128.0) && is_small_pool(400.0, 256.0));
        assert!(!is_small_pool(600.0, 256.0) && !is_small_pool(300.0, 512.0));
        assert!(!is_small_pool(401.0, 128.0));
        // R4's peak at 3 h is inside its 4 h tolerance around 04:00, R2's at 18:30 is not.
        assert!(fig5_peak_hour("R4").unwrap().holds(3.0));
        assert!(!fig5_peak_hour("R2").unwrap().holds(18.5));
        assert!(mean_cold_start("R2").holds(3.7) && !mean_cold_start("R3").holds(0.31));
    }
}
