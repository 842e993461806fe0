//! Measures a synthetic release against the paper's published numbers (spec section 4) and
//! states the tolerance each check uses.

use serde::Serialize;

use coldstart_trace::paper::{
    fig12_target, fig5_peak_hour, holiday_over_weekdays_pods, large_over_small_pool_median,
    mean_cold_start, median_inter_arrival, per_minute_function_share, runtime_share_r2,
    users_over_1000_requests, Target, Units, COMPONENTS, DAY23_RISE_REGIONS, FIG12_COLD_STARTS_RHO,
    FIG1_RATIO, FIG1_REGIONS, GO_POD_UTILITY_ABOVE_100_SHARE, LOGNORMAL_COLD_START,
    MEDIAN_COLD_START_S, MEDIAN_EXEC_S, NODEJS_POD_UTILITY_BELOW_1_SHARE,
    POD_UTILITY_BELOW_1_SHARE, POD_UTILITY_MEDIAN, R1_LAST_DAY_REQUESTS,
    R2_CUSTOM_HTTP_MEDIAN_COLD_START_S, R2_OBS_A_MEDIAN_COLD_START_S, R2_OBS_A_POD_SHARE,
    R2_SMALL_POOL_COLD_START_SHARE, R2_TIMER_COLD_START_SHARE, R2_TIMER_FUNCTION_SHARE,
    R2_TIMER_POD_SHARE, R2_WORKFLOW_COLD_START_SHARE, REGIONS, RUNTIME_COLD_STARTS_R2,
    SINGLE_FUNCTION_USERS, TOTAL_REQUESTS, TRIGGER_COMBINATION_SHARES, VOLUME_RATIO,
    WEEKDAY_OVER_WEEKEND_PODS,
};
use coldstart_trace::schema::TRACE_DAYS;

/// What the generator measured of one region's cold starts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegionMeasures {
    pub region: String,
    pub functions: u64,
    pub cold_starts: u64,
    pub median: f64,
    pub mean: f64,
    /// Mean of podAllocation, deployCode, deployDependency, scheduling (seconds).
    pub mean_components: [f64; 4],
    pub small_pool_share: f64,
    pub timer_function_share: f64,
    /// Shares of cold starts caused by timers and by workflows.
    pub timer_cold_start_share: f64,
    pub workflow_cold_start_share: f64,
    /// Share of running pods (pods serving requests, summed over minutes) that serve timers.
    pub timer_pod_share: f64,
    /// Running pods summed over a day's minutes, per weekday, weekend day and holiday (NaN
    /// where no such day was generated).
    pub pod_minutes_per_day: [f64; 3],
    /// Hour of day at which the region's requests per minute peak (Fig 5).
    pub peak_hour: f64,
    /// Median over its function-minutes of the minute's mean execution time (seconds, Fig 3b).
    pub median_exec_s: f64,
    /// (primary trigger, share of running pods)
    pub pod_share_by_trigger: Vec<(String, f64)>,
    /// (set of triggers joined by `+`, share of functions)
    pub trigger_combinations: Vec<(String, f64)>,
    /// Share of functions with at least one request per minute on average.
    pub per_minute_function_share: f64,
    /// Requests in all, requests on the per-request day, days generated, and the region's
    /// size against the published one (functions over the profile's count).
    pub requests: u64,
    pub requests_last_day: u64,
    /// Whether the last day's per-request rows were written: only then is
    /// `requests_last_day` the table's rows (the top pods' requests), else all its requests.
    pub last_day_rows: bool,
    pub days: u32,
    pub scale: f64,
    /// Pod utility ratios (fig 17): share below 1, median, and the pods measured.
    pub utility_below_1: f64,
    pub utility_median: f64,
    pub utility_pods: u64,
    /// (runtime, cold starts)
    pub by_runtime: Vec<(String, u64)>,
    /// (runtime, median cold start in seconds)
    pub median_by_runtime: Vec<(String, f64)>,
    pub utility_by_runtime: Vec<GroupUtility>,
    pub utility_by_trigger: Vec<GroupUtility>,
    /// (trigger-invocation, cold starts)
    pub by_trigger: Vec<(String, u64)>,
    /// (trigger-invocation, median cold start in seconds)
    pub median_by_trigger: Vec<(String, f64)>,
    /// Spearman's rho of the cold starts per minute with their mean total, allocation and
    /// scheduling times (Fig 12's last row).
    pub fig12: [f64; 3],
    /// Mean cold-start time on day 23 over the working days before the holiday.
    pub day23_ratio: f64,
    /// Share of the region's users that own a single function (Fig 4a).
    pub single_function_users: f64,
    /// Share of its users whose functions took more than 1,000 requests over the release
    /// (Fig 4b).
    pub users_over_1000_requests: f64,
    /// Median cold start in large pools over that in small ones (Fig 13).
    pub large_over_small_median: f64,
    /// Median time between consecutive cold starts of the region (seconds, Fig 10c), at the
    /// release's size: they scale as 1/size.
    pub median_inter_arrival_s: f64,
}

/// The pod utility ratios of one runtime's or trigger's pods.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupUtility {
    pub group: String,
    pub pods: u64,
    /// Functions those pods belong to.
    pub functions: u64,
    pub below_1: f64,
    pub above_100: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub measured: f64,
    pub target: String,
    pub pass: bool,
    /// The generator claims this number: its tests hold it inside the tolerance.
    pub claimed: bool,
    /// A number of the paper the model does not reproduce yet ([`gap_checks`]).
    #[serde(default)]
    pub gap: bool,
}

/// `[ok] name  measured  target ...`: `ok` within tolerance, `!!` a claimed check outside it,
/// `..` an unclaimed one outside it.
impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = match (self.pass, self.claimed) {
            (true, _) => "ok",
            (false, true) => "!!",
            (false, false) => "..",
        };
        write!(
            f,
            "[{mark}] {:<62} {:>9.4}  target {}",
            self.name, self.measured, self.target
        )
    }
}

/// Maximum-likelihood LogNormal fit: (mean, standard deviation) of the fitted law in seconds.
pub fn lognormal_fit(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut n, mut s, mut s2) = (0.0, 0.0, 0.0);
    for v in values.filter(|v| *v > 0.0) {
        let l = v.ln();
        n += 1.0;
        s += l;
        s2 += l * l;
    }
    let mu = s / n;
    let var = (s2 / n - mu * mu).max(0.0);
    let mean = (mu + var / 2.0).exp();
    (mean, mean * (var.exp() - 1.0).sqrt())
}

fn rank(c: &[f64; 4]) -> Vec<usize> {
    let mut idx = vec![0, 1, 2, 3];
    idx.sort_by(|a, b| c[*b].total_cmp(&c[*a]));
    idx
}

/// A `push(name, measured, target, pass)` that appends checks, claimed or not, to `out`.
fn recorder(out: &mut Vec<Check>, claimed: bool) -> impl FnMut(String, f64, String, bool) + '_ {
    move |name, measured, target, pass| {
        out.push(Check {
            name,
            measured,
            target,
            pass,
            claimed,
            gap: false,
        })
    }
}

/// `(name, measured, target's text, whether it holds)` for [`sized`].
fn judged(name: String, measured: f64, target: Target) -> (String, f64, String, bool) {
    let (text, pass) = (target.text(Units::Plain), target.holds(measured));
    (name, measured, text, pass)
}

/// Pushes the check of `measured` against `target`.
fn judge(
    push: &mut impl FnMut(String, f64, String, bool),
    name: &str,
    measured: f64,
    target: Target,
) {
    let (name, measured, text, pass) = judged(name.into(), measured, target);
    push(name, measured, text, pass);
}

/// The size [`sized`] claims a region's check from when a few of its functions would make it
/// noise (a share of its users, per-minute means of its cold starts): half its published
/// number of functions.
fn half_published(r: &RegionMeasures) -> (&str, u64, u64) {
    let published = crate::profile::profile(&r.region).map_or(0, |p| p.functions);
    (&r.region, r.functions, u64::from(published / 2))
}

/// Pushes a check of a region that needs `min` of its functions to be claimed: with fewer, it
/// is pushed with its name in `unclaimed` and the size in its target.
fn sized(
    push: &mut impl FnMut(String, f64, String, bool),
    unclaimed: &mut Vec<String>,
    (region, functions, min): (&str, u64, u64),
    (name, measured, target, pass): (String, f64, String, bool),
) {
    if functions < min {
        unclaimed.push(name.clone());
        let target = format!("{target} (claimed from {min} {region} functions, {functions} here)");
        push(name, measured, target, pass);
    } else {
        push(name, measured, target, pass);
    }
}

/// Marks the checks named in `unclaimed` as not claimed.
fn unclaim(out: &mut [Check], unclaimed: &[String]) {
    for c in out.iter_mut().filter(|c| unclaimed.contains(&c.name)) {
        c.claimed = false;
    }
}

/// Runs every check that the generated regions allow.
pub fn checks(regions: &[RegionMeasures], fit: (f64, f64)) -> Vec<Check> {
    let mut out = Vec::new();
    let mut push = recorder(&mut out, true);
    let [mean, std] = LOGNORMAL_COLD_START.targets();
    judge(
        &mut push,
        "LogNormal fit of cold start time, mean (s)",
        fit.0,
        mean,
    );
    judge(
        &mut push,
        "LogNormal fit of cold start time, std (s)",
        fit.1,
        std,
    );
    for r in regions {
        judge(
            &mut push,
            &format!("{} median cold start (s)", r.region),
            r.median,
            MEDIAN_COLD_START_S,
        );
        let order = rank(&r.mean_components);
        let sched_rank = order.iter().position(|i| *i == 3).unwrap_or(9);
        push(
            format!("{} rank of scheduling among components", r.region),
            sched_rank as f64 + 1.0,
            "1 or 2".into(),
            sched_rank <= 1,
        );
        match r.region.as_str() {
            "R1" => {
                let top2: Vec<&str> = order[..2].iter().map(|i| COMPONENTS[*i]).collect();
                let ok = top2.contains(&"deployDependencyCost") && top2.contains(&"schedulingCost");
                push(
                    "R1 two largest components are dependency deployment and scheduling".into(),
                    f64::from(u8::from(ok)),
                    "1 (true)".into(),
                    ok,
                );
                judge(
                    &mut push,
                    "R1 mean cold start (s)",
                    r.mean,
                    mean_cold_start("R1"),
                );
            }
            "R2" => {
                let ok = order[0] == 0;
                push(
                    "R2 largest component is pod allocation".into(),
                    f64::from(u8::from(ok)),
                    "1 (true)".into(),
                    ok,
                );
                judge(
                    &mut push,
                    "R2 share of functions that are timers",
                    r.timer_function_share,
                    R2_TIMER_FUNCTION_SHARE,
                );
                judge(
                    &mut push,
                    "R2 share of cold starts in small pools",
                    r.small_pool_share,
                    R2_SMALL_POOL_COLD_START_SHARE,
                );
                for (rt, _) in RUNTIME_COLD_STARTS_R2 {
                    let got = r
                        .by_runtime
                        .iter()
                        .find(|(n, _)| n == rt)
                        .map_or(0, |(_, c)| *c);
                    let share = got as f64 / r.cold_starts.max(1) as f64;
                    if let Some(want) = runtime_share_r2(rt) {
                        judge(
                            &mut push,
                            &format!("R2 share of cold starts, {rt}"),
                            share,
                            want,
                        );
                    }
                }
            }
            "R3" => judge(
                &mut push,
                "R3 mean cold start (s)",
                r.mean,
                mean_cold_start("R3"),
            ),
            _ => {}
        }
    }
    drop(push);
    out
}

/// The paper's volumes (section 1, Fig 1), from the functions that are never idle: the
/// requests of all regions against 85 billion, and each region's against Fig 1's. Claimed
/// for a release with those functions (`published`) of all 31 days at `--scale 1` or more (a
/// smaller one holds too few of the few functions that bring the requests: R4 has 8 at scale
/// 1); measured and marked below.
pub fn volume_checks(regions: &[RegionMeasures], published: bool) -> Vec<Check> {
    let mut out = Vec::new();
    let full =
        |r: &RegionMeasures| published && r.scale >= 1.0 - 1e-9 && i64::from(r.days) == TRACE_DAYS;
    let mut push = |name: String, measured: f64, target: Target, claimed: bool| {
        let mut text = target.text(Units::Plain);
        if !claimed {
            text.push_str(" (claimed for 31 days at --scale 1 with --volume published)");
        }
        out.push(Check {
            name,
            measured,
            target: text,
            pass: target.holds(measured),
            claimed,
            gap: false,
        });
    };
    if regions.len() == REGIONS.len() {
        let requests: u64 = regions.iter().map(|r| r.requests).sum();
        let scale = regions.iter().map(|r| r.scale).sum::<f64>() / regions.len() as f64;
        let days = regions.iter().map(|r| r.days).max().unwrap_or(0);
        let want = TOTAL_REQUESTS * scale * f64::from(days) / TRACE_DAYS as f64;
        push(
            "requests in all regions, against 85 billion times the scale".into(),
            requests as f64 / want,
            VOLUME_RATIO,
            regions.iter().all(full),
        );
    }
    for r in regions {
        let Some(f) = FIG1_REGIONS.iter().find(|f| f.region == r.region) else {
            continue;
        };
        let want = f.requests * r.scale * f64::from(r.days) / TRACE_DAYS as f64;
        push(
            format!("{} requests, against Fig 1's times the scale", r.region),
            r.requests as f64 / want,
            FIG1_RATIO,
            full(r),
        );
    }
    out
}

/// Regions whose median cold start in large pools over small ones the model does not
/// reproduce yet: R3's 5x (its cold starts are a tenth of a second, mostly the steps a pool's
/// size does not change).
pub const GAP_POOL_RATIO_REGIONS: [&str; 1] = ["R3"];

/// Regions whose median time between cold starts the model does not reproduce yet: R1's
/// "about 0.1 s" (its cold starts are 0.88 of Fig 1's, less clustered than the paper's).
pub const GAP_INTER_ARRIVAL_REGIONS: [&str; 1] = ["R1"];

/// Regions whose share of users above 1,000 requests in the month the model does not
/// reproduce yet: R4's "under 5 %" (0.19: its bursty functions, a quarter of the functions
/// events trigger, take a few thousand requests a month each, and a few of them reach the
/// users owning one function).
pub const GAP_USERS_REGIONS: [&str; 1] = ["R4"];

fn users_name(region: &str) -> String {
    format!("{region} share of users with more than 1,000 requests")
}

fn pool_ratio_name(region: &str) -> String {
    format!("{region} median cold start, large over small pools")
}

fn inter_arrival_name(region: &str) -> String {
    format!("{region} median time between cold starts at the trace's size (s)")
}

/// The paper's numbers the model does not reproduce yet (spec section 7): measured and printed
/// with every release, never claimed, so the distance to the paper's world stays in view.
/// Each target says "not modelled yet".
pub fn gap_checks(regions: &[RegionMeasures]) -> Vec<Check> {
    let mut out = Vec::new();
    let mut push = recorder(&mut out, false);
    let gap = |t: String| format!("{t} (not modelled yet)");
    let region = |name: &str| regions.iter().find(|r| r.region == name);
    // Rows only where they were written (`--request-days none` counts requests instead).
    if let Some(r1) = region("R1").filter(|r| i64::from(r.days) == TRACE_DAYS && r.last_day_rows) {
        let ratio = r1.requests_last_day as f64 / (R1_LAST_DAY_REQUESTS * r1.scale);
        push(
            "R1 day-30 per-request rows, against 364 million times the scale".into(),
            ratio,
            gap(VOLUME_RATIO.text(Units::Plain)),
            VOLUME_RATIO.holds(ratio),
        );
    }
    for (name, median) in MEDIAN_EXEC_S {
        if let Some(r) = region(name) {
            push(
                format!("{name} median execution time per function-minute (s)"),
                r.median_exec_s,
                gap(median.text(Units::Plain)),
                median.holds(r.median_exec_s),
            );
        }
    }
    for r in regions {
        if GAP_POOL_RATIO_REGIONS.contains(&r.region.as_str()) {
            let want = large_over_small_pool_median(&r.region);
            push(
                pool_ratio_name(&r.region),
                r.large_over_small_median,
                gap(want.text(Units::Plain)),
                want.holds(r.large_over_small_median),
            );
        }
        if GAP_INTER_ARRIVAL_REGIONS.contains(&r.region.as_str()) {
            let (want, got) = (
                median_inter_arrival(&r.region),
                r.median_inter_arrival_s * r.scale,
            );
            push(
                inter_arrival_name(&r.region),
                got,
                gap(want.text(Units::Plain)),
                want.holds(got),
            );
        }
        // Requests per user over the trace's 31 days (Fig 4b): R4's under 5 % above 1,000
        // (its bursty functions, a quarter of those events trigger, take thousands a month).
        if let Some(want) = users_over_1000_requests(&r.region).filter(|_| {
            i64::from(r.days) == TRACE_DAYS && GAP_USERS_REGIONS.contains(&r.region.as_str())
        }) {
            push(
                users_name(&r.region),
                r.users_over_1000_requests,
                gap(want.text(Units::Plain)),
                want.holds(r.users_over_1000_requests),
            );
        }
    }
    if let Some(r2) = region("R2") {
        // Timers: the lowest utility (the largest share of pods below 1 among triggers with
        // 100 pods or more).
        let big: Vec<&GroupUtility> = r2
            .utility_by_trigger
            .iter()
            .filter(|u| u.pods >= 100)
            .collect();
        let timer = big
            .iter()
            .find(|u| u.group == "TIMER-A")
            .map_or(f64::NAN, |u| u.below_1);
        let lowest = big.iter().all(|u| u.below_1 <= timer);
        push(
            "R2 timers have the lowest pod utility of the triggers".into(),
            f64::from(u8::from(lowest)),
            gap("1 (true)".into()),
            lowest,
        );
    }
    drop(push);
    for c in &mut out {
        c.gap = true;
    }
    out
}

/// Functions a release must hold, over all five regions, for the checks of all regions
/// together (the LogNormal fit, weekdays over weekends) to be claimed; the default
/// `--scale 0.05` gives 693.
pub const MIN_FUNCTIONS_FOR_ALL_REGIONS: u64 = 500;

/// The region a check is about: every region's check is named after it ("R2 median ..."),
/// the others are about all regions.
fn region_of(name: &str) -> Option<&str> {
    let first = name.split(' ').next()?;
    REGIONS.contains(&first).then_some(first)
}

/// Claims only what a release of this size can measure: a region's checks from
/// [`MIN_FUNCTIONS_TO_CLAIM`] of its functions, the checks of all regions when all five are
/// there with [`MIN_FUNCTIONS_FOR_ALL_REGIONS`] functions together. The others stay in the
/// list, measured and marked, with the size they are claimed from in their target.
pub fn claim_by_size(checks: &mut [Check], regions: &[RegionMeasures]) {
    let size = |r: &str| regions.iter().find(|m| m.region == r).map(|m| m.functions);
    let total: u64 = regions.iter().map(|m| m.functions).sum();
    let all_there = REGIONS.iter().all(|r| size(r).is_some());
    for c in checks.iter_mut().filter(|c| c.claimed) {
        let (min, have, what) = match region_of(&c.name) {
            Some(r) => (
                MIN_FUNCTIONS_TO_CLAIM,
                size(r).unwrap_or(0),
                format!("{r} functions"),
            ),
            None if !all_there => {
                c.claimed = false;
                c.target = format!("{} (claimed when all five regions are generated)", c.target);
                continue;
            }
            None => (
                MIN_FUNCTIONS_FOR_ALL_REGIONS,
                total,
                "functions in all regions".to_string(),
            ),
        };
        if have < min {
            c.claimed = false;
            c.target = format!("{} (claimed from {min} {what}, {have} here)", c.target);
        }
    }
}

/// R2 functions from which the generator claims R2's shares and medians by runtime and
/// trigger and its pod measures (the default `--scale 0.05` gives 121): in a smaller release a
/// few functions decide each of them. Below this size they are measured and printed but not
/// claimed.
pub const MIN_FUNCTIONS_TO_CLAIM: u64 = 100;

/// R2 functions from which the generator claims the utility ratio of Node.js pods: at the
/// default `--scale 0.05` a few functions decide it. Below this size it is measured and
/// printed but not claimed.
pub const MIN_FUNCTIONS_FOR_RUNTIME_UTILITY: u64 = 1000;

/// R2 functions from which the generator claims Go1.x's pods above a utility of 100: its
/// 1.45 % of cold starts come from a handful of functions, and whether one of them has many
/// long-lived pods decides the share. At `--scale 1` (2,418 R2 functions) it measured 0.34,
/// 0.34 and 0.51 on seeds 1 to 3 (`bash bench/calibration.sh --scales 1`), so it is claimed
/// only from twice that size.
pub const MIN_FUNCTIONS_FOR_GO_UTILITY: u64 = 5000;

/// R2 functions from which the generator claims OBS-A's share of running pods: a few upload
/// pipelines hold it, and at the default `--scale 0.05` (two or three of them) it measured 0.21
/// to 0.33 over seeds 1 to 3.
pub const MIN_FUNCTIONS_FOR_OBS_PODS: u64 = 1000;

/// The checks of the workload and pod models (running pods, pod utility, the slow triggers
/// and runtimes), measured and printed with every release; [`claim_by_size`] claims them from
/// [`MIN_FUNCTIONS_TO_CLAIM`] R2 functions on, and the utility ratios of single runtimes are
/// claimed here from [`MIN_FUNCTIONS_FOR_RUNTIME_UTILITY`] and [`MIN_FUNCTIONS_FOR_GO_UTILITY`].
pub fn workload_checks(regions: &[RegionMeasures]) -> Vec<Check> {
    let mut out = Vec::new();
    let mut unclaimed = Vec::new();
    let mut push = recorder(&mut out, true);
    for r in regions {
        if r.region == "R2" {
            judge(
                &mut push,
                "R2 share of cold starts caused by timers",
                r.timer_cold_start_share,
                R2_TIMER_COLD_START_SHARE,
            );
            judge(
                &mut push,
                "R2 share of cold starts caused by workflows",
                r.workflow_cold_start_share,
                R2_WORKFLOW_COLD_START_SHARE,
            );
            judge(
                &mut push,
                "R2 share of running pods serving timers",
                r.timer_pod_share,
                R2_TIMER_POD_SHARE,
            );
            let median = |list: &[(String, f64)], key: &str| {
                list.iter()
                    .find(|(k, _)| k == key)
                    .map_or(f64::NAN, |(_, m)| *m)
            };
            for (set, share) in TRIGGER_COMBINATION_SHARES {
                let got = r
                    .trigger_combinations
                    .iter()
                    .find(|(k, _)| k == set)
                    .map_or(0.0, |(_, v)| *v);
                judge(
                    &mut push,
                    &format!("R2 share of functions whose triggers are exactly {set}"),
                    got,
                    share,
                );
            }
            // OBS functions are upload pipelines and batches on Custom images: almost 30 % of
            // the running pods (a few pipelines decide it: claimed from more functions), and
            // timers, on the default runtimes' pools, start faster than the region's median.
            let obs_pods = r
                .pod_share_by_trigger
                .iter()
                .find(|(t, _)| t == "OBS-A")
                .map_or(0.0, |(_, v)| *v);
            sized(
                &mut push,
                &mut unclaimed,
                ("R2", r.functions, MIN_FUNCTIONS_FOR_OBS_PODS),
                (
                    "R2 share of running pods serving OBS-A".into(),
                    obs_pods,
                    format!("{}, read off Fig 8d", R2_OBS_A_POD_SHARE.text(Units::Plain)),
                    R2_OBS_A_POD_SHARE.holds(obs_pods),
                ),
            );
            let timer_median = median(&r.median_by_trigger, "TIMER-A");
            push(
                "R2 median cold start of timers over the region's".into(),
                timer_median / r.median,
                "under 1 (timers have some of the shortest cold starts)".into(),
                timer_median < r.median,
            );
            let obs = median(&r.median_by_trigger, "OBS-A");
            judge(
                &mut push,
                "R2 median cold start of OBS-A functions (s)",
                obs,
                R2_OBS_A_MEDIAN_COLD_START_S,
            );
            for rt in ["Custom", "http"] {
                judge(
                    &mut push,
                    &format!("R2 median cold start of {rt} functions (s)"),
                    median(&r.median_by_runtime, rt),
                    R2_CUSTOM_HTTP_MEDIAN_COLD_START_S,
                );
            }
            judge(
                &mut push,
                "R2 share of pods with a utility ratio below 1",
                r.utility_below_1,
                POD_UTILITY_BELOW_1_SHARE,
            );
            judge(
                &mut push,
                "R2 median pod utility ratio",
                r.utility_median,
                POD_UTILITY_MEDIAN,
            );
            let util = |rt: &str| r.utility_by_runtime.iter().find(|u| u.group == rt);
            for (rt, published, above, min) in [
                (
                    "Node.js",
                    NODEJS_POD_UTILITY_BELOW_1_SHARE,
                    false,
                    MIN_FUNCTIONS_FOR_RUNTIME_UTILITY,
                ),
                (
                    "Go1.x",
                    GO_POD_UTILITY_ABOVE_100_SHARE,
                    true,
                    MIN_FUNCTIONS_FOR_GO_UTILITY,
                ),
            ] {
                let u = util(rt);
                let share = u.map_or(f64::NAN, |u| if above { u.above_100 } else { u.below_1 });
                // Claimed from more R2 functions than the others (see the two constants).
                sized(
                    &mut push,
                    &mut unclaimed,
                    ("R2", r.functions, min),
                    judged(
                        format!(
                            "R2 share of {rt} pods with a utility ratio {}",
                            if above { "above 100" } else { "below 1" }
                        ),
                        share,
                        published,
                    ),
                );
            }
        }
        if let Some(hour) = fig5_peak_hour(&r.region) {
            push(
                format!("{} hour of the daily peak of requests (Fig 5)", r.region),
                r.peak_hour,
                format!("{} (read off the figure)", hour.text(Units::Plain)),
                hour.holds(r.peak_hour),
            );
        }
        if let Some((_, rho)) = FIG12_COLD_STARTS_RHO.iter().find(|(x, _)| *x == r.region) {
            // Per-minute means of a few cold starts are noise that hides the correlation:
            // claimed from half the published size on.
            let what = ["cold-start time", "pod allocation time", "scheduling time"];
            for ((w, want), got) in what.iter().zip(rho).zip(r.fig12) {
                let want = fig12_target(*want);
                sized(
                    &mut push,
                    &mut unclaimed,
                    half_published(r),
                    (
                        format!("{} Fig 12 rho, cold starts per minute and {w}", r.region),
                        got,
                        format!("{} (read off the figure)", want.text(Units::Plain)),
                        want.holds(got),
                    ),
                );
            }
        }
        if r.day23_ratio.is_finite() {
            let name = format!(
                "{} mean cold start on day 23 over the weekdays before the holiday",
                r.region
            );
            let target = "over 1 (the first working day after the holiday)".to_string();
            let pass = r.day23_ratio > 1.0;
            if DAY23_RISE_REGIONS.contains(&r.region.as_str()) {
                // A day's mean of a few thousand heavy-tailed cold starts moves by several
                // per cent: claimed from half the published size on, as Fig 12.
                sized(
                    &mut push,
                    &mut unclaimed,
                    half_published(r),
                    (name, r.day23_ratio, target, pass),
                );
            } else {
                unclaimed.push(name.clone());
                push(name, r.day23_ratio, target, pass);
            }
        }
        if let Some(f) = FIG1_REGIONS.iter().find(|f| f.region == r.region) {
            // The region's size is the profile's (Fig 1's functions, an input); its pods are
            // what its kinds of load make of it (its cold starts over the 31 days).
            let functions = r.functions as f64 / r.scale.max(1e-12);
            judge(
                &mut push,
                &format!("{} functions at --scale 1, against Fig 1's", r.region),
                functions / f.functions,
                FIG1_RATIO,
            );
            let pods = r.cold_starts as f64 * TRACE_DAYS as f64 / f64::from(r.days.max(1));
            judge(
                &mut push,
                &format!(
                    "{} pods (cold starts), against Fig 1's times the scale",
                    r.region
                ),
                pods / (f.pods * r.scale),
                FIG1_RATIO,
            );
        }
        if let Some(share) = per_minute_function_share(&r.region) {
            push(
                format!(
                    "{} share of functions with at least a request a minute",
                    r.region
                ),
                r.per_minute_function_share,
                format!("{}, read off Fig 3a", share.text(Units::Plain)),
                share.holds(r.per_minute_function_share),
            );
        }
        judge(
            &mut push,
            &format!("{} share of users owning a single function", r.region),
            r.single_function_users,
            SINGLE_FUNCTION_USERS,
        );
        // Requests per user over the trace's 31 days (Fig 4b): R1's about 30 % above 1,000,
        // which follows from who owns the busy functions ([`crate::owners`]). A share of
        // users: claimed from half the published size on, as Fig 12.
        if let Some(want) = users_over_1000_requests(&r.region).filter(|_| {
            i64::from(r.days) == TRACE_DAYS && !GAP_USERS_REGIONS.contains(&r.region.as_str())
        }) {
            sized(
                &mut push,
                &mut unclaimed,
                half_published(r),
                judged(users_name(&r.region), r.users_over_1000_requests, want),
            );
        }
        if !GAP_POOL_RATIO_REGIONS.contains(&r.region.as_str()) {
            judge(
                &mut push,
                &pool_ratio_name(&r.region),
                r.large_over_small_median,
                large_over_small_pool_median(&r.region),
            );
        }
        if !GAP_INTER_ARRIVAL_REGIONS.contains(&r.region.as_str()) {
            // Times between cold starts scale as 1/size: judged at the trace's size, and
            // claimed from half the published size on, as Fig 12.
            sized(
                &mut push,
                &mut unclaimed,
                half_published(r),
                judged(
                    inter_arrival_name(&r.region),
                    r.median_inter_arrival_s * r.scale,
                    median_inter_arrival(&r.region),
                ),
            );
        }
        let [work, _, holiday] = r.pod_minutes_per_day;
        if !holiday.is_nan() && !work.is_nan() {
            judge(
                &mut push,
                &format!("{} running pods, holiday over weekdays", r.region),
                holiday / work,
                holiday_over_weekdays_pods(&r.region),
            );
        }
    }
    let (weekday, weekend) = regions
        .iter()
        .filter(|r| !r.pod_minutes_per_day[..2].iter().any(|v| v.is_nan()))
        .fold((0.0, 0.0), |(a, b), r| {
            (a + r.pod_minutes_per_day[0], b + r.pod_minutes_per_day[1])
        });
    if weekend > 0.0 {
        judge(
            &mut push,
            "running pods, weekdays over weekends (all regions)",
            weekday / weekend,
            WEEKDAY_OVER_WEEKEND_PODS,
        );
    }
    drop(push);
    unclaim(&mut out, &unclaimed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, pass: bool) -> Check {
        Check {
            name: name.into(),
            measured: 1.0,
            target: "t".into(),
            pass,
            claimed: true,
            gap: false,
        }
    }

    fn region(name: &str, functions: u64) -> RegionMeasures {
        RegionMeasures {
            region: name.into(),
            functions,
            ..Default::default()
        }
    }

    #[test]
    fn only_what_a_release_can_measure_is_claimed() {
        let mut cs = vec![
            check("R1 median cold start (s)", true),
            check("R3 median cold start (s)", false),
            check("LogNormal fit of cold start time, mean (s)", true),
        ];
        let sizes = [
            ("R1", 290),
            ("R2", 121),
            ("R3", 47),
            ("R4", 134),
            ("R5", 101),
        ];
        let regions: Vec<_> = sizes.iter().map(|(r, n)| region(r, *n)).collect();
        claim_by_size(&mut cs, &regions);
        assert!(cs[0].claimed && cs[2].claimed);
        assert!(!cs[1].claimed);
        assert_eq!(cs[1].target, "t (claimed from 100 R3 functions, 47 here)");
        // Without all five regions, nothing about all of them is claimed.
        let mut cs = vec![check("LogNormal fit of cold start time, mean (s)", true)];
        claim_by_size(&mut cs, &regions[..1]);
        assert!(!cs[0].claimed);
        assert!(cs[0]
            .target
            .ends_with("(claimed when all five regions are generated)"));
        // Small in total: 5 x 99 functions.
        let small: Vec<_> = sizes.iter().map(|(r, _)| region(r, 99)).collect();
        let mut cs = vec![check(
            "running pods, weekdays over weekends (all regions)",
            true,
        )];
        claim_by_size(&mut cs, &small);
        assert_eq!(
            cs[0].target,
            "t (claimed from 500 functions in all regions, 495 here)"
        );
    }

    #[test]
    fn lognormal_fit_of_exact_quantiles() {
        // Values exp(mu ± sigma) have log-mean mu and log-sd sigma (population).
        let (mu, sigma) = (0.2966f64, 1.3259f64);
        let (m, s) = lognormal_fit([(mu - sigma).exp(), (mu + sigma).exp()].into_iter());
        assert!((m - LOGNORMAL_COLD_START.mean).abs() < 0.01, "{m}");
        assert!((s - LOGNORMAL_COLD_START.std).abs() < 0.02, "{s}");
    }
}
