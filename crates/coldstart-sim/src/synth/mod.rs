//! `coldstart synth`: a synthetic release in exactly the published layout. The synthetic
//! workload model is replayed by the platform engine under the platform's default policy (a
//! 60 s keep-alive), and the release is written from the engine's events, so its tables agree
//! with each other, and `coldstart simulate --synth` with the same options replays the same
//! cold starts.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use coldstart_trace::ingest::worker_pool;
use coldstart_trace::paper::{day_kind, DayKind, KEEP_ALIVE_S, REGIONS};
use coldstart_trace::schema::{Family, TRACE_DAYS};

mod accumulator;
pub mod structured;
use accumulator::*;

use crate::calibration::{
    checks, claim_by_size, gap_checks, lognormal_fit, volume_checks, workload_checks, Check,
    GroupUtility, RegionMeasures,
};
use crate::catalog::{self, FunctionSpec};
use crate::costs::{ModelCosts, Offset};
use crate::engine::{ColdStartEvent, Engine, Events, FunctionMetrics};
use crate::policy::FixedKeepAlive;
use crate::pressure::{ColdStartAt, Pressure};
use crate::profile::{profile, RegionProfile};
use crate::release::{
    write_cold_starts, write_functions, write_minute_tables, zip_region, Cell, ColdStart,
    DayOutput, PartWriter, Recorder,
};
use crate::workload::synthetic::Synthetic;
use crate::workload::Workload as _;

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub out: PathBuf,
    pub regions: Vec<String>,
    pub days: u32,
    /// Functions per region; overrides `scale`.
    pub functions: Option<u32>,
    /// 1.0 gives the published sizes (R2: 2418 functions, about 2 million cold starts).
    pub scale: f64,
    pub seed: u64,
    /// Pack each region into zip archives as the publishers ship them.
    pub zip: bool,
    /// Regions that get per-minute tables (None: all generated regions; `none`: no region).
    pub quantile_regions: Option<Vec<String>>,
    /// Largest number of rows per per-request part file.
    pub part_rows: u64,
    pub progress: bool,
    pub threads: usize,
    /// Replace `out` even when it is not a release that synth made.
    pub force: bool,
    /// Whose arrival processes the functions follow.
    pub arrivals: ArrivalWorld,
    /// The days whose requests are written row by row.
    pub request_days: RequestDays,
    /// Whether the functions that are never idle are there.
    pub volume: Volume,
}

/// Which requests a synthetic release carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Volume {
    /// Without the functions that are never idle: every cold start, pod and check of the
    /// calibrated world, with about 2 % of the paper's requests (few gigabytes of per-request
    /// rows at any scale).
    #[default]
    Light,
    /// With them ([`crate::profile::Steady`]): the paper's 85 billion requests at `--scale 1`
    /// (Fig 1's per region), replayed minute by minute ([`crate::fluid`]); the per-request day
    /// grows with them (R1's toward 364 million rows at `--scale 1`).
    Published,
}

/// The arrival processes of a synthetic release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArrivalWorld {
    /// The model calibrated to the paper ([`crate::catalog`]).
    #[default]
    Paper,
    /// The validation world ([`structured`]): fixed-second timers, millisecond bursts and
    /// sub-minute polling, for checking what is learned from per-request rows.
    Structured,
}

/// Which days of a synthetic release get per-request rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestDays {
    /// The last day, as the published release has (day 30).
    #[default]
    Last,
    /// Every day, so that a replay of the per-minute tables can be checked against the truth.
    All,
    /// None: the per-minute tables and cold starts alone (a release with `--volume published`
    /// holds gigabytes of rows a day at small scales already).
    None,
}

/// The owner named in a synthetic release's `.made-by` marker.
pub const OWNER: &str = "coldstart synth";

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            out: PathBuf::from("release"),
            regions: REGIONS.iter().map(|s| s.to_string()).collect(),
            days: TRACE_DAYS as u32,
            functions: None,
            scale: 0.05,
            seed: 1,
            zip: false,
            quantile_regions: None,
            part_rows: 1_000_000,
            progress: true,
            threads: 0,
            force: false,
            arrivals: ArrivalWorld::Paper,
            request_days: RequestDays::Last,
            volume: Volume::Light,
        }
    }
}

/// One function as the generator made it (for round-trip checks).
#[derive(Debug, Clone, Serialize)]
pub struct FunctionSummary {
    pub region: String,
    #[serde(rename = "funcID")]
    pub func_id: String,
    pub runtime: String,
    pub trigger: String,
    pub requests: u64,
    pub requests_last_day: u64,
    pub cold_starts: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionSummary {
    pub region: String,
    pub functions: u32,
    pub cold_starts: u64,
    pub requests: u64,
    pub requests_last_day: u64,
    pub sum_total_cost_cold_start: f64,
    pub per_request_files: u32,
    pub measures: RegionMeasures,
}

/// Written as `synth_summary.json` at the root of the release.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub days: u32,
    pub scale: f64,
    pub regions: Vec<RegionSummary>,
    pub lognormal_fit_mean: f64,
    pub lognormal_fit_std: f64,
    pub checks: Vec<Check>,
    pub functions: Vec<FunctionSummary>,
    pub seconds: f64,
}

pub const SUMMARY_FILE: &str = "synth_summary.json";

impl Summary {
    /// The checks the generator claims at this size that came out outside their tolerance.
    pub fn failed_claims(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.claimed && !c.pass)
            .collect()
    }
}

/// The summary for a person: events per region, then each calibration check against the
/// paper's numbers.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<6} {:>9} {:>12} {:>14} {:>14}",
            "region", "functions", "cold starts", "requests", "day-30 rows"
        )?;
        for r in &self.regions {
            writeln!(
                f,
                "{:<6} {:>9} {:>12} {:>14} {:>14}",
                r.region, r.functions, r.cold_starts, r.requests, r.requests_last_day
            )?;
        }
        writeln!(
            f,
            "\ncalibration against the paper (spec sections 4 and 7):"
        )?;
        for c in &self.checks {
            writeln!(f, "  {c}")?;
        }
        let claimed: Vec<&Check> = self.checks.iter().filter(|c| c.claimed).collect();
        let passed = claimed.iter().filter(|c| c.pass).count();
        write!(
            f,
            "{passed} of {} claimed checks within tolerance",
            claimed.len()
        )?;
        for (what, gap) in [
            (
                "too small at this scale to claim (`..` when outside)",
                false,
            ),
            ("not modelled yet (spec section 7)", true),
        ] {
            let open: Vec<&Check> = self
                .checks
                .iter()
                .filter(|c| !c.claimed && c.gap == gap)
                .collect();
            if !open.is_empty() {
                let inside = open.iter().filter(|c| c.pass).count();
                write!(f, "; {inside} of {} checks {what} within it", open.len())?;
            }
        }
        writeln!(f)
    }
}

/// Generates a release into `opts.out` (built in a temporary folder, then renamed).
pub fn synth(opts: &SynthOptions) -> Result<Summary> {
    let start = Instant::now();
    if opts.days == 0 || i64::from(opts.days) > TRACE_DAYS {
        bail!("--days must be 1 to {TRACE_DAYS} (the trace's length)");
    }
    for r in &opts.regions {
        if let Some(prof) = profile(r) {
            function_count(&prof, opts.functions, opts.scale)?;
        }
    }
    let quantile_names = opts.quantile_regions.iter().flatten();
    for r in opts.regions.iter().chain(quantile_names) {
        if profile(r).is_none() && r != "none" {
            bail!(
                "unknown region '{r}' (known: {}, or none)",
                REGIONS.join(", ")
            );
        }
    }
    let out = &opts.out;
    let pool = worker_pool(opts.threads)?;
    // A release made before ownership markers is recognised by its summary.
    let legacy = out.join(SUMMARY_FILE).is_file() && outdir::owner_of(out).is_none();
    let staging = outdir::Staging::new(out, OWNER, opts.force || legacy)?;
    let root = staging.path();

    let bar = if opts.progress {
        ProgressBar::with_draw_target(
            Some(opts.regions.len() as u64 * opts.days as u64),
            ProgressDrawTarget::stderr(),
        )
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "synth [{elapsed_precise}] {wide_bar} {pos}/{len} region-days eta {eta} {msg}",
        )
        .expect("valid template"),
    );

    let mut regions = Vec::new();
    let mut functions = Vec::new();
    let mut all_totals: Vec<f32> = Vec::new();
    let mut events = (0u64, 0u64);
    for (ri, region) in opts.regions.iter().enumerate() {
        let region_index = REGIONS.iter().position(|r| r == region).unwrap_or(ri) as u64;
        let with_cells = opts
            .quantile_regions
            .as_ref()
            .is_none_or(|q| q.iter().any(|r| r == region));
        let ctx = RegionRun {
            opts,
            root,
            region,
            region_index,
            with_cells,
            bar: &bar,
            start,
        };
        let (summary, funcs, totals) = pool.install(|| ctx.run(&mut events))?;
        all_totals.extend(totals);
        regions.push(summary);
        functions.extend(funcs);
    }
    bar.finish_and_clear();

    let fit = lognormal_fit(all_totals.iter().map(|v| *v as f64));
    let measures: Vec<RegionMeasures> = regions.iter().map(|r| r.measures.clone()).collect();
    let mut all_checks: Vec<Check> = checks(&measures, fit)
        .into_iter()
        .chain(workload_checks(&measures))
        .collect();
    claim_by_size(&mut all_checks, &measures);
    all_checks.extend(volume_checks(&measures, opts.volume == Volume::Published));
    if opts.arrivals == ArrivalWorld::Structured {
        // The validation world is not the paper's: its numbers are shown, not claimed.
        for c in all_checks.iter_mut().filter(|c| c.claimed) {
            c.claimed = false;
            c.target = format!("{} (not claimed: --arrivals structured)", c.target);
        }
    }
    all_checks.extend(gap_checks(&measures));
    let summary = Summary {
        seed: opts.seed,
        days: opts.days,
        scale: opts.scale,
        lognormal_fit_mean: fit.0,
        lognormal_fit_std: fit.1,
        checks: all_checks,
        regions,
        functions,
        seconds: start.elapsed().as_secs_f64(),
    };
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    outdir::write_file(&root.join(SUMMARY_FILE), &json)?;

    staging.commit()?;
    Ok(summary)
}

/// The functions of one region of the synthetic release, as `synth` makes them: `functions`
/// of them (or the region's published size times `scale`), their runtimes and pools dealt out
/// by a pilot run so that shares of cold starts meet the published mix. They do not depend on
/// how many days a release holds.
pub fn region_functions(
    region: &str,
    functions: Option<u32>,
    scale: f64,
    seed: u64,
    region_index: u64,
    volume: Volume,
) -> Result<(RegionProfile, Vec<FunctionSpec>)> {
    let mut prof = profile(region).with_context(|| format!("unknown region '{region}'"))?;
    if volume == Volume::Light {
        prof.steady = crate::profile::Steady::NONE;
    }
    let n = function_count(&prof, functions, scale)?;
    let mut specs = catalog::build(&prof, n, seed, region_index);
    // Pilot: some days on separate random streams, to learn how many cold starts each
    // function makes before runtimes and pools are dealt out by those counts.
    let pilot_seed = seed ^ PILOT_SALT;
    let weights: Vec<f64> = replay(
        &specs,
        &model_costs(&specs, &prof, pilot_seed),
        &prof,
        pilot_seed,
        region_index,
        PILOT_DAYS,
        |_| (),
        |_, _, _| Ok(()),
    )
    .expect("the pilot writes nothing")
    .iter()
    .map(|m| m.cold_starts as f64 + 0.1)
    .collect();
    catalog::assign(&mut specs, &weights, seed, region_index);
    Ok((prof, specs))
}

/// The most functions a synthetic region may have: 13 times the largest published region
/// (R4, 7,600), far past any use, and small enough that the catalogue fits in memory.
pub const MAX_FUNCTIONS: u32 = 100_000;

/// How many functions a region of the model gets: `functions`, or its published count times
/// `scale`; at least 1 and at most [`MAX_FUNCTIONS`], or an error naming the flag.
pub fn function_count(prof: &RegionProfile, functions: Option<u32>, scale: f64) -> Result<u32> {
    if let Some(n) = functions {
        if !(1..=MAX_FUNCTIONS).contains(&n) {
            bail!("--functions {n}: a region has 1 to {MAX_FUNCTIONS} functions");
        }
        return Ok(n);
    }
    if !(scale > 0.0 && scale.is_finite()) {
        bail!("--scale {scale}: the scale must be a positive number");
    }
    let n = (f64::from(prof.functions) * scale).round();
    if n > f64::from(MAX_FUNCTIONS) {
        bail!(
            "--scale {scale} gives {n:.0} functions in {} ({} published); a region has at most \
             {MAX_FUNCTIONS} (--scale up to {:.1} there)",
            prof.name,
            prof.functions,
            f64::from(MAX_FUNCTIONS) / f64::from(prof.functions)
        );
    }
    Ok((n as u32).max(1))
}

/// The platform's default policy, under which a synthetic release is made.
pub fn default_policy() -> FixedKeepAlive {
    FixedKeepAlive::new(KEEP_ALIVE_S)
}

/// The cost model of a synthetic region (its calibrated profile; no other regions), free of
/// load (see [`model_costs_under_load`]).
pub fn model_costs(specs: &[FunctionSpec], prof: &RegionProfile, seed: u64) -> ModelCosts {
    ModelCosts {
        specs: specs.to_vec(),
        profile: prof.clone(),
        others: Vec::new(),
        seed,
        pressure: None,
        loads: Vec::new(),
    }
}

/// The cost model of a synthetic region whose cold starts cost more when their pool is under
/// pressure ([`crate::pressure`]) over `days` from day 0: the releases' and `coldstart simulate
/// --synth`'s. It replays the region once under the platform's policy, with costs free of load,
/// to learn each pool's load.
pub fn model_costs_under_load(
    specs: &[FunctionSpec],
    prof: &RegionProfile,
    seed: u64,
    region_index: u64,
    days: u32,
) -> Result<ModelCosts> {
    let first = FirstReplay::run(specs, prof, seed, region_index, days)?;
    Ok(ModelCosts {
        pressure: Some(std::sync::Arc::new(first.pressure(prof))),
        ..model_costs(specs, prof, seed)
    })
}

/// [`model_costs_under_load`] with the other four regions a cross-region policy may send cold
/// starts to, each region's own load through days `0..days` known ([`crate::regions`]): the
/// other regions' synthetic workloads of the same `--functions` or `--scale` and seed are
/// replayed once each under the platform's policy to count their own cold starts.
pub fn model_costs_across_regions(
    specs: &[FunctionSpec],
    prof: &RegionProfile,
    (functions, scale, seed, volume): (Option<u32>, f64, u64, Volume),
    region_index: u64,
    days: u32,
) -> Result<ModelCosts> {
    let first = FirstReplay::run(specs, prof, seed, region_index, days)?;
    let mut loads = vec![first.load(prof, days)];
    let mut others = Vec::new();
    for (ri, name) in REGIONS.iter().enumerate() {
        if *name == prof.name {
            continue;
        }
        let (p, their) = region_functions(name, functions, scale, seed, ri as u64, volume)?;
        loads.push(FirstReplay::run(&their, &p, seed, ri as u64, days)?.load(&p, days));
        others.push(p);
    }
    Ok(ModelCosts {
        pressure: Some(std::sync::Arc::new(first.pressure(prof))),
        others,
        loads,
        ..model_costs(specs, prof, seed)
    })
}

/// The cold starts the platform's default policy makes on a region's workload over days from
/// day 0, with costs free of load: each function's pool and cluster, and the cold starts.
struct FirstReplay {
    group_of: Vec<(u16, u16)>,
    days: u32,
    cold: Vec<ColdStartAt>,
}

impl FirstReplay {
    fn run(
        specs: &[FunctionSpec],
        prof: &RegionProfile,
        seed: u64,
        region_index: u64,
        days: u32,
    ) -> Result<Self> {
        let mut names: Vec<&str> = specs.iter().map(|s| s.pool_name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let group = |s: &FunctionSpec| {
            let pool = names.binary_search(&s.pool_name.as_str()).expect("listed") as u16;
            (pool, u16::from(s.home_cluster))
        };
        let group_of: Vec<(u16, u16)> = specs.iter().map(group).collect();
        let mut cold = Vec::new();
        replay(
            specs,
            &model_costs(specs, prof, seed),
            prof,
            seed,
            region_index,
            0..days,
            |funcs| GroupCounts {
                group_of: funcs
                    .iter()
                    .map(|s| (group(s), crate::costs::built_from_scratch(s)))
                    .collect(),
                seen: Vec::new(),
            },
            |_, _, e| {
                cold.append(&mut e.seen);
                Ok(())
            },
        )?;
        Ok(Self {
            group_of,
            days,
            cold,
        })
    }

    /// Each pool's and cluster's pressure per minute.
    fn pressure(&self, prof: &RegionProfile) -> Pressure {
        Pressure::from_cold_starts(
            self.group_of.clone(),
            0..self.days,
            (prof.load_alloc, prof.load_host),
            1.0 - prof.alloc[0].0 - prof.alloc[1].0,
            &self.cold,
        )
    }

    /// The region's own load: its cold starts per minute.
    fn load(&self, prof: &RegionProfile, days: u32) -> crate::regions::RegionLoad {
        let mut per_minute = vec![0u32; days as usize * 1440];
        for c in &self.cold {
            if let Some(n) = per_minute.get_mut(c.minute as usize) {
                *n += 1;
            }
        }
        crate::regions::RegionLoad::new(prof.name, &per_minute, (prof.load_alloc, prof.load_host))
    }
}

/// The cold starts of a group of functions, each with its function's pool and cluster.
struct GroupCounts {
    /// Per function of the group: its pool and cluster, and whether its pods are built from
    /// scratch.
    group_of: Vec<((u16, u16), bool)>,
    seen: Vec<ColdStartAt>,
}

impl Events for GroupCounts {
    fn cold_start(&mut self, e: &ColdStartEvent) {
        let minute = (e.t / 60.0).floor().max(0.0) as u32;
        let ((pool, cluster), built) = self.group_of[e.func as usize];
        self.seen.push(ColdStartAt {
            pool,
            cluster,
            minute,
            built,
        });
    }
}

/// Replays the synthetic workload of `specs` for `days` days under the platform's default
/// policy (a per-function one), exactly as `coldstart simulate --synth` does, in groups of [`GROUP`] functions on
/// all cores. Each group's engine is told its events through `events(group's specs)`, and
/// `day_done(day, group index, group's events)` is called after each day for every group in
/// order. Returns what each function did.
#[allow(clippy::too_many_arguments)]
fn replay<'s, E: Events + Send>(
    specs: &'s [FunctionSpec],
    costs: &ModelCosts,
    prof: &RegionProfile,
    seed: u64,
    region_index: u64,
    days: Range<u32>,
    events: impl Fn(&'s [FunctionSpec]) -> E,
    mut day_done: impl FnMut(u32, usize, &mut E) -> Result<()>,
) -> Result<Vec<FunctionMetrics>> {
    let region = prof.name;
    let mut workload = Synthetic::new(
        region,
        specs.to_vec(),
        prof.clone(),
        seed,
        region_index,
        days.clone(),
    );
    let functions = workload.functions().to_vec();
    let mut groups = workload.groups(GROUP);
    let offsets: Vec<Offset> = groups
        .iter()
        .map(|g| Offset {
            inner: costs,
            first: g.first,
        })
        .collect();
    let mut engines: Vec<Engine<E>> = groups
        .iter()
        .zip(&offsets)
        .map(|(g, c)| {
            let a = g.first as usize;
            let group_specs = &specs[a..a + g.specs.len()];
            Engine::with_events(
                &functions[a..a + g.specs.len()],
                c,
                Box::new(default_policy()),
                days.end,
                events(group_specs),
            )
            .without_latencies()
        })
        .collect();
    // Groups run a wave at a time, which bounds what the events hold in memory.
    let wave = 4 * rayon::current_num_threads();
    for day in days.clone() {
        for (w, (gs, es)) in groups
            .chunks_mut(wave)
            .zip(engines.chunks_mut(wave))
            .enumerate()
        {
            gs.par_iter_mut().zip(es.par_iter_mut()).for_each(|(g, e)| {
                // Function by function: the policy decides for each from its own history
                // alone, so the order across functions changes nothing. A function that is
                // never idle goes minute by minute, as `simulate --synth` replays it under a
                // fixed keep-alive.
                for i in 0..g.specs.len() {
                    match g.fluid_day(i, day) {
                        Some(d) => e.fluid_day(&d),
                        None => {
                            for inv in g.function_day(i, day) {
                                e.invoke(inv);
                            }
                        }
                    }
                }
            });
            for (i, e) in es.iter_mut().enumerate() {
                day_done(day, w * wave + i, &mut e.events)?;
            }
        }
    }
    let mut out = Vec::with_capacity(specs.len());
    for (i, e) in engines.into_iter().enumerate() {
        let (metrics, mut ev) = e.finish_with_events();
        out.extend(metrics.per_function);
        day_done(days.end, i, &mut ev)?;
    }
    Ok(out)
}

/// The per-request writer, whichever group held it last.
fn lock(sink: &crate::release::RowSink) -> std::sync::MutexGuard<'_, PartWriter> {
    sink.lock().unwrap_or_else(|p| p.into_inner())
}

/// The index of a region among the release's regions (seeds its random streams).
pub fn region_index(region: &str) -> Option<u64> {
    REGIONS.iter().position(|r| *r == region).map(|i| i as u64)
}

struct RegionRun<'a> {
    opts: &'a SynthOptions,
    root: &'a Path,
    region: &'a str,
    region_index: u64,
    with_cells: bool,
    bar: &'a ProgressBar,
    start: Instant,
}

/// Functions replayed by one engine, on one core at a time.
const GROUP: usize = 32;
/// The days of the pilot run that sizes each function's share of cold starts: two weeks that
/// hold weekdays, weekends and holidays in about the shares of the whole trace (days 4 to 17:
/// 6 weekdays, 4 weekend days, 4 holidays).
const PILOT_DAYS: Range<u32> = 4..18;
const PILOT_SALT: u64 = 0x005E_ED0F_9110;

/// One day's release rows, put together group by group in function order.
#[derive(Default)]
struct Day {
    cold: Vec<ColdStart>,
    cells: Vec<Cell>,
}

impl RegionRun<'_> {
    #[allow(clippy::type_complexity)]
    fn run(
        &self,
        events: &mut (u64, u64),
    ) -> Result<(RegionSummary, Vec<FunctionSummary>, Vec<f32>)> {
        let opts = self.opts;
        let (prof, mut specs) = region_functions(
            self.region,
            opts.functions,
            opts.scale,
            opts.seed,
            self.region_index,
            opts.volume,
        )?;
        if opts.arrivals == ArrivalWorld::Structured {
            structured::restructure(&mut specs, opts.seed, self.region_index);
        }
        let cold_dir = self
            .root
            .join(Family::ColdStart.release_dir())
            .join(self.region);
        let req_dir = self
            .root
            .join(Family::Request.release_dir())
            .join(self.region);
        fs::create_dir_all(&cold_dir)?;
        fs::create_dir_all(&req_dir)?;
        let parts: crate::release::RowSink = std::sync::Arc::new(std::sync::Mutex::new(
            PartWriter::new(&req_dir, self.region, opts.part_rows),
        ));
        let mut last_day_requests = vec![0u64; specs.len()];
        let mut acc = Accumulator::new(&specs, opts.days);
        let rows_days = match opts.request_days {
            RequestDays::Last => opts.days - 1..opts.days,
            RequestDays::All => 0..opts.days,
            RequestDays::None => 0..0,
        };
        let mut day = Day::default();
        let groups = specs.len().div_ceil(GROUP);
        let costs = model_costs_under_load(&specs, &prof, opts.seed, self.region_index, opts.days)?;
        let replayed = replay(
            &specs,
            &costs,
            &prof,
            opts.seed,
            self.region_index,
            0..opts.days,
            |group| {
                Recorder::new(
                    group,
                    self.region_index,
                    opts.seed,
                    self.with_cells,
                    rows_days.clone(),
                    parts.clone(),
                )
            },
            |d, g, rec| {
                let out: DayOutput = rec.end_day()?;
                let first = g * GROUP;
                for (i, u) in out.utilities.iter().enumerate() {
                    acc.add_utilities((first + i) as u32, u);
                }
                if d == opts.days {
                    // After the trace: the pods still loaded at its end.
                    return Ok(());
                }
                acc.add_requests(&out.minute_requests, &out.exec_histogram);
                for (i, (pods, rows)) in out.pod_minutes.iter().zip(&out.request_rows).enumerate() {
                    let f = first + i;
                    events.1 += out.requests[i];
                    acc.add_pods(f as u32, d, *pods);
                    if d + 1 == opts.days {
                        // The per-request table's rows of the last day (its requests, where
                        // that day has no rows).
                        last_day_requests[f] = if rows_days.contains(&d) {
                            out.rows[i]
                        } else {
                            out.requests[i]
                        };
                    }
                    if rows_days.contains(&d) {
                        let n = rows.iter().filter(|b| **b == b'\n').count() as u64;
                        lock(&parts).write(rows, n)?;
                    }
                }
                day.cold.extend(out.cold_starts);
                day.cells.extend(out.cells);
                if g + 1 == groups {
                    self.write_day(
                        d,
                        &specs,
                        std::mem::take(&mut day),
                        &cold_dir,
                        &mut acc,
                        events,
                    )?;
                }
                Ok(())
            },
        )?;
        let per_request_files = std::sync::Arc::try_unwrap(parts)
            .map_err(|_| anyhow::anyhow!("the per-request writer is still shared"))?
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .finish()?;
        if self.region == "R2" {
            write_functions(self.root, &specs)?;
        }
        if opts.zip {
            zip_region(self.root, self.region, self.with_cells)?;
        }
        let funcs: Vec<FunctionSummary> = specs
            .iter()
            .zip(&replayed)
            .map(|(s, r)| FunctionSummary {
                region: self.region.to_owned(),
                func_id: s.func_id.clone(),
                runtime: s.runtime.to_owned(),
                trigger: s.primary_trigger(),
                requests: r.invocations,
                requests_last_day: last_day_requests[s.index as usize],
                cold_starts: r.cold_starts,
            })
            .collect();
        let (mut measures, totals, sum_total) = acc.finish(self.region, &specs);
        let minutes = f64::from(opts.days) * 1440.0;
        measures.per_minute_function_share = replayed
            .iter()
            .filter(|m| m.invocations as f64 >= minutes)
            .count() as f64
            / specs.len().max(1) as f64;
        let requests: Vec<u64> = funcs.iter().map(|f| f.requests).collect();
        (
            measures.single_function_users,
            measures.users_over_1000_requests,
        ) = accumulator::user_shares(
            specs
                .iter()
                .map(|s| s.user_id)
                .zip(requests.iter().copied()),
        );
        measures.requests = requests.iter().sum();
        measures.requests_last_day = last_day_requests.iter().sum();
        measures.last_day_rows = opts.days > 0 && rows_days.contains(&(opts.days - 1));
        measures.days = opts.days;
        measures.scale = specs.len() as f64 / f64::from(prof.functions);
        let summary = RegionSummary {
            region: self.region.to_owned(),
            functions: specs.len() as u32,
            cold_starts: measures.cold_starts,
            requests: funcs.iter().map(|f| f.requests).sum(),
            requests_last_day: last_day_requests.iter().sum(),
            sum_total_cost_cold_start: sum_total,
            per_request_files,
            measures,
        };
        Ok((summary, funcs, totals))
    }

    /// Writes a day's cold starts (in time order) and per-minute tables.
    fn write_day(
        &self,
        d: u32,
        specs: &[FunctionSpec],
        mut day: Day,
        cold_dir: &Path,
        acc: &mut Accumulator,
        events: &mut (u64, u64),
    ) -> Result<()> {
        day.cold.sort_by(|a, b| {
            a.time
                .total_cmp(&b.time)
                .then(a.func.cmp(&b.func))
                .then(a.pod_serial.cmp(&b.pod_serial))
        });
        events.0 += day.cold.len() as u64;
        acc.add(specs, &day.cold);
        write_cold_starts(&cold_dir.join(Family::day_file(d)), d, specs, &day.cold)?;
        if self.with_cells {
            write_minute_tables(self.root, self.region, d, specs, &mut day.cells)?;
        }
        self.bar.inc(1);
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "{} {} cold starts, {} requests ({:.1} M requests/s)",
            self.region,
            events.0,
            events.1,
            events.1 as f64 / secs / 1e6
        ));
        Ok(())
    }
}
