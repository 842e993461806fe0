//! The `rewarm` subcommands, one file each: its arguments (clap) and what it runs. The binary
//! only parses ([`Cli`]) and dispatches ([`run`]).

pub mod demo;
pub mod eval;
pub mod generate;
pub mod init;
pub mod launch;
pub mod report;
pub mod schedule;
pub mod study;
pub mod tokenize;
pub mod train;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};

/// Continual pre-training of GPT-NeoX / Pythia models with learning-rate re-warming.
#[derive(Parser)]
#[command(name = "rewarm", version)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Command,
    /// Hide progress bars.
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Tokenise text / JSON lines (.jsonl, .jsonl.zst) / Parquet into packed token shards.
    Tokenize(tokenize::Args),
    /// Print (and draw) the learning rate per step of a run config.
    Schedule(schedule::Args),
    /// Train or continue training from a run config (TOML).
    Train(train::Args),
    /// Run N ranks of a rewarm command on this machine, data-parallel, as torchrun would:
    /// `rewarm launch --nproc 2 -- train --config run.toml` (or `-- study ...`).
    Launch(launch::Args),
    /// Loss and perplexity of a checkpoint on token folders.
    Eval(eval::Args),
    /// Continue prompts with a checkpoint: greedy or sampled, batched, with a KV cache.
    Generate(generate::Args),
    /// Write a randomly initialised Hugging Face checkpoint (preset or config.json).
    Init(init::Args),
    /// Run a continual pre-training study (the paper's grid) from a study config; resumable.
    /// Under a launcher (torchrun, srun, `rewarm launch`) each run trains on all the ranks.
    Study(study::Args),
    /// Write a study's report (HTML with SVG charts, findings checked), or one run's curves.
    Report(report::Args),
    /// Two-domain toy study with no downloads: pre-train, then continue with and without re-warming.
    Demo(demo::Args),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let progress = !cli.quiet;
    if let Some(w) = crate::dist::World::from_env()? {
        if !matches!(cli.cmd, Command::Train(_) | Command::Study(_)) {
            bail!(
                "this process is rank {} of {} ({}), but only `rewarm train` and `rewarm study` run data-parallel; run this command as one process",
                w.rank,
                w.size,
                w.source
            );
        }
    }
    match cli.cmd {
        Command::Tokenize(a) => tokenize::run(a, progress),
        Command::Schedule(a) => schedule::run(a),
        Command::Train(a) => train::run(a, progress),
        Command::Launch(a) => launch::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Init(a) => init::run(a),
        Command::Study(a) => study::run(a, progress),
        Command::Report(a) => report::run(a),
        Command::Demo(a) => demo::run(a, progress),
    }
}

/// A count of at least 1, for flags where 0 would mean nothing to do.
pub(crate) fn at_least_one<T: std::str::FromStr + PartialOrd + From<u8>>(
    s: &str,
) -> std::result::Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let v: T = s.parse().map_err(|e| format!("{e}"))?;
    if v < T::from(1) {
        return Err(format!("{s} is less than 1; give at least 1"));
    }
    Ok(v)
}

/// The machine's cores as this process may use them (affinity and cgroup quota included).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
