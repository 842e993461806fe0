//! `coldstart simulate`: replay one workload under several cold-start policies and compare
//! them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use outdir::outln;

use crate::simulate::{self, write, Input, Source};

#[derive(clap::Args)]
pub struct Args {
    /// A store whose per-request rows are the workload (its cold starts give the costs).
    #[arg(long, conflicts_with = "synth")]
    store: Option<PathBuf>,
    /// Which of the store's tables gives the requests: auto (per-request rows where the
    /// region has them), per-request, per-minute (the counts of every day).
    #[arg(long, value_enum, default_value_t = Source::Auto)]
    source: Source,
    /// The synthetic workload model instead of a store.
    #[arg(long)]
    synth: bool,
    /// Region of the workload.
    #[arg(long, default_value = "R2")]
    region: String,
    /// Policies, each NAME[:key=value,...]: fixed-keepalive[:ttl=60s,restart=yes],
    /// hybrid-histogram[:range=4h,cv=2,head=5,tail=99,margin=10,oob=50,min-samples=10],
    /// timer-prewarm[:ttl=60s,lead=5s,slack=30s,learn=1h], faascache:capacity=MB,
    /// peak-shave[:max-delay=30s,limit=auto,ttl=60s]. A fixed
    /// 10-minute keep-alive is added as the baseline that wasted memory is normalised to.
    #[arg(long = "policy", default_values_t = ["fixed-keepalive:ttl=60s".to_string(), "hybrid-histogram".to_string(), "timer-prewarm".to_string()])]
    policies: Vec<String>,
    /// A trade-off curve: NAME:key=A..B (e.g. fixed-keepalive:ttl=10s..2h), run at
    /// --sweep-points log-spaced values, drawn as a line with the other policies as points.
    #[arg(long)]
    sweep: Option<String>,
    #[arg(long, default_value_t = 12)]
    sweep_points: usize,
    /// With --synth: days to simulate from day 0.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// With --synth: the model's size and seed.
    #[command(flatten)]
    model: super::synth::Model,
    /// Folder for the CSV files, charts and index.html.
    #[arg(long)]
    out: PathBuf,
    /// Replace OUT even if it is not a folder that `coldstart simulate` made.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let input = match (a.store, a.synth) {
        (Some(path), false) => Input::Store {
            path,
            region: a.region,
            source: a.source,
        },
        (None, true) => Input::Synth {
            region: a.region,
            functions: a.model.functions,
            scale: a.model.scale,
            days: a.days,
            seed: a.model.seed,
        },
        _ => bail!("give the workload: --store STORE or --synth"),
    };
    // Refuse a foreign output folder before the simulation runs.
    outdir::check_dest(&a.out, crate::simulate::OWNER, a.force)?;
    let swept = match &a.sweep {
        Some(s) => coldstart_sim::policy::sweep(s, a.sweep_points)?,
        None => Vec::new(),
    };
    let o = simulate::run(&input, &a.policies, &swept)?;
    write(&o, &a.out, a.force)?;
    write!(std::io::stdout(), "{o}")?;
    outln!("wrote {}", a.out.join("index.html").display());
    Ok(())
}
