//! `rewarm demo`: the two-domain toy study with no downloads.

use crate::{demo, train};
use anyhow::Result;
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The demo folder (corpora, tokens, runs, chart).
    #[arg(long, default_value = "target/rewarm-demo")]
    out: PathBuf,
    #[arg(long, default_value_t = 600, value_parser = super::at_least_one::<u64>)]
    upstream_steps: u64,
    #[arg(long, default_value_t = 300, value_parser = super::at_least_one::<u64>)]
    downstream_steps: u64,
    /// Intra-op threads (0: libtorch's default).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..=crate::run_config::MAX_THREADS as i64))]
    threads: i32,
    /// Use OUT even if it is a non-empty folder that `rewarm demo` did not make.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args, progress: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let r = demo::run(&demo::DemoOptions {
        out: a.out.clone(),
        upstream_steps: a.upstream_steps,
        downstream_steps: a.downstream_steps,
        threads: a.threads,
        progress,
        force: a.force,
    })?;
    let get = |s: &train::RunSummary, n: &str| {
        s.final_eval
            .iter()
            .find(|e| e.name == n)
            .map_or(f64::NAN, |e| e.perplexity)
    };
    outln!("validation perplexity (lower is better)");
    outln!("{:<34} {:>10} {:>11}", "run", "upstream", "downstream");
    for (name, s) in [
        ("upstream pre-training", &r.upstream),
        ("downstream, re-warmed + re-decayed", &r.rewarm),
        ("downstream, constant LR (no re-warm)", &r.constant),
    ] {
        outln!(
            "{:<34} {:>10.3} {:>11.3}",
            name,
            get(s, "upstream"),
            get(s, "downstream")
        );
    }
    outln!(
        "chart: {}   runs: {}   ({:.0} s)",
        r.chart.display(),
        a.out.join("runs").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
