//! `coldstart simulate`: replay one workload under several cold-start policies and compare
//! them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use outdir::outln;

use crate::simulate::{
    self, parse_days, parse_days_of, tradeoff_metric_names, write, Input, PodScope, Replay, Source,
    Tradeoff, Within,
};
use coldstart_sim::costs::ColdStartChoice;
use coldstart_sim::engine::Routing;
use coldstart_sim::policy::{self, Spec};
use coldstart_sim::what_if::ComponentScale;

#[derive(clap::Args)]
pub struct Args {
    /// A store whose per-request rows are the workload (its cold starts give the costs).
    #[arg(long, group = "workload")]
    store: Option<PathBuf>,
    /// The Azure Functions 2019 trace: the folder of its extracted CSV files
    /// (invocations_per_function_md.anon.dNN.csv, function_durations_percentiles.anon.dNN.csv,
    /// app_memory_percentiles.anon.dNN.csv). Day dNN is day NN-1.
    #[arg(long, group = "workload")]
    azure2019: Option<PathBuf>,
    /// The Azure Functions 2021 trace: its invocation file (app,func,end_timestamp,duration).
    #[arg(long, group = "workload")]
    azure2021: Option<PathBuf>,
    /// The Huawei Cloud 2023 trace (SoCC 2023): a release's folder holding requests_minute/
    /// (and, in the private release, requests_second/, function_delay_minute/,
    /// memory_limit_minute/, instances_minute/), or its requests_minute folder. Every day it
    /// has is replayed (235 in the private release); a minute's requests arrive in their
    /// seconds where requests_second/ has the day, else spread uniformly within the minute.
    #[arg(long, group = "workload")]
    huawei2023: Option<PathBuf>,
    /// With --huawei2023: the function ids (column names) to replay, comma-separated
    /// (default: every column).
    #[arg(long, value_delimiter = ',', requires = "huawei2023")]
    huawei2023_functions: Option<Vec<String>>,
    /// Which of the store's tables gives the requests: auto (per-request rows where the
    /// region has them), per-request, per-minute (the counts of every day). With --azure2021,
    /// per-minute replays the invocations aggregated to per-minute counts.
    #[arg(long, value_enum, default_value_t = Source::Auto)]
    source: Source,
    /// How per-minute counts fall within their minutes: learned (as each function's minutes
    /// in the store's per-request rows show: fixed seconds, bursts, polling periods; uniform
    /// where the region has no rows) or uniform (seeded uniform times).
    #[arg(long, value_enum, default_value_t = Within::Learned)]
    within_minute: Within,
    /// The days whose per-request rows teach --within-minute learned: N or A..B (default: the
    /// last day that has rows, as the release has day 30's).
    #[arg(long)]
    learn_days: Option<String>,
    /// Check the per-minute replay against the truth: replays the store's per-request rows of
    /// the same days (a release made with `coldstart synth --request-days all`), or the
    /// --azure2021 trace's invocations, and the counts spread uniformly, and prints each
    /// policy's cold starts in total, per day and per function against the rows'
    /// (month_check_*.csv).
    #[arg(long)]
    against_requests: bool,
    /// The synthetic workload model instead of a trace.
    #[arg(long, group = "workload")]
    synth: bool,
    /// Region of the workload.
    #[arg(long, default_value = "R2")]
    region: String,
    /// Policies, each NAME[:key=value,...] (the list is in --help).
    #[arg(
        long = "policy",
        long_help = policy_help(),
        value_parser = parse_policy,
        default_values = ["fixed-keepalive", "hybrid-histogram", "timer-prewarm"]
    )]
    policies: Vec<Spec>,
    /// A trade-off curve: NAME:key=A..B (e.g. fixed-keepalive:ttl=10s..2h), run at
    /// --sweep-points log-spaced values, drawn as a line with the other policies as points.
    /// Repeat it for several curves on one chart (e.g. faascache:capacity=A..B and
    /// faascache:capacity=A..B,evict=lru).
    #[arg(long)]
    sweep: Vec<String>,
    /// The trade-off chart's axes: Y or Y,X, columns of summary.csv (the list is in --help).
    #[arg(long, value_name = "Y[,X]", long_help = tradeoff_help(), value_parser = parse_tradeoff)]
    tradeoff: Option<Tradeoff>,
    /// Points of the --sweep curve (2 to 100; each is a whole replay).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(2..=100))]
    sweep_points: u32,
    /// Days to replay: N (days 0 to N-1) or A..B (days A to B-1). Default: all the trace's
    /// days; 7 with --synth.
    #[arg(long)]
    days: Option<String>,
    /// Days at the start of the replay that the policies learn on (and fill their pods and
    /// pools) without being measured. Default: 1 when a policy learns from the replay's past
    /// (hybrid-histogram, timer-prewarm, pool-predict, forecast-prewarm) and at least 2 days
    /// are replayed, else 0.
    #[arg(long)]
    warmup_days: Option<u32>,
    /// Which of a function's pods with room a request goes to: spread (the one sent a request
    /// least recently, as the platform's load balancer does; synth's releases are made so)
    /// or first-fit (the oldest loaded pod with room, a fixed preference).
    #[arg(long, default_value = "spread", value_parser = ["spread", "first-fit"])]
    routing: String,
    /// Whose pods a request runs in: app (every function of an app in its app's pods, as Azure
    /// Functions loads them; the default for --azure2019 and --azure2021) or function (each
    /// its own, as on the Huawei platform; the only choice for --store and --synth).
    #[arg(long, value_enum)]
    pod_scope: Option<PodScope>,
    /// Cold-start times that replace the input's own: fixed:DURATION (fixed:1s),
    /// lognormal:MEAN,STD in seconds, or huawei (the paper's LogNormal fit, mean 3.24 s and
    /// std 7.10 s; what the Azure traces, which have none, get by default).
    #[arg(long, value_parser = parse_cold_start)]
    cold_start: Option<ColdStartChoice>,
    /// What if a cold-start component were faster or slower: NAME=FACTOR multiplies one of the
    /// four (allocation, code, dependency, scheduling; scheduling=0.5 is scheduling twice as
    /// fast) and the cold start's total by as much; repeatable.
    #[arg(long = "scale-component", value_name = "NAME=FACTOR", value_parser = parse_scale)]
    scale_component: Vec<ComponentScale>,
    /// What if every function's pods took up to N requests at once (1 to 1000), instead of
    /// each function's own concurrency (with --pod-scope app, each app's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    concurrency: Option<u32>,
    /// With --synth: the model's size and seed (the seed seeds every input's random parts).
    #[command(flatten)]
    model: super::synth::Model,
    /// Replays with seeds SEED, SEED+1, ... (2 to 100): every metric of every policy gets its
    /// mean and 95 % interval over the seeds (seeds.csv; the tables and charts are the first
    /// seed's).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    seeds: u32,
    /// Folder for the CSV files, charts and index.html.
    #[arg(long)]
    out: PathBuf,
    /// Replace OUT even if it is not a folder that `coldstart simulate` made.
    #[arg(long)]
    force: bool,
}

/// `--policy`'s long help, from the policy catalogue.
fn policy_help() -> String {
    format!(
        "Policies, each NAME[:key=value,...]: {}. A fixed 10-minute keep-alive is added as the \
         baseline that wasted memory is normalised to.",
        policy::known()
    )
}

/// `--scale-component`, checked where the command line is read.
fn parse_scale(s: &str) -> std::result::Result<ComponentScale, String> {
    ComponentScale::parse(s).map_err(|e| format!("{e:#}"))
}

/// `--cold-start`, checked where the command line is read.
fn parse_cold_start(s: &str) -> std::result::Result<ColdStartChoice, String> {
    ColdStartChoice::parse(s).map_err(|e| format!("{e:#}"))
}

/// `--tradeoff`'s long help, from the metrics the chart can draw.
fn tradeoff_help() -> String {
    format!(
        "The trade-off chart's axes: Y or Y,X, columns of summary.csv (default \
         cold_start_pct,idle_vs_10min_keepalive_pct; e.g. peak_running_pods,latency_p99_s for \
         peak-shave, cold_start_seconds,latency_p99_s for cross-region). One of: {}",
        tradeoff_metric_names()
    )
}

fn parse_tradeoff(s: &str) -> std::result::Result<Tradeoff, String> {
    Tradeoff::parse(s).map_err(|e| format!("{e:#}"))
}

/// A policy checked where the command line is read, so a typo fails before any workload loads.
fn parse_policy(s: &str) -> std::result::Result<Spec, String> {
    Spec::parse(s).map_err(|e| format!("{e:#}"))
}

pub fn run(a: Args) -> Result<()> {
    let mut days = a.days.as_deref().map(parse_days).transpose()?;
    let seed = a.model.seed;
    let learn_days = a
        .learn_days
        .as_deref()
        .map(|s| parse_days_of("--learn-days", s))
        .transpose()?;
    if a.huawei2023.is_some() && a.source == Source::PerRequest {
        bail!(
            "--source per-request: the Huawei 2023 trace has per-minute counts only; leave out \
             --source"
        );
    }
    if a.source == Source::PerMinute && (a.azure2019.is_some() || a.synth) {
        bail!(
            "--source per-minute: per-minute counts come from --store STORE, or from the \
             invocations of --azure2021 FILE aggregated to minutes"
        );
    }
    if a.against_requests {
        if a.store.is_none() && a.azure2021.is_none() {
            bail!(
                "--against-requests checks per-minute counts against the requests: give --store \
                 STORE or --azure2021 FILE"
            );
        }
        if a.source == Source::PerRequest {
            bail!(
                "--against-requests replays the per-minute counts: leave out --source per-request"
            );
        }
        if a.seeds > 1 {
            bail!("--against-requests runs with one seed: leave out --seeds");
        }
    }
    if let Some(path) = a.store.as_ref().filter(|_| a.against_requests) {
        let have = simulate::store_request_days(path, &a.region)?;
        days = Some(match days {
            Some(d) if d.start >= have.start && d.end <= have.end => d,
            Some(d) => bail!(
                "--days {}..{}: --against-requests needs per-request rows on every day replayed, \
                 and the store has them on days {}..{}",
                d.start,
                d.end,
                have.start,
                have.end
            ),
            None => have,
        });
    }
    let input = if let Some(path) = a.store {
        Input::Store {
            path,
            region: a.region,
            source: if a.against_requests {
                Source::PerMinute
            } else {
                a.source
            },
            days,
            seed,
            within: a.within_minute,
            learn_days,
        }
    } else if let Some(dir) = a.azure2019 {
        Input::Azure2019 { dir, days, seed }
    } else if let Some(file) = a.azure2021 {
        Input::Azure2021 {
            file,
            days,
            seed,
            source: if a.against_requests || a.source == Source::PerMinute {
                Source::PerMinute
            } else {
                Source::PerRequest
            },
            within: a.within_minute,
            learn_days,
        }
    } else if let Some(dir) = a.huawei2023 {
        Input::Huawei2023 {
            dir,
            days,
            seed,
            functions: a.huawei2023_functions,
        }
    } else if a.synth {
        Input::Synth {
            region: a.region,
            functions: a.model.functions,
            scale: a.model.scale,
            volume: a.model.volume(),
            days: days.unwrap_or(0..7),
            seed,
        }
    } else {
        bail!(
            "give the workload: --store STORE, --azure2019 DIR, --azure2021 FILE, --huawei2023 \
             DIR or --synth"
        )
    };
    // Refuse a foreign output folder, or one another run is writing, before the simulation
    // runs; the lock is held until the new folder is in place.
    let lock = outdir::lock(&a.out, crate::simulate::OWNER)?;
    outdir::check_dest(&a.out, crate::simulate::OWNER, a.force)?;
    let swept = (a.sweep.iter())
        .map(|s| {
            let points = policy::sweep(s, a.sweep_points as usize)?
                .iter()
                .map(|p| Spec::parse(p))
                .collect::<Result<Vec<_>>>()?;
            Ok(simulate::Sweep {
                spec: s.clone(),
                points,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let replay = Replay {
        warmup_days: a.warmup_days,
        routing: Routing::parse(&a.routing)?,
        pod_scope: a.pod_scope,
        cold_start: a.cold_start,
        scale_components: a.scale_component.clone(),
        concurrency: a.concurrency,
    };
    let tradeoff = a.tradeoff.clone().unwrap_or_default();
    tradeoff.check_scope(replay.scope(&input))?;
    let mut o = simulate::run(&input, &a.policies, &swept, &replay)?;
    if a.against_requests {
        o.month_check = Some(simulate::against_requests(
            &input,
            &o,
            &a.policies,
            &swept,
            &replay,
        )?);
    }
    if a.seeds > 1 {
        let seeds: Vec<u64> = (0..u64::from(a.seeds)).map(|k| seed + k).collect();
        let mut summaries = vec![o.summary()];
        for s in &seeds[1..] {
            outln!("seed {s} of {}..{}", seeds[0], seeds[seeds.len() - 1]);
            let again = simulate::run(&input.with_seed(*s), &a.policies, &swept, &replay)?;
            summaries.push(again.summary());
        }
        o.seeds = Some(simulate::seeds::SeedRuns::new(seeds, &summaries));
    }
    write(&o, &a.out, a.force, lock, &tradeoff)?;
    write!(std::io::stdout(), "{o}")?;
    outln!("wrote {}", a.out.join("index.html").display());
    Ok(())
}
