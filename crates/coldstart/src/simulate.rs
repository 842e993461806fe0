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
use coldstart_sim::costs::{CostModel, EmpiricalCosts, LogNormalCosts, ModelCosts};
use coldstart_sim::engine::{simulate_from, Metrics, Routing};
use coldstart_sim::policy::{self, Needs, Policy, Spec};
use coldstart_sim::synth::{model_costs, region_functions, region_index};
use coldstart_sim::workload::azure2019::Azure2019;
use coldstart_sim::workload::minute_counts::MinuteCounts;
use coldstart_sim::workload::synthetic::Synthetic;
use coldstart_sim::workload::{memory, Function, Invocation, Trace, Workload, MAX_PER_MINUTE};
use coldstart_trace::schema::TRACE_DAYS;
use indicatif::{ProgressBar, ProgressStyle};

use crate::chart::{self, Body, Panel, Series};
use crate::query::{floats, strings, Cx, Options};
use crate::report::escape;
use crate::table::Table;

/// What the report writes in the ownership marker of its folder.
pub const OWNER: &str = "coldstart simulate";

/// The policy wasted memory is normalised to (= 100 %).
pub const BASELINE: &str = "fixed-keepalive:ttl=10m,restart=yes";

/// Where the workload comes from.
pub enum Input {
    /// The synthetic workload model of one region.
    Synth {
        region: String,
        functions: Option<u32>,
        scale: f64,
        days: Range<u32>,
        seed: u64,
    },
    /// A store's requests of one region, with its own cold starts as costs.
    Store {
        path: std::path::PathBuf,
        region: String,
        source: Source,
        days: Option<Range<u32>>,
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
    },
}

/// How a replay runs, beyond its input and policies.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// Days at the start that the policies learn on without being measured.
    pub warmup_days: u32,
    /// Which pod with room each request goes to.
    pub routing: Routing,
}

/// `N` (days 0..N) or `A..B` (days A to B-1).
pub fn parse_days(s: &str) -> Result<Range<u32>> {
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
        _ => bail!("--days '{s}': expected N (days 0 to N-1) or A..B with A < B (days A to B-1)"),
    }
}

/// A workload cut to some of its days.
struct Days {
    inner: Box<dyn Workload>,
    days: Range<u32>,
}

impl Workload for Days {
    fn functions(&self) -> &[Function] {
        self.inner.functions()
    }

    fn days(&self) -> Range<u32> {
        let d = self.inner.days();
        d.start.max(self.days.start)..d.end.min(self.days.end).max(d.start.max(self.days.start))
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        self.inner.day(day)
    }

    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }
}

/// `w` cut to `days` where given.
fn cut(w: Box<dyn Workload>, days: &Option<Range<u32>>) -> Result<Box<dyn Workload>> {
    let Some(days) = days else { return Ok(w) };
    let all = w.days();
    let d = Days {
        inner: w,
        days: days.clone(),
    };
    if d.days().is_empty() {
        bail!(
            "--days {}..{}: the workload covers days {}..{}",
            days.start,
            days.end,
            all.start,
            all.end
        );
    }
    Ok(Box::new(d))
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

/// One policy's results beside the workload's own numbers.
pub struct Run {
    pub metrics: Metrics,
    pub baseline: bool,
    /// One point of the `--sweep` curve.
    pub swept: bool,
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

/// A workload, its cost model, a line saying what it is, and (from a store) the trace's own
/// cold starts per function.
struct Loaded {
    workload: Box<dyn Workload>,
    costs: Box<dyn CostModel>,
    desc: String,
    observed: Option<Vec<u64>>,
    observed_utility: Option<Utility>,
}

/// A workload and its cost model, read from `input`; `remote`: with the other regions' costs
/// (for cross-region policies).
fn load(input: &Input, remote: bool, warmup_days: u32) -> Result<Loaded> {
    match input {
        Input::Synth {
            region,
            functions,
            scale,
            days,
            seed,
        } => {
            let ri = region_index(region)
                .with_context(|| format!("unknown region '{region}' for --synth (R1 to R5)"))?;
            if i64::from(days.end) > TRACE_DAYS {
                bail!(
                    "--days: the synthetic model has days 0 to {}",
                    TRACE_DAYS - 1
                );
            }
            if !(*scale > 0.0 && scale.is_finite()) {
                bail!("--scale must be positive");
            }
            let (profile, specs) = region_functions(region, *functions, *scale, *seed, ri)?;
            let n = specs.len();
            let others = if remote {
                coldstart_trace::paper::REGIONS
                    .iter()
                    .filter(|r| **r != region.as_str())
                    .filter_map(|r| coldstart_sim::profile::profile(r))
                    .collect()
            } else {
                Vec::new()
            };
            let costs = ModelCosts {
                others,
                ..model_costs(&specs, &profile, *seed)
            };
            let w = Synthetic::new(region, specs, profile, *seed, ri, days.clone());
            let days = format!("days {}..{}", days.start, days.end);
            Ok(Loaded {
                workload: Box::new(w),
                costs: Box::new(costs),
                desc: format!(
                    "synthetic workload model, region {region}, {n} functions, {days}, seed {seed}"
                ),
                observed: None,
                observed_utility: None,
            })
        }
        Input::Store {
            path,
            region,
            source,
            days,
        } => {
            let cx = Cx::open(path, Options::region(Some(region.clone())))?;
            let per_request = cx.regions("requests").iter().any(|r| r == region);
            let use_minutes = match source {
                Source::PerRequest => false,
                Source::PerMinute => true,
                Source::Auto => !per_request,
            };
            let mut last_request = None;
            let (workload, functions, index, what): (Box<dyn Workload>, _, _, _) = if use_minutes {
                if !cx.minute_regions(&["requests"]).iter().any(|r| r == region) {
                    bail!("the store has no per-minute request counts for {region}");
                }
                let (w, index) = minute_workload(&cx, region)?;
                let f = w.functions.clone();
                let what = format!("{} function-minutes (per-minute counts)", w.counts.len());
                (Box::new(w), f, index, what)
            } else {
                let (t, index, last) = request_workload(&cx, region)?;
                last_request = Some(last);
                let f = t.functions.clone();
                let what = format!("{} requests (per-request rows)", t.invocations.len());
                (Box::new(t), f, index, what)
            };
            let workload = cut(workload, days)?;
            // The trace's own numbers on the days that are measured.
            let all = workload.days();
            let measured = (all.start + warmup_days).min(all.end)..all.end;
            let Some((costs, observed)) =
                store_costs(&cx, region, &functions, &index, measured.clone(), remote)?
            else {
                // Nothing to cost cold starts from, and nothing to compare with.
                let warning = format!(
                    "the store has no cold starts of {region}: cold-start times are drawn from \
                     the paper's LogNormal fit instead, and there is no faithfulness check"
                );
                eprintln!("warning: {warning}");
                let desc = format!(
                    "store {}, region {region}: {} functions, {what}; {warning}",
                    path.display(),
                    functions.len(),
                );
                return Ok(Loaded {
                    workload,
                    costs: Box::new(LogNormalCosts::paper(1)),
                    desc,
                    observed: None,
                    observed_utility: None,
                });
            };
            let observed_utility = match &last_request {
                Some(last) => Some(trace_utility(&cx, region, last, measured)?),
                None => None,
            };
            let desc = format!(
                "store {}, region {region}: {} functions, {what}",
                path.display(),
                functions.len(),
            );
            Ok(Loaded {
                workload,
                costs: Box::new(costs),
                desc,
                observed: Some(observed),
                observed_utility,
            })
        }
        Input::Azure2019 { dir, days, seed } => {
            let w = Azure2019::open(dir, days.clone(), *seed)?;
            let desc = format!(
                "Azure Functions 2019 trace {}: {} functions, days {}..{}",
                dir.display(),
                w.functions().len(),
                w.days().start,
                w.days().end
            );
            Ok(Loaded {
                workload: Box::new(w),
                costs: Box::new(LogNormalCosts::paper(*seed)),
                desc: format!("{desc}; {}", LOGNORMAL_COSTS),
                observed: None,
                observed_utility: None,
            })
        }
        Input::Azure2021 { file, days, seed } => {
            let t = coldstart_sim::workload::azure2021::read(file, *seed)?;
            let desc = format!(
                "Azure Functions 2021 trace {}: {} functions, {} invocations",
                file.display(),
                t.functions.len(),
                t.invocations.len()
            );
            Ok(Loaded {
                workload: cut(Box::new(t), days)?,
                costs: Box::new(LogNormalCosts::paper(*seed)),
                desc: format!("{desc}; {}", LOGNORMAL_COSTS),
                observed: None,
                observed_utility: None,
            })
        }
    }
}

/// How the Azure traces' cold starts are costed (they have none).
const LOGNORMAL_COSTS: &str = "cold starts drawn from the paper's LogNormal fit to Huawei's \
     cold-start times (mean 3.24 s, sd 7.10 s), as the Azure traces have none";

/// The pod utility ratios of the trace's pods that served requests in `last` (podID -> its
/// last request's arrival), from their cold starts on `days`.
fn trace_utility(
    cx: &Cx,
    region: &str,
    last: &HashMap<String, f64>,
    days: Range<u32>,
) -> Result<Utility> {
    let mut u = Vec::new();
    cx.for_each(
        &format!(
            "SELECT podID, time, totalCost_cold_start, day FROM cold_starts WHERE region = '{}'",
            quote(region)
        ),
        |b| {
            let pods = strings(b.column(0))?;
            let (time, cost, day) = (
                floats(b.column(1))?,
                floats(b.column(2))?,
                floats(b.column(3))?,
            );
            for i in 0..pods.len() {
                if cost[i] > 0.0 && days.contains(&(day[i] as u32)) {
                    if let Some(l) = last.get(&pods[i]) {
                        u.push((l - time[i]) / cost[i]);
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(Utility::of(u))
}

/// Bytes a per-request row takes while a store's trace is built (the invocation, its podID
/// and end, the pod's spans and last request).
const ROW_BYTES: u64 = 256;

/// Each pod's last request (arrival time), by podID.
type LastRequests = HashMap<String, f64>;

/// The store's per-request rows of `region` as a trace, each funcID's index, and each pod's
/// last request.
fn request_workload(cx: &Cx, region: &str) -> Result<(Trace, HashMap<String, u32>, LastRequests)> {
    if !cx.regions("requests").iter().any(|r| r == region) {
        bail!(
            "the store has no per-request rows for {region} (regions with them: {}); \
             use --source per-minute",
            cx.regions("requests").join(", ")
        );
    }
    // Every row is held with its podID while the trace is built: refuse before reading if
    // that cannot fit.
    let mut count = 0u64;
    cx.for_each(
        &format!(
            "SELECT count(*) FROM requests WHERE region = '{}'",
            quote(region)
        ),
        |b| {
            count += floats(b.column(0))?.first().copied().unwrap_or(0.0) as u64;
            Ok(())
        },
    )?;
    if let Some(avail) = memory::available_bytes() {
        let need = count.saturating_mul(ROW_BYTES);
        if need > avail {
            bail!(
                "{region}'s {count} per-request rows need about {:.1} GiB to load and {:.1} GiB \
                 is available (set {} to override); replay its per-minute counts \
                 (--source per-minute) or another region (--region)",
                need as f64 / 1073741824.0,
                avail as f64 / 1073741824.0,
                memory::MEMORY_ENV
            );
        }
    }
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut functions: Vec<Function> = Vec::new();
    let mut rows: Vec<(Invocation, String, f64)> = Vec::new();
    cx.for_each(
        &format!(
            "SELECT funcID, time_worker, totalCost_worker, podID FROM requests WHERE region = '{}'",
            quote(region)
        ),
        |b| {
            let ids = strings(b.column(0))?;
            let t = floats(b.column(1))?;
            let exec = floats(b.column(2))?;
            let pods = strings(b.column(3))?;
            for i in 0..ids.len() {
                let f = function_index(&mut index, &mut functions, &ids[i], region);
                let e = exec[i].max(0.0);
                let inv = Invocation {
                    t: t[i],
                    func: f,
                    exec: e,
                };
                rows.push((inv, pods[i].clone(), t[i] + e));
            }
            Ok(())
        },
    )?;
    let new_of = canonical(&mut functions, &mut index);
    for r in &mut rows {
        r.0.func = new_of[r.0.func as usize];
    }
    function_details(cx, region, &index, &mut functions)?;
    // Concurrency: the most requests any of a function's pods served at once.
    // pod -> (function, its requests' (start, end))
    type Spans = (u32, Vec<(f64, f64)>);
    let mut by_pod: HashMap<&str, Spans> = HashMap::new();
    for (inv, pod, end) in &rows {
        by_pod
            .entry(pod.as_str())
            .or_insert_with(|| (inv.func, Vec::new()))
            .1
            .push((inv.t, *end));
    }
    for (_, (func, mut iv)) in by_pod {
        iv.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut ends: Vec<f64> = Vec::new();
        let mut most = 1usize;
        for (s, e) in iv {
            ends.retain(|x| *x > s);
            ends.push(e);
            most = most.max(ends.len());
        }
        let f = &mut functions[func as usize];
        f.concurrency = f.concurrency.max(most as u32);
    }
    let mut last: HashMap<String, f64> = HashMap::new();
    for (inv, pod, _) in &rows {
        let l = last.entry(pod.clone()).or_insert(inv.t);
        *l = l.max(inv.t);
    }
    let mut trace = Trace::new(functions, rows.into_iter().map(|r| r.0).collect());
    trace.notes.push(
        "per-request rows: arrival time_worker; a request occupies its pod for totalCost_worker; \
         a function's concurrency is the most requests one of its pods served at once"
            .into(),
    );
    Ok((trace, index, last))
}

/// Renumbers functions in funcID order (a store is scanned in parallel, so rows come in any
/// order); returns the new number of each old one.
fn canonical(functions: &mut Vec<Function>, index: &mut HashMap<String, u32>) -> Vec<u32> {
    let mut order: Vec<usize> = (0..functions.len()).collect();
    order.sort_by(|a, b| functions[*a].name.cmp(&functions[*b].name));
    let mut new_of = vec![0u32; functions.len()];
    for (new, old) in order.iter().enumerate() {
        new_of[*old] = new as u32;
    }
    let mut sorted: Vec<Function> = order.iter().map(|o| functions[*o].clone()).collect();
    std::mem::swap(functions, &mut sorted);
    for v in index.values_mut() {
        *v = new_of[*v as usize];
    }
    new_of
}

/// `'` doubled for an SQL string.
fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// The index of `id`, adding the function (its pool's CPU and memory from the funcID).
fn function_index(
    index: &mut HashMap<String, u32>,
    functions: &mut Vec<Function>,
    id: &str,
    region: &str,
) -> u32 {
    if let Some(f) = index.get(id) {
        return *f;
    }
    let mut f = Function::new(id, "unknown");
    f.region = region.to_string();
    if let Ok(p) = coldstart_trace::pool::parse_func_id(id) {
        f.cpu_millis = p.pool.cpu_limit;
        f.memory_mb = p.pool.memory_limit;
    }
    functions.push(f);
    let n = functions.len() as u32 - 1;
    index.insert(id.to_string(), n);
    n
}

/// Triggers and runtimes from the functions table, where the store has one.
fn function_details(
    cx: &Cx,
    region: &str,
    index: &HashMap<String, u32>,
    functions: &mut [Function],
) -> Result<()> {
    if !cx.regions("functions").iter().any(|r| r == region) {
        return Ok(());
    }
    let c = cx.columns(&format!(
        "SELECT funcID, runtime, concat(trigger_type, '-', invocation_type) AS trigger \
         FROM functions WHERE region = '{}'",
        quote(region)
    ))?;
    for i in 0..c.len() {
        if let Some(&f) = index.get(&c.s("funcID")[i]) {
            let f = &mut functions[f as usize];
            f.runtime = c.s("runtime")[i].clone();
            if f.trigger == "unknown" {
                f.trigger = c.s("trigger")[i].clone();
            }
        }
    }
    Ok(())
}

/// The per-minute request counts of `region`, and each funcID's index.
fn minute_workload(cx: &Cx, region: &str) -> Result<(MinuteCounts, HashMap<String, u32>)> {
    let mut index = HashMap::new();
    let mut functions = Vec::new();
    let mut counts = Vec::new();
    let mut over = 0u64;
    cx.for_each(
        &format!(
            "SELECT r.funcID, r.minute, r.value, e.value FROM minute_metrics r \
             LEFT JOIN minute_metrics e ON e.region = r.region AND e.funcID = r.funcID \
               AND e.minute = r.minute AND e.metric = 'totalCost' AND e.stat = 'quantile_050' \
             WHERE r.region = '{0}' AND r.metric = 'requests' AND r.stat = 'count' AND r.value > 0",
            quote(region)
        ),
        |b| {
            let ids = strings(b.column(0))?;
            let minute = floats(b.column(1))?;
            let n = floats(b.column(2))?;
            let exec = floats(b.column(3))?;
            for i in 0..ids.len() {
                if n[i].is_nan() || n[i] > f64::from(MAX_PER_MINUTE) {
                    over += 1;
                    continue;
                }
                let f = function_index(&mut index, &mut functions, &ids[i], region);
                counts.push((minute[i] as u32, f, n[i].round() as u32, exec[i] as f32));
            }
            Ok(())
        },
    )?;
    // Minutes without an execution time take the function's median over its other minutes.
    let mut per_function: Vec<Vec<f32>> = vec![Vec::new(); functions.len()];
    for c in &counts {
        if c.3.is_finite() {
            per_function[c.1 as usize].push(c.3);
        }
    }
    let medians: Vec<f32> = per_function
        .into_iter()
        .map(|mut v| {
            v.sort_by(f32::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        })
        .collect();
    for c in &mut counts {
        if !c.3.is_finite() {
            c.3 = medians[c.1 as usize];
        }
        c.3 = c.3.max(0.0);
    }
    let new_of = canonical(&mut functions, &mut index);
    for c in &mut counts {
        c.1 = new_of[c.1 as usize];
    }
    counts.sort_by_key(|c| (c.0, c.1));
    function_details(cx, region, &index, &mut functions)?;
    let mut w = MinuteCounts {
        functions,
        counts,
        seed: 1,
        notes: Vec::new(),
    };
    if over > 0 {
        w.notes.push(format!(
            "{over} function-minutes with more than {MAX_PER_MINUTE} requests (or no number) \
             rejected"
        ));
    }
    Ok((w, index))
}

/// Each function's observed cold starts (all days) as its costs, and its cold starts on
/// `days` (those measured); None when the region has no cold starts. With `remote`, each other region's cold starts too: a function
/// sent there costs what that region's cold starts of its pool configuration cost (the whole
/// region's where fewer than 30 have that configuration).
fn store_costs(
    cx: &Cx,
    region: &str,
    functions: &[Function],
    index: &HashMap<String, u32>,
    days: std::ops::Range<u32>,
    remote: bool,
) -> Result<Option<(EmpiricalCosts, Vec<u64>)>> {
    let mut per_function = vec![Vec::new(); functions.len()];
    let mut pooled = Vec::new();
    let mut observed = vec![0u64; functions.len()];
    cx.for_each(
        &format!(
            "SELECT funcID, day, totalCost_cold_start, podAllocationCost, deployCodeCost, \
             deployDependencyCost, schedulingCost FROM cold_starts WHERE region = '{}'",
            quote(region)
        ),
        |b| {
            let ids = strings(b.column(0))?;
            let day = floats(b.column(1))?;
            let c: Vec<Vec<f64>> = (2..7).map(|k| floats(b.column(k))).collect::<Result<_>>()?;
            for i in 0..ids.len() {
                let v = [c[0][i], c[1][i], c[2][i], c[3][i], c[4][i]];
                pooled.push(v);
                if let Some(&f) = index.get(&ids[i]) {
                    per_function[f as usize].push(v);
                    if days.contains(&(day[i] as u32)) {
                        observed[f as usize] += 1;
                    }
                }
            }
            Ok(())
        },
    )?;
    if pooled.is_empty() {
        return Ok(None);
    }
    // In a fixed order whatever order the scan gave.
    let order = |a: &[f64; 5], b: &[f64; 5]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    per_function.iter_mut().for_each(|v| v.sort_by(order));
    pooled.sort_by(order);
    let mut others = Vec::new();
    if remote {
        // region -> (cpu, memory) -> cold starts
        type ByConfig = BTreeMap<(u32, u32), Vec<[f64; 5]>>;
        let mut by_region: BTreeMap<String, ByConfig> = BTreeMap::new();
        cx.for_each(
            &format!(
                "SELECT region, funcID, totalCost_cold_start, podAllocationCost, deployCodeCost, \
                 deployDependencyCost, schedulingCost FROM cold_starts WHERE region <> '{}'",
                quote(region)
            ),
            |b| {
                let r = strings(b.column(0))?;
                let ids = strings(b.column(1))?;
                let c: Vec<Vec<f64>> =
                    (2..7).map(|k| floats(b.column(k))).collect::<Result<_>>()?;
                for i in 0..ids.len() {
                    let cfg = coldstart_trace::pool::parse_func_id(&ids[i])
                        .map(|p| (p.pool.cpu_limit, p.pool.memory_limit))
                        .unwrap_or((0, 0));
                    by_region
                        .entry(r[i].clone())
                        .or_default()
                        .entry(cfg)
                        .or_default()
                        .push([c[0][i], c[1][i], c[2][i], c[3][i], c[4][i]]);
                }
                Ok(())
            },
        )?;
        for (name, configs) in by_region {
            let mut all: Vec<[f64; 5]> = configs.values().flatten().copied().collect();
            all.sort_by(order);
            let all = Arc::new(all);
            let configs: BTreeMap<(u32, u32), Arc<Vec<[f64; 5]>>> = configs
                .into_iter()
                .filter(|(_, v)| v.len() >= 30)
                .map(|(k, mut v)| {
                    v.sort_by(order);
                    (k, Arc::new(v))
                })
                .collect();
            let per = functions
                .iter()
                .map(|f| {
                    configs
                        .get(&(f.cpu_millis, f.memory_mb))
                        .unwrap_or(&all)
                        .clone()
                })
                .collect();
            others.push((name, per));
        }
    }
    let costs = EmpiricalCosts::new(per_function, pooled, others, 1);
    Ok(Some((costs, observed)))
}

/// Replays the workload under each policy, then each point of a sweep (the baseline added
/// when missing).
pub fn run(input: &Input, specs: &[Spec], swept: &[Spec], replay: &Replay) -> Result<Outcome> {
    let start = Instant::now();
    let needs = |f: fn(Needs) -> bool| specs.iter().chain(swept).any(|s| f(s.needs()));
    let remote = needs(|n| n.other_regions);
    let Loaded {
        mut workload,
        costs,
        mut desc,
        observed,
        observed_utility,
    } = load(input, remote, replay.warmup_days)?;
    memory::check(workload.as_ref(), memory::available_bytes())?;
    if remote && costs.other_regions().is_empty() {
        bail!("cross-region needs other regions' cold-start costs: the synthetic model or a store with several regions");
    }
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
    let days = workload.days();
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
    if replay.warmup_days > 0 {
        let _ = write!(
            desc,
            "; the first {} days warm the policies up and are not measured",
            replay.warmup_days
        );
    }
    let metrics = simulate_from(
        workload.as_mut(),
        costs.as_ref(),
        policies,
        replay.warmup_days,
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
            swept: i >= specs.len() && i < specs.len() + swept.len(),
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
    })
}

fn q(h: &hdrhistogram::Histogram<u64>, p: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.value_at_quantile(p) as f64 / 1e6
    }
}

impl Outcome {
    fn baseline_idle(&self) -> f64 {
        self.runs
            .iter()
            .find(|r| r.metrics.policy == BASELINE)
            .map_or(f64::NAN, |r| r.metrics.idle_gb_seconds)
    }

    /// One row per policy.
    pub fn summary(&self) -> Table {
        let base = self.baseline_idle();
        let m: Vec<&Metrics> = self.runs.iter().map(|r| &r.metrics).collect();
        let f = |g: &dyn Fn(&Metrics) -> f64| m.iter().map(|x| g(x)).collect::<Vec<f64>>();
        let i = |g: &dyn Fn(&Metrics) -> u64| m.iter().map(|x| g(x) as i64).collect::<Vec<i64>>();
        Table::new()
            .str("policy", m.iter().map(|x| x.policy.clone()).collect())
            .i64("invocations", i(&|x| x.invocations()))
            .i64("cold_starts", i(&|x| x.cold_starts()))
            .f64(
                "cold_start_rate",
                f(&|x| x.cold_starts() as f64 / x.invocations().max(1) as f64),
            )
            .f64("p75_function_cold_rate", f(&|x| x.p75_function_cold_rate()))
            .f64("cold_start_seconds", f(&|x| x.cold_seconds()))
            .f64("cold_start_p50_s", f(&|x| q(&x.cold_us, 0.5)))
            .f64("cold_start_p99_s", f(&|x| q(&x.cold_us, 0.99)))
            .f64("latency_p50_s", f(&|x| q(&x.latency_us, 0.5)))
            .f64("latency_p99_s", f(&|x| q(&x.latency_us, 0.99)))
            .f64(
                "idle_pod_seconds",
                f(&|x| x.idle_seconds() + x.pool.idle_seconds),
            )
            .f64("idle_gb_seconds", f(&|x| x.idle_gb_seconds))
            .f64(
                "idle_vs_10min_keepalive_pct",
                f(&|x| x.idle_gb_seconds / base * 100.0),
            )
            .i64(
                "peak_running_pods",
                i(&|x| u64::from(x.peak_running_pods())),
            )
            .i64("pods", i(&|x| x.pods))
            .i64("prewarms", i(&|x| x.prewarms()))
            .i64("evictions", i(&|x| x.evictions))
            .i64("pool_hits", i(&|x| x.pool.hits))
            .i64("pool_misses", i(&|x| x.pool.misses))
            .f64("pool_idle_pod_seconds", f(&|x| x.pool.idle_seconds))
            .i64("remote_cold_starts", i(&|x| x.remote_cold_starts))
            .i64("remote_requests", i(&|x| x.remote_requests))
            .f64(
                "pod_utility_p50",
                f(&|x| {
                    if x.utility_milli.is_empty() {
                        f64::NAN
                    } else {
                        x.utility_milli.value_at_quantile(0.5) as f64 / 1000.0
                    }
                }),
            )
            .f64(
                "pods_utility_below_1",
                f(&|x| x.pods_below_1 as f64 / x.pods.max(1) as f64),
            )
            .f64("sim_seconds", f(&|x| x.wall_seconds))
            .f64(
                "invocations_per_s",
                f(&|x| x.events as f64 / x.wall_seconds.max(1e-9)),
            )
    }

    /// One row per policy and function.
    pub fn per_function(&self) -> Table {
        let (mut p, mut id, mut trig, mut rt) = (vec![], vec![], vec![], vec![]);
        let (mut inv, mut cold, mut cs, mut idle, mut pre) =
            (vec![], vec![], vec![], vec![], vec![]);
        for r in &self.runs {
            for (f, m) in self.functions.iter().zip(&r.metrics.per_function) {
                p.push(r.metrics.policy.clone());
                id.push(f.name.clone());
                trig.push(f.trigger.clone());
                rt.push(f.runtime.clone());
                inv.push(m.invocations as i64);
                cold.push(m.cold_starts as i64);
                cs.push(m.cold_seconds);
                idle.push(m.idle_seconds);
                pre.push(m.prewarms as i64);
            }
        }
        Table::new()
            .str("policy", p)
            .str("funcID", id)
            .str("trigger", trig)
            .str("runtime", rt)
            .i64("invocations", inv)
            .i64("cold_starts", cold)
            .f64("cold_start_seconds", cs)
            .f64("idle_pod_seconds", idle)
            .i64("prewarms", pre)
    }

    /// Running pods per hour (the most in any minute of it), per policy.
    fn running(&self) -> Table {
        let (mut p, mut h, mut v) = (vec![], vec![], vec![]);
        for r in &self.runs {
            for (i, c) in r.metrics.running_per_hour().into_iter().enumerate() {
                p.push(r.metrics.policy.clone());
                h.push(i as i64);
                v.push(i64::from(c));
            }
        }
        Table::new()
            .str("policy", p)
            .i64("hour", h)
            .i64("running_pods", v)
    }

    /// The default policy's cold starts per function against the trace's own.
    pub fn faithfulness(&self) -> Option<String> {
        let observed = self.observed.as_ref()?;
        let default = self
            .runs
            .iter()
            .find(|r| r.metrics.policy == coldstart_sim::synth::default_policy().name())?;
        let sim: Vec<u64> = default
            .metrics
            .per_function
            .iter()
            .map(|f| f.cold_starts)
            .collect();
        let (a, b): (u64, u64) = (sim.iter().sum(), observed.iter().sum());
        let with = observed.iter().filter(|o| **o > 0).count();
        let within = sim
            .iter()
            .zip(observed)
            .filter(|(s, o)| **o > 0 && (**s as f64 - **o as f64).abs() <= 0.1 * **o as f64)
            .count();
        let mut line = format!(
            "faithfulness: the platform's default (60 s keep-alive) makes {a} cold starts where the \
             trace has {b} on the same days ({:+.1} %); {within} of {with} functions with cold \
             starts are within ±10 % of their own",
            (a as f64 / b.max(1) as f64 - 1.0) * 100.0
        );
        if let Some(u) = self.observed_utility {
            let m = &default.metrics;
            let median = if m.utility_milli.is_empty() {
                f64::NAN
            } else {
                m.utility_milli.value_at_quantile(0.5) as f64 / 1000.0
            };
            let _ = write!(
                line,
                "; pod utility ratio: median {median:.2} against the trace's {:.2}, {:.1} % of \
                 pods below 1 against {:.1} % ({} pods against {})",
                u.median,
                m.pods_below_1 as f64 / m.pods.max(1) as f64 * 100.0,
                u.below_1 * 100.0,
                m.pods,
                u.pods
            );
        }
        Some(line)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "workload: {}", self.input)?;
        // What was rejected or left out is said here too, not only on the page.
        for n in self
            .notes
            .iter()
            .filter(|n| n.contains("rejected") || n.contains("left out"))
        {
            writeln!(f, "note: {n}")?;
        }
        let base = self.baseline_idle();
        writeln!(
            f,
            "{:<58} {:>12} {:>10} {:>8} {:>11} {:>11} {:>9} {:>9}",
            "policy", "invocations", "cold", "rate", "cold s", "idle GB-s", "vs 10m", "M inv/s"
        )?;
        for r in &self.runs {
            let m = &r.metrics;
            writeln!(
                f,
                "{:<58} {:>12} {:>10} {:>7.3}% {:>11.0} {:>11.0} {:>8.1}% {:>9.2}",
                format!(
                    "{}{}",
                    m.policy,
                    if r.baseline { " (baseline)" } else { "" }
                ),
                m.invocations(),
                m.cold_starts(),
                m.cold_starts() as f64 / m.invocations().max(1) as f64 * 100.0,
                m.cold_seconds(),
                m.idle_gb_seconds,
                m.idle_gb_seconds / base * 100.0,
                m.events as f64 / m.wall_seconds.max(1e-9) / 1e6
            )?;
        }
        if let Some(line) = self.faithfulness() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// Writes the comparison into `out` (built beside it and swapped in whole).
pub fn write(o: &Outcome, out: &Path, force: bool, lock: outdir::Lock) -> Result<()> {
    let staging = outdir::Staging::locked(lock, out, OWNER, force)?;
    let dir = staging.path();
    let summary = o.summary();
    let files = [
        ("summary.csv", summary.to_csv()?),
        ("functions.csv", o.per_function().to_csv()?),
        ("running_pods.csv", o.running().to_csv()?),
    ];
    for (name, bytes) in &files {
        outdir::write_file(&dir.join(name), bytes)?;
    }
    let names: Vec<String> = o.runs.iter().map(|r| short(&r.metrics.policy)).collect();
    let metrics = [
        ("cold_starts", "cold starts"),
        ("cold_start_seconds", "cold-start seconds"),
        ("latency_p99_s", "p99 latency (s)"),
        ("idle_gb_seconds", "idle GB-seconds"),
        ("peak_running_pods", "peak running pods"),
    ];
    let mut charts = Vec::new();
    for (col, label) in metrics {
        let v = summary.f64s(col).unwrap_or_default();
        let panel = Panel::body(
            label,
            "policy",
            label,
            Body::Bars {
                categories: names.clone(),
                stacks: vec![label.to_string()],
                values: vec![v],
                stacked: false,
            },
        );
        let file = format!("{col}.svg");
        outdir::write_file(
            &dir.join(&file),
            chart::render(&[panel], 1, (640, 420))?.as_bytes(),
        )?;
        charts.push(file);
    }
    let rate = summary.f64s("cold_start_rate").unwrap_or_default();
    let idle = summary
        .f64s("idle_vs_10min_keepalive_pct")
        .unwrap_or_default();
    let point = |i: usize| (idle[i], rate[i] * 100.0);
    let (x_label, y_label) = (
        "idle GB-seconds (% of a 10-minute keep-alive)",
        "cold-start rate (%)",
    );
    let title = "Cold starts against wasted memory";
    let mut curve: Vec<(f64, f64)> = (0..o.runs.len())
        .filter(|i| o.runs[*i].swept)
        .map(point)
        .collect();
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    let tradeoff = if curve.is_empty() {
        let series = names
            .iter()
            .enumerate()
            .map(|(i, n)| Series::new(n.clone(), vec![point(i)]))
            .collect();
        Panel::scatter(title, x_label, y_label, series)
    } else {
        // The sweep as a line, every other policy as a labelled point.
        let others = (0..o.runs.len())
            .filter(|i| !o.runs[*i].swept)
            .map(|i| {
                let (x, y) = point(i);
                // Keep-alive points keep their window; others their name only.
                let n = &names[i];
                let label = if n.starts_with("fixed-keepalive") {
                    n.replace("fixed-keepalive:", "keep-alive ")
                } else {
                    n.split(':').next().unwrap_or("").to_string()
                };
                (x, y, label)
            })
            .collect();
        Panel::lines(title, x_label, y_label, vec![Series::new("sweep", curve)]).marks(others)
    };
    outdir::write_file(
        &dir.join("tradeoff.svg"),
        chart::render(&[tradeoff], 1, (640, 460))?.as_bytes(),
    )?;
    charts.insert(0, "tradeoff.svg".into());
    let lines = o
        .runs
        .iter()
        .map(|r| {
            let pts = r
                .metrics
                .running_per_hour()
                .into_iter()
                .enumerate()
                .map(|(h, c)| (h as f64 / 24.0, f64::from(c)))
                .collect();
            Series::new(short(&r.metrics.policy), pts)
        })
        .collect();
    let running = Panel::lines(
        "Running pods (most in any minute of the hour)",
        "day",
        "pods",
        lines,
    );
    outdir::write_file(
        &dir.join("running_pods.svg"),
        chart::render(&[running], 1, (900, 420))?.as_bytes(),
    )?;
    charts.insert(1, "running_pods.svg".into());
    outdir::write_file(
        &dir.join("index.html"),
        html(o, &summary, &charts).as_bytes(),
    )?;
    staging.commit()
}

/// A policy name without its default parameters, for chart labels.
fn short(p: &str) -> String {
    p.replace(",restart=yes", "")
}

fn html(o: &Outcome, summary: &Table, charts: &[String]) -> String {
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>coldstart simulate</title><style>\
         body{font-family:sans-serif;max-width:1400px;margin:auto;padding:1em;color:#222}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
         th{background:#f0f0f0}td:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}\
         </style></head><body>\n<h1>Cold-start policies compared</h1>\n",
    );
    let _ = writeln!(
        h,
        "<p>Workload: {}. {} policies in {:.1} s.</p>",
        escape(&o.input),
        o.runs.len(),
        o.seconds
    );
    for n in &o.notes {
        let _ = writeln!(h, "<p>Note: {}</p>", escape(n));
    }
    if let Some(line) = o.faithfulness() {
        let _ = writeln!(h, "<p>{}</p>", escape(&line));
    }
    h.push_str("<table><tr>");
    for (name, _) in &summary.columns {
        let _ = write!(h, "<th>{}</th>", escape(name));
    }
    h.push_str("</tr>\n");
    let batch = summary.to_batch().ok();
    if let Some(b) = batch {
        for row in 0..b.num_rows() {
            h.push_str("<tr>");
            for c in b.columns() {
                let v = datafusion::arrow::util::display::array_value_to_string(c, row)
                    .unwrap_or_default();
                let v = match v.parse::<f64>() {
                    Ok(x) if v.contains('.') => crate::analysis::num(x),
                    _ => v,
                };
                let _ = write!(h, "<td>{}</td>", escape(&v));
            }
            h.push_str("</tr>\n");
        }
    }
    h.push_str("</table>\n<p>Data: <a href=\"summary.csv\">summary.csv</a> \
        <a href=\"functions.csv\">functions.csv</a> <a href=\"running_pods.csv\">running_pods.csv</a>. \
        Idle GB-seconds are normalised to a fixed 10-minute keep-alive (= 100 %).</p>\n");
    for c in charts {
        let _ = writeln!(h, "<img src=\"{0}\" alt=\"{0}\">", escape(c));
    }
    h.push_str("</body></html>\n");
    h
}
