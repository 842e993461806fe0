//! `coldstart simulate`: replays one workload under several policies and writes the comparison
//! (CSV per policy and per function, one SVG per metric, the running pods over time, the
//! trade-off between cold starts and wasted memory, and one HTML page). The workload is the
//! synthetic model, a store's per-request rows or per-minute counts (the store adapter lives
//! here, since the simulator crate has no query engine), or the Azure Functions 2019 and 2021
//! traces.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use coldstart_sim::costs::{ColdStartChoice, CostModel, EmpiricalCosts, LogNormalCosts};
use coldstart_sim::engine::{simulate_from, Metrics, Routing};
use coldstart_sim::policy::{self, Needs, Policy, Spec};
use coldstart_sim::synth::{
    model_costs_across_regions, model_costs_under_load, region_functions, region_index,
};
use coldstart_sim::workload::app_scope::AppScope;
use coldstart_sim::workload::azure2019::Azure2019;
use coldstart_sim::workload::huawei2023;
use coldstart_sim::workload::minute_counts::MinuteCounts;
use coldstart_sim::workload::synthetic::Synthetic;
use coldstart_sim::workload::{memory, Function, Invocation, Trace, Workload, MAX_PER_MINUTE};
use coldstart_trace::paper::SECONDS_PER_DAY;
use coldstart_trace::schema::TRACE_DAYS;
use indicatif::{ProgressBar, ProgressStyle};

mod input;
pub mod month_check;
mod output;
pub mod seeds;

use input::*;
pub use output::{tradeoff_metric_names, write, Tradeoff};

use crate::chart::{self, Body, Panel, Series};
use crate::query::{floats, str_at, strings, utf8, Cx, Options};
use crate::table::Table;

/// What the report writes in the ownership marker of its folder.
pub const OWNER: &str = "coldstart simulate";

/// The policy wasted memory is normalised to (= 100 %).
pub const BASELINE: &str = "fixed-keepalive:ttl=10m,restart=yes";

/// Where the workload comes from. Each has a seed for its random parts: the synthetic model,
/// the spreading of per-minute counts within their minutes, the draws of cold-start costs.
#[derive(Debug, Clone)]
pub enum Input {
    /// The synthetic workload model of one region.
    Synth {
        region: String,
        functions: Option<u32>,
        scale: f64,
        volume: coldstart_sim::synth::Volume,
        days: Range<u32>,
        seed: u64,
    },
    /// A store's requests of one region, with its own cold starts as costs.
    Store {
        path: std::path::PathBuf,
        region: String,
        source: Source,
        days: Option<Range<u32>>,
        seed: u64,
        /// How per-minute counts are spread within their minutes.
        within: Within,
        /// The days whose per-request rows teach [`Within::Learned`] (None: the last day that
        /// has rows, the release's day 30).
        learn_days: Option<Range<u32>>,
    },
    /// The Azure Functions 2019 trace's folder of CSV files.
    Azure2019 {
        dir: std::path::PathBuf,
        days: Option<Range<u32>>,
        seed: u64,
    },
    /// The Azure Functions 2021 trace's invocation file.
    Azure2021 {
        file: std::path::PathBuf,
        days: Option<Range<u32>>,
        seed: u64,
        /// Per-request (the invocations) or per-minute (the trace aggregated to per-minute
        /// counts, for checking an expansion against the invocations).
        source: Source,
        within: Within,
        learn_days: Option<Range<u32>>,
    },
    /// A Huawei Cloud 2023 release's per-minute tables (its folder, or `requests_minute`).
    Huawei2023 {
        dir: std::path::PathBuf,
        days: Option<Range<u32>>,
        seed: u64,
        /// The function ids (columns) to replay; None: all.
        functions: Option<Vec<String>>,
    },
}

impl Input {
    /// The seed of its random parts.
    pub fn seed(&self) -> u64 {
        match self {
            Input::Synth { seed, .. }
            | Input::Store { seed, .. }
            | Input::Azure2019 { seed, .. }
            | Input::Azure2021 { seed, .. }
            | Input::Huawei2023 { seed, .. } => *seed,
        }
    }

    /// The days it is cut to, where given.
    pub fn days(&self) -> Option<Range<u32>> {
        match self {
            Input::Synth { days, .. } => Some(days.clone()),
            Input::Store { days, .. }
            | Input::Azure2019 { days, .. }
            | Input::Azure2021 { days, .. }
            | Input::Huawei2023 { days, .. } => days.clone(),
        }
    }

    /// Whether it is one of the Azure traces (whose functions belong to apps).
    pub fn is_azure(&self) -> bool {
        matches!(self, Input::Azure2019 { .. } | Input::Azure2021 { .. })
    }

    /// Whether it has no cold-start times of its own (they are drawn from the paper's fit).
    pub fn has_no_cold_starts(&self) -> bool {
        self.is_azure() || matches!(self, Input::Huawei2023 { .. })
    }

    /// The same input with its random parts seeded `seed`.
    pub fn with_seed(&self, seed: u64) -> Self {
        let mut out = self.clone();
        match &mut out {
            Input::Synth { seed: s, .. }
            | Input::Store { seed: s, .. }
            | Input::Azure2019 { seed: s, .. }
            | Input::Azure2021 { seed: s, .. }
            | Input::Huawei2023 { seed: s, .. } => *s = seed,
        }
        out
    }
}

/// Whose pods a request runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PodScope {
    /// Every function of an app shares the app's pods (Azure Functions loads the app).
    App,
    /// Each function has its own pods (the Huawei platform).
    Function,
}

impl PodScope {
    /// What owns pods, as the per-unit metrics name it ("app" or "function").
    pub fn unit(self) -> &'static str {
        match self {
            PodScope::App => "app",
            PodScope::Function => "function",
        }
    }

    /// The summary column of the 75th-percentile cold-start rate of what owns pods:
    /// `p75_app_cold_pct` or `p75_function_cold_pct`.
    pub fn p75_column(self) -> String {
        format!("p75_{}_cold_pct", self.unit())
    }
}

impl Replay {
    /// Whose pods the requests of `input` run in: `--pod-scope`, or by default per app for the
    /// Azure traces and per function otherwise.
    pub fn scope(&self, input: &Input) -> PodScope {
        self.pod_scope.unwrap_or(if input.is_azure() {
            PodScope::App
        } else {
            PodScope::Function
        })
    }
}

/// How a replay runs, beyond its input and policies.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// Days at the start that the policies learn on without being measured (None:
    /// [`warmup_days`]'s default).
    pub warmup_days: Option<u32>,
    /// Which pod with room each request goes to.
    pub routing: Routing,
    /// Whose pods a request runs in (None: per app for the Azure traces, else per function).
    pub pod_scope: Option<PodScope>,
    /// Cold-start times that replace the input's own.
    pub cold_start: Option<ColdStartChoice>,
    /// Factors on the cold starts' components (what-ifs).
    pub scale_components: Vec<coldstart_sim::what_if::ComponentScale>,
    /// Requests a pod takes at once, the same for every function (None: each function's own).
    pub concurrency: Option<u32>,
}

/// `N` (days 0..N) or `A..B` (days A to B-1).
pub fn parse_days(s: &str) -> Result<Range<u32>> {
    parse_days_of("--days", s)
}

/// [`parse_days`] for the option `flag`, which the error names.
pub fn parse_days_of(flag: &str, s: &str) -> Result<Range<u32>> {
    let r = match s.split_once("..") {
        Some((a, b)) => a
            .trim()
            .parse::<u32>()
            .ok()
            .zip(b.trim().parse::<u32>().ok()),
        None => s.trim().parse::<u32>().ok().map(|n| (0, n)),
    };
    match r {
        Some((a, b)) if a < b => Ok(a..b),
        _ => bail!("{flag} '{s}': expected N (days 0 to N-1) or A..B with A < B (days A to B-1)"),
    }
}

/// Which of a store's tables gives the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// The per-request rows where the region has them, else the per-minute counts.
    Auto,
    /// The per-request rows (one day in the release): exact arrivals and execution times.
    PerRequest,
    /// The per-minute request counts (every day): arrivals spread over each minute.
    PerMinute,
}

/// How a store's per-minute counts are spread within their minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Within {
    /// As each function's minutes in the per-request rows show (uniform for the functions
    /// when the region has no rows).
    Learned,
    /// At seeded uniform times within the minute.
    Uniform,
}

/// One policy's results beside the workload's own numbers.
pub struct Run {
    pub metrics: Metrics,
    pub baseline: bool,
    /// A point of a `--sweep` curve: which one.
    pub sweep: Option<usize>,
}

/// One `--sweep`: as given, and its points.
pub struct Sweep {
    pub spec: String,
    pub points: Vec<Spec>,
}

/// What `simulate` did, for the command line and the page.
pub struct Outcome {
    pub input: String,
    pub notes: Vec<String>,
    pub functions: Vec<Function>,
    pub runs: Vec<Run>,
    /// The trace's own cold starts per function (store input), for the faithfulness check.
    pub observed: Option<Vec<u64>>,
    /// The trace's own pod utility ratios (store per-request rows).
    pub observed_utility: Option<Utility>,
    pub seconds: f64,
    /// With `--seeds N`: every policy's metrics over the N seeds (this outcome is the first's).
    pub seeds: Option<seeds::SeedRuns>,
    /// With `--against-requests`: the per-minute replay against the per-request rows.
    pub month_check: Option<month_check::MonthCheck>,
    /// The days at the start that were replayed without being measured.
    pub warmup_days: u32,
    /// Each `--sweep` as given, in the order of [`Run::sweep`].
    pub sweeps: Vec<String>,
    /// With a policy that places pods in other regions: the workload's own region, then the
    /// others (the order of [`Metrics::by_region_hour`]); empty otherwise.
    pub regions: Vec<String>,
    /// Whose pods the requests ran in: the per-unit metrics (the 75th-percentile cold-start
    /// rate) are per app or per function, and named so.
    pub scope: PodScope,
}

/// Pod utility ratios (spec section 3, fig 17) in brief: the median of those >= 0 (as the
/// engine's histogram holds them) and the share below 1 of all.
#[derive(Debug, Clone, Copy)]
pub struct Utility {
    pub median: f64,
    pub below_1: f64,
    pub pods: usize,
}

impl Utility {
    fn of(mut u: Vec<f64>) -> Self {
        let pods = u.len();
        let below_1 = u.iter().filter(|x| **x < 1.0).count() as f64 / pods.max(1) as f64;
        u.retain(|x| *x >= 0.0);
        u.sort_by(f64::total_cmp);
        let median = if u.is_empty() {
            f64::NAN
        } else {
            u[(u.len() - 1) / 2]
        };
        Self {
            median,
            below_1,
            pods,
        }
    }
}

/// The warm-up days of a replay of `days`: as `asked`, else 1 when a policy learns from the
/// replay's past (`learning`) and the replay has a day left to measure after it, else 0.
pub fn warmup_days(asked: Option<u32>, learning: bool, days: &Range<u32>) -> u32 {
    asked.unwrap_or(u32::from(learning && days.len() >= 2))
}

/// Replays the workload under each policy, then each point of each sweep (the baseline added
/// when missing).
pub fn run(input: &Input, specs: &[Spec], sweeps: &[Sweep], replay: &Replay) -> Result<Outcome> {
    let start = Instant::now();
    let swept: Vec<Spec> = sweeps.iter().flat_map(|s| s.points.clone()).collect();
    let swept = swept.as_slice();
    // Which sweep each point of `swept` belongs to.
    let sweep_of: Vec<usize> = (sweeps.iter().enumerate())
        .flat_map(|(k, s)| std::iter::repeat_n(k, s.points.len()))
        .collect();
    let needs = |f: fn(Needs) -> bool| specs.iter().chain(swept).any(|s| f(s.needs()));
    let remote = needs(|n| n.other_regions);
    let learning = needs(|n| n.history);
    let Loaded {
        mut workload,
        costs,
        mut desc,
        observed,
        observed_utility,
    } = load(input, remote, (replay.warmup_days, learning))?;
    if replay.cold_start.is_none() && input.has_no_cold_starts() {
        let _ = write!(desc, "; {LOGNORMAL_COSTS}");
    }
    let scope = replay.scope(input);
    if scope == PodScope::App {
        if !input.is_azure() {
            bail!(
                "--pod-scope app: the Huawei trace and the synthetic model have no apps (each \
                 function has its own pods); apps come with --azure2019 and --azure2021"
            );
        }
        let apps = AppScope::new(workload)?;
        let _ = write!(desc, "; {}", apps.describe());
        workload = Box::new(apps);
    }
    if let Some(n) = replay.concurrency {
        let _ = write!(
            desc,
            "; every function's pods take up to {n} requests at once (--concurrency)"
        );
        workload = Box::new(input::Concurrency::new(workload, n));
    }
    let costs: Box<dyn CostModel> = match replay.cold_start {
        Some(c) => {
            let _ = write!(desc, "; {}", c.describe());
            Box::new(c.costs(input.seed()))
        }
        None => costs,
    };
    let costs: Box<dyn CostModel> = if replay.scale_components.is_empty() {
        costs
    } else {
        let what: Vec<String> = replay
            .scale_components
            .iter()
            .map(|c| c.describe())
            .collect();
        let _ = write!(
            desc,
            "; cold-start components scaled: {} (--scale-component)",
            what.join(", ")
        );
        Box::new(coldstart_sim::what_if::ScaledCosts::new(
            costs,
            &replay.scale_components,
        ))
    };
    if remote && costs.other_regions().is_empty() {
        bail!("cross-region needs other regions' cold-start costs: the synthetic model or a store with several regions");
    }
    let regions: Vec<String> = if remote {
        let home = match input {
            Input::Synth { region, .. } | Input::Store { region, .. } => region.clone(),
            _ => "home".into(),
        };
        std::iter::once(home).chain(costs.other_regions()).collect()
    } else {
        Vec::new()
    };
    let n = workload.functions().len() as u32;
    if needs(|n| n.allocation_times) && !(0..n).any(|f| costs.pod_allocation(f, 0, true).is_some())
    {
        bail!("pool-predict needs pod allocation times: the synthetic model or a store's cold starts (the Azure traces have none)");
    }
    let n = n as usize;
    let mut policies: Vec<Box<dyn Policy>> = specs
        .iter()
        .chain(swept)
        .map(|s| s.build(n))
        .collect::<Result<_>>()?;
    let names: Vec<String> = policies.iter().map(|p| p.name()).collect();
    let added_baseline = !names.iter().any(|p| p == BASELINE);
    if added_baseline {
        policies.push(policy::parse(BASELINE, n)?);
    }
    // Never-idle functions minute by minute when every policy only keeps idle pods a fixed
    // time (as the replay itself decides), which the memory check must know.
    workload.set_fluid(policies.iter().all(|p| p.fixed_keep_alive().is_some()));
    memory::check(workload.as_ref(), memory::available_bytes())?;
    let days = workload.days();
    let warmup = warmup_days(replay.warmup_days, learning, &days);
    let bar = ProgressBar::new(days.len() as u64).with_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} day {pos}/{len}  {msg}  (ETA {eta})",
    )?);
    let t0 = Instant::now();
    let mut total = 0u64;
    if replay.routing != Routing::default() {
        let _ = write!(
            desc,
            "; {} routing: each request goes to the oldest pod with room",
            replay.routing.name()
        );
    }
    if warmup > 0 {
        let by_default = if replay.warmup_days.is_none() {
            " (by default: a policy learns from the past; --warmup-days 0 measures every day)"
        } else {
            ""
        };
        let days = if warmup == 1 {
            "the first day warms the policies up and is not measured".to_string()
        } else {
            format!("the first {warmup} days warm the policies up and are not measured")
        };
        let _ = write!(desc, "; {days}{by_default}");
    }
    let metrics = simulate_from(
        workload.as_mut(),
        costs.as_ref(),
        policies,
        warmup,
        replay.routing,
        |_, k| {
            total += k;
            bar.inc(1);
            bar.set_message(format!(
                "{total} invocations, {:.1} M/s",
                total as f64 / t0.elapsed().as_secs_f64() / 1e6
            ));
        },
    )?;
    bar.finish_and_clear();
    let p = metrics.len();
    let runs = metrics
        .into_iter()
        .enumerate()
        .map(|(i, m)| Run {
            baseline: added_baseline && i + 1 == p,
            sweep: i
                .checked_sub(specs.len())
                .and_then(|j| sweep_of.get(j).copied()),
            metrics: m,
        })
        .collect();
    Ok(Outcome {
        input: desc,
        notes: workload.notes(),
        functions: workload.functions().to_vec(),
        runs,
        observed,
        observed_utility,
        seconds: start.elapsed().as_secs_f64(),
        seeds: None,
        month_check: None,
        warmup_days: warmup,
        regions,
        sweeps: sweeps.iter().map(|s| s.spec.clone()).collect(),
        scope,
    })
}

/// The days with per-request rows of `region` in the store at `path`.
pub fn store_request_days(path: &Path, region: &str) -> Result<Range<u32>> {
    let cx = Cx::open(path, Options::region(Some(region.to_string())))?;
    request_days(&cx, region)?.with_context(|| {
        format!(
            "--against-requests: the store {} has no per-request rows of {region}",
            path.display()
        )
    })
}

/// `--against-requests`: replays `input` (a store's per-minute counts, or the Azure 2021
/// trace aggregated to them, learned within the minute) again spread uniformly and from the
/// per-request rows (the invocations) of the same days, and checks the first (`learned`) and
/// the uniform one against the rows.
pub fn against_requests(
    input: &Input,
    learned: &Outcome,
    specs: &[Spec],
    swept: &[Sweep],
    replay: &Replay,
) -> Result<month_check::MonthCheck> {
    let (days, mut uniform, mut truth) = (input.days(), input.clone(), input.clone());
    match (&mut uniform, &mut truth) {
        (Input::Store { within, .. }, Input::Store { source, .. })
        | (Input::Azure2021 { within, .. }, Input::Azure2021 { source, .. }) => {
            *within = Within::Uniform;
            *source = Source::PerRequest;
        }
        _ => bail!("--against-requests needs --store or --azure2021"),
    }
    eprintln!("replaying the per-minute counts spread uniformly, for comparison");
    let u = run(&uniform, specs, swept, replay)?;
    eprintln!("replaying the per-request rows (the truth)");
    let t = run(&truth, specs, swept, replay)?;
    // The days replayed: as given, else all the truth's.
    let days = days.unwrap_or_else(|| {
        let n = t
            .runs
            .iter()
            .map(|r| r.metrics.cold_starts_per_day.len())
            .max()
            .unwrap_or(0) as u32;
        0..n
    });
    let measured = (days.start + t.warmup_days).min(days.end)..days.end;
    Ok(month_check::MonthCheck::new(learned, &u, &t, measured))
}

fn q(h: &hdrhistogram::Histogram<u64>, p: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.value_at_quantile(p) as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::warmup_days;

    #[test]
    fn a_learning_policy_gets_one_warm_up_day_when_a_day_is_left_to_measure() {
        assert_eq!(warmup_days(None, true, &(0..7)), 1);
        assert_eq!(warmup_days(None, true, &(5..7)), 1);
        assert_eq!(warmup_days(None, true, &(3..4)), 0);
        assert_eq!(warmup_days(None, false, &(0..7)), 0);
        assert_eq!(warmup_days(Some(0), true, &(0..7)), 0);
        assert_eq!(warmup_days(Some(3), false, &(0..7)), 3);
    }
}
